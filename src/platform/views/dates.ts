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
// French and British English write dates and times the same way: 11/06/2025, 23:59
const numericLocales = new Set(['fr-FR', 'en-GB'])

// a timezone's offset only changes at its clock changes: asked of Intl once per quarter of an hour
const quarter = 15 * 60_000
const offsets = new Map<string, number>()

/** How far ahead of UTC the wall clock of `timeZone` is at `ms`, in milliseconds. */
function offsetAt(ms: number, timeZone: string): number {
  const key = `${timeZone}|${Math.floor(ms / quarter)}`
  let offset = offsets.get(key)
  if (offset === undefined) {
    const p = zonedParts(new Date(ms), timeZone)
    offset = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(ms / 1000) * 1000
    if (offsets.size > 10_000) offsets.clear()
    offsets.set(key, offset)
  }
  return offset
}

const two = (n: number) => (n < 10 ? `0${n}` : String(n))

/** The wall clock of an instant in a timezone, as a UTC date to read its fields. */
function wallClockOf(value: Date | string, timeZone: string): Date {
  const ms = typeof value === 'string' ? Date.parse(value) : value.getTime()
  return new Date(ms + offsetAt(ms, timeZone))
}

/** 11/06/2025 */
export function formatDate(value: Date | string, timeZone: string, locale = 'fr-FR'): string {
  // a plain date (YYYY-MM-DD) has no instant: shown as written, never shifted by a timezone
  const plain = typeof value === 'string' ? plainDate.exec(value) : null
  if (plain && numericLocales.has(locale)) return `${plain[3]}/${plain[2]}/${plain[1]}`
  if (plain) return formatter(locale, 'UTC', dateOnly).format(new Date(`${value}T00:00:00Z`))
  if (!numericLocales.has(locale)) return formatter(locale, timeZone, dateOnly).format(new Date(value))
  // without Intl's formatting, which costs a page listing many dates
  const wall = wallClockOf(value, timeZone)
  return `${two(wall.getUTCDate())}/${two(wall.getUTCMonth() + 1)}/${wall.getUTCFullYear()}`
}

/** 23:59; a timestamp read as text (platform/db/reads.ts) is an instant too. */
export function formatTime(value: Date | string, timeZone: string, locale = 'fr-FR'): string {
  if (!numericLocales.has(locale))
    return formatter(locale, timeZone, timeOnly).format(typeof value === 'string' ? new Date(value) : value)
  const wall = wallClockOf(value, timeZone)
  return `${two(wall.getUTCHours())}:${two(wall.getUTCMinutes())}`
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
