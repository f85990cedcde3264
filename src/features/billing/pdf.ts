import { createHash } from 'node:crypto'
import PDFDocument from 'pdfkit'
import type { TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import type { Translate } from '../../platform/views/i18n.ts'
import { formatDate } from '../../platform/views/dates.ts'
import { formatEuros } from '../../platform/views/money.ts'
import { InvoiceKind, type Payment } from './entities.ts'
import type { InvoiceDocument } from './invoices.ts'

/*
 * The PDF duplicates of invoices, credit notes and receipts, drawn with pdfkit's standard Helvetica:
 * its WinAnsi encoding holds the French accents and the € sign, the text stays selectable, and no
 * font is embedded (small files, quick to make). WinAnsi lacks the narrow no-break space Intl puts
 * between thousands, so amounts use the ordinary no-break space in the PDF.
 *
 * A document is first written down as the text it prints (`Printed`), then drawn from that alone.
 * Drawing costs several milliseconds of CPU (pdfkit reads its font metrics again for each document)
 * and an issued invoice or a receipt is downloaded again and again unchanged: the PDFs drawn last
 * are kept under their text's hash, so a download whose text is the same (same document, same
 * payments, same addressee, same tenant settings) sends the same bytes without drawing them again,
 * and any change of what it prints draws it anew (load-tests/RESULTS.md, billing).
 */

export interface PdfFrame {
  config: TenantConfig
  t: Translate
  /** Responsable 1: the name and address the document is made out to. */
  addressee: { name: string; address: string[] } | undefined
}

/**
 * One block of a document's body: an amount row (its detail below), a rule, a heading, a blank, a
 * paragraph (a bulletin's appreciation; `small` for a line of detail).
 */
export type Block =
  | { label: string; amount: string; bold?: boolean; detail?: string }
  | { rule: true }
  | { heading: string }
  | { space: true }
  | { paragraph: string; small?: boolean }

/** Everything a document prints, in order: its PDF is drawn from this and nothing else. */
interface Printed {
  title: string
  issuer: { name: string; address?: string; reach: string }
  addressee?: { name: string; address: string[] }
  /** The paragraphs under the title. */
  facts: string[]
  body: Block[]
  legal: string
  website?: string
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

/** A table row: label (and its detail below) on the left, the amount right-aligned. */
function row(
  doc: PDFKit.PDFDocument,
  block: { label: string; amount: string; bold?: boolean; detail?: string },
) {
  const y = doc.y
  doc.font(block.bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(10)
  doc.text(block.label, left, y, { width: 380 })
  const after = doc.y
  doc.text(block.amount, left + 380, y, { width: width - 380, align: 'right' })
  doc.y = after
  if (block.detail)
    doc.fontSize(8).fillColor('#444').text(block.detail, left, doc.y, { width: 380 }).fillColor('black')
  doc.moveDown(0.3)
}

function draw(printed: Printed): Promise<Buffer> {
  const { issuer, addressee } = printed
  const doc = new PDFDocument({
    size: 'A4',
    margin: left,
    info: { Title: printed.title, Author: issuer.name },
  })
  // the issuer: the tenant's name, its office's address and how to reach it
  doc.font('Helvetica-Bold').fontSize(14).text(issuer.name)
  doc.font('Helvetica').fontSize(9)
  if (issuer.address) doc.text(issuer.address)
  doc.text(issuer.reach)
  if (addressee) {
    doc.fontSize(10).text(addressee.name, 330, 130, { width: 215 })
    for (const line of addressee.address) doc.text(line, { width: 215 })
  }
  doc.font('Helvetica-Bold').fontSize(16).text(printed.title, left, 210, { width })
  doc.font('Helvetica').fontSize(10).moveDown(0.5)
  for (const fact of printed.facts) doc.text(fact, { width })
  doc.moveDown()
  for (const block of printed.body) {
    if ('rule' in block) {
      doc
        .moveTo(left, doc.y)
        .lineTo(left + width, doc.y)
        .lineWidth(0.5)
        .stroke()
      doc.moveDown(0.3)
    } else if ('heading' in block) {
      doc.font('Helvetica-Bold').text(block.heading, left, doc.y)
      doc.font('Helvetica')
    } else if ('space' in block) doc.moveDown()
    else if ('paragraph' in block) {
      doc.fontSize(block.small ? 9 : 10).text(block.paragraph, left, doc.y, { width })
      doc.fontSize(10).moveDown(0.3)
    } else row(doc, block)
  }
  doc.moveDown(1.5)
  doc.font('Helvetica').fontSize(8).fillColor('#444').text(printed.legal, left, doc.y, { width })
  if (printed.website) doc.text(printed.website, { width })
  doc.fillColor('black')
  return collect(doc)
}

/** The PDFs drawn last, by their text's hash, the most recently sent last (about 3 KB each). */
const drawn = new Map<string, Promise<Buffer>>()
const keptPdfs = 500

function pdfOf(printed: Printed): Promise<Buffer> {
  const key = createHash('sha256').update(JSON.stringify(printed)).digest('base64url')
  const kept = drawn.get(key)
  drawn.delete(key)
  const pdf =
    kept ??
    draw(printed).catch((error: unknown) => {
      drawn.delete(key)
      throw error
    })
  drawn.set(key, pdf)
  if (drawn.size > keptPdfs) drawn.delete(drawn.keys().next().value!)
  return pdf
}

/** What every document prints around its content: the tenant, responsable 1, the legal mentions. */
function framed(
  frame: PdfFrame,
  title: string,
  facts: string[],
  body: Block[],
  legal = frame.t('billing.pdf.legal'),
): Printed {
  const { config } = frame
  return {
    title,
    issuer: {
      name: config.name,
      address: config.contact.address ?? config.establishments[0]?.address,
      reach: [config.contact.email, config.contact.phone].filter(Boolean).join(' — '),
    },
    addressee: frame.addressee,
    facts,
    body,
    legal,
    website: config.contact.website,
  }
}

/** An invoice's or credit note's PDF: the same lines, total, schedule and balance as its page. */
export function invoicePdf(frame: PdfFrame, described: InvoiceDocument): Promise<Buffer> {
  const { t, config } = frame
  const { invoice, lines, balance } = described
  const note = invoice.kind === InvoiceKind.avoir
  const date = (d: Date | string) => formatDate(d, config.timezone)
  const facts = [
    t('billing.pdf.issuedOn', { date: date(invoice.issuedAt!) }),
    t('billing.pdf.schoolYear', { year: invoice.schoolYear }),
  ]
  if (!note)
    facts.push(t(invoice.kind === InvoiceKind.location ? 'billing.tab.rentals' : 'billing.tab.tuition'))
  if (note && invoice.corrects) {
    facts.push(t('billing.pdf.corrects', { number: invoice.corrects.number ?? '' }))
    if (invoice.reason) facts.push(t('billing.pdf.reason', { reason: invoice.reason }))
  }
  const mode = config.paymentModes?.find((m) => m.id === invoice.paymentMode)
  if (mode && !note) facts.push(t('billing.pdf.paymentMode', { mode: mode.label }))
  const body: Block[] = [
    { label: t('billing.col.line'), amount: t('billing.col.amount'), bold: true },
    { rule: true },
    ...lines.map((line) => ({
      label: `${line.pupil ? `${line.pupil.firstName} ${line.pupil.lastName} — ` : ''}${line.label}`,
      amount: euros(line.amount),
      detail: line.detail ?? undefined,
    })),
    { rule: true },
    {
      label: t(note ? 'billing.pdf.creditTotal' : 'billing.col.total'),
      amount: euros(invoice.total),
      bold: true,
    },
  ]
  if (!note) {
    if (balance.credited) body.push({ label: t('billing.col.credited'), amount: euros(-balance.credited) })
    body.push(
      { label: t('billing.col.paid'), amount: euros(balance.paid) },
      { label: t('billing.col.remaining'), amount: euros(Math.max(0, balance.remaining)), bold: true },
      { space: true },
      { heading: t('billing.schedule') },
      ...balance.schedule.map((i) => ({ label: date(i.dueOn), amount: euros(i.amount) })),
    )
  }
  const title = t(note ? 'billing.pdf.creditNoteTitle' : 'billing.pdf.invoiceTitle', {
    number: invoice.number!,
  })
  return pdfOf(framed(frame, title, facts, body))
}

/** A receipt: who paid how much, when, how, for which invoice. */
export function receiptPdf(
  frame: PdfFrame,
  payment: Pick<Payment, 'receiptNumber' | 'amount' | 'method' | 'receivedOn' | 'reference'>,
  invoiceNumber: string,
): Promise<Buffer> {
  const { t, config } = frame
  const facts = [
    t('billing.pdf.receiptText', {
      amount: euros(payment.amount),
      date: formatDate(payment.receivedOn, config.timezone),
      method: t(`billing.method.${payment.method}`),
      number: invoiceNumber,
    }),
  ]
  if (payment.reference) facts.push(t('billing.pdf.reference', { reference: payment.reference }))
  const body = [{ label: t('billing.pdf.received'), amount: euros(payment.amount), bold: true }]
  return pdfOf(framed(frame, t('billing.pdf.receiptTitle', { number: payment.receiptNumber }), facts, body))
}

/**
 * Another family document drawn like the invoices (the bulletin of evaluations): the same header
 * and addressee, its own body and closing line.
 */
export function documentPdf(
  frame: PdfFrame,
  title: string,
  facts: string[],
  body: Block[],
  closing: string,
): Promise<Buffer> {
  return pdfOf(framed(frame, title, facts, body, closing))
}
