import PDFDocument from 'pdfkit'
import type { TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import type { Translate } from '../../platform/views/i18n.ts'
import { formatDate } from '../../platform/views/dates.ts'
import { formatEuros } from '../../platform/views/money.ts'
import { InvoiceKind, type Payment } from './entities.ts'
import type { DescribedInvoice } from './invoices.ts'

/*
 * The PDF duplicates of invoices, credit notes and receipts, drawn with pdfkit's standard Helvetica:
 * its WinAnsi encoding holds the French accents and the € sign, the text stays selectable, and no
 * font is embedded (small files, quick to make). WinAnsi lacks the narrow no-break space Intl puts
 * between thousands, so amounts use the ordinary no-break space in the PDF.
 */

export interface PdfFrame {
  config: TenantConfig
  t: Translate
  /** Responsable 1: the name and address the document is made out to. */
  addressee: { name: string; address: string[] } | undefined
}

const euros = (cents: number) => formatEuros(cents).replace(/\u202f/g, '\u00a0')
const left = 50
const width = 495

function collect(doc: PDFKit.PDFDocument): Promise<Buffer> {
  const chunks: Buffer[] = []
  doc.on('data', (chunk: Buffer) => chunks.push(chunk))
  return new Promise((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)))
    doc.on('error', reject)
    doc.end()
  })
}

function start(frame: PdfFrame, title: string) {
  const { config } = frame
  const doc = new PDFDocument({ size: 'A4', margin: left, info: { Title: title, Author: config.name } })
  // the issuer: the tenant's name, its office's address and how to reach it
  doc.font('Helvetica-Bold').fontSize(14).text(config.name)
  const address = config.contact.address ?? config.establishments[0]?.address
  doc.font('Helvetica').fontSize(9)
  if (address) doc.text(address)
  doc.text([config.contact.email, config.contact.phone].filter(Boolean).join(' — '))
  if (frame.addressee) {
    doc.fontSize(10).text(frame.addressee.name, 330, 130, { width: 215 })
    for (const line of frame.addressee.address) doc.text(line, { width: 215 })
  }
  doc.font('Helvetica-Bold').fontSize(16).text(title, left, 210, { width })
  doc.font('Helvetica').fontSize(10).moveDown(0.5)
  return doc
}

/** A table row: label (and its detail below) on the left, the amount right-aligned. */
function row(
  doc: PDFKit.PDFDocument,
  label: string,
  amount: string,
  options: { bold?: boolean; detail?: string } = {},
) {
  const y = doc.y
  doc.font(options.bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(10)
  doc.text(label, left, y, { width: 380 })
  const after = doc.y
  doc.text(amount, left + 380, y, { width: width - 380, align: 'right' })
  doc.y = after
  if (options.detail)
    doc.fontSize(8).fillColor('#444').text(options.detail, left, doc.y, { width: 380 }).fillColor('black')
  doc.moveDown(0.3)
}

function rule(doc: PDFKit.PDFDocument) {
  doc
    .moveTo(left, doc.y)
    .lineTo(left + width, doc.y)
    .lineWidth(0.5)
    .stroke()
  doc.moveDown(0.3)
}

function footer(doc: PDFKit.PDFDocument, frame: PdfFrame) {
  doc.moveDown(1.5)
  doc
    .font('Helvetica')
    .fontSize(8)
    .fillColor('#444')
    .text(frame.t('billing.pdf.legal'), left, doc.y, { width })
  if (frame.config.contact.website) doc.text(frame.config.contact.website, { width })
  doc.fillColor('black')
}

/** An invoice's or credit note's PDF: the same lines, total, schedule and balance as its page. */
export function invoicePdf(frame: PdfFrame, described: DescribedInvoice): Promise<Buffer> {
  const { t, config } = frame
  const { invoice, lines, balance } = described
  const note = invoice.kind === InvoiceKind.avoir
  const date = (d: Date | string) => formatDate(d, config.timezone)
  const doc = start(
    frame,
    t(note ? 'billing.pdf.creditNoteTitle' : 'billing.pdf.invoiceTitle', { number: invoice.number! }),
  )
  doc.text(t('billing.pdf.issuedOn', { date: date(invoice.issuedAt!) }))
  doc.text(t('billing.pdf.schoolYear', { year: invoice.schoolYear }))
  if (!note)
    doc.text(t(invoice.kind === InvoiceKind.location ? 'billing.tab.rentals' : 'billing.tab.tuition'))
  if (note && invoice.corrects) {
    doc.text(t('billing.pdf.corrects', { number: invoice.corrects.number ?? '' }))
    if (invoice.reason) doc.text(t('billing.pdf.reason', { reason: invoice.reason }))
  }
  const mode = config.paymentModes?.find((m) => m.id === invoice.paymentMode)
  if (mode && !note) doc.text(t('billing.pdf.paymentMode', { mode: mode.label }))
  doc.moveDown()
  row(doc, t('billing.col.line'), t('billing.col.amount'), { bold: true })
  rule(doc)
  for (const line of lines) {
    const pupil = line.pupil ? `${line.pupil.firstName} ${line.pupil.lastName} — ` : ''
    row(doc, `${pupil}${line.label}`, euros(line.amount), { detail: line.detail ?? undefined })
  }
  rule(doc)
  row(doc, t(note ? 'billing.pdf.creditTotal' : 'billing.col.total'), euros(invoice.total), { bold: true })
  if (!note) {
    if (balance.credited) row(doc, t('billing.col.credited'), euros(-balance.credited))
    row(doc, t('billing.col.paid'), euros(balance.paid))
    row(doc, t('billing.col.remaining'), euros(Math.max(0, balance.remaining)), { bold: true })
    doc.moveDown()
    doc.font('Helvetica-Bold').text(t('billing.schedule'), left, doc.y)
    doc.font('Helvetica')
    for (const i of balance.schedule) row(doc, date(i.dueOn), euros(i.amount))
  }
  footer(doc, frame)
  return collect(doc)
}

/** A receipt: who paid how much, when, how, for which invoice. */
export function receiptPdf(
  frame: PdfFrame,
  payment: Pick<Payment, 'receiptNumber' | 'amount' | 'method' | 'receivedOn' | 'reference'>,
  invoiceNumber: string,
): Promise<Buffer> {
  const { t, config } = frame
  const doc = start(frame, t('billing.pdf.receiptTitle', { number: payment.receiptNumber }))
  doc.text(
    t('billing.pdf.receiptText', {
      amount: euros(payment.amount),
      date: formatDate(payment.receivedOn, config.timezone),
      method: t(`billing.method.${payment.method}`),
      number: invoiceNumber,
    }),
    { width },
  )
  if (payment.reference) doc.text(t('billing.pdf.reference', { reference: payment.reference }))
  doc.moveDown()
  row(doc, t('billing.pdf.received'), euros(payment.amount), { bold: true })
  footer(doc, frame)
  return collect(doc)
}
