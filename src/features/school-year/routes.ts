import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { type SignedInContext, signedInContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import type { FieldErrors } from '../../platform/forms.ts'
import { recordId } from '../../platform/http/schemas.ts'
import { formatDate } from '../../platform/views/dates.ts'
import {
  copyCourses,
  copyPreview,
  enrolReenrolled,
  nextLabel,
  place,
  prepareNextYear,
  reenrolmentPlan,
  type SwitchInput,
  switchPreview,
  switchYear,
  waitingList,
  yearsOf,
} from './service.ts'

const notices = {
  preparee: 'year.done.prepared',
  copies: 'year.done.copied',
  inscrits: 'year.done.enrolled',
  bascule: 'year.done.switched',
  place: 'year.done.placed',
} as const
type Notice = keyof typeof notices

const noticeQuery = {
  type: 'object',
  properties: { fait: { type: 'string', enum: Object.keys(notices) } },
} as const

// a preview names this many pupils, then says how many more
const shownPupils = 60

function canAct(ctx: SignedInContext): boolean {
  return (staffAccess.records as readonly string[]).includes(ctx.account.role)
}

/** Everything /admin/annee shows: the years, and for next year each step's preview. */
async function yearView(ctx: SignedInContext, notice?: Notice) {
  const { db, config, t } = ctx
  const years = await yearsOf(db)
  const { current, next } = years
  const dates = (y: { startsOn: string; endsOn: string }) =>
    t('year.dates', {
      start: formatDate(y.startsOn, config.timezone),
      end: formatDate(y.endsOn, config.timezone),
    })
  const view: Record<string, unknown> = {
    title: t('year.title'),
    notice: notice ? t(notices[notice]) : undefined,
    canAct: canAct(ctx),
    years: years.all.map((y) => ({ ...y, dates: dates(y) })),
    current,
    next,
    nextLabel: current && !next ? nextLabel(current, config) : undefined,
  }
  if (current) view.copy = await copyPreview(db, current)
  if (current && next) {
    const [plan, waiting, change] = await Promise.all([
      reenrolmentPlan(db, config, current, next),
      waitingList(ctx, current, next),
      switchPreview(db, current, next),
    ])
    view.plan = plan
    view.waiting = waiting.length
    view.change = {
      ...change,
      shown: change.without.slice(0, shownPupils),
      more: Math.max(0, change.without.length - shownPupils),
    }
  }
  return view
}

/**
 * The school year page (/admin/annee): the years with their figures, and the turn of the year in
 * four steps, each with its preview: copy the courses, enrol the re-enrolled pupils, place the
 * waiting pupils (/admin/annee/placement), switch the current year. Direction sees; the secretariat acts.
 */
export default async function schoolYear(app: FastifyInstance) {
  const read = { constraints: { site: 'tenant' }, preHandler: app.requireRole(...staffAccess.read) }
  const write = { constraints: { site: 'tenant' }, preHandler: app.requireRole(...staffAccess.records) }
  const csrfOnly = {
    type: 'object',
    properties: { _csrf: { type: 'string', maxLength: 200 } },
  } as const

  const renderYear = async (
    request: FastifyRequest,
    reply: FastifyReply,
    errors: FieldErrors,
    input = {},
  ) => {
    const ctx = signedInContext(request)
    return reply.status(400).view('backoffice/year/year', { ...(await yearView(ctx)), errors, input })
  }

  app.get<{ Querystring: { fait?: Notice } }>(
    '/admin/annee',
    { ...read, schema: { querystring: noticeQuery } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      return reply.view('backoffice/year/year', { ...(await yearView(ctx, request.query.fait)), input: {} })
    },
  )

  app.post('/admin/annee/preparer', { ...write, schema: { body: csrfOnly } }, async (request, reply) => {
    const result = await prepareNextYear(signedInContext(request))
    if (result.errors) return renderYear(request, reply, result.errors)
    return reply.redirect('/admin/annee?fait=preparee', 303)
  })

  app.post('/admin/annee/cours', { ...write, schema: { body: csrfOnly } }, async (request, reply) => {
    const result = await copyCourses(signedInContext(request))
    if (result.errors) return renderYear(request, reply, result.errors)
    return reply.redirect('/admin/annee?fait=copies', 303)
  })

  app.post('/admin/annee/inscriptions', { ...write, schema: { body: csrfOnly } }, async (request, reply) => {
    const result = await enrolReenrolled(signedInContext(request))
    if (result.errors) return renderYear(request, reply, result.errors)
    return reply.redirect('/admin/annee?fait=inscrits', 303)
  })

  app.post<{ Body: SwitchInput }>(
    '/admin/annee/changer',
    {
      ...write,
      schema: {
        body: {
          type: 'object',
          properties: {
            _csrf: { type: 'string', maxLength: 200 },
            force: { type: 'string', maxLength: 10 },
            // longer than the rule, so that a long reason gets its message rather than a 400 page
            reason: { type: 'string', maxLength: 5000 },
          },
        },
      },
    },
    async (request, reply) => {
      const result = await switchYear(signedInContext(request), request.body)
      if (result.errors) return renderYear(request, reply, result.errors, request.body)
      return reply.redirect('/admin/annee?fait=bascule', 303)
    },
  )

  const renderPlacement = async (
    request: FastifyRequest,
    reply: FastifyReply,
    notice?: Notice,
    errors?: FieldErrors,
    chosen: Record<string, string> = {},
  ) => {
    const ctx = signedInContext(request)
    const { current, next } = await yearsOf(ctx.db)
    const waiting = current && next ? await waitingList(ctx, current, next) : []
    return reply.status(errors ? 400 : 200).view('backoffice/year/placement', {
      title: ctx.t('year.placement.pageTitle', { label: next?.label ?? '' }),
      notice: notice ? ctx.t(notices[notice]) : undefined,
      next,
      canAct: canAct(ctx),
      waiting,
      errors,
      errorLabels: Object.fromEntries(
        waiting.map((w) => [`course-${w.key}`, ctx.t('year.placement.courseFor', { name: w.name })]),
      ),
      chosen,
    })
  }

  app.get<{ Querystring: { fait?: Notice } }>(
    '/admin/annee/placement',
    { ...read, schema: { querystring: noticeQuery } },
    async (request, reply) => renderPlacement(request, reply, request.query.fait),
  )

  app.post<{ Body: { pupil?: number; course?: string; key?: string } }>(
    '/admin/annee/placement',
    {
      ...write,
      schema: {
        body: {
          type: 'object',
          properties: {
            _csrf: { type: 'string', maxLength: 200 },
            pupil: recordId,
            course: { type: 'string', maxLength: 12 },
            key: { type: 'string', pattern: '^[rd][0-9-]{1,30}$' },
          },
        },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { pupil, course, key } = request.body
      const courseId = Number(course)
      if (!pupil || !key) return renderPlacement(request, reply, undefined, {})
      const errors =
        Number.isInteger(courseId) && courseId > 0 && courseId <= 2147483647
          ? await place(ctx, { pupil, course: courseId, key })
          : { [`course-${key}`]: ctx.t('year.placement.error.course') }
      if (errors) return renderPlacement(request, reply, undefined, errors, { [key]: course ?? '' })
      return reply.redirect('/admin/annee/placement?fait=place', 303)
    },
  )
}
