import type { Account } from '../../platform/auth/entities.ts'
import type { Em } from '../../platform/db/orm.ts'
import { Course, Enrolment, SchoolYear, Teacher } from './entities.ts'

export async function currentSchoolYear(em: Em): Promise<SchoolYear | undefined> {
  return (await em.findOne(SchoolYear, { current: true })) ?? undefined
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
