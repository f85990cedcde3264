import type { Kysely } from 'kysely'
import type { TenantDb } from '../../entities.ts'
import { audit } from '../../platform/audit/audit.ts'
import { Account } from '../../platform/auth/entities.ts'
import type { SignedInContext } from '../../platform/auth/context.ts'
import { prepare, type Reader } from '../../platform/db/reads.ts'
import { type FieldErrors, refusals } from '../../platform/forms.ts'
import { NotFound } from '../../platform/http/errors.ts'
import { formatDate } from '../../platform/views/dates.ts'
import type { Translate } from '../../platform/views/i18n.ts'
import { teacherChoices } from '../backoffice-courses/service.ts'
import { normalizeDate } from '../family/identity.ts'
import { Course, Teacher } from '../teaching/entities.ts'
import type { StaffCourse } from './course-lessons.ts'
import { CourseReplacement } from './entities.ts'

/*
 * Replacement teachers: staff give a course to another teacher for a span of days of its school year.
 * The replacement then sees the course among theirs and takes its roll calls on those days
 * (access.ts); the course's own teacher keeps it.
 */

const replacementsRead = prepare((db: Kysely<TenantDb>, p: { courseId: number }) =>
  db
    .selectFrom('course_replacement as r')
    .innerJoin('teacher as t', 't.id', 'r.teacher_id')
    .select([
      'r.id',
      'r.starts_on as startsOn',
      'r.ends_on as endsOn',
      't.first_name as firstName',
      't.last_name as lastName',
    ])
    .where('r.course_id', '=', p.courseId)
    .orderBy('r.starts_on')
    .orderBy('r.id'),
)

/** The course's replacements, earliest first. */
export async function replacementsOf(db: Reader, courseId: number) {
  const rows = await replacementsRead.all(db, { courseId })
  return rows.map((r) => ({
    id: r.id,
    teacher: `${r.firstName} ${r.lastName}`,
    from: String(r.startsOn),
    to: String(r.endsOn),
  }))
}

/** The teachers a course may be given to: every teacher but its own. */
export async function replacementChoices(db: Reader, course: Pick<StaffCourse, 'teacherId'>) {
  return (await teacherChoices(db)).filter((x) => x.id !== course.teacherId)
}

export interface ReplacementInput {
  teacher?: string
  from?: string
  to?: string
}

/** A replacement's teacher and days, or its refusals. */
export function checkReplacement(
  t: Translate,
  course: StaffCourse,
  teachers: readonly { id: number }[],
  input: ReplacementInput,
) {
  const errors: FieldErrors = {}
  const teacherId = Number(input.teacher)
  if (!input.teacher) errors.teacher = t('replacements.error.teacher')
  else if (teacherId === course.teacherId) errors.teacher = t('replacements.error.ownTeacher')
  else if (!teachers.some((x) => x.id === teacherId)) errors.teacher = t('replacements.error.teacher')
  const inYear = (date: string) => course.year.from <= date && date <= course.year.to
  const yearText = {
    year: course.yearLabel,
    from: formatDate(course.year.from, 'UTC'),
    to: formatDate(course.year.to, 'UTC'),
  }
  const from = normalizeDate((input.from ?? '').trim())
  const to = normalizeDate((input.to ?? '').trim())
  if (!from) errors.from = t('replacements.error.date')
  else if (!inYear(from)) errors.from = t('lessons.error.dateOutsideYear', yearText)
  if (!to) errors.to = t('replacements.error.date')
  else if (!inYear(to)) errors.to = t('lessons.error.dateOutsideYear', yearText)
  else if (from && inYear(from) && to < from) errors.to = t('replacements.error.toBeforeFrom')
  return { values: { teacherId, from: from ?? '', to: to ?? '' }, errors: refusals(errors) }
}

export async function addReplacement(
  ctx: SignedInContext,
  course: StaffCourse,
  values: { teacherId: number; from: string; to: string },
): Promise<void> {
  await ctx.em.fork().transactional(async (tx) => {
    const teacher = await tx.findOneOrFail(Teacher, values.teacherId)
    const row = tx.create(CourseReplacement, {
      course: tx.getReference(Course, course.id),
      teacher,
      startsOn: values.from,
      endsOn: values.to,
      createdBy: tx.getReference(Account, ctx.account.id),
    })
    await tx.flush()
    audit(tx, ctx.account, {
      action: 'replacement.created',
      subject: { type: 'course', id: course.id },
      details: {
        replacement: row.id,
        teacher: { id: teacher.id, name: `${teacher.firstName} ${teacher.lastName}` },
        from: values.from,
        to: values.to,
      },
    })
  })
}

/** Takes a replacement off the course; another course's replacement is a 404. */
export async function removeReplacement(ctx: SignedInContext, courseId: number, id: number): Promise<void> {
  await ctx.em.fork().transactional(async (tx) => {
    const row = await tx.findOne(CourseReplacement, { id, course: courseId }, { populate: ['teacher'] })
    if (!row) throw new NotFound()
    audit(tx, ctx.account, {
      action: 'replacement.removed',
      subject: { type: 'course', id: courseId },
      details: {
        replacement: row.id,
        teacher: { id: row.teacher.id, name: `${row.teacher.firstName} ${row.teacher.lastName}` },
        from: row.startsOn,
        to: row.endsOn,
      },
    })
    tx.remove(row)
  })
}
