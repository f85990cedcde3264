import { type Kysely, sql } from 'kysely'
import type { TenantDb } from '../../entities.ts'
import type { SignedInContext } from '../../platform/auth/context.ts'
import { prepare, type Reader } from '../../platform/db/reads.ts'
import type { TenantConfig } from '../../platform/tenancy/tenant-config-types.ts'
import { type Translate, translator } from '../../platform/views/i18n.ts'
import { fullName } from '../family/service.ts'
import type { SchoolYearRow } from '../teaching/service.ts'
import { InvoiceKind, LineKind } from './entities.ts'
import type { GeneratedInvoice } from './generation.ts'
import type { PricedLine } from './invoices.ts'
import { dateInYear, quoteRentals, scheduleFor, type Tariffs } from './tariffs.ts'

/**
 * The rentals of the school year (from `startsOn` to `endsOn`) that no location invoice of the year
 * bills yet, with whether an invoice already asked for their deposit (a rental running over several
 * years pays its deposit once).
 */
const unbilledRead = prepare(
  (db: Kysely<TenantDb>, params: { schoolYear: string; startsOn: string; endsOn: string }) =>
    db
      .selectFrom('rental as r')
      .innerJoin('rental_item as i', 'i.id', 'r.item_id')
      .innerJoin('family as f', 'f.id', 'r.family_id')
      .innerJoin('guardian as g', (join) => join.onRef('g.family_id', '=', 'f.id').on('g.rank', '=', 1))
      .leftJoin('pupil as p', 'p.id', 'r.pupil_id')
      .where('r.start_on', '<=', sql<string>`${params.endsOn}::date`)
      .where((eb) =>
        eb.or([eb('r.end_on', 'is', null), eb('r.end_on', '>=', sql<string>`${params.startsOn}::date`)]),
      )
      .where('f.archived_at', 'is', null)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('invoice_line as l')
              .innerJoin('invoice as v', 'v.id', 'l.invoice_id')
              .whereRef('l.rental_id', '=', 'r.id')
              .where('v.kind', '=', InvoiceKind.location)
              .where('v.school_year', '=', params.schoolYear)
              .select('l.id'),
          ),
        ),
      )
      .select(({ exists, selectFrom }) => [
        'r.id as rentalId',
        'r.family_id as familyId',
        'r.pupil_id as pupilId',
        sql<string>`to_char(r.start_on, 'YYYY-MM-DD')`.as('startOn'),
        'r.deposit',
        'i.code',
        'i.reference',
        'p.first_name as firstName',
        'p.last_name as lastName',
        'f.payment_mode as paymentMode',
        'g.first_name as guardianFirstName',
        'g.last_name as guardianLastName',
        exists(
          selectFrom('invoice_line as d')
            .whereRef('d.rental_id', '=', 'r.id')
            .where('d.kind', '=', LineKind.deposit)
            .select('d.id'),
        ).as('depositBilled'),
      ])
      .orderBy('g.sort_name')
      .orderBy('f.id')
      .orderBy('r.start_on')
      .orderBy('r.id'),
)

type UnbilledRental = Awaited<ReturnType<typeof unbilledRead.all>>[number]

const dayOf = (value: Date | string) =>
  typeof value === 'string' ? value.slice(0, 10) : value.toISOString().slice(0, 10)

/** A rental's lines: the year (prorated from a start during the year) and, the first time, its deposit. */
function linesOf(
  config: TenantConfig,
  t: Translate,
  tariffs: Tariffs,
  schoolYear: string,
  yearStart: string,
  rental: UnbilledRental,
  paymentMode: string | null,
): { lines: PricedLine[]; rent: number } {
  // a rental that began before the year pays the whole year
  const start = rental.startOn > yearStart ? rental.startOn : undefined
  const quote = quoteRentals(config, tariffs, { schoolYear, paymentMode, items: [rental.code], start })
  const priced = quote.lines[0]
  if (!priced) return { lines: [], rent: 0 }
  const pupilId = rental.pupilId
  const prorated =
    quote.proration && quote.proration.charged < quote.proration.of ? quote.proration : undefined
  const detail = [
    t('billing.rentals.line.reference', { reference: rental.reference }),
    ...(prorated
      ? [
          t('billing.rentals.line.from', { date: rental.startOn.split('-').reverse().join('/') }),
          `${prorated.charged}/${prorated.of}`,
        ]
      : []),
  ].join(' — ')
  const lines: PricedLine[] = [
    {
      pupilId,
      label: priced.label,
      detail,
      amount: priced.amount,
      kind: LineKind.rental,
      rentalId: rental.rentalId,
    },
  ]
  if (rental.deposit > 0 && !rental.depositBilled)
    lines.push({
      pupilId,
      label: t('billing.rentals.line.deposit', { label: priced.label }),
      detail: t('billing.rentals.line.depositDetail', { reference: rental.reference }),
      amount: rental.deposit,
      kind: LineKind.deposit,
      rentalId: rental.rentalId,
    })
  return { lines, rent: priced.amount }
}

/**
 * The year's location invoices, one per family with rentals the year does not bill yet: each
 * rental's year prorated like tuition from a start during the year, its deposit the first year,
 * the rent in the family's payment mode's instalments from the earliest start and the deposits
 * due with the first instalment (docs/decisions.md, "Rentals").
 */
export async function rentalPreview(
  ctx: Pick<SignedInContext, 'config'> & { db: Reader },
  year: Pick<SchoolYearRow, 'label' | 'startsOn' | 'endsOn'>,
): Promise<GeneratedInvoice[]> {
  const tariffs = ctx.config.tariffs
  if (!tariffs) return []
  // an invoice is written in the tenant's language, whichever language staff read the page in
  const documents = translator(ctx.config.locale)
  const yearStart = dayOf(year.startsOn)
  const rows = await unbilledRead.all(ctx.db, {
    schoolYear: year.label,
    startsOn: yearStart,
    endsOn: dayOf(year.endsOn),
  })
  const modes = new Set((ctx.config.paymentModes ?? []).map((m) => m.id))
  const codes = new Set((tariffs.rentals ?? []).map((r) => r.code))
  const byFamily = new Map<number, UnbilledRental[]>()
  for (const row of rows) byFamily.set(row.familyId, [...(byFamily.get(row.familyId) ?? []), row])
  const invoices: GeneratedInvoice[] = []
  for (const [familyId, rentals] of byFamily) {
    const first = rentals[0]!
    const paymentMode = first.paymentMode && modes.has(first.paymentMode) ? first.paymentMode : null
    const anomalies: GeneratedInvoice['anomalies'] = []
    if (!first.paymentMode) anomalies.push({ kind: 'noPaymentMode' })
    else if (!paymentMode) anomalies.push({ kind: 'unknownPaymentMode', detail: first.paymentMode })
    const lines: PricedLine[] = []
    let rent = 0
    let deposits = 0
    for (const rental of rentals) {
      if (!codes.has(rental.code)) {
        anomalies.push({ kind: 'unknownRental', detail: `${rental.reference} (${rental.code})` })
        continue
      }
      const priced = linesOf(ctx.config, documents, tariffs, year.label, yearStart, rental, paymentMode)
      lines.push(...priced.lines)
      rent += priced.rent
      deposits += priced.lines
        .filter((l) => l.kind === LineKind.deposit)
        .reduce((sum, l) => sum + l.amount, 0)
    }
    if (lines.length === 0) continue
    const earliest = rentals.map((r) => r.startOn).sort()[0]!
    const start = earliest > yearStart ? earliest : undefined
    const schedule = scheduleFor(ctx.config, tariffs, { schoolYear: year.label, paymentMode, start }, rent)
    const instalments = schedule.map((i) => ({ dueOn: i.due, amount: i.amount }))
    if (deposits > 0) {
      if (instalments[0]) instalments[0].amount += deposits
      else {
        const firstDue = dateInYear(year.label, tariffs.schedule.months[0]!, tariffs.schedule.day)
        instalments.push({ dueOn: start && start > firstDue ? start : firstDue, amount: deposits })
      }
    }
    invoices.push({
      familyId,
      family: fullName({ firstName: first.guardianFirstName, lastName: first.guardianLastName }),
      pupils: rentals.map((r) =>
        r.firstName
          ? `${r.reference} (${fullName({ firstName: r.firstName, lastName: r.lastName ?? '' })})`
          : r.reference,
      ),
      draft: {
        familyId,
        kind: InvoiceKind.location,
        schoolYear: year.label,
        paymentMode,
        lines,
        instalments,
      },
      total: rent + deposits,
      instalments: instalments.length,
      anomalies,
    })
  }
  return invoices
}

/** Rentals a location invoice of the year bills already (a draft or issued). */
const billedRead = prepare((db: Kysely<TenantDb>, params: { schoolYear: string }) =>
  db
    .selectFrom('invoice_line as l')
    .innerJoin('invoice as v', 'v.id', 'l.invoice_id')
    .where('v.kind', '=', InvoiceKind.location)
    .where('v.school_year', '=', params.schoolYear)
    .where('l.rental_id', 'is not', null)
    .select('l.rental_id as rentalId')
    .distinct(),
)

/**
 * The previewed location invoices none of whose rentals was billed meanwhile (by another staff
 * member's generation): read in the generation's transaction, under its lock.
 */
export async function stillUnbilled(
  db: Reader,
  schoolYear: string,
  invoices: GeneratedInvoice[],
): Promise<GeneratedInvoice[]> {
  if (!invoices.length) return invoices
  const billed = new Set((await billedRead.all(db, { schoolYear })).map((r) => r.rentalId))
  return invoices.filter((i) => !i.draft.lines.some((l) => l.rentalId && billed.has(l.rentalId)))
}
