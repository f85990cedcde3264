import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { signedInContext, type TenantContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import { NotFound } from '../../platform/http/errors.ts'
import { pageOf, pageParam } from '../../platform/http/pagination.ts'
import { formatDate, formatTime } from '../../platform/views/dates.ts'
import { fullName } from '../family/service.ts'
import { decisionView, type RefusedDecision, reviewRoutes } from '../shared/decision.ts'
import { ReenrolmentStatus } from './entities.ts'
import {
  campaignOf,
  decideReenrolment,
  exportCsv,
  reenrolmentForReview,
  reenrolmentQueue,
} from './service.ts'

/** The school year being re-enrolled for, whether or not the period is open now. */
function schoolYearOf(ctx: TenantContext): string {
  const campaign = campaignOf(ctx.config)
  if (!campaign) throw new NotFound()
  return campaign.schoolYear
}

/**
 * Staff's side of the re-enrolment: the queue (submitted by default; declined, validated… by the
 * state filter; by course and establishment), each request with its answers and documents, the
 * decision mailed to the family, and the year's CSV for a French spreadsheet.
 */
export default async function reenrolmentReview(app: FastifyInstance) {
  const staffOnly = { constraints: { site: 'tenant' }, preHandler: app.requireRole(...staffAccess.decide) }

  app.get<{ Querystring: { etat?: string; cours?: string; site?: string; page?: number } }>(
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
            ...pageParam,
          },
        },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const schoolYear = schoolYearOf(ctx)
      const { etat = ReenrolmentStatus.submitted, cours = '', site = '', page = 1 } = request.query
      const { total, rows, courseNames } = await reenrolmentQueue(
        ctx.db,
        schoolYear,
        {
          status: etat !== 'tous' ? (etat as ReenrolmentStatus) : null,
          course: cours || null,
          establishment: site || null,
        },
        page,
      )
      return reply.view('reenrolment/queue', {
        title: ctx.t('reenrolment.queue.title', { year: schoolYear }),
        items: rows.map((row) => ({
          id: row.id,
          pupil: fullName(row),
          familyName: row.familyName,
          courses: row.courses.map((c) => c.name).join(', '),
          status: row.status,
          date: row.submittedAt ?? row.declinedAt ?? row.updatedAt,
        })),
        filters: { etat, cours, site },
        courseNames,
        establishments: ctx.config.establishments,
        schoolYear,
        page: pageOf(total, page, '/admin/reinscriptions', { etat, cours, site }),
      })
    },
  )

  app.get('/admin/reinscriptions/export.csv', staffOnly, async (request, reply) => {
    const ctx = signedInContext(request)
    const schoolYear = schoolYearOf(ctx)
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="reinscriptions-${schoolYear}.csv"`)
      .header('cache-control', 'private, no-store')
      .send(await exportCsv(ctx, schoolYear))
  })

  const render = async (
    request: FastifyRequest,
    reply: FastifyReply,
    id: number,
    submitted?: RefusedDecision,
  ) => {
    const ctx = signedInContext(request)
    const { row, name, lines, documents } = await reenrolmentForReview(ctx, id)
    const timeZone = ctx.config.timezone
    return reply.view('reenrolment/review', {
      title: ctx.t('reenrolment.review.title', { name }),
      row,
      submittedAt: row.submittedAt
        ? `${formatDate(row.submittedAt, timeZone)} ${formatTime(row.submittedAt, timeZone)}`
        : '',
      lines,
      documents,
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
