import type { Account } from '../../platform/auth/entities.ts'
import { oncePerEm } from '../../platform/db/memo.ts'
import type { Em } from '../../platform/db/orm.ts'
import {
  columnsFrom,
  columnsOf,
  hydrate,
  selectEntities,
  selectRows,
  tableOf,
} from '../../platform/db/rows.ts'
import { NotFound } from '../../platform/http/errors.ts'
import type { TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import { zonedParts } from '../../platform/views/dates.ts'
import type { Translate } from '../../platform/views/i18n.ts'
import { ValidationFailed } from '../../platform/http/errors.ts'
import { Pupil } from '../pupils/entities.ts'
import { Family, Guardian } from './entities.ts'
import { checkIdentity, guardianFields, guardianValues, mandatoryFields } from './identity.ts'

export {
  civilities,
  familySituations,
  formFields,
  guardianFields,
  guardianValues,
  mandatoryFields,
  setGuardianValue,
  socioProfessionalCategories,
} from './identity.ts'

/**
 * The guardian a family account belongs to (at most one: the link is one-to-one), their family and
 * the family's pupils, read together once per request: every page of the family portal starts here.
 */
function familyOfAccount(
  em: Em,
  account: Account,
): Promise<{ guardian: Guardian; pupils: Pupil[] } | undefined> {
  return oncePerEm(em, `familyOfAccount:${account.id}`, async () => {
    // plain SQL, see db/rows.ts
    const rows = await selectRows(
      em,
      `select ${columnsOf(em, Family, 'f')}, ${columnsOf(em, Guardian, 'g')}, ${columnsOf(em, Pupil, 'p')}
       from ${tableOf(em, Guardian)} g join ${tableOf(em, Family)} f on f.id = g.family_id
       left join ${tableOf(em, Pupil)} p on p.family_id = f.id
       where g.account_id = $1 order by p.birth_date asc, p.first_name asc`,
      [account.id],
    )
    const [first] = rows
    if (!first) return undefined
    hydrate(em, Family, columnsFrom(first, 'f'))
    const guardian = hydrate(em, Guardian, columnsFrom(first, 'g'))
    const pupils = rows
      .filter((row) => row.p__id !== null)
      .map((row) => hydrate(em, Pupil, columnsFrom(row, 'p')))
    return { guardian, pupils }
  })
}

/** The guardian a family account belongs to, with their family; undefined if none is linked. */
export async function guardianOf(em: Em, account: Account): Promise<Guardian | undefined> {
  return (await familyOfAccount(em, account))?.guardian
}

/** The pupils of the family a signed-in family account acts for, by birth date and first name. */
export async function accountPupils(em: Em, account: Account): Promise<Pupil[]> {
  const found = await familyOfAccount(em, account)
  if (!found) throw new NotFound()
  return found.pupils
}

/** The family a signed-in family account may act for; a family account without a guardian acts for none. */
export async function familyOf(em: Em, account: Account): Promise<Family> {
  const guardian = await guardianOf(em, account)
  if (!guardian) throw new NotFound()
  return guardian.family
}

export async function pupilsOf(em: Em, family: Family): Promise<Pupil[]> {
  // the chooser of every pupil's page: plain SQL, see db/rows.ts
  return selectEntities(
    em,
    Pupil,
    'p',
    'where p.family_id = $1 order by p.birth_date asc, p.first_name asc',
    [family.id],
  )
}

export async function guardiansOf(em: Em, family: Family): Promise<Guardian[]> {
  return em.find(Guardian, { family }, { orderBy: { rank: 'asc' } })
}

/** One of the family's guardians; another family's id is as unknown as a missing one. */
export async function familyGuardian(em: Em, family: Family, id: number): Promise<Guardian> {
  const guardian = await em.findOne(Guardian, { id, family })
  if (!guardian) throw new NotFound()
  return guardian
}

export function fullName(person: { civility?: string | null; firstName: string; lastName: string }): string {
  return [person.firstName, person.lastName].filter(Boolean).join(' ')
}

/** Today's date where the conservatoire is, YYYY-MM-DD: a birth date is "in the future" after it. */
export function tenantToday(tenant: TenantConfig, now = new Date()): string {
  const { year, month, day } = zonedParts(now, tenant.timezone)
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`
}

/**
 * The guardian form as the sas takes it: every field normalized (null when blank), or
 * ValidationFailed with a message per field. Mandatory fields are the tenant's `fields.guardian`.
 */
export function checkGuardianForm(
  guardian: Guardian,
  input: Record<string, string | undefined>,
  tenant: TenantConfig,
  t: Translate,
): Record<string, string | null> {
  const { values, errors } = checkIdentity(guardianFields, input, {
    mandatory: mandatoryFields(tenant.fields.guardian),
    current: guardianValues(guardian),
    today: tenantToday(tenant),
    t,
  })
  if (Object.keys(errors).length > 0) throw new ValidationFailed(errors)
  return values
}
