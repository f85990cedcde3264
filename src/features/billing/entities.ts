import { defineEntity, type InferEntity, p } from '@mikro-orm/core'
import { Account } from '../../platform/auth/entities.ts'
import { TenantEntity } from '../../platform/db/base-entity.ts'
import { Family } from '../family/entities.ts'
import { Pupil } from '../pupils/entities.ts'
import { Rental } from './rental-entities.ts'

/** Cotisation (tuition) and location (rental) invoices, and the credit notes (avoirs) that correct them. */
export const InvoiceKind = { cotisation: 'cotisation', location: 'location', avoir: 'avoir' } as const
export type InvoiceKind = (typeof InvoiceKind)[keyof typeof InvoiceKind]

export const InvoiceState = { draft: 'draft', issued: 'issued' } as const
export type InvoiceState = (typeof InvoiceState)[keyof typeof InvoiceState]

export const LineKind = {
  tuition: 'tuition',
  fee: 'fee',
  reduction: 'reduction',
  rental: 'rental',
  deposit: 'deposit',
  proration: 'proration',
} as const
export type LineKind = (typeof LineKind)[keyof typeof LineKind]

export const PaymentMethod = {
  cheque: 'cheque',
  cash: 'cash',
  holidayVouchers: 'holidayVouchers',
  culturePass: 'culturePass',
  transfer: 'transfer',
  card: 'card',
  directDebit: 'directDebit',
  payfip: 'payfip',
  treasury: 'treasury',
} as const
export type PaymentMethod = (typeof PaymentMethod)[keyof typeof PaymentMethod]

/**
 * An invoice or a credit note. A draft may change; once issued it carries its number and never
 * changes again (the service refuses): a correction is a credit note whose `corrects` is the invoice.
 * Amounts are integer cents; a credit note's total is positive and lowers what its invoice asks.
 */
export const Invoice = defineEntity({
  name: 'Invoice',
  schema: '*',
  tableName: 'invoice',
  extends: TenantEntity,
  indexes: [{ properties: ['family', 'kind'] }],
  properties: {
    family: () => p.manyToOne(Family),
    kind: p.enum(Object.values(InvoiceKind)),
    /** The school year it bills, as the tenant names it: "2026-2027". */
    schoolYear: p.string().length(20),
    state: p.enum(Object.values(InvoiceState)).default(InvoiceState.draft),
    /** "F2026-000123" (invoices) or "A2026-000004" (credit notes); null while a draft. */
    number: p.string().length(20).nullable().unique(),
    issuedAt: p.datetime().nullable(),
    /** Id of one of the tenant's payment modes, as chosen when it was issued. */
    paymentMode: p.string().nullable(),
    total: p.integer(),
    /** For a credit note: the invoice it corrects, and why. */
    corrects: () => p.manyToOne(Invoice).nullable(),
    reason: p.text().nullable(),
    lines: () => p.oneToMany(InvoiceLine).mappedBy('invoice').orderBy({ position: 'asc' }),
    instalments: () => p.oneToMany(Instalment).mappedBy('invoice').orderBy({ dueOn: 'asc' }),
  },
})
export type Invoice = InferEntity<typeof Invoice>

export const InvoiceLine = defineEntity({
  name: 'InvoiceLine',
  schema: '*',
  tableName: 'invoice_line',
  extends: TenantEntity,
  uniques: [{ properties: ['invoice', 'position'] }],
  properties: {
    invoice: () => p.manyToOne(Invoice).deleteRule('cascade'),
    position: p.smallint(),
    /** The pupil the line is for; null for a family's fee. */
    pupil: () => p.manyToOne(Pupil).nullable().deleteRule('set null'),
    label: p.string(),
    /** What priced it, as printed: the category and bracket ("Cursus complet — Q3"), the item's reference. */
    detail: p.string().nullable(),
    /** Cents; negative for a reduction. */
    amount: p.integer(),
    kind: p.enum(Object.values(LineKind)),
    /** The rental a line bills (its year or its deposit): a rental is never billed twice for a year. */
    rental: () => p.manyToOne(Rental).nullable().deleteRule('set null'),
  },
})
export type InvoiceLine = InferEntity<typeof InvoiceLine>

/** One due date of an invoice's schedule (échéancier). */
export const Instalment = defineEntity({
  name: 'Instalment',
  schema: '*',
  tableName: 'instalment',
  extends: TenantEntity,
  indexes: [{ properties: ['invoice', 'dueOn'] }],
  properties: {
    invoice: () => p.manyToOne(Invoice).deleteRule('cascade'),
    dueOn: p.date(),
    amount: p.integer(),
  },
})
export type Instalment = InferEntity<typeof Instalment>

/** Money received for an invoice (or one of its instalments), with the receipt's number. */
export const Payment = defineEntity({
  name: 'Payment',
  schema: '*',
  tableName: 'payment',
  extends: TenantEntity,
  indexes: [{ properties: ['family'] }, { properties: ['invoice'] }],
  properties: {
    family: () => p.manyToOne(Family),
    invoice: () => p.manyToOne(Invoice),
    instalment: () => p.manyToOne(Instalment).nullable(),
    amount: p.integer(),
    method: p.enum(Object.values(PaymentMethod)),
    receivedOn: p.date(),
    /** The cheque's number, the transfer's label, the treasury's reference… */
    reference: p.string().nullable(),
    recordedBy: () => p.manyToOne(Account).nullable().deleteRule('set null'),
    /** "R2026-000042": receipts have their own gapless sequence. */
    receiptNumber: p.string().length(20).unique(),
    /**
     * The day the bank returned it (a rejected direct debit): the payment stays, with its receipt, but
     * no longer counts in what was paid.
     */
    rejectedOn: p.date().nullable(),
    /** Why it was returned: an ISO 20022 reason code such as AM04 (see debits.ts). */
    rejectionReason: p.string().length(4).nullable(),
  },
})
export type Payment = InferEntity<typeof Payment>

/**
 * The last number given in one sequence (F invoices, A credit notes, R receipts) of one year. The
 * row is locked by the transaction that numbers, so numbers follow each other with no gap and no
 * duplicate: a transaction that rolls back gives its numbers back with it.
 */
export const BillingCounter = defineEntity({
  name: 'BillingCounter',
  schema: '*',
  tableName: 'billing_counter',
  extends: TenantEntity,
  uniques: [{ properties: ['sequence', 'year'] }],
  properties: {
    sequence: p.string().length(1),
    year: p.smallint(),
    last: p.integer(),
  },
})
export type BillingCounter = InferEntity<typeof BillingCounter>

/**
 * A reminder mailed for a late invoice: when (the tenant's day), by whom, to which addresses. One a
 * day at most per invoice: a second click the same day sends nothing.
 */
export const InvoiceReminder = defineEntity({
  name: 'InvoiceReminder',
  schema: '*',
  tableName: 'invoice_reminder',
  extends: TenantEntity,
  uniques: [{ properties: ['invoice', 'sentOn'] }],
  properties: {
    invoice: () => p.manyToOne(Invoice).deleteRule('cascade'),
    sentOn: p.date(),
    sentBy: () => p.manyToOne(Account).nullable().deleteRule('set null'),
    recipients: p.text(),
  },
})
export type InvoiceReminder = InferEntity<typeof InvoiceReminder>
/** Pending until the treasury's statement or staff confirm it; PayFiP's refusal or abandon ends it. */
export const OnlinePaymentState = {
  pending: 'pending',
  confirmed: 'confirmed',
  failed: 'failed',
  cancelled: 'cancelled',
} as const
export type OnlinePaymentState = (typeof OnlinePaymentState)[keyof typeof OnlinePaymentState]

/**
 * One "Payer en ligne" through PayFiP: what was asked, under which refdet (unique, one per attempt),
 * and what came back. PayFiP's "paid" on the return only says the card went through: the money is
 * recorded (a Payment) when the treasury's statement or staff confirm it.
 */
export const OnlinePayment = defineEntity({
  name: 'OnlinePayment',
  schema: '*',
  tableName: 'online_payment',
  extends: TenantEntity,
  indexes: [{ properties: ['invoice'] }],
  properties: {
    invoice: () => p.manyToOne(Invoice),
    amount: p.integer(),
    /** The reference PayFiP and the treasury's statement carry: the invoice's number and the attempt. */
    refdet: p.string().length(30).unique(),
    startedAt: p.datetime(),
    startedBy: () => p.manyToOne(Account).nullable().deleteRule('set null'),
    state: p.enum(Object.values(OnlinePaymentState)).default(OnlinePaymentState.pending),
    /** PayFiP's resultrans on the return: P (paid), R (refused), A (abandoned); null before it. */
    result: p.string().length(1).nullable(),
    returnedAt: p.datetime().nullable(),
    /** PayFiP's authorisation number (numauto) and the transaction's date and time, as returned. */
    authorisation: p.string().length(30).nullable(),
    transactionAt: p.string().length(30).nullable(),
    /** The payment recorded when it was confirmed. */
    payment: () => p.manyToOne(Payment).nullable().deleteRule('set null'),
  },
})
export type OnlinePayment = InferEntity<typeof OnlinePayment>

/**
 * A line of the treasury's payment statement once recorded: its identity (the treasury's own id,
 * or a hash of reference, date and amount) is unique, so a statement imported twice records nothing
 * the second time.
 */
export const TreasuryLine = defineEntity({
  name: 'TreasuryLine',
  schema: '*',
  tableName: 'treasury_line',
  extends: TenantEntity,
  properties: {
    identity: p.string().length(100).unique(),
    payment: () => p.manyToOne(Payment),
    reference: p.string(),
    debtor: p.string().nullable(),
    fileName: p.string().nullable(),
  },
})
export type TreasuryLine = InferEntity<typeof TreasuryLine>
export const MandateState = { active: 'active', revoked: 'revoked' } as const
export type MandateState = (typeof MandateState)[keyof typeof MandateState]

/**
 * A family's SEPA direct debit mandate. The IBAN is kept encrypted (AES-256-GCM under BILLING_KEY)
 * and shown only masked; a family has at most one active mandate, replaced by a new one (new RUM).
 */
export const SepaMandate = defineEntity({
  name: 'SepaMandate',
  schema: '*',
  tableName: 'sepa_mandate',
  extends: TenantEntity,
  indexes: [{ properties: ['family', 'state'] }],
  properties: {
    family: () => p.manyToOne(Family),
    /** Référence unique du mandat (RUM): "LIM-000123". */
    reference: p.string().length(35).unique(),
    signedOn: p.date(),
    holder: p.string().length(70),
    ibanCiphertext: p.text().hidden().lazy(),
    ibanIv: p.text().hidden().lazy(),
    ibanTag: p.text().hidden().lazy(),
    /** "FR76 **** **** **** **** ***0 189": what pages show, so that they never decrypt. */
    ibanMasked: p.string().length(50),
    bic: p.string().length(11),
    state: p.enum(Object.values(MandateState)).default(MandateState.active),
    revokedAt: p.datetime().nullable(),
    recordedBy: () => p.manyToOne(Account).nullable().deleteRule('set null'),
  },
})
export type SepaMandate = InferEntity<typeof SepaMandate>

/** One month's debit file (pain.008) as exported: a month is collected once, the file kept for download. */
export const DebitBatch = defineEntity({
  name: 'DebitBatch',
  schema: '*',
  tableName: 'debit_batch',
  extends: TenantEntity,
  properties: {
    /** "2026-11". */
    month: p.string().length(7).unique(),
    messageId: p.string().length(35),
    count: p.integer(),
    total: p.integer(),
    /** The pain.008 as exported, sealed under BILLING_KEY (it lists IBANs): see iban-vault.ts. */
    file: p.text().lazy(),
    exportedBy: () => p.manyToOne(Account).nullable().deleteRule('set null'),
  },
})
export type DebitBatch = InferEntity<typeof DebitBatch>

export const SequenceType = { first: 'FRST', recurring: 'RCUR' } as const
export type SequenceType = (typeof SequenceType)[keyof typeof SequenceType]

/** One collection of a debit file: the instalment it collects under which mandate, and its payment. */
export const Debit = defineEntity({
  name: 'Debit',
  schema: '*',
  tableName: 'debit',
  extends: TenantEntity,
  indexes: [{ properties: ['batch'] }, { properties: ['mandate'] }],
  properties: {
    batch: () => p.manyToOne(DebitBatch),
    payment: () => p.oneToOne(Payment).owner().unique(),
    mandate: () => p.manyToOne(SepaMandate),
    instalment: () => p.manyToOne(Instalment),
    sequenceType: p.enum(Object.values(SequenceType)),
    /** "F2026-000123-03": the invoice's number and the instalment's rank. */
    endToEndId: p.string().length(35),
    collectedOn: p.date(),
  },
})
export type Debit = InferEntity<typeof Debit>
