export interface Summary {
  count: number
  total: number
  mean: number
  min: number
  p50: number
  p90: number
  p95: number
  p99: number
  max: number
}

/** Nearest-rank percentile of sorted values (p in 0..100). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
  return sorted[Math.min(rank, sorted.length) - 1]!
}

export function summarize(values: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(values).sort()
  let total = 0
  for (const v of sorted) total += v
  return {
    count: sorted.length,
    total,
    mean: sorted.length ? total / sorted.length : Number.NaN,
    min: sorted.length ? sorted[0]! : Number.NaN,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
  }
}

export function median(values: number[]): number {
  return percentile(Float64Array.from(values).sort(), 50)
}

/** Rounds for the JSON file: figures, not float noise. */
export function round(value: number, digits = 3): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

export function roundSummary(s: Summary, digits = 3): Summary {
  return Object.fromEntries(
    Object.entries(s).map(([k, v]) => [k, k === 'count' ? v : round(v, digits)]),
  ) as unknown as Summary
}
