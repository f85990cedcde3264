import type { Expression, Kysely } from 'kysely'
import { jsonArrayFrom, jsonObjectFrom } from 'kysely/helpers/postgres'
import { type TenantDb, tenantDb } from '../../entities.ts'
import type { SignedInContext } from '../../platform/auth/context.ts'
import { type JsonOf, prepare } from '../../platform/db/reads.ts'
import type { Checked } from '../../platform/forms.ts'
import { NotFound } from '../../platform/http/errors.ts'
import type { TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import { zonedParts } from '../../platform/views/dates.ts'
import { pendingChangesOf, pendingOf, type ProposalOutcome, proposeChanges } from '../sas/service.ts'
import { SubjectType } from '../sas/entities.ts'
import {
  checkIdentity,
  guardianFields,
  type GuardianRecord,
  guardianValues,
  mandatoryFields,
} from './identity.ts'

export {
  civilities,
  familySituations,
  formFields,
  guardianFields,
  type GuardianRecord,
  guardianValues,
  mandatoryFields,
  setGuardianValue,
  socioProfessionalCategories,
} from './identity.ts'

/** The family a family account acts for: the family of the guardian the account belongs to. */
export function familyIdOf(accountId: number): FamilyRef {
  return tenantDb.selectFrom('guardian').select('family_id').where('account_id', '=', accountId).$asScalar()
}

/** A family in a query: its id, or a subquery giving it (the signed-in account's family). */
export type FamilyRef = Expression<number>

/**
 * What every page of the family portal starts from, read inside each page's one statement: the
 * account's guardian, their family and its pupils (eldest first). Null when the account belongs to
 * no guardian: such an account acts for no family.
 */
export function householdOf(accountId: number) {
  return jsonObjectFrom(
    tenantDb
      .selectFrom('guardian as g')
      .innerJoin('family as f', 'f.id', 'g.family_id')
      .select([
        'g.id as guardianId',
        'g.rank',
        'g.civility',
        'g.first_name as firstName',
        'g.last_name as lastName',
        'f.id as familyId',
        'f.resident',
        'f.payment_mode as paymentMode',
      ])
      .select((inner) =>
        jsonArrayFrom(
          inner
            .selectFrom('pupil as p')
            .select([
              'p.id',
              'p.first_name as firstName',
              'p.last_name as lastName',
              'p.birth_date as birthDate',
            ])
            // the pupil's file shows its Places tab once the family asked for a seat
            .select((deeper) =>
              deeper
                .exists(
                  deeper.selectFrom('place_request as q').select('q.id').whereRef('q.pupil_id', '=', 'p.id'),
                )
                .as('asksForPlaces'),
            )
            .whereRef('p.family_id', '=', 'f.id')
            .orderBy('p.birth_date')
            .orderBy('p.first_name'),
        ).as('pupils'),
      )
      .where('g.account_id', '=', accountId),
  )
}

export type Household = JsonOf<typeof householdOf>
export type HouseholdPupil = Household['pupils'][number]

/** A guardian's whole record, as the Famille page and the re-enrolment's coordinates show it. */
export function guardiansOf(familyId: FamilyRef) {
  return jsonArrayFrom(
    tenantDb
      .selectFrom('guardian as g')
      .select([
        'g.id',
        'g.rank',
        'g.civility',
        'g.last_name as lastName',
        'g.first_name as firstName',
        'g.birth_date as birthDate',
        'g.birth_place as birthPlace',
        'g.birth_department as birthDepartment',
        'g.address',
        'g.postal_code as postalCode',
        'g.city',
        'g.phone_home as phoneHome',
        'g.phone_mobile as phoneMobile',
        'g.phone_work as phoneWork',
        'g.email',
        'g.family_situation as familySituation',
        'g.socio_professional_category as socioProfessionalCategory',
        'g.profession',
        'g.extra_phones as extraPhones',
      ])
      .where('g.family_id', '=', familyId)
      .orderBy('g.rank'),
  )
}

/** "Camille Martin" */
export function fullName(person: { firstName: string; lastName: string }): string {
  return [person.firstName, person.lastName].filter(Boolean).join(' ')
}

/** "Madame Camille Martin", as Accueil greets a guardian. */
export function formalName(person: { civility: string | null; firstName: string; lastName: string }): string {
  return [person.civility, person.firstName, person.lastName].filter(Boolean).join(' ')
}

function dateIn(timeZone: string, instant: Date): string {
  const { year, month, day } = zonedParts(instant, timeZone)
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`
}

// a page asks several times (ages, validities) and Intl's parts are slow: one answer a second per timezone
const todays = new Map<string, { value: string; until: number }>()

/** Today's date where the conservatoire is, YYYY-MM-DD: a birth date is "in the future" after it. */
export function tenantToday(tenant: Pick<TenantConfig, 'timezone'>, now?: Date): string {
  if (now) return dateIn(tenant.timezone, now)
  const at = Date.now()
  const known = todays.get(tenant.timezone)
  if (known && at < known.until) return known.value
  const value = dateIn(tenant.timezone, new Date(at))
  todays.set(tenant.timezone, { value, until: at + 1000 })
  return value
}

/**
 * The guardian form as the sas takes it: every field normalized (null when blank), and a message
 * per refused field. Mandatory fields are the tenant's `fields.guardian`.
 */
export function checkGuardianForm(
  guardian: GuardianRecord,
  input: Record<string, string | undefined>,
  ctx: Pick<SignedInContext, 'config' | 't'>,
): Checked<Record<string, string | null>> {
  return checkIdentity(guardianFields, input, {
    mandatory: mandatoryFields(ctx.config.fields.guardian),
    current: guardianValues(guardian),
    today: tenantToday(ctx.config),
    t: ctx.t,
  })
}

/** The household a page read for the signed-in account; an account of no family sees nothing (404). */
export function householdOr404(household: Household | null | undefined): Household {
  if (!household) throw new NotFound()
  return household
}

/** One of the household's pupils; another family's is as unknown as a missing one (404, never 403). */
export function householdPupil(household: Household, id: number): HouseholdPupil {
  const pupil = household.pupils.find((p) => p.id === id)
  if (!pupil) throw new NotFound()
  return pupil
}

const familleRead = prepare((db: Kysely<TenantDb>, p: { accountId: number }) => {
  const family = familyIdOf(p.accountId)
  return db.selectNoFrom([
    householdOf(p.accountId).as('household'),
    guardiansOf(family).as('guardians'),
    pendingChangesOf(family).as('changes'),
  ])
})

/**
 * The Famille page of one guardian of the signed-in family (the first when `guardianId` is
 * undefined): their record, the pending proposal over it, the other guardians and the pupils.
 * Another family's guardian is a 404.
 */
export async function guardianPage(ctx: SignedInContext, guardianId?: number) {
  const found = await familleRead.first(ctx.db, { accountId: ctx.account.id })
  const household = householdOr404(found?.household)
  const guardians = found!.guardians
  const guardian = guardianId === undefined ? guardians[0] : guardians.find((g) => g.id === guardianId)
  if (!guardian) throw new NotFound()
  const pending = pendingOf(found!.changes, { type: SubjectType.guardian, id: guardian.id })
  return { household, guardians, guardian, pending }
}

export type GuardianPage = Awaited<ReturnType<typeof guardianPage>>

/**
 * A family's edit of a guardian's record, through the sas: checked, then proposed. Answers the
 * refused fields, or how the proposal went.
 */
export async function saveGuardian(
  ctx: SignedInContext,
  page: GuardianPage,
  input: Record<string, string | undefined>,
): Promise<Checked<ProposalOutcome | undefined>> {
  const checked = checkGuardianForm(page.guardian, input, ctx)
  if (checked.errors) return { values: undefined, errors: checked.errors }
  const [outcome] = await proposeChanges(ctx, page.household.familyId, [
    {
      ref: { type: SubjectType.guardian, id: page.guardian.id },
      values: checked.values,
      seen: { values: guardianValues(page.guardian), pending: page.pending?.changes },
    },
  ])
  return { values: outcome, errors: undefined }
}
