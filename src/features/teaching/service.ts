import { type Expression, type Kysely, sql } from 'kysely'
import { jsonArrayFrom } from 'kysely/helpers/postgres'
import { type TenantDb, tenantDb } from '../../entities.ts'
import { type JsonOf, prepare, type Reader } from '../../platform/db/reads.ts'
import { TenantCache } from '../../platform/db/tenant-cache.ts'
import type { FamilyRef } from '../family/service.ts'

const currentYearRead = prepare((db: Kysely<TenantDb>) =>
  db
    .selectFrom('school_year')
    .select(['id', 'label', 'starts_on as startsOn', 'ends_on as endsOn'])
    .where('current', '=', true)
    .limit(1),
)

export type SchoolYearRow = NonNullable<Awaited<ReturnType<typeof currentYearRead.first>>>

/** The tenant's current school year, kept per tenant: every page of a family or a teacher needs it. */
export const schoolYears = new TenantCache((em) => currentYearRead.first(em, {}))

export function currentSchoolYear(db: Reader): Promise<SchoolYearRow | undefined> {
  return schoolYears.get(db)
}

/** "Hélène Rivière", the teacher of a course as families see it; '' when none is set yet. */
export function teacherName(row: {
  teacherFirstName: string | null
  teacherLastName: string | null
}): string {
  return [row.teacherFirstName, row.teacherLastName].filter(Boolean).join(' ')
}

/** The enrolments of a family's pupils in one school year, with their course and its teacher. */
export function enrolmentsOfFamily(familyId: FamilyRef, yearId: number) {
  return jsonArrayFrom(
    tenantDb
      .selectFrom('enrolment as e')
      .innerJoin('pupil as p', 'p.id', 'e.pupil_id')
      .innerJoin('course as c', 'c.id', 'e.course_id')
      .leftJoin('teacher as t', 't.id', 'c.teacher_id')
      .select([
        'e.id',
        'e.pupil_id as pupilId',
        'e.active',
        'c.id as courseId',
        'c.name',
        'c.discipline',
        'c.establishment',
        'c.cycle',
        'c.slot',
        't.first_name as teacherFirstName',
        't.last_name as teacherLastName',
      ])
      .where('p.family_id', '=', familyId)
      .where('c.school_year_id', '=', yearId),
  )
}

export type FamilyEnrolment = JsonOf<typeof enrolmentsOfFamily>

/** What the register says of a pupil's absence: the roll call's status, or announced by the family. */
export type AbsenceStatus = 'absent' | 'late' | 'excused' | 'announced'

/**
 * An enrolment's absences, as a subquery: the lessons the roll call marked absent, late or excused
 * (on the day the lesson was held, moved or not), and the absences the family announced that no
 * roll call has recorded yet. The reason is the one the family gave, if it announced the absence.
 */
export function absencesOf(enrolmentId: Expression<number>) {
  const held = sql<string>`coalesce(l.moved_on, l.on)`
  const recorded = tenantDb
    .selectFrom('attendance as a')
    .innerJoin('lesson as l', 'l.id', 'a.lesson_id')
    .leftJoin('absence_notice as n', (join) =>
      join.onRef('n.lesson_id', '=', 'l.id').onRef('n.enrolment_id', '=', 'a.enrolment_id'),
    )
    .select([held.as('occurredOn'), sql<AbsenceStatus>`cast(a.status as text)`.as('status'), 'n.reason'])
    .where('a.enrolment_id', '=', enrolmentId)
    .where('a.status', 'in', ['absent', 'late', 'excused'])
  const announced = tenantDb
    .selectFrom('absence_notice as n')
    .innerJoin('lesson as l', 'l.id', 'n.lesson_id')
    .select([held.as('occurredOn'), sql<AbsenceStatus>`'announced'`.as('status'), 'n.reason'])
    .where('n.enrolment_id', '=', enrolmentId)
    .where('l.cancelled_at', 'is', null)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('attendance as x')
            .select('x.id')
            .whereRef('x.lesson_id', '=', 'n.lesson_id')
            .whereRef('x.enrolment_id', '=', 'n.enrolment_id'),
        ),
      ),
    )
  return jsonArrayFrom(recorded.unionAll(announced).orderBy('occurredOn'))
}

/** A course as the Cours and Historique tabs list it: the course, its teacher, evaluations and absences. */
export function followedCourses(where: { pupilId: number; yearId?: number; enrolmentId?: number }) {
  let query = tenantDb
    .selectFrom('enrolment as e')
    .innerJoin('course as c', 'c.id', 'e.course_id')
    .innerJoin('school_year as y', 'y.id', 'c.school_year_id')
    .leftJoin('teacher as t', 't.id', 'c.teacher_id')
    .select([
      'e.id',
      'c.name',
      'c.discipline',
      'c.establishment',
      'c.cycle',
      'c.slot',
      'c.id as courseId',
      'c.slots',
      'c.room',
      'y.id as yearId',
      'y.label as yearLabel',
      'y.current as currentYear',
      'y.starts_on as yearStartsOn',
      'y.ends_on as yearEndsOn',
      't.first_name as teacherFirstName',
      't.last_name as teacherLastName',
    ])
    .select((inner) => [
      jsonArrayFrom(
        inner
          .selectFrom('evaluation as v')
          .select([
            'v.period',
            'v.term',
            'v.given_on as givenOn',
            'v.appreciation',
            'v.grade',
            'v.level',
            'v.criteria',
          ])
          .whereRef('v.enrolment_id', '=', 'e.id')
          // families read an evaluation once the teacher published it, never a draft
          .where('v.status', '=', 'published')
          .orderBy('v.given_on')
          .orderBy('v.id'),
      ).as('evaluations'),
      absencesOf(inner.ref('e.id')).as('absences'),
    ])
    .where('e.pupil_id', '=', where.pupilId)
    // a pupil taken off a course by staff no longer follows it
    .where('e.active', '=', true)
  if (where.yearId !== undefined) query = query.where('c.school_year_id', '=', where.yearId)
  if (where.enrolmentId !== undefined) query = query.where('e.id', '=', where.enrolmentId)
  return jsonArrayFrom(query)
}

export type FollowedCourse = JsonOf<typeof followedCourses>

/**
 * The pupil's courses of the school years before the current one (all of them when there is no
 * current year), newest year first: the Historique tab.
 */
export function pastCoursesOf(pupilId: number, currentYearId: number) {
  return jsonArrayFrom(
    tenantDb
      .selectFrom('enrolment as e')
      .innerJoin('course as c', 'c.id', 'e.course_id')
      .innerJoin('school_year as y', 'y.id', 'c.school_year_id')
      .select(['y.id as yearId', 'y.label as yearLabel', 'c.name', 'c.discipline'])
      .where('e.pupil_id', '=', pupilId)
      .where('e.active', '=', true)
      .where('y.current', '=', false)
      .where((inner) =>
        inner.or([
          inner(
            'y.starts_on',
            '<',
            inner.selectFrom('school_year').select('starts_on').where('id', '=', currentYearId),
          ),
          inner.not(
            inner.exists(inner.selectFrom('school_year').select('id').where('id', '=', currentYearId)),
          ),
        ]),
      )
      .orderBy('y.starts_on', 'desc'),
  )
}

export type PastCourse = JsonOf<typeof pastCoursesOf>

/** The pupils a course has (its active enrolments), as a subquery of a read over courses. */
export function headcountOf(courseId: Expression<number>) {
  return tenantDb
    .selectFrom('enrolment as hc')
    .select((eb) => eb.cast<number>(eb.fn.countAll(), 'integer').as('n'))
    .where('hc.course_id', '=', courseId)
    .where('hc.active', '=', true)
}
