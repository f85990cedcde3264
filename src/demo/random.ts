/** A seeded pseudo-random generator (mulberry32): the same seed gives the same demo every time. */
export interface Random {
  /** A float in [0, 1). */
  next(): number
  int(min: number, max: number): number
  pick<T>(items: readonly T[]): T
  /** Yields the items in a shuffled order, never the same one twice (then starts over). */
  deck<T>(items: readonly T[]): () => T
}

function hash(text: string): number {
  // FNV-1a: spreads similar seeds such as two slugs apart
  let h = 0x811c9dc5
  for (const char of text) h = Math.imul(h ^ char.charCodeAt(0), 0x01000193)
  return h >>> 0
}

export function random(seed: string): Random {
  let state = hash(seed)
  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1))
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)]!
  const deck = <T>(items: readonly T[]): (() => T) => {
    let left: T[] = []
    return () => {
      if (left.length === 0) left = [...items]
      return left.splice(int(0, left.length - 1), 1)[0]!
    }
  }
  return { next, int, pick, deck }
}
