import {
  type ColumnType,
  type Compilable,
  CompiledQuery,
  DummyDriver,
  type Generated,
  type InferResult,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
} from 'kysely'
import type { Em } from './orm.ts'
import { isStatementPool, runNamed, type StatementPool } from './statements.ts'

/*
 * The read path of pages, lists and queues: typed Kysely queries (table types inferred from the
 * entities, see src/entities.ts), compiled once per process and run with bound parameters on
 * MikroORM's own connection, in the request's transaction when there is one. Building and compiling
 * a Kysely query costs more CPU than sending it (docs/decisions.md): a page's query is therefore
 * written once as a function of named parameters, compiled the first time it runs, and afterwards
 * only its parameters change.
 */

/** Stands for a parameter while a prepared query is compiled; replaced by the value at each run. */
class Slot {
  readonly name: string
  constructor(name: string) {
    this.name = name
  }
}

// compiled with this schema, which the request's tenant schema replaces at each run
const schemaMark = 'tutti_schema_mark'
const quotedMark = `"${schemaMark}"`

/** One query of a prepared read, compiled: its SQL cut at the schema, and where each value comes from. */
interface Compiled {
  parts: string[]
  values: (Slot | unknown)[]
}

export type Builder<Db, P, Q extends Compilable> = (db: Kysely<Db>, params: P) => Q

/**
 * A read written once: `build` receives the tenant's Kysely and its parameters as placeholders, and
 * returns the query. It runs once, so it must not branch on a parameter's value (use SQL for that:
 * `coalesce`, `is null or`, `= any(…)` for lists).
 */
export interface Prepared<P, R> {
  /** Every row, in the reader's schema (and transaction, for an EntityManager in one). */
  all(db: Reader, params: P): Promise<R[]>
  /** The first row, or undefined. */
  first(db: Reader, params: P): Promise<R | undefined>
}

/**
 * Where reads go: a tenant's schema on the shared pool (the request context's `db`, made once per
 * tenant), or an EntityManager, whose reads follow its transaction.
 */
export type Reader = Pick<Em, 'schema' | 'config' | 'getKysely'> & {
  /** The Postgres pool to run named statements on (platform/db/statements.ts); none on PGlite. */
  statements?: () => Promise<StatementPool | undefined>
}

/** The reader of a schema on the ORM's pool, outside any transaction. */
export function schemaReader(em: Em, schema: string): Reader {
  const connection = em.getConnection()
  const client = connection.getClient()
  let pool: Promise<StatementPool | undefined> | undefined
  return {
    schema,
    config: em.config,
    getKysely: (() => client) as Em['getKysely'],
    statements: () =>
      (pool ??= connection.getNativeClient().then((p) => (isStatementPool(p) ? p : undefined))),
  }
}

let reads = 0
const schemaNumbers = new Map<string, number>()

/** The name of a read's statement in a schema: short, as Postgres cuts names at 63 bytes. */
function statementName(read: number, schema: string): string {
  let n = schemaNumbers.get(schema)
  if (n === undefined) {
    n = schemaNumbers.size + 1
    schemaNumbers.set(schema, n)
  }
  return `tutti_${read}_${n}`
}

export function prepare<Db, P extends Record<string, unknown>, Q extends Compilable>(
  build: Builder<Db, P, Q>,
): Prepared<P, InferResult<Q>[number]> {
  type R = InferResult<Q>[number]
  const read = ++reads
  let compiled: Compiled | undefined
  const compile = (reader: Reader): Compiled => {
    const placeholders = new Proxy({} as P, { get: (_, name) => new Slot(String(name)) })
    const db = reader.getKysely() as unknown as Kysely<Db>
    const query = build(db.withSchema(schemaMark), placeholders).compile()
    return { parts: query.sql.split(quotedMark), values: [...query.parameters] }
  }
  const run = async (reader: Reader, params: P): Promise<R[]> => {
    compiled ??= compile(reader)
    const schema = reader.schema
    if (!schema) throw new Error('a prepared read needs a tenant schema')
    const sql = compiled.parts.join(`"${schema}"`)
    const values = compiled.values.map((value) => (value instanceof Slot ? params[value.name] : value))
    const pool = await reader.statements?.()
    if (pool) return runNamed<R>(pool, statementName(read, schema), sql, values)
    // an EntityManager's getKysely is its transaction's when it is in one, the pool's otherwise
    const { rows } = await reader.getKysely().executeQuery<R>(CompiledQuery.raw(sql, values))
    return rows
  }
  return {
    all: run,
    first: async (reader, params) => (await run(reader, params))[0],
  }
}

/** A timestamp as read: the text Postgres sends (MikroORM's driver keeps it unparsed), `new Date()` reads it. */
export type Timestamp = string

type AsRead<T> = T extends Date ? Timestamp : T
type ReadColumn<C> = C extends ColumnType<infer S, infer I, infer U> ? ColumnType<AsRead<S>, I, U> : AsRead<C>

/**
 * The table types MikroORM infers from entities (`InferKyselyDB`), with timestamps as the strings the
 * driver actually returns (dates, `p.date()`, are 'YYYY-MM-DD' strings already) and the serial `id`
 * left to the database on insert.
 */
export type ReadDb<Db> = {
  [T in keyof Db]: { [C in keyof Db[T]]: C extends 'id' ? Generated<Db[T][C]> : ReadColumn<Db[T][C]> }
}

/** The object or the array element a JSON fragment (`jsonObjectFrom`, `jsonArrayFrom`) reads. */
export type JsonOf<F extends (...args: never[]) => { expressionType?: unknown }> =
  NonNullable<ReturnType<F>['expressionType']> extends (infer E)[]
    ? E
    : NonNullable<ReturnType<F>['expressionType']>

/**
 * A Kysely that only builds: the subqueries (fragments) that several features' reads embed are
 * written with it, typed by the tables alone; the read embedding them compiles and runs them.
 */
export function fragmentBuilder<Db>(): Kysely<Db> {
  return new Kysely<Db>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  })
}
