import type { FastifyInstance, FastifyReply } from 'fastify'
import { type SignedInContext, signedInContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import type { FieldErrors } from '../../platform/forms.ts'
import { offsetOf, pageOf, pageParam, pageSize } from '../../platform/http/pagination.ts'
import { NotFound } from '../../platform/http/errors.ts'
import { idParams } from '../../platform/http/schemas.ts'
import { formatEuros } from '../../platform/views/money.ts'
import { tenantToday } from '../family/service.ts'
import { InvoiceKind } from './entities.ts'
import { InvoiceStatus, invoiceList, recordPayment, staffInvoice } from './invoices.ts'
import { invoicePdf, receiptPdf } from './pdf.ts'
import { checkPayment, deskMethods } from './payment-form.ts'
import { onlinePaymentsOf } from './payfip.ts'
import { pdfFrame, sendPdf } from './pdf-download.ts'
import { invoiceAmounts } from './view.ts'

type FormBody = Record<string, string | undefined>

const listQuery = {
  type: 'object',
  properties: {
    type: { type: 'string', enum: Object.values(InvoiceKind) },
    etat: { type: 'string', enum: ['', ...Object.values(InvoiceStatus)] },
    ...pageParam,
  },
} as const

const recordedQuery = {
  type: 'object',
  properties: {
    recu: { type: 'string', pattern: '^R[0-9]{4}-[0-9]{6}$' },
    // an online payment staff could not confirm: more than what remains
    enligne: { type: 'string', enum: ['au-dela'] },
  },
} as const

/**
 * Staff's Facturation: the list of issued invoices by kind and state, an invoice's page with its
 * PDF and receipts, and the desk's payment form. Pages admit every staff role; recording a payment
 * only those who write records.
 */
export default async function staffBilling(app: FastifyInstance) {
  const reads = { constraints: { site: 'tenant' }, preHandler: app.requireRole(...staffAccess.read) }
  const writes = { constraints: { site: 'tenant' }, preHandler: app.requireRole(...staffAccess.records) }

  app.get<{ Querystring: { type?: InvoiceKind; etat?: InvoiceStatus | ''; page?: number } }>(
    '/admin/facturation',
    { ...reads, schema: { querystring: listQuery } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const kind = request.query.type ?? InvoiceKind.cotisation
      const status = kind === InvoiceKind.avoir ? undefined : request.query.etat || undefined
      const rows = await invoiceList(ctx, { kind, status })
      const number = request.query.page ?? 1
      const page = pageOf(rows.length, number, '/admin/facturation', { type: kind, etat: status })
      const euros = (cents: number) => formatEuros(cents, ctx.locale)
      return reply.view('billing/staff-list', {
        title: ctx.t('billing.staff.title'),
        kinds: Object.values(InvoiceKind),
        statuses: Object.values(InvoiceStatus),
        filters: { type: kind, etat: status ?? '' },
        canImport: (staffAccess.records as readonly string[]).includes(ctx.account.role),
        page,
        rows: rows.slice(offsetOf(number), offsetOf(number) + pageSize).map((d) => ({
          id: d.invoice.id,
          number: d.invoice.number,
          familyName: d.familyName,
          issuedAt: d.invoice.issuedAt,
          total: euros(d.invoice.total),
          paid: euros(d.balance.paid),
          remaining: euros(Math.max(0, d.balance.remaining)),
          status: kind === InvoiceKind.avoir ? undefined : d.balance.status,
        })),
      })
    },
  )

  const renderInvoice = async (
    reply: FastifyReply,
    ctx: SignedInContext,
    id: number,
    submitted?: { input: FormBody; errors: FieldErrors },
    recorded?: string,
    onlineRefused?: string,
  ) => {
    const d = await staffInvoice(ctx, id)
    const online = await onlinePaymentsOf(ctx, id)
    const euros = (cents: number) => formatEuros(cents, ctx.locale)
    const { invoice, balance } = d
    const shown = invoiceAmounts(ctx.locale, d)
    const note = invoice.kind === InvoiceKind.avoir
    const title = ctx.t(note ? 'billing.staff.creditNoteTitle' : 'billing.staff.invoiceTitle', {
      number: invoice.number ?? '—',
    })
    return reply.view('billing/staff-invoice', {
      title,
      invoice: {
        ...shown,
        issued: invoice.state === 'issued',
        note,
        corrects: invoice.corrects && { id: invoice.corrects.id, number: invoice.corrects.number },
        reason: invoice.reason,
      },
      familyName: d.guardian ? `${d.guardian.firstName} ${d.guardian.lastName}` : '',
      familyId: invoice.family.id,
      lines: shown.lines,
      schedule: balance.schedule.map((i) => ({ ...i, amount: euros(i.amount), leftText: euros(i.left) })),
      payments: shown.payments,
      creditNotes: d.creditNotes.map((n) => ({ id: n.id, number: n.number, amount: euros(n.total) })),
      canPay:
        !note &&
        invoice.state === 'issued' &&
        balance.remaining > 0 &&
        (staffAccess.records as readonly string[]).includes(ctx.account.role),
      methods: deskMethods,
      values: submitted?.input ?? { receivedOn: tenantToday(ctx.config) },
      errors: submitted?.errors,
      labels: {
        amount: ctx.t('billing.staff.amount'),
        method: ctx.t('billing.staff.method'),
        receivedOn: ctx.t('billing.staff.receivedOn'),
        reference: ctx.t('billing.staff.reference'),
      },
      notice: recorded ? ctx.t('billing.staff.recorded', { number: recorded }) : '',
      online: online.map((o) => ({ ...o, amount: euros(o.amount) })),
      canConfirm: (staffAccess.records as readonly string[]).includes(ctx.account.role),
      onlineRefused: onlineRefused ? ctx.t('payfip.staff.aboveRemaining') : '',
    })
  }

  app.get<{ Params: { id: number }; Querystring: { recu?: string; enligne?: string } }>(
    '/admin/facturation/factures/:id',
    { ...reads, schema: { params: idParams, querystring: recordedQuery } },
    async (request, reply) =>
      renderInvoice(
        reply,
        signedInContext(request),
        request.params.id,
        undefined,
        request.query.recu,
        request.query.enligne,
      ),
  )

  app.post<{ Params: { id: number }; Body: FormBody }>(
    '/admin/facturation/factures/:id/paiements',
    {
      ...writes,
      schema: {
        params: idParams,
        body: {
          type: 'object',
          properties: Object.fromEntries(
            ['_csrf', 'amount', 'method', 'receivedOn', 'reference'].map((name) => [
              name,
              { type: 'string', maxLength: 1000 },
            ]),
          ),
        },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { id } = request.params
      const checked = checkPayment(request.body, ctx.t, tenantToday(ctx.config))
      const recorded = checked.errors
        ? checked
        : await recordPayment(ctx, { invoiceId: id, ...checked.values })
      if (recorded.errors)
        return renderInvoice(reply.code(400), ctx, id, { input: request.body, errors: recorded.errors })
      const receipt = 'payment' in recorded ? recorded.payment.receiptNumber : ''
      return reply.redirect(`/admin/facturation/factures/${id}?recu=${receipt}`, 303)
    },
  )

  app.get<{ Params: { id: number } }>(
    '/admin/facturation/factures/:id/pdf',
    { ...reads, schema: { params: idParams } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const d = await staffInvoice(ctx, request.params.id)
      if (!d.invoice.number) throw new NotFound()
      const pdf = await invoicePdf(await pdfFrame(ctx, d.invoice.family.id), d)
      const title =
        d.invoice.kind === InvoiceKind.avoir ? 'billing.pdf.creditNoteTitle' : 'billing.pdf.invoiceTitle'
      return sendPdf(reply, `${ctx.t(title, { number: d.invoice.number })}.pdf`, pdf)
    },
  )

  app.get<{ Params: { id: number; paymentId: number } }>(
    '/admin/facturation/factures/:id/recus/:paymentId/pdf',
    {
      ...reads,
      schema: {
        params: {
          type: 'object',
          properties: { id: idParams.properties.id, paymentId: idParams.properties.id },
          required: ['id', 'paymentId'],
        },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const d = await staffInvoice(ctx, request.params.id)
      const payment = d.payments.find((p) => p.id === request.params.paymentId)
      if (!payment) throw new NotFound()
      const pdf = await receiptPdf(await pdfFrame(ctx, d.invoice.family.id), payment, d.invoice.number!)
      return sendPdf(
        reply,
        `${ctx.t('billing.pdf.receiptTitle', { number: payment.receiptNumber })}.pdf`,
        pdf,
      )
    },
  )
}
