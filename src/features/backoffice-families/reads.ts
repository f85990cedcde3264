import { type ExpressionBuilder, type Kysely, sql } from 'kysely'
import { jsonArrayFrom, jsonObjectFrom } from 'kysely/helpers/postgres'
import { type TenantDb, tenantDb } from '../../entities.ts'
import { prepare, type Reader } from '../../platform/db/reads.ts'
import { offsetOf, pageSize } from '../../platform/http/pagination.ts'
import { DocumentState } from '../documents/entities.ts'
import { submissionsOf } from '../documents/service.ts'
import { type FamilyRef, guardiansOf } from '../family/service.ts'
import { pupilRecordOf } from '../pupils/service.ts'
import { reenrolmentsOf } from '../reenrolment/service.ts'
import { ChangeStatus } from '../sas/entities.ts'
import { pendingChangesOf } from '../sas/service.ts'
import { enrolmentsOfFamily } from '../teaching/service.ts'
import type { SearchTerms } from './search.ts'

/** Which families the list shows: those in use (default), those archived, or both. */
export const FamilyState = { active: 'active', archived: 'archived', all: 'all' } as const
export type FamilyState = (typeof FamilyState)[keyof typeof FamilyState]

export interface FamilyFilters {
  terms: SearchTerms
  state: FamilyState
  /** Code of an establishment: families with a pupil in one of its courses this year. */
  site: string | null
  /** Families none of whose guardians has an account. */
  noAccount: boolean
  resident: boolean | null
  /** Families with a change or a pièce awaiting staff. */
  pending: boolean
}

/** A family's id given as a read's parameter, where fragments take a family as an expression. */
const familyParam = (id: number): FamilyRef => sql<number>`${id}::integer`

type ListParams = {
  state: string
  search: boolean
  patterns: string[]
  digits: string | null
  site: string | null
  yearId: number
  noAccount: boolean
  resident: boolean | null
  pending: boolean
  offset: number
}

/*
 * One statement: the matching families' count and one page of them. Each filter is written
 * `<parameter is off> or <condition>`, so that Postgres, which stops at the first true operand of an
 * OR, never runs the search's aggregate (or a filter's subquery) for a list that does not ask it.
 */
const listRead = prepare((db: Kysely<TenantDb>, p: ListParams) => {
  // each guardian's and pupil's folded names and e-mail, and their phones' digits (Postgres keeps them)
  const people = db
    .selectFrom('guardian')
    .select(['family_id', 'search_text as words', 'search_phones as phones'])
    .unionAll(db.selectFrom('pupil').select(['family_id', 'search_text as words', 'search_phones as phones']))
  // a family is found when each word typed is in one of its people's names and e-mails, or its
  // phone digits are in one of their phones; only the people matching a word or the phone are
  // gathered, and one word needs no gathering at all: one of its people has it
  const matchingPeople = db
    .selectFrom(people.as('h'))
    .where((eb) =>
      eb.or([
        sql<boolean>`h.words like any(${p.patterns}::text[])`,
        sql<boolean>`h.phones like ${p.digits}::text`,
      ]),
    )
  const found = matchingPeople.select('h.family_id').where((eb) =>
    eb.or([
      sql<boolean>`cardinality(${p.patterns}::text[]) <= 1`,
      eb(
        'h.family_id',
        'in',
        matchingPeople
          .select('h.family_id')
          .groupBy('h.family_id')
          .having((inner) =>
            inner.or([
              sql<boolean>`string_agg(h.words, ' ') like all(${p.patterns}::text[])`,
              sql<boolean>`string_agg(h.phones, '|') like ${p.digits}::text`,
            ]),
          ),
      ),
    ]),
  )
  // the filters, on a family `f`; the search's families are gathered once (the CTE `found`), and
  // only for a list that searches
  const matches = (
    eb: ExpressionBuilder<TenantDb & { f: TenantDb['family']; found: { family_id: number } }, 'f'>,
  ) =>
    eb.and([
      sql<boolean>`(${p.state}::text = 'all' or (${p.state}::text = 'archived') = (f.archived_at is not null))`,
      eb.or([
        sql<boolean>`not ${p.search}::boolean`,
        eb('f.id', 'in', eb.selectFrom('found').select('found.family_id')),
      ]),
      // IN (…) rather than a correlated EXISTS: one hashed set per filter, which Postgres also
      // estimates cheap (a dear estimate has it JIT-compile the query, for tens of milliseconds)
      eb.or([
        sql<boolean>`${p.site}::text is null`,
        eb(
          'f.id',
          'in',
          eb
            .selectFrom('pupil as sp')
            .innerJoin('enrolment as se', 'se.pupil_id', 'sp.id')
            .innerJoin('course as sc', 'sc.id', 'se.course_id')
            .select('sp.family_id')
            .where('sc.school_year_id', '=', p.yearId)
            .where('sc.establishment', '=', sql<string>`${p.site}::text`),
        ),
      ]),
      eb.or([
        sql<boolean>`not ${p.noAccount}::boolean`,
        eb(
          'f.id',
          'not in',
          eb.selectFrom('guardian as ag').select('ag.family_id').where('ag.account_id', 'is not', null),
        ),
      ]),
      sql<boolean>`(${p.resident}::boolean is null or f.resident = ${p.resident}::boolean)`,
      eb.or([
        sql<boolean>`not ${p.pending}::boolean`,
        eb(
          'f.id',
          'in',
          eb
            .selectFrom('change_request as pc')
            .select('pc.family_id')
            .where('pc.status', '=', ChangeStatus.pending),
        ),
        eb(
          'f.id',
          'in',
          eb
            .selectFrom('document_submission as pd')
            .select('pd.family_id')
            .where('pd.state', '=', DocumentState.pending),
        ),
      ]),
    ])
  return db
    .with('found', () => found)
    .selectNoFrom((eb) => [
      eb
        .selectFrom('family as f')
        .select((inner) => inner.cast<number>(inner.fn.countAll(), 'integer').as('n'))
        .where(matches)
        .as('total'),
      // responsables 1 (every family has one: its creation needs it, erasure keeps it anonymised)
      // in the order of their index (guardian sort_name, family_id), each family's filters checked
      // as it comes: a page costs its rows, not the tenant's
      jsonArrayFrom(
        eb
          .selectFrom(
            eb
              .selectFrom('guardian as g')
              // each family checked as its responsable 1 comes, in a lateral subquery the OFFSET keeps
              // apart: Postgres then walks the index in order and stops with the page, however many
              // families match, instead of joining them all and sorting
              .innerJoinLateral(
                (lateral) =>
                  lateral
                    .selectFrom('family as f')
                    .select(['f.id', 'f.resident', 'f.archived_at'])
                    .whereRef('f.id', '=', 'g.family_id')
                    .where(matches)
                    .offset(0)
                    .as('f'),
                (join) => join.onTrue(),
              )
              .select([
                'f.id',
                'f.resident',
                'f.archived_at as archivedAt',
                'g.first_name as firstName',
                'g.last_name as lastName',
                'g.email',
                'g.sort_name as sortName',
                sql<string | null>`coalesce(g.phone_mobile, g.phone_home, g.phone_work)`.as('phone'),
              ])
              .where('g.rank', '=', 1)
              .orderBy('g.sort_name')
              .orderBy('g.family_id')
              .limit(pageSize)
              .offset(p.offset)
              .as('pg'),
          )
          .select([
            'pg.id',
            'pg.resident',
            'pg.archivedAt',
            'pg.firstName',
            'pg.lastName',
            'pg.email',
            'pg.phone',
          ])
          // computed for the page's rows only, each by its index (Postgres would otherwise hash
          // whole tables, planning for every family)
          .select((inner) => [
            inner
              .selectFrom('pupil as lp')
              .select(
                sql<string>`string_agg(lp.first_name, ', ' order by lp.birth_date, lp.first_name)`.as('n'),
              )
              .whereRef('lp.family_id', '=', 'pg.id')
              .as('pupils'),
            inner
              .selectFrom('enrolment as le')
              .innerJoin('pupil as lep', 'lep.id', 'le.pupil_id')
              .innerJoin('course as lc', 'lc.id', 'le.course_id')
              .select((c) => c.cast<number>(c.fn.countAll(), 'integer').as('n'))
              .whereRef('lep.family_id', '=', 'pg.id')
              .where('lc.school_year_id', '=', p.yearId)
              .where('le.active', '=', true)
              .as('courses'),
            inner
              .exists(
                inner
                  .selectFrom('guardian as lg')
                  .select('lg.id')
                  .whereRef('lg.family_id', '=', 'pg.id')
                  .where('lg.account_id', 'is not', null),
              )
              .as('hasAccount'),
            inner
              .exists(
                inner
                  .selectFrom('change_request as lr')
                  .select('lr.id')
                  .whereRef('lr.family_id', '=', 'pg.id')
                  .where('lr.status', '=', ChangeStatus.pending),
              )
              .as('pendingChange'),
            inner
              .exists(
                inner
                  .selectFrom('document_submission as ld')
                  .select('ld.id')
                  .whereRef('ld.family_id', '=', 'pg.id')
                  .where('ld.state', '=', DocumentState.pending),
              )
              .as('pendingDocument'),
          ])
          .orderBy('pg.sortName')
          .orderBy('pg.id'),
      ).as('rows'),
    ])
})

export type FamilyRow = NonNullable<Awaited<ReturnType<typeof listRead.first>>>['rows'][number]

/** One page of the families list, responsable 1's name in French alphabetical order. */
export async function familyList(db: Reader, filters: FamilyFilters, yearId: number, page: number) {
  const found = await listRead.first(db, {
    state: filters.state,
    search: filters.terms.search,
    patterns: filters.terms.patterns,
    digits: filters.terms.digits,
    site: filters.site,
    yearId,
    noAccount: filters.noAccount,
    resident: filters.resident,
    pending: filters.pending,
    offset: offsetOf(page),
  })
  return { total: found?.total ?? 0, rows: found?.rows ?? [] }
}

/** The sign-in of each guardian who has one: identifiant, state, last sign-in. */
function accountsOf(familyId: FamilyRef) {
  return jsonArrayFrom(
    tenantDb
      .selectFrom('guardian as g')
      .innerJoin('account as a', 'a.id', 'g.account_id')
      .select([
        'g.id as guardianId',
        'a.id',
        'a.identifiant',
        'a.disabled',
        'a.last_sign_in_at as lastSignInAt',
        sql<boolean>`a.password_hash is not null`.as('activated'),
      ])
      .where('g.family_id', '=', familyId),
  )
}

/**
 * The audit trail of the family: events about the family itself, its guardians, its pupils (their
 * changes, re-enrolments), its uploads and the pré-inscription it came from, newest first.
 */
function historyOf(familyId: FamilyRef) {
  const d = tenantDb
  return jsonArrayFrom(
    d
      .selectFrom('audit_event as a')
      .select([
        'a.id',
        'a.created_at as at',
        'a.actor_name as actorName',
        'a.action',
        'a.subject_type as subjectType',
        'a.subject_id as subjectId',
        'a.details',
      ])
      .where((eb) =>
        eb.or([
          eb.and([eb('a.subject_type', '=', 'family'), eb('a.subject_id', '=', familyId)]),
          eb.and([
            eb('a.subject_type', '=', 'guardian'),
            eb('a.subject_id', 'in', d.selectFrom('guardian').select('id').where('family_id', '=', familyId)),
          ]),
          eb.and([
            eb('a.subject_type', '=', 'pupil'),
            eb('a.subject_id', 'in', d.selectFrom('pupil').select('id').where('family_id', '=', familyId)),
          ]),
          eb.and([
            eb('a.subject_type', '=', 'document'),
            eb(
              'a.subject_id',
              'in',
              d.selectFrom('document_submission').select('id').where('family_id', '=', familyId),
            ),
          ]),
          eb.and([
            eb('a.subject_type', '=', 'preregistration'),
            eb(
              'a.subject_id',
              'in',
              d.selectFrom('preregistration').select('id').where('family_id', '=', familyId),
            ),
          ]),
        ]),
      )
      .orderBy('a.created_at', 'desc')
      .orderBy('a.id', 'desc'),
  )
}

function pupilsOf(familyId: FamilyRef) {
  return jsonArrayFrom(
    tenantDb
      .selectFrom('pupil as p')
      .select(['p.id', 'p.first_name as firstName', 'p.last_name as lastName', 'p.birth_date as birthDate'])
      .where('p.family_id', '=', familyId)
      .orderBy('p.birth_date')
      .orderBy('p.first_name'),
  )
}

function familyOf(familyId: FamilyRef) {
  return jsonObjectFrom(
    tenantDb
      .selectFrom('family as f')
      .select([
        'f.id',
        'f.resident',
        'f.quotient_bracket as quotientBracket',
        'f.payment_mode as paymentMode',
        'f.archived_at as archivedAt',
        'f.erased_at as erasedAt',
        'f.created_at as createdAt',
      ])
      .where('f.id', '=', familyId),
  )
}

const pageRead = prepare((d: Kysely<TenantDb>, p: { id: number; yearId: number }) => {
  const family = familyParam(p.id)
  return d.selectNoFrom([
    familyOf(family).as('family'),
    guardiansOf(family).as('guardians'),
    accountsOf(family).as('accounts'),
    pupilsOf(family).as('pupils'),
    enrolmentsOfFamily(family, p.yearId).as('enrolments'),
    submissionsOf(family).as('submissions'),
    reenrolmentsOf(family).as('reenrolments'),
    pendingChangesOf(family).as('changes'),
    historyOf(family).as('history'),
  ])
})

export type FamilyPageData = NonNullable<Awaited<ReturnType<typeof pageRead.first>>>

/** Everything the family's page shows, in one statement; the family is null when unknown. */
export async function familyPageData(db: Reader, id: number, yearId: number) {
  return (await pageRead.first(db, { id, yearId }))!
}

const guardianRead = prepare((d: Kysely<TenantDb>, p: { familyId: number }) => {
  const family = familyParam(p.familyId)
  return d.selectNoFrom([
    familyOf(family).as('family'),
    guardiansOf(family).as('guardians'),
    pendingChangesOf(family).as('changes'),
  ])
})

/** A family with its guardians' whole records (a guardian's edit page). */
export async function familyGuardians(db: Reader, familyId: number) {
  return (await guardianRead.first(db, { familyId }))!
}

const pupilRead = prepare((d: Kysely<TenantDb>, p: { familyId: number; pupilId: number }) => {
  const family = familyParam(p.familyId)
  return d.selectNoFrom([
    familyOf(family).as('family'),
    pupilRecordOf(p.pupilId, family).as('pupil'),
    guardiansOf(family).as('guardians'),
    pendingChangesOf(family).as('changes'),
  ])
})

/** A pupil of a family, their whole record (a pupil's edit page); null for another family's pupil. */
export async function familyPupil(db: Reader, familyId: number, pupilId: number) {
  return (await pupilRead.first(db, { familyId, pupilId }))!
}
