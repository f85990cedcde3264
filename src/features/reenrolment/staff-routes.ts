import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { decisionView, type RefusedDecision, reviewRoutes } from '../staff/decision.ts'
import { NotFound } from '../../platform/http/errors.ts'
import { formatDate, formatTime } from '../../platform/views/dates.ts'
import { requirementsOf } from '../documents/service.ts'
import { stateLabels } from '../documents/view.ts'
import { fullName } from '../family/service.ts'
import { Reenrolment, ReenrolmentStatus } from './entities.ts'
import { campaignOf, decideReenrolment, exportCsv, reenrolmentQueue, summaryLines } from './service.ts'

/**
 * Staff's side of the re-enrolment: the queue (submitted by default; declined, validated… by the
 * state filter; by course and establishment), each request with its answers and documents, the
 * decision mailed to the family, and the year's CSV for a French spreadsheet.
 */
export default async function reenrolmentReview(app: FastifyInstance) {
  const staffOnly = { constraints: { site: 'tenant' }, preHandler: app.requireRole('staff', 'admin') }

  /** The school year being re-enrolled for, whether or not the period is open now. */
  const schoolYearOf = (request: FastifyRequest) => {
    const campaign = campaignOf(request.tenant!.config)
    if (!campaign) throw new NotFound()
    return campaign.schoolYear
  }

  app.get<{ Querystring: { etat?: string; cours?: string; site?: string } }>(
    '/admin/reinscriptions',
    {
      ...staffOnly,
      schema: {
        querystring: {
          type: 'object',
          properties: {
            etat: { type: 'string', enum: ['tous', ...Object.values(ReenrolmentStatus)] },
            cours: { type: 'string', maxLength: 200 },
            site: { type: 'string', maxLength: 60 },
          },
        },
      },
    },
    async (request, reply) => {
      const { t, tenant, em } = request
      const config = tenant!.config
      const schoolYear = schoolYearOf(request)
      const { etat = ReenrolmentStatus.submitted, cours = '', site = '' } = request.query
      const items = await reenrolmentQueue(em, schoolYear, {
        ...(etat !== 'tous' ? { status: etat as ReenrolmentStatus } : {}),
        ...(cours ? { course: cours } : {}),
        ...(site ? { establishment: site } : {}),
      })
      const all = await reenrolmentQueue(em, schoolYear, {})
      const courseNames = [...new Set(all.flatMap((i) => i.courses.map((c) => c.name)))].sort((a, b) =>
        a.localeCompare(b, 'fr'),
      )
      return reply.view('reenrolment/queue', {
        title: t('reenrolment.queue.title', { year: schoolYear }),
        items: items.map(({ row, courses, familyName }) => ({
          id: row.id,
          pupil: fullName(row.pupil),
          familyName,
          courses: courses.map((c) => c.name).join(', '),
          status: row.status,
          date: row.submittedAt ?? row.declinedAt ?? row.updatedAt,
        })),
        filters: { etat, cours, site },
        courseNames,
        establishments: config.establishments,
        schoolYear,
      })
    },
  )

  app.get('/admin/reinscriptions/export.csv', staffOnly, async (request, reply) => {
    const schoolYear = schoolYearOf(request)
    const csv = await exportCsv(request.em, request.tenant!.config, schoolYear, request.t)
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="reinscriptions-${schoolYear}.csv"`)
      .header('cache-control', 'private, no-store')
      .send(csv)
  })

  const render = async (
    request: FastifyRequest,
    reply: FastifyReply,
    id: number,
    submitted?: RefusedDecision,
  ) => {
    const { em, t, tenant } = request
    const config = tenant!.config
    const row = await em.findOne(
      Reenrolment,
      { id },
      { populate: ['pupil', 'family', 'updatedBy', 'decidedBy'] },
    )
    if (!row) throw new NotFound()
    const timeZone = config.timezone
    const documents = [
      ...(await requirementsOf(em, config, { family: row.family })),
      ...(await requirementsOf(em, config, { family: row.family, pupil: row.pupil })),
    ]
    return reply.view('reenrolment/review', {
      title: t('reenrolment.review.title', { name: fullName(row.pupil) }),
      row,
      submittedAt: row.submittedAt
        ? `${formatDate(row.submittedAt, timeZone)} ${formatTime(row.submittedAt, timeZone)}`
        : '',
      lines: await summaryLines(em, config, row.pupil, row.answers, t),
      documents: documents.map((r) => ({
        label: r.document.label,
        state: r.state,
        stateLabel: t(stateLabels[r.state]),
        id: r.submission?.id,
      })),
      ...decisionView(request, submitted),
    })
  }

  reviewRoutes(app, {
    base: '/admin/reinscriptions',
    preHandler: staffOnly.preHandler,
    render,
    decide: decideReenrolment,
  })
}
