import { LockMode } from '@mikro-orm/core'
import { jsonArrayFrom } from 'kysely/helpers/postgres'
import { tenantDb } from '../../entities.ts'
import type { SignedInContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import { audit } from '../../platform/audit/audit.ts'
import type { Em } from '../../platform/db/orm.ts'
import type { JsonOf } from '../../platform/db/reads.ts'
import { type FieldErrors, refusals } from '../../platform/forms.ts'
import { Forbidden, NotFound } from '../../platform/http/errors.ts'
import { zonedParts } from '../../platform/views/dates.ts'
import { formatEuros } from '../../platform/views/money.ts'
import { Family, Guardian } from '../family/entities.ts'
import { type FamilyRef, tenantToday } from '../family/service.ts'
import { Pupil } from '../pupils/entities.ts'
import {
  Instalment,
  Invoice,
  InvoiceKind,
  InvoiceLine,
  InvoiceState,
  type LineKind,
  Payment,
  type PaymentMethod,
} from './entities.ts'
import { Sequence, takeNumbers } from './numbering.ts'

/** What the billing services need of a request: who acts, on which tenant's schema, in which timezone. */
export type BillingContext = Pick<SignedInContext, 'em' | 'config' | 'account' | 't'>

/** One already-priced line: the tariffs engine (or staff) decided the amount, in cents. */
export interface PricedLine {
  pupilId?: number | null
  label: string
  /** Category and bracket, the rented item's reference… as printed under the label. */
  detail?: string | null
  amount: number
  kind: LineKind
}

export interface DraftInvoice {
  familyId: number
  kind: typeof InvoiceKind.cotisation | typeof InvoiceKind.location
  schoolYear: string
  paymentMode?: string | null
  lines: PricedLine[]
  /** The schedule (échéancier); its amounts add up to the lines' total. */
  instalments: { dueOn: string; amount: number }[]
}

/** A billing rule broken by the caller (a programming error: pages check before they ask). */
export class BillingRefused extends Error {
  override name = 'BillingRefused'
}

function requireStaff(ctx: BillingContext, roles: readonly string[] = staffAccess.records) {
  if (!roles.includes(ctx.account.role)) throw new Forbidden()
}

const isCents = (n: number) => Number.isSafeInteger(n)

/**
 * Persists (no flush) a draft invoice from priced lines and its schedule, after checking that the
 * amounts are whole cents and that the schedule adds up to the total.
 */
export function createDraftInvoice(em: Em, draft: DraftInvoice): Invoice {
  if (!draft.lines.length) throw new BillingRefused('an invoice has at least one line')
  if (!draft.instalments.length) throw new BillingRefused('an invoice has at least one instalment')
  if (![...draft.lines, ...draft.instalments].every((l) => isCents(l.amount)))
    throw new BillingRefused('amounts are whole cents')
  const total = draft.lines.reduce((sum, l) => sum + l.amount, 0)
  const scheduled = draft.instalments.reduce((sum, i) => sum + i.amount, 0)
  if (total < 0) throw new BillingRefused('an invoice’s total is not negative')
  if (scheduled !== total) throw new BillingRefused(`the schedule adds up to ${scheduled}, not ${total}`)
  const invoice = em.create(Invoice, {
    family: em.getReference(Family, draft.familyId),
    kind: draft.kind,
    schoolYear: draft.schoolYear,
    paymentMode: draft.paymentMode ?? null,
    total,
  })
  draft.lines.forEach((line, position) => {
    em.create(InvoiceLine, {
      invoice,
      position,
      pupil: line.pupilId ? em.getReference(Pupil, line.pupilId) : null,
      label: line.label,
      detail: line.detail ?? null,
      amount: line.amount,
      kind: line.kind,
    })
  })
  for (const i of draft.instalments) em.create(Instalment, { invoice, dueOn: i.dueOn, amount: i.amount })
  return invoice
}

/** The year numbers are taken in: the calendar year of issue, in the tenant's timezone. */
function issueYear(ctx: BillingContext, now: Date): number {
  return zonedParts(now, ctx.config.timezone).year
}

/**
 * Issues drafts in one transaction: each gets the next number of the tenant's invoice sequence (in
 * id order) and its issue date, and never changes afterwards. Drafts already issued are refused.
 */
export async function issueInvoices(ctx: BillingContext, invoiceIds: number[], now = new Date()) {
  requireStaff(ctx)
  const ids = [...new Set(invoiceIds)].sort((a, b) => a - b)
  if (!ids.length) return []
  return ctx.em.fork().transactional(async (tx) => {
    const drafts = await tx.find(
      Invoice,
      { id: { $in: ids } },
      { lockMode: LockMode.PESSIMISTIC_WRITE, orderBy: { id: 'asc' } },
    )
    if (drafts.length !== ids.length) throw new NotFound()
    if (drafts.some((d) => d.state !== InvoiceState.draft || d.kind === InvoiceKind.avoir))
      throw new BillingRefused('only drafts are issued')
    const numbers = await takeNumbers(tx, Sequence.invoice, issueYear(ctx, now), drafts.length)
    drafts.forEach((draft, i) => {
      draft.state = InvoiceState.issued
      draft.number = numbers[i]!
      draft.issuedAt = now
      audit(tx, ctx.account, {
        action: 'invoice.issue',
        subject: { type: 'invoice', id: draft.id },
        details: { number: draft.number, total: draft.total },
      })
    })
    return drafts.map((d) => ({ id: d.id, number: d.number! }))
  })
}

/** Refuses any change to an issued invoice: its lines, schedule and total are what was sent. */
export async function updateDraft(
  ctx: BillingContext,
  invoiceId: number,
  draft: Omit<DraftInvoice, 'familyId'>,
) {
  requireStaff(ctx)
  const em = ctx.em.fork()
  const invoice = await em.findOne(Invoice, invoiceId, { populate: ['lines', 'instalments'] })
  if (!invoice) throw new NotFound()
  if (invoice.state !== InvoiceState.draft) throw new BillingRefused('an issued invoice never changes')
  em.remove([...invoice.lines, ...invoice.instalments, invoice])
  const replaced = createDraftInvoice(em, { ...draft, familyId: invoice.family.id })
  await em.flush()
  return replaced
}

/** What has already been credited on each of these invoices. */
export async function creditedOn(em: Em, invoiceIds: number[]): Promise<Map<number, number>> {
  const notes = await em.find(
    Invoice,
    { corrects: { $in: invoiceIds }, kind: InvoiceKind.avoir },
    { fields: ['total', 'corrects'] },
  )
  const credited = new Map<number, number>()
  for (const n of notes) credited.set(n.corrects!.id, (credited.get(n.corrects!.id) ?? 0) + n.total)
  return credited
}

/** What has been paid on each of these invoices: a rejected direct debit paid nothing. */
export async function paidOn(em: Em, invoiceIds: number[]): Promise<Map<number, number>> {
  const payments = await em.find(
    Payment,
    { invoice: { $in: invoiceIds }, rejectedOn: null },
    { fields: ['amount', 'invoice'] },
  )
  const paid = new Map<number, number>()
  for (const p of payments) paid.set(p.invoice.id, (paid.get(p.invoice.id) ?? 0) + p.amount)
  return paid
}

/**
 * Issues a credit note (avoir) correcting an issued invoice: all of it ('full') or the given lines,
 * never more than is left of it once earlier credit notes are counted. Numbered in its own sequence.
 */
export async function creditNote(
  ctx: BillingContext,
  invoiceId: number,
  lines: PricedLine[] | 'full',
  reason: string,
  now = new Date(),
) {
  requireStaff(ctx)
  return ctx.em.fork().transactional(async (tx) => {
    const invoice = await tx.findOne(Invoice, invoiceId, {
      populate: ['lines'],
      lockMode: LockMode.PESSIMISTIC_WRITE,
    })
    if (!invoice) throw new NotFound()
    if (invoice.state !== InvoiceState.issued || invoice.kind === InvoiceKind.avoir)
      throw new BillingRefused('only an issued invoice is credited')
    const left = invoice.total - ((await creditedOn(tx, [invoice.id])).get(invoice.id) ?? 0)
    const credited: PricedLine[] =
      lines === 'full'
        ? invoice.lines.getItems().map((l) => ({
            pupilId: l.pupil?.id ?? null,
            label: l.label,
            detail: l.detail,
            amount: l.amount,
            kind: l.kind,
          }))
        : lines
    const total = credited.reduce((sum, l) => sum + l.amount, 0)
    if (!credited.length || !credited.every((l) => isCents(l.amount)) || total <= 0)
      throw new BillingRefused('a credit note credits a positive amount')
    if (total > left) throw new BillingRefused(`only ${left} cents are left to credit`)
    if (!reason.trim()) throw new BillingRefused('a credit note says why')
    const [number] = await takeNumbers(tx, Sequence.creditNote, issueYear(ctx, now), 1)
    const note = tx.create(Invoice, {
      family: invoice.family,
      kind: InvoiceKind.avoir,
      schoolYear: invoice.schoolYear,
      state: InvoiceState.issued,
      number: number!,
      issuedAt: now,
      paymentMode: invoice.paymentMode,
      total,
      corrects: invoice,
      reason: reason.trim(),
    })
    credited.forEach((line, position) => {
      tx.create(InvoiceLine, {
        invoice: note,
        position,
        pupil: line.pupilId ? tx.getReference(Pupil, line.pupilId) : null,
        label: line.label,
        detail: line.detail ?? null,
        amount: line.amount,
        kind: line.kind,
      })
    })
    await tx.flush()
    audit(tx, ctx.account, {
      action: 'invoice.credit',
      subject: { type: 'invoice', id: invoice.id },
      details: { number: note.number, total, reason: note.reason },
    })
    return { id: note.id, number: note.number! }
  })
}

export interface PaymentInput {
  invoiceId: number
  instalmentId?: number | null
  amount: number
  method: PaymentMethod
  receivedOn: string
  reference?: string | null
}

/**
 * Records money received against an issued invoice (or one of its instalments) with its receipt's
 * number. A payment above what remains is refused beside the amount, with what remains.
 */
export async function recordPayment(
  ctx: BillingContext,
  input: PaymentInput,
  now = new Date(),
): Promise<{ errors: FieldErrors } | { errors: undefined; payment: { id: number; receiptNumber: string } }> {
  requireStaff(ctx)
  return ctx.em.fork().transactional(async (tx) => {
    const invoice = await tx.findOne(Invoice, input.invoiceId, {
      populate: ['instalments'],
      lockMode: LockMode.PESSIMISTIC_WRITE,
    })
    if (!invoice || invoice.state !== InvoiceState.issued || invoice.kind === InvoiceKind.avoir)
      throw new NotFound()
    const errors: FieldErrors = {}
    const instalment = input.instalmentId
      ? invoice.instalments.getItems().find((i) => i.id === input.instalmentId)
      : undefined
    if (input.instalmentId && !instalment) errors.instalment = ctx.t('billing.error.instalment')
    const remaining =
      invoice.total -
      ((await creditedOn(tx, [invoice.id])).get(invoice.id) ?? 0) -
      ((await paidOn(tx, [invoice.id])).get(invoice.id) ?? 0)
    if (!isCents(input.amount) || input.amount <= 0) errors.amount = ctx.t('billing.error.amount')
    else if (input.amount > remaining)
      errors.amount = ctx.t('billing.error.aboveRemaining', { remaining: formatEuros(remaining) })
    const failed = refusals(errors)
    if (failed) return { errors: failed }
    const [receiptNumber] = await takeNumbers(tx, Sequence.receipt, issueYear(ctx, now), 1)
    const payment = tx.create(Payment, {
      family: invoice.family,
      invoice,
      instalment: instalment ?? null,
      amount: input.amount,
      method: input.method,
      receivedOn: input.receivedOn,
      reference: input.reference?.trim() || null,
      recordedBy: ctx.account.id,
      receiptNumber: receiptNumber!,
    })
    await tx.flush()
    audit(tx, ctx.account, {
      action: 'invoice.payment',
      subject: { type: 'invoice', id: invoice.id },
      details: { receipt: payment.receiptNumber, amount: payment.amount, method: payment.method },
    })
    return { errors: undefined, payment: { id: payment.id, receiptNumber: payment.receiptNumber } }
  })
}

/** À payer, partiellement payée, payée, en retard. */
export const InvoiceStatus = { toPay: 'toPay', partial: 'partial', paid: 'paid', late: 'late' } as const
export type InvoiceStatus = (typeof InvoiceStatus)[keyof typeof InvoiceStatus]

export interface InvoiceBalance {
  due: number
  paid: number
  credited: number
  remaining: number
  status: InvoiceStatus
  /** The schedule with what is left of each instalment once payments and credits cover the earliest. */
  schedule: { id: number; dueOn: string; amount: number; left: number; late: boolean }[]
}

/**
 * An invoice's balance on a day. Payments and credit notes cover the instalments in date order (a
 * family is never late on an instalment its money already covers); an instalment past due with
 * something left makes the invoice late.
 */
export function balanceOf(
  invoice: { total: number },
  instalments: { id: number; dueOn: string; amount: number }[],
  paid: number,
  credited: number,
  today: string,
): InvoiceBalance {
  const due = invoice.total - credited
  const remaining = due - paid
  let cover = paid + credited
  const schedule = [...instalments]
    .sort((a, b) => a.dueOn.localeCompare(b.dueOn))
    .map((i) => {
      const covered = Math.min(i.amount, Math.max(0, cover))
      cover -= covered
      const left = i.amount - covered
      return { id: i.id, dueOn: i.dueOn, amount: i.amount, left, late: left > 0 && i.dueOn < today }
    })
  const status =
    remaining <= 0
      ? InvoiceStatus.paid
      : schedule.some((i) => i.late)
        ? InvoiceStatus.late
        : paid > 0
          ? InvoiceStatus.partial
          : InvoiceStatus.toPay
  return { due, paid, credited, remaining, status, schedule }
}

const dateOf = (value: Date | string) =>
  typeof value === 'string' ? value.slice(0, 10) : value.toISOString().slice(0, 10)

/** The family a family account acts for, or 404 (an account of no guardian acts for none). */
async function familyOf(ctx: BillingContext): Promise<number> {
  const guardian = await ctx.em.findOne(Guardian, { account: ctx.account.id }, { fields: ['family'] })
  if (!guardian) throw new NotFound()
  return guardian.family.id
}

/** One issued invoice or credit note, with its lines, schedule, payments and balance. */
async function describe(em: Em, invoices: Invoice[], today: string) {
  const ids = invoices.map((i) => i.id)
  const [payments, notes] = await Promise.all([
    em.find(Payment, { invoice: { $in: ids } }, { orderBy: { receivedOn: 'asc', id: 'asc' } }),
    em.find(Invoice, { corrects: { $in: ids }, kind: InvoiceKind.avoir }, { orderBy: { id: 'asc' } }),
  ])
  return invoices.map((invoice) => {
    const paidFor = payments.filter((p) => p.invoice.id === invoice.id)
    const creditNotes = notes.filter((n) => n.corrects?.id === invoice.id)
    return {
      invoice,
      lines: invoice.lines.isInitialized() ? invoice.lines.getItems() : [],
      payments: paidFor,
      creditNotes,
      balance: balanceOf(
        invoice,
        invoice.instalments.getItems().map((i) => ({ id: i.id, dueOn: dateOf(i.dueOn), amount: i.amount })),
        paidFor.reduce((total, p) => total + (p.rejectedOn ? 0 : p.amount), 0),
        creditNotes.reduce((total, n) => total + n.total, 0),
        today,
      ),
    }
  })
}
export type DescribedInvoice = Awaited<ReturnType<typeof describe>>[number]

/**
 * A family's issued invoices of one kind (cotisations or locations), newest first, each with its
 * credit notes, payments (receipts) and balance. Drafts are staff's business and never shown.
 */
export async function familyInvoices(ctx: BillingContext, kind: DraftInvoice['kind'], now?: Date) {
  const familyId = await familyOf(ctx)
  const invoices = await ctx.em.find(
    Invoice,
    { family: familyId, kind, state: InvoiceState.issued },
    { populate: ['lines', 'lines.pupil', 'instalments'], orderBy: { issuedAt: 'desc', id: 'desc' } },
  )
  return describe(ctx.em, invoices, tenantToday(ctx.config, now))
}

/**
 * A family's issued invoices with what the balance needs (schedule, paid, credited), as a fragment of
 * a page's one read: Accueil says what is due without statements of its own.
 */
export function openInvoicesOf(familyId: FamilyRef) {
  return jsonArrayFrom(
    tenantDb
      .selectFrom('invoice as i')
      .where('i.family_id', '=', familyId)
      .where('i.state', '=', InvoiceState.issued)
      .where('i.kind', '!=', InvoiceKind.avoir)
      .select((eb) => [
        'i.total',
        eb.fn
          .coalesce(
            eb
              .selectFrom('payment as p')
              .whereRef('p.invoice_id', '=', 'i.id')
              .where('p.rejected_on', 'is', null)
              .select((sub) => sub.fn.sum<number>('p.amount').as('s')),
            eb.lit(0),
          )
          .as('paid'),
        eb.fn
          .coalesce(
            eb
              .selectFrom('invoice as n')
              .whereRef('n.corrects_id', '=', 'i.id')
              .where('n.kind', '=', InvoiceKind.avoir)
              .select((sub) => sub.fn.sum<number>('n.total').as('s')),
            eb.lit(0),
          )
          .as('credited'),
        jsonArrayFrom(
          eb
            .selectFrom('instalment as s')
            .whereRef('s.invoice_id', '=', 'i.id')
            .select(['s.id', 's.due_on as dueOn', 's.amount']),
        ).as('instalments'),
      ]),
  )
}

export type OpenInvoice = JsonOf<typeof openInvoicesOf>

/** What a family has to pay across its invoices: the total remaining, what is late, the next due date. */
export function dueOf(invoices: OpenInvoice[], today: string) {
  if (!invoices.length) return undefined
  const balances = invoices.map((i) =>
    balanceOf(
      i,
      i.instalments.map((s) => ({ ...s, dueOn: dateOf(s.dueOn) })),
      Number(i.paid),
      Number(i.credited),
      today,
    ),
  )
  const open = balances.flatMap((b) => b.schedule.filter((i) => i.left > 0))
  const late = open.filter((i) => i.late).reduce((sum, i) => sum + i.left, 0)
  const next = open.filter((i) => !i.late).sort((a, b) => a.dueOn.localeCompare(b.dueOn))[0]
  const remaining = balances.reduce((sum, b) => sum + Math.max(0, b.remaining), 0)
  return { remaining, late, next: next ? { dueOn: next.dueOn, amount: next.left } : undefined }
}

/** An issued invoice or credit note of the signed-in family, for its PDF; another's is a 404. */
export async function familyDocument(ctx: BillingContext, invoiceId: number, now?: Date) {
  const familyId = await familyOf(ctx)
  const invoice = await ctx.em.findOne(
    Invoice,
    { id: invoiceId, family: familyId, state: InvoiceState.issued },
    { populate: ['lines', 'lines.pupil', 'instalments', 'corrects', 'family'] },
  )
  if (!invoice) throw new NotFound()
  const [described] = await describe(ctx.em, [invoice], tenantToday(ctx.config, now))
  return described!
}

/** A payment of the signed-in family, for its receipt; another's is a 404. */
export async function familyReceipt(ctx: BillingContext, paymentId: number) {
  const familyId = await familyOf(ctx)
  const payment = await ctx.em.findOne(
    Payment,
    { id: paymentId, family: familyId },
    { populate: ['invoice', 'instalment'] },
  )
  if (!payment) throw new NotFound()
  return payment
}

/** The guardian the documents are addressed to: responsable 1. */
export async function addressee(em: Em, familyId: number) {
  return em.findOne(Guardian, { family: familyId, rank: 1 })
}

/** Any invoice or credit note of the tenant, for staff (drafts included). */
export async function staffInvoice(ctx: BillingContext, invoiceId: number, now?: Date) {
  requireStaff(ctx, staffAccess.read)
  const invoice = await ctx.em.findOne(Invoice, invoiceId, {
    populate: ['lines', 'lines.pupil', 'instalments', 'corrects'],
  })
  if (!invoice) throw new NotFound()
  const [described] = await describe(ctx.em, [invoice], tenantToday(ctx.config, now))
  return { ...described!, guardian: await addressee(ctx.em, invoice.family.id) }
}

/** Staff's list: the issued invoices of a kind, newest first, optionally only those in one state. */
export async function invoiceList(
  ctx: BillingContext,
  filters: { kind: InvoiceKind; status?: InvoiceStatus },
  now?: Date,
) {
  requireStaff(ctx, staffAccess.read)
  const invoices = await ctx.em.find(
    Invoice,
    { kind: filters.kind, state: InvoiceState.issued },
    { populate: ['instalments'], orderBy: { issuedAt: 'desc', id: 'desc' } },
  )
  const described = invoices.length ? await describe(ctx.em, invoices, tenantToday(ctx.config, now)) : []
  const shown = described.filter((d) => !filters.status || d.balance.status === filters.status)
  const guardians = await ctx.em.find(Guardian, {
    family: { $in: [...new Set(shown.map((d) => d.invoice.family.id))] },
    rank: 1,
  })
  const names = new Map(guardians.map((g) => [g.family.id, `${g.lastName} ${g.firstName}`]))
  return shown.map((d) => ({ ...d, familyName: names.get(d.invoice.family.id) ?? '' }))
}
