import { defineEntity, type InferEntity, p } from '@mikro-orm/core'
import { Account } from '../../platform/auth/entities.ts'
import { TenantEntity } from '../../platform/db/base-entity.ts'
import { Family } from '../family/entities.ts'

export const SubjectType = { guardian: 'guardian', pupil: 'pupil' } as const
export type SubjectType = (typeof SubjectType)[keyof typeof SubjectType]

export const ChangeStatus = { pending: 'pending', decided: 'decided' } as const

export const FieldDecision = { validated: 'validated', refused: 'refused', conflict: 'conflict' } as const
export type FieldDecision = (typeof FieldDecision)[keyof typeof FieldDecision]

/** One field of a proposal: the validated value when it was made, the proposed one, and staff's answer. */
export interface FieldChange {
  before: string | null
  after: string | null
  decision?: FieldDecision
  reason?: string
}

/**
 * The "sas": what a family proposes to change in a guardian's or a pupil's validated record. The
 * record itself is untouched until staff approve; a subject has at most one pending request.
 */
export const ChangeRequest = defineEntity({
  name: 'ChangeRequest',
  schema: '*',
  tableName: 'change_request',
  extends: TenantEntity,
  indexes: [{ properties: ['status', 'updatedAt'] }, { properties: ['subjectType', 'subjectId'] }],
  properties: {
    family: () => p.manyToOne(Family).deleteRule('cascade'),
    subjectType: p.enum(Object.values(SubjectType)),
    subjectId: p.integer(),
    proposedBy: () => p.manyToOne(Account).nullable().deleteRule('set null'),
    status: p.enum(Object.values(ChangeStatus)).default(ChangeStatus.pending),
    /** Keyed by field name. */
    changes: p.json<Record<string, FieldChange>>(),
    decidedBy: () => p.manyToOne(Account).nullable().deleteRule('set null'),
    decidedAt: p.datetime().nullable(),
  },
})
export type ChangeRequest = InferEntity<typeof ChangeRequest>
