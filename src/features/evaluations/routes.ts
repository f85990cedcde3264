import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { type SignedInContext, signedInContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import type { FieldErrors } from '../../platform/forms.ts'
import { NotFound } from '../../platform/http/errors.ts'
import { pageOf, pageParam } from '../../platform/http/pagination.ts'
import { idParams, recordId } from '../../platform/http/schemas.ts'
import { currentPeriod, type Period, periodOf } from '../../platform/tenancy/evaluation-periods.ts'
import { sendPdf } from '../billing/pdf-download.ts'
import { fullName, tenantToday } from '../family/service.ts'
import { taughtCourse } from '../lessons/access.ts'
import type { CriterionRating } from '../teaching/entities.ts'
import { currentSchoolYear, teacherName } from '../teaching/service.ts'
import { bulletin } from './bulletin.ts'
import { appreciationMax, criterionField, criterionResults, type EvaluationInput } from './scale.ts'
import {
  correctionMax,
  filterChoices,
  type RosterRow,
  requestCorrection,
  rosterOf,
  type SaveOutcome,
  type StaffFilters,
  saveEvaluation,
  staffEvaluation,
  staffEvaluations,
} from './service.ts'

/*
 * Evaluations: the teacher's page of a course for a period (a form per pupil), the staff list and
 * correction requests, and the bulletin PDFs families and staff download.
 */

const periodCode = { type: 'string', maxLength: 20 } as const
// the bulletin's address ends in ".pdf": the period code is read from the last segment
const bulletinParams = {
  type: 'object',
  properties: { id: recordId, file: { type: 'string', pattern: '^[A-Za-z0-9-]{1,12}\\.pdf$' } },
  required: ['id', 'file'],
} as const
const codeOfFile = (file: string) => file.slice(0, -'.pdf'.length)

const resultKeys = {
  acquired: 'evaluations.result.acquired',
  inProgress: 'evaluations.result.inProgress',
  notAcquired: 'evaluations.result.notAcquired',
} as const

/** A criterion's ratings as the pages list them: "Justesse — acquis". */
export function ratingLines(ctx: Pick<SignedInContext, 't'>, criteria: unknown) {
  return ((criteria ?? []) as CriterionRating[]).map((r) => ({
    criterion: r.criterion,
    result: ctx.t(resultKeys[r.result]),
  }))
}

type TeacherQuery = { periode?: string; enregistre?: SaveOutcome; eleve?: number }
type Submitted = { enrolmentId: number; input: EvaluationInput; errors: FieldErrors }

export default async function evaluations(app: FastifyInstance) {
  const teacherOnly = { constraints: { site: 'tenant' }, preHandler: app.requireRole('teacher') }
  const teacherWrites = { constraints: { site: 'tenant' }, preValidation: app.requireRole('teacher') }
  const staffRead = { constraints: { site: 'tenant' }, preHandler: app.requireRole(...staffAccess.read) }
  const staffDecide = {
    constraints: { site: 'tenant' },
    preValidation: app.requireRole(...staffAccess.decide),
  }

  const courseOr404 = async (ctx: SignedInContext, courseId: number) => {
    const course = await taughtCourse(ctx.db, ctx.account.id, courseId)
    if (!course) throw new NotFound()
    return course
  }

  const renderTeacher = async (
    request: FastifyRequest,
    reply: FastifyReply,
    courseId: number,
    period: Period,
    query: TeacherQuery,
    submitted?: Submitted,
  ) => {
    const ctx = signedInContext(request)
    const { t, config } = ctx
    const course = await courseOr404(ctx, courseId)
    const rows = await rosterOf(ctx, course.id, period)
    const criteria = config.evaluations.scale.criteria ?? []
    const pupils = rows.map((row: RosterRow) => {
      const mine = submitted?.enrolmentId === row.enrolmentId ? submitted : undefined
      const saved = (row.criteria ?? []) as CriterionRating[]
      const published = row.status === 'published'
      return {
        enrolmentId: row.enrolmentId,
        name: fullName(row),
        published,
        status: row.status
          ? t(published ? 'evaluations.state.published' : 'evaluations.state.draft')
          : t('evaluations.state.none'),
        state: row.status ?? 'none',
        correction: row.correction,
        correctionRequestedAt: row.correctionRequestedAt,
        errors: mine?.errors ?? {},
        appreciation: mine ? (mine.input.appreciation ?? '') : (row.appreciation ?? ''),
        level: mine ? (mine.input.level ?? '') : (row.level ?? ''),
        criteria: criteria.map((label, i) => ({
          label,
          name: criterionField(i),
          value: mine
            ? (mine.input[criterionField(i)] ?? '')
            : (saved.find((r) => r.criterion === label)?.result ?? ''),
        })),
        saved: query.eleve === row.enrolmentId ? query.enregistre : undefined,
      }
    })
    if (submitted && !rows.some((r) => r.enrolmentId === submitted.enrolmentId)) throw new NotFound()
    return reply.view('evaluations/teacher', {
      title: t('evaluations.teacher.title', { course: course.name }),
      course,
      period,
      periods: config.evaluations.periods,
      levels: config.evaluations.scale.levels ?? [],
      results: criterionResults.map((value) => ({ value, label: t(resultKeys[value]) })),
      appreciationMax,
      pupils,
      hasErrors: Boolean(submitted),
    })
  }

  app.get<{ Params: { courseId: number }; Querystring: TeacherQuery }>(
    '/enseignant/cours/:courseId/evaluations',
    {
      ...teacherOnly,
      schema: {
        params: { type: 'object', properties: { courseId: recordId }, required: ['courseId'] },
        querystring: {
          type: 'object',
          properties: {
            periode: periodCode,
            enregistre: { type: 'string', enum: ['draft', 'published', 'updated'] },
            eleve: recordId,
          },
        },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { periode } = request.query
      const course = await courseOr404(ctx, request.params.courseId)
      const period = periode
        ? periodOf(ctx.config, periode)
        : currentPeriod(ctx.config, course.year.from, tenantToday(ctx.config))
      if (!period) throw new NotFound()
      return renderTeacher(request, reply, course.id, period, request.query)
    },
  )

  app.post<{ Params: { courseId: number; enrolment: number }; Body: EvaluationInput }>(
    '/enseignant/cours/:courseId/evaluations/:enrolment',
    {
      ...teacherWrites,
      schema: {
        params: {
          type: 'object',
          properties: { courseId: recordId, enrolment: recordId },
          required: ['courseId', 'enrolment'],
        },
        body: {
          type: 'object',
          properties: {
            _csrf: { type: 'string', maxLength: 200 },
            periode: periodCode,
            // longer than the limit, so the form answers it beside the field rather than a 400 page
            appreciation: { type: 'string', maxLength: appreciationMax * 4 },
            level: { type: 'string', maxLength: 200 },
            action: { type: 'string', enum: ['draft', 'publish'] },
          },
          additionalProperties: { type: 'string', maxLength: 40 },
        },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { courseId, enrolment } = request.params
      const course = await courseOr404(ctx, courseId)
      const body = request.body
      const saved = await saveEvaluation(
        ctx,
        course,
        enrolment,
        body.periode,
        body,
        body.action === 'publish',
      )
      if (saved.errors) {
        const period =
          periodOf(ctx.config, body.periode) ??
          currentPeriod(ctx.config, course.year.from, tenantToday(ctx.config))
        return renderTeacher(
          request,
          reply.code(400),
          course.id,
          period,
          {},
          {
            enrolmentId: enrolment,
            input: body,
            errors: saved.errors,
          },
        )
      }
      const query = new URLSearchParams({
        periode: body.periode ?? '',
        enregistre: saved.outcome!,
        eleve: String(enrolment),
      })
      return reply.redirect(`/enseignant/cours/${course.id}/evaluations?${query}#eleve-${enrolment}`, 303)
    },
  )

  /* Staff */

  app.get<{
    Querystring: { periode?: string; cours?: number; enseignant?: number; etat?: string; page?: number }
  }>(
    '/admin/evaluations',
    {
      ...staffRead,
      schema: {
        querystring: {
          type: 'object',
          properties: {
            periode: periodCode,
            cours: { anyOf: [recordId, { type: 'string', maxLength: 0 }] },
            enseignant: { anyOf: [recordId, { type: 'string', maxLength: 0 }] },
            etat: { type: 'string', enum: ['', 'draft', 'published', 'correction'] },
            ...pageParam,
          },
        },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { t, config } = ctx
      const { periode = '', etat = '', page = 1 } = request.query
      const cours = request.query.cours || undefined
      const enseignant = request.query.enseignant || undefined
      const year = await currentSchoolYear(ctx.db)
      const filters: StaffFilters = {
        period: periode || undefined,
        course: cours as number | undefined,
        teacher: enseignant as number | undefined,
        state: (etat || undefined) as StaffFilters['state'],
      }
      const [list, choices] = year
        ? await Promise.all([staffEvaluations(ctx, year.id, filters, page), filterChoices(ctx, year.id)])
        : [
            { total: 0, rows: [] },
            { courses: [], teachers: [] },
          ]
      const labels = new Map(config.evaluations.periods.map((p) => [p.code, p.label]))
      return reply.view('evaluations/staff-list', {
        title: t('evaluations.staff.title'),
        year,
        periods: config.evaluations.periods,
        courses: choices.courses,
        teachers: choices.teachers.map((c) => ({ id: c.id, name: fullName(c) })),
        filters: { periode, cours: cours ?? '', enseignant: enseignant ?? '', etat },
        rows: list.rows.map((row) => ({
          id: row.id,
          pupil: fullName(row),
          pupilId: row.pupilId,
          course: row.courseName,
          teacher: teacherName(row),
          period: (row.period && labels.get(row.period)) || row.term,
          periodCode: row.period,
          givenOn: row.givenOn,
          state: row.correction ? 'correction' : row.status,
          stateLabel: t(
            row.correction
              ? 'evaluations.state.correction'
              : row.status === 'published'
                ? 'evaluations.state.published'
                : 'evaluations.state.draft',
          ),
        })),
        page: pageOf(list.total, page, '/admin/evaluations', {
          periode,
          cours: cours ? String(cours) : undefined,
          enseignant: enseignant ? String(enseignant) : undefined,
          etat,
        }),
      })
    },
  )

  const renderStaff = async (
    request: FastifyRequest,
    reply: FastifyReply,
    id: number,
    submitted?: { input: { message?: string }; errors: FieldErrors },
  ) => {
    const ctx = signedInContext(request)
    const { t, config } = ctx
    const evaluation = await staffEvaluation(ctx, id)
    const period = periodOf(config, evaluation.period ?? undefined)
    return reply.view('evaluations/staff-one', {
      title: t('evaluations.staff.one', { pupil: fullName(evaluation) }),
      evaluation,
      pupil: fullName(evaluation),
      teacher: teacherName(evaluation),
      period: period?.label ?? evaluation.term,
      bulletin: period ? `/admin/eleves/${evaluation.pupilId}/bulletins/${period.code}.pdf` : undefined,
      stateLabel: t(
        evaluation.correction
          ? 'evaluations.state.correction'
          : evaluation.status === 'published'
            ? 'evaluations.state.published'
            : 'evaluations.state.draft',
      ),
      ratings: ratingLines(ctx, evaluation.criteria),
      correctionMax,
      input: submitted?.input ?? {},
      errors: submitted?.errors,
      done: (request.query as { demande?: string }).demande === '1',
    })
  }

  app.get<{ Params: { id: number } }>(
    '/admin/evaluations/:id',
    {
      ...staffRead,
      schema: {
        params: idParams,
        querystring: { type: 'object', properties: { demande: { type: 'string', enum: ['1'] } } },
      },
    },
    async (request, reply) => renderStaff(request, reply, request.params.id),
  )

  app.post<{ Params: { id: number }; Body: { message?: string } }>(
    '/admin/evaluations/:id/correction',
    {
      ...staffDecide,
      schema: {
        params: idParams,
        body: {
          type: 'object',
          properties: {
            _csrf: { type: 'string', maxLength: 200 },
            message: { type: 'string', maxLength: correctionMax * 4 },
          },
        },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { id } = request.params
      const errors = await requestCorrection(ctx, id, request.body)
      if (errors) return renderStaff(request, reply.code(400), id, { input: request.body, errors })
      return reply.redirect(`/admin/evaluations/${id}?demande=1`, 303)
    },
  )

  app.get<{ Params: { id: number; file: string } }>(
    '/admin/eleves/:id/bulletins/:file',
    // the guard before the address's check: a wrong role is refused whatever the file asked
    {
      constraints: { site: 'tenant' },
      preValidation: app.requireRole(...staffAccess.read),
      schema: { params: bulletinParams },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { pdf, fileName } = await bulletin(ctx, request.params.id, codeOfFile(request.params.file), false)
      return sendPdf(reply, fileName, pdf)
    },
  )

  /* Families */

  app.get<{ Params: { id: number; file: string } }>(
    '/eleves/:id/bulletins/:file',
    {
      constraints: { site: 'tenant' },
      preValidation: app.requireRole('family'),
      schema: { params: bulletinParams },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { pdf, fileName } = await bulletin(ctx, request.params.id, codeOfFile(request.params.file), true)
      return sendPdf(reply, fileName, pdf)
    },
  )
}
