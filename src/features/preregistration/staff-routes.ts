import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { NotFound } from '../../platform/http/errors.ts'
import { Guardian } from '../family/entities.ts'
import { decisionView, type RefusedDecision, reviewRoutes } from '../staff/decision.ts'
import { Preregistration, PreregistrationStatus } from './entities.ts'
import {
  applicantLines,
  decideDossier,
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
      app.requireRole('staff', 'admin'),
      // a tenant without a pré-inscription period has no such pages
      async (request: FastifyRequest) => {
        if (!request.tenant!.config.periods?.preregistration) throw new NotFound()
      },
    ],
  }

  app.get<{ Querystring: { etat?: string } }>(
    '/admin/preinscriptions',
    {
      ...staffOnly,
      schema: {
        querystring: { type: 'object', properties: { etat: { type: 'string', enum: ['tous', ...states] } } },
      },
    },
    async (request, reply) => {
      const { em, t, tenant } = request
      const etat = request.query.etat ?? PreregistrationStatus.confirmed
      const all = await dossierQueue(em)
      const rows = etat === 'tous' ? all : all.filter((row) => row.status === etat)
      const duplicates = await duplicatesOf(em, rows, t, all)
      return reply.view('preregistration/queue', {
        title: t('prereg.queue.title'),
        etat,
        states,
        counts: Object.fromEntries(
          states.map((state) => [state, all.filter((r) => r.status === state).length]),
        ),
        items: rows.map((row) => {
          const guardian = row.guardians[0]!
          return {
            id: row.id,
            guardian: [guardian.firstName, guardian.lastName].filter(Boolean).join(' '),
            email: row.email,
            applicants: applicantLines(tenant!.config, row.applicants),
            status: row.status,
            date: row.updatedAt,
            duplicates: duplicates.get(row.id) ?? [],
          }
        }),
      })
    },
  )

  app.get('/admin/preinscriptions/export.csv', staffOnly, async (request, reply) =>
    reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="preinscriptions.csv"')
      .header('cache-control', 'private, no-store')
      .send(await exportCsv(request.em, request.tenant!.config, request.t)),
  )

  const render = async (
    request: FastifyRequest,
    reply: FastifyReply,
    id: number,
    submitted?: RefusedDecision,
  ) => {
    const { em, t, tenant } = request
    const config = tenant!.config
    const row = await em.findOne(Preregistration, { id }, { populate: ['decidedBy', 'family'] })
    if (!row) throw new NotFound()
    const invited = row.family
      ? // the invited account hangs on the family's responsable 1
        await em.findOne(Guardian, { family: row.family, rank: 1 }, { populate: ['account'] })
      : null
    return reply.view('preregistration/review', {
      title: t('prereg.dossier.title', { number: row.id }),
      row,
      ...dossierView(config, row, t),
      duplicates: (await duplicatesOf(em, [row], t)).get(row.id) ?? [],
      decidable: isDecidable(row, config),
      invitedAccount: invited?.account ?? null,
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
