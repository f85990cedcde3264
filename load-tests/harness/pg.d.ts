/**
 * The parts of `pg` the harness touches (the package ships no types): the client's query, which
 * harness/count-queries.ts counts, and the pool of harness/floor.ts.
 */
declare module 'pg' {
  interface Client {
    query(...args: unknown[]): unknown
  }
  class Pool {
    constructor(options: { connectionString?: string; max?: number })
    query<Row>(text: string, values: unknown[]): Promise<{ rows: Row[] }>
    end(): Promise<void>
  }
  const pg: { Client: { prototype: Client }; Pool: typeof Pool }
  export default pg
}
