import fp from 'fastify-plugin'
import { WakeAfterCommit } from './after-commit.ts'
import outboxPage from './outbox-page.ts'
import { queueMail } from './outbox.ts'
import { MailWorker } from './worker.ts'

export interface Mail {
  /** Renders a mail into the caller's unit of work: it is committed, or not, with the action. */
  queue: typeof queueMail
  /** The sender, running only when SMTP_URL is set. */
  worker: MailWorker | undefined
}

declare module 'fastify' {
  interface FastifyInstance {
    mail: Mail
  }
}

export interface MailOptions {
  sweepMs?: number
  batchSize?: number
}

/**
 * The transactional outbox: features queue mail in their own transaction; with SMTP_URL a worker
 * sends it, woken as soon as that transaction commits, and without it (development, demo) the mails
 * are read at `/_outbox` on the platform host.
 */
export default fp<MailOptions>(
  async (app, options) => {
    const { smtpUrl } = app.config
    const worker = smtpUrl
      ? new MailWorker({ orm: app.orm, registry: app.registry, smtpUrl, log: app.log, ...options })
      : undefined
    app.decorate('mail', { queue: queueMail, worker })
    if (worker) {
      const slugOf = new Map(app.registry.list().map((tenant) => [tenant.schema, tenant.slug]))
      app.orm.em.getEventManager().registerSubscriber(
        new WakeAfterCommit((schema) => {
          const slug = slugOf.get(schema)
          if (slug) worker.kick(slug)
        }),
      )
      app.addHook('onReady', async () => worker.start())
      // the db plugin's onClose (registered earlier) runs after this one: the ORM is still open
      app.addHook('onClose', () => worker.stop())
    } else if (app.config.env === 'production') {
      app.log.warn('SMTP_URL is not set: mail is queued in the outboxes but never sent')
    } else {
      await app.register(outboxPage)
    }
  },
  { name: 'mail', dependencies: ['db', 'tenancy', 'views'] },
)
