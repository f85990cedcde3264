import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { NotFound, ValidationFailed } from '../../platform/http/errors.ts'
import { requestOrigin } from '../../platform/http/origin.ts'
import { idParams, recordId } from '../../platform/http/schemas.ts'
import { fold } from '../../platform/text.ts'
import {
  familyOf,
  formFields,
  guardiansOf,
  mandatoryFields,
  pupilsOf,
  tenantToday,
} from '../family/service.ts'
import { repertoireOf } from '../repertoire/service.ts'
import { noticeQuery, proposalNotice } from '../sas/notices.ts'
import { displayValue, pendingChange, proposeChange } from '../sas/service.ts'
import type { Course } from '../teaching/entities.ts'
import {
  coursesOfPupil,
  currentSchoolYear,
  enrolmentOfPupil,
  pastYearsOf,
  type PupilCourse,
} from '../teaching/service.ts'
import type { Pupil } from './entities.ts'
import { ownPupil, pupilFrame } from './frame.ts'
import { checkPupil, familyPupil, isMinor, pupilFields, pupilValues } from './service.ts'

type FormBody = Record<string, string | undefined>

/**
 * The Élèves pages of the family portal: a pupil chosen from the family's (a plain form, no script
 * needed), and the tabs of the pupil's file. Every URL carries the pupil's id, and every query is
 * scoped to the signed-in family: another family's pupil is a 404, never a 403 that confirms it exists.
 */
export default async function pupils(app: FastifyInstance) {
  const familyOnly = { constraints: { site: 'tenant' }, preHandler: app.requireRole('family') }

  /** Discipline names and, where there are several, establishment names, for the course tables. */
  const courseRows = (request: FastifyRequest, courses: PupilCourse[]) => {
    const { disciplineNames, siteNames } = courseNames(request)
    return {
      showSite: siteNames.size > 1,
      rows: courses.map(({ enrolment, course, evaluations, absences }) => ({
        id: enrolment.id,
        ...describeCourse(course, disciplineNames, siteNames),
        evaluations,
        absences,
      })),
    }
  }

  app.get<{ Querystring: { eleve?: number } }>(
    '/eleves',
    { ...familyOnly, schema: { querystring: { type: 'object', properties: { eleve: recordId } } } },
    async (request, reply) => {
      const family = await familyOf(request.em, request.account!)
      const chosen = request.query.eleve
      if (chosen) {
        const pupil = await familyPupil(request.em, family, chosen)
        return reply.redirect(`/eleves/${pupil.id}`, 303)
      }
      const [first] = await pupilsOf(request.em, family)
      if (first) return reply.redirect(`/eleves/${first.id}`, 303)
      return reply.view('pupils/none', { title: request.t('pupil.title') })
    },
  )

  const renderIdentity = async (
    request: FastifyRequest,
    reply: FastifyReply,
    pupil: Pupil,
    submitted?: { input: FormBody; errors: Record<string, string> },
  ) => {
    const { em, t, tenant } = request
    const config = tenant!.config
    const pending = await pendingChange(em, { type: 'pupil', id: pupil.id })
    const [guardian] = await guardiansOf(em, await familyOf(em, request.account!))
    const fields = formFields(pupilFields(config), {
      validated: pupilValues(pupil),
      pending: pending?.changes,
      input: submitted?.input,
      mandatory: mandatoryFields(config.fields.pupil),
      t,
      display: (name, value) => displayValue(name, value, t),
    })
    const birthDate = pending?.changes.birthDate?.after ?? pupil.birthDate
    const minor = Boolean(birthDate && isMinor(birthDate, tenantToday(config)))
    // a minor must answer, whatever the YAML says
    if (minor) fields.exitAuthorization!.required = true
    return reply.view('pupils/identity', {
      ...(await pupilFrame(request, pupil, 'identite')),
      fields,
      errors: submitted?.errors,
      pending: Boolean(pending),
      notice: proposalNotice(request.query, t),
      minor,
      guardianAddress:
        guardian && [guardian.address, guardian.postalCode, guardian.city].filter(Boolean).join(', '),
      texts: { imageRights: config.texts?.imageRights, exitAuthorization: config.texts?.exitAuthorization },
    })
  }

  app.get<{ Params: { id: number } }>(
    '/eleves/:id',
    {
      ...familyOnly,
      schema: {
        params: idParams,
        querystring: noticeQuery,
      },
    },
    async (request, reply) => renderIdentity(request, reply, await ownPupil(request, request.params.id)),
  )

  const fieldSchema = Object.fromEntries(
    pupilFields({}).map((f) => [f.name, { type: 'string', maxLength: 1000 }]),
  )

  app.post<{ Params: { id: number }; Body: FormBody }>(
    '/eleves/:id',
    {
      ...familyOnly,
      schema: {
        params: idParams,
        body: { type: 'object', properties: { _csrf: { type: 'string', maxLength: 200 }, ...fieldSchema } },
      },
    },
    async (request, reply) => {
      const { em, tenant, t } = request
      const pupil = await ownPupil(request, request.params.id)
      try {
        const { values, errors } = checkPupil(request.body, {
          tenant: tenant!.config,
          current: pupilValues(pupil),
          today: tenantToday(tenant!.config),
          t,
        })
        if (Object.keys(errors).length > 0) throw new ValidationFailed(errors)
        const { outcome } = await proposeChange(
          em,
          { tenant: tenant!.config, locale: request.locale, baseUrl: requestOrigin(request) },
          request.account!,
          { type: 'pupil', id: pupil.id },
          values,
        )
        if (outcome === 'proposed' || outcome === 'replaced') app.mail.kick(tenant!.slug)
        return reply.redirect(`/eleves/${pupil.id}?enregistre=${outcome}`, 303)
      } catch (error) {
        if (!(error instanceof ValidationFailed)) throw error
        return renderIdentity(request, reply.code(400), pupil, { input: request.body, errors: error.fields })
      }
    },
  )

  app.get<{ Params: { id: number } }>(
    '/eleves/:id/cours',
    { ...familyOnly, schema: { params: idParams } },
    async (request, reply) => {
      const pupil = await ownPupil(request, request.params.id)
      const year = await currentSchoolYear(request.em)
      const courses = year ? await coursesOfPupil(request.em, pupil, year) : []
      return reply.view('pupils/courses', {
        ...(await pupilFrame(request, pupil, 'cours')),
        year,
        ...courseRows(request, courses),
      })
    },
  )

  app.get<{ Params: { id: number; enrolment: number } }>(
    '/eleves/:id/cours/:enrolment',
    {
      ...familyOnly,
      schema: { params: { type: 'object', properties: { id: recordId, enrolment: recordId } } },
    },
    async (request, reply) => {
      const pupil = await ownPupil(request, request.params.id)
      const found = await enrolmentOfPupil(request.em, pupil, request.params.enrolment)
      const [row] = courseRows(request, [found]).rows
      const current = found.course.schoolYear.current
      return reply.view('pupils/course', {
        ...(await pupilFrame(request, pupil, current ? 'cours' : 'historique')),
        year: found.course.schoolYear,
        course: row,
        back: current
          ? { href: `/eleves/${pupil.id}/cours`, label: request.t('pupil.backToCourses') }
          : {
              href: `/eleves/${pupil.id}/historique/${found.course.schoolYear.id}`,
              label: request.t('pupil.backToYear', { year: found.course.schoolYear.label }),
            },
      })
    },
  )

  app.get<{ Params: { id: number } }>(
    '/eleves/:id/historique',
    { ...familyOnly, schema: { params: idParams } },
    async (request, reply) => {
      const pupil = await ownPupil(request, request.params.id)
      const { disciplineNames, siteNames } = courseNames(request)
      const years = await pastYearsOf(request.em, pupil)
      return reply.view('pupils/history', {
        ...(await pupilFrame(request, pupil, 'historique')),
        years: years.map(({ year, courses }) => ({
          year,
          courses: courses.map((c) => describeCourse(c, disciplineNames, siteNames).title),
        })),
      })
    },
  )

  app.get<{ Params: { id: number; year: number } }>(
    '/eleves/:id/historique/:year',
    { ...familyOnly, schema: { params: { type: 'object', properties: { id: recordId, year: recordId } } } },
    async (request, reply) => {
      const pupil = await ownPupil(request, request.params.id)
      const past = (await pastYearsOf(request.em, pupil)).find((y) => y.year.id === request.params.year)
      if (!past) throw new NotFound()
      const courses = await coursesOfPupil(request.em, pupil, past.year)
      return reply.view('pupils/history-year', {
        ...(await pupilFrame(request, pupil, 'historique')),
        year: past.year,
        ...courseRows(request, courses),
      })
    },
  )

  app.get<{ Params: { id: number } }>(
    '/eleves/:id/repertoire',
    { ...familyOnly, schema: { params: idParams } },
    async (request, reply) => {
      const pupil = await ownPupil(request, request.params.id)
      return reply.view('pupils/repertoire', {
        ...(await pupilFrame(request, pupil, 'repertoire')),
        events: await repertoireOf(request.em, pupil),
      })
    },
  )
}

function courseNames(request: FastifyRequest) {
  const { disciplines = [], establishments } = request.tenant!.config
  return {
    disciplineNames: new Map(disciplines.map((d) => [d.code, d.name])),
    siteNames: new Map(establishments.map((e) => [e.code, e.name])),
  }
}

function describeCourse(course: Course, disciplines: Map<string, string>, sites: Map<string, string>) {
  const teacher = course.teacher
  const cursus = disciplines.get(course.discipline) ?? course.discipline
  return {
    cursus,
    name: course.name,
    // "Clarinette — Clarinette" says it twice: a course named after its discipline stands alone
    title: fold(course.name).includes(fold(cursus)) ? course.name : `${cursus} — ${course.name}`,
    slot: course.slot,
    cycle: course.cycle,
    site: sites.get(course.establishment) ?? course.establishment,
    teacher: teacher ? `${teacher.firstName} ${teacher.lastName}` : '',
  }
}
