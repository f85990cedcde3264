import type { Config } from '../config.ts'
import { slugPattern, type TenantConfig } from './tenant-config.ts'

export type TenantStatus = 'active' | 'disabled' | 'unprovisioned'

export interface Tenant {
  slug: string
  schema: string
  config: TenantConfig
  status: TenantStatus
  /** The origin of the portal on its canonical host, whatever host a request came by: mailed links use it. */
  baseUrl: string
  /** The published version `config` comes from; null until the tenant's first version is stored. */
  configVersion: number | null
}

export type Site = { kind: 'platform' } | { kind: 'tenant'; tenant: Tenant } | { kind: 'unknown' }

const schemaPattern = /^(?!pg_)[a-z][a-z0-9_]{0,62}$/

/** `tenant_<slug>`, checked against a strict pattern: it is interpolated into SQL as an identifier. */
export function schemaFor(slug: string): string {
  if (!slugPattern.test(slug)) throw new Error(`invalid tenant slug "${slug}"`)
  const schema = `tenant_${slug.replaceAll('-', '_')}`
  if (!schemaPattern.test(schema)) throw new Error(`invalid schema name "${schema}"`)
  return schema
}

const hostnamePattern = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/

/** The hostname of a Host header, lowercased and without port; undefined when malformed. */
export function hostnameOf(header: string | undefined): string | undefined {
  if (!header || header.length > 255) return undefined
  const match = /^([^:]+)(:\d{1,5})?$/.exec(header.trim().toLowerCase())
  const name = match?.[1]?.replace(/\.$/, '')
  return name && hostnamePattern.test(name) ? name : undefined
}

/**
 * Which conservatoire a request is for, decided by its Host and nothing else: `<slug>.<platform
 * domain>` or one of the tenant's own hosts. An unknown host is never given a default tenant.
 */
export class TenantRegistry {
  readonly platformDomain: string
  #bySlug = new Map<string, Tenant>()
  #byHost = new Map<string, Tenant>()

  constructor(configs: TenantConfig[], platform: Pick<Config, 'platformDomain' | 'publicUrl'>) {
    const { platformDomain } = platform
    this.platformDomain = platformDomain
    for (const config of configs) {
      const tenant: Tenant = {
        slug: config.slug,
        schema: schemaFor(config.slug),
        config,
        status: 'unprovisioned',
        baseUrl: tenantBaseUrl(platform, config),
        configVersion: null,
      }
      this.#bySlug.set(tenant.slug, tenant)
      this.#byHost.set(`${tenant.slug}.${platformDomain}`, tenant)
      for (const host of config.hosts) this.#byHost.set(host, tenant)
    }
  }

  /** Statuses come from the platform schema's rows; a file without a row is not provisioned yet. */
  applyStatuses(rows: { slug: string; status: string }[]): void {
    const statuses = new Map(rows.map((r) => [r.slug, r.status]))
    for (const tenant of this.#bySlug.values()) {
      const status = statuses.get(tenant.slug)
      tenant.status = status === 'active' || status === 'disabled' ? status : 'unprovisioned'
    }
  }

  /**
   * Serves a published version from now on. The tenant is replaced, not changed: a request keeps
   * the configuration it started with. Hosts stay those of the file (the operator's, see
   * docs/decisions.md), so routing never depends on a stored version.
   */
  activate(slug: string, configVersion: number, config: TenantConfig): void {
    const current = this.#bySlug.get(slug)
    if (!current) return
    const sameHosts = config.hosts.join(' ') === current.config.hosts.join(' ')
    const served = sameHosts ? config : { ...config, hosts: current.config.hosts }
    const tenant: Tenant = { ...current, config: served, configVersion }
    this.#bySlug.set(slug, tenant)
    for (const [host, owner] of this.#byHost) if (owner === current) this.#byHost.set(host, tenant)
  }

  resolve(hostHeader: string | undefined): Site {
    const hostname = hostnameOf(hostHeader)
    if (!hostname) return { kind: 'unknown' }
    if (hostname === this.platformDomain) return { kind: 'platform' }
    const tenant = this.#byHost.get(hostname)
    return tenant ? { kind: 'tenant', tenant } : { kind: 'unknown' }
  }

  get(slug: string): Tenant | undefined {
    return this.#bySlug.get(slug)
  }

  list(): Tenant[] {
    return [...this.#bySlug.values()]
  }

  /** The host the Site selector sends people to: `<slug>.<platform domain>`, which always resolves. */
  hostFor(tenant: Tenant): string {
    return `${tenant.slug}.${this.platformDomain}`
  }
}

/**
 * The origin of a tenant's portal: the platform's public URL with the tenant's canonical host, the
 * first of its own hosts or else `<slug>.<platform domain>`. Never the Host of a request, which a
 * client chooses (an odd port, upper case, a trailing dot would be mailed as they came).
 */
export function tenantBaseUrl(
  platform: Pick<Config, 'platformDomain' | 'publicUrl'>,
  tenant: TenantConfig,
): string {
  const url = new URL(platform.publicUrl)
  url.hostname = tenant.hosts[0] ?? `${tenant.slug}.${platform.platformDomain}`
  return url.origin
}
