/** Dates shown to people are always in the tenant's timezone, whatever the server's. */

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(
  locale: string,
  timeZone: string,
  options: Intl.DateTimeFormatOptions,
): Intl.DateTimeFormat {
  const key = `${locale}|${timeZone}|${JSON.stringify(options)}`
  let f = formatters.get(key)
  if (!f) {
    f = new Intl.DateTimeFormat(locale, { timeZone, ...options })
    formatters.set(key, f)
  }
  return f
}

const dateOnly = { day: '2-digit', month: '2-digit', year: 'numeric' } as const
const timeOnly = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' } as const

/** 11/06/2025 */
export function formatDate(value: Date | string, timeZone: string, locale = 'fr-FR'): string {
  // a plain date (YYYY-MM-DD) has no instant: show it as written, never shifted by a timezone
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) {
    return formatter(locale, 'UTC', dateOnly).format(new Date(`${value}T00:00:00Z`))
  }
  return formatter(locale, timeZone, dateOnly).format(new Date(value))
}

/** 23:59; a timestamp read as text (platform/db/reads.ts) is an instant too. */
export function formatTime(value: Date | string, timeZone: string, locale = 'fr-FR'): string {
  return formatter(locale, timeZone, timeOnly).format(typeof value === 'string' ? new Date(value) : value)
}

/** Wall-clock parts of an instant in a timezone. */
export function zonedParts(instant: Date, timeZone: string) {
  const parts = formatter('en-US', timeZone, {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(instant)
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value)
  return {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour'),
    minute: get('minute'),
    second: get('second'),
  }
}

/** The instant at which the wall clock of `timeZone` shows the given local time. */
export function zonedTimeToInstant(
  local: { year: number; month: number; day: number; hour: number; minute: number; second?: number },
  timeZone: string,
): Date {
  const asUtc = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second ?? 0)
  const offsetAt = (instant: number) => {
    const p = zonedParts(new Date(instant), timeZone)
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - instant
  }
  let instant = asUtc - offsetAt(asUtc)
  // a second pass settles the offset when the first guess crossed a DST change
  instant = asUtc - offsetAt(instant)
  return new Date(instant)
}
