/** Dates shown to people are always in the tenant's timezone, whatever the server's. */

// a formatter costs more to make than to use: one per options object, language and timezone
const formatters = new WeakMap<Intl.DateTimeFormatOptions, Map<string, Intl.DateTimeFormat>>()

function formatter(
  locale: string,
  timeZone: string,
  options: Intl.DateTimeFormatOptions,
): Intl.DateTimeFormat {
  let byZone = formatters.get(options)
  if (!byZone) {
    byZone = new Map()
    formatters.set(options, byZone)
  }
  const key = `${locale}|${timeZone}`
  let f = byZone.get(key)
  if (!f) {
    f = new Intl.DateTimeFormat(locale, { timeZone, ...options })
    byZone.set(key, f)
  }
  return f
}

const dateOnly = { day: '2-digit', month: '2-digit', year: 'numeric' } as const
const timeOnly = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' } as const

const plainDate = /^(\d{4})-(\d{2})-(\d{2})$/

/** 11/06/2025 (French and British English write dates the same way) */
export function formatDate(value: Date | string, timeZone: string, locale = 'fr-FR'): string {
  // a plain date (YYYY-MM-DD) has no instant: shown as written, never shifted by a timezone (and
  // without Intl, which costs a page listing many dates)
  const plain = typeof value === 'string' ? plainDate.exec(value) : null
  if (plain && (locale === 'fr-FR' || locale === 'en-GB')) return `${plain[3]}/${plain[2]}/${plain[1]}`
  if (plain) return formatter(locale, 'UTC', dateOnly).format(new Date(`${value}T00:00:00Z`))
  return formatter(locale, timeZone, dateOnly).format(new Date(value))
}

/** 23:59; a timestamp read as text (platform/db/reads.ts) is an instant too. */
export function formatTime(value: Date | string, timeZone: string, locale = 'fr-FR'): string {
  return formatter(locale, timeZone, timeOnly).format(typeof value === 'string' ? new Date(value) : value)
}

const wallClock = {
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
} as const

/** Wall-clock parts of an instant in a timezone. */
export function zonedParts(instant: Date, timeZone: string) {
  const parts = formatter('en-US', timeZone, wallClock).formatToParts(instant)
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
