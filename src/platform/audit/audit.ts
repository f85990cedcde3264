import { sql } from 'kysely'
import type { Actor } from '../auth/context.ts'
import { Account } from '../auth/entities.ts'
import type { Em } from '../db/orm.ts'
import { AuditEvent } from './entities.ts'

export interface Audited {
  action: string
  subject: { type: string; id: number }
  details: Record<string, unknown>
}

const actorName = (actor: Actor) => `${actor.displayName} (${actor.identifiant})`

/** Persists (no flush) an audit event in the caller's unit of work, so it commits with the action. */
export function audit(em: Em, actor: Actor, event: Audited): AuditEvent {
  const row = em.create(AuditEvent, {
    actor: em.getReference(Account, actor.id),
    actorName: actorName(actor),
    action: event.action,
    subjectType: event.subject.type,
    subjectId: event.subject.id,
    details: event.details,
  })
  em.persist(row)
  return row
}

/**
 * Inserts the events of a batch (the year's invoices issued) in one statement inside the caller's
 * transaction, so they commit with the action; the unit of work would send them a few hundred at a
 * time after comparing each.
 */
export async function auditMany(tx: Em, actor: Actor, events: Audited[]): Promise<void> {
  if (!tx.isInTransaction()) throw new Error('a batch is audited inside its transaction')
  if (!events.length) return
  const now = new Date().toISOString()
  await sql`insert into ${sql.table(`${tx.schema}.audit_event`)}
      (created_at, updated_at, actor_id, actor_name, action, subject_type, subject_id, details)
    select ${now}::timestamptz, ${now}::timestamptz, cast(${actor.id} as int), cast(${actorName(actor)} as text), v.action, v.subject_type, v.subject_id, v.details
    from unnest(cast(${events.map((e) => e.action)} as text[]), cast(${events.map((e) => e.subject.type)} as text[]),
      cast(${events.map((e) => e.subject.id)} as int[]), cast(${events.map((e) => JSON.stringify(e.details))} as jsonb[]))
      as v(action, subject_type, subject_id, details)`.execute(tx.getKysely())
}
