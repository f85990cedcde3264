import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { type SignedInContext, signedInContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import type { FieldErrors } from '../../platform/forms.ts'
import { pageOf, pageParam } from '../../platform/http/pagination.ts'
import { recordId } from '../../platform/http/schemas.ts'
import { teacherName } from '../teaching/service.ts'
import {
  type CourseFilters,
  type CourseInput,
  type CourseRow,
  type CourseState,
  catalogue,
  checkCourse,
  courseOr404,
  courseStates,
  createCourse,
  dayNames,
  type EnrolmentInput,
  enrol,
  formSlotsOf,
  levelsOf,
  searchPupils,
  seatsLeftText,
  seatsText,
  setClosed,
  slotRows,
  teacherChoices,
  typedSlotRows,
  unenrol,
  updateCourse,
  yearsOf,
} from './service.ts'

const text = (max: number) => ({ type: 'string', maxLength: max }) as const

const courseBody = {
  type: 'object',
  properties: {
    _csrf: text(200),
    schoolYear: text(12),
    name: text(400),
    discipline: text(120),
    cycle: text(120),
    teacher: text(12),
    room: text(200),
    establishment: text(120),
    capacity: text(12),
  },
  // the slot rows: slots-0-day, slots-0-start, slots-0-end …
  patternProperties: { '^slots-\\d{1,2}-(day|start|end)$': text(10) },
} as const

const courseParams = { type: 'object', properties: { id: recordId }, required: ['id'] } as const

/** The back-office's course catalogue: list, create and edit, close, and enrol pupils. */
export default async function backofficeCourses(app: FastifyInstance) {
  const read = { constraints: { site: 'tenant' }, preHandler: app.requireRole(...staffAccess.read) }
  const records = { constraints: { site: 'tenant' }, preHandler: app.requireRole(...staffAccess.records) }
  const canWrite = (ctx: SignedInContext) =>
    (staffAccess.records as readonly string[]).includes(ctx.account.role)

  const disciplineName = (ctx: SignedInContext, code: string) =>
    ctx.config.disciplines?.find((d) => d.code === code)?.name ?? code
  const siteName = (ctx: SignedInContext, code: string) =>
    ctx.config.establishments.find((e) => e.code === code)?.name ?? code

  app.get<{
    Querystring: {
      annee?: string
      discipline?: string
      prof?: number
      site?: string
      niveau?: string
      etat?: CourseState
      page?: number
    }
  }>(
    '/admin/cours',
    {
      ...read,
      schema: {
        querystring: {
          type: 'object',
          properties: {
            annee: { type: 'string', pattern: '^(\\d{4}-\\d{4})?$' },
            discipline: text(60),
            prof: { anyOf: [recordId, { type: 'string', maxLength: 0 }] },
            site: text(60),
            niveau: text(60),
            etat: { type: 'string', enum: [...courseStates] },
            ...pageParam,
          },
        },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const q = request.query
      const { years, year } = await yearsOf(ctx.db, q.annee || undefined)
      const filters: CourseFilters = {
        discipline: q.discipline || null,
        teacherId: typeof q.prof === 'number' ? q.prof : null,
        establishment: q.site || null,
        level: q.niveau || null,
        state: q.etat ?? 'ouverts',
      }
      const page = q.page ?? 1
      const [found, teachers, levels] = await Promise.all([
        year ? catalogue(ctx.db, year.id, filters, page) : { total: 0, rows: [] },
        teacherChoices(ctx.db),
        levelsOf(ctx.db),
      ])
      const query = {
        annee: q.annee || '',
        discipline: q.discipline || '',
        prof: filters.teacherId ? String(filters.teacherId) : '',
        site: q.site || '',
        niveau: q.niveau || '',
        etat: filters.state === 'ouverts' ? '' : filters.state,
      }
      return reply.view('backoffice/courses/list', {
        title: year ? ctx.t('boCourses.list.title', { year: year.label }) : ctx.t('nav.staffCourses'),
        year,
        years,
        items: found.rows.map((row) => ({
          ...row,
          disciplineName: disciplineName(ctx, row.discipline),
          siteName: siteName(ctx, row.establishment),
          teacher: teacherName(row),
          seats: seatsText(ctx.t, row.enrolled, row.capacity),
          full: row.capacity !== null && row.enrolled >= row.capacity,
        })),
        filters: query,
        states: courseStates,
        teachers,
        levels,
        disciplines: ctx.config.disciplines ?? [],
        establishments: ctx.config.establishments,
        canWrite: canWrite(ctx),
        page: pageOf(found.total, page, '/admin/cours', query),
      })
    },
  )

  /** The course form, blank, as saved, or as typed with the refusals beside the fields. */
  const renderForm = async (
    request: FastifyRequest,
    reply: FastifyReply,
    form: {
      course?: CourseRow
      yearId?: number
      input?: CourseInput
      errors?: FieldErrors
    },
  ) => {
    const ctx = signedInContext(request)
    const { course, input, errors } = form
    const [{ years }, teachers, levels] = await Promise.all([
      yearsOf(ctx.db),
      teacherChoices(ctx.db),
      levelsOf(ctx.db),
    ])
    const values: CourseInput = input ?? {
      schoolYear: String(course?.yearId ?? form.yearId ?? ''),
      name: course?.name ?? '',
      discipline: course?.discipline ?? '',
      cycle: course?.cycle ?? '',
      teacher: course?.teacherId ? String(course.teacherId) : '',
      room: course?.room ?? '',
      establishment: course?.establishment ?? '',
      capacity: course?.capacity ? String(course.capacity) : '',
    }
    const rows = input ? typedSlotRows(input) : slotRows(course ? formSlotsOf(course) : [])
    const disciplines = [...(ctx.config.disciplines ?? [])]
    // a code the YAML no longer lists stays selectable for the course that has it
    if (course && disciplines.length && !disciplines.some((d) => d.code === course.discipline))
      disciplines.push({ code: course.discipline, name: course.discipline } as (typeof disciplines)[number])
    const labels: Record<string, string> = {
      schoolYear: ctx.t('boCourses.field.schoolYear'),
      name: ctx.t('boCourses.field.name'),
      discipline: ctx.t('boCourses.field.discipline'),
      cycle: ctx.t('boCourses.field.cycle'),
      teacher: ctx.t('boCourses.field.teacher'),
      room: ctx.t('boCourses.field.room'),
      establishment: ctx.t('boCourses.field.establishment'),
      capacity: ctx.t('boCourses.field.capacity'),
    }
    rows.forEach((_, i) => {
      for (const [part, key] of [
        ['day', 'boCourses.field.day'],
        ['start', 'boCourses.field.start'],
        ['end', 'boCourses.field.end'],
      ] as const)
        labels[`slots-${i}-${part}`] = `${ctx.t('boCourses.field.slot', { n: i + 1 })} — ${ctx.t(key)}`
    })
    return reply.view('backoffice/courses/form', {
      title: course ? ctx.t('boCourses.edit.title', { name: course.name }) : ctx.t('boCourses.new.title'),
      action: course ? `/admin/cours/${course.id}/modifier` : '/admin/cours/nouveau',
      back: course ? `/admin/cours/${course.id}` : '/admin/cours',
      course,
      values,
      rows,
      errors,
      labels,
      levels,
      options: {
        years: years.map((y) => ({
          value: String(y.id),
          label: y.current ? ctx.t('boCourses.list.current', { year: y.label }) : y.label,
        })),
        disciplines: disciplines.map((d) => ({ value: d.code, label: d.name })),
        teachers: teachers.map((x) => ({ value: String(x.id), label: x.label })),
        sites: ctx.config.establishments.map((e) => ({ value: e.code, label: e.name })),
        days: dayNames.map((name, i) => ({ value: String(i + 1), label: name })),
      },
    })
  }

  app.get<{ Querystring: { annee?: string } }>(
    '/admin/cours/nouveau',
    {
      ...records,
      schema: {
        querystring: {
          type: 'object',
          properties: { annee: { type: 'string', pattern: '^(\\d{4}-\\d{4})?$' } },
        },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { year } = await yearsOf(ctx.db, request.query.annee || undefined)
      return renderForm(request, reply, { yearId: year?.id })
    },
  )

  app.post<{ Body: CourseInput }>(
    '/admin/cours/nouveau',
    { ...records, schema: { body: courseBody } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const [{ years }, teachers] = await Promise.all([yearsOf(ctx.db), teacherChoices(ctx.db)])
      const checked = checkCourse(request.body, ctx.config, { years, teachers }, ctx.t)
      if (checked.errors)
        return renderForm(request, reply.code(400), { input: request.body, errors: checked.errors })
      const id = await createCourse(ctx, checked.values)
      return reply.redirect(`/admin/cours/${id}?fait=cree`, 303)
    },
  )

  app.get<{ Params: { id: number } }>(
    '/admin/cours/:id/modifier',
    { ...records, schema: { params: courseParams } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      return renderForm(request, reply, { course: await courseOr404(ctx.db, request.params.id) })
    },
  )

  app.post<{ Params: { id: number }; Body: CourseInput }>(
    '/admin/cours/:id/modifier',
    { ...records, schema: { params: courseParams, body: courseBody } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const course = await courseOr404(ctx.db, request.params.id)
      const teachers = await teacherChoices(ctx.db)
      // the year of a course is not edited here: next year's catalogue is a copy made by the school year
      const input = { ...request.body, schoolYear: String(course.yearId) }
      const checked = checkCourse(
        input,
        ctx.config,
        {
          years: [],
          teachers,
          current: {
            yearId: course.yearId,
            discipline: course.discipline,
            establishment: course.establishment,
          },
        },
        ctx.t,
      )
      if (checked.errors)
        return renderForm(request, reply.code(400), { course, input, errors: checked.errors })
      await updateCourse(ctx, course.id, checked.values)
      return reply.redirect(`/admin/cours/${course.id}?fait=modifie`, 303)
    },
  )

  for (const [path, closed] of [
    ['fermer', true],
    ['rouvrir', false],
  ] as const) {
    app.post<{ Params: { id: number } }>(
      `/admin/cours/:id/${path}`,
      {
        ...records,
        schema: { params: courseParams, body: { type: 'object', properties: { _csrf: text(200) } } },
      },
      async (request, reply) => {
        const ctx = signedInContext(request)
        await setClosed(ctx, request.params.id, closed)
        return reply.redirect(`/admin/cours/${request.params.id}?fait=${closed ? 'ferme' : 'rouvert'}`, 303)
      },
    )
  }

  const notices = ['cree', 'modifie', 'ferme', 'rouvert', 'inscrit', 'retire'] as const

  /** The course's page: its details, its pupils, and (for those who write records) enrolling. */
  const renderCourse = async (
    request: FastifyRequest,
    reply: FastifyReply,
    id: number,
    options: {
      search?: string
      notice?: (typeof notices)[number]
      enrolledPupil?: number
      refused?: {
        pupilId: string
        pupil?: string
        errors: FieldErrors
        full: boolean
        force: boolean
        reason: string
      }
    } = {},
  ) => {
    const ctx = signedInContext(request)
    const course = await courseOr404(ctx.db, id)
    const search = (options.search ?? '').trim()
    const found = search ? await searchPupils(ctx.db, search, course.id) : undefined
    const enrolled = course.pupils.length
    const newcomer = course.pupils.find((p) => p.pupilId === options.enrolledPupil)
    const name = newcomer ? `${newcomer.firstName} ${newcomer.lastName}` : ''
    return reply.view('backoffice/courses/course', {
      title: course.name,
      course,
      disciplineName: disciplineName(ctx, course.discipline),
      siteName: siteName(ctx, course.establishment),
      showSite: ctx.config.establishments.length > 1,
      teacher: teacherName(course),
      enrolled,
      seatsLeft: seatsLeftText(ctx.t, enrolled, course.capacity),
      full: course.capacity !== null && enrolled >= course.capacity,
      canWrite: canWrite(ctx),
      search,
      found,
      newcomer: newcomer?.pupilId,
      notice: options.notice ? ctx.t(`boCourses.notice.${options.notice}`, { name }) : '',
      refused: options.refused,
      refusedLabels: {
        reason: ctx.t('boCourses.enrol.reason'),
      },
    })
  }

  app.get<{
    Params: { id: number }
    Querystring: { eleve?: string; fait?: (typeof notices)[number]; inscrit?: number }
  }>(
    '/admin/cours/:id',
    {
      ...read,
      schema: {
        params: courseParams,
        querystring: {
          type: 'object',
          properties: { eleve: text(100), fait: { type: 'string', enum: [...notices] }, inscrit: recordId },
        },
      },
    },
    async (request, reply) =>
      renderCourse(request, reply, request.params.id, {
        search: request.query.eleve,
        notice: request.query.fait,
        enrolledPupil: request.query.inscrit,
      }),
  )

  app.post<{ Params: { id: number }; Body: EnrolmentInput & { eleve?: string } }>(
    '/admin/cours/:id/inscriptions',
    {
      ...records,
      schema: {
        params: courseParams,
        body: {
          type: 'object',
          properties: {
            _csrf: text(200),
            pupilId: text(12),
            force: text(1),
            reason: text(2000),
            eleve: text(100),
          },
        },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const body = request.body
      const result = await enrol(ctx, request.params.id, body)
      if (result.errors)
        return renderCourse(request, reply.code(400), request.params.id, {
          search: body.eleve,
          refused: {
            pupilId: body.pupilId ?? '',
            pupil: result.pupil,
            errors: result.errors,
            full: result.full,
            force: body.force === '1',
            reason: body.reason ?? '',
          },
        })
      // the pupil's id, not the name: URLs reach the logs, which hold no personal data
      return reply.redirect(`/admin/cours/${request.params.id}?fait=inscrit&inscrit=${result.pupilId}`, 303)
    },
  )

  app.post<{ Params: { id: number; enrolmentId: number } }>(
    '/admin/cours/:id/inscriptions/:enrolmentId/retirer',
    {
      ...records,
      schema: {
        params: {
          type: 'object',
          properties: { id: recordId, enrolmentId: recordId },
          required: ['id', 'enrolmentId'],
        },
        body: { type: 'object', properties: { _csrf: text(200) } },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      await unenrol(ctx, request.params.id, request.params.enrolmentId)
      return reply.redirect(`/admin/cours/${request.params.id}?fait=retire`, 303)
    },
  )
}
