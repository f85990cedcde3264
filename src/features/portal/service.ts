import { frenchOrder } from '../../platform/text.ts'
import type { Tenant, TenantRegistry } from '../../platform/tenancy/registry.ts'

export interface SiteOption {
  value: string
  label: string
}

export interface SiteGroup {
  label: string
  options: SiteOption[]
}

/** What the platform's Site selector lists: each open conservatoire, and its sites when it has several. */
export function siteGroups(registry: TenantRegistry): SiteGroup[] {
  return registry
    .list()
    .filter((tenant) => tenant.status === 'active')
    .sort((a, b) => frenchOrder(a.config.name, b.config.name))
    .map((tenant) => ({
      label: tenant.config.name,
      options:
        tenant.config.establishments.length > 1
          ? tenant.config.establishments.map((e) => ({ value: `${tenant.slug}/${e.code}`, label: e.name }))
          : [{ value: tenant.slug, label: tenant.config.name }],
    }))
}

/** The tenant (and establishment) a Site selector value names, if it names an open one. */
export function parseSite(
  registry: TenantRegistry,
  value: string | undefined,
): { tenant: Tenant; establishment?: string } | undefined {
  if (!value) return undefined
  const [slug, establishment] = value.split('/')
  const tenant = slug ? registry.get(slug) : undefined
  if (tenant?.status !== 'active') return undefined
  if (establishment === undefined) return { tenant }
  return tenant.config.establishments.some((e) => e.code === establishment)
    ? { tenant, establishment }
    : undefined
}

/** A redirect target given by a query string, kept on this host: a path, never `//host` or a URL. */
export function localPath(value: string | undefined): string {
  return value && /^\/(?![/\\])[^\s]*$/.test(value) ? value : '/'
}
