import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Em } from '../db/orm.ts'
import { type Reader, schemaReader } from '../db/reads.ts'
import { TenantDisabled, UnknownHost } from '../http/errors.ts'
import type { Site, Tenant, TenantRegistry } from './registry.ts'
import { applyVersions, tenantStates } from './versions.ts'

declare module 'fastify' {
  interface FastifyInstance {
    registry: TenantRegistry
  }
  interface FastifyRequest {
    site: Site
    /** The tenant of this request's host; undefined on the platform host. */
    tenant: Tenant | undefined
    /**
     * An EntityManager forked for this request (the tenant's schema on a tenant host), made the
     * first time it is asked for: pages that only read never pay for a fork.
     */
    readonly em: Em
    /** The reads of this request's tenant (platform/db/reads.ts); undefined on the platform host. */
    db: Reader
  }
}

/** Paths that answer on every host: probes (a pod's IP) and the assets the error pages need. */
export function isHostless(url: string): boolean {
  const path = url.split('?')[0] ?? ''
  return path === '/healthz' || path === '/readyz' || path.startsWith('/assets/')
}

/**
 * Route constraint `site: 'platform' | 'tenant'`: a route declares which kind of host it serves,
 * so `/` is the Site selector on the platform host and the conservatoire's home on a tenant host.
 */
export function siteConstraint(registry: TenantRegistry) {
  return {
    name: 'site',
    storage() {
      const handlers = new Map<string, unknown>()
      return {
        get: (kind: string) => (handlers.get(kind) ?? null) as never,
        set: (kind: string, store: unknown) => {
          handlers.set(kind, store)
        },
      }
    },
    validate: (value: unknown) => {
      if (value !== 'platform' && value !== 'tenant')
        throw new Error('site constraint must be platform or tenant')
    },
    deriveConstraint: (req: { headers: { host?: string } }) => registry.resolve(req.headers.host).kind,
    mustMatchWhenDerived: false,
  }
}

export interface TenancyOptions {
  registry: TenantRegistry
  /**
   * How often each process re-reads tenant statuses (disabled, provisioned) and published
   * configuration versions from the platform schema: one small read.
   */
  refreshMs?: number
}

export default fp<TenancyOptions>(
  async (app, { registry, refreshMs = 2_000 }) => {
    app.decorate('registry', registry)
    app.decorateRequest('site', null as never)
    app.decorateRequest('tenant', undefined)
    app.decorateRequest('db', null as never)
    const forks = new WeakMap<object, Em>()
    app.decorateRequest('em', {
      getter(this: FastifyRequest) {
        let em = forks.get(this)
        if (!em) {
          em = app.orm.em.fork(this.tenant ? { schema: this.tenant.schema } : {})
          forks.set(this, em)
        }
        return em
      },
    })
    // one reader per tenant, made once: no per-request cost
    const readers = new Map<string, Reader>()
    const readerOf = (tenant: Tenant) => {
      let reader = readers.get(tenant.schema)
      if (!reader) {
        reader = schemaReader(app.orm.em, tenant.schema)
        readers.set(tenant.schema, reader)
      }
      return reader
    }

    const refused = new Map<string, number>()
    const refresh = async () => {
      const em = app.orm.em.fork()
      const states = await tenantStates(em)
      registry.applyStatuses(states)
      await applyVersions(em, registry, states, refused, (message) => app.log.error(message))
    }
    let timer: NodeJS.Timeout | undefined
    let refreshing: Promise<void> | undefined
    app.addHook('onReady', async () => {
      await refresh()
      timer = setInterval(() => {
        refreshing = refresh().catch((error) => app.log.error({ err: error }, 'tenant refresh failed'))
      }, refreshMs)
      timer.unref()
    })
    // a refresh under way finishes before the ORM (closed after this hook) goes
    app.addHook('onClose', async () => {
      clearInterval(timer)
      await refreshing
    })

    // the first hook: resolve the tenant from the Host and nothing else, then fork for its schema
    app.addHook('onRequest', async (request) => {
      const site = registry.resolve(request.headers.host)
      request.site = site
      if (site.kind === 'tenant' && site.tenant.status === 'active') {
        request.tenant = site.tenant
        request.db = readerOf(site.tenant)
        return
      }
      if (isHostless(request.url)) return
      if (site.kind === 'tenant' && site.tenant.status === 'disabled') throw new TenantDisabled()
      if (site.kind !== 'platform') throw new UnknownHost()
    })
  },
  { name: 'tenancy', dependencies: ['db'] },
)
