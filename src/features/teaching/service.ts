import type { Account } from '../../platform/auth/entities.ts'
import { oncePerEm } from '../../platform/db/memo.ts'
import type { Em } from '../../platform/db/orm.ts'
import { selectEntities, tableOf } from '../../platform/db/rows.ts'
import { NotFound } from '../../platform/http/errors.ts'
import type { Pupil } from '../pupils/entities.ts'
import { Absence, Course, Enrolment, Evaluation, SchoolYear, Teacher } from './entities.ts'

export function currentSchoolYear(em: Em): Promise<SchoolYear | undefined> {
  return oncePerEm(
    em,
    'currentSchoolYear',
    async () => (await em.findOne(SchoolYear, { current: true })) ?? undefined,
  )
}

/**
 * The pupil's active enrolments of the current school year with their course and its teacher, read
 * once per request: the courses step, the summary and the documents' conditions all ask for them.
 */
export function currentEnrolments(em: Em, pupil: Pupil): Promise<Enrolment[]> {
  // plain SQL, see db/rows.ts; the year is the one currentSchoolYear reads
  return oncePerEm(em, `currentEnrolments:${pupil.id}`, () =>
    selectEntities(
      em,
      Enrolment,
      'e',
      `join ${tableOf(em, Course)} c on c.id = e.course_id
       left join ${tableOf(em, Teacher)} t on t.id = c.teacher_id
       where e.pupil_id = $1 and e.active
         and c.school_year_id = (select id from ${tableOf(em, SchoolYear)} where current = true limit 1)`,
      [pupil.id],
      [
        { entity: Teacher, alias: 't' },
        { entity: Course, alias: 'c' },
      ],
    ),
  )
}

export interface TeacherCourse {
  course: Course
  pupils: number
}

/** The courses of the current year taught by the teacher behind an account, with their headcount. */
export async function coursesOfTeacher(
  em: Em,
  account: Account,
): Promise<{ year?: SchoolYear; courses: TeacherCourse[] }> {
  const [teacher, year] = await Promise.all([em.findOne(Teacher, { account }), currentSchoolYear(em)])
  if (!teacher || !year) return { year, courses: [] }
  const courses = (await em.find(Course, { teacher, schoolYear: year })).sort((a, b) =>
    a.name.localeCompare(b.name, 'fr'),
  )
  const enrolments = await em.find(
    Enrolment,
    { course: { $in: courses }, active: true },
    { fields: ['course'] },
  )
  const byCourse = new Map<number, number>()
  for (const e of enrolments) byCourse.set(e.course.id, (byCourse.get(e.course.id) ?? 0) + 1)
  return { year, courses: courses.map((course) => ({ course, pupils: byCourse.get(course.id) ?? 0 })) }
}

/** A pupil's course of some year as the Cours and Historique tabs list it, with its follow-up. */
export interface PupilCourse {
  enrolment: Enrolment
  course: Course
  evaluations: Evaluation[]
  absences: Absence[]
}

async function withFollowUp(em: Em, enrolments: Enrolment[]): Promise<PupilCourse[]> {
  const [evaluations, absences] = await Promise.all([
    em.find(Evaluation, { enrolment: { $in: enrolments } }, { orderBy: { givenOn: 'asc', id: 'asc' } }),
    em.find(Absence, { enrolment: { $in: enrolments } }, { orderBy: { occurredOn: 'asc', id: 'asc' } }),
  ])
  return enrolments
    .map((enrolment) => ({
      enrolment,
      course: enrolment.course,
      evaluations: evaluations.filter((e) => e.enrolment.id === enrolment.id),
      absences: absences.filter((a) => a.enrolment.id === enrolment.id),
    }))
    .sort((a, b) => a.course.name.localeCompare(b.course.name, 'fr'))
}

/** The pupil's courses of one school year, with their teacher, evaluations and absences. */
export async function coursesOfPupil(em: Em, pupil: Pupil, year: SchoolYear): Promise<PupilCourse[]> {
  const enrolments = await em.find(
    Enrolment,
    { pupil, course: { schoolYear: year } },
    { populate: ['course', 'course.teacher'] },
  )
  return withFollowUp(em, enrolments)
}

/** One of the pupil's enrolments, of any year; another pupil's id is as unknown as a missing one. */
export async function enrolmentOfPupil(em: Em, pupil: Pupil, id: number): Promise<PupilCourse> {
  const enrolment = await em.findOne(
    Enrolment,
    { id, pupil },
    { populate: ['course', 'course.teacher', 'course.schoolYear'] },
  )
  if (!enrolment) throw new NotFound()
  const [found] = await withFollowUp(em, [enrolment])
  return found!
}

/** The school years before the current one in which the pupil had courses, newest first. */
export async function pastYearsOf(em: Em, pupil: Pupil): Promise<{ year: SchoolYear; courses: Course[] }[]> {
  const current = await currentSchoolYear(em)
  const enrolments = await em.find(
    Enrolment,
    {
      pupil,
      course: { schoolYear: { current: false, ...(current ? { startsOn: { $lt: current.startsOn } } : {}) } },
    },
    { populate: ['course', 'course.schoolYear', 'course.teacher'] },
  )
  const byYear = new Map<number, { year: SchoolYear; courses: Course[] }>()
  for (const { course } of enrolments) {
    const entry = byYear.get(course.schoolYear.id) ?? { year: course.schoolYear, courses: [] }
    entry.courses.push(course)
    byYear.set(course.schoolYear.id, entry)
  }
  return [...byYear.values()]
    .sort((a, b) => b.year.startsOn.localeCompare(a.year.startsOn))
    .map((entry) => ({ ...entry, courses: entry.courses.sort((a, b) => a.name.localeCompare(b.name, 'fr')) }))
}
