import type { FastifyInstance } from 'fastify'
import { type SignedInContext, signedInContext } from '../../platform/auth/context.ts'
import { idParams } from '../../platform/http/schemas.ts'
import { formatEuros } from '../../platform/views/money.ts'
import { InvoiceKind } from './entities.ts'
import { type DescribedInvoice, familyDocument, familyInvoices, familyReceipt } from './invoices.ts'
import { pdfFrame, sendPdf } from './pdf-download.ts'
import { invoicePdf, receiptPdf } from './pdf.ts'
import { invoiceAmounts } from './view.ts'

const tabs = [
  { kind: InvoiceKind.cotisation, href: '/facturation', label: 'billing.tab.tuition' },
  { kind: InvoiceKind.location, href: '/facturation/locations', label: 'billing.tab.rentals' },
] as const

/** What a family's Facturation page shows of one invoice: what is left of its schedule, its credit notes. */
function invoiceView(ctx: SignedInContext, d: DescribedInvoice) {
  const euros = (cents: number) => formatEuros(cents, ctx.locale)
  // an instalment whose direct debit the bank returned, and that nothing has paid since
  const returned = (id: number) =>
    d.payments.some((p) => p.instalment?.id === id && p.rejectedOn) &&
    !d.payments.some((p) => p.instalment?.id === id && !p.rejectedOn)
  return {
    ...invoiceAmounts(ctx.locale, d),
    schedule: d.balance.schedule
      .filter((i) => i.left > 0)
      .map((i) => ({
        dueOn: i.dueOn,
        amount: euros(i.left),
        partly: i.left < i.amount,
        late: i.late,
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
    app.get(tab.href, familyOnly, async (request, reply) => {
      const ctx = signedInContext(request)
      const invoices = await familyInvoices(ctx, tab.kind)
      return reply.view('billing/family', {
        title: `${ctx.t('billing.title')} — ${ctx.t(tab.label)}`,
        heading: ctx.t('billing.title'),
        tabs: tabs.map((item) => ({ href: item.href, label: ctx.t(item.label), current: item === tab })),
        invoices: invoices.map((d) => invoiceView(ctx, d)),
        emptyText: ctx.t(`billing.none.${tab.kind}`),
      })
    })
  }

  app.get<{ Params: { id: number } }>(
    '/facturation/factures/:id/pdf',
    { ...familyOnly, schema: { params: idParams } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const described = await familyDocument(ctx, request.params.id)
      const { invoice } = described
      const pdf = await invoicePdf(await pdfFrame(ctx, invoice.family.id), described)
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
      const payment = await familyReceipt(ctx, request.params.id)
      const pdf = await receiptPdf(await pdfFrame(ctx, payment.family.id), payment, payment.invoice.number!)
      return sendPdf(
        reply,
        `${ctx.t('billing.pdf.receiptTitle', { number: payment.receiptNumber })}.pdf`,
        pdf,
      )
    },
  )
}
