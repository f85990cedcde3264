import { mkdirSync } from 'node:fs'
import type { EntitySchema, Options } from '@mikro-orm/core'
import { Migrator } from '@mikro-orm/migrations'
import { PgliteDriver } from '@mikro-orm/pglite'
import { PostgreSqlDriver } from '@mikro-orm/postgresql'
import { type AbstractSqlDriver, MikroORM, type SqlEntityManager } from '@mikro-orm/sql'
import type { Database } from '../config.ts'

export type Orm = MikroORM<AbstractSqlDriver>
export type Em = SqlEntityManager

export interface OrmOptions {
  entities: EntitySchema[]
  /** Upper bound of the shared pool; every tenant uses this one pool. */
  poolSize?: number
  debug?: boolean
}

/** One ORM, one pool, every tenant: tenant entities are `schema: '*'` and resolved per forked EntityManager. */
export async function openOrm(database: Database, options: OrmOptions): Promise<Orm> {
  const common = {
    entities: options.entities,
    // a request must always work through its tenant's fork; the global EM refuses entity work
    allowGlobalContext: false,
    extensions: [Migrator],
    debug: options.debug ?? false,
    migrations: { silent: true, snapshot: false, transactional: true, allOrNothing: true },
    ensureDatabase: false,
    // the migrators' tracking tables are not entities: never let a generated migration drop them
    schemaGenerator: { skipTables: ['mikro_orm_migrations'] },
  } satisfies Partial<Options>
  if (database.kind === 'postgres') {
    return MikroORM.init<AbstractSqlDriver>({
      ...common,
      driver: PostgreSqlDriver,
      clientUrl: database.url,
      pool: { min: 0, max: options.poolSize ?? 10 },
    })
  }
  if (database.dataDir !== 'memory://') mkdirSync(database.dataDir, { recursive: true })
  return MikroORM.init<AbstractSqlDriver>({
    ...common,
    driver: PgliteDriver,
    dbName: database.dataDir,
    // a function, because MikroORM deep-copies its options and a copied Blob cannot be read
    ...(database.from ? { driverOptions: () => ({ loadDataDir: database.from }) } : {}),
  })
}
