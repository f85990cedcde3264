import { zonedParts, zonedTimeToInstant } from '../views/dates.ts'

export interface PeriodSpec {
  opens: string
  closes: string
}

export interface Period {
  opens: Date
  closes: Date
  open: boolean
}

/**
 * Resolves a bound written in the tenant's YAML to an instant. Dates are wall-clock dates in the
 * tenant's timezone; a bound without a time opens at 00:00 and closes at 23:59:59 that day, so
 * "closes: 2025-06-11" reads to families as "Jusqu'au 11/06/2025 à 23:59" and is enforced so.
 */
export function resolveBound(spec: string, edge: 'opens' | 'closes', timeZone: string, now: Date): Date {
  let year: number
  let month: number
  let day: number
  let hour = edge === 'opens' ? 0 : 23
  let minute = edge === 'opens' ? 0 : 59
  let second = edge === 'opens' ? 0 : 59
  const relative = /^today([+-]\d+)?$/.exec(spec)
  if (relative) {
    const today = zonedParts(now, timeZone)
    const shifted = new Date(Date.UTC(today.year, today.month - 1, today.day + Number(relative[1] ?? 0)))
    year = shifted.getUTCFullYear()
    month = shifted.getUTCMonth() + 1
    day = shifted.getUTCDate()
  } else {
    const [datePart, timePart] = spec.split('T') as [string, string | undefined]
    ;[year, month, day] = datePart.split('-').map(Number) as [number, number, number]
    if (timePart) {
      ;[hour, minute] = timePart.split(':').map(Number) as [number, number]
      second = edge === 'opens' ? 0 : 59
    }
  }
  const instant = zonedTimeToInstant({ year, month, day, hour, minute, second }, timeZone)
  return edge === 'closes' ? new Date(instant.getTime() + 999) : instant
}

export function resolvePeriod(
  spec: PeriodSpec | undefined,
  timeZone: string,
  now = new Date(),
): Period | undefined {
  if (!spec) return undefined
  const { opens, closes } = bounds(spec, timeZone, now)
  return { opens, closes, open: now >= opens && now <= closes }
}

const boundsCache = new Map<string, { opens: Date; closes: Date }>()

/**
 * The instants of a period, computed once: every family page asks whether the re-enrolment is
 * open, and the timezone arithmetic costs more than the rest of the check. Dates written in full
 * never move; "today±N" (the demo's) moves with the day, so its key holds the minute.
 */
function bounds(spec: PeriodSpec, timeZone: string, now: Date) {
  const relative = spec.opens.startsWith('today') || spec.closes.startsWith('today')
  const key = `${spec.opens}|${spec.closes}|${timeZone}${relative ? `|${Math.floor(now.getTime() / 60_000)}` : ''}`
  let found = boundsCache.get(key)
  if (!found) {
    if (boundsCache.size > 1000) boundsCache.clear()
    found = {
      opens: resolveBound(spec.opens, 'opens', timeZone, now),
      closes: resolveBound(spec.closes, 'closes', timeZone, now),
    }
    boundsCache.set(key, found)
  }
  return found
}
