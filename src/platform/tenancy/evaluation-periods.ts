import type { TenantConfig } from './tenant-config.ts'

/*
 * The evaluation periods of the tenant's YAML are month-days ("09-01"), so one list holds every
 * school year: September to December fall in the school year's first calendar year, January to
 * August in its second (docs/decisions.md, issue 18).
 */

export type Period = TenantConfig['evaluations']['periods'][number]

/** The month-day's place in a school year: September first, August last. */
export function schoolOrder(monthDay: string): number {
  const [month, day] = monthDay.split('-').map(Number) as [number, number]
  return (month >= 9 ? month : month + 12) * 100 + day
}

/** Whether "MM-DD" is a day of the calendar (29 February is: leap years have it). */
export function isMonthDay(monthDay: string): boolean {
  const [month, day] = monthDay.split('-').map(Number) as [number, number]
  return day <= new Date(Date.UTC(2028, month, 0)).getUTCDate()
}

/** The dates of a month-day in the school year starting on `startsOn` (YYYY-MM-DD). */
function dateIn(monthDay: string, startsOn: string): string {
  const first = Number(startsOn.slice(0, 4))
  const month = Number(monthDay.slice(0, 2))
  return `${month >= 9 ? first : first + 1}-${monthDay}`
}

/** The period's first and last day in the school year starting on `startsOn`. */
export function periodSpan(period: Period, startsOn: string): { from: string; to: string } {
  return { from: dateIn(period.from, startsOn), to: dateIn(period.to, startsOn) }
}

export function periodOf(config: TenantConfig, code: string | undefined): Period | undefined {
  return config.evaluations.periods.find((p) => p.code === code)
}

/**
 * The period teachers write for on `today`: the one it falls in; between two periods, the one just
 * ended (its evaluations are written after its last lesson); before the first, the first.
 */
export function currentPeriod(config: TenantConfig, startsOn: string, today: string): Period {
  const periods = config.evaluations.periods
  let current = periods[0]!
  for (const period of periods) if (periodSpan(period, startsOn).from <= today) current = period
  return current
}
