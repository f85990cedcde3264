import { defineEntity, type InferEntity, p } from '@mikro-orm/core'
import { Account } from '../../platform/auth/entities.ts'
import { TenantEntity } from '../../platform/db/base-entity.ts'
import { Family } from '../family/entities.ts'
import { Pupil } from '../pupils/entities.ts'

/**
 * An uploaded file, kept in the tenant's schema so that it is isolated and backed up with the
 * tenant's other data. The bytes are lazy: listing documents never reads them.
 */
export const StoredFile = defineEntity({
  name: 'StoredFile',
  schema: '*',
  tableName: 'stored_file',
  extends: TenantEntity,
  properties: {
    /** The name the family's file had, shown in the tables and used for downloads. */
    fileName: p.string(),
    /** Decided from the file's first bytes, never from its name. */
    contentType: p.string().length(40),
    size: p.integer(),
    sha256: p.string().length(64),
    content: p.blob().lazy(),
  },
})
export type StoredFile = InferEntity<typeof StoredFile>

export const DocumentState = { pending: 'pending', validated: 'validated', refused: 'refused' } as const
export type DocumentState = (typeof DocumentState)[keyof typeof DocumentState]

/** A file a family sent for one of the tenant's required documents, and staff's answer. */
export const DocumentSubmission = defineEntity({
  name: 'DocumentSubmission',
  schema: '*',
  tableName: 'document_submission',
  extends: TenantEntity,
  indexes: [{ properties: ['family', 'documentId'] }, { properties: ['state', 'createdAt'] }],
  properties: {
    family: () => p.manyToOne(Family).deleteRule('cascade'),
    /** Set for a pupil-level document. */
    pupil: () => p.manyToOne(Pupil).nullable().deleteRule('cascade'),
    /** The `id` of the document in the tenant's YAML. */
    documentId: p.string().length(60),
    file: () => p.oneToOne(StoredFile).owner().unique(),
    state: p.enum(Object.values(DocumentState)).default(DocumentState.pending),
    reason: p.text().nullable(),
    uploadedBy: () => p.manyToOne(Account).nullable().deleteRule('set null'),
    decidedBy: () => p.manyToOne(Account).nullable().deleteRule('set null'),
    decidedAt: p.datetime().nullable(),
    /** Last day a validated document counts; null when it is valid forever. */
    validUntil: p.date().nullable(),
  },
})
export type DocumentSubmission = InferEntity<typeof DocumentSubmission>
