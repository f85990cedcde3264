import type { Kysely } from 'kysely'
import { jsonArrayFrom } from 'kysely/helpers/postgres'
import type { TenantDb } from '../../entities.ts'
import { audit } from '../../platform/audit/audit.ts'
import { Account } from '../../platform/auth/entities.ts'
import type { SignedInContext } from '../../platform/auth/context.ts'
import { prepare } from '../../platform/db/reads.ts'
import { type FieldErrors, refusals } from '../../platform/forms.ts'
import { NotFound } from '../../platform/http/errors.ts'
import { Enrolment, type CourseSlot } from '../teaching/entities.ts'
import { lessonKey, lessonsOf, parseLessonKey, type ScheduledLesson, type Span } from './calendar.ts'
import { lessonChangesOf, nowIn, upsertLesson } from './course-lessons.ts'
import { AbsenceNotice } from './entities.ts'

/*
 * "Signaler une absence": a family announces that its pupil will miss one of the course's coming
 * lessons, with a reason; the teacher's roll call shows the pupil excused. A notice can be withdrawn
 * until the lesson starts. Only the current year's courses take notices.
 */

/** The course of an enrolment of the current year, as the Cours tab's course page gives it. */
export interface NoticeCourse {
  enrolmentId: number
  courseId: number
  slots: CourseSlot[]
  room: string | null
  year: Span
}

/** How many coming lessons the form offers. */
const offered = 8

const noticesRead = prepare((db: Kysely<TenantDb>, p: { enrolmentId: number; courseId: number }) =>
  db.selectNoFrom([
    lessonChangesOf(db, p.courseId).as('changes'),
    jsonArrayFrom(
      db
        .selectFrom('absence_notice as n')
        .innerJoin('lesson as l', 'l.id', 'n.lesson_id')
        .select(['l.on', 'l.slot', 'n.reason'])
        .where('n.enrolment_id', '=', p.enrolmentId),
    ).as('notices'),
  ]),
)

export interface AnnouncedAbsence {
  key: string
  lesson: ScheduledLesson
  reason: string
}

/**
 * The coming lessons a family may announce an absence for (the next few, neither cancelled nor
 * started: today's lesson until its start), and the absences it announced for lessons to come.
 */
export async function noticesOf(ctx: SignedInContext, course: NoticeCourse, now = new Date()) {
  const found = await noticesRead.first(ctx.db, {
    enrolmentId: course.enrolmentId,
    courseId: course.courseId,
  })
  const changes = (found?.changes ?? []).map((c) => ({
    ...c,
    on: String(c.on),
    movedOn: c.movedOn && String(c.movedOn),
  }))
  const { today, time } = nowIn(ctx.config, now)
  const coming = (l: ScheduledLesson) => l.date > today || (l.date === today && l.start > time)
  const lessons = lessonsOf(
    [{ id: course.courseId, slots: course.slots, room: course.room }],
    course.year,
    ctx.config,
    changes,
  )
  const byKey = new Map(lessons.map((l) => [lessonKey(l.courseId, l.on, l.slot), l]))
  const announced: AnnouncedAbsence[] = []
  for (const n of found?.notices ?? []) {
    const key = lessonKey(course.courseId, String(n.on), n.slot)
    const lesson = byKey.get(key)
    if (lesson && coming(lesson)) announced.push({ key, lesson, reason: n.reason })
  }
  announced.sort(
    (a, b) => a.lesson.date.localeCompare(b.lesson.date) || a.lesson.start.localeCompare(b.lesson.start),
  )
  const taken = new Set(announced.map((a) => a.key))
  const open = lessons.filter((l) => !l.cancelled && coming(l))
  return {
    /** Every lesson a notice may name, beyond those the form lists. */
    open: new Map(open.map((l) => [lessonKey(l.courseId, l.on, l.slot), l])),
    upcoming: open
      .filter((l) => !taken.has(lessonKey(l.courseId, l.on, l.slot)))
      .slice(0, offered)
      .map((l) => ({ key: lessonKey(l.courseId, l.on, l.slot), lesson: l })),
    announced,
  }
}

export type Notices = Awaited<ReturnType<typeof noticesOf>>

export interface NoticeInput {
  lesson?: string
  reason?: string
}

/** Records the family's notice (its reason replaces an earlier one for the same lesson), or its refusals. */
export async function announceAbsence(
  ctx: SignedInContext,
  course: NoticeCourse,
  notices: Notices,
  input: NoticeInput,
): Promise<FieldErrors | undefined> {
  const errors: FieldErrors = {}
  const lesson = input.lesson ? notices.open.get(input.lesson) : undefined
  if (!input.lesson) errors.lesson = ctx.t('notices.error.lesson')
  else if (!lesson) errors.lesson = ctx.t('notices.error.notScheduled')
  const reason = (input.reason ?? '').trim()
  if (!reason) errors.reason = ctx.t('notices.error.reason')
  else if (reason.length > 300) errors.reason = ctx.t('notices.error.reasonLength')
  if (refusals(errors) || !lesson) return errors
  await ctx.em.fork().transactional(async (tx) => {
    const row = await upsertLesson(tx, course.courseId, lesson)
    const enrolment = tx.getReference(Enrolment, course.enrolmentId)
    const existing = row.id === undefined ? null : await tx.findOne(AbsenceNotice, { lesson: row, enrolment })
    const announcedBy = tx.getReference(Account, ctx.account.id)
    if (existing) Object.assign(existing, { reason, announcedBy })
    else tx.create(AbsenceNotice, { lesson: row, enrolment, reason, announcedBy })
    audit(tx, ctx.account, {
      action: 'absence.announced',
      subject: { type: 'enrolment', id: course.enrolmentId },
      details: { lesson: input.lesson, date: lesson.date },
    })
  })
  return undefined
}

/** Withdraws a notice before its lesson starts; a lesson begun or past is refused, an unknown notice is a 404. */
export async function withdrawAbsence(
  ctx: SignedInContext,
  course: NoticeCourse,
  notices: Notices,
  key: string,
): Promise<string | undefined> {
  const named = parseLessonKey(key)
  if (!named || named.courseId !== course.courseId) throw new NotFound()
  const announced = notices.announced.find((a) => a.key === key)
  return ctx.em.fork().transactional(async (tx) => {
    const notice = await tx.findOne(AbsenceNotice, {
      enrolment: course.enrolmentId,
      lesson: { course: course.courseId, on: named.on, slot: named.slot },
    })
    if (!notice) throw new NotFound()
    // the lesson has begun or is over: the notice is what the roll call read
    if (!announced) return ctx.t('notices.error.started')
    tx.remove(notice)
    audit(tx, ctx.account, {
      action: 'absence.withdrawn',
      subject: { type: 'enrolment', id: course.enrolmentId },
      details: { lesson: key, date: announced.lesson.date },
    })
    return undefined
  })
}
