import type { SignedInContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import { spreadsheetCsv } from '../../platform/csv.ts'
import { type FieldErrors, refusals } from '../../platform/forms.ts'
import { Forbidden, NotFound } from '../../platform/http/errors.ts'
import { formatDate } from '../../platform/views/dates.ts'
import { Family, Guardian } from '../family/entities.ts'
import { fullName, tenantToday } from '../family/service.ts'
import { InvoiceKind, PaymentMethod } from './entities.ts'
import { InvoiceStatus } from './invoices.ts'
import { type InvoiceFilters, invoiceRows, type PaymentFilters, paymentRows } from './staff-reads.ts'

/*
 * Staff's ledgers: the invoices and payments lists with their filters as typed in the address bar,
 * a family's account, and the CSV exports for the accounting service. Every function checks the
 * role itself, whatever the route's guard said.
 */

function requireReader(ctx: SignedInContext) {
  if (!(staffAccess.read as readonly string[]).includes(ctx.account.role)) throw new Forbidden()
}

/** The querystring of the invoices list (and of its export), as the filters form sends it. */
export interface InvoiceQuery {
  type?: string
  etat?: string
  du?: string
  au?: string
  mode?: string
  famille?: string
}

/** The querystring of the payments list (and of its export). */
export interface PaymentQuery {
  moyen?: string
  du?: string
  au?: string
  famille?: string
}

const dayShape = /^(\d{4})-(\d{2})-(\d{2})$/

/** A real calendar day typed as YYYY-MM-DD ("2026-02-31" is not one). */
function isDay(value: string): boolean {
  const m = dayShape.exec(value)
  if (!m) return false
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])))
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1
    ? d.getUTCDate() === Number(m[3])
    : false
}

/** A date range's two fields: each a real day, the first not after the second; refused ones left open. */
function checkRange(ctx: SignedInContext, query: { du?: string; au?: string }, errors: FieldErrors) {
  const day = (name: 'du' | 'au') => {
    const value = query[name]?.trim() ?? ''
    if (!value) return null
    if (isDay(value)) return value
    errors[name] = ctx.t('billing.ledger.error.date')
    return null
  }
  const from = day('du')
  const to = day('au')
  if (from && to && from > to) {
    errors.au = ctx.t('billing.ledger.error.range')
    return { from, to: null }
  }
  return { from, to }
}

const wordsOf = (value: string | undefined) => value?.trim().slice(0, 100) || null

/** The invoices list's filters from its querystring; a refused date is said beside its field and ignored. */
export function invoiceFiltersOf(ctx: SignedInContext, query: InvoiceQuery, defaultKind: InvoiceKind | null) {
  const errors: FieldErrors = {}
  const kind = (Object.values(InvoiceKind) as string[]).includes(query.type ?? '')
    ? (query.type as InvoiceKind)
    : defaultKind
  const status =
    kind !== InvoiceKind.avoir && (Object.values(InvoiceStatus) as string[]).includes(query.etat ?? '')
      ? (query.etat as InvoiceStatus)
      : null
  const { from, to } = checkRange(ctx, query, errors)
  const mode = ctx.config.paymentModes?.find((m) => m.id === query.mode)?.id ?? null
  const filters: InvoiceFilters = {
    kind,
    status,
    dueFrom: from,
    dueTo: to,
    paymentMode: mode,
    family: wordsOf(query.famille),
    familyId: null,
  }
  /** The filters as they go back into links (pages, export). */
  const params = {
    type: kind ?? undefined,
    etat: status ?? undefined,
    du: from ?? undefined,
    au: to ?? undefined,
    mode: mode ?? undefined,
    famille: filters.family ?? undefined,
  }
  return { filters, params, errors: refusals(errors) }
}

/** The payments list's filters from its querystring. */
export function paymentFiltersOf(ctx: SignedInContext, query: PaymentQuery) {
  const errors: FieldErrors = {}
  const method = (Object.values(PaymentMethod) as string[]).includes(query.moyen ?? '')
    ? (query.moyen as PaymentMethod)
    : null
  const { from, to } = checkRange(ctx, query, errors)
  const filters: PaymentFilters = { method, from, to, family: wordsOf(query.famille), familyId: null }
  const params = {
    moyen: method ?? undefined,
    du: from ?? undefined,
    au: to ?? undefined,
    famille: filters.family ?? undefined,
  }
  return { filters, params, errors: refusals(errors) }
}

/** One page of the invoices matching the filters, and how many match. */
export async function staffInvoices(ctx: SignedInContext, filters: InvoiceFilters, page: number, now?: Date) {
  requireReader(ctx)
  return invoiceRows(ctx.db, filters, tenantToday(ctx.config, now), page)
}

/** One page of the payments matching the filters, and how many match. */
export async function staffPayments(ctx: SignedInContext, filters: PaymentFilters, page: number) {
  requireReader(ctx)
  return paymentRows(ctx.db, filters, page)
}

/**
 * A family's account: every issued invoice and credit note, every payment, and the balance — what
 * was invoiced, credited, paid, what remains and what of it is late. Another tenant's family is a 404.
 */
export async function familyAccount(ctx: SignedInContext, familyId: number, now?: Date) {
  requireReader(ctx)
  const family = await ctx.em.findOne(Family, familyId, { fields: ['id'] })
  if (!family) throw new NotFound()
  const none = { kind: null, status: null, dueFrom: null, dueTo: null, paymentMode: null, family: null }
  const [invoices, payments, guardians] = await Promise.all([
    invoiceRows(ctx.db, { ...none, familyId }, tenantToday(ctx.config, now)),
    paymentRows(ctx.db, { method: null, from: null, to: null, family: null, familyId }),
    ctx.em.find(Guardian, { family: familyId }, { orderBy: { rank: 'asc' } }),
  ])
  const bills = invoices.rows.filter((r) => r.kind !== InvoiceKind.avoir)
  const sum = (values: number[]) => values.reduce((total, v) => total + v, 0)
  return {
    name: guardians[0] ? fullName(guardians[0]) : '',
    /** Where its reminders go. */
    emails: [...new Set(guardians.map((g) => g.email?.trim()).filter((e): e is string => Boolean(e)))],
    invoices: invoices.rows,
    payments: payments.rows,
    balance: {
      invoiced: sum(bills.map((r) => r.total)),
      credited: sum(bills.map((r) => r.credited)),
      // a direct debit the bank returned paid nothing
      paid: sum(payments.rows.filter((p) => !p.rejectedOn).map((p) => p.amount)),
      remaining: sum(bills.map((r) => r.remaining)),
      late: sum(bills.map((r) => r.late)),
    },
  }
}

/** Cents as a French spreadsheet reads a number: "1234,56", no thousands separator, no € sign. */
const decimal = (cents: number) => (cents / 100).toFixed(2).replace('.', ',')

/** The invoices and credit notes matching the filters, for the accounting service. */
export async function invoicesCsv(ctx: SignedInContext, filters: InvoiceFilters, now?: Date) {
  requireReader(ctx)
  const { rows } = await invoiceRows(ctx.db, filters, tenantToday(ctx.config, now))
  const { t, config } = ctx
  const modes = new Map((config.paymentModes ?? []).map((m) => [m.id, m.label]))
  return spreadsheetCsv([
    [
      t('billing.csv.number'),
      t('billing.csv.date'),
      t('billing.csv.family'),
      t('billing.csv.kind'),
      t('billing.csv.total'),
      t('billing.csv.paid'),
      t('billing.csv.remaining'),
      t('billing.csv.state'),
      t('billing.csv.paymentMode'),
      t('billing.csv.schoolYear'),
      t('billing.csv.corrects'),
    ],
    ...rows.map((r) => {
      const note = r.kind === InvoiceKind.avoir
      return [
        r.number,
        r.issuedAt ? formatDate(r.issuedAt, config.timezone) : '',
        r.familyName,
        t(`billing.csv.kind.${r.kind}`),
        decimal(r.total),
        note ? '' : decimal(r.paid),
        note ? '' : decimal(r.remaining),
        r.status ? t(`billing.status.${r.status}`) : '',
        r.paymentMode ? (modes.get(r.paymentMode) ?? r.paymentMode) : '',
        r.schoolYear,
        r.corrects ?? '',
      ]
    }),
  ])
}

/** The payments matching the filters, for the accounting service. */
export async function paymentsCsv(ctx: SignedInContext, filters: PaymentFilters) {
  requireReader(ctx)
  const { rows } = await paymentRows(ctx.db, filters)
  const { t, config } = ctx
  return spreadsheetCsv([
    [
      t('billing.csv.receipt'),
      t('billing.csv.date'),
      t('billing.csv.method'),
      t('billing.csv.amount'),
      t('billing.csv.invoice'),
      t('billing.csv.family'),
      t('billing.csv.reference'),
    ],
    ...rows.map((p) => [
      p.receiptNumber,
      formatDate(p.receivedOn, config.timezone),
      t(`billing.method.${p.method}`),
      decimal(p.amount),
      p.invoiceNumber,
      p.familyName,
      p.reference ?? '',
    ]),
  ])
}
