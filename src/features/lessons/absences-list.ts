import { type Kysely, type SqlBool, sql } from 'kysely'
import { jsonArrayFrom } from 'kysely/helpers/postgres'
import { type TenantDb, tenantDb } from '../../entities.ts'
import type { SignedInContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import { spreadsheetCsv } from '../../platform/csv.ts'
import { prepare } from '../../platform/db/reads.ts'
import { type Checked, type FieldErrors, refusals } from '../../platform/forms.ts'
import { offsetOf, pageSize } from '../../platform/http/pagination.ts'
import { frenchOrder } from '../../platform/text.ts'
import { normalizeDate } from '../family/identity.ts'
import { fullName, tenantToday } from '../family/service.ts'
import { currentSchoolYear, teacherName } from '../teaching/service.ts'

/*
 * Staff's list of unexcused absences (/admin/absences): the pupils with at least one unexcused
 * absence over a period, most absences first, with their lateness and excused absences beside. A
 * lesson counts on the day it took place (its new day when it was moved); a cancelled lesson does not
 * count. The roll call's rows are the source: Attendance joined to its Lesson.
 */

/** The list's querystring as typed, in French like the other staff pages' paths. */
export interface AbsencesQuery {
  du?: string
  au?: string
  site?: string
  cours?: number
  professeur?: number
  page?: number
}

export interface AbsencesFilters {
  from: string
  to: string
  site: string | null
  course: number | null
  teacher: number | null
}

/**
 * The period by default: the current school year from its first day up to today (its last day once
 * it is over); today alone when the tenant has no current year.
 */
async function defaultPeriod(ctx: SignedInContext) {
  const today = tenantToday(ctx.config)
  const year = await currentSchoolYear(ctx.db)
  if (!year) return { from: today, to: today }
  const from = String(year.startsOn)
  const end = String(year.endsOn)
  // ISO dates sort as they follow each other
  const to = [today, end].sort()[0]!
  return { from, to: [to, from].sort()[1]! }
}

/** Checks the period and filters: a French message beside a date not understood, or in the wrong order. */
export async function checkAbsencesQuery(
  ctx: SignedInContext,
  query: AbsencesQuery,
): Promise<Checked<AbsencesFilters> & { input: { du: string; au: string } }> {
  const { t } = ctx
  const errors: FieldErrors = {}
  const period = await defaultPeriod(ctx)
  const input = { du: query.du?.trim() ?? '', au: query.au?.trim() ?? '' }
  const day = (name: 'du' | 'au', fallback: string) => {
    if (!input[name]) {
      input[name] = fallback
      return fallback
    }
    const date = normalizeDate(input[name])
    if (!date) errors[name] = t('absencesList.error.date')
    return date ?? fallback
  }
  const from = day('du', period.from)
  const to = day('au', period.to)
  if (!errors.du && !errors.au && to < from) errors.au = t('absencesList.error.order')
  const site = query.site && ctx.config.establishments.some((e) => e.code === query.site) ? query.site : null
  if (query.site && !site) errors.site = t('absencesList.error.site')
  return {
    values: { from, to, site, course: query.cours ?? null, teacher: query.professeur ?? null },
    errors: refusals(errors),
    input,
  }
}

type RankingParams = {
  from: string
  to: string
  site: string | null
  course: number | null
  teacher: number | null
  yearId: number
  offset: number
  limit: number
}

/**
 * One statement for the page: how many pupils have an unexcused absence in the period, the page's
 * pupils with their counts, courses and guardians, and this year's courses and teachers for the
 * filters. The filters are SQL on bound values (`is null or …`), the statement the same whatever is
 * asked.
 */
const rankingRead = prepare((db: Kysely<TenantDb>, p: RankingParams) => {
  const text = (value: string | null) => sql<string | null>`cast(${value} as text)`
  const int = (value: number | null) => sql<number | null>`cast(${value} as integer)`
  const count = (status: string) =>
    sql<number>`cast(count(*) filter (where ${sql.ref('a.status')} = ${sql.lit(status)}) as integer)`
  const counted = db
    .selectFrom('attendance as a')
    .innerJoin('lesson as l', 'l.id', 'a.lesson_id')
    .innerJoin('enrolment as e', 'e.id', 'a.enrolment_id')
    .innerJoin('course as c', 'c.id', 'e.course_id')
    .innerJoin('pupil as p', 'p.id', 'e.pupil_id')
    .innerJoin('family as f', 'f.id', 'p.family_id')
    .where('f.erased_at', 'is', null)
    .where('l.cancelled_at', 'is', null)
    .where('a.status', '!=', 'present')
    .where(
      sql<SqlBool>`coalesce(${sql.ref('l.moved_on')}, ${sql.ref('l.on')}) between cast(${p.from} as date) and cast(${p.to} as date)`,
    )
    .where(sql<SqlBool>`(${text(p.site)} is null or c.establishment = ${text(p.site)})`)
    .where(sql<SqlBool>`(${int(p.course)} is null or c.id = ${int(p.course)})`)
    .where(sql<SqlBool>`(${int(p.teacher)} is null or c.teacher_id = ${int(p.teacher)})`)
    .groupBy([
      'p.id',
      'p.family_id',
      'p.first_name',
      'p.last_name',
      'p.folded_last_name',
      'p.folded_first_name',
    ])
    .having(sql<SqlBool>`count(*) filter (where ${sql.ref('a.status')} = 'absent') > 0`)
    .select([
      'p.id',
      'p.family_id',
      'p.first_name',
      'p.last_name',
      'p.folded_last_name as sort_last',
      'p.folded_first_name as sort_first',
      count('absent').as('unexcused'),
      count('late').as('late'),
      count('excused').as('excused'),
      sql<string[]>`json_agg(distinct c.name)`.as('courses'),
    ])
  return db
    .with('m', () => counted)
    .selectNoFrom((eb) => [
      eb
        .selectFrom('m')
        .select((inner) => inner.cast<number>(inner.fn.countAll(), 'integer').as('n'))
        .as('total'),
      jsonArrayFrom(
        eb
          .selectFrom('m')
          .select([
            'm.id',
            'm.family_id as familyId',
            'm.first_name as firstName',
            'm.last_name as lastName',
            'm.unexcused',
            'm.late',
            'm.excused',
            'm.courses',
          ])
          .select((inner) =>
            jsonArrayFrom(
              inner
                .selectFrom('guardian as g')
                .select([
                  'g.first_name as firstName',
                  'g.last_name as lastName',
                  'g.phone_mobile as mobile',
                  'g.phone_home as home',
                ])
                .whereRef('g.family_id', '=', 'm.family_id')
                .orderBy('g.rank'),
            ).as('guardians'),
          )
          .orderBy('m.unexcused', 'desc')
          .orderBy('m.late', 'desc')
          .orderBy('m.sort_last')
          .orderBy('m.sort_first')
          .orderBy('m.id')
          .limit(p.limit)
          .offset(p.offset),
      ).as('rows'),
      jsonArrayFrom(
        tenantDb
          .selectFrom('course as c')
          .leftJoin('teacher as t', 't.id', 'c.teacher_id')
          .select([
            'c.id',
            'c.name',
            'c.teacher_id as teacherId',
            't.first_name as teacherFirstName',
            't.last_name as teacherLastName',
          ])
          .where('c.school_year_id', '=', p.yearId),
      ).as('catalogue'),
    ])
})

type Found = NonNullable<Awaited<ReturnType<typeof rankingRead.first>>>

/** The choices of the filters: this year's courses and their teachers, in French order. */
function choicesOf(catalogue: Found['catalogue']) {
  const teachers = new Map<number, string>()
  for (const c of catalogue) if (c.teacherId !== null) teachers.set(c.teacherId, teacherName(c))
  return {
    courses: catalogue
      .map((c) => ({ id: c.id, name: c.name }))
      .sort((a, b) => frenchOrder(a.name, b.name) || a.id - b.id),
    teachers: [...teachers].map(([id, name]) => ({ id, name })).sort((a, b) => frenchOrder(a.name, b.name)),
  }
}

/** The ranking, one page of it (`page` undefined: every row, for the export). */
export async function absencesRanking(ctx: SignedInContext, filters: AbsencesFilters, page?: number) {
  const year = await currentSchoolYear(ctx.db)
  const found = await rankingRead.first(ctx.db, {
    ...filters,
    yearId: year?.id ?? 0,
    offset: page ? offsetOf(page) : 0,
    limit: page ? pageSize : 1_000_000,
  })
  // staff who write records open the pupil's page; the others (direction) its family's
  const pupilPage = (staffAccess.records as readonly string[]).includes(ctx.account.role)
  const rows = (found?.rows ?? []).map((row) => {
    const guardians = row.guardians.map((g) => ({ name: fullName(g), phone: g.mobile ?? g.home ?? '' }))
    return {
      id: row.id,
      name: fullName(row),
      firstName: row.firstName,
      lastName: row.lastName,
      href: pupilPage
        ? `/admin/familles/${row.familyId}/eleves/${row.id}`
        : `/admin/familles/${row.familyId}`,
      unexcused: row.unexcused,
      late: row.late,
      excused: row.excused,
      courses: [...row.courses].sort(frenchOrder),
      guardians,
    }
  })
  return { total: found?.total ?? 0, rows, choices: choicesOf(found?.catalogue ?? []) }
}

/** The filtered ranking, every page, as a CSV for a French spreadsheet: one line per pupil. */
export async function absencesCsv(ctx: SignedInContext, filters: AbsencesFilters) {
  const { t } = ctx
  const { rows } = await absencesRanking(ctx, filters)
  const header = [
    t('absencesList.csv.lastName'),
    t('absencesList.csv.firstName'),
    t('absencesList.csv.courses'),
    t('absencesList.csv.guardians'),
    t('absencesList.csv.phones'),
    t('absencesList.csv.unexcused'),
    t('absencesList.csv.late'),
    t('absencesList.csv.excused'),
  ]
  const lines = rows.map((row) => [
    row.lastName,
    row.firstName,
    row.courses.join(', '),
    row.guardians.map((g) => g.name).join(', '),
    row.guardians
      .map((g) => g.phone)
      .filter(Boolean)
      .join(', '),
    String(row.unexcused),
    String(row.late),
    String(row.excused),
  ])
  return spreadsheetCsv([header, ...lines])
}
