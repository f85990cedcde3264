import type { TenantConfig } from '../../platform/tenancy/tenant-config-types.ts'

/*
 * The pricing of the tenant's tariffs (docs/decisions.md, "Tariffs"): pure functions of the tenant
 * configuration and a family's facts, with every amount in integer cents, so that the simulator
 * and the invoices compute the same lines and the instalments always add up to the total.
 */

export type Cents = number
export type Tariffs = NonNullable<TenantConfig['tariffs']>

/** The column of the tariffs a family pays. */
export type Column =
  | { kind: 'bracket'; code: string; label: string; fallback: boolean }
  | { kind: 'resident' }
  | { kind: 'nonResident' }

/** What pricing needs to know of a family (src/features/family/entities.ts). */
export interface FamilyFacts {
  resident: boolean
  /** The bracket proven by an attestation, or null: the fallback bracket applies. */
  quotientBracket: string | null
  paymentMode: string | null
}

export interface TuitionRequest {
  /** "2027-2028": the school year starts in September of the first year. */
  schoolYear: string
  family: FamilyFacts
  pupils: { name?: string; disciplines: string[] }[]
  /** A start during the year (YYYY-MM-DD): prorated by `tariffs.proration`. */
  start?: string
}

export interface TuitionLine {
  category: string
  label: string
  /** The pupil's disciplines this category takes. */
  disciplines: string[]
  yearly: Cents
  /** The yearly amount after proration. */
  amount: Cents
}

export interface FeeLine {
  code: string
  label: string
  amount: Cents
}

export interface PupilQuote {
  index: number
  name?: string
  lines: TuitionLine[]
  /** Disciplines no category takes: an anomaly for staff, a message for the simulator. */
  unpriced: string[]
  tuition: Cents
  reduction?: { rank: number; percent: number; amount: Cents }
  fees: FeeLine[]
  total: Cents
}

export interface Instalment {
  /** YYYY-MM-DD */
  due: string
  amount: Cents
}

export interface Proration {
  charged: number
  of: number
}

export interface TuitionQuote {
  column: Column
  proration?: Proration
  pupils: PupilQuote[]
  familyFees: FeeLine[]
  reductions: Cents
  total: Cents
  schedule: Instalment[]
}

export interface RentalRequest {
  schoolYear: string
  paymentMode: string | null
  items: string[]
  start?: string
}

export interface RentalLine {
  code: string
  label: string
  yearly: Cents
  amount: Cents
  /** Returned with the item: not part of the total nor of the schedule. */
  deposit: Cents
}

export interface RentalQuote {
  proration?: Proration
  lines: RentalLine[]
  /** Items no longer in the tariffs: an anomaly for staff, priced at nothing. */
  unknown: string[]
  deposits: Cents
  total: Cents
  schedule: Instalment[]
}

/** Euros as written in the tenant file (312.5) to cents; the cross-checks refuse sub-cent amounts. */
export const toCents = (euros: number): Cents => Math.round(euros * 100)

/** The column a family pays: non-residents their own, others the proven bracket or the fallback. */
export function columnFor(
  config: TenantConfig,
  family: Pick<FamilyFacts, 'resident' | 'quotientBracket'>,
): Column {
  if (!family.resident) return { kind: 'nonResident' }
  const qf = config.quotientFamilial
  if (!qf) return { kind: 'resident' }
  const proven = qf.brackets.find((b) => b.code === family.quotientBracket)
  const bracket = proven ?? qf.brackets.find((b) => b.code === qf.fallback)!
  return { kind: 'bracket', code: bracket.code, label: bracket.label, fallback: !proven }
}

const columnKey = (column: Column) => (column.kind === 'bracket' ? column.code : column.kind)

/**
 * A pupil's categories: tried in the order of the file, the first that matches the disciplines left
 * takes the disciplines it names (and those it covers); the next ones see what remains.
 */
export function categorise(
  tariffs: Tariffs,
  disciplines: string[],
): { lines: { category: Tariffs['categories'][number]; disciplines: string[] }[]; unpriced: string[] } {
  const left = new Set(disciplines)
  const lines = []
  for (const category of tariffs.categories) {
    const all = category.includesAll ?? []
    const any = category.includesAny
    // a category naming no discipline is refused by the cross-checks: it never matches here either
    if (all.length === 0 && !any) continue
    if (!all.every((d) => left.has(d))) continue
    if (any && !any.some((d) => left.has(d))) continue
    const named = [...all, ...(any ?? []), ...(category.covers ?? [])]
    const taken = disciplines.filter((d) => left.has(d) && named.includes(d))
    for (const d of taken) left.delete(d)
    lines.push({ category, disciplines: taken })
  }
  return { lines, unpriced: disciplines.filter((d) => left.has(d)) }
}

/** The calendar date of a month of the school year ("2027-2028": September 2027 to August 2028). */
export function dateInYear(schoolYear: string, month: number, day: number): string {
  const first = Number(schoolYear.slice(0, 4))
  const year = month >= 9 ? first : first + 1
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`
}

/** How many of the year's shares a start on `start` pays: those whose date is on or after it. */
export function prorationFor(tariffs: Tariffs, schoolYear: string, start: string | undefined) {
  const proration = tariffs.proration
  if (!proration || !start) return undefined
  const charged = proration.months.filter((m) => dateInYear(schoolYear, m, proration.day) >= start).length
  return { charged, of: proration.months.length }
}

const prorate = (yearly: Cents, proration: Proration | undefined) =>
  proration ? Math.round((yearly * proration.charged) / proration.of) : yearly

/**
 * The instalments of `total` for a payment mode: the first n months of `tariffs.schedule` (one
 * payment when the mode has no instalments or is unknown), those already past at `start` dropped
 * (a single payment on `start` when none is left), equal shares with the remainder of the
 * division on the first instalment.
 */
export function scheduleFor(
  config: TenantConfig,
  tariffs: Tariffs,
  request: { schoolYear: string; paymentMode: string | null; start?: string },
  total: Cents,
): Instalment[] {
  if (total <= 0) return []
  const mode = config.paymentModes?.find((m) => m.id === request.paymentMode)
  const count = Math.min(mode?.instalments ?? 1, tariffs.schedule.months.length)
  const { start } = request
  let dates = tariffs.schedule.months
    .slice(0, count)
    .map((m) => dateInYear(request.schoolYear, m, tariffs.schedule.day))
    .filter((date) => !start || date >= start)
  if (dates.length === 0) dates = [start!]
  const share = Math.floor(total / dates.length)
  const remainder = total - share * dates.length
  return dates.map((due, i) => ({ due, amount: share + (i === 0 ? remainder : 0) }))
}

/** Percent off the pupil ranked `rank` (1 = the most expensive). */
function reductionPercent(tariffs: Tariffs, rank: number): number {
  const reduction = tariffs.familyReduction
  if (!reduction || rank < 2) return 0
  if (rank === 2) return reduction.secondPupil ?? 0
  return reduction.thirdPupilAndMore ?? reduction.secondPupil ?? 0
}

/** A family's yearly tuition, pupil by pupil, with reductions, fees and the instalments. */
export function quoteTuition(config: TenantConfig, tariffs: Tariffs, request: TuitionRequest): TuitionQuote {
  const column = columnFor(config, request.family)
  const key = columnKey(column)
  const proration = prorationFor(tariffs, request.schoolYear, request.start)
  const fees = tariffs.fees ?? []
  const feeLine = (fee: (typeof fees)[number]): FeeLine => ({
    code: fee.code,
    label: fee.label,
    amount: toCents(fee.amount),
  })
  const pupils: PupilQuote[] = request.pupils.map((pupil, index) => {
    const { lines, unpriced } = categorise(tariffs, pupil.disciplines)
    const priced = lines.map(({ category, disciplines }): TuitionLine => {
      // the cross-checks ensure every category has every column
      const yearly = toCents(category.amounts[key] ?? 0)
      return {
        category: category.code,
        label: category.label,
        disciplines,
        yearly,
        amount: prorate(yearly, proration),
      }
    })
    const tuition = priced.reduce((sum, line) => sum + line.amount, 0)
    return {
      index,
      name: pupil.name,
      lines: priced,
      unpriced,
      tuition,
      fees: fees.filter((f) => f.per === 'pupil').map(feeLine),
      total: 0,
    }
  })
  // the most expensive pupil pays in full: the reductions fall on the cheaper ones (ties: in order)
  const ranked = pupils
    .filter((p) => p.tuition > 0)
    .sort((a, b) => b.tuition - a.tuition || a.index - b.index)
  for (const [i, pupil] of ranked.entries()) {
    const percent = reductionPercent(tariffs, i + 1)
    if (percent > 0)
      pupil.reduction = { rank: i + 1, percent, amount: Math.round((pupil.tuition * percent) / 100) }
  }
  for (const pupil of pupils) {
    pupil.total =
      pupil.tuition - (pupil.reduction?.amount ?? 0) + pupil.fees.reduce((sum, fee) => sum + fee.amount, 0)
  }
  const familyFees = request.pupils.length ? fees.filter((f) => f.per === 'family').map(feeLine) : []
  const total =
    pupils.reduce((sum, p) => sum + p.total, 0) + familyFees.reduce((sum, fee) => sum + fee.amount, 0)
  return {
    column,
    proration,
    pupils,
    familyFees,
    reductions: pupils.reduce((sum, p) => sum + (p.reduction?.amount ?? 0), 0),
    total,
    schedule: scheduleFor(config, tariffs, { ...request, paymentMode: request.family.paymentMode }, total),
  }
}

/** A family's rentals for the year: prorated like tuition, never reduced, deposits apart. */
export function quoteRentals(config: TenantConfig, tariffs: Tariffs, request: RentalRequest): RentalQuote {
  const proration = prorationFor(tariffs, request.schoolYear, request.start)
  const items = new Map((tariffs.rentals ?? []).map((r) => [r.code, r]))
  const lines = request.items.flatMap((code): RentalLine[] => {
    const item = items.get(code)
    if (!item) return []
    const yearly = toCents(item.yearly)
    return [
      {
        code,
        label: item.label,
        yearly,
        amount: prorate(yearly, proration),
        deposit: toCents(item.deposit ?? 0),
      },
    ]
  })
  const total = lines.reduce((sum, line) => sum + line.amount, 0)
  return {
    proration,
    lines,
    unknown: request.items.filter((code) => !items.has(code)),
    deposits: lines.reduce((sum, line) => sum + line.deposit, 0),
    total,
    schedule: scheduleFor(config, tariffs, request, total),
  }
}
