import type { Kysely } from 'kysely'
import type { TenantDb } from '../../entities.ts'
import type { SignedInContext } from '../../platform/auth/context.ts'
import { prepare } from '../../platform/db/reads.ts'
import { type Checked, refusals } from '../../platform/forms.ts'
import { NotFound } from '../../platform/http/errors.ts'
import { fold, frenchOrder } from '../../platform/text.ts'
import type { TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import {
  familyIdOf,
  guardiansOf,
  householdOf,
  householdOr404,
  householdPupil,
  tenantToday,
} from '../family/service.ts'
import { describePiece, piecesByState } from '../repertoire/pieces.ts'
import { byEvent, piecesOf, repertoireOf } from '../repertoire/service.ts'
import { SubjectType } from '../sas/entities.ts'
import { pendingChangesOf, pendingOf, type ProposalOutcome, proposeChanges } from '../sas/service.ts'
import { pupilFrame } from '../shared/pupil-frame.ts'
import {
  currentSchoolYear,
  type FollowedCourse,
  followedCourses,
  pastCoursesOf,
  teacherName,
} from '../teaching/service.ts'
import { checkPupil, pupilRecordOf, pupilValues } from './service.ts'
import { siteFirst } from '../shared/site.ts'
import type { CourseSlot } from '../teaching/entities.ts'

/*
 * The reads of the Élèves pages: each page is one statement with the household (the chooser and
 * the check that the pupil is the family's), then what its tab shows.
 */

const householdRead = prepare((db: Kysely<TenantDb>, p: { accountId: number }) =>
  db.selectNoFrom(householdOf(p.accountId).as('household')),
)

/** The family's pupils, eldest first, for the chooser of `/eleves`. */
export async function householdOfAccount(ctx: SignedInContext) {
  return householdOr404((await householdRead.first(ctx.db, { accountId: ctx.account.id }))?.household)
}

const identityRead = prepare((db: Kysely<TenantDb>, p: { accountId: number; pupilId: number }) => {
  const family = familyIdOf(p.accountId)
  return db.selectNoFrom([
    householdOf(p.accountId).as('household'),
    pupilRecordOf(p.pupilId, family).as('pupil'),
    guardiansOf(family).as('guardians'),
    pendingChangesOf(family).as('changes'),
  ])
})

/** The Identité tab: the pupil's record, its pending proposal, and the main guardian's address. */
export async function identityPage(ctx: SignedInContext, pupilId: number) {
  const found = await identityRead.first(ctx.db, { accountId: ctx.account.id, pupilId })
  const household = householdOr404(found?.household)
  const pupil = found?.pupil
  if (!pupil) throw new NotFound()
  const [guardian] = found.guardians
  const pending = pendingOf(found.changes, { type: SubjectType.pupil, id: pupil.id })
  return {
    frame: pupilFrame(ctx, household, pupil, 'identite'),
    household,
    pupil,
    pending,
    guardianAddress:
      guardian && [guardian.address, guardian.postalCode, guardian.city].filter(Boolean).join(', '),
  }
}

export type IdentityPage = Awaited<ReturnType<typeof identityPage>>

/** A family's edit of a pupil's record, through the sas: the refused fields, or how the proposal went. */
export async function savePupil(
  ctx: SignedInContext,
  page: IdentityPage,
  input: Record<string, string | undefined>,
): Promise<Checked<ProposalOutcome | undefined>> {
  const checked = checkPupil(input, {
    tenant: ctx.config,
    current: pupilValues(page.pupil),
    today: tenantToday(ctx.config),
    t: ctx.t,
  })
  if (checked.errors) return { values: undefined, errors: refusals(checked.errors) }
  const [outcome] = await proposeChanges(ctx, page.household.familyId, [
    {
      ref: { type: SubjectType.pupil, id: page.pupil.id },
      values: checked.values,
      seen: { values: pupilValues(page.pupil), pending: page.pending?.changes },
    },
  ])
  return { values: outcome, errors: undefined }
}

/** The cursus (the discipline's name) of a course, and its title: "Piano — Piano 1C2". */
function courseTitle(config: TenantConfig, course: { name: string; discipline: string }) {
  const cursus = config.disciplines?.find((d) => d.code === course.discipline)?.name ?? course.discipline
  // "Clarinette — Clarinette" says it twice: a course named after its discipline stands alone
  return {
    cursus,
    title: fold(course.name).includes(fold(cursus)) ? course.name : `${cursus} — ${course.name}`,
  }
}

/** A course as the course tables and the follow-up page show it. */
function describeCourse(config: TenantConfig, course: FollowedCourse) {
  const sites = new Map(config.establishments.map((e) => [e.code, e.name]))
  return {
    id: course.id,
    ...courseTitle(config, course),
    name: course.name,
    slot: course.slot,
    cycle: course.cycle,
    site: sites.get(course.establishment) ?? course.establishment,
    teacher: teacherName(course),
    evaluations: course.evaluations,
    absences: course.absences,
  }
}

/**
 * The rows of a course table: the courses of the site chosen at sign-in first, then by course name;
 * the site column only where the tenant has several.
 */
function courseTable(ctx: Pick<SignedInContext, 'config' | 'account'>, courses: readonly FollowedCourse[]) {
  const { config } = ctx
  return {
    showSite: config.establishments.length > 1,
    rows: [...courses]
      .sort(
        siteFirst(
          ctx.account.establishment,
          (c) => c.establishment,
          (a, b) => frenchOrder(a.name, b.name),
        ),
      )
      .map((course) => describeCourse(config, course)),
  }
}

const coursesRead = prepare(
  (db: Kysely<TenantDb>, p: { accountId: number; pupilId: number; yearId: number }) =>
    db.selectNoFrom([
      householdOf(p.accountId).as('household'),
      followedCourses({ pupilId: p.pupilId, yearId: p.yearId }).as('courses'),
    ]),
)

/** The Cours tab: this school year's courses, each opening its evaluations and absences. */
export async function coursesPage(ctx: SignedInContext, pupilId: number) {
  const year = await currentSchoolYear(ctx.db)
  const found = await coursesRead.first(ctx.db, { accountId: ctx.account.id, pupilId, yearId: year?.id ?? 0 })
  const household = householdOr404(found?.household)
  const pupil = householdPupil(household, pupilId)
  // a bulletin for each period some course has a published evaluation of (issue 18)
  const periods = new Set(found!.courses.flatMap((c) => c.evaluations.map((e) => e.period)))
  return {
    ...pupilFrame(ctx, household, pupil, 'cours'),
    year,
    ...courseTable(ctx, found!.courses),
    bulletins: ctx.config.evaluations.periods.filter((p) => periods.has(p.code)),
  }
}

const courseRead = prepare(
  (db: Kysely<TenantDb>, p: { accountId: number; pupilId: number; enrolmentId: number }) =>
    db.selectNoFrom([
      householdOf(p.accountId).as('household'),
      followedCourses({ pupilId: p.pupilId, enrolmentId: p.enrolmentId }).as('courses'),
    ]),
)

/** One course of any year with its evaluations and absences; another pupil's enrolment is a 404. */
export async function coursePage(ctx: SignedInContext, pupilId: number, enrolmentId: number) {
  const found = await courseRead.first(ctx.db, { accountId: ctx.account.id, pupilId, enrolmentId })
  const household = householdOr404(found?.household)
  const pupil = householdPupil(household, pupilId)
  const [course] = found!.courses
  if (!course) throw new NotFound()
  const year = { id: course.yearId, label: course.yearLabel }
  return {
    ...pupilFrame(ctx, household, pupil, course.currentYear ? 'cours' : 'historique'),
    year,
    course: describeCourse(ctx.config, course),
    // what announcing an absence needs: the course's lessons of this year; none in a past year
    schedule: course.currentYear
      ? {
          enrolmentId: course.id,
          courseId: course.courseId,
          slots: course.slots as CourseSlot[],
          room: course.room,
          year: { from: String(course.yearStartsOn), to: String(course.yearEndsOn) },
        }
      : undefined,
    back: course.currentYear
      ? { href: `/eleves/${pupil.id}/cours`, label: ctx.t('pupil.backToCourses') }
      : {
          href: `/eleves/${pupil.id}/historique/${year.id}`,
          label: ctx.t('pupil.backToYear', { year: year.label }),
        },
  }
}

const historyRead = prepare(
  (db: Kysely<TenantDb>, p: { accountId: number; pupilId: number; yearId: number }) =>
    db.selectNoFrom([
      householdOf(p.accountId).as('household'),
      pastCoursesOf(p.pupilId, p.yearId).as('courses'),
    ]),
)

/** The Historique tab: the years before this one, newest first, each with its courses' titles. */
export async function historyPage(ctx: SignedInContext, pupilId: number) {
  const year = await currentSchoolYear(ctx.db)
  const found = await historyRead.first(ctx.db, { accountId: ctx.account.id, pupilId, yearId: year?.id ?? 0 })
  const household = householdOr404(found?.household)
  const pupil = householdPupil(household, pupilId)
  const years = new Map<
    number,
    { year: { id: number; label: string }; courses: { name: string; title: string }[] }
  >()
  for (const course of found!.courses) {
    const entry = years.get(course.yearId) ?? {
      year: { id: course.yearId, label: course.yearLabel },
      courses: [],
    }
    entry.courses.push({ name: course.name, title: courseTitle(ctx.config, course).title })
    years.set(course.yearId, entry)
  }
  return {
    ...pupilFrame(ctx, household, pupil, 'historique'),
    years: [...years.values()].map(({ year, courses }) => ({
      year,
      courses: courses.sort((a, b) => frenchOrder(a.name, b.name)).map((c) => c.title),
    })),
  }
}

const historyYearRead = prepare(
  (db: Kysely<TenantDb>, p: { accountId: number; pupilId: number; yearId: number; currentYearId: number }) =>
    db.selectNoFrom([
      householdOf(p.accountId).as('household'),
      pastCoursesOf(p.pupilId, p.currentYearId).as('past'),
      followedCourses({ pupilId: p.pupilId, yearId: p.yearId }).as('courses'),
    ]),
)

/** One past year's courses; a year the pupil had no courses in, or the current one, is a 404. */
export async function historyYearPage(ctx: SignedInContext, pupilId: number, yearId: number) {
  const current = await currentSchoolYear(ctx.db)
  const found = await historyYearRead.first(ctx.db, {
    accountId: ctx.account.id,
    pupilId,
    yearId,
    currentYearId: current?.id ?? 0,
  })
  const household = householdOr404(found?.household)
  const pupil = householdPupil(household, pupilId)
  const past = found!.past.find((c) => c.yearId === yearId)
  if (!past) throw new NotFound()
  return {
    ...pupilFrame(ctx, household, pupil, 'historique'),
    year: { id: past.yearId, label: past.yearLabel },
    ...courseTable(ctx, found!.courses),
  }
}

const repertoireRead = prepare((db: Kysely<TenantDb>, p: { accountId: number; pupilId: number }) =>
  db.selectNoFrom([
    householdOf(p.accountId).as('household'),
    piecesOf(p.pupilId).as('pieces'),
    repertoireOf(p.pupilId).as('performances'),
  ]),
)

/**
 * The Répertoire tab: the pieces the pupil works with their teachers (in progress, then performed),
 * then the events the pupil took part in, newest first, with what they performed.
 */
export async function repertoirePage(ctx: SignedInContext, pupilId: number) {
  const found = await repertoireRead.first(ctx.db, { accountId: ctx.account.id, pupilId })
  const household = householdOr404(found?.household)
  const pupil = householdPupil(household, pupilId)
  return {
    ...pupilFrame(ctx, household, pupil, 'repertoire'),
    ...piecesByState(found!.pieces.map((piece) => describePiece(ctx.t, piece))),
    events: byEvent(found!.performances),
  }
}
