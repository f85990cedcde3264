/** Staff lists show this many rows a page. */
export const pageSize = 50

/** The `page` querystring parameter of a paginated list: 1 when absent. */
export const pageParam = { page: { type: 'integer', minimum: 1, maximum: 1_000_000 } } as const

/** One page of a list: which rows it holds, and the links to the others. */
export interface Page {
  number: number
  pages: number
  total: number
  /** Rank of the first and last rows shown (1-based); 0 and 0 on an empty list. */
  first: number
  last: number
  previous: string | undefined
  next: string | undefined
}

/** Rows to skip for page `number`. */
export function offsetOf(number: number): number {
  return (number - 1) * pageSize
}

/**
 * The page `number` of a list of `total` rows shown at `path`, its links keeping the list's filters
 * (empty ones left out). A page past the end shows the end of the list's links, and no rows.
 */
export function pageOf(
  total: number,
  number: number,
  path: string,
  filters: Record<string, string | undefined> = {},
): Page {
  const pages = Math.max(1, Math.ceil(total / pageSize))
  const link = (n: number) => {
    const query = new URLSearchParams(
      Object.entries({ ...filters, page: n > 1 ? String(n) : '' }).filter((e): e is [string, string] =>
        Boolean(e[1]),
      ),
    ).toString()
    return query ? `${path}?${query}` : path
  }
  const shown = Math.max(0, Math.min(pageSize, total - offsetOf(number)))
  return {
    number,
    pages,
    total,
    first: shown ? offsetOf(number) + 1 : 0,
    last: shown ? offsetOf(number) + shown : 0,
    previous: number > 1 ? link(Math.min(number - 1, pages)) : undefined,
    next: number < pages ? link(number + 1) : undefined,
  }
}
