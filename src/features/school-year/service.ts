import { LockMode } from '@mikro-orm/core'
import type { Expression, Kysely } from 'kysely'
import { jsonArrayFrom } from 'kysely/helpers/postgres'
import { type TenantDb, tenantDb } from '../../entities.ts'
import { audit } from '../../platform/audit/audit.ts'
import type { SignedInContext, TenantContext } from '../../platform/auth/context.ts'
import type { Em } from '../../platform/db/orm.ts'
import { prepare, type Reader } from '../../platform/db/reads.ts'
import { type FieldErrors, refusals } from '../../platform/forms.ts'
import type { TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import { fold, frenchOrder } from '../../platform/text.ts'
import { fullName } from '../family/service.ts'
import { Pupil } from '../pupils/entities.ts'
import { Reenrolment, ReenrolmentStatus } from '../reenrolment/entities.ts'
import { Course, Enrolment, SchoolYear } from '../teaching/entities.ts'
import { headcountOf, schoolYears, teacherName } from '../teaching/service.ts'

/*
 * The school year's turn: staff prepare next year (its SchoolYear, then a copy of this year's open
 * courses), turn validated re-enrolments into next year's enrolments, place the pupils waiting for a
 * seat, and switch the current year. Each action is one transaction that first locks the current
 * year's row, so two clicks (or two staff) run one after the other and the second finds the work done.
 */

const yearsRead = prepare((db: Kysely<TenantDb>) =>
  db
    .selectFrom('school_year as y')
    .select(['y.id', 'y.label', 'y.starts_on as startsOn', 'y.ends_on as endsOn', 'y.current'])
    .select((eb) => [
      eb
        .selectFrom('course as c')
        .select((inner) => inner.cast<number>(inner.fn.countAll(), 'integer').as('n'))
        .whereRef('c.school_year_id', '=', 'y.id')
        .as('courses'),
      eb
        .selectFrom('enrolment as e')
        .innerJoin('course as c', 'c.id', 'e.course_id')
        .select((inner) => inner.cast<number>(inner.fn.countAll(), 'integer').as('n'))
        .whereRef('c.school_year_id', '=', 'y.id')
        .where('e.active', '=', true)
        .as('enrolments'),
      eb
        .selectFrom('enrolment as e')
        .innerJoin('course as c', 'c.id', 'e.course_id')
        .select((inner) => inner.cast<number>(inner.fn.count('e.pupil_id').distinct(), 'integer').as('n'))
        .whereRef('c.school_year_id', '=', 'y.id')
        .where('e.active', '=', true)
        .as('pupils'),
    ])
    .orderBy('y.starts_on'),
)

export type YearRow = NonNullable<Awaited<ReturnType<typeof yearsRead.first>>>

export interface Years {
  all: (YearRow & { state: 'past' | 'current' | 'next' | 'later' })[]
  current: YearRow | undefined
  /** The year after the current one, once prepared. */
  next: YearRow | undefined
}

export async function yearsOf(db: Reader): Promise<Years> {
  const rows = await yearsRead.all(db, {})
  const current = rows.find((y) => y.current)
  const next = current ? rows.find((y) => y.startsOn > current.startsOn) : undefined
  return {
    current,
    next,
    all: rows.map((y) => ({
      ...y,
      courses: y.courses ?? 0,
      enrolments: y.enrolments ?? 0,
      pupils: y.pupils ?? 0,
      state: y.current
        ? 'current'
        : y === next
          ? 'next'
          : current && y.startsOn < current.startsOn
            ? 'past'
            : 'later',
    })),
  }
}

const startYear = (label: string) => Number(label.slice(0, 4))

/** "2027-08-31" moved by `years` years (29 February becomes the 28th in a common year). */
export function shifted(date: string, years: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  const last = new Date(Date.UTC(y + years, m, 0)).getUTCDate()
  return `${y + years}-${String(m).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`
}

/**
 * The label next year takes: the re-enrolment period's school year when it comes after the current
 * one (families re-enrol for that label), otherwise the year after the current one.
 */
export function nextLabel(current: { label: string }, config: TenantConfig): string {
  const campaign = config.periods?.reenrolment?.schoolYear
  if (campaign && /^\d{4}-\d{4}$/.test(campaign) && startYear(campaign) > startYear(current.label))
    return campaign
  const start = startYear(current.label) + 1
  return `${start}-${start + 1}`
}

/** The current year's row, locked for the rest of the transaction: the actions' one queue. */
async function lockCurrent(tx: Em): Promise<SchoolYear | null> {
  return tx.findOne(SchoolYear, { current: true }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true })
}

async function nextOf(tx: Em, current: SchoolYear): Promise<SchoolYear | null> {
  return tx.findOne(SchoolYear, { startsOn: { $gt: current.startsOn } }, { orderBy: { startsOn: 'asc' } })
}

/** "Préparer l'année suivante": next year's SchoolYear, created once; a second click finds it. */
export async function prepareNextYear(
  ctx: SignedInContext,
): Promise<{ errors?: FieldErrors; label?: string; created?: boolean }> {
  return ctx.em.transactional(async (tx) => {
    const current = await lockCurrent(tx)
    if (!current) return { errors: { year: ctx.t('year.error.noCurrent') } }
    const label = nextLabel(current, ctx.config)
    const existing = (await nextOf(tx, current)) ?? (await tx.findOne(SchoolYear, { label }))
    if (existing) return { label: existing.label, created: false }
    const years = startYear(label) - startYear(current.label)
    const year = tx.create(SchoolYear, {
      label,
      startsOn: shifted(current.startsOn, years),
      endsOn: shifted(current.endsOn, years),
      current: false,
    })
    await tx.flush()
    audit(tx, ctx.account, {
      action: 'schoolYear.prepared',
      subject: { type: 'schoolYear', id: year.id },
      details: { label, startsOn: year.startsOn, endsOn: year.endsOn },
    })
    return { label, created: true }
  })
}

const copyableRead = prepare((db: Kysely<TenantDb>, p: { yearId: number }) =>
  db
    .selectFrom('course as c')
    .select((eb) => [
      eb.cast<number>(eb.fn.countAll(), 'integer').as('total'),
      eb.cast<number>(eb.fn.countAll().filterWhere('c.closed_at', 'is not', null), 'integer').as('closed'),
      eb
        .cast<number>(
          eb.fn
            .countAll()
            .filterWhere((inner) =>
              inner.exists(
                inner
                  .selectFrom('course as copy')
                  .select('copy.id')
                  .whereRef('copy.copied_from_id', '=', 'c.id'),
              ),
            ),
          'integer',
        )
        .as('copied'),
    ])
    .where('c.school_year_id', '=', p.yearId),
)

/** How many of this year's courses a copy would carry over: open ones not copied yet. */
export async function copyPreview(db: Reader, current: { id: number }) {
  const found = await copyableRead.first(db, { yearId: current.id })
  const total = found?.total ?? 0
  const closed = found?.closed ?? 0
  const copied = found?.copied ?? 0
  return { total, closed, copied, toCopy: Math.max(0, total - closed - copied) }
}

/**
 * Copies this year's open courses to next year with their teacher, slots, room, capacity, level,
 * discipline and site; a course already copied is left alone (its copy keeps the link).
 */
export async function copyCourses(ctx: SignedInContext): Promise<{ errors?: FieldErrors; copied?: number }> {
  return ctx.em.transactional(async (tx) => {
    const current = await lockCurrent(tx)
    const next = current && (await nextOf(tx, current))
    if (!current || !next) return { errors: { year: ctx.t('year.error.notPrepared') } }
    const courses = await tx.find(Course, { schoolYear: current, closedAt: null }, { orderBy: { id: 'asc' } })
    const copied = new Set(
      (
        await tx.find(
          Course,
          { copiedFromId: { $in: courses.map((c) => c.id) } },
          { fields: ['copiedFromId'] },
        )
      ).map((c) => c.copiedFromId),
    )
    let count = 0
    for (const course of courses) {
      if (copied.has(course.id)) continue
      tx.create(Course, {
        schoolYear: next,
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
      count++
    }
    audit(tx, ctx.account, {
      action: 'schoolYear.coursesCopied',
      subject: { type: 'schoolYear', id: next.id },
      details: { from: current.label, to: next.label, copied: count },
    })
    return { copied: count }
  })
}

const validatedRead = prepare(
  (db: Kysely<TenantDb>, p: { schoolYear: string; currentId: number; nextId: number }) =>
    db
      .selectFrom('reenrolment as r')
      .innerJoin('pupil as p', 'p.id', 'r.pupil_id')
      .select([
        'r.id',
        'r.pupil_id as pupilId',
        'r.answers',
        'p.first_name as firstName',
        'p.last_name as lastName',
      ])
      .select((eb) =>
        jsonArrayFrom(
          eb
            .selectFrom('enrolment as e')
            .innerJoin('course as c', 'c.id', 'e.course_id')
            .leftJoin('course as copy', (join) =>
              join.onRef('copy.copied_from_id', '=', 'c.id').on('copy.school_year_id', '=', p.nextId),
            )
            .select(['c.id', 'c.name', 'c.discipline', 'copy.id as copyId'])
            .select((inner) =>
              inner
                .exists(
                  inner
                    .selectFrom('enrolment as n')
                    .select('n.id')
                    .whereRef('n.course_id', '=', 'copy.id')
                    .whereRef('n.pupil_id', '=', 'e.pupil_id'),
                )
                .as('enrolled'),
            )
            .whereRef('e.pupil_id', '=', 'r.pupil_id')
            .where('e.active', '=', true)
            .where('c.school_year_id', '=', p.currentId),
        ).as('courses'),
      )
      .where('r.school_year', '=', p.schoolYear)
      .where('r.status', '=', ReenrolmentStatus.validated)
      .orderBy('p.last_name')
      .orderBy('p.first_name')
      .orderBy('r.id'),
)

export interface ReenrolmentPlan {
  /** Pupils who get at least one enrolment, with the courses they get. */
  pupils: { pupilId: number; name: string; courses: { copyId: number; name: string; mandatory: boolean }[] }[]
  enrolments: number
  /** Kept courses with no copy next year: copy the courses first. */
  notCopied: { name: string; course: string }[]
  /** Courses the families dropped, left out. */
  dropped: number
}

/**
 * What "Inscrire les réinscrits" does: each validated re-enrolment of next year enrols its pupil in
 * next year's copy of every course kept, and of every course of a mandatory discipline (which the
 * wizard never lets a family drop); a course absent from the answers is kept (the wizard shows each
 * course kept until unticked, and a tenant without a courses step never asks). Enrolments that exist
 * already are not counted, so the plan of a second run is empty.
 */
export async function reenrolmentPlan(
  db: Reader,
  config: TenantConfig,
  current: { id: number },
  next: { id: number; label: string },
): Promise<ReenrolmentPlan> {
  const rows = await validatedRead.all(db, { schoolYear: next.label, currentId: current.id, nextId: next.id })
  const mandatory = new Set(config.reenrolment.mandatoryDisciplines ?? [])
  const plan: ReenrolmentPlan = { pupils: [], enrolments: 0, notCopied: [], dropped: 0 }
  for (const row of rows) {
    const name = fullName(row)
    const courses: ReenrolmentPlan['pupils'][number]['courses'] = []
    for (const course of row.courses) {
      const isMandatory = mandatory.has(course.discipline)
      const kept = isMandatory || row.answers.keep?.[String(course.id)] !== false
      if (!kept) {
        plan.dropped++
        continue
      }
      if (course.copyId === null) plan.notCopied.push({ name, course: course.name })
      else if (!course.enrolled)
        courses.push({ copyId: course.copyId, name: course.name, mandatory: isMandatory })
    }
    if (courses.length > 0) {
      courses.sort((a, b) => frenchOrder(a.name, b.name))
      plan.pupils.push({ pupilId: row.pupilId, name, courses })
      plan.enrolments += courses.length
    }
  }
  return plan
}

/** Turns the validated re-enrolments into next year's enrolments; running it again enrols nobody twice. */
export async function enrolReenrolled(
  ctx: SignedInContext,
): Promise<{ errors?: FieldErrors; enrolled?: number; pupils?: number }> {
  return ctx.em.transactional(async (tx) => {
    const current = await lockCurrent(tx)
    const next = current && (await nextOf(tx, current))
    if (!current || !next) return { errors: { year: ctx.t('year.error.notPrepared') } }
    const plan = await reenrolmentPlan(tx, ctx.config, current, next)
    for (const pupil of plan.pupils)
      for (const course of pupil.courses)
        tx.create(Enrolment, {
          pupil: tx.getReference(Pupil, pupil.pupilId),
          course: tx.getReference(Course, course.copyId),
          active: true,
        })
    audit(tx, ctx.account, {
      action: 'schoolYear.reenrolmentsEnrolled',
      subject: { type: 'schoolYear', id: next.id },
      details: {
        schoolYear: next.label,
        enrolments: plan.enrolments,
        pupils: plan.pupils.map((p) => p.pupilId),
      },
    })
    return { enrolled: plan.enrolments, pupils: plan.pupils.length }
  })
}

const openCoursesRead = prepare((db: Kysely<TenantDb>, p: { yearId: number }) =>
  db
    .selectFrom('course as c')
    .leftJoin('teacher as t', 't.id', 'c.teacher_id')
    .select([
      'c.id',
      'c.name',
      'c.discipline',
      'c.establishment',
      'c.slot',
      'c.capacity',
      't.first_name as teacherFirstName',
      't.last_name as teacherLastName',
    ])
    .select((eb) => headcountOf(eb.ref('c.id')).as('pupils'))
    .where('c.school_year_id', '=', p.yearId)
    .where('c.closed_at', 'is', null),
)

/** A pupil's active enrolments of a year, as a condition of the placement list. */
function enrolledIn(pupilId: Expression<number>, yearId: number) {
  return tenantDb
    .selectFrom('enrolment as n')
    .innerJoin('course as nc', 'nc.id', 'n.course_id')
    .whereRef('n.pupil_id', '=', pupilId)
    .where('nc.school_year_id', '=', yearId)
    .where('n.active', '=', true)
}

const waitingRead = prepare(
  (db: Kysely<TenantDb>, p: { schoolYear: string; currentId: number; nextId: number }) =>
    db.selectNoFrom((eb) => [
      // re-enrolled pupils with no course next year in a discipline they do not follow this year
      jsonArrayFrom(
        eb
          .selectFrom('reenrolment as r')
          .innerJoin('pupil as p', 'p.id', 'r.pupil_id')
          .select([
            'r.id',
            'p.id as pupilId',
            'p.first_name as firstName',
            'p.last_name as lastName',
            'r.answers',
          ])
          .where('r.school_year', '=', p.schoolYear)
          .where('r.status', '=', ReenrolmentStatus.validated)
          .where((inner) =>
            inner.not(
              inner.exists(
                enrolledIn(inner.ref('p.id'), p.nextId)
                  .select('n.id')
                  .where((deeper) =>
                    deeper.not(
                      deeper.exists(
                        deeper
                          .selectFrom('enrolment as o')
                          .innerJoin('course as oc', 'oc.id', 'o.course_id')
                          .select('o.id')
                          .whereRef('o.pupil_id', '=', 'n.pupil_id')
                          .where('oc.school_year_id', '=', p.currentId)
                          .whereRef('oc.discipline', '=', 'nc.discipline'),
                      ),
                    ),
                  ),
              ),
            ),
          ),
      ).as('reenrolments'),
      // pré-inscriptions accepted since the current year began, with the pupils of the family they made
      jsonArrayFrom(
        eb
          .selectFrom('preregistration as d')
          .select(['d.id', 'd.applicants'])
          .select((inner) =>
            jsonArrayFrom(
              inner
                .selectFrom('pupil as p')
                .select(['p.id', 'p.first_name as firstName', 'p.last_name as lastName'])
                .select((deeper) =>
                  jsonArrayFrom(enrolledIn(deeper.ref('p.id'), p.nextId).select('nc.discipline')).as('next'),
                )
                .whereRef('p.family_id', '=', 'd.family_id')
                .orderBy('p.id'),
            ).as('pupils'),
          )
          .where('d.status', '=', 'accepted')
          .where('d.decided_at', '>=', (inner) =>
            inner
              .selectFrom('school_year as y')
              .select((deeper) => deeper.cast<string>('y.starts_on', 'timestamptz').as('s'))
              .where('y.id', '=', p.currentId),
          )
          .orderBy('d.id'),
      ).as('dossiers'),
    ]),
)

/** A pupil waiting for a seat next year, with the courses that may take them. */
export interface Waiting {
  key: string
  pupilId: number
  name: string
  /** What they asked for: the re-enrolment's free text, or the dossier's choices in order. */
  request: string
  source: 'reenrolment' | 'preregistration'
  sourceId: number
  options: { discipline: string; courses: SeatOption[] }[]
}

export interface SeatOption {
  id: number
  label: string
  full: boolean
}

/**
 * The placement list: validated re-enrolments asking for a new discipline (until the pupil has a
 * course next year in a discipline not followed this year) and the applicants of pré-inscriptions
 * accepted this school year (until enrolled next year in one of their choices). A dossier's choices
 * give its courses in their order; a free text request gets every course, the disciplines it names first.
 */
export async function waitingList(
  ctx: TenantContext,
  current: { id: number },
  next: { id: number; label: string },
) {
  const { db, config, t } = ctx
  const [found, courses] = await Promise.all([
    waitingRead.first(db, { schoolYear: next.label, currentId: current.id, nextId: next.id }),
    openCoursesRead.all(db, { yearId: next.id }),
  ])
  const disciplineNames = new Map((config.disciplines ?? []).map((d) => [d.code, d.name]))
  const nameOf = (code: string) => disciplineNames.get(code) ?? code
  const sites = new Map(config.establishments.map((e) => [e.code, e.name]))
  const byDiscipline = new Map<string, SeatOption[]>()
  for (const c of courses.sort((a, b) => frenchOrder(a.name, b.name))) {
    const taken = c.pupils ?? 0
    const left = c.capacity === null ? null : Math.max(0, c.capacity - taken)
    const parts = [c.name, c.slot, teacherName(c), sites.size > 1 ? sites.get(c.establishment) : undefined]
    const seats = left === null ? t('year.placement.unlimited') : t('year.placement.seatsLeft', { n: left })
    const option = { id: c.id, label: `${parts.filter(Boolean).join(' — ')} (${seats})`, full: left === 0 }
    byDiscipline.set(c.discipline, [...(byDiscipline.get(c.discipline) ?? []), option])
  }
  const groups = (codes: string[]) =>
    codes
      .filter((code) => byDiscipline.has(code))
      .map((code) => ({ discipline: nameOf(code), courses: byDiscipline.get(code)! }))
  const allCodes = [...byDiscipline.keys()].sort((a, b) => frenchOrder(nameOf(a), nameOf(b)))

  const waiting: Waiting[] = []
  for (const r of found?.reenrolments ?? []) {
    const text = (r.answers.newDisciplines ?? '').trim()
    if (!text) continue
    const folded = fold(text)
    const named = allCodes.filter((code) => folded.includes(fold(nameOf(code))))
    waiting.push({
      key: `r${r.id}`,
      pupilId: r.pupilId,
      name: fullName(r),
      request: text,
      source: 'reenrolment',
      sourceId: r.id,
      options: groups([...named, ...allCodes.filter((code) => !named.includes(code))]),
    })
  }
  for (const d of found?.dossiers ?? []) {
    const pupils = [...d.pupils]
    for (const applicant of d.applicants) {
      // the pupils accepting created, told by their name (the dossier keeps the applicants as typed)
      const key = fold(`${applicant.values.firstName ?? ''} ${applicant.values.lastName ?? ''}`)
      const index = pupils.findIndex((p) => fold(`${p.firstName} ${p.lastName}`) === key)
      if (index < 0) continue
      const pupil = pupils.splice(index, 1)[0]!
      const placed = pupil.next.some((n) => applicant.choices.includes(n.discipline))
      if (placed) continue
      waiting.push({
        key: `d${d.id}-${pupil.id}`,
        pupilId: pupil.id,
        name: fullName(pupil),
        request: applicant.choices.map((code, i) => `${i + 1}. ${nameOf(code)}`).join(', '),
        source: 'preregistration',
        sourceId: d.id,
        options: groups(applicant.choices),
      })
    }
  }
  return waiting.sort((a, b) => frenchOrder(a.name, b.name))
}

/**
 * "Placer": enrols the pupil in one of next year's open courses, refused when the course is full
 * (counted under the course's lock, so two placements cannot take the last seat twice).
 */
export async function place(
  ctx: SignedInContext,
  input: { pupil: number; course: number; key: string },
): Promise<FieldErrors | undefined> {
  const { t } = ctx
  const field = `course-${input.key}`
  return ctx.em.transactional(async (tx) => {
    const current = await lockCurrent(tx)
    const next = current && (await nextOf(tx, current))
    if (!current || !next) return { [field]: t('year.error.notPrepared') }
    const course = await tx.findOne(
      Course,
      { id: input.course, schoolYear: next },
      { lockMode: LockMode.PESSIMISTIC_WRITE },
    )
    const pupil = await tx.findOne(Pupil, { id: input.pupil }, { populate: ['family'] })
    if (!course || course.closedAt || !pupil) return { [field]: t('year.placement.error.course') }
    if (await tx.findOne(Enrolment, { pupil, course }))
      return { [field]: t('year.placement.error.already', { name: fullName(pupil) }) }
    if (course.capacity != null) {
      const taken = await tx.count(Enrolment, { course, active: true })
      if (taken >= course.capacity)
        return { [field]: t('year.placement.error.full', { course: course.name, capacity: course.capacity }) }
    }
    tx.create(Enrolment, { pupil, course, active: true })
    audit(tx, ctx.account, {
      action: 'enrolment.placed',
      subject: { type: 'pupil', id: pupil.id },
      details: { course: course.id, courseName: course.name, schoolYear: next.label, request: input.key },
    })
    return undefined
  })
}

const switchRead = prepare(
  (db: Kysely<TenantDb>, p: { schoolYear: string; currentId: number; nextId: number }) =>
    db.selectNoFrom((eb) => [
      eb
        .selectFrom('enrolment as e')
        .innerJoin('course as c', 'c.id', 'e.course_id')
        .select((inner) => inner.cast<number>(inner.fn.countAll(), 'integer').as('n'))
        .where('c.school_year_id', '=', p.nextId)
        .where('e.active', '=', true)
        .as('enrolments'),
      eb
        .selectFrom('reenrolment as r')
        .select((inner) => inner.cast<number>(inner.fn.countAll(), 'integer').as('n'))
        .where('r.school_year', '=', p.schoolYear)
        .where('r.status', '=', ReenrolmentStatus.submitted)
        .as('pending'),
      jsonArrayFrom(
        eb
          .selectFrom('pupil as p')
          .select(['p.id', 'p.first_name as firstName', 'p.last_name as lastName'])
          .where((inner) => inner.exists(enrolledIn(inner.ref('p.id'), p.currentId).select('n.id')))
          .where((inner) => inner.not(inner.exists(enrolledIn(inner.ref('p.id'), p.nextId).select('n.id')))),
      ).as('without'),
    ]),
)

/** What switching changes: next year's enrolments, this year's pupils with none, the pending decisions. */
export async function switchPreview(
  db: Reader,
  current: { id: number },
  next: { id: number; label: string },
) {
  const found = await switchRead.first(db, { schoolYear: next.label, currentId: current.id, nextId: next.id })
  return {
    enrolments: found?.enrolments ?? 0,
    pending: found?.pending ?? 0,
    without: (found?.without ?? [])
      .map((p) => ({ id: p.id, name: fullName(p) }))
      .sort((a, b) => frenchOrder(a.name, b.name)),
  }
}

export interface SwitchInput {
  force?: string
  reason?: string
}

/**
 * Makes next year the current one. Refused while re-enrolments await a decision, unless forced with
 * a reason (kept in the audit). The cached current year is forgotten after the commit too: the flush
 * subscriber forgets it before the commit, when another request could still read the old year again.
 */
export async function switchYear(
  ctx: SignedInContext,
  input: SwitchInput,
): Promise<{ errors?: FieldErrors; label?: string }> {
  const { t } = ctx
  const force = input.force === 'true'
  const reason = (input.reason ?? '').trim()
  const result = await ctx.em.transactional(async (tx) => {
    const current = await lockCurrent(tx)
    const next = current && (await nextOf(tx, current))
    if (!current || !next) return { errors: { year: t('year.error.notPrepared') } }
    const waiting = await tx.count(Reenrolment, {
      schoolYear: next.label,
      status: ReenrolmentStatus.submitted,
    })
    const errors: FieldErrors = {}
    if (waiting > 0 && !force) errors.force = t('year.switch.error.pending', { n: waiting })
    if (force && !reason) errors.reason = t('year.switch.error.reason')
    if (reason.length > 1000) errors.reason = t('year.switch.error.reasonLength')
    const refused = refusals(errors)
    if (refused) return { errors: refused }
    current.current = false
    next.current = true
    await tx.flush()
    audit(tx, ctx.account, {
      action: 'schoolYear.switched',
      subject: { type: 'schoolYear', id: next.id },
      details: {
        from: current.label,
        to: next.label,
        pending: waiting,
        forced: force,
        reason: force ? reason : null,
      },
    })
    return { label: next.label }
  })
  schoolYears.invalidate(ctx.db)
  return result
}
