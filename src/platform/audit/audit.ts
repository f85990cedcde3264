import type { Actor } from '../auth/context.ts'
import { Account } from '../auth/entities.ts'
import type { Em } from '../db/orm.ts'
import { AuditEvent } from './entities.ts'

export interface Audited {
  action: string
  subject: { type: string; id: number }
  details: Record<string, unknown>
}

/** Persists (no flush) an audit event in the caller's unit of work, so it commits with the action. */
export function audit(em: Em, actor: Actor, event: Audited): AuditEvent {
  const row = em.create(AuditEvent, {
    actor: em.getReference(Account, actor.id),
    actorName: `${actor.displayName} (${actor.identifiant})`,
    action: event.action,
    subjectType: event.subject.type,
    subjectId: event.subject.id,
    details: event.details,
  })
  em.persist(row)
  return row
}
