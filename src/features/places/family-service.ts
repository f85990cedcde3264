import type { Kysely } from 'kysely'
import { jsonArrayFrom } from 'kysely/helpers/postgres'
import { type TenantDb, tenantDb } from '../../entities.ts'
import type { Em } from '../../platform/db/orm.ts'
import { prepare, type Reader } from '../../platform/db/reads.ts'
import type { FieldErrors } from '../../platform/forms.ts'
import type { TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import { formatDate } from '../../platform/views/dates.ts'
import type { MessageKey, Translate } from '../../platform/views/i18n.ts'
import type { FamilyRef } from '../family/service.ts'
import { OfferItem, PlaceRequest, RequestState } from './entities.ts'
import { rulesInWords } from './rules.ts'
import { isEligible, offerYear, openStates, waitingPosition } from './service.ts'

/*
 * The family's side of the places: the offer a pupil may ask for when re-enrolling or an applicant
 * when pré-inscrit, the ranked requests they make, and where each request stands.
 */

/** How many ranked choices a family may make for one pupil. */
export const choiceCount = 3

/** A published item of next year's offer, as a family's choice list shows it. */
export interface OfferChoice {
  id: number
  label: string
  discipline: string
  accepts: OfferItem['accepts']
  minAge: number | null
  maxAge: number | null
  levels: string[]
}

/** Next year's published offer (empty before staff prepare next year or publish an item), with the year's label. */
export async function publishedOffer(em: Em): Promise<{ schoolYear: string; items: OfferChoice[] }> {
  const year = await offerYear(em)
  if (!year) return { schoolYear: '', items: [] }
  const items = await em.find(
    OfferItem,
    { schoolYear: year, publishedAt: { $ne: null } },
    { orderBy: { label: 'asc', id: 'asc' } },
  )
  return {
    schoolYear: year.label,
    items: items.map((i) => ({
      id: i.id,
      label: i.label,
      discipline: i.discipline,
      accepts: i.accepts,
      minAge: i.minAge ?? null,
      maxAge: i.maxAge ?? null,
      levels: i.levels,
    })),
  }
}

/**
 * The items a re-enrolled pupil may ask for: eligible by age and by this year's levels, without the
 * disciplines the pupil keeps (a pupil keeping the piano does not ask for a piano seat).
 */
export function reenrolmentChoices(
  offer: { schoolYear: string; items: readonly OfferChoice[] },
  pupil: { birthDate: string | null },
  courses: readonly { discipline: string; cycle?: string | null; kept: boolean }[],
): OfferChoice[] {
  const levels = courses.flatMap((c) => (c.cycle ? [c.cycle] : []))
  const kept = new Set(courses.filter((c) => c.kept).map((c) => c.discipline))
  return offer.items.filter(
    (item) =>
      !kept.has(item.discipline) &&
      isEligible(item, { kind: 'reenrolment', birthDate: pupil.birthDate, levels }, offer.schoolYear),
  )
}

/** The items a pré-inscription's applicant may ask for, by age from the birth date typed. */
export function preregistrationChoices(
  offer: { schoolYear: string; items: readonly OfferChoice[] },
  birthDate: string | null,
): OfferChoice[] {
  return offer.items.filter((item) =>
    isEligible(item, { kind: 'preregistration', birthDate, levels: [] }, offer.schoolYear),
  )
}

/** Whether the tenant's published offer takes pré-inscriptions at all. */
export function offerTakesPreregistrations(offer: { items: readonly OfferChoice[] }): boolean {
  return offer.items.some((i) => i.accepts !== 'reenrolment')
}

/**
 * The ranked choices posted as `<prefix>1` … `<prefix>3`: item ids in rank order, an empty list
 * being no request. A choice made twice, or an item the applicant may not ask for, is refused
 * beside its field.
 */
export function checkChoices(
  input: Record<string, string | undefined>,
  prefix: string,
  allowed: readonly { id: number; label: string }[],
  t: Translate,
): { requests: number[]; errors: FieldErrors } {
  const errors: FieldErrors = {}
  const requests: number[] = []
  const seen = new Map<number, number>()
  for (let rank = 1; rank <= choiceCount; rank++) {
    const field = `${prefix}${rank}`
    const raw = (input[field] ?? '').trim()
    if (!raw) continue
    const id = Number(raw)
    if (!Number.isInteger(id) || !allowed.some((a) => a.id === id)) {
      errors[field] = t('places.family.error.notEligible')
      continue
    }
    const earlier = seen.get(id)
    if (earlier !== undefined) {
      errors[field] = t('places.family.error.twice', { rank: earlier })
      continue
    }
    seen.set(id, rank)
    requests.push(id)
  }
  return { requests, errors }
}

/** The choice lists of a form: each field with its options and what is chosen. */
export function choiceFields(
  prefix: string,
  allowed: readonly { id: number; label: string }[],
  chosen: (rank: number) => string,
  t: Translate,
) {
  return Array.from({ length: choiceCount }, (_, i) => ({
    rank: i + 1,
    name: `${prefix}${i + 1}`,
    label: t('places.family.choice', { rank: i + 1 }),
    value: chosen(i + 1),
    options: allowed.map((a) => ({ value: String(a.id), label: a.label })),
  }))
}

const labelsRead = prepare((db: Kysely<TenantDb>, p: { ids: number[] }) =>
  db
    .selectFrom('offer_item')
    .select(['id', 'label'])
    .where('id', 'in', p.ids.length ? p.ids : [0]),
)

/** The labels of offer items, by id: the summary lines of requests. */
export async function offerLabels(db: Reader, ids: readonly number[]): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map()
  const rows = await labelsRead.all(db, { ids: [...ids] })
  return new Map(rows.map((r) => [r.id, r.label]))
}

/** "Demande 1 : Piano — débutant", one line per request, as the summaries show them. */
export function requestLines(
  requests: readonly number[] | undefined,
  labels: ReadonlyMap<number, string>,
  t: Translate,
): { label: string; value: string }[] {
  return (requests ?? []).flatMap((id, i) => {
    const label = labels.get(id)
    return label ? [{ label: t('places.family.requestLine', { rank: i + 1 }), value: label }] : []
  })
}

export const stateWords: Record<RequestState, MessageKey> = {
  waiting: 'places.family.state.waiting',
  proposed: 'places.family.state.proposed',
  accepted: 'places.family.state.accepted',
  declined: 'places.family.state.declined',
  expired: 'places.family.state.expired',
  waitlisted: 'places.family.state.waitlisted',
  closed: 'places.family.state.closed',
  withdrawn: 'places.family.state.withdrawn',
}

/**
 * Requests as the family reads them: the item, the rank, the state in words, the deadline of a seat
 * offered and the position on a waiting list. Only the family's own requests, never another name.
 */
export async function requestsView(
  em: Em,
  config: TenantConfig,
  t: Translate,
  where: { pupil: number } | { preregistration: number },
) {
  const rows = await em.find(PlaceRequest, where, {
    populate: ['item'],
    orderBy: { applicant: 'asc', rank: 'asc', id: 'asc' },
    // read after an answer, in the page's own EntityManager
    refresh: true,
  })
  const requests = []
  for (const r of rows) {
    const proposed = r.state === RequestState.proposed
    requests.push({
      id: r.id,
      name: r.name,
      applicant: r.applicant ?? null,
      course: r.item.label,
      rank: r.rank,
      state: r.state,
      stateLabel: proposed
        ? t('places.family.state.proposedUntil', {
            date: r.answerBy ? formatDate(r.answerBy, config.timezone) : '—',
          })
        : t(stateWords[r.state as RequestState]),
      proposed,
      waiting: r.state === RequestState.waitlisted,
      position:
        r.state === RequestState.waitlisted
          ? t('places.family.position', { position: await waitingPosition(em, r), seats: r.item.seats })
          : null,
    })
  }
  return { requests, rules: requests.length ? rulesInWords(config, t) : [] }
}

/**
 * Seats awaiting the family's answer, as a subquery: the notice of the family's home page.
 */
export function seatsToAnswerOf(family: FamilyRef) {
  return jsonArrayFrom(
    tenantDb
      .selectFrom('place_request as r')
      .innerJoin('pupil as p', 'p.id', 'r.pupil_id')
      .select(['r.id', 'r.pupil_id as pupilId', 'p.first_name as firstName', 'r.answer_by as answerBy'])
      .where('p.family_id', '=', family)
      .where('r.state', '=', RequestState.proposed)
      .orderBy('r.answer_by'),
  )
}

/** A refused re-enrolment or dossier takes its requests still open with it. */
export async function withdrawRequests(
  tx: Em,
  where: { reenrolment: number } | { preregistration: number },
): Promise<number> {
  return tx.nativeUpdate(
    PlaceRequest,
    { ...where, state: { $in: openStates as RequestState[] } },
    { state: RequestState.withdrawn },
  )
}

/** Next year's published items open to pré-inscriptions: the pré-inscription's choice lists. */
export async function preregistrationOffer(em: Em) {
  const offer = await publishedOffer(em)
  return { ...offer, items: offer.items.filter((i) => i.accepts !== 'reenrolment') }
}
