import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Constructor, MigrationObject, MigrationsOptions } from '@mikro-orm/core'
import { type Migration, Migrator } from '@mikro-orm/migrations'
import type { Em, Orm } from './orm.ts'

export type Stream = 'platform' | 'tenant'

export const migrationsRoot = new URL('../../../migrations/', import.meta.url).pathname

const loaded = new Map<Stream, Promise<MigrationObject[]>>()

/** The committed migrations of a stream, in file-name order (names start with a timestamp). */
export function streamMigrations(stream: Stream): Promise<MigrationObject[]> {
  let list = loaded.get(stream)
  if (!list) {
    list = (async () => {
      const dir = join(migrationsRoot, stream)
      const files = readdirSync(dir)
        .filter((f) => /^Migration\d{14}.*\.ts$/.test(f))
        .sort()
      return Promise.all(
        files.map(async (file) => {
          const module = (await import(pathToFileURL(join(dir, file)).href)) as Record<string, unknown>
          const found = Object.values(module).find((v) => typeof v === 'function') as Constructor<Migration>
          return { name: file.replace(/\.ts$/, ''), class: found }
        }),
      )
    })()
    loaded.set(stream, list)
  }
  return list
}

/**
 * MikroORM keeps one migrations configuration per ORM, while Tutti runs two streams (platform and
 * tenant) through the one shared ORM and pool; each stream gets its own migrator over its own list.
 */
class StreamMigrator extends Migrator {
  constructor(em: Em, overrides: Partial<MigrationsOptions>) {
    super(em as never)
    ;(this as unknown as { options: MigrationsOptions }).options = { ...this.options, ...overrides }
    this.initServices()
  }

  /** Setup queries run outside the caller's transaction: PGlite has one session and would deadlock. */
  prepare(): Promise<void> {
    return this.init()
  }
}

/**
 * Applies the pending migrations of a stream to one schema, in one transaction that first takes an
 * advisory lock on the schema name, so two processes (tests, pods, the CLI) never migrate it at once.
 * Returns the names applied.
 */
export async function migrateSchema(orm: Orm, stream: Stream, schema: string): Promise<string[]> {
  const migrationsList = await streamMigrations(stream)
  const em = orm.em.fork()
  // includeWildcardSchema also defers the tracking table to the target schema instead of `public`
  const migrator = new StreamMigrator(em, { migrationsList, includeWildcardSchema: true })
  await migrator.prepare()
  return em.transactional(async (tx) => {
    await tx.execute(`select pg_advisory_xact_lock(hashtext('tutti-migrate:' || ?))`, [schema])
    const done = await migrator.up({ schema, transaction: tx.getTransactionContext() })
    return done.map((m) => m.name)
  })
}

/** Names of a stream's migrations not yet applied to a schema (all of them when the schema is new). */
export async function pendingMigrations(orm: Orm, stream: Stream, schema: string): Promise<string[]> {
  const all = (await streamMigrations(stream)).map((m) => m.name)
  const em = orm.em.fork()
  const [table] = await em.execute<{ exists: boolean }[]>(`select to_regclass(?) is not null as exists`, [
    `"${schema}".mikro_orm_migrations`,
  ])
  if (!table?.exists) return all
  const rows = await em.execute<{ name: string }[]>(`select name from "${schema}".mikro_orm_migrations`)
  const done = new Set(rows.map((r) => r.name))
  return all.filter((name) => !done.has(name))
}
