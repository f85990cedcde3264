import { defineEntity, type InferEntity, p } from '@mikro-orm/core'
import { Account } from '../../platform/auth/entities.ts'
import { TenantEntity } from '../../platform/db/base-entity.ts'
import { Family } from '../family/entities.ts'
import { Pupil } from '../pupils/entities.ts'

export const ReenrolmentStatus = {
  /** Started, saved at every step, not submitted yet. */
  draft: 'draft',
  /** The family does not re-enrol the pupil. */
  declined: 'declined',
  /** Submitted, "en attente de validation". */
  submitted: 'submitted',
  validated: 'validated',
  refused: 'refused',
} as const
export type ReenrolmentStatus = (typeof ReenrolmentStatus)[keyof typeof ReenrolmentStatus]

/** What the family answered in the wizard, kept as a draft between steps and devices. */
export interface ReenrolmentAnswers {
  /** Id of one of the tenant's payment modes, for the coming year. */
  paymentMode?: string
  imageRights?: boolean
  exitAuthorization?: boolean
  /** Course id of this year → kept for next year. */
  keep?: Record<string, boolean>
  newDisciplines?: string
  notes?: string
  /** Answers to the tenant's reenrolment.questions, by question id. */
  questions?: Record<string, boolean>
  /** Ids of next year's offer items the family asks for, its first choice first. */
  requests?: number[]
  accepted?: boolean
}

/** One pupil's re-enrolment for the coming school year: a draft, a refusal, or a submitted request. */
export const Reenrolment = defineEntity({
  name: 'Reenrolment',
  schema: '*',
  tableName: 'reenrolment',
  extends: TenantEntity,
  uniques: [{ properties: ['pupil', 'schoolYear'] }],
  indexes: [{ properties: ['schoolYear', 'status'] }],
  properties: {
    family: () => p.manyToOne(Family).deleteRule('cascade'),
    pupil: () => p.manyToOne(Pupil).deleteRule('cascade'),
    /** The school year the pupil is re-enrolled for, "2027-2028" (periods.reenrolment.schoolYear). */
    schoolYear: p.string().length(9),
    status: p.enum(Object.values(ReenrolmentStatus)).default(ReenrolmentStatus.draft),
    /** The last step the family reached, to resume there. */
    step: p.string().length(20).nullable(),
    // defaultRaw, not default: MikroORM would assign the string '{}' itself to new entities
    answers: p
      .json<ReenrolmentAnswers>()
      .defaultRaw("'{}'")
      .onCreate(() => ({})),
    updatedBy: () => p.manyToOne(Account).nullable().deleteRule('set null'),
    submittedAt: p.datetime().nullable(),
    declinedAt: p.datetime().nullable(),
    decidedBy: () => p.manyToOne(Account).nullable().deleteRule('set null'),
    decidedAt: p.datetime().nullable(),
    reason: p.text().nullable(),
  },
})
export type Reenrolment = InferEntity<typeof Reenrolment>
