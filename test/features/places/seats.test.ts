import t from 'tap'
import { Family, Guardian } from '../../../src/features/family/entities.ts'
import {
  Allocation,
  OfferItem,
  PlaceRequest,
  type RequestState,
} from '../../../src/features/places/entities.ts'
import {
  answerOffer,
  changeProposal,
  confirmAllocation,
  expireOverdue,
  holdingStates,
  offerNext,
  type PlacesScope,
  proposeAllocation,
  waitingPosition,
} from '../../../src/features/places/service.ts'
import { Preregistration } from '../../../src/features/preregistration/entities.ts'
import { Pupil } from '../../../src/features/pupils/entities.ts'
import { Course, Enrolment, SchoolYear } from '../../../src/features/teaching/entities.ts'
import { AuditEvent } from '../../../src/platform/audit/entities.ts'
import type { Actor } from '../../../src/platform/auth/context.ts'
import type { Em } from '../../../src/platform/db/orm.ts'
import { OutboxMail } from '../../../src/platform/mail/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { createAccount } from '../../helpers/accounts.ts'
import { build } from '../../helpers/build.ts'

/*
 * The seats of next year's offer through the service, on the real database: an allocation proposed,
 * changed by hand and confirmed; answers, deadlines and the waiting list moving up; and the same
 * seat never given twice when staff, families and the sweep act at the same moment.
 */

const day = 24 * 60 * 60 * 1000

/** A tenant with this year and next, next year's courses, a staff member, and helpers to fill the offer. */
async function setUp(t: Parameters<typeof build>[0], places: Record<string, unknown> = {}) {
  const { app, tenants } = await build(t, {
    tenants: [{ places: { rules: ['continuing', 'requestDate'], answerDays: 7, ...places } }],
  })
  const config = tenants[0]!
  const schema = schemaFor(config.slug)
  const em = () => app.orm.em.fork({ schema })
  const tx = <T>(fn: (tx: Em) => Promise<T>) => em().transactional(fn)
  const staff = await createAccount(app, config.slug, { identifiant: 'secretariat', role: 'secretariat' })
  const actor: Actor = {
    id: staff.id,
    role: 'secretariat',
    identifiant: staff.identifiant,
    email: staff.email,
    displayName: 'Claire Secrétariat',
  }
  const scope: PlacesScope = { config, locale: 'fr', baseUrl: `http://${config.slug}.localhost` }
  const setup = em()
  const current = setup.create(SchoolYear, {
    label: '2026-2027',
    startsOn: '2026-09-01',
    endsOn: '2027-08-31',
    current: true,
  })
  const next = setup.create(SchoolYear, { label: '2027-2028', startsOn: '2027-09-01', endsOn: '2028-08-31' })
  await setup.flush()
  let families = 0

  /** A family of two guardians (both with an address) and one pupil. */
  async function pupil(lastName: string, postalCode = '69760') {
    const e = em()
    families++
    const family = e.create(Family, { resident: postalCode === '69760' })
    for (const [rank, firstName] of [
      [1, 'Camille'],
      [2, 'Thomas'],
    ] as const)
      e.create(Guardian, {
        family,
        rank,
        lastName,
        firstName,
        email: `${firstName.toLowerCase()}.${lastName.toLowerCase()}${families}@example.fr`,
        postalCode,
        extraPhones: [],
      })
    const child = e.create(Pupil, { family, lastName, firstName: 'Léa', birthDate: '2015-05-01' })
    await e.flush()
    return { family: family.id, pupil: child.id, name: `Léa ${lastName}` }
  }

  /** A published item of next year's offer over new courses of next year (capacities given). */
  async function item(label: string, seats: number, capacities: (number | null)[] = [null]) {
    const e = em()
    const courses = capacities.map((capacity, i) =>
      e.create(Course, {
        schoolYear: next.id,
        discipline: 'piano',
        establishment: 'centre',
        name: `${label} ${i + 1}`,
        capacity,
      }),
    )
    await e.flush()
    const offer = e.create(OfferItem, {
      schoolYear: next.id,
      label,
      discipline: 'piano',
      courseIds: courses.map((c) => c.id),
      seats,
      accepts: 'both',
      publishedAt: new Date(),
    })
    await e.flush()
    return { id: offer.id, courses: courses.map((c) => c.id) }
  }

  /** A request of a pupil, `minutes` after a common start: the earlier the better under requestDate. */
  async function ask(
    who: { family: number; pupil: number; name: string },
    itemId: number,
    rank: number,
    minutes: number,
  ) {
    const e = em()
    const request = e.create(PlaceRequest, {
      item: itemId,
      source: 'reenrolment',
      pupil: who.pupil,
      family: who.family,
      name: who.name,
      rank,
      requestedAt: new Date(Date.UTC(2027, 2, 1, 9, minutes)),
    })
    await e.flush()
    return request.id
  }

  const state = async (id: number) => (await em().findOneOrFail(PlaceRequest, { id })).state
  const states = async (ids: number[]) => Promise.all(ids.map(state))
  /** Requests holding a seat of the item: never more than its seats. */
  const holding = (itemId: number) =>
    em().count(PlaceRequest, { item: itemId, state: { $in: holdingStates as RequestState[] } })
  const offeredMails = () => em().find(OutboxMail, { template: 'place-offered' }, { orderBy: { id: 'asc' } })
  const propose = (itemId: number | null, seed = 'graine') =>
    tx(async (x) =>
      proposeAllocation(x, actor, {
        year: await x.findOneOrFail(SchoolYear, next.id),
        config,
        item: itemId,
        seed,
      }),
    )
  const confirm = (allocation: number, now = new Date()) =>
    tx((x) => confirmAllocation(x, actor, scope, allocation, now))
  const answer = (request: number, reply: 'accept' | 'decline', now = new Date()) =>
    tx((x) => answerOffer(x, null, scope, { request, answer: reply }, now))
  const position = async (id: number) => waitingPosition(em(), await em().findOneOrFail(PlaceRequest, { id }))
  return {
    app,
    config,
    em,
    tx,
    actor,
    scope,
    current,
    next,
    pupil,
    item,
    ask,
    state,
    states,
    holding,
    offeredMails,
    propose,
    confirm,
    answer,
    position,
  }
}

t.test('confirmed seats are offered and mailed, the others wait in order and move up', async (t) => {
  const s = await setUp(t)
  const piano = await s.item('Piano — débutant', 2, [10, 12])
  const people = await Promise.all(['Martin', 'Durand', 'Petit', 'Roux'].map((n) => s.pupil(n)))
  const ids: number[] = []
  for (const [i, who] of people.entries()) ids.push(await s.ask(who, piano.id, 1, i))
  const [martin, durand, petit, roux] = ids as [number, number, number, number]

  const allocation = await s.propose(null)
  t.same(
    allocation.placements.map((p) => p.request).sort(),
    [martin, durand].sort(),
    'the two first requests placed',
  )
  t.same(
    await s.states(ids),
    ['waiting', 'waiting', 'waiting', 'waiting'],
    'nothing changes before confirming',
  )
  t.equal((await s.offeredMails()).length, 0)

  const now = new Date('2027-04-01T08:00:00Z')
  t.same(await s.confirm(allocation.id, now), { offered: 2, waitlisted: 2 })
  t.same(await s.states(ids), ['proposed', 'proposed', 'waitlisted', 'waitlisted'])
  const offered = await s.em().findOneOrFail(PlaceRequest, { id: martin })
  t.equal(offered.answerBy?.getTime(), now.getTime() + 7 * day, 'to answer within answerDays')
  t.equal(offered.offeredAt?.getTime(), now.getTime())
  const mails = await s.offeredMails()
  t.same(
    mails.map((m) => m.recipient).sort(),
    [
      'camille.martin1@example.fr',
      'thomas.martin1@example.fr',
      'camille.durand2@example.fr',
      'thomas.durand2@example.fr',
    ].sort(),
    'each guardian of the two families mailed',
  )
  t.match(mails[0]!.text, /Piano — débutant/)
  t.same(
    (await s.em().find(PlaceRequest, { id: { $in: [petit, roux] } }, { orderBy: { id: 'asc' } })).map(
      (r) => r.queueOrder,
    ),
    [2, 3],
    'the waiting list in the proposal’s order',
  )
  t.same([await s.position(petit), await s.position(roux)], [1, 2])
  t.same(await s.confirm(allocation.id, now), { refused: 'notProposed' }, 'confirmed once')

  // Martin declines: Petit is offered the seat at once, Roux moves up
  t.same(await s.answer(martin, 'decline', now), { done: 'declined' })
  t.same(await s.states(ids), ['declined', 'proposed', 'proposed', 'waitlisted'])
  t.equal(await s.position(roux), 1, 'Roux moved up by one')
  t.same(
    (await s.offeredMails()).slice(4).map((m) => m.recipient),
    ['camille.petit3@example.fr', 'thomas.petit3@example.fr'],
  )
  t.equal(await s.holding(piano.id), 2)

  // Durand accepts: enrolled in the group's course with the most room
  const outcome = await s.answer(durand, 'accept', now)
  t.same(outcome, { done: 'accepted', course: 'Piano — débutant 2' })
  const enrolment = await s.em().findOneOrFail(Enrolment, { pupil: people[1]!.pupil })
  t.equal(enrolment.course.id, piano.courses[1], 'capacity 12 before 10')
  t.equal(await s.state(durand), 'accepted')
  t.same(await s.answer(durand, 'decline', now), { refused: 'notOffered' }, 'answered once')

  // Petit lets the deadline pass: expired, the seat goes to Roux
  t.equal(await s.tx((x) => expireOverdue(x, s.scope, new Date(now.getTime() + 6 * day))), 0, 'not yet')
  const late = new Date(now.getTime() + 8 * day)
  t.equal(await s.tx((x) => expireOverdue(x, s.scope, late)), 1)
  t.same(await s.states(ids), ['declined', 'accepted', 'expired', 'proposed'])
  t.equal(
    (await s.em().findOneOrFail(PlaceRequest, { id: roux })).answerBy?.getTime(),
    late.getTime() + 7 * day,
    'a fresh deadline from the moment offered',
  )
  t.same(await s.answer(roux, 'accept', new Date(late.getTime() + 8 * day)), { refused: 'late' })
  t.equal(await s.state(roux), 'expired', 'a late answer finds the seat gone')
  t.equal(await s.holding(piano.id), 1)
  t.equal(await s.em().count(AuditEvent, { action: 'places.allocationConfirmed' }), 1)
})

t.test(
  'the facts read from the records order the requests: continuing, then resident, then date',
  async (t) => {
    const s = await setUp(t, {
      rules: ['continuing', 'resident', 'requestDate'],
      residents: { postalCodes: ['69760'] },
    })
    const piano = await s.item('Piano', 1)
    const newcomer = await s.ask(await s.pupil('Lyon', '69003'), piano.id, 1, 0)
    const resident = await s.ask(await s.pupil('Limonest'), piano.id, 1, 10)
    const pupil = await s.pupil('Continue', '69003')
    const continuing = await s.ask(pupil, piano.id, 1, 20)
    // this year's piano course of the continuing pupil
    const e = s.em()
    const course = e.create(Course, {
      schoolYear: s.current.id,
      discipline: 'piano',
      establishment: 'centre',
      name: 'Piano cette année',
    })
    e.create(Enrolment, { pupil: pupil.pupil, course })
    await e.flush()
    const allocation = await s.propose(null)
    t.same(allocation.order[String(piano.id)], [continuing, resident, newcomer])
    t.same(allocation.placements, [{ request: continuing, item: piano.id }])
    const facts = await s.em().find(PlaceRequest, {}, { orderBy: { id: 'asc' } })
    t.same(
      facts.map((r) => [r.facts?.continuing, r.facts?.resident, r.facts?.sibling]),
      [
        [false, false, false],
        [false, true, false],
        [true, false, false],
      ],
      'the facts kept with each request, for the family’s "why"',
    )
  },
)

t.test('ranked requests: a pupil holds one seat, the better one, and frees the other', async (t) => {
  const s = await setUp(t)
  const violin = await s.item('Violon', 1)
  const cello = await s.item('Violoncelle', 1)
  const hugo = await s.pupil('Hugo')
  const ines = await s.pupil('Ines')
  const zoe = await s.pupil('Zoe')
  // Inès before Hugo for the violin, Hugo before Zoé for the cello
  const hugoViolin = await s.ask(hugo, violin.id, 1, 10)
  const hugoCello = await s.ask(hugo, cello.id, 2, 10)
  const inesViolin = await s.ask(ines, violin.id, 1, 0)
  const zoeCello = await s.ask(zoe, cello.id, 1, 20)
  const allocation = await s.propose(null)
  t.same(await s.confirm(allocation.id), { offered: 2, waitlisted: 2 })
  t.same(await s.states([hugoViolin, hugoCello, inesViolin, zoeCello]), [
    'waitlisted',
    'proposed',
    'proposed',
    'waitlisted',
  ])

  // Inès declines the violin: Hugo's first choice is offered, his cello seat goes on to Zoé
  await s.answer(inesViolin, 'decline')
  t.same(await s.states([hugoViolin, hugoCello, inesViolin, zoeCello]), [
    'proposed',
    'closed',
    'declined',
    'proposed',
  ])
  t.equal(await s.holding(violin.id), 1)
  t.equal(await s.holding(cello.id), 1)
})

t.test('a confirmation that frees a seat held lower never gives that item more than its seats', async (t) => {
  const s = await setUp(t)
  // created first: the confirmation offers its seat before the guitar's
  const first = await s.item('Chant', 1)
  const guitar = await s.item('Guitare', 2)
  const x = await s.pupil('Xavier')
  const xFirst = await s.ask(x, first.id, 1, 30)
  const xGuitar = await s.ask(x, guitar.id, 2, 30)
  const y = await s.ask(await s.pupil('Yann'), guitar.id, 1, 0)
  const z1 = await s.ask(await s.pupil('Zélie'), guitar.id, 1, 40)
  const z2 = await s.ask(await s.pupil('Zoé'), guitar.id, 1, 50)
  // an earlier confirmation left Xavier a guitar seat and Zélie and Zoé waiting
  const e = s.em()
  await e.nativeUpdate(
    PlaceRequest,
    { id: xGuitar },
    { state: 'proposed', answerBy: new Date(Date.now() + 7 * day) },
  )
  await e.nativeUpdate(PlaceRequest, { id: z1 }, { state: 'waitlisted', queueOrder: 1 })
  await e.nativeUpdate(PlaceRequest, { id: z2 }, { state: 'waitlisted', queueOrder: 2 })
  const allocation = await s.propose(null)
  t.same(
    allocation.placements.map((p) => p.request).sort(),
    [xFirst, y].sort(),
    'Xavier his first choice, Yann the guitar seat left',
  )
  t.same(await s.confirm(allocation.id), { offered: 2, waitlisted: 1 }, 'Zélie offered the seat Xavier left')
  t.same(await s.states([xFirst, xGuitar, y, z1, z2]), [
    'proposed',
    'closed',
    'proposed',
    'proposed',
    'waitlisted',
  ])
  t.equal(await s.holding(guitar.id), 2, 'Xavier’s guitar seat went to Zélie only')
  t.equal(await s.position(z2), 1)
})

t.test('a pré-inscription’s applicants: one seat each, mailed to the dossier with a link', async (t) => {
  const s = await setUp(t, { rules: ['resident', 'requestDate'], residents: { postalCodes: ['69760'] } })
  const harp = await s.item('Harpe', 1)
  const flute = await s.item('Flûte', 1)
  const e = s.em()
  const dossier = e.create(Preregistration, {
    tokenHash: 'a'.repeat(64),
    status: 'confirmed',
    email: 'famille.nouvelle@example.fr',
    guardians: [{ firstName: 'Nina', lastName: 'Nouvelle', postalCode: '69760' }],
    applicants: [],
  })
  await e.flush()
  const ask = async (applicant: number, item: number, rank: number, minutes: number) => {
    const x = s.em()
    const request = x.create(PlaceRequest, {
      item,
      source: 'preregistration',
      preregistration: dossier.id,
      applicant,
      name: `Enfant ${applicant + 1} Nouvelle`,
      rank,
      requestedAt: new Date(Date.UTC(2027, 2, 1, 9, minutes)),
    })
    await x.flush()
    return request.id
  }
  const firstHarp = await ask(0, harp.id, 1, 30)
  const firstFlute = await ask(0, flute.id, 2, 30)
  const secondFlute = await ask(1, flute.id, 1, 30)
  // a family of the town asked earlier for the flute, but lives elsewhere
  const away = await s.ask(await s.pupil('Ailleurs', '69003'), flute.id, 1, 0)
  const allocation = await s.propose(null)
  t.same(await s.confirm(allocation.id), { offered: 2, waitlisted: 1 })
  t.same(await s.states([firstHarp, firstFlute, secondFlute, away]), [
    'proposed',
    'closed',
    'proposed',
    'waitlisted',
  ])
  const mails = await s.offeredMails()
  t.same(
    mails.map((m) => m.recipient),
    ['famille.nouvelle@example.fr', 'famille.nouvelle@example.fr'],
  )
  t.match(mails[0]!.text, /\/places\/reponse\/[\w-]{20,}/, 'an answer link without an account')
  t.ok((await s.em().findOneOrFail(PlaceRequest, { id: firstHarp })).tokenHash, 'its token’s hash kept')
})

t.test('accepting closes the pupil’s other requests and releases a seat held lower', async (t) => {
  const s = await setUp(t)
  const flute = await s.item('Flûte', 1)
  const harp = await s.item('Harpe', 1)
  const lea = await s.pupil('Bernard')
  const next = await s.pupil('Moreau')
  const first = await s.ask(lea, flute.id, 1, 0)
  const second = await s.ask(lea, harp.id, 2, 0)
  const waiting = await s.ask(next, harp.id, 1, 5)
  // both seats proposed to Léa (as two separate runs over one item each may leave them)
  const e = s.em()
  const deadline = new Date(Date.now() + 7 * day)
  await e.nativeUpdate(
    PlaceRequest,
    { id: { $in: [first, second] } },
    { state: 'proposed', answerBy: deadline },
  )
  await e.nativeUpdate(PlaceRequest, { id: waiting }, { state: 'waitlisted', queueOrder: 1 })
  t.same(await s.answer(first, 'accept'), { done: 'accepted', course: 'Flûte 1' })
  t.same(await s.states([first, second, waiting]), ['accepted', 'closed', 'proposed'])
  t.equal(await s.em().count(Enrolment, { pupil: lea.pupil }), 1)
})

t.test(
  'changes by hand: in scope only, replacing the last placed, recorded; a stale proposal is refused',
  async (t) => {
    const s = await setUp(t, { rules: ['continuing', 'draw'] })
    const guitar = await s.item('Guitare', 2)
    const drums = await s.item('Batterie', 1)
    const people = await Promise.all(['A', 'B', 'C'].map((n) => s.pupil(n)))
    const ids: number[] = []
    for (const who of people) ids.push(await s.ask(who, guitar.id, 1, 0))
    const other = await s.ask(await s.pupil('D'), drums.id, 1, 0)

    const allocation = await s.propose(guitar.id, 'seed-1')
    t.equal(allocation.seed, 'seed-1', 'the seed recorded')
    const order = allocation.order[String(guitar.id)]!
    t.equal(order.length, 3)
    const [best, second, left] = order as [number, number, number]
    t.same(
      allocation.placements.map((p) => p.request),
      [best, second].filter((id) => allocation.placements.some((p) => p.request === id)),
    )
    const change = (request: number, extra: Partial<Parameters<typeof changeProposal>[2]> = {}) =>
      s.tx((x) =>
        changeProposal(x, s.actor, {
          allocation: allocation.id,
          action: 'give',
          request,
          reason: 'Fratrie déjà inscrite en guitare',
          ...extra,
        }),
      )
    t.same(
      await change(other),
      { refused: 'unknownRequest' },
      'a request of another item is out of this proposal',
    )
    t.same(await change(best), { refused: 'alreadyPlaced' })
    t.equal(await change(left), undefined, 'given the seat')
    const changed = await s.em().findOneOrFail(Allocation, { id: allocation.id })
    t.same(
      changed.placements.map((p) => p.request).sort(),
      [best, left].sort(),
      'the lowest-priority placement made way',
    )
    t.same(
      changed.changes.map((c) => [c.action, c.request, c.reason, c.by]),
      [
        ['remove', second, 'Fratrie déjà inscrite en guitare', 'Claire Secrétariat'],
        ['give', left, 'Fratrie déjà inscrite en guitare', 'Claire Secrétariat'],
      ],
    )
    t.same(
      changed.computed.map((p) => p.request).sort(),
      [best, second].sort(),
      'what the rules gave is kept',
    )
    t.equal(await s.em().count(AuditEvent, { action: 'places.allocationChanged' }), 1)

    // a seat taken since the proposal: its confirmation is refused, nothing offered
    const stale = await s.propose(null, 'seed-2')
    const taken = await s.ask(await s.pupil('E'), guitar.id, 1, 0)
    await s.em().nativeUpdate(PlaceRequest, { id: taken }, { state: 'accepted' })
    t.same(await s.confirm(stale.id), { refused: 'full', item: 'Guitare' })
    t.same(await s.states(ids), ['waiting', 'waiting', 'waiting'])
    // the proposal of the guitar alone, changed by hand, was discarded by nothing: confirming it is refused too
    t.same(await s.confirm(allocation.id), { refused: 'full', item: 'Guitare' })
    await s.em().nativeUpdate(PlaceRequest, { id: taken }, { state: 'withdrawn' })
    t.same(await s.confirm(allocation.id), { offered: 2, waitlisted: 1 }, 'once the seat is free again')
    t.same(await s.states([best, second, left]), ['proposed', 'waitlisted', 'proposed'], 'as changed by hand')
    t.same(await s.confirm(stale.id), { refused: 'stale' }, 'its requests are no longer waiting')
  },
)

t.test('concurrent: the same seat is never given twice', async (t) => {
  const s = await setUp(t)
  const piano = await s.item('Piano', 3)
  const people = await Promise.all(Array.from({ length: 10 }, (_, i) => s.pupil(`F${i}`)))
  const ids: number[] = []
  for (const [i, who] of people.entries()) ids.push(await s.ask(who, piano.id, 1, i))

  // two staff confirm the same proposal at the same moment
  const allocation = await s.propose(null)
  const both = await Promise.all([s.confirm(allocation.id), s.confirm(allocation.id)])
  t.same(
    both.map((r) => ('refused' in r ? r.refused : 'confirmed')).sort(),
    ['confirmed', 'notProposed'],
    'one confirms, the other is refused',
  )
  t.equal(await s.holding(piano.id), 3)
  t.equal((await s.offeredMails()).length, 6, 'three families mailed once')

  // families answering, staff offering on and the sweep at the same moment, several rounds
  const soon = new Date(Date.now() + 8 * day)
  for (let round = 0; round < 4; round++) {
    const proposed = (await s.em().find(PlaceRequest, { item: piano.id, state: 'proposed' })).map((r) => r.id)
    await Promise.all([
      ...proposed.map((id, i) => s.answer(id, i === 0 && round % 2 === 0 ? 'accept' : 'decline')),
      ...proposed.map((id) => s.answer(id, 'accept')),
      s.tx((x) => offerNext(x, s.scope, piano.id)),
      s.tx((x) => offerNext(x, s.scope, piano.id)),
      round === 3 ? s.tx((x) => expireOverdue(x, s.scope, soon)) : Promise.resolve(0),
    ])
    t.ok((await s.holding(piano.id)) <= 3, `round ${round}: never more holding than seats`)
  }
  const all = await s.states(ids)
  t.ok(all.filter((x) => x === 'accepted').length <= 3)
  t.equal(
    await s.em().count(Enrolment, {}),
    all.filter((x) => x === 'accepted').length,
    'one enrolment per acceptance',
  )
})

t.test('concurrent: staff offering a waiting list on from several places at once', async (t) => {
  const s = await setUp(t)
  const viola = await s.item('Alto', 2)
  const ids: number[] = []
  for (let i = 0; i < 6; i++) ids.push(await s.ask(await s.pupil(`W${i}`), viola.id, 1, i))
  await s.em().nativeUpdate(PlaceRequest, { id: { $in: ids } }, { state: 'waitlisted', queueOrder: 1 })
  const offered = await Promise.all(
    Array.from({ length: 6 }, () => s.tx((x) => offerNext(x, s.scope, viola.id))),
  )
  t.equal(
    offered.reduce((a, b) => a + b, 0),
    2,
    'two seats offered in all',
  )
  t.equal(await s.holding(viola.id), 2)
  t.same((await s.states(ids)).slice(0, 2), ['proposed', 'proposed'], 'to the first two of the list')
})

t.test('concurrent: two proposals over the last seat, confirmed at the same moment', async (t) => {
  const s = await setUp(t)
  const harp = await s.item('Harpe', 1)
  const a = await s.ask(await s.pupil('Alpha'), harp.id, 1, 0)
  const b = await s.ask(await s.pupil('Beta'), harp.id, 1, 5)
  const forHarp = await s.propose(harp.id)
  const forAll = await s.propose(null)
  // staff give the seat to the other request in one of them
  t.equal(
    await s.tx((x) =>
      changeProposal(x, s.actor, {
        allocation: forAll.id,
        action: 'give',
        request: b,
        reason: 'Dossier prioritaire',
      }),
    ),
    undefined,
  )
  const results = await Promise.all([s.confirm(forHarp.id), s.confirm(forAll.id)])
  t.equal(results.filter((r) => 'offered' in r).length, 1, 'one confirmed')
  t.equal(results.filter((r) => 'refused' in r).length, 1, 'the other refused')
  t.equal(await s.holding(harp.id), 1)
  t.equal((await s.states([a, b])).filter((x) => x === 'proposed').length, 1)
})

t.test('concurrent: an answer and the sweep at the deadline never both win', async (t) => {
  const s = await setUp(t)
  const items = await Promise.all([s.item('Cor', 1), s.item('Tuba', 1)])
  const rows: { first: number; second: number; item: number }[] = []
  for (const [i, item] of items.entries()) {
    const first = await s.ask(await s.pupil(`P${i}`), item.id, 1, 0)
    const second = await s.ask(await s.pupil(`Q${i}`), item.id, 1, 5)
    rows.push({ first, second, item: item.id })
  }
  const allocation = await s.propose(null)
  const now = new Date('2027-04-01T08:00:00Z')
  await s.confirm(allocation.id, now)
  const beforeDeadline = new Date(now.getTime() + 7 * day - 1000)
  const after = new Date(now.getTime() + 7 * day + 1000)
  // two families accept just before the deadline while the sweep runs just after it
  const [accepted0, accepted1, expired] = await Promise.all([
    s.answer(rows[0]!.first, 'accept', beforeDeadline),
    s.answer(rows[1]!.first, 'accept', beforeDeadline),
    s.tx((x) => expireOverdue(x, s.scope, after)),
  ])
  for (const [i, outcome] of [accepted0, accepted1].entries()) {
    const [first, second] = await s.states([rows[i]!.first, rows[i]!.second])
    if ('done' in outcome) t.same([first, second], ['accepted', 'waitlisted'], `accepted ${i}: the seat kept`)
    else t.same([first, second], ['expired', 'proposed'], `expired ${i}: the seat went on`)
    t.equal(await s.holding(rows[i]!.item), 1)
  }
  t.equal(
    expired,
    [accepted0, accepted1].filter((o) => !('done' in o)).length,
    'the sweep expired only the unanswered',
  )
})
