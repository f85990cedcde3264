import { LockMode } from '@mikro-orm/core'
import { type Expression, type Kysely, sql } from 'kysely'
import { jsonArrayFrom, jsonObjectFrom } from 'kysely/helpers/postgres'
import { type TenantDb, tenantDb } from '../../entities.ts'
import type { SignedInContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import { audit, auditMany } from '../../platform/audit/audit.ts'
import type { Em } from '../../platform/db/orm.ts'
import { type JsonOf, prepare } from '../../platform/db/reads.ts'
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
import { Rental } from './rental-entities.ts'

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
  /** The rental a line bills (its year or its deposit). */
  rentalId?: number | null
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

/** A draft's total, once its amounts are checked: whole cents, a schedule that adds up to the total. */
function checkedTotal(draft: DraftInvoice): number {
  if (!draft.lines.length) throw new BillingRefused('an invoice has at least one line')
  if (!draft.instalments.length) throw new BillingRefused('an invoice has at least one instalment')
  if (![...draft.lines, ...draft.instalments].every((l) => isCents(l.amount)))
    throw new BillingRefused('amounts are whole cents')
  const total = draft.lines.reduce((sum, l) => sum + l.amount, 0)
  const scheduled = draft.instalments.reduce((sum, i) => sum + i.amount, 0)
  if (total < 0) throw new BillingRefused('an invoice’s total is not negative')
  if (scheduled !== total) throw new BillingRefused(`the schedule adds up to ${scheduled}, not ${total}`)
  return total
}

/**
 * Persists (no flush) a draft invoice from priced lines and its schedule, after checking that the
 * amounts are whole cents and that the schedule adds up to the total.
 */
export function createDraftInvoice(em: Em, draft: DraftInvoice): Invoice {
  const total = checkedTotal(draft)
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
      rental: line.rentalId ? em.getReference(Rental, line.rentalId) : null,
    })
  })
  for (const i of draft.instalments) em.create(Instalment, { invoice, dueOn: i.dueOn, amount: i.amount })
  return invoice
}

/**
 * Writes many drafts, checked as createDraftInvoice checks one, inside the caller's transaction with
 * one statement per table, and returns their ids in order. The year's generation writes thousands of
 * invoices, ten thousand lines and more instalments: the unit of work would hold and compare every
 * one of them and send them a few hundred at a time (load-tests/RESULTS.md, billing). It writes the
 * columns createDraftInvoice writes: a column added to one is added to the other.
 */
export async function insertDraftInvoices(tx: Em, drafts: DraftInvoice[]): Promise<number[]> {
  if (!tx.isInTransaction()) throw new Error('drafts are inserted inside the caller’s transaction')
  if (!drafts.length) return []
  const totals = drafts.map(checkedTotal)
  const schema = tx.schema!
  const db = tx.getKysely<TenantDb>()
  // the ids first, from the table's own sequence: lines and instalments then name their invoice
  // without relying on the order in which an insert returns its rows
  const { rows } = await sql<{
    id: number
  }>`select nextval(pg_get_serial_sequence(${`"${schema}".invoice`}, 'id'))::int as id
    from generate_series(1, cast(${drafts.length} as int))`.execute(db)
  const ids = rows.map((r) => r.id)
  const now = new Date().toISOString()
  const table = (name: string) => sql.table(`${schema}.${name}`)
  await sql`insert into ${table('invoice')} (id, created_at, updated_at, family_id, kind, school_year, payment_mode, total)
    select v.id, ${now}::timestamptz, ${now}::timestamptz, v.family_id, v.kind, v.school_year, v.payment_mode, v.total
    from unnest(cast(${ids} as int[]), cast(${drafts.map((d) => d.familyId)} as int[]),
      cast(${drafts.map((d) => d.kind)} as text[]), cast(${drafts.map((d) => d.schoolYear)} as text[]),
      cast(${drafts.map((d) => d.paymentMode ?? null)} as text[]), cast(${totals} as int[]))
      as v(id, family_id, kind, school_year, payment_mode, total)`.execute(db)
  const lines = drafts.flatMap((d, i) =>
    d.lines.map((line, position) => ({ invoice: ids[i]!, position, line })),
  )
  await sql`insert into ${table('invoice_line')} (created_at, updated_at, invoice_id, position, pupil_id, label, detail, amount, kind, rental_id)
    select ${now}::timestamptz, ${now}::timestamptz, v.invoice_id, v.position, v.pupil_id, v.label, v.detail, v.amount, v.kind, v.rental_id
    from unnest(cast(${lines.map((l) => l.invoice)} as int[]), cast(${lines.map((l) => l.position)} as int[]),
      cast(${lines.map((l) => l.line.pupilId || null)} as int[]), cast(${lines.map((l) => l.line.label)} as text[]),
      cast(${lines.map((l) => l.line.detail ?? null)} as text[]), cast(${lines.map((l) => l.line.amount)} as int[]),
      cast(${lines.map((l) => l.line.kind)} as text[]), cast(${lines.map((l) => l.line.rentalId || null)} as int[]))
      as v(invoice_id, position, pupil_id, label, detail, amount, kind, rental_id)`.execute(db)
  const instalments = drafts.flatMap((d, i) =>
    d.instalments.map((instalment) => ({ invoice: ids[i]!, instalment })),
  )
  await sql`insert into ${table('instalment')} (created_at, updated_at, invoice_id, due_on, amount)
    select ${now}::timestamptz, ${now}::timestamptz, v.invoice_id, v.due_on, v.amount
    from unnest(cast(${instalments.map((i) => i.invoice)} as int[]),
      cast(${instalments.map((i) => i.instalment.dueOn)} as date[]), cast(${instalments.map((i) => i.instalment.amount)} as int[]))
      as v(invoice_id, due_on, amount)`.execute(db)
  return ids
}

/** The year numbers are taken in: the calendar year of issue, in the tenant's timezone. */
function issueYear(ctx: BillingContext, now: Date): number {
  return zonedParts(now, ctx.config.timezone).year
}

/**
 * Issues drafts in one transaction: each gets the next number of the tenant's invoice sequence (in
 * id order) and its issue date, and never changes afterwards. Drafts already issued are refused.
 * One statement per step whatever the number of drafts: the year's generation issues thousands, which
 * the unit of work would update one by one (a unique column is never updated in a batch).
 */
export async function issueInvoices(ctx: BillingContext, invoiceIds: number[], now = new Date()) {
  requireStaff(ctx)
  const ids = [...new Set(invoiceIds)].sort((a, b) => a - b)
  if (!ids.length) return []
  return ctx.em.fork().transactional(async (tx) => {
    const db = tx.getKysely<TenantDb>()
    const drafts = await db
      .withSchema(tx.schema!)
      .selectFrom('invoice')
      .select(['id', 'state', 'kind', 'total'])
      .where(sql<boolean>`id = any(cast(${ids} as int[]))`)
      .orderBy('id')
      .forUpdate()
      .execute()
    if (drafts.length !== ids.length) throw new NotFound()
    if (drafts.some((d) => d.state !== InvoiceState.draft || d.kind === InvoiceKind.avoir))
      throw new BillingRefused('only drafts are issued')
    const numbers = await takeNumbers(tx, Sequence.invoice, issueYear(ctx, now), drafts.length)
    const issuedAt = now.toISOString()
    await sql`update ${sql.table(`${tx.schema}.invoice`)} as i
      set state = ${InvoiceState.issued}, number = v.number, issued_at = ${issuedAt}::timestamptz, updated_at = ${issuedAt}::timestamptz
      from unnest(cast(${ids} as int[]), cast(${numbers} as text[])) as v(id, number)
      where i.id = v.id`.execute(db)
    await auditMany(
      tx,
      ctx.account,
      drafts.map((draft, i) => ({
        action: 'invoice.issue',
        subject: { type: 'invoice', id: draft.id },
        details: { number: numbers[i]!, total: draft.total },
      })),
    )
    return drafts.map((d, i) => ({ id: d.id, number: numbers[i]! }))
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

/** What an invoice's or credit note's PDF prints of it: a described invoice, or a family's one read. */
export interface InvoiceDocument {
  invoice: {
    kind: InvoiceKind
    number?: string | null
    issuedAt?: Date | string | null
    schoolYear: string
    paymentMode?: string | null
    total: number
    reason?: string | null
    corrects?: { number?: string | null } | null
  }
  lines: {
    label: string
    detail?: string | null
    amount: number
    pupil?: { firstName: string; lastName: string } | null
  }[]
  balance: Pick<InvoiceBalance, 'credited' | 'paid' | 'remaining' | 'schedule'>
}

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

/** What an invoice has received, in cents: a direct debit the bank returned paid nothing. */
export const receivedBy = (invoiceId: Expression<number>) =>
  sql<number>`cast(coalesce((${tenantDb
    .selectFrom('payment as p')
    .where('p.invoice_id', '=', invoiceId)
    .where('p.rejected_on', 'is', null)
    .select((sub) => sub.fn.sum<number>('p.amount').as('s'))}), 0) as integer)`

/** What the credit notes correcting an invoice take off it, in cents. */
export const creditedTo = (invoiceId: Expression<number>) =>
  sql<number>`cast(coalesce((${tenantDb
    .selectFrom('invoice as n')
    .where('n.corrects_id', '=', invoiceId)
    .where('n.kind', '=', InvoiceKind.avoir)
    .select((sub) => sub.fn.sum<number>('n.total').as('s'))}), 0) as integer)`

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
        receivedBy(eb.ref('i.id')).as('paid'),
        creditedTo(eb.ref('i.id')).as('credited'),
        // paid on PayFiP, not yet confirmed by the treasury: not money received, not late either
        eb.fn
          .coalesce(
            eb
              .selectFrom('online_payment as o')
              .whereRef('o.invoice_id', '=', 'i.id')
              .where('o.state', '=', 'pending')
              .where('o.result', '=', 'P')
              .select((sub) => sub.fn.sum<number>('o.amount').as('s')),
            eb.lit(0),
          )
          .as('awaiting'),
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

/**
 * What a family has to pay across its invoices: the total remaining, what is late, the next due
 * date, and what it paid online that the treasury has not confirmed yet (still owed, never late).
 */
export function dueOf(invoices: OpenInvoice[], today: string) {
  if (!invoices.length) return undefined
  const balances = invoices.map((i) => {
    const instalments = i.instalments.map((s) => ({ ...s, dueOn: dateOf(s.dueOn) }))
    const owed = balanceOf(i, instalments, Number(i.paid), Number(i.credited), today)
    const awaiting = Math.min(Number(i.awaiting), Math.max(0, owed.remaining))
    // the schedule as it stands once the money on its way arrives
    const covered = balanceOf(i, instalments, Number(i.paid) + awaiting, Number(i.credited), today)
    return { remaining: owed.remaining, awaiting, schedule: covered.schedule }
  })
  const open = balances.flatMap((b) => b.schedule.filter((i) => i.left > 0))
  const late = open.filter((i) => i.late).reduce((sum, i) => sum + i.left, 0)
  const next = open.filter((i) => !i.late).sort((a, b) => a.dueOn.localeCompare(b.dueOn))[0]
  const remaining = balances.reduce((sum, b) => sum + Math.max(0, b.remaining), 0)
  const awaiting = balances.reduce((sum, b) => sum + b.awaiting, 0)
  return { remaining, late, awaiting, next: next ? { dueOn: next.dueOn, amount: next.left } : undefined }
}

/** Responsable 1 of an invoice's family, as a document's addressee reads it. */
const addresseeOf = (familyId: Expression<number>) =>
  jsonObjectFrom(
    tenantDb
      .selectFrom('guardian as a')
      .where('a.family_id', '=', familyId)
      .where('a.rank', '=', 1)
      .select(['a.civility', 'a.first_name as firstName', 'a.last_name as lastName', 'a.address'])
      .select(['a.postal_code as postalCode', 'a.city']),
  )

/**
 * An issued invoice or credit note of the family the account acts for, with everything its PDF
 * prints, in one statement: a duplicate is downloaded by many families at once (load-tests/).
 */
const invoiceDocumentRead = prepare((db: Kysely<TenantDb>, p: { invoiceId: number; accountId: number }) =>
  db
    .selectFrom('invoice as i')
    .innerJoin('guardian as me', 'me.family_id', 'i.family_id')
    .leftJoin('invoice as c', 'c.id', 'i.corrects_id')
    .where('me.account_id', '=', p.accountId)
    .where('i.id', '=', p.invoiceId)
    .where('i.state', '=', InvoiceState.issued)
    .select(['i.id', 'i.kind', 'i.number', 'i.issued_at as issuedAt', 'i.school_year as schoolYear'])
    .select(['i.payment_mode as paymentMode', 'i.total', 'i.reason', 'c.number as correctsNumber'])
    .select((eb) => [
      jsonArrayFrom(
        eb
          .selectFrom('invoice_line as l')
          .leftJoin('pupil as u', 'u.id', 'l.pupil_id')
          .whereRef('l.invoice_id', '=', 'i.id')
          .select(['l.label', 'l.detail', 'l.amount', 'u.first_name as firstName', 'u.last_name as lastName'])
          .orderBy('l.position'),
      ).as('lines'),
      jsonArrayFrom(
        eb
          .selectFrom('instalment as s')
          .whereRef('s.invoice_id', '=', 'i.id')
          .select(['s.id', 's.due_on as dueOn', 's.amount']),
      ).as('instalments'),
      receivedBy(eb.ref('i.id')).as('paid'),
      creditedTo(eb.ref('i.id')).as('credited'),
      addresseeOf(eb.ref('i.family_id')).as('addressee'),
    ]),
)

/** An issued invoice or credit note of the signed-in family, for its PDF; another's is a 404. */
export async function familyInvoiceDocument(
  ctx: BillingContext & Pick<SignedInContext, 'db'>,
  invoiceId: number,
  now?: Date,
) {
  const row = await invoiceDocumentRead.first(ctx.db, { invoiceId, accountId: ctx.account.id })
  if (!row) throw new NotFound()
  const document: InvoiceDocument = {
    invoice: { ...row, corrects: row.correctsNumber === null ? null : { number: row.correctsNumber } },
    lines: row.lines.map((l) => ({
      ...l,
      pupil: l.firstName === null ? null : { firstName: l.firstName, lastName: l.lastName ?? '' },
    })),
    balance: balanceOf(
      row,
      row.instalments.map((s) => ({ ...s, dueOn: dateOf(s.dueOn) })),
      Number(row.paid),
      Number(row.credited),
      tenantToday(ctx.config, now),
    ),
  }
  return { id: row.id, document, addressee: row.addressee }
}

/** A payment of the family the account acts for, with what its receipt prints, in one statement. */
const receiptDocumentRead = prepare((db: Kysely<TenantDb>, p: { paymentId: number; accountId: number }) =>
  db
    .selectFrom('payment as m')
    .innerJoin('guardian as me', 'me.family_id', 'm.family_id')
    .innerJoin('invoice as i', 'i.id', 'm.invoice_id')
    .where('me.account_id', '=', p.accountId)
    .where('m.id', '=', p.paymentId)
    .select(['m.receipt_number as receiptNumber', 'm.amount', 'm.method', 'm.received_on as receivedOn'])
    .select(['m.reference', 'i.number as invoiceNumber'])
    .select((eb) => addresseeOf(eb.ref('m.family_id')).as('addressee')),
)

/** A payment of the signed-in family, for its receipt; another's is a 404. */
export async function familyReceiptDocument(
  ctx: BillingContext & Pick<SignedInContext, 'db'>,
  paymentId: number,
) {
  const row = await receiptDocumentRead.first(ctx.db, { paymentId, accountId: ctx.account.id })
  if (!row) throw new NotFound()
  return row
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
