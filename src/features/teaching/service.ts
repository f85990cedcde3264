import type { Expression, Kysely } from 'kysely'
import { frenchOrder } from '../../platform/text.ts'
import { jsonArrayFrom } from 'kysely/helpers/postgres'
import { type TenantDb, tenantDb } from '../../entities.ts'
import type { Actor } from '../../platform/auth/context.ts'
import { type JsonOf, prepare, type Reader } from '../../platform/db/reads.ts'
import { TenantCache } from '../../platform/db/tenant-cache.ts'
import type { FamilyRef } from '../family/service.ts'
import { siteFirst } from '../shared/site.ts'

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
      'y.id as yearId',
      'y.label as yearLabel',
      'y.current as currentYear',
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
      jsonArrayFrom(
        inner
          .selectFrom('absence as a')
          .select(['a.occurred_on as occurredOn', 'a.excused', 'a.reason'])
          .whereRef('a.enrolment_id', '=', 'e.id')
          .orderBy('a.occurred_on')
          .orderBy('a.id'),
      ).as('absences'),
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

const teacherCoursesRead = prepare((db: Kysely<TenantDb>, p: { accountId: number; yearId: number }) =>
  db
    .selectFrom('course as c')
    .innerJoin('teacher as t', 't.id', 'c.teacher_id')
    .select(['c.id', 'c.name', 'c.cycle', 'c.establishment', 'c.slot'])
    .select((eb) => headcountOf(eb.ref('c.id')).as('pupils'))
    .where('t.account_id', '=', p.accountId)
    .where('c.school_year_id', '=', p.yearId),
)

/** The courses of the current year taught by the teacher behind an account, with their headcount. */
export async function coursesOfTeacher(db: Reader, account: Actor) {
  const year = await currentSchoolYear(db)
  if (!year) return { year, courses: [] }
  const courses = await teacherCoursesRead.all(db, { accountId: account.id, yearId: year.id })
  return {
    year,
    courses: courses
      .map((c) => ({ ...c, pupils: c.pupils ?? 0 }))
      .sort(
        siteFirst(
          account.establishment,
          (c) => c.establishment,
          (a, b) => frenchOrder(a.name, b.name),
        ),
      ),
  }
}
