import type { FastifyInstance } from 'fastify'
import { signedInContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import type { MessageKey } from '../../platform/views/i18n.ts'
import { formatEuros } from '../../platform/views/money.ts'
import { type GeneratedInvoice, generateAndIssue, generationPreview } from './generation.ts'

/**
 * "Générer les factures de l'année": the preview of the tuition invoices the tariffs give for this
 * year's enrolments (families, amounts, total, what to look at), then one action that issues them.
 * Every staff role sees the preview; those who write records issue.
 */
export default async function billingGeneration(app: FastifyInstance) {
  const reads = { constraints: { site: 'tenant' }, preHandler: app.requireRole(...staffAccess.read) }
  const writes = { constraints: { site: 'tenant' }, preHandler: app.requireRole(...staffAccess.records) }

  app.get<{ Querystring: { emises?: number } }>(
    '/admin/facturation/generer',
    {
      ...reads,
      schema: {
        querystring: {
          type: 'object',
          properties: { emises: { type: 'integer', minimum: 0, maximum: 1_000_000 } },
        },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const preview = await generationPreview(ctx)
      const euros = (cents: number) => formatEuros(cents, ctx.locale)
      const row = (i: GeneratedInvoice) => ({
        family: i.family,
        familyId: i.familyId,
        pupils: i.pupils.join(', '),
        total: euros(i.total),
        instalments: i.instalments,
        anomalies: i.anomalies.map((a) =>
          ctx.t(`billing.generation.anomaly.${a.kind}` as MessageKey, { detail: a.detail ?? '' }),
        ),
      })
      return reply.view('billing/generation', {
        title: ctx.t('billing.generation.title', { year: preview.schoolYear ?? '' }),
        preview,
        issued: request.query.emises,
        canIssue: (staffAccess.records as readonly string[]).includes(ctx.account.role),
        total: euros(preview.total),
        anomalies: [...preview.invoices, ...preview.rentals].reduce((n, i) => n + i.anomalies.length, 0),
        rentalTotal: euros(preview.rentals.reduce((sum, i) => sum + i.total, 0)),
        rentalRows: preview.rentals.map(row),
        rows: preview.invoices.map(row),
      })
    },
  )

  app.post(
    '/admin/facturation/generer',
    {
      ...writes,
      schema: { body: { type: 'object', properties: { _csrf: { type: 'string', maxLength: 200 } } } },
    },
    async (request, reply) => {
      const { issued } = await generateAndIssue(signedInContext(request))
      return reply.redirect(`/admin/facturation/generer?emises=${issued}`, 303)
    },
  )
}
