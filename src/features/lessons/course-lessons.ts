import type { Kysely } from 'kysely'
import { jsonArrayFrom } from 'kysely/helpers/postgres'
import type { TenantDb } from '../../entities.ts'
import { audit } from '../../platform/audit/audit.ts'
import { Account } from '../../platform/auth/entities.ts'
import type { SignedInContext } from '../../platform/auth/context.ts'
import type { Em } from '../../platform/db/orm.ts'
import { prepare, type Reader } from '../../platform/db/reads.ts'
import { type FieldErrors, refusals } from '../../platform/forms.ts'
import { NotFound } from '../../platform/http/errors.ts'
import { queueMail } from '../../platform/mail/outbox.ts'
import type { TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import { formatDate } from '../../platform/views/dates.ts'
import { type Locale, type Translate, translator } from '../../platform/views/i18n.ts'
import { parseTime } from '../backoffice-courses/slots.ts'
import { normalizeDate } from '../family/identity.ts'
import { fullName, tenantToday } from '../family/service.ts'
import { Course, type CourseSlot } from '../teaching/entities.ts'
import {
  addDays,
  closureOn,
  type LessonChange,
  lessonKey,
  lessonsOf,
  parseLessonKey,
  type ScheduledLesson,
  type Span,
  weekday,
} from './calendar.ts'
import { Lesson } from './entities.ts'

/*
 * The lessons of a course as staff manage them (`/admin/cours/:id/seances`): the year's lessons with
 * the holidays between them, and one lesson cancelled, moved or restored. Each change is audited and
 * mailed to the families of the course's pupils through the outbox, in the same transaction.
 */

/** The columns of a lesson row (`lesson as l`) that change the schedule (calendar.ts LessonChange). */
export const lessonChangeColumns = [
  'l.course_id as courseId',
  'l.on',
  'l.slot',
  'l.cancelled_at as cancelledAt',
  'l.cancel_reason as cancelReason',
  'l.moved_on as movedOn',
  'l.moved_start as movedStart',
  'l.moved_end as movedEnd',
  'l.moved_room as movedRoom',
  'l.called_at as calledAt',
] as const

/** A course's lesson rows, as a subquery of a read over courses. */
export function lessonChangesOf(db: Kysely<TenantDb>, courseId: number) {
  return jsonArrayFrom(
    db.selectFrom('lesson as l').select(lessonChangeColumns).where('l.course_id', '=', courseId),
  )
}

const courseRead = prepare((db: Kysely<TenantDb>, p: { id: number }) =>
  db
    .selectFrom('course as c')
    .innerJoin('school_year as y', 'y.id', 'c.school_year_id')
    .leftJoin('teacher as t', 't.id', 'c.teacher_id')
    .select([
      'c.id',
      'c.name',
      'c.slots',
      'c.room',
      'c.teacher_id as teacherId',
      'y.id as yearId',
      'y.label as yearLabel',
      'y.starts_on as startsOn',
      'y.ends_on as endsOn',
      't.first_name as teacherFirstName',
      't.last_name as teacherLastName',
    ])
    .select(() => [lessonChangesOf(db, p.id).as('changes')])
    .where('c.id', '=', p.id),
)

export interface StaffCourse {
  id: number
  name: string
  slots: CourseSlot[]
  room: string | null
  teacherId: number | null
  teacher: string
  yearLabel: string
  year: Span
  changes: (LessonChange & { calledAt: string | null })[]
}

/** The course with its school year and its lesson rows; 404 when the tenant has no such course. */
export async function staffCourse(db: Reader, id: number): Promise<StaffCourse> {
  const row = await courseRead.first(db, { id })
  if (!row) throw new NotFound()
  return {
    id: row.id,
    name: row.name,
    slots: row.slots as CourseSlot[],
    room: row.room,
    teacherId: row.teacherId,
    teacher: fullName({ firstName: row.teacherFirstName ?? '', lastName: row.teacherLastName ?? '' }),
    yearLabel: row.yearLabel,
    year: { from: String(row.startsOn), to: String(row.endsOn) },
    changes: row.changes.map((c) => ({ ...c, on: String(c.on), movedOn: c.movedOn && String(c.movedOn) })),
  }
}

export type LessonState = 'cancelled' | 'called' | 'moved' | 'upcoming' | 'notCalled'

export interface CourseLesson extends ScheduledLesson {
  key: string
  state: LessonState
  /** The weekly slot's times, what the schedule gave before a move. */
  scheduled: { start: string; end: string }
}

/** The course's lessons of its school year, each with its state. */
export function courseLessons(course: StaffCourse, config: TenantConfig, today: string): CourseLesson[] {
  const called = new Set(
    course.changes.filter((c) => c.calledAt).map((c) => lessonKey(c.courseId, c.on, c.slot)),
  )
  return lessonsOf([course], course.year, config, course.changes).map((lesson) => {
    const key = lessonKey(course.id, lesson.on, lesson.slot)
    const weekly = course.slots[lesson.slot]!
    const state: LessonState = lesson.cancelled
      ? 'cancelled'
      : called.has(key)
        ? 'called'
        : lesson.moved
          ? 'moved'
          : lesson.date >= today
            ? 'upcoming'
            : 'notCalled'
    return { ...lesson, key, state, scheduled: { start: weekly.start, end: weekly.end } }
  })
}

export interface Closure {
  label: string
  from: string
  to: string
}

/**
 * The holidays that take one of the course's weekly days, each once over its span ("Vacances de la
 * Toussaint", "Armistice 1918"), to be shown between the lessons.
 */
export function closuresOf(course: Pick<StaffCourse, 'slots' | 'year'>, config: TenantConfig): Closure[] {
  const days = new Set(course.slots.map((s) => s.day))
  const closures: Closure[] = []
  for (let day = course.year.from; day <= course.year.to; day = addDays(day, 1)) {
    if (!days.has(weekday(day))) continue
    const label = closureOn(config, day)
    if (label === undefined) continue
    const last = closures.at(-1)
    // the same holiday over consecutive weeks is one line
    if (last && last.label === label && addDays(last.to, 14) > day) last.to = day
    else closures.push({ label, from: day, to: day })
  }
  return closures
}

/** The lessons and the holidays between them, in order of date. */
export function timeline(lessons: CourseLesson[], closures: Closure[]) {
  const items: ({ kind: 'lesson'; lesson: CourseLesson } | { kind: 'closure'; closure: Closure })[] = []
  let next = 0
  for (const lesson of lessons) {
    while (next < closures.length && closures[next]!.from < lesson.date)
      items.push({ kind: 'closure', closure: closures[next++]! })
    items.push({ kind: 'lesson', lesson })
  }
  while (next < closures.length) items.push({ kind: 'closure', closure: closures[next++]! })
  return items
}

/** One lesson of the course named by its key; 404 when the key names none of its school year. */
export function lessonOr404(course: StaffCourse, config: TenantConfig, key: string): CourseLesson {
  const named = parseLessonKey(key)
  if (!named || named.courseId !== course.id) throw new NotFound()
  const lesson = courseLessons(course, config, tenantToday(config)).find((l) => l.key === key)
  if (!lesson) throw new NotFound()
  return lesson
}

/** "mercredi 14/10/2026, 14:00 – 14:30", as the mails and pages say when a lesson is held. */
export function whenText(
  t: Translate,
  locale: Locale,
  lesson: { date: string; start: string; end: string },
): string {
  const day = new Intl.DateTimeFormat(locale === 'en' ? 'en-GB' : 'fr-FR', {
    weekday: 'long',
    timeZone: 'UTC',
  }).format(new Date(`${lesson.date}T00:00:00Z`))
  const date = formatDate(lesson.date, 'UTC', locale === 'en' ? 'en-GB' : 'fr-FR')
  return t('lessons.when', { day, date, start: lesson.start, end: lesson.end })
}

const recipientsRead = prepare((db: Kysely<TenantDb>, p: { courseId: number }) =>
  db
    .selectFrom('enrolment as e')
    .innerJoin('pupil as p', 'p.id', 'e.pupil_id')
    .innerJoin('guardian as g', 'g.family_id', 'p.family_id')
    .select([
      'p.id as pupilId',
      'p.first_name as pupilFirstName',
      'p.last_name as pupilLastName',
      'g.first_name as firstName',
      'g.last_name as lastName',
      'g.email',
    ])
    .where('e.course_id', '=', p.courseId)
    .where('e.active', '=', true)
    .where('g.email', 'is not', null)
    .orderBy('p.id')
    .orderBy('g.rank'),
)

// one address as the outbox takes it: nothing a header could read as a list
const plainAddress = /^[^\s@,;<>"()]+@[^\s@,;<>"()]+$/

/** Each guardian with an e-mail address of each active pupil of the course, once per pupil. */
async function recipientsOf(db: Reader, courseId: number) {
  const rows = await recipientsRead.all(db, { courseId })
  const seen = new Set<string>()
  return rows.flatMap((r) => {
    const to = r.email?.trim() ?? ''
    const key = `${r.pupilId} ${to.toLowerCase()}`
    if (!plainAddress.test(to) || seen.has(key)) return []
    seen.add(key)
    return [
      {
        to,
        displayName: fullName(r),
        pupil: fullName({ firstName: r.pupilFirstName, lastName: r.pupilLastName }),
      },
    ]
  })
}

type Change =
  | { kind: 'cancelled'; reason: string }
  | { kind: 'moved'; to: { date: string; start: string; end: string; room: string | null } }
  | { kind: 'restored' }

export type MoveInput = {
  date?: string
  start?: string
  end?: string
  room?: string
}

/** A cancellation's reason, or its refusal. */
export function checkCancel(t: Translate, input: { reason?: string }) {
  const reason = (input.reason ?? '').trim()
  const errors: FieldErrors = {}
  if (!reason) errors.reason = t('lessons.error.reason')
  else if (reason.length > 300) errors.reason = t('lessons.error.reasonLength')
  return { reason, errors: refusals(errors) }
}

/** Where a lesson moves to: a day of the school year that is no holiday, an end after its start. */
export function checkMove(t: Translate, config: TenantConfig, course: StaffCourse, input: MoveInput) {
  const errors: FieldErrors = {}
  const date = normalizeDate((input.date ?? '').trim())
  if (!date) errors.date = t('lessons.error.date')
  else if (date < course.year.from || date > course.year.to)
    errors.date = t('lessons.error.dateOutsideYear', {
      year: course.yearLabel,
      from: formatDate(course.year.from, 'UTC'),
      to: formatDate(course.year.to, 'UTC'),
    })
  else {
    const closure = closureOn(config, date)
    if (closure) errors.date = t('lessons.error.dateClosed', { label: closure })
  }
  const start = parseTime(input.start ?? '')
  const end = parseTime(input.end ?? '')
  if (!start) errors.start = t('lessons.error.time')
  if (!end) errors.end = t('lessons.error.time')
  else if (start && end <= start) errors.end = t('lessons.error.endBeforeStart')
  const room = (input.room ?? '').trim()
  if (room.length > 100) errors.room = t('lessons.error.roomLength')
  return {
    values: { date: date ?? '', start: start ?? '', end: end ?? '', room: room || null },
    errors: refusals(errors),
  }
}

/**
 * Records a change of one lesson on its row (created on first change), audits it and mails the
 * families of the course's pupils: cancelled (with the reason), moved (old and new date and time),
 * or restored as scheduled.
 */
export async function changeLesson(
  ctx: SignedInContext,
  course: StaffCourse,
  lesson: CourseLesson,
  change: Change,
): Promise<void> {
  const locale: Locale = ctx.config.locale ?? 'fr'
  const t = translator(locale)
  // read before the transaction: PGlite is one session
  const recipients = await recipientsOf(ctx.db, course.id)
  const was = whenText(t, locale, lesson)
  const room = (r: string | null) => r ?? ''
  await ctx.em.fork().transactional(async (tx) => {
    const row = await upsertLesson(tx, course.id, lesson)
    row.changedBy = tx.getReference(Account, ctx.account.id)
    let data: Record<string, unknown>
    if (change.kind === 'cancelled') {
      row.cancelledAt = new Date()
      row.cancelReason = change.reason
      data = { reason: change.reason }
    } else if (change.kind === 'moved') {
      row.cancelledAt = null
      row.cancelReason = null
      row.movedOn = change.to.date
      row.movedStart = change.to.start
      row.movedEnd = change.to.end
      row.movedRoom = change.to.room
      data = { now: whenText(t, locale, change.to), room: room(change.to.room ?? course.room) }
    } else {
      row.cancelledAt = null
      row.cancelReason = null
      row.movedOn = null
      row.movedStart = null
      row.movedEnd = null
      row.movedRoom = null
      data = {
        now: whenText(t, locale, { date: lesson.on, ...lesson.scheduled }),
        room: room(course.room),
      }
    }
    for (const r of recipients)
      queueMail(tx, ctx.config, locale, {
        to: r.to,
        template: 'lesson-changed',
        data: {
          displayName: r.displayName,
          pupil: r.pupil,
          course: course.name,
          change: change.kind,
          was,
          now: '',
          room: '',
          reason: '',
          ...data,
        },
      })
    audit(tx, ctx.account, {
      action: `lesson.${change.kind}`,
      subject: { type: 'course', id: course.id },
      details: {
        lesson: lesson.key,
        was: { date: lesson.date, start: lesson.start, end: lesson.end },
        ...(change.kind === 'cancelled' ? { reason: change.reason } : {}),
        ...(change.kind === 'moved' ? { to: change.to } : {}),
        mails: recipients.length,
      },
    })
  })
}

/** The lesson's row, created when nothing was recorded for it yet (course, scheduled date, slot). */
export async function upsertLesson(tx: Em, courseId: number, lesson: { on: string; slot: number }) {
  const found = await tx.findOne(Lesson, { course: courseId, on: lesson.on, slot: lesson.slot })
  if (found) return found
  return tx.create(Lesson, { course: tx.getReference(Course, courseId), on: lesson.on, slot: lesson.slot })
}

/** Today's date and the wall-clock time ("14:05") where the conservatoire is. */
export function nowIn(config: Pick<TenantConfig, 'timezone'>, now = new Date()) {
  const time = new Intl.DateTimeFormat('en-GB', {
    timeZone: config.timezone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(now)
  return { today: tenantToday(config, now), time }
}
