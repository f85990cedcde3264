import { createHash } from 'node:crypto'
import fc from 'fast-check'
import t from 'tap'
import {
  type AllocationInput,
  type AllocationRequest,
  type AllocationResult,
  allocate,
  drawNumber,
  effectiveRules,
  type PriorityRule,
  priorityOrder,
  priorityRules,
} from '../../../src/features/places/allocate.ts'

/*
 * The pure allocation: properties over random offers and requests (fast-check), then a few cases a
 * French conservatoire would recognise.
 */

const dates = ['2027-03-01T09:00:00.000Z', '2027-03-01T10:00:00.000Z', '2027-03-02T09:00:00.000Z']

/** Random offers: up to 6 items with 0–4 seats, up to 16 applicants ranking distinct items, few dates (ties). */
const inputs = fc
  .record({
    seats: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 6 }),
    applicants: fc.array(
      fc.record({
        choices: fc.uniqueArray(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 4 }),
        continuing: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        resident: fc.boolean(),
        sibling: fc.boolean(),
        reenrolment: fc.boolean(),
        dates: fc.array(fc.constantFrom(...dates), { minLength: 4, maxLength: 4 }),
      }),
      { minLength: 1, maxLength: 16 },
    ),
    rules: fc.shuffledSubarray([...priorityRules], { minLength: 1 }),
    seed: fc.string({ minLength: 1, maxLength: 12 }),
    firstId: fc.integer({ min: 1, max: 10_000 }),
  })
  .map(({ seats, applicants, rules, seed, firstId }): AllocationInput => {
    let id = firstId
    const requests: AllocationRequest[] = []
    applicants.forEach((a, n) => {
      a.choices.forEach((choice, rank) => {
        requests.push({
          id: id++,
          item: (choice % seats.length) + 1,
          applicant: `p${n}`,
          rank: rank + 1,
          requestedAt: a.dates[rank]!,
          continuing: a.continuing[rank]!,
          resident: a.resident,
          sibling: a.sibling,
          reenrolment: a.reenrolment,
        })
      })
    })
    // an applicant asks for an item once (the database's unique key)
    const seen = new Set<string>()
    const unique = requests.filter((r) => {
      const key = `${r.applicant}/${r.item}`
      if (seen.has(key)) return false
      seen.add(key)
      return true
    })
    return {
      seats: new Map(seats.map((n, i) => [i + 1, n])),
      requests: unique,
      rules: rules as PriorityRule[],
      seed,
    }
  })

const sha = (text: string) => createHash('sha256').update(text).digest('hex')

/** The result as plain sorted data, to compare two results whatever their maps' insertion order. */
function plain(result: AllocationResult) {
  return {
    placed: [...result.placed].sort((a, b) => a[0] - b[0]),
    order: [...result.order].sort((a, b) => a[0] - b[0]),
    draws: [...result.draws].sort((a, b) => a[0] - b[0]),
  }
}

function placedAt(result: AllocationResult, item: number) {
  return [...result.placed].filter(([, i]) => i === item).map(([id]) => id)
}

t.test('no item over its seats, one seat per applicant, each seat in its own item and order', async () => {
  fc.assert(
    fc.property(inputs, (input) => {
      const result = allocate(input)
      const byId = new Map(input.requests.map((r) => [r.id, r]))
      for (const [item, seats] of input.seats) if (placedAt(result, item).length > seats) return false
      const applicants = new Set<string>()
      for (const [id, item] of result.placed) {
        const request = byId.get(id)!
        if (request.item !== item) return false
        if (applicants.has(request.applicant)) return false
        applicants.add(request.applicant)
        if (!result.order.get(item)?.includes(id)) return false
      }
      return true
    }),
    { numRuns: 500 },
  )
})

t.test('stable: nobody lacks a seat they prefer that went to a request of lower priority', async () => {
  fc.assert(
    fc.property(inputs, (input) => {
      const result = allocate(input)
      const compare = priorityOrder(input.rules, result.draws)
      const byId = new Map(input.requests.map((r) => [r.id, r]))
      const seatOf = new Map<string, AllocationRequest>()
      for (const id of result.placed.keys()) seatOf.set(byId.get(id)!.applicant, byId.get(id)!)
      for (const r of input.requests) {
        if (result.placed.has(r.id)) continue
        const held = seatOf.get(r.applicant)
        // the applicant prefers r's item to what they got (or got nothing)
        if (held && held.rank < r.rank) continue
        const seats = input.seats.get(r.item) ?? 0
        const there = placedAt(result, r.item).map((id) => byId.get(id)!)
        // a free seat r was refused, or a seat given to a request r comes before
        if (there.length < seats) return false
        if (there.some((q) => compare(r, q) < 0)) return false
      }
      return true
    }),
    { numRuns: 500 },
  )
})

t.test('each item’s order is its requests sorted by the rules', async () => {
  fc.assert(
    fc.property(inputs, (input) => {
      const result = allocate(input)
      const compare = priorityOrder(input.rules, result.draws)
      const items = new Set(input.requests.map((r) => r.item))
      for (const item of items) {
        const expected = input.requests
          .filter((r) => r.item === item)
          .sort(compare)
          .map((r) => r.id)
        if (JSON.stringify(result.order.get(item)) !== JSON.stringify(expected)) return false
      }
      return result.order.size === items.size
    }),
    { numRuns: 300 },
  )
})

t.test('deterministic: same inputs and seed, in any order, give the same result', async (t) => {
  fc.assert(
    fc.property(
      inputs.chain((input) =>
        fc.tuple(
          fc.constant(input),
          fc.shuffledSubarray([...input.requests], { minLength: input.requests.length }),
        ),
      ),
      ([input, shuffled]) => {
        const once = plain(allocate(input))
        t.same(plain(allocate(input)), once)
        return JSON.stringify(plain(allocate({ ...input, requests: shuffled }))) === JSON.stringify(once)
      },
    ),
    { numRuns: 300 },
  )
})

t.test('the draw numbers are the first 16 hex digits of SHA-256("seed:id")', async (t) => {
  fc.assert(
    fc.property(inputs, (input) => {
      const result = allocate(input)
      if (!input.rules.includes('draw')) return result.draws.size === 0
      if (result.draws.size !== input.requests.length) return false
      return input.requests.every((r) => result.draws.get(r.id) === sha(`${input.seed}:${r.id}`).slice(0, 16))
    }),
    { numRuns: 300 },
  )
  t.equal(
    drawNumber('tirage-2027', 101),
    '860b3969b7090e87',
    "as `printf 'tirage-2027:101' | sha256sum` prints",
  )
})

t.test('another seed changes only what the draw decided', async () => {
  fc.assert(
    fc.property(inputs, fc.string({ minLength: 1, maxLength: 12 }), (input, otherSeed) => {
      const a = allocate(input)
      const b = allocate({ ...input, seed: otherSeed })
      const rules = effectiveRules(input.rules)
      if (!rules.includes('draw')) return JSON.stringify(plain(a)) === JSON.stringify(plain(b))
      // what the rules before the draw say of a request: the draw only orders requests equal on it
      const before = rules.slice(0, rules.indexOf('draw'))
      const byId = new Map(input.requests.map((r) => [r.id, r]))
      const key = (id: number) =>
        JSON.stringify(before.map((rule) => byId.get(id)![rule as keyof AllocationRequest]))
      for (const [item, order] of a.order) {
        if (JSON.stringify(order.map(key)) !== JSON.stringify(b.order.get(item)!.map(key))) return false
      }
      // where no two requests of an item are equal before the draw, the draw decides nothing
      const tied = [...a.order.values()].some((order) => new Set(order.map(key)).size < order.length)
      return tied || JSON.stringify(plain(a).placed) === JSON.stringify(plain(b).placed)
    }),
    { numRuns: 300 },
  )
})

/** One request of a plain conservatoire case. */
function request(
  id: number,
  item: number,
  applicant: string,
  facts: Partial<AllocationRequest> = {},
): AllocationRequest {
  return {
    id,
    item,
    applicant,
    rank: 1,
    requestedAt: '2027-03-01T09:00:00.000Z',
    continuing: false,
    resident: false,
    sibling: false,
    reenrolment: false,
    ...facts,
  }
}

t.test('a pupil continuing the cello goes before a newcomer who asked earlier', async (t) => {
  const result = allocate({
    seats: new Map([[1, 1]]),
    requests: [
      request(1, 1, 'newcomer', { requestedAt: '2027-02-01T09:00:00.000Z' }),
      request(2, 1, 'lea', { continuing: true, requestedAt: '2027-03-15T09:00:00.000Z' }),
    ],
    rules: ['continuing', 'requestDate'],
    seed: 'x',
  })
  t.same([...result.placed], [[2, 1]])
  t.same(result.order.get(1), [2, 1])
  t.equal(result.draws.size, 0, 'no draw in these rules')
})

t.test('residents of the territory first, then a draw among equals', async (t) => {
  const seed = 'tirage-2027'
  const requests = [
    request(100, 1, 'lyon'),
    request(101, 1, 'limonest-1', { resident: true }),
    request(102, 1, 'limonest-2', { resident: true }),
  ]
  const result = allocate({ seats: new Map([[1, 1]]), requests, rules: ['resident', 'draw'], seed })
  // 2de506743e488680 (102) < 860b3969b7090e87 (101): the draw gives the seat to 102
  t.equal(result.draws.get(102), '2de506743e488680')
  t.equal(result.draws.get(101), '860b3969b7090e87')
  t.same([...result.placed], [[102, 1]])
  t.same(result.order.get(1), [102, 101, 100], 'the non-resident last whatever its draw')
  const another = allocate({ seats: new Map([[1, 1]]), requests, rules: ['resident', 'draw'], seed: 'autre' })
  t.equal(another.order.get(1)!.at(-1), 100, 'another seed never puts the non-resident first')
})

t.test('turned away from a first choice, a pupil gets the second; the better-placed keeps it', async (t) => {
  // piano (1 seat): Léa continues it, Hugo does not; Hugo's second choice is the violin (1 seat),
  // where Inès asked first but ranks behind Hugo (he continues a discipline there)
  const result = allocate({
    seats: new Map([
      [1, 1],
      [2, 1],
    ]),
    requests: [
      request(1, 1, 'hugo', { rank: 1 }),
      request(2, 2, 'hugo', { rank: 2, continuing: true }),
      request(3, 1, 'lea', { continuing: true }),
      request(4, 2, 'ines', { requestedAt: '2027-01-01T09:00:00.000Z' }),
    ],
    rules: ['continuing', 'requestDate'],
    seed: 'x',
  })
  t.same(
    [...result.placed].sort((a, b) => a[0] - b[0]),
    [
      [2, 2],
      [3, 1],
    ],
  )
})

t.test('an item without seats places nobody; the applicants go on to their next choice', async (t) => {
  const result = allocate({
    seats: new Map([
      [1, 0],
      [2, 2],
    ]),
    requests: [request(1, 1, 'a'), request(2, 2, 'a', { rank: 2 }), request(3, 1, 'b')],
    rules: ['requestDate'],
    seed: 'x',
  })
  t.same([...result.placed], [[2, 2]])
  t.same(result.order.get(1), [1, 3], 'still ordered, for the waiting list')
})
