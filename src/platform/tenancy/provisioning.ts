import { stringify } from 'yaml'
import { migrateSchema } from '../db/migrations.ts'
import type { Orm } from '../db/orm.ts'
import { TenantRow, TenantStatus } from './entities.ts'
import { schemaFor } from './registry.ts'
import { sourceOf, type TenantConfig } from './tenant-config.ts'
import { seedFirstVersion } from './versions.ts'

export const platformSchema = 'platform'

/** Brings the platform schema up to date; every other operation needs it. */
export function migratePlatform(orm: Orm): Promise<string[]> {
  return migrateSchema(orm, 'platform', platformSchema)
}

export async function tenantRows(orm: Orm): Promise<TenantRow[]> {
  return orm.em.fork().find(TenantRow, {}, { orderBy: { slug: 'asc' } })
}

/**
 * Provisions a tenant: its row in the platform schema, its schema, its migrations, and its file as
 * the first configuration version. Idempotent: running it again on a provisioned tenant only
 * applies what is pending and refreshes its name; its stored versions are kept.
 */
export async function createTenant(orm: Orm, config: TenantConfig): Promise<string[]> {
  const schema = schemaFor(config.slug)
  const em = orm.em.fork()
  await em.execute(`create schema if not exists "${schema}"`)
  const applied = await migrateSchema(orm, 'tenant', schema)
  // the row goes in last: servers route to a tenant only once its schema is complete
  await em.upsert(
    TenantRow,
    { slug: config.slug, name: config.name, status: TenantStatus.active },
    { onConflictFields: ['slug'], onConflictMergeFields: ['name'] },
  )
  await seedFirstVersion(em, config.slug, sourceOf(config) ?? stringify(config))
  return applied
}

/** Migrates a provisioned tenant; its schema is created only by createTenant, never here. */
export async function migrateTenant(orm: Orm, slug: string): Promise<string[]> {
  const schema = schemaFor(slug)
  const [found] = await orm.em
    .fork()
    .execute<{ exists: boolean }[]>(
      'select exists (select 1 from pg_namespace where nspname = ?) as exists',
      [schema],
    )
  if (!found?.exists) throw new Error(`schema ${schema} does not exist: run tenant create ${slug}`)
  return migrateSchema(orm, 'tenant', schema)
}

export async function setTenantStatus(
  orm: Orm,
  slug: string,
  status: 'active' | 'disabled',
): Promise<boolean> {
  const updated = await orm.em
    .fork()
    .nativeUpdate(TenantRow, { slug }, { status, disabledAt: status === 'disabled' ? new Date() : null })
  return updated > 0
}

export interface MigrationReport {
  slug: string
  applied: string[]
  error?: Error
}

/**
 * Migrates the given tenants, `concurrency` at a time, reporting each as `[i/n tenant_x] …`; a
 * failure is reported and the run goes on with the other tenants.
 */
export async function migrateTenants(
  orm: Orm,
  slugs: string[],
  report: (line: string) => void,
  concurrency = 1,
): Promise<MigrationReport[]> {
  const results: MigrationReport[] = new Array(slugs.length)
  let next = 0
  // each schema takes its own advisory lock, so several can migrate at once on a real server
  const worker = async () => {
    while (next < slugs.length) {
      const i = next++
      const slug = slugs[i]!
      const prefix = `[${i + 1}/${slugs.length} ${schemaFor(slug)}]`
      try {
        const applied = await migrateTenant(orm, slug)
        report(`${prefix} ${applied.length > 0 ? `applied ${applied.join(', ')}` : 'up to date'}`)
        results[i] = { slug, applied }
      } catch (error) {
        report(`${prefix} FAILED: ${(error as Error).message}`)
        results[i] = { slug, applied: [], error: error as Error }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker))
  return results
}

/**
 * Brings the platform schema and every given tenant up to date (what `npm start` does outside
 * production). Stops at the first failure: a development database that cannot migrate must be looked at.
 */
export async function provisionAll(
  orm: Orm,
  configs: TenantConfig[],
  report: (line: string) => void,
): Promise<void> {
  const platform = await migratePlatform(orm)
  if (platform.length > 0) report(`[platform] applied ${platform.join(', ')}`)
  for (const [i, config] of configs.entries()) {
    const applied = await createTenant(orm, config)
    if (applied.length > 0)
      report(`[${i + 1}/${configs.length} ${schemaFor(config.slug)}] applied ${applied.join(', ')}`)
  }
}
