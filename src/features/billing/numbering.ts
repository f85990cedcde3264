import type { Em } from '../../platform/db/orm.ts'

/** Invoices, credit notes (avoirs), receipts and SEPA mandates (year 0) each have their own sequence. */
export const Sequence = { invoice: 'F', creditNote: 'A', receipt: 'R', mandate: 'M' } as const
export type Sequence = (typeof Sequence)[keyof typeof Sequence]

/** "F2027-000123": the sequence's letter, the year of issue, the number in that year. */
export function formatNumber(sequence: Sequence, year: number, n: number): string {
  return `${sequence}${year}-${String(n).padStart(6, '0')}`
}

/**
 * Takes the next `count` numbers of a sequence inside the caller's transaction. The upsert locks the
 * counter's row until that transaction ends (as SELECT … FOR UPDATE would), so concurrent issuers
 * queue behind it; a rollback gives the numbers back. Never a Postgres sequence: those leave gaps.
 */
export async function takeNumbers(
  tx: Em,
  sequence: Sequence,
  year: number,
  count: number,
): Promise<string[]> {
  const last = await takeCount(tx, sequence, year, count)
  return Array.from({ length: count }, (_, i) => formatNumber(sequence, year, last - count + 1 + i))
}

/** Takes `count` more of a sequence's numbers (see takeNumbers) and answers the last one taken. */
export async function takeCount(tx: Em, sequence: Sequence, year: number, count: number): Promise<number> {
  if (!tx.isInTransaction()) throw new Error('numbers are taken inside the issuing transaction')
  // raw SQL is not qualified by the fork: the tenant's schema is named here
  if (!tx.schema) throw new Error('numbers are taken on a tenant’s EntityManager')
  const table = `"${tx.schema}"."billing_counter"`
  const [row] = await tx.execute<{ last: number }[]>(
    `insert into ${table} as c ("created_at", "updated_at", "sequence", "year", "last")
     values (now(), now(), ?, ?, ?)
     on conflict ("sequence", "year") do update set "last" = c."last" + excluded."last", "updated_at" = now()
     returning c."last"`,
    [sequence, year, count],
  )
  return Number(row!.last)
}
