import { defineEntity, type InferEntity, p } from '@mikro-orm/core'
import { Account } from '../../platform/auth/entities.ts'
import { TenantEntity } from '../../platform/db/base-entity.ts'
import { Family } from '../family/entities.ts'

export const PreregistrationStatus = {
  /** Saved by the family, still modifiable through its link while the period lasts. */
  draft: 'draft',
  /** Confirmed by the family: locked, waiting for staff. */
  confirmed: 'confirmed',
  /** Turned into a family with an account; the invitation is mailed. */
  accepted: 'accepted',
  waitlisted: 'waitlisted',
  refused: 'refused',
} as const
export type PreregistrationStatus = (typeof PreregistrationStatus)[keyof typeof PreregistrationStatus]

/** Identity values by field name (the Famille and Identité forms' names), null when blank. */
export type PersonValues = Record<string, string | null>

/** One applicant of a dossier. */
export interface Applicant {
  /** "Le responsable est aussi élève": the identity is responsable 1's, only the birth date is the pupil's own. */
  fromGuardian: boolean
  values: PersonValues
  /** Discipline codes, by order of priority (the items' disciplines when the offer was chosen from). */
  choices: string[]
  /** Ids of next year's offer items asked for, first choice first, where the tenant publishes an offer. */
  offerChoices?: number[]
  freeText: string | null
}

/**
 * A pré-inscription dossier sent from the public form: its guardians and applicants as typed, and
 * the hash of the private link mailed to responsable 1. Kept apart from families until staff
 * accept it, so nothing a visitor types reaches validated data.
 */
export const Preregistration = defineEntity({
  name: 'Preregistration',
  schema: '*',
  tableName: 'preregistration',
  extends: TenantEntity,
  indexes: [{ properties: ['status'] }, { properties: ['email'] }],
  properties: {
    /** SHA-256 of the link's token; the token itself is only ever in the mails. */
    tokenHash: p.string().length(64).unique(),
    status: p.enum(Object.values(PreregistrationStatus)).default(PreregistrationStatus.draft),
    /** Responsable 1's e-mail, lowercased: where the acknowledgements go, and a duplicate key. */
    email: p.string().length(254),
    guardians: p.json<PersonValues[]>(),
    applicants: p.json<Applicant[]>(),
    /** How many times the family saved it: 1 at creation. */
    revision: p.smallint().default(1),
    /**
     * When the family last saved it (created it, or changed it through its link). A staff decision
     * changes `updatedAt`, never this: the dossier keeps the date it was registered.
     */
    savedAt: p.datetime().onCreate(() => new Date()),
    confirmedAt: p.datetime().nullable(),
    decidedBy: () => p.manyToOne(Account).nullable().deleteRule('set null'),
    decidedAt: p.datetime().nullable(),
    reason: p.text().nullable(),
    /** The family created when staff accepted the dossier. */
    family: () => p.manyToOne(Family).nullable().deleteRule('set null'),
  },
})
export type Preregistration = InferEntity<typeof Preregistration>
