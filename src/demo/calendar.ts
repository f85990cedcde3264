import { type Period, periodSpan } from '../platform/tenancy/evaluation-periods.ts'

/**
 * The school calendar the demo data follows, as `YYYY-MM-DD` strings (the entities' date type). A school
 * year runs from 1 September to 31 August; its terms end before the Christmas, Easter and summer holidays.
 */

export interface SchoolYearSpan {
  /** Calendar year of its September, e.g. 2026 for 2026-2027. */
  start: number
  label: string
  startsOn: string
  endsOn: string
}

export interface Term {
  label: string
  /** When its evaluations are written: the Friday closing the term. */
  givenOn: string
}

const dayMs = 86_400_000

function iso(date: Date): string {
  return date.toISOString().slice(0, 10)
}

function utc(isoDate: string): Date {
  return new Date(`${isoDate}T00:00:00Z`)
}

function addDays(isoDate: string, days: number): string {
  return iso(new Date(utc(isoDate).getTime() + days * dayMs))
}

/** Today's date where the conservatoire is: the demo must not change school year at midnight UTC. */
export function localDate(now: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(now)
}

function schoolYear(start: number): SchoolYearSpan {
  return { start, label: `${start}-${start + 1}`, startsOn: `${start}-09-01`, endsOn: `${start + 1}-08-31` }
}

/** The school year `today` falls in, then the `past` ones before it, newest first. */
export function schoolYears(today: string, past: number): SchoolYearSpan[] {
  const [year, month] = today.split('-').map(Number) as [number, number]
  const current = month >= 9 ? year : year - 1
  return Array.from({ length: past + 1 }, (_, i) => schoolYear(current - i))
}

function fridayOnOrBefore(isoDate: string): string {
  const weekday = utc(isoDate).getUTCDay()
  return addDays(isoDate, -((weekday + 2) % 7))
}

export function terms(year: SchoolYearSpan): Term[] {
  return [
    { label: '1er trimestre', givenOn: fridayOnOrBefore(`${year.start}-12-15`) },
    { label: '2e trimestre', givenOn: fridayOnOrBefore(`${year.start + 1}-03-31`) },
    { label: '3e trimestre', givenOn: fridayOnOrBefore(`${year.start + 1}-06-15`) },
  ]
}

/** An evaluation period of the tenant's YAML, and the day the demo's teachers wrote its reports. */
export interface DonePeriod {
  code: string
  label: string
  givenOn: string
}

/**
 * The tenant's evaluation periods of `year` that are over by `today`, each reported the last Friday
 * of the period, and by mid-June at the latest: teachers write before the summer.
 */
export function periodsDone(periods: readonly Period[], year: SchoolYearSpan, today: string): DonePeriod[] {
  const lastWeek = `${year.start + 1}-06-15`
  return periods
    .map((period) => ({ period, span: periodSpan(period, year.startsOn) }))
    .filter(({ span }) => span.to < today)
    .map(({ period, span }) => ({
      code: period.code,
      label: period.label,
      givenOn: fridayOnOrBefore(span.to < lastWeek ? span.to : lastWeek),
    }))
}

/** The terms of `year` whose evaluations have been written by `today`. */
export function termsDone(year: SchoolYearSpan, today: string): Term[] {
  return terms(year).filter((term) => term.givenOn < today)
}

const weekdays = ['dimanche', 'lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi', 'samedi']

/** Day of the week (0 = Sunday) of a slot such as "Mercredi 14h00 – 15h00"; Wednesday when it names none. */
export function slotWeekday(slot: string | null | undefined): number {
  const day = weekdays.indexOf(slot?.split(' ')[0]?.toLowerCase() ?? '')
  return day < 0 ? 3 : day
}

/** The date of the `week`-th lesson (from 1) on `weekday`, lessons starting the second week of September. */
export function lessonDate(year: SchoolYearSpan, weekday: number, week: number): string {
  const firstLessonWeek = `${year.start}-09-08`
  const offset = (weekday - utc(firstLessonWeek).getUTCDay() + 7) % 7
  return addDays(firstLessonWeek, offset + (week - 1) * 7)
}
