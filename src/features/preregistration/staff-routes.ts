import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { signedInContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import { NotFound } from '../../platform/http/errors.ts'
import { pageOf, pageParam } from '../../platform/http/pagination.ts'
import { decisionView, type RefusedDecision, reviewRoutes } from '../shared/decision.ts'
import { PreregistrationStatus } from './entities.ts'
import {
  applicantLines,
  decideDossier,
  dossierForReview,
  dossierQueue,
  duplicatesOf,
  exportCsv,
  isDecidable,
} from './service.ts'
import { dossierView } from './view.ts'

const states = Object.values(PreregistrationStatus)

/**
 * Staff's side of the pré-inscription: the dossiers by state (confirmed ones first), each with its
 * applicants' choices and the likely duplicates; Accepter, Liste d'attente or Refuser; the CSV.
 */
export default async function preregistrationReview(app: FastifyInstance) {
  const staffOnly = {
    constraints: { site: 'tenant' },
    preHandler: [
      app.requireRole(...staffAccess.decide),
      // a tenant without a pré-inscription period has no such pages
      async (request: FastifyRequest) => {
        if (!signedInContext(request).config.periods?.preregistration) throw new NotFound()
      },
    ],
  }

  app.get<{ Querystring: { etat?: string; page?: number } }>(
    '/admin/preinscriptions',
    {
      ...staffOnly,
      schema: {
        querystring: {
          type: 'object',
          properties: { etat: { type: 'string', enum: ['tous', ...states] }, ...pageParam },
        },
      },
    },
    async (request, reply) => {
      const { db, t, config } = signedInContext(request)
      const { etat = PreregistrationStatus.confirmed, page = 1 } = request.query
      const { rows, counts, total } = await dossierQueue(
        db,
        etat === 'tous' ? null : (etat as PreregistrationStatus),
        page,
      )
      const duplicates = await duplicatesOf(db, rows, t)
      return reply.view('preregistration/queue', {
        title: t('prereg.queue.title'),
        etat,
        states,
        counts,
        items: rows.map((row) => {
          const guardian = row.guardians[0]!
          return {
            id: row.id,
            guardian: [guardian.firstName, guardian.lastName].filter(Boolean).join(' '),
            email: row.email,
            applicants: applicantLines(config, row.applicants),
            status: row.status,
            savedAt: row.savedAt,
            decidedAt: row.decidedAt,
            duplicates: duplicates.get(row.id) ?? [],
          }
        }),
        page: pageOf(total, page, '/admin/preinscriptions', { etat }),
      })
    },
  )

  app.get('/admin/preinscriptions/export.csv', staffOnly, async (request, reply) => {
    const { db, config, t } = signedInContext(request)
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="preinscriptions.csv"')
      .header('cache-control', 'private, no-store')
      .send(await exportCsv(db, config, t))
  })

  const render = async (
    request: FastifyRequest,
    reply: FastifyReply,
    id: number,
    submitted?: RefusedDecision,
  ) => {
    const { db, t, config } = signedInContext(request)
    const row = await dossierForReview(db, id)
    return reply.view('preregistration/review', {
      title: t('prereg.dossier.title', { number: row.id }),
      row,
      ...dossierView(config, row, t),
      duplicates: (await duplicatesOf(db, [row], t)).get(row.id) ?? [],
      decidable: isDecidable(row, config),
      invitedAccount: row.invitedIdentifiant
        ? { identifiant: row.invitedIdentifiant, email: row.invitedEmail }
        : null,
      ...decisionView(request, submitted),
    })
  }

  reviewRoutes(app, {
    base: '/admin/preinscriptions',
    preHandler: staffOnly.preHandler,
    render,
    decide: decideDossier,
  })
}
