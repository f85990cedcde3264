import { defineEntity, type InferEntity, p } from '@mikro-orm/core'
import { Account } from '../../platform/auth/entities.ts'
import { TenantEntity } from '../../platform/db/base-entity.ts'
import { Course, Enrolment, Teacher } from '../teaching/entities.ts'

/**
 * One lesson of a course, as far as something happened to it: its roll call, a cancellation, a move
 * or an absence announced by a family. Lessons themselves are drawn from the course's weekly slots
 * and the tenant's calendar (calendar.ts); a row exists only once one of those is recorded. A lesson
 * is named by its course, the date the schedule gives it (`on`) and which weekly slot it comes from.
 */
export const Lesson = defineEntity({
  name: 'Lesson',
  schema: '*',
  extends: TenantEntity,
  uniques: [{ properties: ['course', 'on', 'slot'] }],
  properties: {
    course: () => p.manyToOne(Course).deleteRule('cascade'),
    /** The date the weekly schedule gives the lesson, kept when it is moved. */
    on: p.date(),
    /** Index of the weekly slot in `course.slots`. */
    slot: p.smallint(),
    cancelledAt: p.datetime().nullable(),
    /** Why, as staff wrote it to the families. */
    cancelReason: p.string().length(300).nullable(),
    /** Where it was moved; null when it takes place as scheduled. */
    movedOn: p.date().nullable(),
    movedStart: p.string().length(5).nullable(),
    movedEnd: p.string().length(5).nullable(),
    movedRoom: p.string().length(100).nullable(),
    changedBy: () => p.manyToOne(Account).nullable().deleteRule('set null'),
    /** When the roll call was first saved, and by whom (the teacher, a replacement or staff). */
    calledAt: p.datetime().nullable(),
    calledBy: () => p.manyToOne(Account).nullable().deleteRule('set null'),
  },
})
export type Lesson = InferEntity<typeof Lesson>

export const attendanceStatuses = ['present', 'absent', 'late', 'excused'] as const
export type AttendanceStatus = (typeof attendanceStatuses)[number]

/** A pupil's presence at one lesson, as the roll call recorded it. */
export const Attendance = defineEntity({
  name: 'Attendance',
  schema: '*',
  extends: TenantEntity,
  uniques: [{ properties: ['lesson', 'enrolment'] }],
  indexes: [{ properties: 'enrolment' }],
  properties: {
    lesson: () => p.manyToOne(Lesson).deleteRule('cascade'),
    enrolment: () => p.manyToOne(Enrolment).deleteRule('cascade'),
    status: p.enum([...attendanceStatuses]),
    recordedBy: () => p.manyToOne(Account).nullable().deleteRule('set null'),
    /** When the family was mailed about this absence; never twice for one absence. */
    mailedAt: p.datetime().nullable(),
  },
})
export type Attendance = InferEntity<typeof Attendance>

/** An absence a family announced for a coming lesson ("Signaler une absence"): the roll call shows it excused. */
export const AbsenceNotice = defineEntity({
  name: 'AbsenceNotice',
  schema: '*',
  extends: TenantEntity,
  uniques: [{ properties: ['lesson', 'enrolment'] }],
  indexes: [{ properties: 'enrolment' }],
  properties: {
    lesson: () => p.manyToOne(Lesson).deleteRule('cascade'),
    enrolment: () => p.manyToOne(Enrolment).deleteRule('cascade'),
    reason: p.string().length(300),
    announcedBy: () => p.manyToOne(Account).nullable().deleteRule('set null'),
  },
})
export type AbsenceNotice = InferEntity<typeof AbsenceNotice>

/** A teacher who takes a course in place of its own, from one day to another (both included). */
export const CourseReplacement = defineEntity({
  name: 'CourseReplacement',
  schema: '*',
  extends: TenantEntity,
  indexes: [{ properties: 'course' }, { properties: 'teacher' }],
  properties: {
    course: () => p.manyToOne(Course).deleteRule('cascade'),
    teacher: () => p.manyToOne(Teacher).deleteRule('cascade'),
    startsOn: p.date(),
    endsOn: p.date(),
    createdBy: () => p.manyToOne(Account).nullable().deleteRule('set null'),
  },
})
export type CourseReplacement = InferEntity<typeof CourseReplacement>
