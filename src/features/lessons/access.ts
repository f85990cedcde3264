import { type Kysely, sql } from 'kysely'
import type { TenantDb } from '../../entities.ts'
import { prepare, type Reader } from '../../platform/db/reads.ts'
import type { CourseSlot } from '../teaching/entities.ts'
import type { Span } from './calendar.ts'

/*
 * Which courses a teacher may see and change: the courses they teach, and the courses they replace
 * another teacher in for a span of days (staff give those). Anything else is a 404 for them: a
 * teacher never learns that another teacher's course or pupil exists.
 */

const courseOfAccountRead = prepare((db: Kysely<TenantDb>, p: { accountId: number; courseId: number }) =>
  db
    .selectFrom('course as c')
    .innerJoin('school_year as y', 'y.id', 'c.school_year_id')
    .leftJoin('teacher as t', 't.id', 'c.teacher_id')
    .select([
      'c.id',
      'c.name',
      'c.cycle',
      'c.discipline',
      'c.establishment',
      'c.slot',
      'c.slots',
      'c.room',
      'y.id as yearId',
      'y.label as yearLabel',
      'y.starts_on as startsOn',
      'y.ends_on as endsOn',
    ])
    .select((eb) => [
      eb('t.account_id', '=', p.accountId).as('own'),
      eb
        .selectFrom('course_replacement as r')
        .innerJoin('teacher as rt', 'rt.id', 'r.teacher_id')
        .select((inner) =>
          inner.fn
            .coalesce(
              inner.fn.jsonAgg(
                inner.fn('json_build_object', [
                  sql.lit('from'),
                  inner.ref('r.starts_on'),
                  sql.lit('to'),
                  inner.ref('r.ends_on'),
                ]),
              ),
              inner.val('[]'),
            )
            .as('spans'),
        )
        .whereRef('r.course_id', '=', 'c.id')
        .where('rt.account_id', '=', p.accountId)
        .as('replacing'),
    ])
    .where('c.id', '=', p.courseId),
)

export interface TaughtCourse {
  id: number
  name: string
  cycle: string | null
  discipline: string
  establishment: string
  slot: string | null
  slots: CourseSlot[]
  room: string | null
  yearId: number
  yearLabel: string
  /** The course's school year, the span its lessons are drawn in. */
  year: Span
  /** True for the course's own teacher. */
  own: boolean
  /** The spans in which the account replaces the course's teacher. */
  replacing: Span[]
}

/**
 * The course, when the teacher behind the account teaches it or replaces its teacher at some point;
 * undefined otherwise (the route answers 404).
 */
export async function taughtCourse(
  db: Reader,
  accountId: number,
  courseId: number,
): Promise<TaughtCourse | undefined> {
  const row = await courseOfAccountRead.first(db, { accountId, courseId })
  if (!row) return undefined
  const replacing = (row.replacing ?? []) as unknown as Span[]
  const own = row.own === true
  if (!own && replacing.length === 0) return undefined
  return {
    id: row.id,
    name: row.name,
    cycle: row.cycle,
    discipline: row.discipline,
    establishment: row.establishment,
    slot: row.slot,
    slots: row.slots as CourseSlot[],
    room: row.room,
    yearId: row.yearId,
    yearLabel: row.yearLabel,
    year: { from: String(row.startsOn), to: String(row.endsOn) },
    own,
    replacing,
  }
}

/** Whether the teacher may take the roll call of (or otherwise act on) the course's lesson of that date. */
export function teachesOn(course: Pick<TaughtCourse, 'own' | 'replacing'>, date: string): boolean {
  return course.own || course.replacing.some((span) => span.from <= date && date <= span.to)
}

const coursesOfAccountRead = prepare(
  (db: Kysely<TenantDb>, p: { accountId: number; yearId: number; from: string; to: string }) =>
    db
      .selectFrom('course as c')
      .leftJoin('teacher as t', 't.id', 'c.teacher_id')
      .select(['c.id', 'c.name', 'c.cycle', 'c.establishment', 'c.slot', 'c.slots', 'c.room'])
      .select((eb) => eb('t.account_id', '=', p.accountId).as('own'))
      .where('c.school_year_id', '=', p.yearId)
      .where((eb) =>
        eb.or([
          eb('t.account_id', '=', p.accountId),
          eb.exists(
            eb
              .selectFrom('course_replacement as r')
              .innerJoin('teacher as rt', 'rt.id', 'r.teacher_id')
              .select('r.id')
              .whereRef('r.course_id', '=', 'c.id')
              .where('rt.account_id', '=', p.accountId)
              .where('r.starts_on', '<=', p.to)
              .where('r.ends_on', '>=', p.from),
          ),
        ]),
      ),
)

/**
 * The courses of a school year the teacher behind the account teaches, with those they replace
 * another teacher in at some day of the span (a week, for "Mes cours").
 */
export function coursesTaughtBy(db: Reader, accountId: number, yearId: number, span: Span) {
  return coursesOfAccountRead.all(db, { accountId, yearId, from: span.from, to: span.to })
}
