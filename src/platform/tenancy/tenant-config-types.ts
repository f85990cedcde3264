/**
 * The shape of a validated `tenants/<slug>.yaml`, mirroring `config/tenant.schema.json` (the contract;
 * keep both in step). Defaults from the schema are filled in by the validator.
 */

export type Step = 'coordinates' | 'authorizations' | 'documents' | 'courses' | 'summary' | 'finalize'
export type DocumentType = 'pdf' | 'jpeg' | 'png'
export type Fact =
  | 'family.resident'
  | 'family.paymentMode'
  | 'pupil.minor'
  | 'pupil.disciplines'
  | `pupil.answers.${string}`

export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | { fact: Fact; equals: string | number | boolean }
  | { fact: Fact; in: string[] }
  | { fact: Fact; includesAny: string[] }

export interface PeriodBounds {
  opens: string
  closes: string
}

export interface RequiredDocument {
  id: string
  label: string
  help?: string
  level: 'family' | 'pupil'
  when?: Condition
  accept: DocumentType[]
  maxSizeMb: number
  validity: 'schoolYear' | 'forever' | { until: string }
}

export interface TenantConfig {
  slug: string
  name: string
  shortName?: string
  locale: 'fr' | 'en'
  timezone: string
  hosts?: string[]
  brand?: { logo?: string; primaryColor?: string; accentColor?: string }
  contact: { email: string; phone?: string; address?: string; website?: string }
  establishments: { code: string; name: string; address?: string }[]
  periods?: {
    preregistration?: PeriodBounds
    reenrolment?: PeriodBounds & { schoolYear: string }
  }
  fields?: { guardian?: string[]; pupil?: string[] }
  texts?: {
    home?: string
    imageRights?: string
    exitAuthorization?: string
    rulesUrl?: string
    rulesAcceptance?: string
    paymentInfo?: string
    documentsIntro?: string
    accessibility?: string
  }
  reenrolment?: {
    steps: Step[]
    layout: 'wizard' | 'onePage'
    texts?: Partial<Record<Step, string>>
    courseNotes?: string[]
    mandatoryDisciplines?: string[]
    newDisciplinesQuestion?: string
    questions?: { id: string; label: string; help?: string }[]
  }
  documents?: RequiredDocument[]
  paymentModes?: {
    id: string
    label: string
    kind:
      | 'directDebit'
      | 'payfip'
      | 'cheque'
      | 'holidayVouchers'
      | 'localPass'
      | 'cash'
      | 'card'
      | 'transfer'
      | 'other'
    instalments?: number
    help?: string
  }[]
  quotientFamilial?: {
    brackets: { code: string; label: string; max?: number }[]
    fallback: string
    residentsOnly?: boolean
  }
  disciplines?: { code: string; name: string; domain: 'music' | 'dance' | 'theatre' }[]
  schools?: string[]
  preregistration?: {
    choices: number
    disciplines?: string[]
    intro?: string
    freeTextQuestion?: string
    antiSpam?: { question: string; answer: string }
    brochureUrl?: string
  }
  passwordPolicy: { rule: 'default' | 'imuse'; minLength?: number; maxLength: number }
  sessions?: { idleMinutes?: number; absoluteHours?: number }
}
