import type { Kysely } from 'kysely'
import type { TenantDb } from '../../entities.ts'
import { audit } from '../../platform/audit/audit.ts'
import type { SignedInContext } from '../../platform/auth/context.ts'
import { spreadsheetCsv } from '../../platform/csv.ts'
import type { Em } from '../../platform/db/orm.ts'
import { prepare, type Reader } from '../../platform/db/reads.ts'
import { type Checked, type FieldErrors, refusals } from '../../platform/forms.ts'
import { formatDate } from '../../platform/views/dates.ts'
import type { Translate } from '../../platform/views/i18n.ts'
import { SchoolYear } from '../teaching/entities.ts'
import { priorityOrder, type PriorityRule } from './allocate.ts'
import {
  Allocation,
  AllocationStatus,
  OfferItem,
  PlaceRequest,
  type PriorityFacts,
  RequestState,
  type RequestKind,
  requestKinds,
} from './entities.ts'
import { holdingStates, lockYear, offerYear, type PlaceRefusal, requestFacts } from './service.ts'

/*
 * The staff's side of next year's offer: its items, the demand read per item, the allocations with
 * their changes by hand, and the journal. Every change of seats goes through service.ts under the
 * year's lock; what this file writes itself (an item, a proposal abandoned) takes the same lock.
 */

/** Next year's open courses, with the seats their capacity leaves once this year's copies are enrolled. */
const coursesRead = prepare((db: Kysely<TenantDb>, p: { yearId: number }) =>
  db
    .selectFrom('course as c')
    .leftJoin('teacher as t', 't.id', 'c.teacher_id')
    .select([
      'c.id',
      'c.name',
      'c.discipline',
      'c.cycle',
      'c.slot',
      'c.capacity',
      't.first_name as teacherFirst',
      't.last_name as teacherLast',
    ])
    .select((eb) =>
      eb
        .selectFrom('enrolment as e')
        .select((inner) => inner.cast<number>(inner.fn.countAll(), 'integer').as('n'))
        .whereRef('e.course_id', '=', 'c.id')
        .where('e.active', '=', true)
        .as('enrolled'),
    )
    .where('c.school_year_id', '=', p.yearId)
    .where('c.closed_at', 'is', null)
    .orderBy('c.name')
    .orderBy('c.id'),
)

export interface NextCourse {
  id: number
  name: string
  discipline: string
  detail: string
  /** Seats its capacity leaves; null for a course without a capacity. */
  free: number | null
}

export async function nextYearCourses(db: Reader, yearId: number): Promise<NextCourse[]> {
  const rows = await coursesRead.all(db, { yearId })
  return rows.map((c) => ({
    id: c.id,
    name: c.name,
    discipline: c.discipline,
    detail: [
      c.teacherLast ? `${c.teacherFirst ?? ''} ${c.teacherLast}`.trim() : '',
      c.slot ?? '',
      c.cycle ?? '',
    ]
      .filter(Boolean)
      .join(', '),
    free: c.capacity == null ? null : Math.max(0, c.capacity - (c.enrolled ?? 0)),
  }))
}

const itemsRead = prepare((db: Kysely<TenantDb>, p: { yearId: number }) =>
  db
    .selectFrom('offer_item as i')
    .select([
      'i.id',
      'i.label',
      'i.discipline',
      'i.course_ids as courseIds',
      'i.seats',
      'i.min_age as minAge',
      'i.max_age as maxAge',
      'i.levels',
      'i.accepts',
      'i.description',
      'i.published_at as publishedAt',
    ])
    .where('i.school_year_id', '=', p.yearId)
    .orderBy('i.label')
    .orderBy('i.id'),
)

const countsRead = prepare((db: Kysely<TenantDb>, p: { yearId: number }) =>
  db
    .selectFrom('place_request as r')
    .innerJoin('offer_item as i', 'i.id', 'r.item_id')
    .select(['r.item_id as item', 'r.state', 'r.rank'])
    .select((eb) => eb.cast<number>(eb.fn.countAll(), 'integer').as('n'))
    .where('i.school_year_id', '=', p.yearId)
    .groupBy(['r.item_id', 'r.state', 'r.rank']),
)

export type ItemRow = NonNullable<Awaited<ReturnType<typeof itemsRead.first>>>

export interface ItemFigures {
  /** Requests by the rank the family gave the item: [rank 1, rank 2, …]. */
  byRank: number[]
  total: number
  waiting: number
  proposed: number
  accepted: number
  waitlisted: number
  seatsLeft: number
}

/** Next year's items, each with its demand: requests by rank, by state, and the seats left. */
export async function itemsWithFigures(db: Reader, yearId: number) {
  const [items, counts] = await Promise.all([itemsRead.all(db, { yearId }), countsRead.all(db, { yearId })])
  return items.map((item) => {
    const figures: ItemFigures = {
      byRank: [],
      total: 0,
      waiting: 0,
      proposed: 0,
      accepted: 0,
      waitlisted: 0,
      seatsLeft: 0,
    }
    for (const c of counts) {
      if (c.item !== item.id) continue
      const n = c.n ?? 0
      figures.total += n
      while (figures.byRank.length < c.rank) figures.byRank.push(0)
      figures.byRank[c.rank - 1]! += n
      if (c.state === RequestState.waiting) figures.waiting += n
      if (c.state === RequestState.proposed) figures.proposed += n
      if (c.state === RequestState.accepted) figures.accepted += n
      if (c.state === RequestState.waitlisted) figures.waitlisted += n
    }
    figures.seatsLeft = Math.max(0, item.seats - figures.proposed - figures.accepted)
    return { ...item, figures }
  })
}

/** What the item form sends: text as typed, and a `course-<id>` box per course ticked. */
export interface ItemInput {
  label?: string
  discipline?: string
  seats?: string
  minAge?: string
  maxAge?: string
  levels?: string
  accepts?: string
  description?: string
  [course: `course-${number}`]: string | undefined
}

export interface ItemValues {
  label: string
  discipline: string
  courseIds: number[]
  seats: number
  minAge: number | null
  maxAge: number | null
  levels: string[]
  accepts: RequestKind
  description: string | null
}

const wholeNumber = /^\d{1,4}$/

/** Reads the item form: French messages beside the fields, nothing thrown. */
export function checkItem(
  input: ItemInput,
  ctx: Pick<SignedInContext, 'config' | 't'>,
  courses: readonly NextCourse[],
): Checked<ItemValues> {
  const { t } = ctx
  const errors: FieldErrors = {}
  const label = (input.label ?? '').trim()
  if (!label) errors.label = t('places.staff.error.label')
  else if (label.length > 120) errors.label = t('places.staff.error.labelLong')
  const discipline = (input.discipline ?? '').trim()
  const disciplines = ctx.config.disciplines ?? []
  if (!discipline) errors.discipline = t('places.staff.error.discipline')
  else if (disciplines.length && !disciplines.some((d) => d.code === discipline))
    errors.discipline = t('places.staff.error.discipline')
  const chosen = courses.filter((c) => input[`course-${c.id}`])
  if (chosen.length === 0) errors.courses = t('places.staff.error.courses')
  const seatsText = (input.seats ?? '').trim()
  let seats = 0
  if (seatsText) {
    seats = wholeNumber.test(seatsText) ? Number(seatsText) : 0
    if (seats < 1 || seats > 999) errors.seats = t('places.staff.error.seats')
  } else if (chosen.length) {
    // left empty: the free seats of the courses chosen, when each has a capacity
    if (chosen.some((c) => c.free == null)) errors.seats = t('places.staff.error.seatsUnknown')
    else {
      seats = chosen.reduce((sum, c) => sum + (c.free ?? 0), 0)
      if (seats < 1) errors.seats = t('places.staff.error.seatsNone')
    }
  } else errors.seats = t('places.staff.error.seats')
  const age = (field: 'minAge' | 'maxAge') => {
    const text = (input[field] ?? '').trim()
    if (!text) return null
    const value = wholeNumber.test(text) ? Number(text) : -1
    if (value < 2 || value > 99) {
      errors[field] = t('places.staff.error.age')
      return null
    }
    return value
  }
  const minAge = age('minAge')
  const maxAge = age('maxAge')
  if (minAge != null && maxAge != null && minAge > maxAge) errors.maxAge = t('places.staff.error.ages')
  const levels = [
    ...new Set(
      (input.levels ?? '')
        .split(',')
        .map((l) => l.trim())
        .filter(Boolean),
    ),
  ]
  if (levels.some((l) => l.length > 40) || levels.length > 30) errors.levels = t('places.staff.error.levels')
  const accepts = (requestKinds as readonly string[]).includes(input.accepts ?? '')
    ? (input.accepts as RequestKind)
    : undefined
  if (!accepts) errors.accepts = t('places.staff.error.accepts')
  const description = (input.description ?? '').trim()
  if (description.length > 2000) errors.description = t('places.staff.error.description')
  return {
    values: {
      label,
      discipline,
      courseIds: chosen.map((c) => c.id),
      seats,
      minAge,
      maxAge,
      levels,
      accepts: accepts ?? 'both',
      description: description || null,
    },
    errors: refusals(errors),
  }
}

/** The item of next year with this id, or null (another year's, or none). */
export async function itemOfYear(em: Em, year: SchoolYear, id: number): Promise<OfferItem | null> {
  return em.findOne(OfferItem, { id, schoolYear: year })
}

/**
 * Creates or changes an item under the year's lock: its seats may not go below the seats already
 * proposed or accepted (checked inside the lock, so an acceptance a moment before counts).
 */
export async function saveItem(
  ctx: SignedInContext,
  values: ItemValues,
  id?: number,
): Promise<{ errors?: FieldErrors; id?: number; notFound?: true }> {
  return ctx.em.transactional(async (tx) => {
    const year = await offerYear(tx)
    if (!year) return { notFound: true }
    await lockYear(tx, year.id)
    let item: OfferItem | null = null
    if (id !== undefined) {
      item = await itemOfYear(tx, year, id)
      if (!item) return { notFound: true }
      const taken = await tx.count(PlaceRequest, { item, state: { $in: holdingStates as RequestState[] } })
      if (values.seats < taken)
        return { errors: { seats: ctx.t('places.staff.error.seatsTaken', { n: taken }) } }
      const before = {
        label: item.label,
        seats: item.seats,
        courseIds: item.courseIds,
        minAge: item.minAge,
        maxAge: item.maxAge,
        levels: item.levels,
        accepts: item.accepts,
      }
      Object.assign(item, values)
      await tx.flush()
      audit(tx, ctx.account, {
        action: 'places.itemChanged',
        subject: { type: 'offerItem', id: item.id },
        details: { before, after: values },
      })
    } else {
      item = tx.create(OfferItem, { schoolYear: year, ...values, publishedAt: null })
      await tx.flush()
      audit(tx, ctx.account, {
        action: 'places.itemCreated',
        subject: { type: 'offerItem', id: item.id },
        details: { ...values },
      })
    }
    return { id: item.id }
  })
}

/** Publishes an item (families see it and may ask for it) or takes it back. */
export async function publishItem(ctx: SignedInContext, id: number, publish: boolean): Promise<boolean> {
  return ctx.em.transactional(async (tx) => {
    const year = await offerYear(tx)
    if (!year) return false
    await lockYear(tx, year.id)
    const item = await itemOfYear(tx, year, id)
    if (!item) return false
    if (Boolean(item.publishedAt) === publish) return true
    item.publishedAt = publish ? new Date() : null
    await tx.flush()
    audit(tx, ctx.account, {
      action: publish ? 'places.itemPublished' : 'places.itemUnpublished',
      subject: { type: 'offerItem', id: item.id },
      details: { label: item.label },
    })
    return true
  })
}

/** "Abandonner": a proposal not confirmed is set aside; nothing changed for families. */
export async function discardAllocation(ctx: SignedInContext, id: number): Promise<PlaceRefusal | undefined> {
  return ctx.em.transactional(async (tx) => {
    const year = await offerYear(tx)
    if (!year) return { refused: 'notProposed' }
    await lockYear(tx, year.id)
    const allocation = await tx.findOne(Allocation, { id, schoolYear: year }, { refresh: true })
    if (!allocation || allocation.status !== AllocationStatus.proposed) return { refused: 'notProposed' }
    allocation.status = AllocationStatus.discarded
    await tx.flush()
    audit(tx, ctx.account, {
      action: 'places.allocationDiscarded',
      subject: { type: 'allocation', id: allocation.id },
      details: { seed: allocation.seed, changes: allocation.changes.length },
    })
    return undefined
  })
}

/** The facts a request was ordered by, in words: "poursuit la discipline, fratrie, tirage 3fa2…". */
export function factsInWords(facts: PriorityFacts | null, t: Translate): string {
  if (!facts) return ''
  const words: string[] = []
  if (facts.continuing) words.push(t('places.staff.fact.continuing'))
  if (facts.resident) words.push(t('places.staff.fact.resident'))
  if (facts.sibling) words.push(t('places.staff.fact.sibling'))
  words.push(t(facts.reenrolment ? 'places.staff.fact.reenrolment' : 'places.staff.fact.preregistration'))
  if (facts.draw) words.push(t('places.staff.fact.draw', { draw: facts.draw }))
  return words.join(', ')
}

/** The latest allocation not abandoned that ordered this item: its order is the item's order. */
export async function lastAllocationOf(em: Em, year: SchoolYear, itemId: number) {
  const allocations = await em.find(
    Allocation,
    {
      schoolYear: year,
      status: { $ne: AllocationStatus.discarded },
      $or: [{ item: itemId }, { item: null }],
    },
    { orderBy: { id: 'desc' }, limit: 20 },
  )
  return allocations.find((a) => a.order[String(itemId)]) ?? null
}

export interface RequestLine {
  id: number
  name: string
  rank: number
  source: 'reenrolment' | 'preregistration'
  state: RequestState
  why: string
  requestedAt: Date
  answerBy: Date | null
  /** Its position on the item's waiting list, when on it. */
  position: number | null
}

/** Positions on an item's waiting list: its waitlisted requests by queue order, then id. */
function waitingPositions(requests: readonly PlaceRequest[]): Map<number, number> {
  const waiting = requests
    .filter((r) => r.state === RequestState.waitlisted)
    .sort((a, b) => (a.queueOrder ?? 0) - (b.queueOrder ?? 0) || a.id - b.id)
  return new Map(waiting.map((r, i) => [r.id, i + 1]))
}

/**
 * An item's requests in the order of its last allocation, or, before any, in the order the rules
 * would give them now (without a draw: its seed is drawn at the allocation).
 */
export async function itemRequests(ctx: SignedInContext, year: SchoolYear, item: OfferItem) {
  const requests = await ctx.em.find(PlaceRequest, { item }, { orderBy: { id: 'asc' } })
  const allocation = await lastAllocationOf(ctx.em, year, item.id)
  let order: number[]
  if (allocation) order = allocation.order[String(item.id)] ?? []
  else {
    const current = await ctx.em.findOne(SchoolYear, { current: true })
    const facts = current
      ? await requestFacts(
          ctx.em,
          ctx.config,
          requests.map((r) => r.id),
          current.id,
        )
      : []
    const rules = (ctx.config.places.rules as PriorityRule[]).filter((r) => r !== 'draw')
    order = facts.sort(priorityOrder(rules, new Map())).map((f) => f.id)
  }
  const at = new Map(order.map((id, i) => [id, i]))
  const sorted = [...requests].sort(
    (a, b) =>
      (at.get(a.id) ?? Number.MAX_SAFE_INTEGER) - (at.get(b.id) ?? Number.MAX_SAFE_INTEGER) || a.id - b.id,
  )
  const positions = waitingPositions(requests)
  const lines: RequestLine[] = sorted.map((r) => ({
    id: r.id,
    name: r.name,
    rank: r.rank,
    source: r.source,
    state: r.state,
    why: factsInWords(r.facts ?? null, ctx.t),
    requestedAt: r.requestedAt,
    answerBy: r.answerBy ?? null,
    position: positions.get(r.id) ?? null,
  }))
  const waitingList = lines
    .filter((l) => l.position != null)
    .sort((a, b) => (a.position ?? 0) - (b.position ?? 0))
  return { lines, waitingList, allocation }
}

/** An allocation of next year, as its page shows it: per item, the seats given, then the others in order. */
export async function allocationView(ctx: SignedInContext, year: SchoolYear, id: number) {
  const allocation = await ctx.em.findOne(
    Allocation,
    { id, schoolYear: year },
    { populate: ['createdBy', 'confirmedBy'] },
  )
  if (!allocation) return null
  const ids = Object.values(allocation.order).flat()
  const [requests, items] = await Promise.all([
    ctx.em.find(PlaceRequest, { id: { $in: ids } }),
    ctx.em.find(
      OfferItem,
      { id: { $in: Object.keys(allocation.order).map(Number) } },
      { orderBy: { label: 'asc' } },
    ),
  ])
  const byId = new Map(requests.map((r) => [r.id, r]))
  const placed = new Map(allocation.placements.map((p) => [p.request, p.item]))
  const computed = new Set(allocation.computed.map((p) => p.request))
  const line = (r: PlaceRequest) => ({
    id: r.id,
    name: r.name,
    rank: r.rank,
    source: r.source,
    state: r.state,
    why: factsInWords(r.facts ?? null, ctx.t),
    draw: r.facts?.draw ?? null,
    byHand: placed.has(r.id) !== computed.has(r.id),
  })
  const perItem = items.map((item) => {
    const order = (allocation.order[String(item.id)] ?? [])
      .map((rid) => byId.get(rid))
      .filter((r) => r != null)
    const given = order.filter((r) => placed.get(r.id) === item.id).map(line)
    const others = order
      .filter((r) => placed.get(r.id) !== item.id)
      .map((r, i) => ({ ...line(r), position: i + 1, elsewhere: placed.has(r.id) }))
    return { id: item.id, label: item.label, seats: item.seats, given, others }
  })
  const names = new Map(requests.map((r) => [r.id, r.name]))
  const labels = new Map(items.map((i) => [i.id, i.label]))
  const changes = allocation.changes.map((c) => ({
    ...c,
    name: names.get(c.request) ?? `#${c.request}`,
    itemLabel: labels.get(c.item) ?? `#${c.item}`,
  }))
  return { allocation, perItem, changes }
}

/** Next year's allocations, newest first. */
export async function allocationsOf(em: Em, year: SchoolYear) {
  return em.find(Allocation, { schoolYear: year }, { orderBy: { id: 'desc' }, limit: 30, populate: ['item'] })
}

/** The audited actions of places the journal names in words. */
const journalActions = [
  'itemCreated',
  'itemChanged',
  'itemPublished',
  'itemUnpublished',
  'allocationProposed',
  'allocationChanged',
  'allocationConfirmed',
  'allocationDiscarded',
  'accepted',
  'declined',
] as const

const journalRead = prepare((db: Kysely<TenantDb>) =>
  db
    .selectFrom('audit_event as a')
    .select([
      'a.id',
      'a.created_at as at',
      'a.actor_name as actorName',
      'a.action',
      'a.subject_type as subjectType',
      'a.subject_id as subjectId',
      'a.details',
    ])
    .where('a.action', 'like', 'places.%')
    .orderBy('a.id', 'desc')
    .limit(300),
)

/** The journal of the offer: items changed, proposals made, changed by hand, confirmed, abandoned; answers. */
export async function placesJournal(db: Reader, t: Translate) {
  const rows = await journalRead.all(db, {})
  return rows.map((row) => {
    const details = (row.details ?? {}) as Record<string, unknown>
    const changes = Array.isArray(details.changes)
      ? (details.changes as { action: string; request: number; reason: string }[]).map((c) => ({
          action: c.action,
          request: c.request,
          reason: c.reason,
        }))
      : []
    const action = row.action.slice('places.'.length)
    return {
      ...row,
      what: (journalActions as readonly string[]).includes(action)
        ? t(`places.staff.journal.action.${action as (typeof journalActions)[number]}`)
        : row.action,
      link:
        row.subjectType === 'allocation'
          ? `/admin/places/attributions/${row.subjectId}`
          : row.subjectType === 'offerItem'
            ? `/admin/places/${row.subjectId}`
            : null,
      label: typeof details.label === 'string' ? details.label : null,
      seed: typeof details.seed === 'string' ? details.seed : null,
      changes,
    }
  })
}

const csvRead = prepare((db: Kysely<TenantDb>, p: { yearId: number }) =>
  db
    .selectFrom('place_request as r')
    .innerJoin('offer_item as i', 'i.id', 'r.item_id')
    .select([
      'r.id',
      'i.id as itemId',
      'i.label',
      'r.rank',
      'r.name',
      'r.source',
      'r.state',
      'r.queue_order as queueOrder',
      'r.facts',
      'r.requested_at as requestedAt',
      'r.answer_by as answerBy',
    ])
    .where('i.school_year_id', '=', p.yearId)
    .orderBy('i.label')
    .orderBy('i.id')
    .orderBy('r.rank')
    .orderBy('r.id'),
)

/** One line a request: the spreadsheet of next year's demand. */
export async function placesCsv(ctx: SignedInContext, yearId: number): Promise<string> {
  const { t, config } = ctx
  const rows = await csvRead.all(ctx.db, { yearId })
  // waiting-list positions, per item, by queue order then id
  const waiting = rows
    .filter((r) => r.state === RequestState.waitlisted)
    .sort((a, b) => a.itemId - b.itemId || (a.queueOrder ?? 0) - (b.queueOrder ?? 0) || a.id - b.id)
  const positions = new Map<number, number>()
  let lastItem = -1
  let n = 0
  for (const r of waiting) {
    n = r.itemId === lastItem ? n + 1 : 1
    lastItem = r.itemId
    positions.set(r.id, n)
  }
  const when = (d: Date | string | null) => (d ? formatDate(new Date(d), config.timezone) : '')
  const header = [
    t('places.staff.csv.item'),
    t('places.staff.csv.rank'),
    t('places.staff.csv.name'),
    t('places.staff.csv.source'),
    t('places.staff.csv.state'),
    t('places.staff.csv.position'),
    t('places.staff.csv.facts'),
    t('places.staff.csv.requestedAt'),
    t('places.staff.csv.answerBy'),
  ]
  const lines = rows.map((r) => [
    r.label,
    String(r.rank),
    r.name,
    t(`places.staff.source.${r.source}`),
    t(`places.staff.state.${r.state}`),
    positions.has(r.id) ? String(positions.get(r.id)) : '',
    factsInWords((r.facts as PriorityFacts | null) ?? null, t),
    when(r.requestedAt),
    when(r.answerBy),
  ])
  return spreadsheetCsv([header, ...lines])
}

/** A refusal of the service, in French. */
export function refusalMessage(refusal: PlaceRefusal, t: Translate): string {
  return refusal.refused === 'full'
    ? t('places.staff.refused.full', { item: refusal.item })
    : t(`places.staff.refused.${refusal.refused}`)
}
