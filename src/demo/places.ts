import { slotsOfText } from '../features/backoffice-courses/slots.ts'
import { Guardian } from '../features/family/entities.ts'
import { OfferItem, PlaceRequest, RequestState } from '../features/places/entities.ts'
import {
  answerOffer,
  applicantKey,
  changeProposal,
  confirmAllocation,
  isEligible,
  offerYear,
  proposeAllocation,
} from '../features/places/service.ts'
import { Preregistration } from '../features/preregistration/entities.ts'
import { Pupil } from '../features/pupils/entities.ts'
import { Reenrolment } from '../features/reenrolment/entities.ts'
import { nextLabel, shifted } from '../features/school-year/service.ts'
import { Course, SchoolYear } from '../features/teaching/entities.ts'
import type { Actor } from '../platform/auth/context.ts'
import { Account } from '../platform/auth/entities.ts'
import type { Em, Orm } from '../platform/db/orm.ts'
import { schemaFor } from '../platform/tenancy/registry.ts'
import type { TenantConfig } from '../platform/tenancy/tenant-config.ts'
import { random } from './random.ts'

/** Next year as staff prepare it on /admin/annee: its row, and a copy of this year's open courses. */
async function prepareNextYear(em: Em, config: TenantConfig, current: SchoolYear): Promise<SchoolYear> {
  const existing = await offerYear(em)
  if (existing && (await em.count(Course, { schoolYear: existing })) > 0) return existing
  const label = nextLabel(current, config)
  const years = Number(label.slice(0, 4)) - Number(current.label.slice(0, 4))
  const year =
    existing ??
    em.create(SchoolYear, {
      label,
      startsOn: shifted(current.startsOn, years),
      endsOn: shifted(current.endsOn, years),
      current: false,
    })
  const courses = await em.find(Course, { schoolYear: current, closedAt: null }, { orderBy: { id: 'asc' } })
  for (const course of courses)
    em.create(Course, {
      schoolYear: year,
      discipline: course.discipline,
      establishment: course.establishment,
      name: course.name,
      cycle: course.cycle,
      teacher: course.teacher,
      slot: course.slot,
      slots: course.slots.map((s) => ({ ...s })),
      room: course.room,
      capacity: course.capacity,
      copiedFromId: course.id,
    })
  await em.flush()
  return year
}

interface ItemPlan {
  label: string
  discipline: string
  courses: Course[]
  seats: number
  minAge?: number
  maxAge?: number
  description: string
}

/** Ages an item takes, read from its discipline's code: éveil 5–6, children's dance 6–11, theatre 12–17. */
function agesOf(code: string): { minAge?: number; maxAge?: number } {
  if (/eveil/.test(code)) return { minAge: 5, maxAge: 6 }
  if (/danse-(enfant|classique)/.test(code)) return { minAge: 6, maxAge: 11 }
  if (/theatre|dramatique/.test(code)) return { minAge: 12, maxAge: 17 }
  return {}
}

// instruments make the offer's head (the group of beginners first); collective and adult courses stay out
const instrument = /piano|violon|alto|violoncelle|guitare|flute|clarinette|saxophone|trompette|batterie|harpe/
const outOfOffer = /formation-musicale|orchestre|choeur|chorale|adulte|bien-etre/

/**
 * Next year's offer of the demo: up to five items from next year's courses (a group of two courses for
 * the first instrument, "— débutant"), with fewer seats than requests so that waiting lists form.
 */
function planOffer(config: TenantConfig, courses: Course[], extra: Course | undefined): ItemPlan[] {
  const names = new Map((config.disciplines ?? []).map((d) => [d.code, d.name]))
  const byDiscipline = new Map<string, Course[]>()
  for (const c of courses) byDiscipline.set(c.discipline, [...(byDiscipline.get(c.discipline) ?? []), c])
  const score = (code: string) => (instrument.test(code) ? 0 : Object.keys(agesOf(code)).length ? 1 : 2)
  const ranked = [...byDiscipline.entries()]
    .filter(([code]) => !outOfOffer.test(code))
    .sort((a, b) => score(a[0]) - score(b[0]) || b[1].length - a[1].length || a[0].localeCompare(b[0]))
  // three instruments at most, then the shaped ones (éveil, danse, théâtre)
  const instruments = ranked.filter(([code]) => score(code) === 0).slice(0, 3)
  const chosen = [...instruments, ...ranked.filter(([code]) => score(code) !== 0)].slice(0, 5)
  return chosen.map(([code, courses], i) => {
    let list = courses
    const name = names.get(code) ?? list[0]!.name
    if (i === 0 && extra) list = [...list, extra]
    const group = i === 0 && list.length >= 2
    return {
      label: group ? `${name} — débutant` : /theatre|dramatique/.test(code) ? `${name} ados` : name,
      discipline: code,
      courses: group ? list.slice(0, 2) : list.slice(0, 1),
      seats: group ? 4 : 2 + (i % 2),
      ...agesOf(code),
      description: group
        ? `Deux groupes au choix de l’équipe : ${list
            .slice(0, 2)
            .map((c) => c.slot || c.name)
            .join(' ou ')}.`
        : `${list[0]!.name}${list[0]!.slot ? `, ${list[0]!.slot}` : ''}.`,
    }
  })
}

const actorOf = (account: Account): Actor => ({
  id: account.id,
  role: account.role,
  identifiant: account.identifiant,
  email: account.email,
  displayName: account.displayName,
})

/**
 * Places of the demo: next year prepared (its courses copied) when it is not, an offer of four or
 * five items published, requests of this year's pupils (a first and a second choice for some, linked to
 * their re-enrolment for next year when there is one) and of the confirmed pré-inscriptions; one
 * allocation confirmed (seats offered with their deadline, waiting lists, one seat accepted, one
 * declined), and a proposal awaiting confirmation for the item published after it. demo-famille's
 * first pupil has a seat offered, the second is on a waiting list. Idempotent: a tenant with an
 * offer is left as is. Runs after seedDemoAccounts (demo-secretariat acts).
 */
/** Thrown to undo a demo answer whose cascade would offer demo-famille's waiting pupil a seat. */
class CascadeReachedDemoFamily extends Error {}

export async function seedDemoPlaces(
  orm: Orm,
  configs: TenantConfig[],
  baseUrlOf: (config: TenantConfig) => string,
  now = new Date(),
) {
  for (const config of configs) {
    const em = orm.em.fork({ schema: schemaFor(config.slug) })
    if (await em.count(OfferItem)) continue
    const current = await em.findOne(SchoolYear, { current: true })
    const staff = await em.findOne(Account, { identifiant: 'demo-secretariat' })
    if (!current || !staff) continue
    await seedTenant(em, config, current, actorOf(staff), baseUrlOf(config), now)
  }
}

async function seedTenant(
  em: Em,
  config: TenantConfig,
  current: SchoolYear,
  actor: Actor,
  baseUrl: string,
  now: Date,
) {
  const rng = random(`${config.slug}/places`)
  const year = await prepareNextYear(em, config, current)
  const courses = await em.find(Course, { schoolYear: year, closedAt: null }, { orderBy: { id: 'asc' } })
  const plans = planOffer(config, courses, undefined)
  // next year opens a second beginners' group in the most asked discipline, so its item groups two courses
  const model = plans[0]?.courses[0]
  if (model && plans[0]!.courses.length < 2) {
    const extra = em.create(Course, {
      schoolYear: year,
      discipline: model.discipline,
      establishment: model.establishment,
      name: `${model.name} — groupe 2`,
      cycle: model.cycle,
      teacher: model.teacher,
      slot: 'Samedi 10h00 – 11h00',
      slots: slotsOfText('Samedi 10h00 – 11h00'),
      room: model.room,
      capacity: model.capacity,
    })
    await em.flush()
    plans.splice(0, plans.length, ...planOffer(config, courses, extra))
  }
  if (plans.length < 2) return
  const publishedAt = new Date(now.getTime() - 20 * 86_400_000)
  const items = plans.map((plan) =>
    em.create(OfferItem, {
      schoolYear: year,
      label: plan.label,
      discipline: plan.discipline,
      courseIds: plan.courses.map((c) => c.id),
      seats: plan.seats,
      minAge: plan.minAge ?? null,
      maxAge: plan.maxAge ?? null,
      levels: [],
      accepts: 'both',
      description: plan.description,
      publishedAt,
    }),
  )
  // one open to every age is published after the first allocation: its proposal waits for confirmation
  const later = items.slice(1).find((i) => i.minAge == null && i.maxAge == null) ?? items.at(-1)!
  later.publishedAt = null
  await em.flush()

  const family = await em.findOne(Guardian, { account: { identifiant: 'demo-famille' } })
  const pupils = await em.find(Pupil, { family: { archivedAt: null } }, { orderBy: { id: 'asc' } })
  const reenrolments = new Map(
    (await em.find(Reenrolment, { schoolYear: year.label })).map((r) => [r.pupil.id, r]),
  )
  const eligible = (item: OfferItem, birthDate: string | null, kind: 'reenrolment' | 'preregistration') =>
    isEligible(item, { kind, birthDate, levels: [] }, year.label)
  // requests come in over the days after the offer was published
  const sentAt = (hours: number) =>
    new Date(publishedAt.getTime() + hours * 3_600_000 + rng.int(0, 3_599) * 1000)
  const ask = (pupil: Pupil, item: OfferItem, rank: number, at: Date): PlaceRequest =>
    em.create(PlaceRequest, {
      item,
      source: 'reenrolment',
      pupil,
      family: pupil.family,
      reenrolment: reenrolments.get(pupil.id) ?? null,
      name: `${pupil.firstName} ${pupil.lastName}`,
      rank,
      requestedAt: at,
    })

  const [first] = items
  const demoPupils = family ? pupils.filter((p) => p.family.id === family.family.id) : []
  const others = pupils.filter((p) => !demoPupils.includes(p))
  const deck = rng.deck(others)
  const asking = Math.min(others.length, 30)
  const early = items.filter((i) => i !== later)
  for (let n = 0; n < asking; n++) {
    const pupil = deck()
    const choices = early.filter((i) => eligible(i, pupil.birthDate ?? null, 'reenrolment'))
    if (choices.length === 0) continue
    // the group item is the popular one: half the pupils ask for it first
    const one = n % 2 === 0 && choices.includes(first!) ? first! : choices[rng.int(0, choices.length - 1)]!
    const at = sentAt(2 + n * 5)
    ask(pupil, one, 1, at)
    const rest = choices.filter((i) => i !== one)
    const secondChoice = rest.length > 0 && rng.next() < 0.75
    if (secondChoice) ask(pupil, rest[rng.int(0, rest.length - 1)]!, 2, at)
    // the item published later has its own requests, for its proposal
    if (n % 2 === 1 && eligible(later, pupil.birthDate ?? null, 'reenrolment'))
      ask(pupil, later, secondChoice ? 3 : 2, at)
  }
  // demo-famille: the first pupil asks for another item than the group, the second for the crowded group, late
  const [mine, sibling] = demoPupils
  const mineItem =
    mine && (early.find((i) => i !== first && eligible(i, mine.birthDate ?? null, 'reenrolment')) ?? first!)
  const mineRequest = mine && mineItem ? ask(mine, mineItem, 1, sentAt(1)) : undefined
  const siblingRequest = sibling ? ask(sibling, first!, 1, sentAt(24 * 12)) : undefined
  // the confirmed pré-inscriptions' applicants ask too
  const dossiers = await em.find(Preregistration, { status: 'confirmed' }, { orderBy: { id: 'asc' } })
  for (const dossier of dossiers) {
    dossier.applicants.forEach((applicant, index) => {
      const values = applicant.values as Record<string, string | null | undefined>
      const wanted = early.filter((i) => eligible(i, values.birthDate ?? null, 'preregistration')).slice(0, 2)
      if (!values.firstName) return
      wanted.forEach((item, rank) => {
        em.create(PlaceRequest, {
          item,
          source: 'preregistration',
          preregistration: dossier,
          applicant: index,
          name: `${values.firstName} ${values.lastName ?? ''}`.trim(),
          rank: rank + 1,
          requestedAt: dossier.confirmedAt ?? now,
        })
      })
    })
  }
  await em.flush()

  const scope = { config, locale: config.locale, baseUrl }
  const reason = 'Démonstration : ajustement de la direction après la commission'
  await em.transactional(async (tx) => {
    const proposal = await proposeAllocation(tx, actor, {
      year,
      config,
      item: null,
      seed: `${config.slug}-demo`,
    })
    // demo-famille always finds a seat offered to one pupil and the other on a waiting list
    const placed = (id?: number) => proposal.placements.some((p) => p.request === id)
    if (mineRequest && !placed(mineRequest.id))
      await changeProposal(tx, actor, {
        allocation: proposal.id,
        action: 'give',
        request: mineRequest.id,
        reason,
      })
    if (siblingRequest && placed(siblingRequest.id)) {
      await changeProposal(tx, actor, {
        allocation: proposal.id,
        action: 'remove',
        request: siblingRequest.id,
        reason,
      })
      // the seat taken back goes to the next request in the rules' order, not left empty
      const order = proposal.order[String(siblingRequest.item.id)] ?? []
      const keyOf = (r: PlaceRequest) =>
        applicantKey({ pupilId: r.pupil?.id, dossierId: r.preregistration?.id, applicant: r.applicant })
      const seated = await tx.find(PlaceRequest, { id: { $in: proposal.placements.map((p) => p.request) } })
      const seatedApplicants = new Set(seated.map(keyOf))
      const candidates = await tx.find(PlaceRequest, { id: { $in: order } })
      const next = order.find((id) => {
        const r = candidates.find((c) => c.id === id)
        return r && id !== siblingRequest.id && !placed(id) && !seatedApplicants.has(keyOf(r))
      })
      if (next !== undefined)
        await changeProposal(tx, actor, { allocation: proposal.id, action: 'give', request: next, reason })
    }
    await confirmAllocation(tx, actor, scope, proposal.id, now)
  })
  // two families answered: one seat accepted, one declined (its seat went on to the waiting list)
  const offered = await em.find(
    PlaceRequest,
    { state: RequestState.proposed, family: { $ne: family?.family.id ?? 0 } },
    { orderBy: { id: 'asc' } },
  )
  // An answer frees seats the next requests are offered, in cascade: one that would reach
  // demo-famille's pupil waiting on the group item is undone and another family answers instead.
  const siblingState = async (x: Em) =>
    siblingRequest &&
    (await x.findOneOrFail(PlaceRequest, { id: siblingRequest.id }, { refresh: true })).state
  const confirmedState = await siblingState(em.fork())
  const stillWaiting = async (tx: Em) => (await siblingState(tx)) === confirmedState
  const answered = new Set<number>()
  for (const answer of ['decline', 'accept'] as const) {
    // declined away from the group item, whose waiting list holds demo-famille's second pupil
    const candidates = offered.filter(
      (r) => !answered.has(r.id) && (answer === 'accept' || r.item.id !== first!.id),
    )
    for (const request of candidates) {
      const kept = await em
        .transactional(async (tx) => {
          await answerOffer(tx, null, scope, { request: request.id, answer }, now)
          if (!(await stillWaiting(tx))) throw new CascadeReachedDemoFamily()
          return true
        })
        .catch((error: unknown) => {
          if (error instanceof CascadeReachedDemoFamily) return false
          throw error
        })
      if (kept) {
        answered.add(request.id)
        break
      }
    }
  }
  // the item published since: its proposal waits for staff
  later.publishedAt = new Date(now.getTime() - 86_400_000)
  await em.flush()
  await em.transactional((tx) =>
    proposeAllocation(tx, actor, { year, config, item: later.id, seed: `${config.slug}-demo-2` }),
  )
}
