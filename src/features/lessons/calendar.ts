import type { TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import type { CourseSlot } from '../teaching/entities.ts'

/**
 * The lessons of courses, drawn from their weekly slots and the tenant's calendar: school holidays
 * (its YAML) and French public holidays are skipped. Dates are `YYYY-MM-DD` strings, the entities'
 * date type, and every computation runs on UTC midnights so that no time zone shifts a day.
 */

const dayMs = 86_400_000

function utc(isoDate: string): Date {
  return new Date(`${isoDate}T00:00:00Z`)
}

function iso(date: Date): string {
  return date.toISOString().slice(0, 10)
}

export function addDays(isoDate: string, days: number): string {
  return iso(new Date(utc(isoDate).getTime() + days * dayMs))
}

/** 1 for Monday … 7 for Sunday, as in `CourseSlot.day`. */
export function weekday(isoDate: string): number {
  return ((utc(isoDate).getUTCDay() + 6) % 7) + 1
}

/** The Monday of the week a date falls in. */
export function mondayOf(isoDate: string): string {
  return addDays(isoDate, 1 - weekday(isoDate))
}

/** Today's date where the conservatoire is (its `timezone`), not in UTC. */
export function todayIn(timeZone: string, now = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(now)
}

/** Easter Sunday of a year (the anonymous Gregorian computus). */
function easter(year: number): string {
  const a = year % 19
  const b = Math.floor(year / 100)
  const c = year % 100
  const d = Math.floor(b / 4)
  const e = b % 4
  const f = Math.floor((b + 8) / 25)
  const g = Math.floor((b - f + 1) / 3)
  const h = (19 * a + b - d - g + 15) % 30
  const i = Math.floor(c / 4)
  const k = c % 4
  const l = (32 + 2 * e + 2 * i - h - k) % 7
  const m = Math.floor((a + 11 * h + 22 * l) / 451)
  const month = Math.floor((h + l - 7 * m + 114) / 31)
  const day = ((h + l - 7 * m + 114) % 31) + 1
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`
}

const publicHolidayCache = new Map<number, Map<string, string>>()

/** The French public holidays (jours fériés) of a calendar year: date → name. */
export function publicHolidays(year: number): Map<string, string> {
  let found = publicHolidayCache.get(year)
  if (!found) {
    const sunday = easter(year)
    found = new Map([
      [`${year}-01-01`, 'Jour de l’an'],
      [addDays(sunday, 1), 'Lundi de Pâques'],
      [`${year}-05-01`, 'Fête du Travail'],
      [`${year}-05-08`, 'Victoire 1945'],
      [addDays(sunday, 39), 'Ascension'],
      [addDays(sunday, 50), 'Lundi de Pentecôte'],
      [`${year}-07-14`, 'Fête nationale'],
      [`${year}-08-15`, 'Assomption'],
      [`${year}-11-01`, 'Toussaint'],
      [`${year}-11-11`, 'Armistice 1918'],
      [`${year}-12-25`, 'Noël'],
    ])
    publicHolidayCache.set(year, found)
  }
  return found
}

/** Why there is no lesson on a date: the school holiday or public holiday it falls in, if any. */
export function closureOn(config: Pick<TenantConfig, 'calendar'>, date: string): string | undefined {
  const holiday = config.calendar?.holidays?.find((h) => h.from <= date && date <= h.to)
  if (holiday) return holiday.label
  return publicHolidays(Number(date.slice(0, 4))).get(date)
}

/** What a lesson row (lesson entity) changes to the schedule; only the rows of the range are needed. */
export interface LessonChange {
  courseId: number
  on: string
  slot: number
  cancelledAt: Date | string | null
  cancelReason: string | null
  movedOn: string | null
  movedStart: string | null
  movedEnd: string | null
  movedRoom: string | null
}

export interface ScheduledCourse {
  id: number
  slots: CourseSlot[]
  room: string | null
}

/** One lesson: named by course, scheduled date and slot; held on `date` from `start` to `end`. */
export interface ScheduledLesson {
  courseId: number
  on: string
  slot: number
  date: string
  start: string
  end: string
  room: string | null
  cancelled: boolean
  cancelReason: string | null
  /** True when staff moved it from its scheduled date or time. */
  moved: boolean
}

export interface Span {
  /** First and last day, both included. */
  from: string
  to: string
}

/** The scheduled (date, slot) pairs of a course within a span, holidays skipped. */
export function scheduledDates(
  slots: readonly CourseSlot[],
  span: Span,
  config: Pick<TenantConfig, 'calendar'>,
): { on: string; slot: number }[] {
  const found: { on: string; slot: number }[] = []
  for (let day = span.from; day <= span.to; day = addDays(day, 1)) {
    const dayOfWeek = weekday(day)
    for (const [slot, weekly] of slots.entries())
      if (weekly.day === dayOfWeek && closureOn(config, day) === undefined) found.push({ on: day, slot })
  }
  return found
}

/** Whether a (date, slot) names a lesson of the course within the span (its school year, say). */
export function isScheduled(
  slots: readonly CourseSlot[],
  lesson: { on: string; slot: number },
  span: Span,
  config: Pick<TenantConfig, 'calendar'>,
): boolean {
  const weekly = slots[lesson.slot]
  return (
    weekly !== undefined &&
    span.from <= lesson.on &&
    lesson.on <= span.to &&
    weekday(lesson.on) === weekly.day &&
    closureOn(config, lesson.on) === undefined
  )
}

/**
 * The lessons of courses held within a span, in order of date and time: the schedule's lessons
 * with their changes applied, and the lessons moved into the span from outside it. `changes` must
 * hold the lesson rows whose `on` or `movedOn` falls in the span.
 */
export function lessonsOf(
  courses: readonly ScheduledCourse[],
  span: Span,
  config: Pick<TenantConfig, 'calendar'>,
  changes: readonly LessonChange[],
): ScheduledLesson[] {
  const byKey = new Map(changes.map((c) => [lessonKey(c.courseId, c.on, c.slot), c]))
  const lessons: ScheduledLesson[] = []
  const add = (course: ScheduledCourse, on: string, slot: number) => {
    const weekly = course.slots[slot]
    if (!weekly) return
    const change = byKey.get(lessonKey(course.id, on, slot))
    const moved = change?.movedOn != null || change?.movedStart != null
    const date = change?.movedOn ?? on
    if (date < span.from || date > span.to) return
    lessons.push({
      courseId: course.id,
      on,
      slot,
      date,
      start: change?.movedStart ?? weekly.start,
      end: change?.movedEnd ?? weekly.end,
      room: change?.movedRoom ?? course.room,
      cancelled: change?.cancelledAt != null,
      cancelReason: change?.cancelReason ?? null,
      moved,
    })
  }
  const byId = new Map(courses.map((c) => [c.id, c]))
  for (const course of courses)
    for (const { on, slot } of scheduledDates(course.slots, span, config)) add(course, on, slot)
  // lessons scheduled outside the span but moved into it
  for (const change of changes) {
    const course = byId.get(change.courseId)
    if (course && (change.on < span.from || change.on > span.to) && change.movedOn)
      add(course, change.on, change.slot)
  }
  return lessons.sort(
    (a, b) => a.date.localeCompare(b.date) || a.start.localeCompare(b.start) || a.courseId - b.courseId,
  )
}

/** The lesson's name in URLs and maps: "<course>-<YYYY-MM-DD>-<slot>". */
export function lessonKey(courseId: number, on: string, slot: number): string {
  return `${courseId}-${on}-${slot}`
}

const keyPattern = /^(\d{1,9})-(\d{4}-\d{2}-\d{2})-(\d{1,2})$/

/** Reads a lesson key; undefined when it is not one (a 404, not a 500). */
export function parseLessonKey(key: string): { courseId: number; on: string; slot: number } | undefined {
  const match = keyPattern.exec(key)
  if (!match) return undefined
  const on = match[2]!
  if (Number.isNaN(utc(on).getTime()) || iso(utc(on)) !== on) return undefined
  return { courseId: Number(match[1]), on, slot: Number(match[3]) }
}
