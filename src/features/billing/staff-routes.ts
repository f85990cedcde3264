import type { FastifyInstance, FastifyReply } from 'fastify'
import { type SignedInContext, signedInContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import type { FieldErrors } from '../../platform/forms.ts'
import { pageOf, pageParam } from '../../platform/http/pagination.ts'
import { NotFound } from '../../platform/http/errors.ts'
import { idParams } from '../../platform/http/schemas.ts'
import { formatEuros } from '../../platform/views/money.ts'
import { tenantToday } from '../family/service.ts'
import { InvoiceKind } from './entities.ts'
import { InvoiceStatus, recordPayment, staffInvoice } from './invoices.ts'
import { type ReminderNotice, reminderNotice, reminderText, writesRecords } from './ledger-view.ts'
import { invoicePdf, receiptPdf } from './pdf.ts'
import { checkPayment, deskMethods } from './payment-form.ts'
import { onlinePaymentsOf } from './payfip.ts'
import { pdfFrame, sendPdf } from './pdf-download.ts'
import { remindersOf } from './reminders.ts'
import { type InvoiceQuery, invoiceFiltersOf, staffInvoices } from './staff-lists.ts'
import { invoiceAmounts } from './view.ts'

type FormBody = Record<string, string | undefined>

/** The invoices list's filters (and, after "Relancer", what was sent). */
export const invoiceListQuery = {
  type: 'object',
  properties: {
    type: { type: 'string', enum: Object.values(InvoiceKind) },
    etat: { type: 'string', enum: ['', ...Object.values(InvoiceStatus)] },
    du: { type: 'string', maxLength: 20 },
    au: { type: 'string', maxLength: 20 },
    mode: { type: 'string', maxLength: 100 },
    famille: { type: 'string', maxLength: 200 },
    ...reminderNotice,
    ...pageParam,
  },
} as const

const recordedQuery = {
  type: 'object',
  properties: {
    recu: { type: 'string', pattern: '^R[0-9]{4}-[0-9]{6}$' },
    // an online payment staff could not confirm: more than what remains
    enligne: { type: 'string', enum: ['au-dela'] },
    ...reminderNotice,
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

  app.get<{ Querystring: InvoiceQuery & ReminderNotice & { page?: number } }>(
    '/admin/facturation',
    { ...reads, schema: { querystring: invoiceListQuery } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { filters, params, errors } = invoiceFiltersOf(ctx, request.query, InvoiceKind.cotisation)
      const number = request.query.page ?? 1
      const { total, rows } = await staffInvoices(ctx, filters, number)
      const euros = (cents: number) => formatEuros(cents, ctx.locale)
      const query = new URLSearchParams(
        Object.entries(params).filter((e): e is [string, string] => Boolean(e[1])),
      ).toString()
      const late = filters.status === InvoiceStatus.late
      return reply.code(errors ? 400 : 200).view('billing/staff-list', {
        title: ctx.t('billing.staff.title'),
        kinds: Object.values(InvoiceKind),
        statuses: Object.values(InvoiceStatus),
        modes: ctx.config.paymentModes ?? [],
        // the dates and name as typed, even refused; the choices as understood
        filters: { ...request.query, type: params.type, etat: params.etat ?? '', mode: params.mode ?? '' },
        errors,
        query,
        page: pageOf(total, number, '/admin/facturation', params),
        exportLink: `/admin/facturation/export.csv${query ? `?${query}` : ''}`,
        canImport: writesRecords(ctx),
        canRemind: late && writesRecords(ctx),
        notice: reminderText(ctx, request.query),
        rows: rows.map((r) => ({
          id: r.id,
          number: r.number,
          familyId: r.familyId,
          familyName: r.familyName,
          issuedAt: r.issuedAt,
          total: euros(r.total),
          paid: euros(r.paid),
          remaining: euros(r.remaining),
          status: r.status,
          remindedOn: r.remindedOn,
        })),
      })
    },
  )

  const renderInvoice = async (
    reply: FastifyReply,
    ctx: SignedInContext,
    id: number,
    submitted?: { input: FormBody; errors: FieldErrors },
    notices: ReminderNotice & { recu?: string; enligne?: string } = {},
  ) => {
    const d = await staffInvoice(ctx, id)
    const reminders = await remindersOf(ctx, id)
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
      canPay: !note && invoice.state === 'issued' && balance.remaining > 0 && writesRecords(ctx),
      canRemind: !note && balance.status === InvoiceStatus.late && writesRecords(ctx),
      reminders,
      methods: deskMethods,
      values: submitted?.input ?? { receivedOn: tenantToday(ctx.config) },
      errors: submitted?.errors,
      labels: {
        amount: ctx.t('billing.staff.amount'),
        method: ctx.t('billing.staff.method'),
        receivedOn: ctx.t('billing.staff.receivedOn'),
        reference: ctx.t('billing.staff.reference'),
      },
      notices: [
        ...(notices.recu ? [ctx.t('billing.staff.recorded', { number: notices.recu })] : []),
        ...reminderText(ctx, notices),
      ],
      online: online.map((o) => ({ ...o, amount: euros(o.amount) })),
      canConfirm: writesRecords(ctx),
      onlineRefused: notices.enligne ? ctx.t('payfip.staff.aboveRemaining') : '',
    })
  }

  app.get<{ Params: { id: number }; Querystring: ReminderNotice & { recu?: string; enligne?: string } }>(
    '/admin/facturation/factures/:id',
    { ...reads, schema: { params: idParams, querystring: recordedQuery } },
    async (request, reply) =>
      renderInvoice(reply, signedInContext(request), request.params.id, undefined, request.query),
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
