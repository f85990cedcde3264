import { type Kysely, type SqlBool, sql } from 'kysely'
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
class BadFilter extends HttpError {
  constructor() {
    super(400, 'error.400.title', 'error.400.body')
  }
}

/**
 * The words of a search, folded like the pupil's folded names (pupils/entities.ts), letters and
 * digits only so that none is a LIKE wildcard: "Éloïse  Dupont-Roy" → eloise, dupont, roy. Every
 * word must appear in the pupil's name.
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
  /** `%word%` for each word searched. */
  patterns: string[]
  offset: number
  limit: number
}

/** This year's active enrolments, with their course. */
function currentEnrolments(yearId: number) {
  return tenantDb
    .selectFrom('enrolment as e')
    .innerJoin('course as c', 'c.id', 'e.course_id')
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
        // `in` a subquery that does not depend on the row: read once and hashed, not once per pupil
        eb.or([
          sql<SqlBool>`${text(p.state)} not in (${PupilState.enrolled}, ${PupilState.none})`,
          sql<SqlBool>`(p.id in (${currentEnrolments(p.yearId).select('e.pupil_id')})) = (${text(p.state)} = ${PupilState.enrolled})`,
        ]),
        eb.or([
          sql<SqlBool>`coalesce(${text(p.discipline)}, ${text(p.level)}, ${text(p.site)}, cast(${int(p.course)} as text), cast(${int(p.teacher)} as text)) is null`,
          eb(
            'p.id',
            'in',
            currentEnrolments(p.yearId)
              .select('e.pupil_id')
              .where(sql<SqlBool>`(${text(p.discipline)} is null or c.discipline = ${text(p.discipline)})`)
              .where(sql<SqlBool>`(${text(p.level)} is null or c.cycle = ${text(p.level)})`)
              .where(sql<SqlBool>`(${text(p.site)} is null or c.establishment = ${text(p.site)})`)
              .where(sql<SqlBool>`(${int(p.course)} is null or c.id = ${int(p.course)})`)
              .where(sql<SqlBool>`(${int(p.teacher)} is null or c.teacher_id = ${int(p.teacher)})`),
          ),
        ]),
        sql<SqlBool>`p.folded_first_name || ' ' || p.folded_last_name like all (cast(${p.patterns} as text[]))`,
      ]),
    )
  return db
    .with(
      (cte) => cte('m').notMaterialized(),
      () =>
        matching.select([
          'p.id',
          'p.family_id',
          'p.first_name',
          'p.last_name',
          'p.birth_date',
          'p.school_level',
          'f.archived_at',
          'p.folded_last_name as sort_last',
          'p.folded_first_name as sort_first',
        ]),
    )
    .selectNoFrom((eb) => [
      eb
        .selectFrom('m')
        .select((inner) => inner.cast<number>(inner.fn.countAll(), 'integer').as('n'))
        .as('total'),
      // the page's 50 first, then their guardian and courses: not those of every matching pupil
      jsonArrayFrom(
        eb
          .selectFrom(
            eb
              .selectFrom('m')
              .selectAll()
              .orderBy('m.sort_last')
              .orderBy('m.sort_first')
              .orderBy('m.id')
              .limit(p.limit)
              .offset(p.offset)
              .as('pg'),
          )
          .leftJoin('guardian as g', (join) =>
            join.onRef('g.family_id', '=', 'pg.family_id').on('g.rank', '=', 1),
          )
          .select([
            'pg.id',
            'pg.family_id as familyId',
            'pg.first_name as firstName',
            'pg.last_name as lastName',
            'pg.birth_date as birthDate',
            'pg.school_level as schoolLevel',
            'pg.archived_at as archivedAt',
            'g.first_name as guardianFirstName',
            'g.last_name as guardianLastName',
            'g.email as guardianEmail',
            'g.phone_mobile as guardianMobile',
            'g.phone_home as guardianPhone',
          ])
          .select((inner) =>
            jsonArrayFrom(
              currentEnrolments(p.yearId)
                .where('e.pupil_id', '=', inner.ref('pg.id'))
                .select(['c.id', 'c.name', 'c.establishment'])
                .orderBy('c.name'),
            ).as('courses'),
          )
          .orderBy('pg.sort_last')
          .orderBy('pg.sort_first')
          .orderBy('pg.id'),
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
  for (const c of catalogue) if (c.teacherId !== null) teachers.set(c.teacherId, teacherName(c))
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
    patterns: searchWords(filters.q).map((word) => `%${word}%`),
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

/** The pupils as the rows of the list and the lines of the export show them. */
export function pupilLines(ctx: TenantContext, rows: readonly PupilRow[]) {
  const { config } = ctx
  const sites = new Map(config.establishments.map((e) => [e.code, e.name]))
  const today = tenantToday(config)
  return rows.map((row) => {
    const state: Exclude<PupilState, 'tous'> =
      row.archivedAt !== null
        ? PupilState.archived
        : row.courses.length
          ? PupilState.enrolled
          : PupilState.none
    return {
      id: row.id,
      familyId: row.familyId,
      name: fullName(row),
      lastName: row.lastName,
      firstName: row.firstName,
      birthDate: row.birthDate ? formatDate(row.birthDate, config.timezone) : '',
      age: row.birthDate ? ageOn(row.birthDate, today) : null,
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
  })
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
  const states = {
    [PupilState.enrolled]: t('backofficePupils.state.inscrit'),
    [PupilState.none]: t('backofficePupils.state.sans-cours'),
    [PupilState.archived]: t('backofficePupils.state.archive'),
  }
  const lines = pupilLines(ctx, rows).map((line) => {
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
      states[line.state],
    ]
  })
  return { csv: spreadsheetCsv([header, ...lines]), schoolYear }
}
