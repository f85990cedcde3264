import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { EntitySchema } from '@mikro-orm/core'
import { Migrator } from '@mikro-orm/migrations'
import { migrateSchema, migrationsRoot, type Stream } from './migrations.ts'
import { openOrm } from './orm.ts'

/**
 * Writes a new migration for a stream: the difference between its entities and the schema its
 * committed migrations build, computed on a throw-away embedded database. Returns the file written,
 * or undefined when the entities and migrations already agree.
 */
export async function generateMigration(
  stream: Stream,
  entities: EntitySchema[],
  name?: string,
): Promise<string | undefined> {
  const orm = await openOrm({ kind: 'pglite', dataDir: 'memory://' }, { entities })
  try {
    // tenant migrations are written unqualified and applied per schema; build them in `public`
    await migrateSchema(orm, stream, stream === 'tenant' ? 'public' : 'platform')
    const migrator = new Migrator(orm.em.fork() as never)
    ;(migrator as unknown as { options: object }).options = {
      ...orm.config.get('migrations'),
      path: join(migrationsRoot, stream),
      includeWildcardSchema: stream === 'tenant',
      emit: 'ts',
    }
    const result = await migrator.create(join(migrationsRoot, stream), false, false, name)
    if (!result.fileName) return undefined
    const file = join(migrationsRoot, stream, result.fileName)
    writeFileSync(file, result.code)
    return file
  } finally {
    await orm.close()
  }
}
