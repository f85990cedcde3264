import { LockMode } from '@mikro-orm/core'
import { staffAccess } from '../../platform/auth/roles.ts'
import { audit } from '../../platform/audit/audit.ts'
import type { Em } from '../../platform/db/orm.ts'
import { type Checked, type FieldErrors, refusals } from '../../platform/forms.ts'
import { Forbidden, NotFound } from '../../platform/http/errors.ts'
import type { TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import { zonedParts } from '../../platform/views/dates.ts'
import type { Translate } from '../../platform/views/i18n.ts'
import { Guardian } from '../family/entities.ts'
import { tenantToday } from '../family/service.ts'
import {
  Debit,
  DebitBatch,
  Instalment,
  Invoice,
  InvoiceKind,
  InvoiceState,
  MandateState,
  Payment,
  SepaMandate,
  SequenceType,
} from './entities.ts'
import { openIban, openText, sealText } from './iban-vault.ts'
import { type BillingContext, balanceOf, creditedOn, paidOn } from './invoices.ts'
import { Sequence, takeNumbers } from './numbering.ts'
import { awaitingConfirmation } from './payfip.ts'
import { type Creditor, painXml } from './pain008.ts'

/** The R-transaction reasons a bank gives for a returned direct debit (ISO 20022 codes). */
export const rejectionReasons = [
  'AC01',
  'AC04',
  'AC06',
  'AG01',
  'AM04',
  'AM05',
  'MD01',
  'MD02',
  'MD06',
  'MD07',
  'MS02',
  'MS03',
  'RC01',
  'SL01',
] as const
export type RejectionReason = (typeof rejectionReasons)[number]

function requireRole(ctx: BillingContext, roles: readonly string[]) {
  if (!roles.includes(ctx.account.role)) throw new Forbidden()
}

/** "2026-11" → its first day and the first day of the next month. */
function monthBounds(month: string): [string, string] {
  const [year, m] = month.split('-').map(Number) as [number, number]
  const next = m === 12 ? `${year + 1}-01` : `${year}-${String(m + 1).padStart(2, '0')}`
  return [`${month}-01`, `${next}-01`]
}

const dateOf = (value: Date | string) =>
  typeof value === 'string' ? value.slice(0, 10) : value.toISOString().slice(0, 10)

/** The day after `today`. */
function nextDay(today: string): string {
  return new Date(Date.parse(`${today}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10)
}

/** The tenant's payment modes of kind directDebit. */
const directDebitModes = (config: TenantConfig) =>
  (config.paymentModes ?? []).filter((m) => m.kind === 'directDebit').map((m) => m.id)

/** Each family's name as its addressee (responsable 1) reads it: "MARTIN Claire". */
async function familyNames(em: Em, familyIds: number[]) {
  const guardians = familyIds.length
    ? await em.find(
        Guardian,
        { family: { $in: familyIds }, rank: 1 },
        { fields: ['family', 'lastName', 'firstName'] },
      )
    : []
  return new Map(guardians.map((g) => [g.family.id, `${g.lastName} ${g.firstName}`]))
}

export interface DueDebit {
  instalmentId: number
  invoice: Invoice
  familyId: number
  familyName: string
  dueOn: string
  /** What is left of the instalment, in cents. */
  amount: number
  rank: number
  count: number
  mandate: SepaMandate | undefined
  sequenceType: SequenceType
}

/**
 * The instalments due in a month on issued invoices paid by direct debit, with what is left of each
 * (payments and credit notes cover the earliest first), the family's active mandate, if any, and
 * its sequence: FRST until a debit under the mandate has been collected and not returned.
 */
async function dueInMonth(em: Em, config: TenantConfig, month: string, lock = false): Promise<DueDebit[]> {
  const modes = directDebitModes(config)
  if (!modes.length) return []
  const [from, to] = monthBounds(month)
  const due = await em.find(
    Instalment,
    {
      dueOn: { $gte: from, $lt: to },
      invoice: { state: InvoiceState.issued, kind: { $ne: InvoiceKind.avoir }, paymentMode: { $in: modes } },
    },
    { fields: ['invoice'] },
  )
  const invoiceIds = [...new Set(due.map((i) => i.invoice.id))]
  if (!invoiceIds.length) return []
  const invoices = await em.find(
    Invoice,
    { id: { $in: invoiceIds } },
    {
      populate: ['instalments'],
      orderBy: { id: 'asc' },
      ...(lock ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {}),
    },
  )
  const familyIds = [...new Set(invoices.map((i) => i.family.id))]
  const [paid, awaiting, credited, names, mandates] = await Promise.all([
    paidOn(em, invoiceIds),
    awaitingConfirmation({ em }, invoiceIds),
    creditedOn(em, invoiceIds),
    familyNames(em, familyIds),
    em.find(SepaMandate, { family: { $in: familyIds }, state: MandateState.active }),
  ])
  const collected = mandates.length
    ? await em.find(
        Debit,
        { mandate: { $in: mandates.map((m) => m.id) }, payment: { rejectedOn: null } },
        { fields: ['mandate'] },
      )
    : []
  const recurring = new Set(collected.map((d) => d.mandate.id))
  return invoices.flatMap((invoice) => {
    const instalments = invoice.instalments
      .getItems()
      .map((i) => ({ id: i.id, dueOn: dateOf(i.dueOn), amount: i.amount }))
    const { schedule } = balanceOf(
      invoice,
      instalments,
      // what the family paid online, awaiting the treasury's confirmation, is not debited as well
      (paid.get(invoice.id) ?? 0) + (awaiting.get(invoice.id)?.amount ?? 0),
      credited.get(invoice.id) ?? 0,
      '0000-00-00',
    )
    const mandate = mandates.find((m) => m.family.id === invoice.family.id)
    return schedule.flatMap((item, index) =>
      item.dueOn >= from && item.dueOn < to && item.left > 0
        ? [
            {
              instalmentId: item.id,
              invoice,
              familyId: invoice.family.id,
              familyName: names.get(invoice.family.id) ?? '',
              dueOn: item.dueOn,
              amount: item.left,
              rank: index + 1,
              count: schedule.length,
              mandate,
              sequenceType:
                mandate && recurring.has(mandate.id) ? SequenceType.recurring : SequenceType.first,
            },
          ]
        : [],
    )
  })
}

/**
 * Staff's page of a month's direct debits: its exported file with each collection and its state,
 * or what is to collect, with the instalments that cannot be (no mandate); and the months to choose.
 */
export async function debitMonth(ctx: BillingContext, month: string) {
  requireRole(ctx, staffAccess.read)
  const batch = await ctx.em.findOne(DebitBatch, { month }, { populate: ['exportedBy'] })
  const batches = await ctx.em.find(
    DebitBatch,
    {},
    { orderBy: { month: 'desc' }, fields: ['month', 'count', 'total'] },
  )
  if (batch) {
    const debits = await ctx.em.find(
      Debit,
      { batch },
      { populate: ['payment', 'payment.invoice', 'mandate'], orderBy: { id: 'asc' } },
    )
    const names = await familyNames(
      ctx.em,
      debits.map((d) => d.payment.family.id),
    )
    return { month, batch, batches, debits, names, due: [], anomalies: [] }
  }
  const all = await dueInMonth(ctx.em, ctx.config, month)
  return {
    month,
    batch: undefined,
    batches,
    debits: [],
    names: new Map<number, string>(),
    due: all.filter((d) => d.mandate),
    anomalies: all.filter((d) => !d.mandate),
  }
}

/** The months a tenant may choose: those with direct debit instalments, and those already exported. */
export async function debitMonths(ctx: BillingContext, current: string): Promise<string[]> {
  requireRole(ctx, staffAccess.read)
  const modes = directDebitModes(ctx.config)
  const [instalments, batches] = await Promise.all([
    modes.length
      ? ctx.em.find(
          Instalment,
          { invoice: { state: InvoiceState.issued, paymentMode: { $in: modes } } },
          { fields: ['dueOn'] },
        )
      : [],
    ctx.em.find(DebitBatch, {}, { fields: ['month'] }),
  ])
  const months = new Set([
    current,
    ...batches.map((b) => b.month),
    ...instalments.map((i) => dateOf(i.dueOn).slice(0, 7)),
  ])
  return [...months].sort()
}

/** The creditor the tenant's file names, or undefined when its configuration has no `sepa` block. */
function creditorOf(config: TenantConfig): Creditor | undefined {
  const sepa = config.sepa
  if (!sepa) return undefined
  return { name: sepa.name ?? config.name, creditorId: sepa.creditorId, iban: sepa.iban, bic: sepa.bic }
}

/**
 * Exports a month's direct debits as a pain.008 file and records each collection: a payment by
 * direct debit (with its receipt) dated the collection day, the due date or, once passed, the day
 * after the export. A month is exported once; its file stays for download.
 */
export async function exportDebits(
  ctx: BillingContext,
  month: string,
  key: Buffer,
  now = new Date(),
): Promise<{ errors: FieldErrors } | { errors: undefined; batchId: number }> {
  requireRole(ctx, staffAccess.records)
  const creditor = creditorOf(ctx.config)
  const label = monthLabel(month, 'fr')
  if (!creditor) return { errors: { month: ctx.t('billing.sepa.error.noCreditor') } }
  const today = tenantToday(ctx.config, now)
  return ctx.em.fork().transactional(async (tx) => {
    // the invoices are locked first: a second export of the month waits, then sees this one's batch
    const due = (await dueInMonth(tx, ctx.config, month, true)).filter((d) => d.mandate)
    if (await tx.count(DebitBatch, { month }))
      return { errors: { month: ctx.t('billing.sepa.error.alreadyExported', { month: label }) } }
    if (!due.length)
      return { errors: { month: ctx.t('billing.sepa.error.nothingToExport', { month: label }) } }
    const mandates = await tx.find(
      SepaMandate,
      { id: { $in: [...new Set(due.map((d) => d.mandate!.id))] } },
      { populate: ['ibanCiphertext', 'ibanIv', 'ibanTag'] },
    )
    const ibans = new Map(mandates.map((m) => [m.id, openIban(key, m)]))
    const receipts = await takeNumbers(
      tx,
      Sequence.receipt,
      zonedParts(now, ctx.config.timezone).year,
      due.length,
    )
    const messageId = `${ctx.config.slug
      .replace(/[^a-z0-9]/g, '')
      .slice(0, 20)
      .toUpperCase()}-PRLV-${month}`
    const total = due.reduce((sum, d) => sum + d.amount, 0)
    const batch = tx.create(DebitBatch, {
      month,
      messageId,
      count: due.length,
      total,
      file: '',
      exportedBy: ctx.account.id,
    })
    const lines = due.map((d, i) => {
      const mandate = d.mandate!
      const collectedOn = d.dueOn > today ? d.dueOn : nextDay(today)
      const endToEndId = `${d.invoice.number}-${String(d.rank).padStart(2, '0')}`
      const payment = tx.create(Payment, {
        family: d.invoice.family,
        invoice: d.invoice,
        instalment: tx.getReference(Instalment, d.instalmentId),
        amount: d.amount,
        method: 'directDebit',
        receivedOn: collectedOn,
        reference: `${mandate.reference} ${endToEndId}`,
        recordedBy: ctx.account.id,
        receiptNumber: receipts[i]!,
      })
      tx.create(Debit, {
        batch,
        payment,
        mandate,
        instalment: tx.getReference(Instalment, d.instalmentId),
        sequenceType: d.sequenceType,
        endToEndId,
        collectedOn,
      })
      return {
        endToEndId,
        amount: d.amount,
        sequenceType: d.sequenceType,
        collectedOn,
        mandateId: mandate.reference,
        signedOn: dateOf(mandate.signedOn),
        debtorName: mandate.holder,
        debtorIban: ibans.get(mandate.id)!,
        debtorBic: mandate.bic,
        remittance: `${ctx.config.shortName ?? ctx.config.name} facture ${d.invoice.number} echeance ${d.rank}/${d.count}`,
      }
    })
    batch.file = sealText(key, painXml({ messageId, createdAt: now, creditor, lines }))
    await tx.flush()
    audit(tx, ctx.account, {
      action: 'debits.export',
      subject: { type: 'debitBatch', id: batch.id },
      details: { month, count: batch.count, total },
    })
    return { errors: undefined, batchId: batch.id }
  })
}

/** An exported month's file, for download again: kept encrypted, since it lists IBANs. */
export async function debitFile(ctx: BillingContext, batchId: number, key: Buffer) {
  requireRole(ctx, staffAccess.read)
  const batch = await ctx.em.findOne(DebitBatch, batchId, { populate: ['file'] })
  if (!batch) throw new NotFound()
  return { month: batch.month, xml: openText(key, batch.file) }
}

export interface RejectionValues {
  reason: RejectionReason
  rejectedOn: string
}

/** The rejection form: a reason the bank gives, the day it was returned (not before the debit, not to come). */
export function checkRejection(
  input: Record<string, string | undefined>,
  t: Translate,
  today: string,
): Checked<RejectionValues> {
  const errors: FieldErrors = {}
  const reason = rejectionReasons.find((r) => r === input.reason)
  if (!reason) errors.reason = t('billing.sepa.error.reason')
  const rejectedOn = input.rejectedOn?.trim() ?? ''
  if (!/^\d{4}-\d{2}-\d{2}$/.test(rejectedOn) || Number.isNaN(Date.parse(rejectedOn)) || rejectedOn > today)
    errors.rejectedOn = t('billing.sepa.error.rejectedOn')
  return { values: { reason: reason ?? 'MS03', rejectedOn }, errors: refusals(errors) }
}

/**
 * Records that the bank returned a collected debit: its payment stays, with its receipt, marked
 * rejected, and no longer counts in what the family paid, so the invoice's balance goes back up.
 */
export async function rejectDebit(
  ctx: BillingContext,
  debitId: number,
  values: RejectionValues,
): Promise<{ errors: FieldErrors } | { errors: undefined; month: string }> {
  requireRole(ctx, staffAccess.records)
  return ctx.em
    .fork()
    .transactional(async (tx): Promise<{ errors: FieldErrors } | { errors: undefined; month: string }> => {
      const debit = await tx.findOne(Debit, debitId, { populate: ['batch'] })
      if (!debit) throw new NotFound()
      const payment = await tx.findOneOrFail(Payment, debit.payment.id, {
        lockMode: LockMode.PESSIMISTIC_WRITE,
      })
      if (payment.rejectedOn) return { errors: { reason: ctx.t('billing.sepa.error.alreadyRejected') } }
      if (values.rejectedOn < dateOf(debit.collectedOn))
        return { errors: { rejectedOn: ctx.t('billing.sepa.error.rejectedOn') } }
      payment.rejectedOn = values.rejectedOn
      payment.rejectionReason = values.reason
      audit(tx, ctx.account, {
        action: 'debit.reject',
        subject: { type: 'invoice', id: payment.invoice.id },
        details: { receipt: payment.receiptNumber, amount: payment.amount, reason: values.reason },
      })
      return { errors: undefined, month: debit.batch.month }
    })
}

/** "novembre 2026". */
export function monthLabel(month: string, locale: 'fr' | 'en'): string {
  return new Intl.DateTimeFormat(locale === 'fr' ? 'fr-FR' : 'en-GB', {
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  }).format(new Date(`${month}-01T00:00:00Z`))
}
