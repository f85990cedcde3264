import { type Kysely, sql } from 'kysely'
import { jsonArrayFrom } from 'kysely/helpers/postgres'
import type { TenantDb } from '../../entities.ts'
import type { SignedInContext } from '../../platform/auth/context.ts'
import { audit } from '../../platform/audit/audit.ts'
import { prepare, type Reader } from '../../platform/db/reads.ts'
import { queueMail } from '../../platform/mail/outbox.ts'
import { frenchOrder } from '../../platform/text.ts'
import type { TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import { formatDate } from '../../platform/views/dates.ts'
import { ageOn } from '../backoffice-pupils/service.ts'
import { tenantToday } from '../family/service.ts'
import { siteFirst } from '../shared/site.ts'
import type { CourseSlot } from '../teaching/entities.ts'
import { currentSchoolYear } from '../teaching/service.ts'
import { coursesTaughtBy, type TaughtCourse, teachesOn } from './access.ts'
import { lessonChangeColumns } from './course-lessons.ts'
import {
  addDays,
  closureOn,
  isScheduled,
  type LessonChange,
  lessonKey,
  lessonsOf,
  mondayOf,
  parseLessonKey,
  type ScheduledLesson,
  type Span,
  weekday,
} from './calendar.ts'
import { type AttendanceStatus, attendanceStatuses } from './entities.ts'

/*
 * The teacher's register: the week's lessons ("Mes cours"), a course's roster and lessons, and the
 * roll call of one lesson, which the teacher (or a replacement, or staff) saves in one submit.
 */

const lessonRowsRead = prepare((db: Kysely<TenantDb>, p: { courseIds: number[]; from: string; to: string }) =>
  db
    .selectFrom('lesson as l')
    .select(['l.id', ...lessonChangeColumns])
    .where(sql<boolean>`l.course_id = any(cast(${p.courseIds} as int[]))`)
    .where((eb) =>
      eb.or([
        eb.and([eb('l.on', '>=', p.from), eb('l.on', '<=', p.to)]),
        eb.and([eb('l.moved_on', '>=', p.from), eb('l.moved_on', '<=', p.to)]),
      ]),
    ),
)

type LessonRow = Awaited<ReturnType<typeof lessonRowsRead.all>>[number]

/** The lesson rows (changes and roll calls) of courses whose lessons fall in a span, in one query. */
function lessonRowsOf(db: Reader, courseIds: number[], span: Span): Promise<LessonRow[]> {
  if (!courseIds.length) return Promise.resolve([])
  return lessonRowsRead.all(db, { courseIds, from: span.from, to: span.to })
}

const replacementsRead = prepare((db: Kysely<TenantDb>, p: { accountId: number; from: string; to: string }) =>
  db
    .selectFrom('course_replacement as r')
    .innerJoin('teacher as t', 't.id', 'r.teacher_id')
    .select(['r.course_id as courseId', 'r.starts_on as from', 'r.ends_on as to'])
    .where('t.account_id', '=', p.accountId)
    .where('r.starts_on', '<=', p.to)
    .where('r.ends_on', '>=', p.from),
)

const headcountsRead = prepare((db: Kysely<TenantDb>, p: { courseIds: number[] }) =>
  db
    .selectFrom('enrolment')
    .select((eb) => ['course_id as courseId', eb.cast<number>(eb.fn.countAll(), 'integer').as('n')])
    .where(sql<boolean>`course_id = any(cast(${p.courseIds} as int[]))`)
    .where('active', '=', true)
    .groupBy('course_id'),
)

const isoDate = /^\d{4}-\d{2}-\d{2}$/

/** The Monday a `?semaine=` names; this week's for anything else (a bad link is not an error). */
export function weekStart(value: unknown, today: string): string {
  if (typeof value === 'string' && isoDate.test(value)) {
    const date = new Date(`${value}T00:00:00Z`)
    if (!Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value && weekday(value) === 1)
      return value
  }
  return mondayOf(today)
}

const siteNames = (config: TenantConfig) => new Map(config.establishments.map((e) => [e.code, e.name]))

/** "Mes cours": the week's lessons day by day, holidays named, and the courses of the year. */
export async function teacherWeek(ctx: SignedInContext, semaine: unknown) {
  const today = tenantToday(ctx.config)
  const monday = weekStart(semaine, today)
  const span = { from: monday, to: addDays(monday, 6) }
  const year = await currentSchoolYear(ctx.db)
  const nav = { previous: addDays(monday, -7), next: addDays(monday, 7), current: mondayOf(today) }
  if (!year) return { year, monday, today, nav, days: [], courses: [], showSite: false }
  const [courses, replacements] = await Promise.all([
    coursesTaughtBy(ctx.db, ctx.account.id, year.id, span),
    replacementsRead.all(ctx.db, { accountId: ctx.account.id, ...span }),
  ])
  const ids = courses.map((c) => c.id)
  const [changes, headcounts] = await Promise.all([
    lessonRowsOf(ctx.db, ids, span),
    ids.length ? headcountsRead.all(ctx.db, { courseIds: ids }) : [],
  ])
  const sites = siteNames(ctx.config)
  const showSite = sites.size > 1
  const byId = new Map(courses.map((c) => [c.id, c]))
  const called = new Set(changes.filter((c) => c.calledAt).map((c) => lessonKey(c.courseId, c.on, c.slot)))
  const yearSpan = { from: String(year.startsOn), to: String(year.endsOn) }
  const lessons = lessonsOf(
    courses.map((c) => ({ id: c.id, slots: c.slots as CourseSlot[], room: c.room })),
    span,
    ctx.config,
    changes as LessonChange[],
  ).filter(
    (l) =>
      l.date >= yearSpan.from &&
      l.date <= yearSpan.to &&
      (byId.get(l.courseId)?.own === true ||
        replacements.some((r) => r.courseId === l.courseId && r.from <= l.date && l.date <= r.to)),
  )
  const weekdays = new Set(courses.flatMap((c) => (c.slots as { day: number }[]).map((s) => s.day)))
  const days = []
  for (let i = 0; i < 7; i++) {
    const date = addDays(monday, i)
    const ofDay = lessons.filter((l) => l.date === date)
    const closure = closureOn(ctx.config, date)
    if (!ofDay.length && !(closure && weekdays.has(weekday(date)))) continue
    days.push({
      date,
      weekday: weekday(date),
      today: date === today,
      closure: ofDay.length ? undefined : closure,
      lessons: ofDay.map((l) => {
        const course = byId.get(l.courseId)!
        const key = lessonKey(l.courseId, l.on, l.slot)
        return {
          ...l,
          key,
          name: course.name,
          site: sites.get(course.establishment) ?? course.establishment,
          replacing: !course.own,
          called: called.has(key),
          callable: !l.cancelled && l.date <= today,
        }
      }),
    })
  }
  const pupils = new Map(headcounts.map((h) => [h.courseId, h.n]))
  return {
    year,
    monday,
    today,
    nav,
    days,
    showSite,
    courses: courses
      .map((c) => ({
        id: c.id,
        name: c.name,
        cycle: c.cycle,
        site: sites.get(c.establishment) ?? c.establishment,
        establishment: c.establishment,
        slot: c.slot,
        replacing: c.own !== true,
        pupils: pupils.get(c.id) ?? 0,
      }))
      .sort(
        siteFirst(
          ctx.account.establishment,
          (c) => c.establishment,
          (a, b) => Number(a.replacing) - Number(b.replacing) || frenchOrder(a.name, b.name),
        ),
      ),
  }
}

const rosterRead = prepare((db: Kysely<TenantDb>, p: { courseId: number }) =>
  db
    .selectFrom('enrolment as e')
    .innerJoin('pupil as p', 'p.id', 'e.pupil_id')
    .select([
      'e.id as enrolmentId',
      'p.id as pupilId',
      'p.first_name as firstName',
      'p.last_name as lastName',
      'p.birth_date as birthDate',
    ])
    .select((eb) =>
      jsonArrayFrom(
        eb
          .selectFrom('guardian as g')
          .select([
            'g.first_name as firstName',
            'g.last_name as lastName',
            'g.phone_mobile as phoneMobile',
            'g.phone_home as phoneHome',
            'g.phone_work as phoneWork',
            'g.email',
          ])
          .whereRef('g.family_id', '=', 'p.family_id')
          .orderBy('g.rank'),
      ).as('guardians'),
    )
    .where('e.course_id', '=', p.courseId)
    .where('e.active', '=', true),
)

export type RosterRow = Awaited<ReturnType<typeof rosterRead.all>>[number]

/** The course's pupils (active enrolments), in the order of their names. */
export async function rosterOf(db: Reader, courseId: number): Promise<RosterRow[]> {
  const rows = await rosterRead.all(db, { courseId })
  return rows.sort((a, b) => frenchOrder(a.lastName, b.lastName) || frenchOrder(a.firstName, b.firstName))
}

const phoneLink = (phone: string) => phone.replace(/[^0-9+]/g, '')

/** The roster as the course page shows it: age, level, discipline, and the family's contacts the tenant allows. */
export function rosterLines(ctx: SignedInContext, course: TaughtCourse, rows: RosterRow[]) {
  const today = tenantToday(ctx.config)
  const contacts = ctx.config.attendance?.teacherContacts ?? 'phone-and-email'
  const discipline =
    ctx.config.disciplines?.find((d) => d.code === course.discipline)?.name ?? course.discipline
  return rows.map((row) => ({
    pupilId: row.pupilId,
    name: `${row.firstName} ${row.lastName}`,
    age: row.birthDate ? ageOn(String(row.birthDate), today) : null,
    level: course.cycle,
    discipline,
    guardians:
      contacts === 'none'
        ? []
        : row.guardians.map((g) => ({
            name: `${g.firstName} ${g.lastName}`,
            phones:
              contacts === 'phone-and-email'
                ? [g.phoneMobile, g.phoneHome, g.phoneWork]
                    .filter((p): p is string => !!p?.trim())
                    .map((p) => ({ text: p, href: `tel:${phoneLink(p)}` }))
                : [],
            email: g.email?.trim() || null,
          })),
  }))
}

/** The course's lessons of its school year: those to come (the next few) and those held, newest first. */
export async function lessonsOfCourse(ctx: SignedInContext, course: TaughtCourse, next = 6) {
  const today = tenantToday(ctx.config)
  const changes = await lessonRowsOf(ctx.db, [course.id], course.year)
  const called = new Set(changes.filter((c) => c.calledAt).map((c) => lessonKey(c.courseId, c.on, c.slot)))
  const lessons = lessonsOf([course], course.year, ctx.config, changes as LessonChange[])
    .filter((l) => teachesOn(course, l.date))
    .map((l) => {
      const key = lessonKey(l.courseId, l.on, l.slot)
      return { ...l, key, called: called.has(key), today: l.date === today }
    })
  return {
    coming: lessons.filter((l) => l.date > today).slice(0, next),
    past: lessons.filter((l) => l.date <= today).reverse(),
  }
}

const lessonStateRead = prepare((db: Kysely<TenantDb>, p: { courseId: number; on: string; slot: number }) =>
  db
    .selectFrom('lesson as l')
    .leftJoin('account as a', 'a.id', 'l.called_by_id')
    .select(['l.id', ...lessonChangeColumns, 'a.display_name as calledBy'])
    .select((eb) => [
      jsonArrayFrom(
        eb
          .selectFrom('attendance as at')
          .select(['at.enrolment_id as enrolmentId', 'at.status'])
          .whereRef('at.lesson_id', '=', 'l.id'),
      ).as('attendance'),
      jsonArrayFrom(
        eb
          .selectFrom('absence_notice as n')
          .select(['n.enrolment_id as enrolmentId', 'n.reason'])
          .whereRef('n.lesson_id', '=', 'l.id'),
      ).as('notices'),
    ])
    .where('l.course_id', '=', p.courseId)
    .where('l.on', '=', p.on)
    .where('l.slot', '=', p.slot),
)

/** A lesson opened for its roll call: the course, when and where it is held, and what was recorded. */
export interface RollCallLesson {
  key: string
  course: Pick<TaughtCourse, 'id' | 'name' | 'room' | 'establishment' | 'slots' | 'year'>
  lesson: ScheduledLesson
  calledAt: string | null
  calledBy: string | null
  saved: Map<number, AttendanceStatus>
  notices: Map<number, string>
  roster: RosterRow[]
  /** The lesson is after today: its roll call waits for its day. */
  future: boolean
}

/**
 * The lesson a key names, when it is one of the course's lessons in its school year; undefined
 * otherwise (the route answers 404). `teaches` says whether the person may act on its date.
 */
export async function rollCallLesson(
  ctx: SignedInContext,
  key: string,
  courseOf: (courseId: number) => Promise<RollCallLesson['course'] | undefined>,
  teaches: (date: string) => boolean = () => true,
): Promise<RollCallLesson | undefined> {
  const named = parseLessonKey(key)
  if (!named) return undefined
  const course = await courseOf(named.courseId)
  if (!course || !isScheduled(course.slots, named, course.year, ctx.config)) return undefined
  const [row, roster] = await Promise.all([lessonStateRead.first(ctx.db, named), rosterOf(ctx.db, course.id)])
  const change = row ? [row as LessonChange] : []
  // a lesson moved to another day is drawn over both days, the one it is named by and the one it is held on
  const [from, to] = [named.on, row?.movedOn ?? named.on].sort() as [string, string]
  const held = lessonsOf([course], { from, to }, ctx.config, change).find(
    (l) => l.on === named.on && l.slot === named.slot,
  )
  if (!held || !teaches(held.date)) return undefined
  return {
    key: lessonKey(course.id, named.on, named.slot),
    course,
    lesson: held,
    calledAt: row?.calledAt ?? null,
    calledBy: row?.calledBy ?? null,
    saved: new Map((row?.attendance ?? []).map((a) => [a.enrolmentId, a.status as AttendanceStatus])),
    notices: new Map((row?.notices ?? []).map((n) => [n.enrolmentId, n.reason])),
    roster,
    future: held.date > tenantToday(ctx.config),
  }
}

/** What the form shows for each pupil: the saved status, else excused when the family announced it, else present. */
export function shownStatus(lesson: RollCallLesson, enrolmentId: number): AttendanceStatus {
  return lesson.saved.get(enrolmentId) ?? (lesson.notices.has(enrolmentId) ? 'excused' : 'present')
}

export type RollCallErrors = Record<string, string>

/** Reads the submitted statuses: every pupil of the course gets one; an unknown pupil or status is refused. */
export function checkRollCall(
  ctx: SignedInContext,
  lesson: RollCallLesson,
  body: Record<string, unknown>,
): { statuses: Map<number, AttendanceStatus>; errors?: RollCallErrors; typed: Map<number, string> } {
  const errors: RollCallErrors = {}
  const enrolled = new Set(lesson.roster.map((r) => r.enrolmentId))
  const typed = new Map<number, string>()
  for (const [name, value] of Object.entries(body)) {
    const match = /^eleve-(\d{1,9})$/.exec(name)
    if (!match) continue
    const id = Number(match[1])
    if (!enrolled.has(id)) errors.form = ctx.t('register.error.notInCourse')
    else typed.set(id, String(value))
  }
  const statuses = new Map<number, AttendanceStatus>()
  for (const id of enrolled) {
    const value = typed.get(id)
    if (value === undefined) statuses.set(id, shownStatus(lesson, id))
    else if ((attendanceStatuses as readonly string[]).includes(value))
      statuses.set(id, value as AttendanceStatus)
    else errors[`eleve-${id}`] = ctx.t('register.error.status')
  }
  if (lesson.lesson.cancelled) errors.form = ctx.t('register.error.cancelled')
  else if (lesson.future) errors.form = ctx.t('register.error.future')
  return Object.keys(errors).length ? { statuses, errors, typed } : { statuses, typed }
}

/** Thrown when staff cancelled the lesson between the page and the submit. */
export class LessonCancelled extends Error {}

// one address as the outbox takes it: nothing a header could read as a list
const plainAddress = /^[^\s@,;<>"()]+@[^\s@,;<>"()]+$/

/**
 * Saves a roll call in one transaction: the lesson's row (first called when and by whom), each
 * pupil's status, and, unless the tenant switched it off, one mail per guardian for each absence
 * not yet mailed (`mailed_at` is set in the same statement that picks them, so an absence is
 * mailed once however many times the roll call is saved). Staff's saves are audited.
 */
export async function saveRollCall(
  ctx: SignedInContext,
  lesson: RollCallLesson,
  statuses: Map<number, AttendanceStatus>,
  options: { staff: boolean },
): Promise<{ mailed: number }> {
  const now = new Date().toISOString()
  const { course } = lesson
  const named = parseLessonKey(lesson.key)!
  const mailOn = ctx.config.attendance?.absenceMail !== false
  const locale = ctx.config.locale ?? 'fr'
  const byEnrolment = new Map(lesson.roster.map((r) => [r.enrolmentId, r]))
  const ids = [...statuses.keys()]
  const values = ids.map((id) => statuses.get(id)!)
  let mailed = 0
  await ctx.em.fork().transactional(async (tx) => {
    const db = tx.getKysely()
    const table = (name: string) => sql.table(`${tx.schema}.${name}`)
    const { rows } = await sql<{ id: number }>`insert into ${table('lesson')} as l
        (created_at, updated_at, course_id, "on", slot, called_at, called_by_id)
      values (${now}::timestamptz, ${now}::timestamptz, ${course.id}, ${named.on}::date, ${named.slot}, ${now}::timestamptz, ${ctx.account.id})
      on conflict (course_id, "on", slot) do update set
        called_at = coalesce(l.called_at, excluded.called_at),
        called_by_id = coalesce(l.called_by_id, excluded.called_by_id),
        updated_at = excluded.updated_at
      where l.cancelled_at is null
      returning l.id`.execute(db)
    const lessonId = rows[0]?.id
    if (lessonId === undefined) throw new LessonCancelled()
    if (ids.length)
      await sql`insert into ${table('attendance')} as a
          (created_at, updated_at, lesson_id, enrolment_id, status, recorded_by_id)
        select ${now}::timestamptz, ${now}::timestamptz, ${lessonId}, v.enrolment_id, v.status, ${ctx.account.id}
        from unnest(cast(${ids} as int[]), cast(${values} as text[])) as v(enrolment_id, status)
        on conflict (lesson_id, enrolment_id) do update set
          status = excluded.status, recorded_by_id = excluded.recorded_by_id, updated_at = excluded.updated_at
        where a.status <> excluded.status`.execute(db)
    if (mailOn) {
      const absent = await sql<{ enrolment_id: number }>`update ${table('attendance')}
          set mailed_at = ${now}::timestamptz
        where lesson_id = ${lessonId} and status = 'absent' and mailed_at is null
        returning enrolment_id`.execute(db)
      const dateLocale = locale === 'en' ? 'en-GB' : 'fr-FR'
      for (const { enrolment_id } of absent.rows) {
        const pupil = byEnrolment.get(enrolment_id)
        if (!pupil) continue
        const seen = new Set<string>()
        for (const guardian of pupil.guardians) {
          const to = guardian.email?.trim() ?? ''
          if (!plainAddress.test(to) || seen.has(to.toLowerCase())) continue
          seen.add(to.toLowerCase())
          queueMail(tx, ctx.config, locale, {
            to,
            template: 'absence-unexcused',
            data: {
              displayName: `${guardian.firstName} ${guardian.lastName}`,
              pupil: `${pupil.firstName} ${pupil.lastName}`,
              course: course.name,
              date: formatDate(lesson.lesson.date, ctx.config.timezone, dateLocale),
              start: lesson.lesson.start,
              end: lesson.lesson.end,
            },
          })
          mailed++
        }
      }
    }
    if (options.staff)
      audit(tx, ctx.account, {
        action: 'attendance.corrected',
        subject: { type: 'lesson', id: lessonId },
        details: {
          course: course.name,
          date: lesson.lesson.date,
          changed: ids.filter((id) => shownStatus(lesson, id) !== statuses.get(id)).length,
        },
      })
  })
  return { mailed }
}
