/** The one part of `pg` that harness/count-queries.ts touches (the package ships no types). */
declare module 'pg' {
  interface Client {
    query(...args: unknown[]): unknown
  }
  const pg: { Client: { prototype: Client } }
  export default pg
}
