import { createHash } from 'node:crypto'

/*
 * The allocation itself, pure: requests ranked by families, items with seats, the tenant's priority
 * rules in order. Student-proposing deferred acceptance: each applicant asks for its first choice;
 * an item keeps its best requests by priority up to its seats and turns the others away, who ask for
 * their next choice; until nobody is turned away. The result is stable: no request is left without a
 * seat its applicant prefers while that seat went to a request of lower priority.
 */

/** The priority rules a tenant may list in its YAML, most important first. */
export const priorityRules = [
  'continuing',
  'resident',
  'sibling',
  'reenrolment',
  'requestDate',
  'draw',
] as const
export type PriorityRule = (typeof priorityRules)[number]

export interface AllocationRequest {
  id: number
  item: number
  /** Who asks: requests of one applicant are alternatives, by rank. */
  applicant: string
  rank: number
  /** ISO date-time the request was sent. */
  requestedAt: string
  continuing: boolean
  resident: boolean
  sibling: boolean
  reenrolment: boolean
}

export interface AllocationInput {
  /** Seats left per item. */
  seats: ReadonlyMap<number, number>
  requests: readonly AllocationRequest[]
  rules: readonly PriorityRule[]
  seed: string
}

export interface AllocationResult {
  /** Request id → item id of the seats given. */
  placed: Map<number, number>
  /** Per item, its requests in priority order (placed first among equals never: pure priority). */
  order: Map<number, number[]>
  /** The draw's number of each request, when the rules use a draw. */
  draws: Map<number, string>
}

/**
 * The draw's number of a request: the first 16 hex digits of SHA-256("seed:request id"). Anyone with
 * the seed recomputes it (`printf 'seed:42' | sha256sum`); the smaller number goes first.
 */
export function drawNumber(seed: string, requestId: number): string {
  return createHash('sha256').update(`${seed}:${requestId}`).digest('hex').slice(0, 16)
}

/** The rules with their final tie-breaks: the request date where the rules end without one, then the id. */
export function effectiveRules(rules: readonly PriorityRule[]): PriorityRule[] {
  const last = rules.at(-1)
  return last === 'draw' || last === 'requestDate' ? [...rules] : [...rules, 'requestDate']
}

/** A comparator of requests by the rules: negative when `a` comes first. */
export function priorityOrder(rules: readonly PriorityRule[], draws: ReadonlyMap<number, string>) {
  const ordered = effectiveRules(rules)
  return (a: AllocationRequest, b: AllocationRequest): number => {
    for (const rule of ordered) {
      let diff = 0
      switch (rule) {
        case 'continuing':
        case 'resident':
        case 'sibling':
        case 'reenrolment':
          diff = Number(b[rule]) - Number(a[rule])
          break
        case 'requestDate':
          diff = a.requestedAt < b.requestedAt ? -1 : a.requestedAt > b.requestedAt ? 1 : 0
          break
        case 'draw': {
          const x = draws.get(a.id)!
          const y = draws.get(b.id)!
          diff = x < y ? -1 : x > y ? 1 : 0
          break
        }
      }
      if (diff !== 0) return diff
    }
    return a.id - b.id
  }
}

export function allocate(input: AllocationInput): AllocationResult {
  const draws = new Map<number, string>()
  if (input.rules.includes('draw'))
    for (const r of input.requests) draws.set(r.id, drawNumber(input.seed, r.id))
  const compare = priorityOrder(input.rules, draws)

  const byApplicant = new Map<string, AllocationRequest[]>()
  for (const request of input.requests) {
    const list = byApplicant.get(request.applicant)
    if (list) list.push(request)
    else byApplicant.set(request.applicant, [request])
  }
  for (const list of byApplicant.values()) list.sort((a, b) => a.rank - b.rank || a.id - b.id)

  // each item's order of all its requests, computed once: holding is a prefix filter of it
  const order = new Map<number, number[]>()
  const position = new Map<number, number>()
  const byItem = new Map<number, AllocationRequest[]>()
  for (const request of input.requests) {
    const list = byItem.get(request.item)
    if (list) list.push(request)
    else byItem.set(request.item, [request])
  }
  for (const [item, list] of byItem) {
    list.sort(compare)
    order.set(
      item,
      list.map((r) => r.id),
    )
    list.forEach((r, i) => {
      position.set(r.id, i)
    })
  }

  // held[item]: the requests it keeps, as a max-heap-free sorted array of positions (seats are small)
  const held = new Map<number, AllocationRequest[]>()
  const next = new Map<string, number>()
  const free = [...byApplicant.keys()]
  while (free.length > 0) {
    const applicant = free.pop()!
    const choices = byApplicant.get(applicant)!
    const index = next.get(applicant) ?? 0
    if (index >= choices.length) continue
    next.set(applicant, index + 1)
    const request = choices[index]!
    const seats = input.seats.get(request.item) ?? 0
    if (seats <= 0) {
      free.push(applicant)
      continue
    }
    const kept = held.get(request.item) ?? []
    const at = position.get(request.id)!
    let i = kept.length
    while (i > 0 && position.get(kept[i - 1]!.id)! > at) i--
    kept.splice(i, 0, request)
    held.set(request.item, kept)
    if (kept.length > seats) free.push(kept.pop()!.applicant)
  }

  const placed = new Map<number, number>()
  for (const [item, kept] of held) for (const r of kept) placed.set(r.id, item)
  return { placed, order, draws }
}
