import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { TableNotFoundException } from '@mikro-orm/core'
import fp from 'fastify-plugin'
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import type { Orm } from './db/orm.ts'
import { MailStatus } from './mail/entities.ts'
import type { Tenant, TenantRegistry } from './tenancy/registry.ts'

/*
 * Prometheus metrics, served apart from the pages (docs/decisions.md, "Metrics"). Every label is
 * bounded: a request is labelled by its route pattern and status code, never by tenant or URL, so
 * the series stay the same with ten tenants or ten thousand.
 */

export interface Metrics {
  registry: Registry
  /** Serves `GET /metrics` on its own port (0: any free one); closed with the app. */
  listen(options: { host: string; port: number }): Promise<AddressInfo>
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
}

/** How long the outbox figures are reused: one scan of every tenant's outbox per 15 s at most. */
export const outboxCacheMs = 15_000
// tenants whose outboxes are counted by one query, as the mail worker's sweep does
const tenantsPerQuery = 100

interface OutboxFigures {
  pending: number
  /** When the oldest pending mail was queued, or null when none waits. */
  oldest: Date | null
}

export default fp(
  async (app) => {
    const registry = new Registry()
    // event-loop delay, heap and resident memory, CPU, handles, GC
    collectDefaultMetrics({ register: registry })

    const duration = new Histogram({
      name: 'tutti_http_request_duration_seconds',
      help: 'Time to answer a request, by route pattern and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    })
    app.addHook('onResponse', async (request, reply) => {
      duration.observe(
        {
          method: request.method,
          // the pattern (/eleves/:id), never the URL; a request no route matched shares one label
          route: request.routeOptions.url ?? 'unmatched',
          status_code: reply.statusCode,
        },
        reply.elapsedTime / 1000,
      )
    })

    poolGauges(app.orm, registry)
    outboxGauges(app.orm, app.registry, registry)

    let server: Server | undefined
    app.decorate('metrics', {
      registry,
      async listen({ host, port }) {
        server = createServer(async (req, res) => {
          if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
            res.writeHead(404).end()
            return
          }
          try {
            const body = await registry.metrics()
            res.writeHead(200, { 'content-type': registry.contentType }).end(body)
          } catch (error) {
            app.log.error({ err: error }, 'metrics collection failed')
            res.writeHead(500).end()
          }
        })
        const listening = server
        await new Promise<void>((resolve, reject) => {
          listening.once('error', reject)
          listening.listen(port, host, resolve)
        })
        return listening.address() as AddressInfo
      },
    } satisfies Metrics)
    // registered after the db plugin's: runs before the ORM closes, so a last scrape can still query
    app.addHook('onClose', async () => {
      if (!server) return
      const closing = new Promise((resolve) => server!.close(resolve))
      // a scraper's kept-alive connection would hold the close until its timeout
      server.closeIdleConnections()
      await closing
    })
  },
  { name: 'metrics', dependencies: ['db', 'tenancy'] },
)

/** node-postgres' pool, read at each scrape. PGlite is one in-process connection: no pool to report. */
function poolGauges(orm: Orm, registry: Registry) {
  type PgPool = { totalCount: number; idleCount: number; waitingCount: number }
  let pool: Promise<PgPool | undefined> | undefined
  const nativePool = () =>
    (pool ??= orm.em
      .getConnection()
      .getNativeClient()
      .then((client) => (isPgPool(client) ? client : undefined)))
  new Gauge({
    name: 'tutti_db_pool_connections',
    help: 'Connections of the database pool, open in all (total) and not in use (idle)',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const p = await nativePool()
      if (!p) return
      this.set({ state: 'total' }, p.totalCount)
      this.set({ state: 'idle' }, p.idleCount)
    },
  })
  new Gauge({
    name: 'tutti_db_pool_waiting_requests',
    help: 'Queries waiting for a free connection of the database pool',
    registers: [registry],
    async collect() {
      const p = await nativePool()
      if (p) this.set(p.waitingCount)
    },
  })
}

function isPgPool(value: unknown): value is { totalCount: number; idleCount: number; waitingCount: number } {
  return typeof value === 'object' && value !== null && 'totalCount' in value && 'waitingCount' in value
}

/** Outbox backlog over every active tenant, computed at most once per `outboxCacheMs`, shared by concurrent scrapes. */
function outboxGauges(orm: Orm, tenants: TenantRegistry, registry: Registry) {
  let cached: { at: number; figures: Promise<OutboxFigures> } | undefined
  const figures = () => {
    if (!cached || Date.now() - cached.at >= outboxCacheMs) {
      const figures = outboxFigures(orm, tenants)
      cached = { at: Date.now(), figures }
      // a failed count is not kept: the next scrape tries again
      figures.catch(() => {
        if (cached?.figures === figures) cached = undefined
      })
    }
    return cached.figures
  }
  new Gauge({
    name: 'tutti_mail_outbox_pending',
    help: 'Mails waiting in the outboxes of every active tenant (refreshed every 15 s at most)',
    registers: [registry],
    async collect() {
      this.set((await figures()).pending)
    },
  })
  new Gauge({
    name: 'tutti_mail_outbox_oldest_pending_age_seconds',
    help: 'Age of the oldest mail waiting in any outbox, 0 when none waits (refreshed every 15 s at most)',
    registers: [registry],
    async collect() {
      const { oldest } = await figures()
      this.set(oldest ? Math.max(0, (Date.now() - oldest.getTime()) / 1000) : 0)
    },
  })
}

async function outboxFigures(orm: Orm, registry: TenantRegistry): Promise<OutboxFigures> {
  // a disabled tenant's mail is never sent: counting it would keep an alert firing for good
  const active = registry.list().filter((tenant) => tenant.status === 'active')
  const total: OutboxFigures = { pending: 0, oldest: null }
  for (let i = 0; i < active.length; i += tenantsPerQuery) {
    for (const row of await countPending(orm, active.slice(i, i + tenantsPerQuery))) {
      total.pending += Number(row.pending)
      const oldest = row.oldest ? new Date(row.oldest) : null
      if (oldest && (!total.oldest || oldest < total.oldest)) total.oldest = oldest
    }
  }
  return total
}

type PendingRow = { pending: number | string; oldest: Date | string | null }

async function countPending(orm: Orm, tenants: Tenant[]): Promise<PendingRow[]> {
  // schema names are validated against a strict pattern, so they can be written in SQL
  const query = tenants
    .map(
      (tenant) =>
        `select count(*) as pending, min(created_at) as oldest from "${tenant.schema}"."outbox_mail" ` +
        `where status = '${MailStatus.pending}'`,
    )
    .join(' union all ')
  try {
    return await orm.em.fork().execute<PendingRow[]>(query)
  } catch (error) {
    if (!(error instanceof TableNotFoundException)) throw error
    if (tenants.length === 1) return []
    // a schema not migrated yet must not hide every other tenant's backlog
    const rows: PendingRow[] = []
    for (const tenant of tenants) rows.push(...(await countPending(orm, [tenant])))
    return rows
  }
}
