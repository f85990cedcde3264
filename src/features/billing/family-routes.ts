import type { FastifyInstance } from 'fastify'
import { type SignedInContext, signedInContext, tenantContext } from '../../platform/auth/context.ts'
import { idParams } from '../../platform/http/schemas.ts'
import type { MessageKey } from '../../platform/views/i18n.ts'
import { formatEuros } from '../../platform/views/money.ts'
import { InvoiceKind } from './entities.ts'
import {
  type DescribedInvoice,
  familyInvoiceDocument,
  familyInvoices,
  familyReceiptDocument,
} from './invoices.ts'
import {
  awaitingConfirmation,
  PayfipResult,
  payableOnline,
  returnFromPayfip,
  startOnlinePayment,
} from './payfip.ts'
import { frameFor, sendPdf } from './pdf-download.ts'
import { invoicePdf, receiptPdf } from './pdf.ts'
import { invoiceAmounts } from './view.ts'

const tabs = [
  { kind: InvoiceKind.cotisation, href: '/facturation', label: 'billing.tab.tuition' },
  { kind: InvoiceKind.location, href: '/facturation/locations', label: 'billing.tab.rentals' },
] as const

/** What the family reads once back from PayFiP, or when an invoice is not to be paid online again. */
const onlineNotices = {
  attente: { key: 'payfip.notice.awaiting', tone: 'success' },
  refuse: { key: 'payfip.notice.refused', tone: 'error' },
  abandon: { key: 'payfip.notice.abandoned', tone: 'error' },
  deja: { key: 'payfip.notice.alreadyAwaiting', tone: 'error' },
  reglee: { key: 'payfip.notice.settled', tone: 'error' },
} as const satisfies Record<string, { key: MessageKey; tone: string }>
type OnlineNotice = keyof typeof onlineNotices

const noticeOf: Record<PayfipResult, OnlineNotice> = {
  [PayfipResult.paid]: 'attente',
  [PayfipResult.refused]: 'refuse',
  [PayfipResult.abandoned]: 'abandon',
}

const pageQuery = {
  type: 'object',
  properties: { paiement: { type: 'string', enum: Object.keys(onlineNotices) } },
} as const

const returnQuery = {
  type: 'object',
  required: ['refdet', 'resultrans'],
  properties: {
    refdet: { type: 'string', pattern: '^[A-Za-z0-9]{6,30}$' },
    resultrans: { type: 'string', enum: Object.values(PayfipResult) },
    numauto: { type: 'string', maxLength: 30 },
    dattrans: { type: 'string', maxLength: 20 },
    heurtrans: { type: 'string', maxLength: 20 },
    montant: { type: 'string', maxLength: 20 },
    numcli: { type: 'string', maxLength: 20 },
    exer: { type: 'string', maxLength: 10 },
    objet: { type: 'string', maxLength: 200 },
    mel: { type: 'string', maxLength: 200 },
  },
} as const

/** What a family's Facturation page shows of one invoice: what is left of its schedule, its credit notes. */
function invoiceView(ctx: SignedInContext, d: DescribedInvoice, waiting: { amount: number } | undefined) {
  const euros = (cents: number) => formatEuros(cents, ctx.locale)
  const remaining = d.balance.remaining
  // an instalment whose direct debit the bank returned, and that nothing has paid since
  const returned = (id: number) =>
    d.payments.some((p) => p.instalment?.id === id && p.rejectedOn) &&
    !d.payments.some((p) => p.instalment?.id === id && !p.rejectedOn)
  return {
    ...invoiceAmounts(ctx.locale, d),
    awaiting: waiting && remaining > 0 ? euros(waiting.amount) : '',
    payOnline: payableOnline(ctx, remaining, Boolean(waiting)),
    schedule: d.balance.schedule
      .filter((i) => i.left > 0)
      .map((i) => ({
        dueOn: i.dueOn,
        amount: euros(i.left),
        partly: i.left < i.amount,
        // paid online, awaiting the treasury: not late
        late: i.late && !waiting,
        rejected: returned(i.id),
      })),
    creditNotes: d.creditNotes.map((n) => ({
      id: n.id,
      number: n.number,
      issuedAt: n.issuedAt,
      amount: euros(n.total),
      reason: n.reason,
    })),
  }
}

/** The families' Facturation: Cotisations and Locations, and the PDF duplicates. */
export default async function familyBilling(app: FastifyInstance) {
  const familyOnly = { constraints: { site: 'tenant' }, preHandler: app.requireRole('family') }

  for (const tab of tabs) {
    app.get<{ Querystring: { paiement?: OnlineNotice } }>(
      tab.href,
      { ...familyOnly, schema: { querystring: pageQuery } },
      async (request, reply) => {
        const ctx = signedInContext(request)
        const invoices = await familyInvoices(ctx, tab.kind)
        const waiting = await awaitingConfirmation(
          ctx,
          invoices.map((d) => d.invoice.id),
        )
        const notice = request.query.paiement && onlineNotices[request.query.paiement]
        return reply.view('billing/family', {
          title: `${ctx.t('billing.title')} — ${ctx.t(tab.label)}`,
          heading: ctx.t('billing.title'),
          tabs: tabs.map((item) => ({ href: item.href, label: ctx.t(item.label), current: item === tab })),
          invoices: invoices.map((d) => invoiceView(ctx, d, waiting.get(d.invoice.id))),
          emptyText: ctx.t(`billing.none.${tab.kind}`),
          notice: notice && { text: ctx.t(notice.key), tone: notice.tone },
          payfipTest: ctx.config.billing?.payfip?.mode === 'test',
        })
      },
    )
  }

  const pageOf = (kind: string) => (kind === InvoiceKind.location ? '/facturation/locations' : '/facturation')

  // "Payer en ligne": the attempt is recorded, then the family's browser goes on to PayFiP
  app.post<{ Params: { id: number } }>(
    '/facturation/factures/:id/payer-en-ligne',
    {
      ...familyOnly,
      schema: {
        params: idParams,
        body: { type: 'object', properties: { _csrf: { type: 'string', maxLength: 200 } } },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const started = await startOnlinePayment(ctx, request.params.id)
      if ('url' in started) return reply.redirect(started.url, 303)
      const { id, document } = await familyInvoiceDocument(ctx, request.params.id)
      const notice = started.refused === 'settled' ? 'reglee' : 'deja'
      return reply.redirect(`${pageOf(document.invoice.kind)}?paiement=${notice}#invoice-${id}`, 303)
    },
  )

  // PayFiP's return (urlcl): no sign-in asked, the session may have lapsed while the family paid;
  // the refdet names one attempt of this tenant, and only that attempt takes PayFiP's answer
  app.get<{ Querystring: { refdet: string; resultrans: PayfipResult } & Record<string, string> }>(
    '/facturation/paiement-en-ligne/retour',
    { constraints: { site: 'tenant' }, schema: { querystring: returnQuery } },
    async (request, reply) => {
      const ctx = tenantContext(request)
      const back = await returnFromPayfip(ctx, request.query)
      return reply.redirect(
        `${pageOf(back.kind)}?paiement=${noticeOf[back.result]}#invoice-${back.invoiceId}`,
        303,
      )
    },
  )

  app.get<{ Params: { id: number } }>(
    '/facturation/factures/:id/pdf',
    { ...familyOnly, schema: { params: idParams } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { document, addressee } = await familyInvoiceDocument(ctx, request.params.id)
      const { invoice } = document
      const pdf = await invoicePdf(frameFor(ctx, addressee), document)
      const title =
        invoice.kind === InvoiceKind.avoir ? 'billing.pdf.creditNoteTitle' : 'billing.pdf.invoiceTitle'
      return sendPdf(reply, `${ctx.t(title, { number: invoice.number! })}.pdf`, pdf)
    },
  )

  app.get<{ Params: { id: number } }>(
    '/facturation/recus/:id/pdf',
    { ...familyOnly, schema: { params: idParams } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const payment = await familyReceiptDocument(ctx, request.params.id)
      const pdf = await receiptPdf(frameFor(ctx, payment.addressee), payment, payment.invoiceNumber!)
      return sendPdf(
        reply,
        `${ctx.t('billing.pdf.receiptTitle', { number: payment.receiptNumber })}.pdf`,
        pdf,
      )
    },
  )
}
