import fp from 'fastify-plugin'
import { expireOverdue } from './service.ts'

export interface PlacesSweepOptions {
  /** How often offers past their deadline are expired and their seats offered on. */
  sweepMs?: number
}

/**
 * Offers whose deadline passed go to the next request even when nobody opens a page: every active
 * tenant is swept in its own transaction, which queues the next families' mails with the change.
 */
export default fp<PlacesSweepOptions>(
  async (app, options) => {
    const sweepMs = options.sweepMs ?? 10 * 60_000
    let timer: NodeJS.Timeout | undefined
    let sweeping: Promise<void> | undefined
    const sweep = async () => {
      for (const tenant of app.registry.list()) {
        if (tenant.status !== 'active') continue
        await app.orm.em
          .fork({ schema: tenant.schema })
          .transactional((tx) =>
            expireOverdue(tx, {
              config: tenant.config,
              locale: tenant.config.locale,
              baseUrl: tenant.baseUrl,
            }),
          )
          .catch((error) => app.log.error({ err: error, tenant: tenant.slug }, 'places sweep failed'))
      }
    }
    app.addHook('onReady', async () => {
      timer = setInterval(() => {
        sweeping = sweep()
      }, sweepMs)
      timer.unref()
    })
    app.addHook('onClose', async () => {
      clearInterval(timer)
      await sweeping
    })
  },
  { name: 'places-sweep', dependencies: ['db', 'tenancy'] },
)
