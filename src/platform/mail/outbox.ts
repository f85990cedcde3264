import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import nunjucks from 'nunjucks'
import type { Em } from '../db/orm.ts'
import type { TenantConfig } from '../tenancy/tenant-config.ts'
import { type Locale, translator } from '../views/i18n.ts'
import { templatesDir } from '../views/plugin.ts'
import { MailStatus, OutboxAttachment, OutboxMail } from './entities.ts'

export interface MailToQueue {
  to: string
  template: string
  data: Record<string, unknown>
  /** Files sent with the mail (an invoice's PDF): kept beside it until it is sent. */
  attachments?: MailAttachment[]
}

export interface MailAttachment {
  fileName: string
  contentType: string
  content: Buffer
}

export interface RenderedMail {
  subject: string
  text: string
  html: string
}

// the text part and the subject are not HTML: escaping them would show "&amp;" to people. Each
// environment has its own loader, whose cache keeps templates bound to the environment that compiled them
const environment = (autoescape: boolean) =>
  new nunjucks.Environment(new nunjucks.FileSystemLoader(templatesDir), {
    autoescape,
    trimBlocks: true,
    lstripBlocks: true,
  })
const textEnv = environment(false)
const htmlEnv = environment(true)

const templateName = /^[a-z0-9]+(-[a-z0-9]+)*$/
// one address, nothing a mail header could read as a list or a second line
const address = /^[^\s@,;<>"()]+@[^\s@,;<>"()]+$/

/**
 * A mail template defines the blocks `subject`, `text` and `html`, and extends the layout given as
 * `part`: rendered once per part, each layout outputs its own block inside the shared frame
 * (the tenant's name in the subject, its contact details in both footers). One template serves
 * every language: its words come from the message catalogue through `t`, in the mail's locale.
 * `t` returns plain text, so the HTML part escapes it, parameters included, like any other value.
 */
export function renderMail(
  template: string,
  locale: Locale,
  tenant: TenantConfig,
  data: Record<string, unknown>,
): RenderedMail {
  if (!templateName.test(template)) throw new Error(`invalid mail template name "${template}"`)
  const file = `mail/${template}.njk`
  const context = { ...data, tenant, lang: locale, t: translator(locale) }
  const render = (env: nunjucks.Environment, part: string) =>
    env.render(file, { ...context, part: `mail/layout/${part}.njk` })
  return {
    subject: render(textEnv, 'subject').replace(/\s+/g, ' ').trim(),
    text: `${render(textEnv, 'text')
      .replace(/\n{3,}/g, '\n\n')
      .trim()}\n`,
    html: render(htmlEnv, 'html').trim(),
  }
}

/** Renders and persists (em.persist, no flush) a mail in the caller's unit of work, so it is committed with the action. */
export function queueMail(em: Em, tenant: TenantConfig, locale: Locale, mail: MailToQueue): OutboxMail {
  const recipient = mail.to.trim()
  if (recipient.length > 254 || !address.test(recipient)) throw new Error('invalid mail recipient')
  const rendered = renderMail(mail.template, locale, tenant, mail.data)
  const queued = em.create(OutboxMail, {
    uuid: randomUUID(),
    recipient,
    subject: rendered.subject,
    text: rendered.text,
    html: rendered.html,
    template: mail.template,
    status: MailStatus.pending,
    attempts: 0,
    nextAttemptAt: new Date(),
  })
  em.persist(queued)
  for (const file of mail.attachments ?? [])
    em.persist(em.create(OutboxAttachment, { mail: queued, ...file }))
  return queued
}

/**
 * Queues many mails without attachments (a confirmation of seats mails hundreds of families) in one
 * statement inside the caller's transaction, so they commit with the action: the unit of work would
 * send them a few hundred at a time, their bodies written into the SQL, after comparing each.
 */
export async function queueMails(
  tx: Em,
  tenant: TenantConfig,
  locale: Locale,
  mails: readonly Omit<MailToQueue, 'attachments'>[],
): Promise<void> {
  if (!tx.isInTransaction()) throw new Error('a batch of mails is queued inside its transaction')
  if (!mails.length) return
  const rows = mails.map((mail) => {
    const recipient = mail.to.trim()
    if (recipient.length > 254 || !address.test(recipient)) throw new Error('invalid mail recipient')
    return { recipient, template: mail.template, ...renderMail(mail.template, locale, tenant, mail.data) }
  })
  const now = new Date().toISOString()
  await sql`insert into ${sql.table(`${tx.schema}.outbox_mail`)}
      (created_at, updated_at, uuid, recipient, subject, text, html, template, status, attempts, next_attempt_at)
    select ${now}::timestamptz, ${now}::timestamptz, v.uuid, v.recipient, v.subject, v.text, v.html, v.template,
      ${MailStatus.pending}, 0, ${now}::timestamptz
    from unnest(cast(${rows.map(() => randomUUID())} as uuid[]), cast(${rows.map((r) => r.recipient)} as text[]),
      cast(${rows.map((r) => r.subject)} as text[]), cast(${rows.map((r) => r.text)} as text[]),
      cast(${rows.map((r) => r.html)} as text[]), cast(${rows.map((r) => r.template)} as text[]))
      as v(uuid, recipient, subject, text, html, template)`.execute(tx.getKysely())
}
