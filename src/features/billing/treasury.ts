import { createHash } from 'node:crypto'
import { LockMode } from '@mikro-orm/core'
import { staffAccess } from '../../platform/auth/roles.ts'
import { audit } from '../../platform/audit/audit.ts'
import type { Em } from '../../platform/db/orm.ts'
import { Forbidden } from '../../platform/http/errors.ts'
import { zonedParts } from '../../platform/views/dates.ts'
import { Guardian } from '../family/entities.ts'
import {
  Invoice,
  InvoiceKind,
  InvoiceState,
  OnlinePayment,
  OnlinePaymentState,
  Payment,
  PaymentMethod,
  TreasuryLine,
} from './entities.ts'
import { type BillingContext, creditedOn, paidOn } from './invoices.ts'
import { Sequence, takeNumbers } from './numbering.ts'
import { compactReference, PayfipResult } from './payfip.ts'
import type { StatementLine } from './treasury-csv.ts'

/** Why a line of the statement is listed and not recorded. */
export const Unmatched = {
  unknown: 'unknown',
  recorded: 'recorded',
  duplicate: 'duplicate',
  aboveRemaining: 'aboveRemaining',
} as const
export type Unmatched = (typeof Unmatched)[keyof typeof Unmatched]

export interface MatchedLine extends StatementLine {
  identity: string
  invoiceId: number
  invoiceNumber: string
  familyId: number
  familyName: string
  remainingBefore: number
  remainingAfter: number
  /** The pending PayFiP payment this line confirms. */
  onlinePaymentId: number | null
}

export interface UnmatchedLine extends StatementLine {
  why: Unmatched
  invoiceNumber: string | null
  /** What remained on the invoice, for a line above it. */
  remaining: number | null
}

/**
 * A line's identity, kept unique once recorded: the treasury's own id of the operation when the
 * statement has one, else its reference, day and amount (two payments alike in all three on one
 * day would then be one: the treasury's id column tells them apart).
 */
export function identityOf(line: StatementLine): string {
  if (line.id) return `id:${line.id.slice(0, 90)}`
  const key = `${compactReference(line.reference)}|${line.date}|${line.amount}`
  return `h:${createHash('sha256').update(key).digest('hex')}`
}

/** The invoice number ("F2026-000123") and the attempt's refdet a reference names, if any. */
function referenced(reference: string): { number: string | null; refdet: string | null } {
  const found = /F(\d{4})(\d{6})(P\d{2,3})?/.exec(compactReference(reference))
  if (!found) return { number: null, refdet: null }
  return {
    number: `F${found[1]}-${found[2]}`,
    refdet: found[3] ? `F${found[1]}${found[2]}${found[3]}` : null,
  }
}

/**
 * Matches the statement's payments to the tenant's invoices, in the file's order: by invoice number
 * or PayFiP refdet, never above what remains (earlier lines of the file count), never a line already
 * recorded. A PayFiP payment waiting for its confirmation is confirmed by the line of its refdet, or
 * by a line of its invoice for the same amount.
 */
export async function matchStatement(em: Em, lines: StatementLine[]) {
  const refs = lines.map((l) => ({ line: l, ...referenced(l.reference), identity: identityOf(l) }))
  const numbers = [...new Set(refs.flatMap((r) => (r.number ? [r.number] : [])))]
  const invoices = numbers.length
    ? await em.find(Invoice, {
        number: { $in: numbers },
        state: InvoiceState.issued,
        kind: { $in: [InvoiceKind.cotisation, InvoiceKind.location] },
      })
    : []
  const ids = invoices.map((i) => i.id)
  const [credited, paid, attempts, known, guardians] = await Promise.all([
    creditedOn(em, ids),
    paidOn(em, ids),
    ids.length ? em.find(OnlinePayment, { invoice: { $in: ids } }, { orderBy: { id: 'asc' } }) : [],
    em.find(TreasuryLine, { identity: { $in: refs.map((r) => r.identity) } }, { fields: ['identity'] }),
    em.find(Guardian, { family: { $in: [...new Set(invoices.map((i) => i.family.id))] }, rank: 1 }),
  ])
  const byNumber = new Map(invoices.map((i) => [i.number!, i]))
  const remaining = new Map(
    invoices.map((i) => [i.id, i.total - (credited.get(i.id) ?? 0) - (paid.get(i.id) ?? 0)]),
  )
  const names = new Map(guardians.map((g) => [g.family.id, `${g.lastName} ${g.firstName}`]))
  const recorded = new Set(known.map((k) => k.identity))
  const seen = new Set<string>()
  const confirmed = new Set<number>()
  const matched: MatchedLine[] = []
  const unmatched: UnmatchedLine[] = []
  for (const { line, number, refdet, identity } of refs) {
    const invoice = number ? byNumber.get(number) : undefined
    const refuse = (why: Unmatched, left: number | null = null) =>
      unmatched.push({ ...line, why, invoiceNumber: invoice?.number ?? null, remaining: left })
    if (recorded.has(identity)) refuse(Unmatched.recorded)
    else if (seen.has(identity)) refuse(Unmatched.duplicate)
    else if (!invoice) refuse(Unmatched.unknown)
    else {
      const before = remaining.get(invoice.id)!
      if (line.amount > before) refuse(Unmatched.aboveRemaining, Math.max(0, before))
      else {
        const waiting = (a: OnlinePayment) =>
          a.invoice.id === invoice.id && a.state === OnlinePaymentState.pending && !confirmed.has(a.id)
        const attempt =
          attempts.find((a) => waiting(a) && a.refdet === refdet) ??
          attempts.find((a) => waiting(a) && a.result === PayfipResult.paid && a.amount === line.amount)
        if (attempt) confirmed.add(attempt.id)
        remaining.set(invoice.id, before - line.amount)
        matched.push({
          ...line,
          identity,
          invoiceId: invoice.id,
          invoiceNumber: invoice.number!,
          familyId: invoice.family.id,
          familyName: names.get(invoice.family.id) ?? '',
          remainingBefore: before,
          remainingAfter: before - line.amount,
          onlinePaymentId: attempt?.id ?? null,
        })
      }
    }
    seen.add(identity)
  }
  return { matched, unmatched }
}

function requireRecords(ctx: BillingContext) {
  if (!(staffAccess.records as readonly string[]).includes(ctx.account.role)) throw new Forbidden()
}

/** The preview of a statement: what would be recorded, and what would not and why. */
export async function previewStatement(ctx: BillingContext, lines: StatementLine[]) {
  requireRecords(ctx)
  return matchStatement(ctx.em, lines)
}

/**
 * Records the statement's matched payments in one transaction, as payments by the Trésor Public
 * with their receipts, each line's identity kept so that a second import records nothing again;
 * the PayFiP payments they confirm become confirmed. The invoices are locked before the lines are
 * matched again, so two imports of one file at once record it once.
 */
export async function recordStatement(
  ctx: BillingContext,
  lines: StatementLine[],
  fileName: string | null,
  now = new Date(),
) {
  requireRecords(ctx)
  return ctx.em.fork().transactional(async (tx) => {
    const first = await matchStatement(tx, lines)
    const ids = [...new Set(first.matched.map((m) => m.invoiceId))].sort((a, b) => a - b)
    if (ids.length)
      await tx.find(
        Invoice,
        { id: { $in: ids } },
        { lockMode: LockMode.PESSIMISTIC_WRITE, orderBy: { id: 'asc' } },
      )
    const { matched, unmatched } = await matchStatement(tx, lines)
    if (!matched.length) return { recorded: [], unmatched }
    const receipts = await takeNumbers(
      tx,
      Sequence.receipt,
      zonedParts(now, ctx.config.timezone).year,
      matched.length,
    )
    const attempts = await tx.find(OnlinePayment, {
      id: { $in: matched.flatMap((m) => (m.onlinePaymentId ? [m.onlinePaymentId] : [])) },
    })
    const recorded = matched.map((m, i) => {
      const payment = tx.create(Payment, {
        family: m.familyId,
        invoice: m.invoiceId,
        amount: m.amount,
        method: PaymentMethod.treasury,
        receivedOn: m.date,
        reference: m.reference.slice(0, 100),
        recordedBy: ctx.account.id,
        receiptNumber: receipts[i]!,
      })
      tx.create(TreasuryLine, {
        identity: m.identity,
        payment,
        reference: m.reference.slice(0, 255),
        debtor: m.debtor.slice(0, 255) || null,
        fileName: fileName?.slice(0, 255) || null,
      })
      const attempt = attempts.find((a) => a.id === m.onlinePaymentId)
      if (attempt) {
        attempt.state = OnlinePaymentState.confirmed
        attempt.payment = payment
      }
      return { ...m, payment }
    })
    await tx.flush()
    for (const r of recorded)
      audit(tx, ctx.account, {
        action: 'invoice.payment',
        subject: { type: 'invoice', id: r.invoiceId },
        details: {
          receipt: r.payment.receiptNumber,
          amount: r.amount,
          method: PaymentMethod.treasury,
          statementLine: r.line,
        },
      })
    return {
      recorded: recorded.map((r) => ({ ...r, receiptNumber: r.payment.receiptNumber })),
      unmatched,
    }
  })
}
