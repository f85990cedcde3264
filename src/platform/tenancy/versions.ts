import type { Em } from '../db/orm.ts'
import { TenantConfigVersion } from './entities.ts'
import type { TenantRegistry } from './registry.ts'
import { formatProblem, parseTenantConfig, sourceOf } from './tenant-config.ts'

/** What each process polls: a few bytes per tenant, so a publication reaches every server in seconds. */
export interface TenantState {
  slug: string
  status: string
  configVersion: number | null
}

export function tenantStates(em: Em): Promise<TenantState[]> {
  return em.execute<TenantState[]>(
    'select slug, status, config_version as "configVersion" from platform.tenant',
  )
}

export async function versionSource(em: Em, slug: string, number: number): Promise<string | undefined> {
  const row = await em.findOne(TenantConfigVersion, { tenant: slug, number }, { fields: ['source'] })
  return row?.source
}

/**
 * Stores a tenant's file as its version 1 when it has none: from then on the database holds the
 * versions, and the file only seeds (docs/decisions.md). Safe to run twice, or from two processes.
 */
export async function seedFirstVersion(em: Em, slug: string, source: string): Promise<void> {
  await em.execute(
    `insert into platform.tenant_config_version (tenant_slug, number, source, comment, author_id, author_name, created_at)
     select ?, 1, ?, ?, null, ?, now()
     where not exists (select 1 from platform.tenant_config_version where tenant_slug = ?)
     on conflict do nothing`,
    [slug, source, 'Version initiale', `tenants/${slug}.yaml`, slug],
  )
  await em.execute(
    'update platform.tenant set config_version = 1 where slug = ? and config_version is null',
    [slug],
  )
}

/**
 * Brings the registry to the versions the platform schema names: the new ones are read, checked
 * again (a release may have changed the rules) and served. A version that no longer passes is logged
 * and skipped, the tenant keeps what it served, and it is not read again until another is published.
 */
export async function applyVersions(
  em: Em,
  registry: TenantRegistry,
  states: TenantState[],
  refused: Map<string, number>,
  log: (message: string) => void,
): Promise<void> {
  for (const { slug, configVersion } of states) {
    const tenant = registry.get(slug)
    if (!tenant || configVersion === null || tenant.configVersion === configVersion) continue
    if (refused.get(slug) === configVersion) continue
    const source = await versionSource(em, slug, configVersion)
    if (source === undefined) continue
    // the version the file seeded: what the boot parsed already is served as it is
    if (source === sourceOf(tenant.config)) {
      registry.activate(slug, configVersion, tenant.config)
      continue
    }
    const { config, problems } = parseTenantConfig(`${slug}.yaml`, source)
    if (!config) {
      refused.set(slug, configVersion)
      log(`version ${configVersion} of ${slug} is not served:\n${problems.map(formatProblem).join('\n')}`)
      continue
    }
    registry.activate(slug, configVersion, config)
  }
}
