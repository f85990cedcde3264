import { type Kysely, sql } from 'kysely'
import { jsonArrayFrom } from 'kysely/helpers/postgres'
import type { TenantDb } from '../../entities.ts'
import { prepare, type Reader } from '../../platform/db/reads.ts'
import { offsetOf, pageSize } from '../../platform/http/pagination.ts'
import { fold } from '../../platform/text.ts'
import { InvoiceKind, InvoiceState, type PaymentMethod } from './entities.ts'
import { creditedTo, type InvoiceStatus, receivedBy } from './invoices.ts'

/*
 * Staff's lists of invoices and payments, filtered, counted and cut into pages by Postgres in one
 * statement each. An invoice's state is balanceOf()'s, in SQL: payments and credit notes cover the
 * instalments in date order, so the instalments already due form the start of the schedule and the
 * invoice is late exactly when they add up to more than what covers them.
 */

/** What a staff list of invoices is narrowed to; null is "any". */
export interface InvoiceFilters {
  kind: InvoiceKind | null
  status: InvoiceStatus | null
  /** An instalment falls due between these days (either bound may be open). */
  dueFrom: string | null
  dueTo: string | null
  paymentMode: string | null
  /** Words of a guardian's or pupil's name (or e-mail) of the family. */
  family: string | null
  familyId: number | null
}

/** What a staff list of payments is narrowed to; null is "any". */
export interface PaymentFilters {
  method: PaymentMethod | null
  from: string | null
  to: string | null
  family: string | null
  familyId: number | null
}

const escapeLike = (word: string) => word.replace(/[\\%_]/g, (c) => `\\${c}`)

/** `%word%` for each folded word typed: every one must be in one guardian's or pupil's names. */
function patternsOf(search: string | null): string[] {
  return fold(search ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => `%${escapeLike(w)}%`)
}

type Db = Kysely<TenantDb>
const text = (value: unknown) => sql<string>`cast(${value} as text)`

/** The families one of whose guardians or pupils has every word typed. */
const familiesNamed = (db: Db, patterns: unknown) =>
  db
    .selectFrom('guardian as sg')
    .select('sg.family_id')
    .where(sql<boolean>`sg.search_text like all(${patterns}::text[])`)
    .union(
      db
        .selectFrom('pupil as sp')
        .select('sp.family_id')
        .where(sql<boolean>`sp.search_text like all(${patterns}::text[])`),
    )

type InvoiceParams = {
  kind: string | null
  status: string | null
  dueFrom: string | null
  dueTo: string | null
  paymentMode: string | null
  patterns: string[]
  familyId: number | null
  today: string
  offset: number
  limit: number
}

const invoiceListRead = prepare((db: Db, p: InvoiceParams) => {
  const figures = db
    .selectFrom('invoice as i')
    .where('i.state', '=', InvoiceState.issued)
    .where((eb) =>
      eb.and([
        sql<boolean>`(${text(p.kind)} is null or i.kind = ${text(p.kind)})`,
        sql<boolean>`(${text(p.paymentMode)} is null or i.payment_mode = ${text(p.paymentMode)})`,
        sql<boolean>`(${p.familyId}::integer is null or i.family_id = ${p.familyId}::integer)`,
        eb.or([
          sql<boolean>`cardinality(${p.patterns}::text[]) = 0`,
          eb('i.family_id', 'in', familiesNamed(db, p.patterns)),
        ]),
        eb.or([
          sql<boolean>`${text(p.dueFrom)} is null and ${text(p.dueTo)} is null`,
          eb.exists(
            eb
              .selectFrom('instalment as d')
              .select('d.id')
              .whereRef('d.invoice_id', '=', 'i.id')
              .where(
                sql<boolean>`(${text(p.dueFrom)} is null or d.due_on >= cast(${text(p.dueFrom)} as date))`,
              )
              .where(sql<boolean>`(${text(p.dueTo)} is null or d.due_on <= cast(${text(p.dueTo)} as date))`),
          ),
        ]),
      ]),
    )
    .select([
      'i.id',
      'i.number',
      'i.kind',
      'i.issued_at as issuedAt',
      'i.total',
      'i.family_id as familyId',
      'i.payment_mode as paymentMode',
      'i.school_year as schoolYear',
      'i.corrects_id as correctsId',
    ])
    .select((eb) => [
      receivedBy(eb.ref('i.id')).as('paid'),
      creditedTo(eb.ref('i.id')).as('credited'),
      eb
        .cast<number>(
          eb.fn.coalesce(
            eb
              .selectFrom('instalment as s')
              .whereRef('s.invoice_id', '=', 'i.id')
              .where(sql<boolean>`s.due_on < cast(${text(p.today)} as date)`)
              .select((s) => s.fn.sum<number>('s.amount').as('s')),
            eb.lit(0),
          ),
          'integer',
        )
        .as('pastDue'),
    ])
  // balanceOf()'s state; a credit note has none
  const status = sql<string | null>`case
    when x.kind = ${InvoiceKind.avoir} then null
    when x.total - x.credited - x.paid <= 0 then 'paid'
    when x."pastDue" > x.paid + x.credited then 'late'
    when x.paid > 0 then 'partial'
    else 'toPay' end`
  const matching = db
    .selectFrom(figures.as('x'))
    .selectAll('x')
    .select(status.as('status'))
    .where(sql<boolean>`(${text(p.status)} is null or ${status} = ${text(p.status)})`)
  return db.selectNoFrom((eb) => [
    eb
      .selectFrom(matching.as('q'))
      .select((inner) => inner.cast<number>(inner.fn.countAll(), 'integer').as('n'))
      .as('total'),
    jsonArrayFrom(
      eb
        .selectFrom(matching.as('r'))
        .leftJoin('guardian as g', (join) =>
          join.onRef('g.family_id', '=', 'r.familyId').on('g.rank', '=', 1),
        )
        .leftJoin('invoice as c', 'c.id', 'r.correctsId')
        .selectAll('r')
        .select([
          'g.first_name as guardianFirstName',
          'g.last_name as guardianLastName',
          'c.number as corrects',
        ])
        .select((inner) => [
          inner
            .selectFrom('invoice_reminder as rm')
            .whereRef('rm.invoice_id', '=', 'r.id')
            .select((s) => s.fn.max('rm.sent_on').as('d'))
            .as('remindedOn'),
        ])
        .orderBy('r.issuedAt', 'desc')
        .orderBy('r.id', 'desc')
        .limit(p.limit)
        .offset(p.offset),
    ).as('rows'),
  ])
})

export type InvoiceRow = ReturnType<typeof rowOf>

function rowOf(row: NonNullable<Awaited<ReturnType<typeof invoiceListRead.first>>>['rows'][number]) {
  const remaining = row.total - row.credited - row.paid
  return {
    id: row.id,
    number: row.number ?? '',
    kind: row.kind as InvoiceKind,
    issuedAt: row.issuedAt as string | null,
    total: row.total,
    paid: row.paid,
    credited: row.credited,
    remaining: row.kind === InvoiceKind.avoir ? 0 : Math.max(0, remaining),
    /** What is left of the instalments already due. */
    late: row.kind === InvoiceKind.avoir ? 0 : Math.max(0, row.pastDue - row.paid - row.credited),
    status: (row.status ?? undefined) as InvoiceStatus | undefined,
    familyId: row.familyId,
    familyName:
      row.guardianLastName === null ? '' : `${row.guardianLastName} ${row.guardianFirstName ?? ''}`.trim(),
    paymentMode: row.paymentMode,
    schoolYear: row.schoolYear,
    corrects: row.corrects,
    remindedOn: (row.remindedOn as string | null) ?? null,
  }
}

/**
 * Issued invoices and credit notes matching the filters, newest first: one page of them (every one
 * when `page` is undefined, for the export) and how many match in all.
 */
export async function invoiceRows(db: Reader, filters: InvoiceFilters, today: string, page?: number) {
  const found = await invoiceListRead.first(db, {
    kind: filters.kind,
    status: filters.status,
    dueFrom: filters.dueFrom,
    dueTo: filters.dueTo,
    paymentMode: filters.paymentMode,
    patterns: patternsOf(filters.family),
    familyId: filters.familyId,
    today,
    offset: page ? offsetOf(page) : 0,
    limit: page ? pageSize : 1_000_000,
  })
  return { total: found?.total ?? 0, rows: (found?.rows ?? []).map(rowOf) }
}

type PaymentParams = {
  method: string | null
  from: string | null
  to: string | null
  patterns: string[]
  familyId: number | null
  offset: number
  limit: number
}

const paymentListRead = prepare((db: Db, p: PaymentParams) => {
  const matching = db
    .selectFrom('payment as pa')
    .where((eb) =>
      eb.and([
        sql<boolean>`(${text(p.method)} is null or pa.method = ${text(p.method)})`,
        sql<boolean>`(${text(p.from)} is null or pa.received_on >= cast(${text(p.from)} as date))`,
        sql<boolean>`(${text(p.to)} is null or pa.received_on <= cast(${text(p.to)} as date))`,
        sql<boolean>`(${p.familyId}::integer is null or pa.family_id = ${p.familyId}::integer)`,
        eb.or([
          sql<boolean>`cardinality(${p.patterns}::text[]) = 0`,
          eb('pa.family_id', 'in', familiesNamed(db, p.patterns)),
        ]),
      ]),
    )
  return db.selectNoFrom((eb) => [
    eb
      .selectFrom(matching.select('pa.id').as('q'))
      .select((inner) => inner.cast<number>(inner.fn.countAll(), 'integer').as('n'))
      .as('total'),
    jsonArrayFrom(
      matching
        .innerJoin('invoice as i', 'i.id', 'pa.invoice_id')
        .leftJoin('guardian as g', (join) =>
          join.onRef('g.family_id', '=', 'pa.family_id').on('g.rank', '=', 1),
        )
        .select([
          'pa.id',
          'pa.receipt_number as receiptNumber',
          'pa.received_on as receivedOn',
          'pa.method',
          'pa.amount',
          'pa.reference',
          'pa.rejected_on as rejectedOn',
          'pa.family_id as familyId',
          'i.id as invoiceId',
          'i.number as invoiceNumber',
          'g.first_name as guardianFirstName',
          'g.last_name as guardianLastName',
        ])
        .orderBy('pa.received_on', 'desc')
        .orderBy('pa.id', 'desc')
        .limit(p.limit)
        .offset(p.offset),
    ).as('rows'),
  ])
})

/** Payments matching the filters, the latest received first: one page (every one without `page`). */
export async function paymentRows(db: Reader, filters: PaymentFilters, page?: number) {
  const found = await paymentListRead.first(db, {
    method: filters.method,
    from: filters.from,
    to: filters.to,
    patterns: patternsOf(filters.family),
    familyId: filters.familyId,
    offset: page ? offsetOf(page) : 0,
    limit: page ? pageSize : 1_000_000,
  })
  return {
    total: found?.total ?? 0,
    rows: (found?.rows ?? []).map((row) => ({
      id: row.id,
      receiptNumber: row.receiptNumber,
      receivedOn: row.receivedOn as string,
      method: row.method as PaymentMethod,
      amount: row.amount,
      reference: row.reference,
      rejectedOn: row.rejectedOn as string | null,
      familyId: row.familyId,
      invoiceId: row.invoiceId,
      invoiceNumber: row.invoiceNumber ?? '',
      familyName:
        row.guardianLastName === null ? '' : `${row.guardianLastName} ${row.guardianFirstName ?? ''}`.trim(),
    })),
  }
}
