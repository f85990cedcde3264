import { createHash, randomBytes } from 'node:crypto'
import { FlushMode, LockMode } from '@mikro-orm/core'
import { type Kysely, sql } from 'kysely'
import type { TenantDb } from '../../entities.ts'
import { audit } from '../../platform/audit/audit.ts'
import type { Actor } from '../../platform/auth/context.ts'
import { Account } from '../../platform/auth/entities.ts'
import type { Em } from '../../platform/db/orm.ts'
import { prepare } from '../../platform/db/reads.ts'
import { queueMails } from '../../platform/mail/outbox.ts'
import type { TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import { formatDate } from '../../platform/views/dates.ts'
import type { Locale } from '../../platform/views/i18n.ts'
import { fullName } from '../family/service.ts'
import { Pupil } from '../pupils/entities.ts'
import { Course, Enrolment, SchoolYear } from '../teaching/entities.ts'
import { type AllocationRequest, allocate, type PriorityRule } from './allocate.ts'
import {
  Allocation,
  AllocationStatus,
  type ManualChange,
  OfferItem,
  type Placement,
  PlaceRequest,
  type PriorityFacts,
  RequestState,
} from './entities.ts'

/*
 * Seats of next year's offer. Every change of a request's state or an item's seats runs in one
 * transaction that first locks next year's SchoolYear row: the tenant's place changes form one
 * queue, so two staff confirming, or two families accepting, can never give the same seat twice.
 */

/** What a change of places needs besides its transaction: the tenant, for the rules and the mails. */
export interface PlacesScope {
  config: TenantConfig
  locale: Locale
  /** Origin of the tenant's portal, for the links in mails. */
  baseUrl: string
}

/** States that hold a seat of the item. */
export const holdingStates: readonly RequestState[] = [RequestState.proposed, RequestState.accepted]
/** States the allocation orders: not decided yet, or on a waiting list. */
export const openStates: readonly RequestState[] = [RequestState.waiting, RequestState.waitlisted]

/** Locks next year's row for the rest of the transaction: the queue of every place change. */
export async function lockYear(tx: Em, yearId: number): Promise<void> {
  await tx.findOne(SchoolYear, { id: yearId }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true })
}

/** The year after the current one, once staff prepared it: the year the offer is for. */
export async function offerYear(em: Em): Promise<SchoolYear | null> {
  const current = await em.findOne(SchoolYear, { current: true })
  if (!current) return null
  return em.findOne(SchoolYear, { startsOn: { $gt: current.startsOn } }, { orderBy: { startsOn: 'asc' } })
}

/** Age on 31 December of the year the school year starts in, as French conservatoires count it. */
export function ageAtYearStart(birthDate: string, schoolYearLabel: string): number {
  const start = Number(schoolYearLabel.slice(0, 4))
  return start - Number(birthDate.slice(0, 4))
}

/** Whether an applicant may ask for an item: the kind of request, the age, the level. */
export function isEligible(
  item: Pick<OfferItem, 'accepts' | 'minAge' | 'maxAge' | 'levels'>,
  applicant: { kind: 'reenrolment' | 'preregistration'; birthDate: string | null; levels: readonly string[] },
  schoolYearLabel: string,
): boolean {
  if (item.accepts !== 'both' && item.accepts !== applicant.kind) return false
  if (item.minAge != null || item.maxAge != null) {
    if (!applicant.birthDate) return false
    const age = ageAtYearStart(applicant.birthDate, schoolYearLabel)
    if (item.minAge != null && age < item.minAge) return false
    if (item.maxAge != null && age > item.maxAge) return false
  }
  if (item.levels.length > 0 && applicant.kind === 'reenrolment')
    return applicant.levels.some((level) => item.levels.includes(level))
  return true
}

const seatsTakenRead = prepare((db: Kysely<TenantDb>, p: { items: number[] }) =>
  db
    .selectFrom('place_request as r')
    .select(['r.item_id as item'])
    .select((eb) => eb.cast<number>(eb.fn.countAll(), 'integer').as('n'))
    // a list parameter as one array: a prepared read is compiled once, before any value is known
    .where(sql<boolean>`r.item_id = any(cast(${p.items} as int[]))`)
    .where('r.state', 'in', holdingStates as RequestState[])
    .groupBy('r.item_id'),
)

/** Seats of each item not yet proposed or accepted. */
export async function seatsLeft(db: Em, items: readonly Pick<OfferItem, 'id' | 'seats'>[]) {
  const taken = await seatsTakenRead.all(db, { items: items.map((i) => i.id) })
  const byItem = new Map(taken.map((t) => [t.item, t.n ?? 0]))
  return new Map(items.map((i) => [i.id, Math.max(0, i.seats - (byItem.get(i.id) ?? 0))]))
}

const factsRead = prepare((db: Kysely<TenantDb>, p: { ids: number[]; currentId: number }) =>
  db
    .selectFrom('place_request as r')
    .innerJoin('offer_item as i', 'i.id', 'r.item_id')
    .leftJoin('preregistration as d', 'd.id', 'r.preregistration_id')
    .leftJoin('family as f', 'f.id', 'r.family_id')
    .select([
      'r.id',
      'f.resident as familyResident',
      'r.item_id as item',
      'r.source',
      'r.pupil_id as pupilId',
      'r.preregistration_id as dossierId',
      'r.applicant',
      'r.rank',
      'r.requested_at as requestedAt',
      'd.guardians as dossierGuardians',
    ])
    .select((eb) => [
      eb
        .exists(
          eb
            .selectFrom('enrolment as e')
            .innerJoin('course as c', 'c.id', 'e.course_id')
            .select('e.id')
            .whereRef('e.pupil_id', '=', 'r.pupil_id')
            .where('e.active', '=', true)
            .where('c.school_year_id', '=', p.currentId)
            .whereRef('c.discipline', '=', 'i.discipline'),
        )
        .as('continuing'),
      eb
        .exists(
          eb
            .selectFrom('enrolment as e')
            .innerJoin('course as c', 'c.id', 'e.course_id')
            .innerJoin('pupil as s', 's.id', 'e.pupil_id')
            .select('e.id')
            .whereRef('s.family_id', '=', 'r.family_id')
            .where((inner) =>
              inner.or([inner('r.pupil_id', 'is', null), inner('s.id', '<>', inner.ref('r.pupil_id'))]),
            )
            .where('e.active', '=', true)
            .where('c.school_year_id', '=', p.currentId),
        )
        .as('sibling'),
    ])
    .where(sql<boolean>`r.id = any(cast(${p.ids} as int[]))`),
)

/** Who asks: the pupil, or the dossier's applicant until staff accept the dossier. */
export function applicantKey(r: {
  pupilId?: number | null
  dossierId?: number | null
  applicant?: number | null
}): string {
  return r.pupilId != null ? `p${r.pupilId}` : `d${r.dossierId}-${r.applicant}`
}

/** The priority facts of requests, read now: what the allocation orders them by. */
export async function requestFacts(db: Em, config: TenantConfig, ids: number[], currentYearId: number) {
  const rows = await factsRead.all(db, { ids, currentId: currentYearId })
  const residents = new Set(config.places.residents?.postalCodes ?? [])
  return rows.map(
    (r): AllocationRequest => ({
      id: r.id,
      item: r.item,
      applicant: applicantKey(r),
      rank: r.rank,
      requestedAt: new Date(r.requestedAt).toISOString(),
      continuing: Boolean(r.continuing),
      sibling: Boolean(r.sibling),
      reenrolment: r.source === 'reenrolment',
      // the family's own flag, validated by staff and read by the tariffs; a dossier's postal code
      resident:
        r.familyResident ??
        residents.has(
          ((r.dossierGuardians as { postalCode?: string | null }[] | null)?.[0]?.postalCode ?? '').trim(),
        ),
    }),
  )
}

const openRequestsRead = prepare((db: Kysely<TenantDb>, p: { items: number[] }) =>
  db
    .selectFrom('place_request as r')
    .select('r.id')
    .where(sql<boolean>`r.item_id = any(cast(${p.items} as int[]))`)
    .where('r.state', 'in', openStates as RequestState[]),
)

/** A fresh seed: 16 hex digits, written down with the allocation. */
export function newSeed(): string {
  return randomBytes(8).toString('hex')
}

/**
 * "Lancer l'attribution": computes a proposal for one item or all of next year's, from the requests
 * not decided yet and those on waiting lists, over the seats left. Nothing changes for families until
 * staff confirm it; an earlier proposal of the same scope not confirmed is discarded.
 */
export async function proposeAllocation(
  tx: Em,
  actor: Actor,
  input: { year: SchoolYear; config: TenantConfig; item: number | null; seed?: string },
): Promise<Allocation> {
  await lockYear(tx, input.year.id)
  const current = await tx.findOneOrFail(SchoolYear, { current: true })
  const items = await tx.find(
    OfferItem,
    input.item === null
      ? { schoolYear: input.year, publishedAt: { $ne: null } }
      : { id: input.item, schoolYear: input.year },
  )
  const requests = await openRequestsRead.all(tx, { items: items.map((i) => i.id) })
  const seats = await seatsLeft(tx, items)
  const rules = input.config.places.rules as PriorityRule[]
  const seed = input.seed ?? newSeed()
  const facts = await requestFacts(
    tx,
    input.config,
    requests.map((r) => r.id),
    current.id,
  )
  const result = allocate({ seats, requests: facts, rules, seed })
  await tx.nativeUpdate(
    Allocation,
    { schoolYear: input.year, item: input.item, status: AllocationStatus.proposed },
    { status: AllocationStatus.discarded },
  )
  const placements: Placement[] = [...result.placed].map(([request, item]) => ({ request, item }))
  const allocation = tx.create(Allocation, {
    schoolYear: input.year,
    item: input.item,
    seed,
    rules,
    status: AllocationStatus.proposed,
    order: Object.fromEntries([...result.order].map(([item, ids]) => [String(item), ids])),
    placements,
    computed: placements,
    createdBy: actor.id,
  })
  await tx.flush()
  // each request keeps the facts it was ordered by, for staff and for the family's "why": one
  // statement, as the unit of work would compare and send a couple of thousand updates
  const kept = facts.map(
    (f): PriorityFacts => ({
      continuing: f.continuing,
      resident: f.resident,
      sibling: f.sibling,
      reenrolment: f.reenrolment,
      ...(result.draws.has(f.id) ? { draw: result.draws.get(f.id)! } : {}),
    }),
  )
  if (facts.length)
    await sql`update ${sql.table(`${tx.schema}.place_request`)} as r
      set facts = v.facts, updated_at = now()
      from unnest(cast(${facts.map((f) => f.id)} as int[]), cast(${kept.map((k) => JSON.stringify(k))} as jsonb[]))
        as v(id, facts)
      where r.id = v.id`.execute(tx.getKysely())
  audit(tx, actor, {
    action: 'places.allocationProposed',
    subject: { type: 'allocation', id: allocation.id },
    details: { item: input.item, seed, rules, requests: requests.length, placed: placements.length },
  })
  return allocation
}

/** Why a change by hand or a confirmation was refused, as a message key with its parameters. */
export type PlaceRefusal =
  | { refused: 'notProposed' }
  | { refused: 'unknownRequest' }
  | { refused: 'full'; item: string }
  | { refused: 'stale' }
  | { refused: 'notPlaced' }
  | { refused: 'alreadyPlaced' }

/**
 * A change by hand to a proposal: give a seat to a request the rules left out (taking the place of
 * the lowest-priority request placed, when the item is full, unless one is named), or take a seat
 * back. The reason is kept with the allocation and in the audit.
 */
export async function changeProposal(
  tx: Em,
  actor: Actor,
  input: {
    allocation: number
    action: 'give' | 'remove'
    request: number
    reason: string
    replaces?: number
  },
): Promise<PlaceRefusal | undefined> {
  const allocation = await tx.findOne(
    Allocation,
    { id: input.allocation },
    { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
  )
  if (!allocation || allocation.status !== AllocationStatus.proposed) return { refused: 'notProposed' }
  const request = await tx.findOne(PlaceRequest, {
    id: input.request,
    state: { $in: openStates as RequestState[] },
  })
  const inScope = request && (allocation.order[String(request.item.id)] ?? []).includes(request.id)
  if (!request || !inScope) return { refused: 'unknownRequest' }
  const itemId = request.item.id
  let placements = [...allocation.placements]
  const changes: ManualChange[] = []
  const at = new Date().toISOString()
  const by = actor.displayName
  if (input.action === 'remove') {
    if (!placements.some((p) => p.request === request.id)) return { refused: 'notPlaced' }
    placements = placements.filter((p) => p.request !== request.id)
    changes.push({ at, by, action: 'remove', request: request.id, item: itemId, reason: input.reason })
  } else {
    if (placements.some((p) => p.request === request.id)) return { refused: 'alreadyPlaced' }
    const item = await tx.findOneOrFail(OfferItem, { id: itemId })
    const free = (await seatsLeft(tx, [item])).get(itemId) ?? 0
    const here = placements.filter((p) => p.item === itemId)
    const applicant = applicantKey({
      pupilId: request.pupil?.id,
      dossierId: request.preregistration?.id,
      applicant: request.applicant,
    })
    // the applicant's other seat of this proposal goes: ranked requests are alternatives
    const others = await tx.find(PlaceRequest, { id: { $in: placements.map((p) => p.request) } })
    const sameApplicant = others.filter(
      (o) =>
        applicantKey({ pupilId: o.pupil?.id, dossierId: o.preregistration?.id, applicant: o.applicant }) ===
        applicant,
    )
    for (const o of sameApplicant) {
      placements = placements.filter((p) => p.request !== o.id)
      changes.push({ at, by, action: 'remove', request: o.id, item: o.item.id, reason: input.reason })
    }
    if (here.length - sameApplicant.filter((o) => o.item.id === itemId).length >= free) {
      const order = allocation.order[String(itemId)] ?? []
      const placedHere = placements.filter((p) => p.item === itemId).map((p) => p.request)
      const out =
        input.replaces !== undefined && placedHere.includes(input.replaces)
          ? input.replaces
          : placedHere.sort((a, b) => order.indexOf(b) - order.indexOf(a))[0]
      if (out === undefined) return { refused: 'full', item: item.label }
      placements = placements.filter((p) => p.request !== out)
      changes.push({ at, by, action: 'remove', request: out, item: itemId, reason: input.reason })
    }
    placements.push({ request: request.id, item: itemId })
    changes.push({ at, by, action: 'give', request: request.id, item: itemId, reason: input.reason })
  }
  allocation.placements = placements
  allocation.changes = [...allocation.changes, ...changes]
  await tx.flush()
  audit(tx, actor, {
    action: 'places.allocationChanged',
    subject: { type: 'allocation', id: allocation.id },
    details: { changes },
  })
  return undefined
}

/** The deadline of an offer made now: the end of the tenant's day, `answerDays` days on. */
export function answerDeadline(config: TenantConfig, now: Date): Date {
  return new Date(now.getTime() + config.places.answerDays * 24 * 60 * 60 * 1000)
}

/**
 * "Confirmer": the proposal's seats become offers, mailed with their deadline; the other requests
 * go on their items' waiting lists in the proposal's order. Refused when the proposal is not the
 * latest or the seats it gives are not free any more (an offer accepted since): run it again.
 */
export async function confirmAllocation(
  tx: Em,
  actor: Actor,
  scope: PlacesScope,
  allocationId: number,
  now = new Date(),
): Promise<PlaceRefusal | { offered: number; waitlisted: number }> {
  const first = await tx.findOne(Allocation, { id: allocationId }, { populate: ['schoolYear'] })
  if (!first) return { refused: 'notProposed' }
  await lockYear(tx, first.schoolYear.id)
  // its row too: a change by hand (which locks only the allocation) waits for the confirmation, or is read by it
  const allocation = await tx.findOneOrFail(
    Allocation,
    { id: allocationId },
    { refresh: true, lockMode: LockMode.PESSIMISTIC_WRITE },
  )
  if (allocation.status !== AllocationStatus.proposed) return { refused: 'notProposed' }
  const ids = Object.values(allocation.order).flat()
  const requests = await tx.find(PlaceRequest, { id: { $in: ids } }, { populate: ['item'] })
  const byId = new Map(requests.map((r) => [r.id, r]))
  const items = [...new Map(requests.map((r) => [r.item.id, r.item])).values()]
  const free = await seatsLeft(tx, items)
  for (const p of allocation.placements) {
    const request = byId.get(p.request)
    if (!request || !openStates.includes(request.state)) return { refused: 'stale' }
    const left = free.get(p.item) ?? 0
    if (left <= 0) return { refused: 'full', item: request.item.label }
    free.set(p.item, left - 1)
  }
  const placed = new Map(allocation.placements.map((p) => [p.request, p.item]))
  const deadline = answerDeadline(scope.config, now)
  const offered: PlaceRequest[] = []
  const queued: PlaceRequest[] = []
  for (const [item, order] of Object.entries(allocation.order)) {
    order.forEach((id, index) => {
      const request = byId.get(id)
      if (!request || !openStates.includes(request.state)) return
      request.queueOrder = index
      if (placed.get(id) === Number(item)) {
        offered.push(request)
      } else {
        request.state = RequestState.waitlisted
        queued.push(request)
      }
    })
  }
  allocation.status = AllocationStatus.confirmed
  allocation.confirmedBy = tx.getReference(Account, actor.id)
  allocation.confirmedAt = now
  // written with the offers, in one flush
  await offerAll(tx, scope, offered, deadline, now)
  // those ranked after a seat offered to their applicant were closed by it
  const waitlisted = queued.filter((r) => r.state === RequestState.waitlisted).length
  audit(tx, actor, {
    action: 'places.allocationConfirmed',
    subject: { type: 'allocation', id: allocation.id },
    details: {
      seed: allocation.seed,
      offered: offered.map((r) => r.id),
      waitlisted,
      changes: allocation.changes,
    },
  })
  await tx.flush()
  return { offered: offered.length, waitlisted }
}

/** Hash of an answer link's token, as stored. */
export function tokenHashOf(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

const recipientsRead = prepare((db: Kysely<TenantDb>, p: { familyIds: number[] }) =>
  db
    .selectFrom('guardian as g')
    .select(['g.family_id as familyId', 'g.email', 'g.first_name as firstName', 'g.last_name as lastName'])
    .where(sql<boolean>`g.family_id = any(cast(${p.familyIds} as int[]))`)
    .where('g.email', 'is not', null)
    .orderBy('g.id'),
)

const plainAddress = /^[^\s@,;<>"()]+@[^\s@,;<>"()]+$/

/**
 * Offers requests their items' seats: "place proposée", to answer before the deadline. Each
 * applicant's requests ranked after the one offered close (a better seat is theirs); a seat they
 * held lower in their ranking is released for the next request, once every request of the batch
 * holds its seat (so the next one never counts a seat of the batch as free). The families are
 * mailed; a pré-inscription's mail carries a link that answers without an account. A batch holds
 * at most one request per applicant. One query for the siblings, one flush, one query for the
 * recipients, whatever the batch's size: a confirmation offers hundreds of seats.
 */
async function offerAll(
  tx: Em,
  scope: PlacesScope,
  requests: readonly PlaceRequest[],
  deadline: Date,
  now: Date,
) {
  if (requests.length === 0) return
  const keyOf = (r: PlaceRequest) =>
    applicantKey({ pupilId: r.pupil?.id, dossierId: r.preregistration?.id, applicant: r.applicant })
  const batch = new Set(requests.map((r) => r.id))
  const pupils = [...new Set(requests.flatMap((r) => (r.pupil ? [r.pupil.id] : [])))]
  const dossiers = [
    ...new Set(requests.flatMap((r) => (!r.pupil && r.preregistration ? [r.preregistration.id] : []))),
  ]
  // read by applicant, whatever their state: the changes not flushed yet need not be written first
  const siblings = await tx.find(
    PlaceRequest,
    {
      $or: [
        ...(pupils.length ? [{ pupil: { $in: pupils } }] : []),
        ...(dossiers.length ? [{ pupil: null, preregistration: { $in: dossiers } }] : []),
      ],
    },
    { flushMode: FlushMode.COMMIT },
  )
  const byApplicant = new Map<string, PlaceRequest[]>()
  for (const other of siblings) {
    if (batch.has(other.id)) continue
    const key = keyOf(other)
    const list = byApplicant.get(key)
    if (list) list.push(other)
    else byApplicant.set(key, [other])
  }
  const released = new Set<number>()
  const links = new Map<number, string>()
  for (const request of requests) {
    request.state = RequestState.proposed
    request.offeredAt = now
    request.answerBy = deadline
    request.answeredAt = null
    for (const other of byApplicant.get(keyOf(request)) ?? []) {
      if (other.rank < request.rank) continue
      if (other.state === RequestState.proposed) released.add(other.item.id)
      if (openStates.includes(other.state) || other.state === RequestState.proposed)
        other.state = RequestState.closed
    }
    if (request.source === 'preregistration') {
      const token = randomBytes(24).toString('base64url')
      request.tokenHash = tokenHashOf(token)
      links.set(request.id, `${scope.baseUrl}/places/reponse/${token}`)
    } else links.set(request.id, `${scope.baseUrl}/eleves/${request.pupil!.id}/places`)
  }
  await tx.flush()
  const items = new Map(
    (await tx.find(OfferItem, { id: { $in: [...new Set(requests.map((r) => r.item.id))] } })).map((i) => [
      i.id,
      i,
    ]),
  )
  const recipients = await recipientsOf(tx, requests)
  await queueMails(
    tx,
    scope.config,
    scope.locale,
    requests.flatMap((request) =>
      (recipients.get(request.id) ?? []).map((to) => ({
        to: to.email,
        template: 'place-offered',
        data: {
          displayName: to.name,
          pupil: request.name,
          course: items.get(request.item.id)!.label,
          deadline: formatDate(deadline, scope.config.timezone),
          link: links.get(request.id),
        },
      })),
    ),
  )
  for (const item of released) await offerNext(tx, scope, item, now)
}

/** Who is mailed about each request: its family's guardians with an address, or the dossier's address. */
async function recipientsOf(
  tx: Em,
  requests: readonly PlaceRequest[],
): Promise<Map<number, { email: string; name: string }[]>> {
  const families = [...new Set(requests.flatMap((r) => (r.family ? [r.family.id] : [])))]
  const guardians = families.length ? await recipientsRead.all(tx, { familyIds: families }) : []
  const byFamily = new Map<number, { email: string; name: string }[]>()
  for (const g of guardians) {
    if (!plainAddress.test(g.email?.trim() ?? '')) continue
    const list = byFamily.get(g.familyId) ?? []
    list.push({ email: g.email!.trim(), name: fullName(g) })
    byFamily.set(g.familyId, list)
  }
  const fromDossier = requests.filter((r) => !r.family && r.preregistration)
  if (fromDossier.length) await tx.populate(fromDossier, ['preregistration'])
  const result = new Map<number, { email: string; name: string }[]>()
  for (const request of requests) {
    if (request.family) {
      result.set(request.id, byFamily.get(request.family.id) ?? [])
      continue
    }
    const dossier = request.preregistration
    if (!dossier || !plainAddress.test(dossier.email)) continue
    const guardian = dossier.guardians[0] ?? {}
    result.set(request.id, [
      {
        email: dossier.email,
        name: fullName({ firstName: guardian.firstName ?? '', lastName: guardian.lastName ?? '' }),
      },
    ])
  }
  return result
}

/** Offers an item's free seats to the next requests of its waiting list, in order. */
export async function offerNext(
  tx: Em,
  scope: PlacesScope,
  itemId: number,
  now = new Date(),
): Promise<number> {
  const item = await tx.findOne(OfferItem, { id: itemId })
  if (!item) return 0
  // in the queue of place changes even when called on its own (a no-op inside one already)
  await lockYear(tx, item.schoolYear.id)
  let offered = 0
  // in batches of the seats free: offering may release seats elsewhere, and here again through them
  for (;;) {
    const free = (await seatsLeft(tx, [item])).get(itemId) ?? 0
    if (free <= 0) break
    const next = await tx.find(
      PlaceRequest,
      { item: itemId, state: RequestState.waitlisted },
      { orderBy: { queueOrder: 'asc', id: 'asc' }, limit: free },
    )
    if (next.length === 0) break
    await offerAll(tx, scope, next, answerDeadline(scope.config, now), now)
    offered += next.length
  }
  return offered
}

/** What a family answered, or why the answer was refused. */
export type AnswerOutcome =
  | { done: 'accepted'; course: string | null }
  | { done: 'declined' }
  | { refused: 'notOffered' | 'late' }

/**
 * The family's answer to a seat offered. Accepting enrols the pupil in the item's course with the
 * most seats left (once the pupil exists: a pré-inscription's applicant is enrolled when staff
 * accept the dossier) and closes the pupil's other requests; declining gives the seat to the next
 * request at once. An answer after the deadline is refused: the seat has gone on.
 */
export async function answerOffer(
  tx: Em,
  actor: Actor | null,
  scope: PlacesScope,
  input: { request: number; answer: 'accept' | 'decline' },
  now = new Date(),
): Promise<AnswerOutcome> {
  const first = await tx.findOne(PlaceRequest, { id: input.request }, { populate: ['item'] })
  if (!first) return { refused: 'notOffered' }
  await lockYear(tx, first.item.schoolYear.id)
  const request = await tx.findOneOrFail(
    PlaceRequest,
    { id: input.request },
    { refresh: true, populate: ['item'] },
  )
  if (request.state !== RequestState.proposed) return { refused: 'notOffered' }
  if (request.answerBy && request.answerBy <= now) {
    await expireOverdue(tx, scope, now)
    return { refused: 'late' }
  }
  request.answeredAt = now
  const subject = { type: 'placeRequest', id: request.id }
  if (input.answer === 'decline') {
    request.state = RequestState.declined
    await tx.flush()
    if (actor) audit(tx, actor, { action: 'places.declined', subject, details: { item: request.item.id } })
    await offerNext(tx, scope, request.item.id, now)
    return { done: 'declined' }
  }
  request.state = RequestState.accepted
  const others = await tx.find(
    PlaceRequest,
    request.pupil
      ? { pupil: request.pupil, id: { $ne: request.id } }
      : { preregistration: request.preregistration, applicant: request.applicant, id: { $ne: request.id } },
  )
  const released: number[] = []
  for (const other of others) {
    if (other.state === RequestState.proposed) released.push(other.item.id)
    if (openStates.includes(other.state) || other.state === RequestState.proposed)
      other.state = RequestState.closed
  }
  const course = request.pupil ? await enrolInItem(tx, request.pupil.id, request.item) : null
  await tx.flush()
  if (actor)
    audit(tx, actor, {
      action: 'places.accepted',
      subject,
      details: { item: request.item.id, course: course?.id ?? null },
    })
  for (const item of released) await offerNext(tx, scope, item, now)
  return { done: 'accepted', course: course?.name ?? null }
}

/**
 * Enrols a pupil for an accepted seat: in the item's course with the most seats left (a course
 * without a capacity counts as roomy), reactivating an enrolment the pupil left.
 */
export async function enrolInItem(tx: Em, pupilId: number, item: OfferItem): Promise<Course | null> {
  if (item.courseIds.length === 0) return null
  const courses = await tx.find(Course, { id: { $in: item.courseIds }, closedAt: null })
  if (courses.length === 0) return null
  const counts = new Map<number, number>()
  for (const c of courses) counts.set(c.id, await tx.count(Enrolment, { course: c, active: true }))
  const room = (c: Course) => (c.capacity == null ? Number.MAX_SAFE_INTEGER : c.capacity - counts.get(c.id)!)
  const course = [...courses].sort((a, b) => room(b) - room(a) || a.id - b.id)[0]!
  const existing = await tx.findOne(Enrolment, { pupil: pupilId, course })
  if (existing) existing.active = true
  else tx.create(Enrolment, { pupil: tx.getReference(Pupil, pupilId), course, active: true })
  return course
}

/**
 * Offers past their deadline: "expirée", and the seat goes to the next request. Run by the
 * periodic sweep, and before any answer so a late one finds the seat gone.
 */
export async function expireOverdue(tx: Em, scope: PlacesScope, now = new Date()): Promise<number> {
  const due = { state: RequestState.proposed, answerBy: { $lte: now } }
  const candidates = await tx.find(PlaceRequest, due, { populate: ['item'] })
  if (candidates.length === 0) return 0
  // read again under the lock of their years: an answer committed meanwhile is not expired
  const years = [...new Set(candidates.map((r) => r.item.schoolYear.id))].sort((a, b) => a - b)
  for (const year of years) await lockYear(tx, year)
  const overdue = await tx.find(PlaceRequest, due, { refresh: true })
  if (overdue.length === 0) return 0
  const items = new Set<number>()
  for (const request of overdue) {
    request.state = RequestState.expired
    items.add(request.item.id)
  }
  await tx.flush()
  for (const item of items) await offerNext(tx, scope, item, now)
  return overdue.length
}

/** Where a waiting request stands: its position among the item's waiting list, and the item's seats. */
export async function waitingPosition(db: Em, request: Pick<PlaceRequest, 'item' | 'queueOrder' | 'id'>) {
  const ahead = await db.count(PlaceRequest, {
    item: request.item,
    state: RequestState.waitlisted,
    $or: [
      { queueOrder: { $lt: request.queueOrder ?? 0 } },
      { queueOrder: request.queueOrder ?? 0, id: { $lt: request.id } },
    ],
  })
  return ahead + 1
}
