import { type EntityName, ReferenceKind } from '@mikro-orm/core'
import { CompiledQuery, type Transaction } from 'kysely'
import type { Em } from './orm.ts'

/*
 * The reads of the family portal's busiest pages as plain SQL with bound parameters, on MikroORM's
 * own connection, hydrated into the request's identity map as em.find hydrates its rows. Building
 * these queries through MikroORM cost three to four times the query itself; see docs/decisions.md.
 */

/** Rows of a query with bound parameters ($1, $2…), in the EntityManager's transaction when it is in one. */
export async function selectRows(em: Em, sql: string, params: unknown[]): Promise<Record<string, unknown>[]> {
  const connection = em.getTransactionContext<Transaction<unknown>>() ?? em.getConnection().getClient()
  const { rows } = await connection.executeQuery<Record<string, unknown>>(CompiledQuery.raw(sql, params))
  return rows
}

/** An entity's table in the EntityManager's schema, quoted. */
export function tableOf(em: Em, entity: EntityName): string {
  return `"${em.schema}"."${em.getMetadata(entity).tableName}"`
}

const columnLists = new Map<string, string>()

/**
 * The columns MikroORM reads for an entity when nothing is populated (lazy ones left out), from a
 * table alias, each renamed `<alias>__<column>` so that joined tables do not clash; see columnsFrom.
 */
export function columnsOf(em: Em, entity: EntityName, alias: string): string {
  const meta = em.getMetadata(entity)
  const key = `${meta.className} ${alias}`
  let list = columnLists.get(key)
  if (!list) {
    list = meta.props
      .filter(
        (p) =>
          p.persist !== false &&
          !p.lazy &&
          (p.kind === ReferenceKind.SCALAR ||
            p.kind === ReferenceKind.MANY_TO_ONE ||
            (p.kind === ReferenceKind.ONE_TO_ONE && p.owner)),
      )
      .flatMap((p) => p.fieldNames)
      .map((f) => `${alias}."${f}" as "${alias}__${f}"`)
      .join(', ')
    columnLists.set(key, list)
  }
  return list
}

/** The columns of one alias in a row selected with columnsOf, under their own names, for hydrate. */
export function columnsFrom(row: Record<string, unknown>, alias: string): Record<string, unknown> {
  const prefix = `${alias}__`
  const columns: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(row)) {
    if (name.startsWith(prefix)) columns[name.slice(prefix.length)] = value
  }
  return columns
}

/**
 * The managed entity of a row's columns (see columnsFrom), hydrated as em.find does: an entity the
 * identity map already holds gets the row's values except where the request changed them.
 */
export function hydrate<T extends object>(
  em: Em,
  entity: EntityName<T>,
  columns: Record<string, unknown>,
): T {
  const data = em.getDriver().mapResult(columns as never, em.getMetadata(entity)) as never
  return em
    .getEntityFactory()
    .create(entity, data, { merge: true, schema: em.schema, convertCustomTypes: true })
}

/** A table joined to the main one of selectEntities, hydrated before it; a row where it is null is skipped. */
export interface Joined {
  entity: EntityName
  alias: string
}

/**
 * The entities of `select <columns> from <entity's table> <alias> <rest>`: `rest` joins the tables
 * of `joined` (many-to-one targets, listed deepest first) and filters, orders and limits with $1,
 * $2… The joined rows are hydrated first, so the references of the main entities point to them,
 * as MikroORM's joined populate does.
 */
export async function selectEntities<T extends object>(
  em: Em,
  entity: EntityName<T>,
  alias: string,
  rest: string,
  params: unknown[],
  joined: Joined[] = [],
): Promise<T[]> {
  const columns = [...joined, { entity, alias }].map((j) => columnsOf(em, j.entity, j.alias)).join(', ')
  const rows = await selectRows(em, `select ${columns} from ${tableOf(em, entity)} ${alias} ${rest}`, params)
  return rows.map((row) => {
    for (const j of joined) {
      const data = columnsFrom(row, j.alias)
      const key = em.getMetadata(j.entity).getPrimaryProps()[0]!.fieldNames[0]!
      if (data[key] != null) hydrate(em, j.entity, data)
    }
    return hydrate(em, entity, columnsFrom(row, alias))
  })
}
