import { type Checked, type FieldErrors, refusals } from '../../platform/forms.ts'
import type { TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import type { Translate } from '../../platform/views/i18n.ts'
import {
  type Choice,
  checkIdentity,
  civilities,
  type IdentityField,
  mandatoryFields,
} from '../family/identity.ts'

/** The French school levels; "Non scolarisé" first, as families search for it (manual 001). */
export const schoolLevels: readonly Choice[] = [
  { value: 'Non scolarisé', label: 'identity.schoolLevel.none' },
  { value: 'Petite section', label: 'identity.schoolLevel.ps' },
  { value: 'Moyenne section', label: 'identity.schoolLevel.ms' },
  { value: 'Grande section', label: 'identity.schoolLevel.gs' },
  { value: 'CP', label: 'identity.schoolLevel.cp' },
  { value: 'CE1', label: 'identity.schoolLevel.ce1' },
  { value: 'CE2', label: 'identity.schoolLevel.ce2' },
  { value: 'CM1', label: 'identity.schoolLevel.cm1' },
  { value: 'CM2', label: 'identity.schoolLevel.cm2' },
  { value: '6e', label: 'identity.schoolLevel.6e' },
  { value: '5e', label: 'identity.schoolLevel.5e' },
  { value: '4e', label: 'identity.schoolLevel.4e' },
  { value: '3e', label: 'identity.schoolLevel.3e' },
  { value: 'Seconde', label: 'identity.schoolLevel.seconde' },
  { value: 'Première', label: 'identity.schoolLevel.premiere' },
  { value: 'Terminale', label: 'identity.schoolLevel.terminale' },
  { value: 'Études supérieures', label: 'identity.schoolLevel.higher' },
]

/** The two answers iMuse offered besides the listed schools; "non-répertorié" asks staff to call. */
export const schoolSpecials: readonly Choice[] = [
  { value: 'Non scolarisé·e', label: 'identity.school.none' },
  { value: 'Établissement non-répertorié', label: 'identity.school.unlisted' },
]

/** The postal address a pupil shares with the family's main guardian when "utiliser les coordonnées" is ticked. */
export const guardianAddressFields = ['address', 'postalCode', 'city'] as const

const text = (name: string, max: number, autocomplete?: string): IdentityField => ({
  name,
  kind: 'text',
  max,
  ...(autocomplete ? { autocomplete } : {}),
})

/** The pupil's identity in the order of the Identité tab; the school list is the tenant's. */
export function pupilFields(tenant: Pick<TenantConfig, 'schools'>): IdentityField[] {
  const school: IdentityField = tenant.schools?.length
    ? {
        name: 'school',
        kind: 'choice',
        max: 120,
        search: true,
        choices: [...schoolSpecials, ...tenant.schools.map((value) => ({ value }))],
        choiceError: 'identity.error.school',
      }
    : text('school', 120)
  return [
    { name: 'civility', kind: 'choice', max: 20, choices: civilities },
    text('lastName', 100),
    text('firstName', 100),
    { name: 'birthDate', kind: 'date', max: 10 },
    text('birthPlace', 100),
    text('birthDepartment', 60),
    { name: 'useGuardianAddress', kind: 'checkbox', max: 5 },
    text('address', 200),
    { name: 'postalCode', kind: 'postcode', max: 5 },
    text('city', 100),
    { name: 'phoneHome', kind: 'phone', max: 30 },
    { name: 'phoneMobile', kind: 'phone', max: 30 },
    { name: 'email', kind: 'email', max: 254 },
    { name: 'schoolLevel', kind: 'choice', max: 40, choices: schoolLevels },
    school,
    { name: 'imageRights', kind: 'yesno', max: 5 },
    { name: 'exitAuthorization', kind: 'yesno', max: 5 },
    text('emergencyContact', 150),
    { name: 'emergencyPhone', kind: 'phone', max: 30 },
  ]
}

export const pupilFieldNames = pupilFields({}).map((f) => f.name)

/** True when someone born on `birthDate` (YYYY-MM-DD) is under 18 on `today`. */
export function isMinor(birthDate: string, today: string): boolean {
  const adultFrom = `${Number(today.slice(0, 4)) - 18}${today.slice(4)}`
  return birthDate > adultFrom
}

/**
 * Checks the pupil form: the tenant's mandatory fields, the format of each value, and the
 * autorisation de sortie, which a minor must answer (oui or non) whatever the YAML says. When the
 * pupil uses the guardian's address, the address fields are neither required nor changed.
 */
export function checkPupil(
  input: Record<string, string | undefined>,
  context: {
    tenant: TenantConfig
    current: Record<string, string | null>
    today: string
    t: Translate
    /** Fields the form does not show (asked elsewhere): they keep their current value, unchecked. */
    omitted?: readonly string[]
  },
): Checked<Record<string, string | null>> {
  const { tenant, current, today, t, omitted = [] } = context
  const sharesAddress = input.useGuardianAddress === 'true'
  const mandatory = mandatoryFields(tenant.fields.pupil)
  if (sharesAddress) for (const name of guardianAddressFields) mandatory.delete(name)
  const shown = pupilFields(tenant).filter((f) => !omitted.includes(f.name))
  const checked = checkIdentity(shown, input, { mandatory, current, today, t })
  const values = checked.values
  const errors: FieldErrors = { ...checked.errors }
  for (const name of omitted) values[name] = current[name] ?? null
  if (sharesAddress) {
    for (const name of guardianAddressFields) {
      values[name] = current[name] ?? null
      delete errors[name]
    }
  }
  const birthDate = values.birthDate
  // a form that does not ask it (the re-enrolment asks it in its own step) cannot be refused for it
  if (
    !omitted.includes('exitAuthorization') &&
    birthDate &&
    isMinor(birthDate, today) &&
    values.exitAuthorization === null &&
    !errors.exitAuthorization
  ) {
    errors.exitAuthorization = t('identity.error.exitAuthorizationMinor')
  }
  return { values, errors: refusals(errors) }
}
