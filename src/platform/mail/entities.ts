import { defineEntity, type InferEntity, p } from '@mikro-orm/core'
import { TenantEntity } from '../db/base-entity.ts'

export const MailStatus = { pending: 'pending', sent: 'sent', failed: 'failed' } as const

/**
 * A mail waiting to be sent, written in the same transaction as the action that causes it. Its
 * uuid makes the Message-ID, so a mail re-sent after a crash is recognisable as the same message.
 */
export const OutboxMail = defineEntity({
  name: 'OutboxMail',
  schema: '*',
  tableName: 'outbox_mail',
  extends: TenantEntity,
  // the worker's due mail; the administration's list of mails, newest first
  indexes: [{ properties: ['status', 'nextAttemptAt'] }, { properties: ['createdAt', 'id'] }],
  properties: {
    uuid: p.uuid().unique(),
    recipient: p.string().length(254),
    subject: p.string(),
    text: p.text(),
    html: p.text(),
    /** Name of the template, kept for the operator page and the logs. */
    template: p.string(),
    status: p.enum(Object.values(MailStatus)).default(MailStatus.pending),
    attempts: p.smallint().default(0),
    nextAttemptAt: p.datetime(),
    lastError: p.text().nullable(),
    sentAt: p.datetime().nullable(),
  },
})
export type OutboxMail = InferEntity<typeof OutboxMail>

/**
 * A file sent with an outbox mail (an invoice's PDF with its reminder), stored with the mail in the
 * same transaction so the mail carries exactly what staff sent, and deleted once the mail is sent.
 */
export const OutboxAttachment = defineEntity({
  name: 'OutboxAttachment',
  schema: '*',
  tableName: 'outbox_attachment',
  extends: TenantEntity,
  indexes: [{ properties: ['mail'] }],
  properties: {
    mail: () => p.manyToOne(OutboxMail).deleteRule('cascade'),
    fileName: p.string(),
    contentType: p.string().length(100),
    content: p.blob().lazy(),
  },
})
export type OutboxAttachment = InferEntity<typeof OutboxAttachment>
