import type { FastifyInstance, FastifyReply } from 'fastify'
import { signedInContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import { pageOf, pageParam } from '../../platform/http/pagination.ts'
import { idParams } from '../../platform/http/schemas.ts'
import { formatEuros } from '../../platform/views/money.ts'
import { PaymentMethod } from './entities.ts'
import { afterReminders } from './ledger-view.ts'
import { remindLate } from './reminders.ts'
import {
  familyAccount,
  type InvoiceQuery,
  invoiceFiltersOf,
  invoicesCsv,
  type PaymentQuery,
  paymentFiltersOf,
  paymentsCsv,
  staffPayments,
} from './staff-lists.ts'
import { invoiceListQuery } from './staff-routes.ts'

const paymentQuery = {
  type: 'object',
  properties: {
    moyen: { type: 'string', enum: ['', ...Object.values(PaymentMethod)] },
    du: { type: 'string', maxLength: 20 },
    au: { type: 'string', maxLength: 20 },
    famille: { type: 'string', maxLength: 200 },
    ...pageParam,
  },
} as const

/** A CSV download for a spreadsheet: never cached, named after what it holds. */
function sendCsv(reply: FastifyReply, fileName: string, csv: string) {
  return reply
    .header('content-type', 'text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${fileName}"`)
    .header('cache-control', 'private, no-store')
    .send(csv)
}

const linkOf = (path: string, params: Record<string, string | undefined>) => {
  const query = new URLSearchParams(
    Object.entries(params).filter((e): e is [string, string] => Boolean(e[1])),
  ).toString()
  return query ? `${path}?${query}` : path
}

/**
 * Staff's ledgers beside the invoices list: the payments with their receipts, a family's account,
 * the reminders of late invoices (mailed with their PDF through the outbox) and the CSV exports for
 * the accounting service. Pages and exports admit every staff role; reminders only those who write
 * records.
 */
export default async function billingLedgers(app: FastifyInstance) {
  const reads = { constraints: { site: 'tenant' }, preHandler: app.requireRole(...staffAccess.read) }
  const writes = { constraints: { site: 'tenant' }, preHandler: app.requireRole(...staffAccess.records) }

  app.get<{ Querystring: PaymentQuery & { page?: number } }>(
    '/admin/facturation/paiements',
    { ...reads, schema: { querystring: paymentQuery } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { filters, params, errors } = paymentFiltersOf(ctx, request.query)
      const number = request.query.page ?? 1
      const { total, rows } = await staffPayments(ctx, filters, number)
      return reply.code(errors ? 400 : 200).view('billing/staff-payments', {
        title: ctx.t('billing.ledger.paymentsTitle'),
        methods: Object.values(PaymentMethod),
        filters: { ...request.query, moyen: params.moyen ?? '' },
        errors,
        page: pageOf(total, number, '/admin/facturation/paiements', params),
        exportLink: linkOf('/admin/facturation/paiements/export.csv', params),
        rows: rows.map((p) => ({ ...p, amount: formatEuros(p.amount, ctx.locale) })),
      })
    },
  )

  app.get<{ Querystring: PaymentQuery }>(
    '/admin/facturation/paiements/export.csv',
    { ...reads, schema: { querystring: paymentQuery } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { filters } = paymentFiltersOf(ctx, request.query)
      return sendCsv(reply, 'paiements.csv', await paymentsCsv(ctx, filters))
    },
  )

  app.get<{ Querystring: InvoiceQuery }>(
    '/admin/facturation/export.csv',
    { ...reads, schema: { querystring: invoiceListQuery } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      // without a type, every kind: invoices and credit notes together
      const { filters } = invoiceFiltersOf(ctx, request.query, null)
      return sendCsv(reply, 'factures.csv', await invoicesCsv(ctx, filters))
    },
  )

  app.get<{ Params: { id: number } }>(
    '/admin/facturation/familles/:id',
    { ...reads, schema: { params: idParams } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const account = await familyAccount(ctx, request.params.id)
      const euros = (cents: number) => formatEuros(cents, ctx.locale)
      return reply.view('billing/staff-account', {
        title: ctx.t('billing.account.title', { name: account.name }),
        familyId: request.params.id,
        emails: account.emails.join(', '),
        balance: Object.fromEntries(Object.entries(account.balance).map(([k, v]) => [k, euros(v)])),
        late: account.balance.late > 0,
        invoices: account.invoices.map((r) => ({
          ...r,
          total: euros(r.total),
          paid: euros(r.paid),
          credited: r.credited ? euros(r.credited) : '',
          remaining: euros(r.remaining),
        })),
        payments: account.payments.map((p) => ({ ...p, amount: euros(p.amount) })),
      })
    },
  )

  app.post<{ Body: { factures?: string | string[]; retour?: string } }>(
    '/admin/facturation/relances',
    {
      ...writes,
      schema: {
        body: {
          type: 'object',
          properties: {
            _csrf: { type: 'string', maxLength: 200 },
            factures: {
              anyOf: [
                { type: 'string', pattern: '^[0-9]{1,9}$' },
                { type: 'array', maxItems: 500, items: { type: 'string', pattern: '^[0-9]{1,9}$' } },
              ],
            },
            retour: { type: 'string', maxLength: 1000 },
          },
        },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { factures = [], retour } = request.body
      const ids = (Array.isArray(factures) ? factures : [factures]).map(Number).filter((id) => id > 0)
      const outcome = await remindLate(ctx, ids)
      return reply.redirect(afterReminders(retour, outcome), 303)
    },
  )
}
