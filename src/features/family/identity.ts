import { type Checked, type FieldErrors, refusals } from '../../platform/forms.ts'
import type { MessageKey, Translate } from '../../platform/views/i18n.ts'
import type { Guardian } from './entities.ts'

/**
 * An option of a choice field: the value stored (the conservatoire's own wording) and its label in
 * the catalogue; without a label (a school's name) the value is shown as it is.
 */
export interface Choice {
  value: string
  label?: MessageKey
}

/** yesno: a required Oui/Non answer ('true'/'false'); checkbox: a box always sent ('true'/'false'). */
export type FieldKind = 'text' | 'date' | 'postcode' | 'phone' | 'email' | 'choice' | 'yesno' | 'checkbox'

/** A field of an identity form, as families see it and as the sas compares it. */
export interface IdentityField {
  name: string
  kind: FieldKind
  /** Longest accepted value, in characters. */
  max: number
  choices?: readonly Choice[]
  /** A long list offered as a searchable text field (datalist) rather than a select. */
  search?: boolean
  /** The message when the value is not one of the choices, if more helpful than the generic one. */
  choiceError?: MessageKey
  autocomplete?: string
}

export const civilities: readonly Choice[] = [
  { value: 'Madame', label: 'identity.civility.madame' },
  { value: 'Monsieur', label: 'identity.civility.monsieur' },
]

// the wording iMuse used and the demo data carries, so existing records keep their value
export const familySituations: readonly Choice[] = [
  { value: 'Célibataire', label: 'identity.situation.single' },
  { value: 'Marié(e)', label: 'identity.situation.married' },
  { value: 'Pacsé(e)', label: 'identity.situation.pacs' },
  { value: 'Vie maritale', label: 'identity.situation.cohabiting' },
  { value: 'Divorcé(e)', label: 'identity.situation.divorced' },
  { value: 'Séparé(e)', label: 'identity.situation.separated' },
  { value: 'Veuf(ve)', label: 'identity.situation.widowed' },
]

/** The INSEE socio-professional groups (PCS, level 1). */
export const socioProfessionalCategories: readonly Choice[] = [
  { value: 'Agriculteurs exploitants', label: 'identity.csp.farmers' },
  { value: "Artisans, commerçants et chefs d'entreprise", label: 'identity.csp.selfEmployed' },
  { value: 'Cadres et professions intellectuelles supérieures', label: 'identity.csp.executives' },
  { value: 'Professions intermédiaires', label: 'identity.csp.intermediate' },
  { value: 'Employés', label: 'identity.csp.employees' },
  { value: 'Ouvriers', label: 'identity.csp.workers' },
  { value: 'Retraités', label: 'identity.csp.retired' },
  { value: 'Autres personnes sans activité professionnelle', label: 'identity.csp.inactive' },
]

const text = (name: string, max: number, autocomplete?: string): IdentityField => ({
  name,
  kind: 'text',
  max,
  ...(autocomplete ? { autocomplete } : {}),
})
const phone = (name: string, autocomplete?: string): IdentityField => ({
  name,
  kind: 'phone',
  max: 30,
  ...(autocomplete ? { autocomplete } : {}),
})

/** The guardian's identity, in the order of the Famille page (and of the tenant YAML's `fields.guardian`). */
export const guardianFields: readonly IdentityField[] = [
  { name: 'civility', kind: 'choice', max: 20, choices: civilities, autocomplete: 'honorific-prefix' },
  text('lastName', 100, 'family-name'),
  text('firstName', 100, 'given-name'),
  { name: 'birthDate', kind: 'date', max: 10, autocomplete: 'bday' },
  text('birthPlace', 100),
  text('birthDepartment', 60),
  text('address', 200, 'street-address'),
  { name: 'postalCode', kind: 'postcode', max: 5, autocomplete: 'postal-code' },
  text('city', 100, 'address-level2'),
  phone('phoneHome', 'tel'),
  phone('phoneMobile', 'tel'),
  phone('phoneWork'),
  { name: 'email', kind: 'email', max: 254, autocomplete: 'email' },
  { name: 'familySituation', kind: 'choice', max: 60, choices: familySituations },
  { name: 'socioProfessionalCategory', kind: 'choice', max: 80, choices: socioProfessionalCategories },
  text('profession', 100, 'organization-title'),
  phone('extraPhone1'),
  phone('extraPhone2'),
  phone('extraPhone3'),
]

/** Names a record cannot do without (its columns are not nullable), whatever the tenant's YAML says. */
const alwaysMandatory = ['lastName', 'firstName']

export function mandatoryFields(configured: readonly string[]): Set<string> {
  return new Set([...alwaysMandatory, ...configured])
}

const extraPhone = /^extraPhone([1-3])$/

/** A guardian's record as read for a page, or the entity: the fields of the form, by their names. */
export type GuardianRecord = Pick<
  Guardian,
  'id' | 'rank' | 'civility' | 'lastName' | 'firstName' | 'extraPhones'
> &
  Partial<Record<string, unknown>>

/** The guardian's validated values, one string (or null) per field of the form. */
export function guardianValues(guardian: GuardianRecord): Record<string, string | null> {
  const values: Record<string, string | null> = {}
  for (const field of guardianFields) {
    const extra = extraPhone.exec(field.name)
    const value = extra
      ? guardian.extraPhones[Number(extra[1]) - 1]
      : (guardian as unknown as Record<string, string | null | undefined>)[field.name]
    values[field.name] = value || null
  }
  return values
}

/** Writes one validated value into the guardian's validated record. */
export function setGuardianValue(guardian: Guardian, name: string, value: string | null): void {
  const extra = extraPhone.exec(name)
  if (extra) {
    const phones = [0, 1, 2].map((i) => guardian.extraPhones[i] ?? '')
    phones[Number(extra[1]) - 1] = value ?? ''
    // trailing blanks go, inner ones stay so each phone keeps its rank
    while (phones.length > 0 && !phones[phones.length - 1]) phones.pop()
    guardian.extraPhones = phones
    return
  }
  if (!guardianFields.some((f) => f.name === name)) throw new Error(`unknown guardian field ${name}`)
  ;(guardian as unknown as Record<string, string | null>)[name] = value
}

const emailPattern = /^[^\s@,;<>"()]+@[^\s@,;<>"()]+\.[^\s@,;<>"()]+$/

/** "06 12 34 56 78" from 0612345678, 06.12.34.56.78, +33 6 12 34 56 78 or 0033612345678. */
function normalizePhone(input: string): string | undefined {
  const compact = input.replace(/[\s.\-()]/g, '')
  const national = /^(?:\+33|0033)([1-9]\d{8})$/.exec(compact)?.[1]
  const digits = national ? `0${national}` : compact
  if (!/^0[1-9]\d{8}$/.test(digits)) return undefined
  return digits.replace(/(\d{2})(?=\d)/g, '$1 ')
}

/** YYYY-MM-DD from what a date input sends, or from DD/MM/YYYY typed where there is no date picker. */
export function normalizeDate(input: string): string | undefined {
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(input)
  const french = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(input)
  const [y, m, d] = iso
    ? [Number(iso[1]), Number(iso[2]), Number(iso[3])]
    : french
      ? [Number(french[3]), Number(french[2]), Number(french[1])]
      : []
  if (y === undefined || m === undefined || d === undefined) return undefined
  const date = new Date(Date.UTC(y, m - 1, d))
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return undefined
  return date.toISOString().slice(0, 10)
}

/**
 * Checks and normalizes an identity form: every field of `fields` gets a value (null when blank),
 * every problem a French message keyed by the field's name. `today` is the tenant's date, YYYY-MM-DD.
 * A choice keeps a validated value that is not in the list (older records), so saving never loses it.
 */
export function checkIdentity(
  fields: readonly IdentityField[],
  input: Record<string, string | undefined>,
  context: { mandatory: Set<string>; current: Record<string, string | null>; today: string; t: Translate },
): Checked<Record<string, string | null>> {
  const { mandatory, current, today, t } = context
  const values: Record<string, string | null> = {}
  const errors: FieldErrors = {}
  for (const field of fields) {
    const raw = (input[field.name] ?? '').trim().replace(/\s+/g, ' ')
    values[field.name] = null
    if (field.kind === 'checkbox') {
      // an unticked box sends nothing
      values[field.name] = raw === 'true' ? 'true' : 'false'
      continue
    }
    if (!raw) {
      if (mandatory.has(field.name)) errors[field.name] = t('form.required')
      continue
    }
    if (raw.length > field.max && field.kind !== 'phone') {
      errors[field.name] = t('identity.error.tooLong', { max: field.max })
      continue
    }
    switch (field.kind) {
      case 'phone': {
        const normalized = normalizePhone(raw)
        if (normalized) values[field.name] = normalized
        else errors[field.name] = t('identity.error.phone')
        break
      }
      case 'postcode':
        if (/^\d{5}$/.test(raw)) values[field.name] = raw
        else errors[field.name] = t('identity.error.postcode')
        break
      case 'email':
        if (emailPattern.test(raw)) values[field.name] = raw
        else errors[field.name] = t('identity.error.email')
        break
      case 'date': {
        const date = normalizeDate(raw)
        if (!date || date < '1900-01-01') errors[field.name] = t('identity.error.date')
        else if (date > today) errors[field.name] = t('identity.error.dateFuture')
        else values[field.name] = date
        break
      }
      case 'yesno':
        if (raw === 'true' || raw === 'false') values[field.name] = raw
        else errors[field.name] = t('identity.error.choice')
        break
      case 'choice': {
        // typed in a search field, "college des monts d'or" is the listed "Collège des Monts d'Or"
        const folded = raw.toLocaleLowerCase('fr')
        const listed = field.choices?.find((c) => c.value.toLocaleLowerCase('fr') === folded)
        if (listed) values[field.name] = listed.value
        else if (raw === current[field.name]) values[field.name] = raw
        else errors[field.name] = t(field.choiceError ?? 'identity.error.choice')
        break
      }
      default:
        values[field.name] = raw
    }
  }
  return { values, errors: refusals(errors) }
}

/** A field as the identity forms show it: its label, the value shown, and whether a change awaits. */
export interface FormField extends Omit<IdentityField, 'choices'> {
  label: string
  value: string
  required: boolean
  modified: boolean
  /** The validated value in words, shown under a field whose change awaits validation. */
  validated: string
  choices?: { value: string; label: string }[]
}

/**
 * What an identity form shows: the validated values with the pending proposal laid over them (✓ on
 * each proposed field), or, after a refused submission, exactly what was typed.
 */
export function formFields(
  fields: readonly IdentityField[],
  context: {
    validated: Record<string, string | null>
    pending?: Record<string, { before: string | null; after: string | null }>
    input?: Record<string, string | undefined>
    mandatory: Set<string>
    t: Translate
    display: (name: string, value: string | null) => string
  },
): Record<string, FormField> {
  const { validated, pending, input, mandatory, t, display } = context
  return Object.fromEntries(
    fields.map((field) => {
      const change = pending?.[field.name]
      const shown = input
        ? (input[field.name] ?? (field.kind === 'checkbox' ? 'false' : ''))
        : ((change ? change.after : validated[field.name]) ?? '')
      return [
        field.name,
        {
          ...field,
          label: t(`identity.${field.name}` as MessageKey),
          value: shown,
          required: mandatory.has(field.name),
          modified: Boolean(change),
          validated: change ? display(field.name, change.before) : '',
          choices: field.choices && [
            ...field.choices.map((c) => ({ value: c.value, label: c.label ? t(c.label) : c.value })),
            // a value from an older record that the list no longer offers stays selectable
            ...(shown && !field.choices.some((c) => c.value === shown)
              ? [{ value: shown, label: shown }]
              : []),
          ],
        },
      ]
    }),
  )
}
