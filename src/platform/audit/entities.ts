import { defineEntity, type InferEntity, p } from '@mikro-orm/core'
import { Account } from '../auth/entities.ts'
import { TenantEntity } from '../db/base-entity.ts'

/**
 * Something a person decided or changed that the conservatoire must be able to account for later
 * (who, when, what). Rows are only ever added: the actor is kept as a name too, so the trail still
 * reads after the account is gone.
 */
export const AuditEvent = defineEntity({
  name: 'AuditEvent',
  schema: '*',
  tableName: 'audit_event',
  extends: TenantEntity,
  // the subject's history; the administration's journal, newest first, by everyone or by one person
  indexes: [
    { properties: ['subjectType', 'subjectId'] },
    { properties: ['createdAt', 'id'] },
    { properties: ['actor', 'createdAt'] },
  ],
  properties: {
    actor: () => p.manyToOne(Account).nullable().deleteRule('set null'),
    actorName: p.string(),
    /** Dotted verb, such as `change.proposed` or `change.decided`. */
    action: p.string().length(60),
    subjectType: p.string().length(40),
    subjectId: p.integer(),
    details: p.json<Record<string, unknown>>(),
  },
})
export type AuditEvent = InferEntity<typeof AuditEvent>
