import type { Kysely } from 'kysely'
import { frenchOrder } from '../../platform/text.ts'
import type { TenantDb } from '../../entities.ts'
import type { SignedInContext } from '../../platform/auth/context.ts'
import { prepare } from '../../platform/db/reads.ts'
import { formatDate } from '../../platform/views/dates.ts'
import { formatEuros } from '../../platform/views/money.ts'
import { dueOf, openInvoicesOf } from '../billing/invoices.ts'
import { requirementsOf, submissionsOf, toDoCount } from '../documents/service.ts'
import { campaignOf, inProgress, reenrolmentsOf } from '../reenrolment/service.ts'
import { describeChanges, pendingChangesOf, subjectName, subjectPath } from '../sas/service.ts'
import { seatsToAnswerOf } from '../places/family-service.ts'
import { chosenSite, siteFirst } from '../shared/site.ts'
import { currentSchoolYear, enrolmentsOfFamily, type FamilyEnrolment } from '../teaching/service.ts'
import { familyIdOf, formalName, fullName, guardiansOf, householdOf, tenantToday } from './service.ts'

// Accueil shows a little of everything: one statement reads it all
const homeRead = prepare((db: Kysely<TenantDb>, p: { accountId: number; yearId: number }) => {
  const family = familyIdOf(p.accountId)
  return db.selectNoFrom([
    householdOf(p.accountId).as('household'),
    guardiansOf(family).as('guardians'),
    enrolmentsOfFamily(family, p.yearId).as('enrolments'),
    pendingChangesOf(family).as('changes'),
    submissionsOf(family).as('submissions'),
    reenrolmentsOf(family).as('reenrolments'),
    openInvoicesOf(family).as('invoices'),
    seatsToAnswerOf(family).as('seats'),
  ])
})

/**
 * Accueil: "Bonjour …", a box per pupil with this year's courses, what awaits validation, the pièces
 * still to provide for the family and each pupil, and the re-enrolment box while its period is open.
 */
export async function homeView(ctx: SignedInContext) {
  const { db, config, t } = ctx
  const year = await currentSchoolYear(db)
  const found = await homeRead.first(db, { accountId: ctx.account.id, yearId: year?.id ?? 0 })
  // an account of no family (yet) is greeted all the same, with nothing to show
  if (!found?.household)
    return { title: t('nav.home'), name: ctx.account.displayName, pupils: [], pending: [], documents: [] }
  const { household, guardians, changes, submissions, reenrolments } = found
  const due = dueOf(found.invoices, tenantToday(config))
  // a pupil taken off a course by staff no longer follows it
  const enrolments = found.enrolments.filter((e) => e.active)
  // the courses of the site chosen at sign-in come first
  const site = chosenSite(ctx)
  const bySite = siteFirst<FamilyEnrolment>(
    site?.code,
    (e) => e.establishment,
    (a, b) => frenchOrder(a.name, b.name),
  )
  const pupils = household.pupils.map((pupil) => ({
    pupil,
    courses: enrolments
      .filter((e) => e.pupilId === pupil.id)
      .sort(bySite)
      .map((e) => e.name),
  }))
  const facts = { family: household, enrolments, reenrolments: inProgress(reenrolments) }
  const documents = [
    { label: t('famille.title'), href: '/famille/pieces', pupil: undefined },
    ...household.pupils.map((pupil) => ({
      label: fullName(pupil),
      href: `/eleves/${pupil.id}/pieces`,
      pupil,
    })),
  ].flatMap(({ label, href, pupil }) => {
    const requirements = requirementsOf(config, facts, submissions, pupil)
    return requirements.length ? [{ label, href, toDo: toDoCount(requirements) }] : []
  })
  const people = new Map<string, { firstName: string; lastName: string }>([
    ...guardians.map((g) => [`guardian:${g.id}`, g] as const),
    ...household.pupils.map((p) => [`pupil:${p.id}`, p] as const),
  ])
  const pending = changes.map((change) => ({
    updatedAt: change.updatedAt,
    subject: subjectName(
      change.subjectType,
      people.get(`${change.subjectType}:${change.subjectId}`),
      change.subjectId,
      t,
    ),
    path: subjectPath({ type: change.subjectType, id: change.subjectId }),
    fields: describeChanges(change.changes, t).map((c) => c.label),
  }))
  // the re-enrolment box, only while the period is open
  const campaign = campaignOf(config)
  const reenrolment = campaign?.open
    ? {
        schoolYear: campaign.schoolYear,
        closes: campaign.closes,
        pupils: household.pupils.map((pupil) => ({
          pupil,
          status:
            reenrolments.find((r) => r.pupilId === pupil.id && r.schoolYear === campaign.schoolYear)
              ?.status ?? 'none',
        })),
      }
    : undefined
  return {
    title: t('nav.home'),
    name: formalName(household),
    pupils,
    pending,
    documents,
    reenrolment,
    // a seat of next year's offer awaiting the family's answer, with its deadline
    seats: found.seats.map((seat) => ({
      href: `/eleves/${seat.pupilId}/places`,
      text: t('places.family.homeNotice', {
        name: seat.firstName,
        date: seat.answerBy ? formatDate(seat.answerBy, config.timezone) : '—',
      }),
    })),
    site,
    billing: due && {
      remaining: formatEuros(due.remaining, ctx.locale),
      late: due.late ? formatEuros(due.late, ctx.locale) : undefined,
      awaiting: due.awaiting ? formatEuros(due.awaiting, ctx.locale) : undefined,
      next: due.next && { dueOn: due.next.dueOn, amount: formatEuros(due.next.amount, ctx.locale) },
    },
  }
}
