/*
 * Named prepared statements on node-postgres' pool. Postgres plans an unnamed statement at every
 * run: a page's read of six subqueries takes about 1 ms to plan and 0.5 ms to run (measured with
 * EXPLAIN (ANALYZE, SUMMARY)), and on the bench machine Postgres' CPU was as large as the server's.
 * A named statement is parsed and planned once per connection. Names are per query and tenant schema,
 * so each connection keeps at most `perConnection` of them, dropping the least recently used.
 */

/** The parts of a node-postgres pool and client used here (the package ships no types). */
interface PoolClient {
  query<R>(query: { name: string; text: string; values: unknown[] }): Promise<{ rows: R[] }>
  query(text: string): Promise<unknown>
  release(error?: Error | boolean): void
}
export interface StatementPool {
  connect(): Promise<PoolClient>
}

/** Prepared statements kept per connection: enough for every read of a few busy tenants. */
const perConnection = 200

// the names each connection has prepared, least recently used first
const preparedBy = new WeakMap<PoolClient, Map<string, true>>()

/** node-postgres remembers what it parsed on a connection; a deallocated name must be forgotten too. */
function forget(client: PoolClient, name: string) {
  const connection = (client as unknown as { connection: { parsedStatements: Record<string, string> } })
    .connection
  delete connection.parsedStatements[name]
}

/** Runs a statement under `name`, prepared on the connection the first time it runs there. */
export async function runNamed<R>(
  pool: StatementPool,
  name: string,
  text: string,
  values: unknown[],
): Promise<R[]> {
  const client = await pool.connect()
  try {
    let names = preparedBy.get(client)
    if (!names) {
      names = new Map()
      preparedBy.set(client, names)
    }
    if (names.delete(name)) names.set(name, true)
    else {
      if (names.size >= perConnection) {
        const oldest = names.keys().next().value as string
        names.delete(oldest)
        await client.query(`deallocate "${oldest}"`)
        forget(client, oldest)
      }
      names.set(name, true)
    }
    const { rows } = await client.query<R>({ name, text, values })
    client.release()
    return rows
  } catch (error) {
    // a connection left in an unknown state is closed rather than reused
    client.release(error as Error)
    throw error
  }
}

/** The pool of a Postgres connection, when the database is a Postgres server (not the embedded PGlite). */
export function isStatementPool(value: unknown): value is StatementPool {
  return typeof value === 'object' && value !== null && 'totalCount' in value && 'connect' in value
}
