import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { allEntities } from '../../src/entities.ts'
import { openOrm } from '../../src/platform/db/orm.ts'
import { createTenant, migratePlatform } from '../../src/platform/tenancy/provisioning.ts'
import { loadTenantConfigs } from '../../src/platform/tenancy/tenant-config.ts'

export interface BenchTenant {
  slug: string
  name: string
  host: string
}

/** `bench-0001`…: four digits at least, more when there are more tenants. */
export function benchTenants(count: number, platformDomain = 'localhost'): BenchTenant[] {
  const width = Math.max(4, String(count).length)
  return Array.from({ length: count }, (_, i) => {
    const number = String(i + 1).padStart(width, '0')
    const slug = `bench-${number}`
    return { slug, name: `Conservatoire Bench ${number}`, host: `${slug}.${platformDomain}` }
  })
}

/** A minimal valid tenant file: only what config/tenant.schema.json requires. */
export function tenantYaml(tenant: BenchTenant): string {
  return [
    `slug: ${tenant.slug}`,
    `name: ${tenant.name}`,
    'contact:',
    `  email: contact@${tenant.slug}.example.org`,
    'establishments:',
    '  - code: centre',
    '    name: Site du centre',
    '',
  ].join('\n')
}

export function writeTenantFiles(dir: string, tenants: BenchTenant[]): void {
  mkdirSync(dir, { recursive: true })
  for (const tenant of tenants) writeFileSync(join(dir, `${tenant.slug}.yaml`), tenantYaml(tenant))
}

export interface ProvisioningFigures {
  tenants: number
  /** loadTenantConfigs over the directory (what every boot does too). */
  loadConfigsMs: number
  openOrmMs: number
  migratePlatformMs: number
  /** One createTenant per tenant, in file order, one after the other (as provisionAll does). */
  perTenantMs: number[]
  totalMs: number
}

/**
 * Provisions every tenant of a directory in-process, with the functions of src/ the CLI uses:
 * openOrm, migratePlatform, then createTenant for each, timing each call.
 */
export async function provision(
  databaseUrl: string,
  tenantsDir: string,
  progress: (done: number, total: number) => void,
): Promise<ProvisioningFigures> {
  const start = performance.now()
  const configs = loadTenantConfigs(tenantsDir)
  const loaded = performance.now()
  const orm = await openOrm({ kind: 'postgres', url: databaseUrl }, { entities: allEntities, poolSize: 4 })
  const opened = performance.now()
  try {
    await migratePlatform(orm)
    const platformDone = performance.now()
    const perTenantMs: number[] = []
    for (const [i, config] of configs.entries()) {
      const t0 = performance.now()
      const applied = await createTenant(orm, config)
      perTenantMs.push(performance.now() - t0)
      if (applied.length === 0) throw new Error(`${config.slug}: createTenant applied no migration`)
      progress(i + 1, configs.length)
    }
    return {
      tenants: configs.length,
      loadConfigsMs: loaded - start,
      openOrmMs: opened - loaded,
      migratePlatformMs: platformDone - opened,
      perTenantMs,
      totalMs: performance.now() - start,
    }
  } finally {
    await orm.close()
  }
}
