import { sql } from 'kysely'
import { slotText } from '../features/backoffice-courses/slots.ts'
import { tenantToday } from '../features/family/service.ts'
import { addDays, type ScheduledLesson, scheduledDates } from '../features/lessons/calendar.ts'
import { Lesson } from '../features/lessons/entities.ts'
import { Course, type CourseSlot, Enrolment, SchoolYear, Teacher } from '../features/teaching/entities.ts'
import type { Em, Orm } from '../platform/db/orm.ts'
import { schemaFor } from '../platform/tenancy/registry.ts'
import type { TenantConfig } from '../platform/tenancy/tenant-config.ts'
import { random } from './random.ts'

/**
 * The class register of the demo: demo-prof teaches every day from Monday to Saturday, so that
 * `npm start` always has a lesson to call today outside the holidays, and the past lessons of the
 * year of the teachers who have an account were called, mostly present, with a few absences and
 * late arrivals. Idempotent: the slots added are only the days missing, and a tenant with a lesson
 * called by a teacher's account is left as it is.
 */
export async function seedDemoAttendance(orm: Orm, configs: TenantConfig[]): Promise<void> {
  for (const config of configs) {
    const em = orm.em.fork({ schema: schemaFor(config.slug) })
    const year = await em.findOne(SchoolYear, { current: true })
    if (!year) continue
    await teachEveryDay(em, year)
    // seed.ts records a few absences on lessons of its own, which no teacher's account called
    if ((await em.count(Lesson, { calledBy: { $ne: null } })) > 0) continue
    await seedRollCalls(em, config, year)
  }
}

const statusDeck = [...Array.from({ length: 30 }, () => 'present'), 'absent', 'absent', 'late', 'excused']

/** The hours of a lesson added on a day: after school on weekdays, in the morning on Saturdays. */
const addedHours = (day: number) =>
  day === 6 ? { start: '10:00', end: '11:00' } : { start: '17:00', end: '18:00' }

/**
 * Gives demo-prof's courses of the year (those with pupils, the fullest first) a weekly slot on each day from
 * Monday to Saturday they lacked. A slot is appended, never inserted: a lesson is named by the index
 * of its slot.
 */
async function teachEveryDay(em: Em, year: SchoolYear): Promise<void> {
  const teacher = await em.findOne(Teacher, { account: { identifiant: 'demo-prof' } })
  if (!teacher) return
  const courses = await em.find(Course, { schoolYear: year, teacher }, { orderBy: { id: 'asc' } })
  if (!courses.length) return
  const taught = new Set(courses.flatMap((c) => c.slots.map((s) => s.day)))
  const missing = [1, 2, 3, 4, 5, 6].filter((day) => !taught.has(day))
  if (!missing.length) return
  const headcounts = new Map<number, number>()
  for (const e of await em.find(
    Enrolment,
    { course: { $in: courses }, active: true },
    { fields: ['course'] },
  ))
    headcounts.set(e.course.id, (headcounts.get(e.course.id) ?? 0) + 1)
  // a lesson without pupils has no roll call to show: the days go to the courses with pupils, if any
  const withPupils = courses.filter((c) => headcounts.has(c.id))
  const ranked = (withPupils.length ? withPupils : courses).sort(
    (a, b) => (headcounts.get(b.id) ?? 0) - (headcounts.get(a.id) ?? 0),
  )
  for (const [i, day] of missing.entries()) {
    const course = ranked[i % ranked.length]!
    course.slots = [...course.slots, { day, ...addedHours(day) }]
    course.slot = slotText(course.slots)
  }
  await em.flush()
}

/**
 * The roll calls of the year's lessons until yesterday, for the courses of the teachers who have an
 * account: one statement for the lessons, one for the pupils' statuses. Absences count as mailed
 * (the demo's outbox does not hold months of mails).
 */
async function seedRollCalls(em: Em, config: TenantConfig, year: SchoolYear): Promise<void> {
  const teachers = await em.find(Teacher, { account: { $ne: null } })
  if (!teachers.length) return
  const courses = await em.find(
    Course,
    { schoolYear: year, teacher: { $in: teachers } },
    { orderBy: { id: 'asc' } },
  )
  const enrolments = await em.find(
    Enrolment,
    { course: { $in: courses }, active: true },
    { fields: ['course'], orderBy: { id: 'asc' } },
  )
  const pupilsOf = new Map<number, number[]>()
  for (const e of enrolments) pupilsOf.set(e.course.id, [...(pupilsOf.get(e.course.id) ?? []), e.id])
  const accountOf = new Map(teachers.map((t) => [t.id, t.account!.id]))
  const yesterday = addDays(tenantToday(config), -1)
  const span = {
    from: String(year.startsOn),
    to: [yesterday, String(year.endsOn)].sort()[0]!,
  }
  if (span.from > span.to) return

  const lessons: (Pick<ScheduledLesson, 'courseId' | 'on' | 'slot'> & { end: string; by: number })[] = []
  for (const course of courses) {
    if (!pupilsOf.get(course.id)?.length || !course.teacher) continue
    for (const { on, slot } of scheduledDates(course.slots, span, config)) {
      const weekly = course.slots[slot] as CourseSlot
      lessons.push({ courseId: course.id, on, slot, end: weekly.end, by: accountOf.get(course.teacher.id)! })
    }
  }
  if (!lessons.length) return
  const table = (name: string) => sql.table(`${em.schema}.${name}`)
  await em.transactional(async (tx) => {
    const now = new Date().toISOString()
    // called at the end of each lesson, the conservatoire's time
    const { rows } = await sql<{ id: number; course_id: number; on: string; slot: number }>`
      insert into ${table('lesson')} (created_at, updated_at, course_id, "on", slot, called_at, called_by_id)
      select ${now}::timestamptz, ${now}::timestamptz, v.course_id, v.on, v.slot,
        (v.on::text || ' ' || v.ends)::timestamp at time zone ${config.timezone}, v.by
      from unnest(cast(${lessons.map((l) => l.courseId)} as int[]), cast(${lessons.map((l) => l.on)} as date[]),
        cast(${lessons.map((l) => l.slot)} as int[]), cast(${lessons.map((l) => l.end)} as text[]),
        cast(${lessons.map((l) => l.by)} as int[])) as v(course_id, "on", slot, ends, by)
      on conflict (course_id, "on", slot) do update set called_by_id = excluded.called_by_id
      returning id, course_id, "on"::text as "on", slot`.execute(tx.getKysely())
    // a shuffled deck rather than draws: every 34 statuses hold two absences, a late arrival and an excuse
    const deck = random(`${config.slug}/attendance`).deck(statusDeck)
    const byOf = new Map(lessons.map((l) => [`${l.courseId}-${l.on}-${l.slot}`, l.by]))
    const rowsOut = {
      lesson: [] as number[],
      enrolment: [] as number[],
      status: [] as string[],
      by: [] as number[],
    }
    for (const lesson of rows)
      for (const enrolment of pupilsOf.get(lesson.course_id) ?? []) {
        rowsOut.lesson.push(lesson.id)
        rowsOut.enrolment.push(enrolment)
        rowsOut.status.push(deck())
        rowsOut.by.push(byOf.get(`${lesson.course_id}-${lesson.on}-${lesson.slot}`)!)
      }
    await sql`insert into ${table('attendance')}
        (created_at, updated_at, lesson_id, enrolment_id, status, recorded_by_id, mailed_at)
      select ${now}::timestamptz, ${now}::timestamptz, v.lesson_id, v.enrolment_id, v.status, v.by,
        case when v.status = 'absent' then ${now}::timestamptz end
      from unnest(cast(${rowsOut.lesson} as int[]), cast(${rowsOut.enrolment} as int[]),
        cast(${rowsOut.status} as text[]), cast(${rowsOut.by} as int[])) as v(lesson_id, enrolment_id, status, by)
      on conflict (lesson_id, enrolment_id) do nothing`.execute(tx.getKysely())
  })
}
