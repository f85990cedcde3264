import { type Expression, type Kysely, type SqlBool, sql } from 'kysely'
import { jsonArrayFrom } from 'kysely/helpers/postgres'
import { type TenantDb, tenantDb } from '../../entities.ts'
import type { TenantContext } from '../../platform/auth/context.ts'
import { spreadsheetCsv } from '../../platform/csv.ts'
import { prepare } from '../../platform/db/reads.ts'
import { HttpError } from '../../platform/http/errors.ts'
import { offsetOf, pageSize } from '../../platform/http/pagination.ts'
import { fold, frenchOrder } from '../../platform/text.ts'
import { formatDate } from '../../platform/views/dates.ts'
import { fullName, tenantToday } from '../family/service.ts'
import { currentSchoolYear, teacherName } from '../teaching/service.ts'

/**
 * A pupil's state on the staff list (docs/decisions.md, "Back-office: pupils"): `inscrit` with at
 * least one active enrolment in this year's courses, `sans-cours` with none, `archive` when the
 * family was archived. Archived families' pupils appear only under `archive`; `tous` (the default)
 * is every pupil of a family that is neither archived nor erased.
 */
export const PupilState = {
  all: 'tous',
  enrolled: 'inscrit',
  none: 'sans-cours',
  archived: 'archive',
} as const
export type PupilState = (typeof PupilState)[keyof typeof PupilState]

/** What the list is narrowed by; null leaves a filter out. Course filters apply to one same course. */
export interface PupilFilters {
  discipline: string | null
  course: number | null
  teacher: number | null
  level: string | null
  site: string | null
  state: PupilState
  /** What staff typed to find a pupil by name. */
  q: string | null
}

/** A query's value the list refuses (an unknown discipline, a course of another year…): a 400. */
export class BadFilter extends HttpError {
  constructor() {
    super(400, 'error.400.title', 'error.400.body')
  }
}

// the letters French names carry, and what they fold to; œ and æ are two letters, replaced first
const accented = 'ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖòóôõöÙÚÛÜùúûüÝŸýÿ'
const plain = 'AAAAAAaaaaaaCcEEEEeeeeIIIIiiiiNnOOOOOoooooUUUUuuuuYYyy'

/**
 * A name lowercased without accents, in SQL: translate() and lower() of ASCII letters behave alike
 * under any collation, on PGlite and Postgres, with no extension (unaccent is not on PGlite).
 */
function foldedSql(text: Expression<string>) {
  return sql<string>`lower(translate(replace(replace(replace(replace(${text}, 'œ', 'oe'), 'Œ', 'oe'), 'æ', 'ae'), 'Æ', 'ae'), ${sql.lit(accented)}, ${sql.lit(plain)}))`
}

/**
 * The words of a search, folded like `foldedSql` and escaped for LIKE: "Éloïse  Dupont-Roy" →
 * eloise, dupont, roy. Every word must appear in the pupil's name.
 */
export function searchWords(q: string | null): string[] {
  if (!q) return []
  return fold(q)
    .replace(/æ/g, 'ae')
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
    .slice(0, 8)
}

type ListParams = {
  yearId: number
  discipline: string | null
  course: number | null
  teacher: number | null
  level: string | null
  site: string | null
  state: string
  words: string[]
  offset: number
  limit: number
}

/** This year's active enrolments of a pupil, with their course. */
function currentEnrolments(pupilId: Expression<number>, yearId: number) {
  return tenantDb
    .selectFrom('enrolment as e')
    .innerJoin('course as c', 'c.id', 'e.course_id')
    .where('e.pupil_id', '=', pupilId)
    .where('e.active', '=', true)
    .where('c.school_year_id', '=', yearId)
}

/**
 * One statement for the page: how many pupils match, the page's pupils (each with responsable 1 and
 * this year's courses), and this year's catalogue that the filters offer. Filters are SQL on bound
 * values (`is null or …`), so the statement is the same whatever is asked.
 */
const listRead = prepare((db: Kysely<TenantDb>, p: ListParams) => {
  const text = (value: string | null) => sql<string | null>`cast(${value} as text)`
  const int = (value: number | null) => sql<number | null>`cast(${value} as integer)`
  const matching = db
    .selectFrom('pupil as p')
    .innerJoin('family as f', 'f.id', 'p.family_id')
    .where('f.erased_at', 'is', null)
    .where((eb) =>
      eb.and([
        // archived families' pupils only under their own state
        sql<SqlBool>`(f.archived_at is not null) = (${text(p.state)} = ${PupilState.archived})`,
        eb.or([
          sql<SqlBool>`${text(p.state)} not in (${PupilState.enrolled}, ${PupilState.none})`,
          sql<SqlBool>`exists (${currentEnrolments(eb.ref('p.id'), p.yearId).select('e.id')}) = (${text(p.state)} = ${PupilState.enrolled})`,
        ]),
        eb.or([
          sql<SqlBool>`coalesce(${text(p.discipline)}, ${text(p.level)}, ${text(p.site)}, cast(${int(p.course)} as text), cast(${int(p.teacher)} as text)) is null`,
          eb.exists(
            currentEnrolments(eb.ref('p.id'), p.yearId)
              .select('e.id')
              .where(sql<SqlBool>`(${text(p.discipline)} is null or c.discipline = ${text(p.discipline)})`)
              .where(sql<SqlBool>`(${text(p.level)} is null or c.cycle = ${text(p.level)})`)
              .where(sql<SqlBool>`(${text(p.site)} is null or c.establishment = ${text(p.site)})`)
              .where(sql<SqlBool>`(${int(p.course)} is null or c.id = ${int(p.course)})`)
              .where(sql<SqlBool>`(${int(p.teacher)} is null or c.teacher_id = ${int(p.teacher)})`),
          ),
        ]),
        sql<SqlBool>`not exists (select from unnest(cast(${p.words} as text[])) as w(word) where ${foldedSql(sql`p.first_name || ' ' || p.last_name`)} not like '%' || w.word || '%')`,
      ]),
    )
  return db.selectNoFrom((eb) => [
    eb
      .selectFrom(matching.select('p.id').as('m'))
      .select((inner) => inner.cast<number>(inner.fn.countAll(), 'integer').as('n'))
      .as('total'),
    jsonArrayFrom(
      matching
        .leftJoin('guardian as g', (join) =>
          join.onRef('g.family_id', '=', 'p.family_id').on('g.rank', '=', 1),
        )
        .select([
          'p.id',
          'p.family_id as familyId',
          'p.first_name as firstName',
          'p.last_name as lastName',
          'p.birth_date as birthDate',
          'p.school_level as schoolLevel',
          'f.archived_at as archivedAt',
          'g.first_name as guardianFirstName',
          'g.last_name as guardianLastName',
          'g.email as guardianEmail',
          'g.phone_mobile as guardianMobile',
          'g.phone_home as guardianPhone',
        ])
        .select((inner) =>
          jsonArrayFrom(
            currentEnrolments(inner.ref('p.id'), p.yearId)
              .select(['c.id', 'c.name', 'c.establishment'])
              .orderBy('c.name'),
          ).as('courses'),
        )
        .orderBy(foldedSql(sql`p.last_name`))
        .orderBy(foldedSql(sql`p.first_name`))
        .orderBy('p.id')
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
          'c.cycle',
          'c.teacher_id as teacherId',
          't.first_name as teacherFirstName',
          't.last_name as teacherLastName',
        ])
        .where('c.school_year_id', '=', p.yearId),
    ).as('catalogue'),
  ])
})

type Found = NonNullable<Awaited<ReturnType<typeof listRead.first>>>
export type PupilRow = Found['rows'][number]

/** The choices the filters offer: this year's courses, their teachers and levels, in French order. */
function choicesOf(catalogue: Found['catalogue']) {
  const teachers = new Map<number, string>()
  for (const c of catalogue)
    if (c.teacherId !== null) teachers.set(c.teacherId, teacherName(c) || `#${c.teacherId}`)
  return {
    courses: catalogue
      .map((c) => ({ id: c.id, name: c.name }))
      .sort((a, b) => frenchOrder(a.name, b.name) || a.id - b.id),
    teachers: [...teachers].map(([id, name]) => ({ id, name })).sort((a, b) => frenchOrder(a.name, b.name)),
    levels: [...new Set(catalogue.map((c) => c.cycle).filter((c): c is string => Boolean(c)))].sort(
      frenchOrder,
    ),
  }
}

export type PupilChoices = ReturnType<typeof choicesOf>

/**
 * The staff list of pupils, filtered in SQL, one page at a time (`page` undefined: every row, for the
 * export). A discipline or a site the tenant does not have, or a course, teacher or level this
 * year's catalogue does not hold, is a bad request rather than an empty list.
 */
export async function pupilList(ctx: TenantContext, filters: PupilFilters, page?: number) {
  const { db, config } = ctx
  if (filters.discipline !== null && !config.disciplines?.some((d) => d.code === filters.discipline))
    throw new BadFilter()
  if (filters.site !== null && !config.establishments.some((e) => e.code === filters.site))
    throw new BadFilter()
  const year = await currentSchoolYear(db)
  const found = await listRead.first(db, {
    yearId: year?.id ?? 0,
    discipline: filters.discipline,
    course: filters.course,
    teacher: filters.teacher,
    level: filters.level,
    site: filters.site,
    state: filters.state,
    words: searchWords(filters.q),
    offset: page ? offsetOf(page) : 0,
    limit: page ? pageSize : 1_000_000,
  })
  const choices = choicesOf(found?.catalogue ?? [])
  if (
    (filters.course !== null && !choices.courses.some((c) => c.id === filters.course)) ||
    (filters.teacher !== null && !choices.teachers.some((c) => c.id === filters.teacher)) ||
    (filters.level !== null && !choices.levels.includes(filters.level))
  )
    throw new BadFilter()
  return { total: found?.total ?? 0, rows: found?.rows ?? [], choices, schoolYear: year?.label ?? '' }
}

/** Full years between a birth date and today (both YYYY-MM-DD). */
export function ageOn(birthDate: string, today: string): number {
  const years = Number(today.slice(0, 4)) - Number(birthDate.slice(0, 4))
  return today.slice(5) < birthDate.slice(5) ? years - 1 : years
}

/** A pupil as a row of the list and of the export shows it. */
export function pupilLine(ctx: TenantContext, row: PupilRow) {
  const { config } = ctx
  const sites = new Map(config.establishments.map((e) => [e.code, e.name]))
  const state: Exclude<PupilState, 'tous'> =
    row.archivedAt !== null ? PupilState.archived : row.courses.length ? PupilState.enrolled : PupilState.none
  return {
    id: row.id,
    familyId: row.familyId,
    name: fullName(row),
    lastName: row.lastName,
    firstName: row.firstName,
    birthDate: row.birthDate ? formatDate(row.birthDate, config.timezone) : '',
    age: row.birthDate ? ageOn(row.birthDate, tenantToday(config)) : null,
    schoolLevel: row.schoolLevel ?? '',
    family:
      row.guardianFirstName === null
        ? ''
        : fullName({ firstName: row.guardianFirstName, lastName: row.guardianLastName ?? '' }),
    email: row.guardianEmail ?? '',
    phone: row.guardianMobile ?? row.guardianPhone ?? '',
    courses: row.courses.map((c) => c.name).sort(frenchOrder),
    sites: [...new Set(row.courses.map((c) => sites.get(c.establishment) ?? c.establishment))].sort(
      frenchOrder,
    ),
    state,
  }
}

/** The filtered list, every page, as a CSV for a French spreadsheet: one line per pupil. */
export async function pupilsCsv(ctx: TenantContext, filters: PupilFilters) {
  const { t } = ctx
  const { rows, schoolYear } = await pupilList(ctx, filters)
  const header = [
    t('backofficePupils.csv.lastName'),
    t('backofficePupils.csv.firstName'),
    t('backofficePupils.csv.birthDate'),
    t('backofficePupils.csv.schoolLevel'),
    t('backofficePupils.csv.family'),
    t('backofficePupils.csv.email'),
    t('backofficePupils.csv.phone'),
    t('backofficePupils.csv.courses'),
    t('backofficePupils.csv.site'),
    t('backofficePupils.csv.state'),
  ]
  const lines = rows.map((row) => {
    const line = pupilLine(ctx, row)
    return [
      line.lastName,
      line.firstName,
      line.birthDate,
      line.schoolLevel,
      line.family,
      line.email,
      line.phone,
      line.courses.join(', '),
      line.sites.join(', '),
      t(`backofficePupils.state.${line.state}`),
    ]
  })
  return { csv: spreadsheetCsv([header, ...lines]), schoolYear }
}
