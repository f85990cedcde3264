import { once } from 'node:events'
import { createReadStream, createWriteStream, rmSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { pipeline } from 'node:stream/promises'
import { createGunzip, createGzip } from 'node:zlib'
import { IsolationLevel } from '@mikro-orm/core'
import type { Em, Orm } from '../db/orm.ts'
import { schemaFor } from './registry.ts'

/**
 * One tenant's data as a gzip'd file of JSON lines: a header (format, slug, migrations applied,
 * date, the tenant file's text), one line per row `{"table", "row"}` with the row as Postgres's
 * `row_to_json` writes it (bytea as `\x…` hex, timestamps with their offset), then a trailer with
 * each table's row count, so a cut archive is told from a complete one.
 */
export const archiveFormat = 'tutti-tenant-export'
export const archiveVersion = 1

/** The migrator's own table: the header carries its content as the tenant's migration level. */
const migrationsTable = 'mikro_orm_migrations'
/** Rows read, and inserted, per statement: bounds memory when a table holds stored files. */
const batchRows = 200

export interface ArchiveHeader {
  format: typeof archiveFormat
  version: number
  slug: string
  migrations: string[]
  exportedAt: string
  /** The tenant file (`tenants/<slug>.yaml`) as it was, or null when the deployment has none. */
  config: string | null
}

interface ArchiveTrailer {
  end: true
  rows: Record<string, number>
}

export class ArchiveError extends Error {}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`

async function appliedMigrations(em: Em, schema: string): Promise<string[]> {
  const [table] = await em.execute<{ exists: boolean }[]>(`select to_regclass(?) is not null as exists`, [
    `${quote(schema)}.${migrationsTable}`,
  ])
  if (!table?.exists) return []
  const rows = await em.execute<{ name: string }[]>(
    `select name from ${quote(schema)}.${migrationsTable} order by name`,
  )
  return rows.map((r) => r.name)
}

/**
 * The schema's tables, every table after those its foreign keys reference, so rows inserted in
 * this order satisfy the constraints without deferring them (MikroORM's are not deferrable).
 */
async function tablesInOrder(em: Em, schema: string): Promise<string[]> {
  const tables = (
    await em.execute<{ name: string }[]>(
      `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = ? and c.relkind in ('r', 'p') and c.relname <> ? order by c.relname`,
      [schema, migrationsTable],
    )
  ).map((r) => r.name)
  const references = await em.execute<{ child: string; parent: string }[]>(
    `select c.relname as child, p.relname as parent from pg_constraint k
       join pg_class c on c.oid = k.conrelid join pg_class p on p.oid = k.confrelid
       join pg_namespace n on n.oid = c.relnamespace
     where k.contype = 'f' and n.nspname = ?`,
    [schema],
  )
  const ordered: string[] = []
  const placed = new Set<string>()
  // a row referencing its own table would need its rows ordered too: the schema has none
  const pending = new Set(tables)
  while (pending.size > 0) {
    const ready = [...pending].filter((table) =>
      references.every((r) => r.child !== table || r.parent === table || placed.has(r.parent)),
    )
    if (ready.length === 0) throw new Error(`foreign keys form a cycle among ${[...pending].join(', ')}`)
    for (const table of ready) {
      ordered.push(table)
      placed.add(table)
      pending.delete(table)
    }
  }
  return ordered
}

/** The columns an insert may write: all but generated ones, which Postgres computes again. */
async function writableColumns(em: Em, schema: string, table: string): Promise<string> {
  const rows = await em.execute<{ name: string }[]>(
    `select a.attname as name from pg_attribute a
     where a.attrelid = ?::regclass and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
     order by a.attnum`,
    [`${quote(schema)}.${quote(table)}`],
  )
  return rows.map((r) => quote(r.name)).join(', ')
}

/** Primary key columns, to read a table in a stable order. */
async function keyColumns(em: Em, schema: string, table: string): Promise<string[]> {
  const rows = await em.execute<{ name: string }[]>(
    `select a.attname as name from pg_index i
       join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
     where i.indrelid = ?::regclass and i.indisprimary order by a.attnum`,
    [`${quote(schema)}.${quote(table)}`],
  )
  return rows.map((r) => r.name)
}

/**
 * Writes every row of the tenant's schema (and only of it) to `file`, read in one repeatable-read
 * transaction so the archive is one consistent moment of the tenant. Returns each table's row count.
 */
export async function exportTenant(
  orm: Orm,
  slug: string,
  file: string,
  config: string | null,
): Promise<Record<string, number>> {
  const schema = schemaFor(slug)
  const output = createWriteStream(file)
  // a path that cannot be written is refused before the transaction starts
  await once(output, 'open')
  const gzip = createGzip()
  const written = pipeline(gzip, output)
  const write = async (value: unknown) => {
    if (!gzip.write(`${typeof value === 'string' ? value : JSON.stringify(value)}\n`))
      await once(gzip, 'drain')
  }
  try {
    const counts = await orm.em.fork().transactional(
      async (tx) => {
        const header: ArchiveHeader = {
          format: archiveFormat,
          version: archiveVersion,
          slug,
          migrations: await appliedMigrations(tx, schema),
          exportedAt: new Date().toISOString(),
          config,
        }
        await write(header)
        const counts: Record<string, number> = {}
        for (const table of await tablesInOrder(tx, schema)) {
          const keys = await keyColumns(tx, schema, table)
          const order = keys.length > 0 ? keys.map(quote).join(', ') : '1'
          counts[table] = 0
          for (let offset = 0; ; offset += batchRows) {
            // the row's JSON text goes into the archive as Postgres wrote it, never re-encoded here
            const rows = await tx.execute<{ row: string }[]>(
              `select row_to_json(t)::text as row from ${quote(schema)}.${quote(table)} t
               order by ${order} limit ${batchRows} offset ${offset}`,
            )
            for (const { row } of rows) await write(`{"table":${JSON.stringify(table)},"row":${row}}`)
            counts[table] += rows.length
            if (rows.length < batchRows) break
          }
        }
        const trailer: ArchiveTrailer = { end: true, rows: counts }
        await write(trailer)
        return counts
      },
      { isolationLevel: IsolationLevel.REPEATABLE_READ, readOnly: true },
    )
    gzip.end()
    await written
    return counts
  } catch (error) {
    gzip.destroy()
    await written.catch(() => {})
    // no half archive left behind to be mistaken for a backup
    rmSync(file, { force: true })
    throw error
  }
}

/** The archive's lines, parsed; a file that is not a gzip'd archive becomes an ArchiveError. */
async function* archiveLines(file: string): AsyncGenerator<{ text: string; value: Record<string, unknown> }> {
  const gunzip = createGunzip()
  const input = createReadStream(file)
  input.on('error', (error) => gunzip.destroy(error))
  const lines = createInterface({ input: input.pipe(gunzip), crlfDelay: Number.POSITIVE_INFINITY })
  let n = 0
  try {
    for await (const text of lines) {
      n++
      let value: unknown
      try {
        value = JSON.parse(text)
      } catch {
        throw new ArchiveError(`${file}: line ${n} is not JSON: not a tenant archive, or a damaged one`)
      }
      if (typeof value !== 'object' || value === null)
        throw new ArchiveError(`${file}: line ${n} is not a tenant archive line`)
      yield { text, value: value as Record<string, unknown> }
    }
  } catch (error) {
    if (error instanceof ArchiveError) throw error
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new ArchiveError(`${file}: no such file`)
    throw new ArchiveError(
      `${file}: not a gzip'd tenant archive, or a damaged one (${(error as Error).message})`,
    )
  } finally {
    // the header alone is read through an early return: close the file now, not at garbage collection
    input.destroy()
    gunzip.destroy()
  }
}

/** Reads only the header: what the import checks first, and what `--config-out` needs. */
export async function readArchiveHeader(file: string): Promise<ArchiveHeader> {
  for await (const { value } of archiveLines(file)) return checkHeader(file, value)
  throw new ArchiveError(`${file}: empty archive`)
}

function checkHeader(file: string, value: Record<string, unknown>): ArchiveHeader {
  if (value.format !== archiveFormat)
    throw new ArchiveError(`${file}: not a tenant archive (no "${archiveFormat}" header)`)
  if (value.version !== archiveVersion)
    throw new ArchiveError(
      `${file}: archive format version ${value.version}, this Tutti reads version ${archiveVersion}`,
    )
  return value as unknown as ArchiveHeader
}

/**
 * Restores an archive into a provisioned tenant that has no rows and the archive's migration level,
 * in one transaction: a refused or failed import leaves the tenant as empty as it was. Sequences
 * are moved past the imported ids so new rows do not collide. Returns each table's row count.
 */
export async function importTenant(orm: Orm, slug: string, file: string): Promise<Record<string, number>> {
  const schema = schemaFor(slug)
  const header = await readArchiveHeader(file)
  return orm.em.fork().transactional(async (tx) => {
    const level = await appliedMigrations(tx, schema)
    if (level.length === 0)
      throw new ArchiveError(`tenant ${slug} has no migrated schema: run tenant create ${slug}`)
    if (level.join() !== header.migrations.join()) {
      throw new ArchiveError(
        `the archive's migration level (${header.migrations.at(-1) ?? 'none'}, ${header.migrations.length} migrations) differs from tenant ${slug}'s (${level.at(-1)}, ${level.length}): migrate the older side first`,
      )
    }
    const tables = await tablesInOrder(tx, schema)
    for (const table of tables) {
      const [row] = await tx.execute<{ found: boolean }[]>(
        `select exists (select 1 from ${quote(schema)}.${quote(table)}) as found`,
      )
      if (row?.found)
        throw new ArchiveError(
          `tenant ${slug} already has data (table ${table}): import only into an empty tenant`,
        )
    }

    const counts: Record<string, number> = {}
    const columns = new Map<string, string>()
    let batch: { table: string; rows: string[]; bytes: number } | null = null
    const flush = async () => {
      if (!batch || batch.rows.length === 0) return
      const target = `${quote(schema)}.${quote(batch.table)}`
      let list = columns.get(batch.table)
      if (list === undefined) {
        list = await writableColumns(tx, schema, batch.table)
        columns.set(batch.table, list)
      }
      // Postgres reads the rows back with each column's own type: bytea from hex, jsonb, timestamps
      await tx.execute(
        `insert into ${target} (${list}) select ${list} from json_populate_recordset(null::${target}, ?::json)`,
        [`[${batch.rows.join(',')}]`],
      )
      counts[batch.table] = (counts[batch.table] ?? 0) + batch.rows.length
      batch = null
    }
    let trailer: ArchiveTrailer | null = null
    let first = true
    for await (const { text, value } of archiveLines(file)) {
      if (first) {
        first = false
        continue
      }
      if (trailer) throw new ArchiveError(`${file}: lines after the end of the archive`)
      if (value.end === true) {
        await flush()
        trailer = value as unknown as ArchiveTrailer
        continue
      }
      const table = value.table
      if (typeof table !== 'string' || !tables.includes(table))
        throw new ArchiveError(`${file}: a row of an unknown table (${String(table)})`)
      // the row's text is passed on as read: numbers and strings reach Postgres unchanged
      const prefix = `{"table":${JSON.stringify(table)},"row":`
      if (!text.startsWith(prefix) || typeof value.row !== 'object')
        throw new ArchiveError(`${file}: a row line not written by tenant export`)
      const rowText = text.slice(prefix.length, -1)
      if (batch && (batch.table !== table || batch.rows.length >= batchRows || batch.bytes > 16_000_000))
        await flush()
      batch ??= { table, rows: [], bytes: 0 }
      batch.rows.push(rowText)
      batch.bytes += rowText.length
    }
    if (!trailer) throw new ArchiveError(`${file}: the archive is cut short (no end line): nothing imported`)
    for (const [table, expected] of Object.entries(trailer.rows)) {
      if ((counts[table] ?? 0) !== expected)
        throw new ArchiveError(
          `${file}: ${table} has ${counts[table] ?? 0} rows, the archive says ${expected}`,
        )
    }
    await resetSequences(tx, schema)
    return counts
  })
}

/** Every serial or identity column's sequence continues after the largest imported value. */
async function resetSequences(em: Em, schema: string): Promise<void> {
  const columns = await em.execute<{ table: string; column: string; sequence: string }[]>(
    `select table_name as table, column_name as column,
            pg_get_serial_sequence(format('%I.%I', table_schema, table_name), column_name) as sequence
     from information_schema.columns where table_schema = ?`,
    [schema],
  )
  for (const { table, column, sequence } of columns) {
    if (!sequence) continue
    await em.execute(
      `select setval(?, coalesce((select max(${quote(column)}) from ${quote(schema)}.${quote(table)}), 0) + 1, false)`,
      [sequence],
    )
  }
}
