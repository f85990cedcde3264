import { LockMode, TableNotFoundException } from '@mikro-orm/core'
import type { FastifyBaseLogger } from 'fastify'
import { createTransport } from 'nodemailer'
import type { Em, Orm } from '../db/orm.ts'
import { withoutAddresses } from '../logging.ts'
import type { Tenant, TenantRegistry } from '../tenancy/registry.ts'
import { MailStatus, OutboxAttachment, OutboxMail } from './entities.ts'

/** Delivery attempts before a mail is marked `failed` and left alone. */
export const maxAttempts = 8

const firstRetryMs = 60_000
const longestRetryMs = 60 * 60_000
// tenants whose outboxes are checked by one query: one short statement instead of a thousand
const tenantsPerQuery = 100

/** A send stop() gave up on: the mail is left pending, its attempt not counted. */
class SendAbandoned extends Error {}

/** Wait after the n-th failed attempt: 1 minute, 2, 4… at most an hour (about two hours in all). */
export function retryDelay(attempts: number): number {
  return Math.min(firstRetryMs * 2 ** Math.max(0, attempts - 1), longestRetryMs)
}

export interface MailWorkerOptions {
  orm: Orm
  registry: TenantRegistry
  smtpUrl: string
  log: FastifyBaseLogger
  /** How often every active tenant's outbox is checked for due mail. */
  sweepMs?: number
  /** Mails claimed (locked) by one transaction. */
  batchSize?: number
  /** How long `stop()` waits for the mail being sent (a relay that accepts and never answers). */
  stopWaitMs?: number
}

/** The server refused this recipient for good (5xx to RCPT TO): trying again cannot help. */
function refusedRecipient(error: unknown): boolean {
  const { responseCode, command } = error as { responseCode?: number; command?: string }
  return command === 'RCPT TO' && typeof responseCode === 'number' && responseCode >= 500
}

/**
 * Sends the outboxes' pending mails. Any number of workers (threads of one process, pods) may run:
 * a batch is claimed with `for update skip locked` in a transaction on the tenant's schema, sent
 * while its rows are locked, and marked in that same transaction, so no two workers send a mail.
 */
export class MailWorker {
  readonly #orm: Orm
  readonly #registry: TenantRegistry
  readonly #log: FastifyBaseLogger
  readonly #transport: ReturnType<typeof createTransport>
  readonly #sweepMs: number
  readonly #batchSize: number
  readonly #stopWaitMs: number
  /** Aborts the send in progress once `stop()` has waited long enough (nodemailer closes its connection). */
  readonly #abandon = new AbortController()
  /** Slugs of the tenants to deliver for, from kicks and sweeps. */
  readonly #due = new Set<string>()
  #loop: Promise<void> | undefined
  #stopped = false
  #wake: (() => void) | undefined

  constructor(options: MailWorkerOptions) {
    this.#orm = options.orm
    this.#registry = options.registry
    this.#log = options.log
    this.#sweepMs = options.sweepMs ?? 5_000
    this.#batchSize = options.batchSize ?? 20
    this.#stopWaitMs = options.stopWaitMs ?? 5_000
    // a row stays locked during a send: bound every wait (nodemailer's defaults run to minutes)
    this.#transport = createTransport({
      url: options.smtpUrl,
      pool: true,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    })
  }

  start(): void {
    this.#loop ??= this.#run()
  }

  /** Delivers a tenant's due mail now instead of at the next sweep: call it once the mail is committed. */
  kick(slug: string): void {
    if (!this.#loop || this.#stopped) return
    this.#due.add(slug)
    this.#wake?.()
  }

  /**
   * Lets the mail being sent finish and be marked, for `stopWaitMs` at most, then closes the SMTP
   * connections. A send still waiting on the relay then is abandoned: its transaction rolls back, so
   * the mail stays pending, its attempt not counted, for the next process. The ORM must stay open
   * until this returns.
   */
  async stop(): Promise<void> {
    this.#stopped = true
    this.#wake?.()
    if (this.#loop) {
      let timer: NodeJS.Timeout | undefined
      const waited = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), this.#stopWaitMs)
      })
      if ((await Promise.race([this.#loop, waited])) === 'late') {
        this.#log.warn('the mail relay did not answer: the mail being sent stays in the outbox')
        this.#abandon.abort()
        await this.#loop
      }
      clearTimeout(timer)
    }
    this.#transport.close()
  }

  async #run(): Promise<void> {
    let nextSweep = 0
    while (!this.#stopped) {
      if (Date.now() >= nextSweep) {
        nextSweep = Date.now() + this.#sweepMs
        try {
          for (const slug of await this.#tenantsWithDueMail()) this.#due.add(slug)
        } catch (error) {
          this.#log.error({ err: error }, 'outbox sweep failed')
        }
      }
      await this.#deliverDue()
      await this.#sleep(nextSweep - Date.now())
    }
  }

  #sleep(ms: number): Promise<void> {
    if (this.#due.size > 0 || this.#stopped) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.#wake = undefined
        resolve()
      }
      const timer = setTimeout(done, Math.max(0, ms))
      timer.unref()
      this.#wake = done
    })
  }

  /** One batch per tenant in turn, again while batches come back full, so no tenant starves the others. */
  async #deliverDue(): Promise<void> {
    while (this.#due.size > 0 && !this.#stopped) {
      const slugs = [...this.#due]
      this.#due.clear()
      for (const slug of slugs) {
        if (this.#stopped) return
        const tenant = this.#registry.get(slug)
        if (tenant?.status !== 'active') continue
        try {
          if ((await this.#deliverBatch(tenant)) === this.#batchSize) this.#due.add(slug)
        } catch (error) {
          if (error instanceof SendAbandoned) return
          this.#log.error({ err: error, tenant: slug }, 'mail delivery failed')
        }
      }
    }
  }

  /** The active tenants with due mail, checked a hundred schemas per query on the outbox's index. */
  async #tenantsWithDueMail(): Promise<string[]> {
    const tenants = this.#registry.list().filter((tenant) => tenant.status === 'active')
    const now = new Date()
    const found: string[] = []
    for (let i = 0; i < tenants.length; i += tenantsPerQuery) {
      found.push(...(await this.#withDueMail(tenants.slice(i, i + tenantsPerQuery), now)))
    }
    return found
  }

  async #withDueMail(tenants: Tenant[], now: Date): Promise<string[]> {
    // slugs and schema names are validated against strict patterns, so they can be written in SQL
    const query = tenants
      .map(
        (tenant) =>
          `select '${tenant.slug}' as slug where exists (select 1 from "${tenant.schema}"."outbox_mail" ` +
          `where status = '${MailStatus.pending}' and next_attempt_at <= ?)`,
      )
      .join(' union all ')
    try {
      const rows = await this.#orm.em.fork().execute<{ slug: string }[]>(
        query,
        tenants.map(() => now),
      )
      return rows.map((row) => row.slug)
    } catch (error) {
      if (!(error instanceof TableNotFoundException)) throw error
      if (tenants.length === 1) {
        this.#log.warn({ err: error, tenant: tenants[0]!.slug }, 'outbox table missing: tenant not migrated')
        return []
      }
      // one schema not migrated yet must not hold back every other tenant's mail
      const found: string[] = []
      for (const tenant of tenants) found.push(...(await this.#withDueMail([tenant], now)))
      return found
    }
  }

  async #deliverBatch(tenant: Tenant): Promise<number> {
    return this.#orm.em.fork({ schema: tenant.schema }).transactional(async (tx) => {
      const mails = await tx.find(
        OutboxMail,
        { status: MailStatus.pending, nextAttemptAt: { $lte: new Date() } },
        {
          orderBy: { nextAttemptAt: 'asc', id: 'asc' },
          limit: this.#batchSize,
          lockMode: LockMode.PESSIMISTIC_PARTIAL_WRITE,
        },
      )
      for (const mail of mails) {
        // what is left of the batch stays pending, unlocked at commit, for the next worker
        if (this.#stopped) break
        await this.#send(tx, tenant, mail)
      }
      return mails.length
    })
  }

  /**
   * Sends one locked mail and records the outcome in the claiming transaction. If the process dies
   * or the commit fails after the server accepted the mail, the row is still pending and the mail
   * is sent again: at least once, never lost. The Message-ID is the row's uuid, so the second copy
   * is the same message for the receivers (most clients show one).
   */
  async #send(tx: Em, tenant: Tenant, mail: OutboxMail): Promise<void> {
    const domain = this.#registry.platformDomain
    mail.attempts += 1
    const attachments = await tx.find(OutboxAttachment, { mail: mail.id }, { populate: ['content'] })
    try {
      await this.#transport.sendMail({
        messageId: `<${mail.uuid}@${domain}>`,
        from: { name: tenant.config.name, address: `no-reply@${domain}` },
        replyTo: tenant.config.contact.email,
        to: { name: '', address: mail.recipient },
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        attachments: attachments.map((a) => ({
          filename: a.fileName,
          contentType: a.contentType,
          content: Buffer.from(a.content),
        })),
        // RFC 3834: out-of-office robots must not answer
        headers: { 'Auto-Submitted': 'auto-generated' },
        // aborted by stop() once it has waited enough: the connection is closed, the send fails
        signal: this.#abandon.signal,
      })
      mail.status = MailStatus.sent
      mail.sentAt = new Date()
      mail.lastError = null
      // the bodies may carry a password link, kept elsewhere only as a hash: once sent, drop them
      mail.text = ''
      mail.html = ''
      tx.remove(attachments)
      this.#log.info({ tenant: tenant.slug, mail: mail.uuid, template: mail.template }, 'mail sent')
    } catch (error) {
      // out of the transaction, which rolls back: the relay never answered, no attempt is counted
      if (this.#abandon.signal.aborted) throw new SendAbandoned()
      mail.lastError = String((error as Error).message ?? error).slice(0, 2000)
      if (refusedRecipient(error) || mail.attempts >= maxAttempts) mail.status = MailStatus.failed
      else mail.nextAttemptAt = new Date(Date.now() + retryDelay(mail.attempts))
      this.#log.warn(
        {
          tenant: tenant.slug,
          mail: mail.uuid,
          attempts: mail.attempts,
          status: mail.status,
          // an SMTP refusal usually names the recipient: the address stays in the outbox, not the logs
          reason: withoutAddresses(mail.lastError),
        },
        'mail not sent',
      )
    }
    await tx.flush()
  }
}
