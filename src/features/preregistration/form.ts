import { type Checked, refusals } from '../../platform/forms.ts'
import type { TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import { fold } from '../../platform/text.ts'
import type { Translate } from '../../platform/views/i18n.ts'
import { checkIdentity, guardianFields, type IdentityField, mandatoryFields } from '../family/identity.ts'
import { guardianAddressFields, pupilFields } from '../pupils/identity.ts'
import { type OfferChoice, preregistrationChoices } from '../places/family-service.ts'
import type { Applicant, PersonValues } from './entities.ts'

/** A dossier holds one or two guardians and up to this many applicants. */
export const maxApplicants = 8
export const freeTextMax = 1000

/** The responsable's block of manual 000, with the Famille page's fields and checks. */
const guardianNames = [
  'civility',
  'lastName',
  'firstName',
  'familySituation',
  'profession',
  'socioProfessionalCategory',
  'address',
  'postalCode',
  'city',
  'phoneHome',
  'phoneWork',
  'phoneMobile',
  'email',
]
export const applicantGuardianFields: IdentityField[] = guardianNames.map(
  (name) => guardianFields.find((f) => f.name === name)!,
)

/** The applicant's block: identity and contact; authorisations and school come with enrolment. */
const applicantNames = [
  'civility',
  'lastName',
  'firstName',
  'birthDate',
  'birthPlace',
  'useGuardianAddress',
  'address',
  'postalCode',
  'city',
  'phoneHome',
  'phoneMobile',
  'email',
]
export function applicantFields(tenant: Pick<TenantConfig, 'schools'>): IdentityField[] {
  const fields = pupilFields(tenant)
  return applicantNames.map((name) => fields.find((f) => f.name === name)!)
}

/** What an applicant "aussi responsable" takes from responsable 1. */
const sharedWithGuardian = ['civility', 'lastName', 'firstName', 'phoneHome', 'phoneMobile', 'email']

export type Input = Record<string, string | undefined>

/** The form as typed: one raw input per block, field names without their block's prefix. */
export interface FormState {
  guardians: Input[]
  applicants: { fromGuardian: boolean; input: Input }[]
  confirmEmail: string
  antiSpam: string
  honeypot: string
}

/** The honeypot's name: a field people never see, that form-filling robots fill in. */
export const honeypotName = 'homepage'

const prefixed = (body: Input, prefix: string): Input =>
  Object.fromEntries(
    Object.entries(body)
      .filter(([name]) => name.startsWith(prefix))
      .map(([name, value]) => [name.slice(prefix.length), value]),
  )

/** A child usually lives with responsable 1: the new block starts with "utiliser ses coordonnées" ticked. */
const newApplicant = () => ({ fromGuardian: false, input: { useGuardianAddress: 'true' } })

export function emptyForm(): FormState {
  return {
    guardians: [{}],
    applicants: [newApplicant()],
    confirmEmail: '',
    antiSpam: '',
    honeypot: '',
  }
}

/** Reads a posted form: `g1-`, `g2-` for the guardians, `p0-`, `p1-`… for the applicants. */
export function readForm(body: Input): FormState {
  const count = Math.min(Math.max(Number.parseInt(body.applicants ?? '0', 10) || 0, 0), maxApplicants)
  return {
    guardians:
      body.secondGuardian === 'true'
        ? [prefixed(body, 'g1-'), prefixed(body, 'g2-')]
        : [prefixed(body, 'g1-')],
    applicants: Array.from({ length: count }, (_, i) => {
      const input = prefixed(body, `p${i}-`)
      return { fromGuardian: input.fromGuardian === 'true', input }
    }),
    confirmEmail: body.confirmEmail ?? '',
    antiSpam: body.antiSpam ?? '',
    honeypot: body[honeypotName] ?? '',
  }
}

/** A saved dossier as the form shows it again; the confirmation block is typed anew each time. */
export function formOf(dossier: { guardians: PersonValues[]; applicants: Applicant[] }): FormState {
  const asInput = (values: PersonValues): Input =>
    Object.fromEntries(Object.entries(values).map(([name, value]) => [name, value ?? '']))
  return {
    guardians: dossier.guardians.map(asInput),
    applicants: dossier.applicants.map((a) => ({
      fromGuardian: a.fromGuardian,
      input: {
        ...asInput(a.values),
        ...Object.fromEntries(
          (a.offerChoices ?? a.choices).map((choice, i) => [`choice${i + 1}`, String(choice)]),
        ),
        freeText: a.freeText ?? '',
      },
    })),
    confirmEmail: '',
    antiSpam: '',
    honeypot: '',
  }
}

/** The buttons that change the form's blocks without saving it (a server round trip, no script). */
export type BlockAction =
  | { kind: 'addGuardian' }
  | { kind: 'removeGuardian' }
  | { kind: 'addApplicant' }
  | { kind: 'guardianApplicant' }
  | { kind: 'removeApplicant'; index: number }

export function parseAction(action: string | undefined): BlockAction | 'save' | 'confirm' | undefined {
  switch (action) {
    case 'save':
    case 'confirm':
      return action
    case 'addGuardian':
    case 'removeGuardian':
    case 'addApplicant':
    case 'guardianApplicant':
      return { kind: action }
  }
  const remove = /^removeApplicant-(\d)$/.exec(action ?? '')
  return remove ? { kind: 'removeApplicant', index: Number(remove[1]) } : undefined
}

const isBlank = (input: Input) =>
  Object.entries(input).every(([name, value]) => name === 'useGuardianAddress' || !value?.trim())

/** Applies a block button: the form as typed, with a block added or removed. */
export function applyAction(form: FormState, action: BlockAction): FormState {
  const applicants = [...form.applicants]
  switch (action.kind) {
    case 'addGuardian':
      return { ...form, guardians: [form.guardians[0] ?? {}, {}] }
    case 'removeGuardian':
      return { ...form, guardians: [form.guardians[0] ?? {}] }
    case 'addApplicant':
      if (applicants.length < maxApplicants) applicants.push(newApplicant())
      return { ...form, applicants }
    case 'guardianApplicant': {
      if (applicants.some((a) => a.fromGuardian)) return form
      // the empty block the form starts with becomes the responsable's own
      const blank = applicants.findIndex((a) => isBlank(a.input))
      const index = blank >= 0 ? blank : applicants.length
      if (index < maxApplicants) applicants[index] = { fromGuardian: true, input: {} }
      return { ...form, applicants }
    }
    case 'removeApplicant':
      applicants.splice(action.index, 1)
      if (applicants.length === 0) applicants.push(newApplicant())
      return { ...form, applicants }
  }
}

/** The disciplines offered in the choice lists: the tenant's pré-inscription list, or all of them. */
export function offeredDisciplines(tenant: TenantConfig): { code: string; name: string }[] {
  const all = tenant.disciplines ?? []
  const listed = tenant.preregistration?.disciplines
  return listed ? listed.map((code) => all.find((d) => d.code === code)!).filter(Boolean) : all
}

/** How many choices an applicant makes: from the published offer, or from the tenant's disciplines. */
export function choiceCount(tenant: TenantConfig, offer?: PreregistrationOffer): number {
  if (offer?.items.length) return tenant.preregistration?.choices ?? 1
  return offeredDisciplines(tenant).length === 0 ? 0 : (tenant.preregistration?.choices ?? 1)
}

/** Next year's published items open to pré-inscriptions: the choice lists, when there are any. */
export type PreregistrationOffer = { schoolYear: string; items: OfferChoice[] }

/** The guardian's mandatory fields: the tenant's, and the e-mail of responsable 1, where the link goes. */
export function guardianMandatory(tenant: TenantConfig, rank: number): Set<string> {
  const mandatory = mandatoryFields(tenant.fields.guardian)
  if (rank === 1) mandatory.add('email')
  return mandatory
}

/** The applicant's mandatory fields: the tenant's, and the birth date, since staff place applicants by age. */
export function applicantMandatory(tenant: TenantConfig): Set<string> {
  return mandatoryFields(tenant.fields.pupil).add('birthDate')
}

export interface CheckedDossier {
  guardians: PersonValues[]
  applicants: Applicant[]
  /** Responsable 1's e-mail, lowercased. */
  email: string
}

/**
 * Checks the whole form: every block's identity with the portal's rules, the choices (the first
 * one required, each from the list, no discipline twice, in order), the e-mail typed again, the
 * anti-spam answer and the honeypot. Errors are keyed by the inputs' names.
 */
export function checkForm(
  form: FormState,
  context: { tenant: TenantConfig; today: string; t: Translate; offer?: PreregistrationOffer },
): Checked<CheckedDossier> {
  const { tenant, today, t, offer } = context
  const errors: Record<string, string> = {}
  const collect = (prefix: string, found: Record<string, string> | undefined) => {
    for (const [name, message] of Object.entries(found ?? {})) errors[`${prefix}${name}`] = message
  }

  const guardians = form.guardians.map((input, i) => {
    const mandatory = guardianMandatory(tenant, i + 1)
    const checked = checkIdentity(applicantGuardianFields, input, { mandatory, current: {}, today, t })
    collect(`g${i + 1}-`, checked.errors)
    return checked.values
  })
  const first = guardians[0]!

  const fields = applicantFields(tenant)
  const offered = new Set(offeredDisciplines(tenant).map((d) => d.code))
  const applicants = form.applicants.map(({ fromGuardian, input }, i): Applicant => {
    const prefix = `p${i}-`
    const mandatory = applicantMandatory(tenant)
    let values: PersonValues
    if (fromGuardian) {
      const birthDate = fields.filter((f) => f.name === 'birthDate')
      const checked = checkIdentity(birthDate, input, { mandatory, current: {}, today, t })
      collect(prefix, checked.errors)
      values = {
        ...Object.fromEntries(fields.map((f) => [f.name, null])),
        ...Object.fromEntries(sharedWithGuardian.map((name) => [name, first[name] ?? null])),
        birthDate: checked.values.birthDate ?? null,
        useGuardianAddress: 'true',
      }
    } else {
      if (input.useGuardianAddress === 'true')
        for (const name of guardianAddressFields) mandatory.delete(name)
      const checked = checkIdentity(fields, input, { mandatory, current: {}, today, t })
      if (input.useGuardianAddress === 'true') {
        for (const name of guardianAddressFields) {
          checked.values[name] = null
          delete checked.errors?.[name]
        }
      }
      collect(prefix, checked.errors)
      values = checked.values
    }
    if (offer?.items.length) {
      const offerChoices = checkOfferChoices(
        offer,
        values.birthDate ?? null,
        input,
        prefix,
        errors,
        t,
        choiceCount(tenant, offer),
      )
      const disciplines = [
        ...new Set(offerChoices.map((id) => offer.items.find((i) => i.id === id)!.discipline)),
      ]
      const freeText = (input.freeText ?? '').replace(/\r\n?/g, '\n').trim()
      if (freeText.length > freeTextMax)
        errors[`${prefix}freeText`] = t('identity.error.tooLong', { max: freeTextMax })
      return { fromGuardian, values, choices: disciplines, offerChoices, freeText: freeText || null }
    }
    const choices: string[] = []
    let gap = false
    for (let k = 1; k <= choiceCount(tenant); k++) {
      const name = `choice${k}`
      const code = input[name]?.trim() ?? ''
      if (!code) {
        if (k === 1) errors[`${prefix}${name}`] = t('prereg.error.firstChoice')
        gap = true
      } else if (!offered.has(code)) errors[`${prefix}${name}`] = t('prereg.error.choiceUnknown')
      else if (choices.includes(code)) errors[`${prefix}${name}`] = t('prereg.error.choiceTwice')
      else if (gap) errors[`${prefix}${name}`] = t('prereg.error.choiceGap')
      else choices.push(code)
    }
    const freeText = (input.freeText ?? '').replace(/\r\n?/g, '\n').trim()
    if (freeText.length > freeTextMax)
      errors[`${prefix}freeText`] = t('identity.error.tooLong', { max: freeTextMax })
    return { fromGuardian, values, choices, freeText: freeText || null }
  })
  if (applicants.length === 0) errors.applicants = t('prereg.error.noApplicant')

  const email = first.email ?? ''
  const retyped = form.confirmEmail.trim()
  if (!retyped) errors.confirmEmail = t('form.required')
  else if (email && retyped.toLowerCase() !== email.toLowerCase())
    errors.confirmEmail = t('prereg.error.emailMismatch')

  const antiSpam = tenant.preregistration?.antiSpam
  if (antiSpam) {
    if (!form.antiSpam.trim()) errors.antiSpam = t('form.required')
    else if (fold(form.antiSpam.trim()) !== fold(antiSpam.answer.trim()))
      errors.antiSpam = t('prereg.error.antiSpam')
  }
  if (form.honeypot) errors[honeypotName] = t('prereg.error.honeypot')

  return { values: { guardians, applicants, email: email.toLowerCase() }, errors: refusals(errors) }
}

/**
 * An applicant's choices among the offer's items: the first one required, each open to the
 * applicant's age (from the birth date typed), none twice, in order.
 */
function checkOfferChoices(
  offer: PreregistrationOffer,
  birthDate: string | null,
  input: Input,
  prefix: string,
  errors: Record<string, string>,
  t: Translate,
  count: number,
): number[] {
  const open = new Set(preregistrationChoices(offer, birthDate).map((i) => i.id))
  const chosen: number[] = []
  let gap = false
  for (let k = 1; k <= count; k++) {
    const name = `${prefix}choice${k}`
    const raw = input[`choice${k}`]?.trim() ?? ''
    const id = Number(raw)
    if (!raw) {
      if (k === 1) errors[name] = t('prereg.error.firstChoice')
      gap = true
    } else if (!offer.items.some((i) => i.id === id)) errors[name] = t('prereg.error.choiceUnknown')
    else if (!open.has(id)) errors[name] = t('places.family.error.notEligibleAge')
    else if (chosen.includes(id)) errors[name] = t('prereg.error.choiceTwice')
    else if (gap) errors[name] = t('prereg.error.choiceGap')
    else chosen.push(id)
  }
  return chosen
}
