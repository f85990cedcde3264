import { defineEntity, type InferEntity, p } from '@mikro-orm/core'
import { Account } from '../../platform/auth/entities.ts'
import { TenantEntity } from '../../platform/db/base-entity.ts'
import { Family } from '../family/entities.ts'
import { Preregistration } from '../preregistration/entities.ts'
import { Pupil } from '../pupils/entities.ts'
import { Reenrolment } from '../reenrolment/entities.ts'
import { SchoolYear } from '../teaching/entities.ts'

/** Which requests an item of the offer takes: re-enrolments, pré-inscriptions, or both. */
export const requestKinds = ['reenrolment', 'preregistration', 'both'] as const
export type RequestKind = (typeof requestKinds)[number]

/**
 * One line of next year's offer: a course, or a group of courses such as "Piano — débutant", open to
 * new requests with a number of seats and conditions. Families see it once published; a seat given
 * enrols the pupil in the group's course with the most seats left.
 */
export const OfferItem = defineEntity({
  name: 'OfferItem',
  schema: '*',
  extends: TenantEntity,
  indexes: [{ properties: 'schoolYear' }],
  properties: {
    schoolYear: () => p.manyToOne(SchoolYear),
    /** What families read: "Piano — débutant", "Violon (Mme Durand, mercredi 14h)". */
    label: p.string().length(120),
    /** The discipline's code in the tenant's YAML: "continuing" requests are read against it. */
    discipline: p.string(),
    /** The year's courses a seat leads to: one course, or the courses of a group. */
    courseIds: p
      .json<number[]>()
      .defaultRaw("'[]'")
      .onCreate(() => []),
    seats: p.smallint(),
    /** Age on 31 December of the school year's first calendar year, as French conservatoires count it. */
    minAge: p.smallint().nullable(),
    maxAge: p.smallint().nullable(),
    /** Levels (this year's course cycles, such as "1C2") a re-enrolled pupil must have; empty for any. */
    levels: p
      .json<string[]>()
      .defaultRaw("'[]'")
      .onCreate(() => []),
    accepts: p.enum([...requestKinds]).default('both'),
    description: p.text().nullable(),
    /** Families see the item, and may ask for it, once published. */
    publishedAt: p.datetime().nullable(),
  },
})
export type OfferItem = InferEntity<typeof OfferItem>

export const RequestState = {
  /** Sent, not allocated yet: "en attente". */
  waiting: 'waiting',
  /** A seat is offered, to accept before `answerBy`: "place proposée". */
  proposed: 'proposed',
  accepted: 'accepted',
  declined: 'declined',
  /** The answer did not come before the deadline: the seat went to the next request. */
  expired: 'expired',
  /** Allocated without a seat: on the item's waiting list, in `queueOrder`. */
  waitlisted: 'waitlisted',
  /** Not needed any more: the pupil accepted another seat, or has a better-ranked one proposed. */
  closed: 'closed',
  /** Withdrawn with its re-enrolment or dossier (refused, declined, or withdrawn by the family). */
  withdrawn: 'withdrawn',
} as const
export type RequestState = (typeof RequestState)[keyof typeof RequestState]

/** The priority facts of a request, as the allocation that last ordered it read them. */
export interface PriorityFacts {
  continuing: boolean
  resident: boolean
  sibling: boolean
  reenrolment: boolean
  /** The draw's number for the allocation's seed, when the rules end with a draw. */
  draw?: string
}

/**
 * A family's request for a seat in an item of the offer, at a rank among the requests of the same
 * pupil (a re-enrolment) or applicant (a pré-inscription, whose pupil exists only once staff accept
 * the dossier). Ranked requests are alternatives: a pupil gets at most one seat among them.
 */
export const PlaceRequest = defineEntity({
  name: 'PlaceRequest',
  schema: '*',
  extends: TenantEntity,
  uniques: [{ properties: ['item', 'pupil'] }, { properties: ['item', 'preregistration', 'applicant'] }],
  indexes: [{ properties: ['item', 'state'] }, { properties: 'family' }, { properties: 'preregistration' }],
  properties: {
    item: () => p.manyToOne(OfferItem).deleteRule('cascade'),
    source: p.enum(['reenrolment', 'preregistration'] as const),
    pupil: () => p.manyToOne(Pupil).nullable().deleteRule('cascade'),
    family: () => p.manyToOne(Family).nullable().deleteRule('cascade'),
    reenrolment: () => p.manyToOne(Reenrolment).nullable().deleteRule('cascade'),
    preregistration: () => p.manyToOne(Preregistration).nullable().deleteRule('cascade'),
    /** The applicant's index in the dossier. */
    applicant: p.smallint().nullable(),
    /** The applicant's name as staff read it (the pupil's, or as typed in the dossier). */
    name: p.string(),
    /** 1 for the family's first choice. */
    rank: p.smallint(),
    requestedAt: p.datetime(),
    state: p.enum(Object.values(RequestState)).default(RequestState.waiting),
    /** Its place in the item's order at the last allocation confirmed: the waiting list's order. */
    queueOrder: p.integer().nullable(),
    facts: p.json<PriorityFacts>().nullable(),
    offeredAt: p.datetime().nullable(),
    answerBy: p.datetime().nullable(),
    answeredAt: p.datetime().nullable(),
    /** SHA-256 of the token of the answer link mailed to a pré-inscription's applicant. */
    tokenHash: p.string().length(64).nullable().unique(),
  },
})
export type PlaceRequest = InferEntity<typeof PlaceRequest>

/** One placement in an allocation: a request given a seat of its item. */
export interface Placement {
  request: number
  item: number
}

/** A change staff made by hand to a proposal, with their reason. */
export interface ManualChange {
  at: string
  by: string
  action: 'give' | 'remove'
  request: number
  item: number
  reason: string
}

export const AllocationStatus = {
  proposed: 'proposed',
  confirmed: 'confirmed',
  discarded: 'discarded',
} as const
export type AllocationStatus = (typeof AllocationStatus)[keyof typeof AllocationStatus]

/**
 * A run of the allocation for one item or all: the proposal computed from the tenant's rules and a
 * recorded seed, the changes staff made by hand, and its confirmation, which offers the seats.
 */
export const Allocation = defineEntity({
  name: 'Allocation',
  schema: '*',
  tableName: 'place_allocation',
  extends: TenantEntity,
  properties: {
    schoolYear: () => p.manyToOne(SchoolYear),
    /** The item allocated; null when every item was. */
    item: () => p.manyToOne(OfferItem).nullable().deleteRule('cascade'),
    /** The draw's seed, shown, so anyone can compute the draw again. */
    seed: p.string().length(64),
    /** The rules in force, in order. */
    rules: p.json<string[]>(),
    status: p.enum(Object.values(AllocationStatus)).default(AllocationStatus.proposed),
    /** Each item's candidates in priority order: the waiting list once confirmed. */
    order: p.json<Record<string, number[]>>(),
    /** The seats given, after the manual changes. */
    placements: p.json<Placement[]>(),
    /** The seats the rules gave, before any change by hand. */
    computed: p.json<Placement[]>(),
    changes: p
      .json<ManualChange[]>()
      .defaultRaw("'[]'")
      .onCreate(() => []),
    createdBy: () => p.manyToOne(Account).nullable().deleteRule('set null'),
    confirmedBy: () => p.manyToOne(Account).nullable().deleteRule('set null'),
    confirmedAt: p.datetime().nullable(),
  },
})
export type Allocation = InferEntity<typeof Allocation>
