import { LockMode } from '@mikro-orm/core'
import { type Kysely, sql } from 'kysely'
import { jsonArrayFrom } from 'kysely/helpers/postgres'
import type { TenantDb } from '../../entities.ts'
import { audit } from '../../platform/audit/audit.ts'
import type { SignedInContext } from '../../platform/auth/context.ts'
import { prepare, type Reader } from '../../platform/db/reads.ts'
import { type Checked, type FieldErrors, refusals } from '../../platform/forms.ts'
import { NotFound } from '../../platform/http/errors.ts'
import { offsetOf, pageSize } from '../../platform/http/pagination.ts'
import { fold, frenchOrder } from '../../platform/text.ts'
import type { TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import type { Translate } from '../../platform/views/i18n.ts'
import { Pupil } from '../pupils/entities.ts'
import { Course, type CourseSlot, Enrolment, SchoolYear, Teacher } from '../teaching/entities.ts'
import { headcountOf } from '../teaching/service.ts'
import { dayNames, parseTime, slotsOfText, slotText, sortSlots } from './slots.ts'

/** The state filter of the catalogue: open courses by default. */
export const courseStates = ['ouverts', 'fermes', 'tous'] as const
export type CourseState = (typeof courseStates)[number]

export interface CourseFilters {
  discipline: string | null
  teacherId: number | null
  establishment: string | null
  level: string | null
  state: CourseState
}

const yearsRead = prepare((db: Kysely<TenantDb>) =>
  db.selectFrom('school_year').select(['id', 'label', 'current']).orderBy('starts_on'),
)

export type YearRow = Awaited<ReturnType<typeof yearsRead.all>>[number]

/** The tenant's school years, oldest first, and the one `label` names (the current one by default). */
export async function yearsOf(db: Reader, label?: string) {
  const years = await yearsRead.all(db, {})
  const year = label ? years.find((y) => y.label === label) : years.find((y) => y.current)
  if (label && !year) throw new NotFound()
  return { years, year }
}

const teachersRead = prepare((db: Kysely<TenantDb>) =>
  db
    .selectFrom('teacher')
    .select(['id', 'first_name as firstName', 'last_name as lastName'])
    .orderBy('last_name')
    .orderBy('first_name')
    .orderBy('id'),
)

/** "Rivière Hélène": a teacher as staff pick one in a list sorted by surname. */
const teacherLabel = (t: { firstName: string; lastName: string }) => `${t.lastName} ${t.firstName}`

export async function teacherChoices(db: Reader) {
  const rows = await teachersRead.all(db, {})
  return rows.map((t) => ({ id: t.id, label: teacherLabel(t) })).sort((a, b) => frenchOrder(a.label, b.label))
}

const levelsRead = prepare((db: Kysely<TenantDb>) =>
  db.selectFrom('course').select('cycle').distinct().where('cycle', 'is not', null),
)

/** The levels courses already use, every year: the level field's suggestions and filter. */
export async function levelsOf(db: Reader): Promise<string[]> {
  const rows = await levelsRead.all(db, {})
  return rows.map((r) => r.cycle!).sort(frenchOrder)
}

// Postgres has no accent folding without the unaccent extension: letters are mapped one to one
const accented = 'áàâäãåçéèêëíìîïñóòôöõúùûüýÿ'
const plain = 'aaaaaaceeeeiiiinooooouuuuyy'

/** A column lowercased without accents, so that lists sort "Éveil" among the E. */
const folded = (column: string) =>
  sql<string>`replace(replace(translate(lower(${sql.ref(column)}), ${accented}, ${plain}), 'œ', 'oe'), 'æ', 'ae')`

const text = (value: unknown) => sql<string>`cast(${value} as text)`

const catalogueRead = prepare(
  (
    db: Kysely<TenantDb>,
    p: {
      yearId: number
      discipline: string | null
      teacherId: number | null
      establishment: string | null
      level: string | null
      state: string
      offset: number
      limit: number
    },
  ) => {
    const matching = db
      .selectFrom('course as c')
      .where('c.school_year_id', '=', p.yearId)
      .where((eb) =>
        eb.and([
          eb.or([eb(text(p.discipline), 'is', null), eb('c.discipline', '=', text(p.discipline))]),
          eb.or([
            eb(sql`cast(${p.teacherId} as integer)`, 'is', null),
            eb('c.teacher_id', '=', sql<number>`cast(${p.teacherId} as integer)`),
          ]),
          eb.or([eb(text(p.establishment), 'is', null), eb('c.establishment', '=', text(p.establishment))]),
          eb.or([eb(text(p.level), 'is', null), eb('c.cycle', '=', text(p.level))]),
          eb.or([
            eb(text(p.state), '=', 'tous'),
            eb(sql<boolean>`(c.closed_at is null)`, '=', sql<boolean>`(${text(p.state)} = 'ouverts')`),
          ]),
        ]),
      )
    return db.selectNoFrom((eb) => [
      eb
        .selectFrom(matching.select('c.id').as('q'))
        .select((inner) => inner.cast<number>(inner.fn.countAll(), 'integer').as('n'))
        .as('total'),
      jsonArrayFrom(
        matching
          .leftJoin('teacher as t', 't.id', 'c.teacher_id')
          .select([
            'c.id',
            'c.name',
            'c.discipline',
            'c.cycle',
            'c.establishment',
            'c.slot',
            'c.room',
            'c.capacity',
            'c.closed_at as closedAt',
            't.first_name as teacherFirstName',
            't.last_name as teacherLastName',
          ])
          .select((inner) => headcountOf(inner.ref('c.id')).as('enrolled'))
          .orderBy(folded('c.name'))
          .orderBy('c.cycle')
          .orderBy('c.id')
          .limit(p.limit)
          .offset(p.offset),
      ).as('rows'),
    ])
  },
)

/** One page of a year's catalogue, filtered in SQL. */
export async function catalogue(db: Reader, yearId: number, filters: CourseFilters, page: number) {
  const found = await catalogueRead.first(db, {
    yearId,
    ...filters,
    offset: offsetOf(page),
    limit: pageSize,
  })
  const rows = (found?.rows ?? []).map((row) => ({ ...row, enrolled: row.enrolled ?? 0 }))
  return { total: found?.total ?? 0, rows }
}

/** "12 / 15", "complet", or the count alone for a course without a limit. */
export function seatsText(t: Translate, enrolled: number, capacity: number | null): string {
  if (capacity === null) return String(enrolled)
  if (enrolled >= capacity) return t('boCourses.full')
  return `${enrolled} / ${capacity}`
}

/** "3 places restantes", "complet", or "sans limite". */
export function seatsLeftText(t: Translate, enrolled: number, capacity: number | null): string {
  if (capacity === null) return t('boCourses.unlimited')
  const left = capacity - enrolled
  if (left <= 0) return t('boCourses.full')
  return t(left === 1 ? 'boCourses.seatLeft' : 'boCourses.seatsLeft', { count: left })
}

const courseRead = prepare((db: Kysely<TenantDb>, p: { id: number }) =>
  db
    .selectFrom('course as c')
    .innerJoin('school_year as y', 'y.id', 'c.school_year_id')
    .leftJoin('teacher as t', 't.id', 'c.teacher_id')
    .select([
      'c.id',
      'c.name',
      'c.discipline',
      'c.cycle',
      'c.establishment',
      'c.slot',
      'c.slots',
      'c.room',
      'c.capacity',
      'c.closed_at as closedAt',
      'c.teacher_id as teacherId',
      'y.id as yearId',
      'y.label as yearLabel',
      'y.current as yearCurrent',
      't.first_name as teacherFirstName',
      't.last_name as teacherLastName',
    ])
    .select((eb) => [
      jsonArrayFrom(
        eb
          .selectFrom('enrolment as e')
          .innerJoin('pupil as p', 'p.id', 'e.pupil_id')
          .select([
            'e.id',
            'e.updated_at as since',
            'p.id as pupilId',
            'p.first_name as firstName',
            'p.last_name as lastName',
            'p.birth_date as birthDate',
            'p.family_id as familyId',
          ])
          .whereRef('e.course_id', '=', 'c.id')
          .where('e.active', '=', true)
          .orderBy('p.last_name')
          .orderBy('p.first_name')
          .orderBy('p.id'),
      ).as('pupils'),
    ])
    .where('c.id', '=', p.id),
)

export type CourseRow = NonNullable<Awaited<ReturnType<typeof courseRead.first>>>

/** A course with its enrolled pupils; a course of no row (or of another tenant) is a 404. */
export async function courseOr404(db: Reader, id: number): Promise<CourseRow> {
  const row = await courseRead.first(db, { id })
  if (!row) throw new NotFound()
  return row
}

const pupilSearchRead = prepare((db: Kysely<TenantDb>, p: { patterns: string[]; courseId: number }) => {
  const name = sql<string>`replace(replace(translate(lower(p.first_name || ' ' || p.last_name), ${accented}, ${plain}), 'œ', 'oe'), 'æ', 'ae')`
  return db
    .selectFrom('pupil as p')
    .innerJoin('family as f', 'f.id', 'p.family_id')
    .select(['p.id', 'p.first_name as firstName', 'p.last_name as lastName', 'p.birth_date as birthDate'])
    .select((eb) =>
      eb
        .exists(
          eb
            .selectFrom('enrolment as e')
            .select('e.id')
            .whereRef('e.pupil_id', '=', 'p.id')
            .where('e.course_id', '=', p.courseId)
            .where('e.active', '=', true),
        )
        .as('enrolled'),
    )
    .where('f.archived_at', 'is', null)
    .where('f.erased_at', 'is', null)
    .where(
      sql<boolean>`not exists (select 1 from unnest(cast(${p.patterns} as text[])) as w(pattern) where ${name} not like w.pattern)`,
    )
    .orderBy('p.last_name')
    .orderBy('p.first_name')
    .orderBy('p.id')
    .limit(21)
})

/**
 * The tenant's pupils whose name holds every word of `query`, accents and case aside ("eloise" finds
 * "Éloïse"); pupils of archived or erased families are left out. At most 20, and whether there are more.
 */
export async function searchPupils(db: Reader, query: string, courseId: number) {
  const words = fold(query.replace(/æ/gi, 'ae'))
    .replace(/[%_\\]/g, ' ')
    .split(/\s+/)
    .filter(Boolean)
  if (words.length === 0) return { pupils: [], more: false }
  const rows = await pupilSearchRead.all(db, { patterns: words.map((w) => `%${w}%`), courseId })
  return { pupils: rows.slice(0, 20), more: rows.length > 20 }
}

/** What the course form sends: plain fields, and slot rows `slots-<n>-day|start|end`. */
export type CourseInput = Record<string, string | undefined>

export interface CourseValues {
  schoolYearId: number
  name: string
  discipline: string
  cycle: string | null
  teacherId: number | null
  slots: CourseSlot[]
  room: string | null
  establishment: string
  capacity: number | null
}

/** What a check needs to know besides the input: the choices the form offered. */
export interface CourseChoices {
  years: readonly { id: number }[]
  teachers: readonly { id: number }[]
  /** The course being edited: its own year, discipline and site stay valid even if the YAML dropped them. */
  current?: { yearId: number; discipline: string; establishment: string }
}

/** Indexes of the slot rows a form sent, in order. */
export function slotRowsOf(input: CourseInput): number[] {
  const rows = new Set<number>()
  for (const key in input) {
    const match = /^slots-(\d{1,2})-(day|start|end)$/.exec(key)
    if (match) rows.add(Number(match[1]))
  }
  return [...rows].sort((a, b) => a - b)
}

const trimmed = (value: string | undefined) => (value ?? '').trim()

export function checkCourse(
  input: CourseInput,
  config: TenantConfig,
  choices: CourseChoices,
  t: Translate,
): Checked<CourseValues> {
  const errors: FieldErrors = {}
  const name = trimmed(input.name)
  if (!name) errors.name = t('form.required')
  else if (name.length > 200) errors.name = t('boCourses.error.tooLong', { max: 200 })

  const schoolYearId = Number(trimmed(input.schoolYear))
  if (!choices.years.some((y) => y.id === schoolYearId) && choices.current?.yearId !== schoolYearId)
    errors.schoolYear = t('boCourses.error.schoolYear')

  const discipline = trimmed(input.discipline)
  const disciplines = config.disciplines ?? []
  if (!discipline) errors.discipline = t('boCourses.error.discipline')
  else if (disciplines.length > 0) {
    if (!disciplines.some((d) => d.code === discipline) && choices.current?.discipline !== discipline)
      errors.discipline = t('boCourses.error.discipline')
  } else if (discipline.length > 60) errors.discipline = t('boCourses.error.tooLong', { max: 60 })

  const cycle = trimmed(input.cycle)
  if (cycle.length > 60) errors.cycle = t('boCourses.error.tooLong', { max: 60 })

  const teacher = trimmed(input.teacher)
  const teacherId = teacher ? Number(teacher) : null
  if (teacherId !== null && !choices.teachers.some((x) => x.id === teacherId))
    errors.teacher = t('boCourses.error.teacher')

  const room = trimmed(input.room)
  if (room.length > 100) errors.room = t('boCourses.error.tooLong', { max: 100 })

  const establishments = config.establishments
  const establishment = establishments.length === 1 ? establishments[0]!.code : trimmed(input.establishment)
  if (
    !establishments.some((e) => e.code === establishment) &&
    choices.current?.establishment !== establishment
  )
    errors.establishment = t('boCourses.error.establishment')

  const capacityText = trimmed(input.capacity)
  const capacity = capacityText ? Number(capacityText) : null
  if (capacity !== null && !(/^\d+$/.test(capacityText) && capacity >= 1 && capacity <= 9999))
    errors.capacity = t('boCourses.error.capacity')

  const slots: CourseSlot[] = []
  for (const row of slotRowsOf(input)) {
    const field = (part: string) => `slots-${row}-${part}`
    const day = trimmed(input[field('day')])
    const startText = trimmed(input[field('start')])
    const endText = trimmed(input[field('end')])
    if (!day && !startText && !endText) continue
    const dayNumber = Number(day)
    const start = parseTime(startText)
    const end = parseTime(endText)
    if (!(Number.isInteger(dayNumber) && dayNumber >= 1 && dayNumber <= 7))
      errors[field('day')] = t('boCourses.error.day')
    if (!start) errors[field('start')] = t('boCourses.error.time')
    if (!end) errors[field('end')] = t('boCourses.error.time')
    else if (start && end <= start) errors[field('end')] = t('boCourses.error.endBeforeStart')
    if (start && end && dayNumber >= 1 && dayNumber <= 7) slots.push({ day: dayNumber, start, end })
  }

  return {
    values: {
      schoolYearId,
      name,
      discipline,
      cycle: cycle || null,
      teacherId,
      slots: sortSlots(slots),
      room: room || null,
      establishment,
      capacity,
    },
    errors: refusals(errors),
  }
}

/** A course as the audit keeps it before and after a change. */
function snapshot(course: Course) {
  return {
    name: course.name,
    discipline: course.discipline,
    cycle: course.cycle ?? null,
    teacher: course.teacher ? course.teacher.id : null,
    slots: course.slots,
    slot: course.slot ?? null,
    room: course.room ?? null,
    establishment: course.establishment,
    capacity: course.capacity ?? null,
  }
}

function assign(tx: SignedInContext['em'], course: Course, values: CourseValues) {
  course.name = values.name
  course.discipline = values.discipline
  course.cycle = values.cycle
  course.teacher = values.teacherId === null ? null : tx.getReference(Teacher, values.teacherId)
  course.slots = values.slots
  course.slot = values.slots.length ? slotText(values.slots) : null
  course.room = values.room
  course.establishment = values.establishment
  course.capacity = values.capacity
}

export async function createCourse(ctx: SignedInContext, values: CourseValues): Promise<number> {
  return ctx.em.transactional(async (tx) => {
    const course = tx.create(Course, {
      schoolYear: tx.getReference(SchoolYear, values.schoolYearId),
      discipline: values.discipline,
      establishment: values.establishment,
      name: values.name,
    })
    assign(tx, course, values)
    await tx.flush()
    audit(tx, ctx.account, {
      action: 'course.created',
      subject: { type: 'course', id: course.id },
      details: { after: snapshot(course) },
    })
    return course.id
  })
}

/** Saves staff's edit; the audit keeps the fields that changed, before and after. */
export async function updateCourse(ctx: SignedInContext, id: number, values: CourseValues): Promise<void> {
  await ctx.em.transactional(async (tx) => {
    const course = await tx.findOne(Course, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true })
    if (!course) throw new NotFound()
    const before = snapshot(course)
    assign(tx, course, values)
    const after = snapshot(course)
    const changed = (Object.keys(after) as (keyof typeof after)[]).filter(
      (key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]),
    )
    if (changed.length === 0) return
    audit(tx, ctx.account, {
      action: 'course.updated',
      subject: { type: 'course', id },
      details: {
        before: Object.fromEntries(changed.map((key) => [key, before[key]])),
        after: Object.fromEntries(changed.map((key) => [key, after[key]])),
      },
    })
  })
}

/** Closes (or reopens) a course; its pupils stay enrolled, it takes no new one while closed. */
export async function setClosed(ctx: SignedInContext, id: number, closed: boolean): Promise<void> {
  await ctx.em.transactional(async (tx) => {
    const course = await tx.findOne(Course, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true })
    if (!course) throw new NotFound()
    if (Boolean(course.closedAt) === closed) return
    course.closedAt = closed ? new Date() : null
    const enrolled = await tx.count(Enrolment, { course, active: true })
    audit(tx, ctx.account, {
      action: closed ? 'course.closed' : 'course.reopened',
      subject: { type: 'course', id },
      details: { name: course.name, enrolled },
    })
  })
}

export interface EnrolmentInput {
  pupilId?: string
  force?: string
  reason?: string
}

/** What an enrolment answers: the pupil's name, or why it was refused (keyed by field). */
export type EnrolmentResult =
  | { pupil: string; pupilId: number; errors: undefined }
  | { pupil: string | undefined; errors: FieldErrors; full: boolean }

/**
 * Enrols a pupil of the tenant in a course, or reactivates the enrolment they had left. The course
 * row is locked for the whole transaction, so two staff taking the last seat at once are counted
 * one after the other: only the first gets it unless the second forces, with a reason.
 */
export async function enrol(
  ctx: SignedInContext,
  courseId: number,
  input: EnrolmentInput,
): Promise<EnrolmentResult> {
  const { t } = ctx
  const pupilId = Number(input.pupilId ?? '')
  const force = input.force === '1'
  const reason = (input.reason ?? '').trim()
  return ctx.em.transactional(async (tx): Promise<EnrolmentResult> => {
    const course = await tx.findOne(
      Course,
      { id: courseId },
      { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
    )
    if (!course) throw new NotFound()
    const pupil =
      Number.isSafeInteger(pupilId) && pupilId > 0 ? await tx.findOne(Pupil, { id: pupilId }) : null
    if (!pupil) return { pupil: undefined, errors: { pupil: t('boCourses.error.pupil') }, full: false }
    const name = `${pupil.firstName} ${pupil.lastName}`
    const refuse = (errors: FieldErrors, full = false): EnrolmentResult => ({ pupil: name, errors, full })
    if (course.closedAt) return refuse({ pupil: t('boCourses.error.closed') })
    const existing = await tx.findOne(Enrolment, { pupil, course })
    if (existing?.active) return refuse({ pupil: t('boCourses.error.already', { name }) })
    const enrolled = await tx.count(Enrolment, { course, active: true })
    const full = course.capacity !== null && course.capacity !== undefined && enrolled >= course.capacity
    if (full && !force)
      return refuse(
        {
          pupil: t('boCourses.error.full', {
            seats: t(course.capacity === 1 ? 'boCourses.seats.one' : 'boCourses.seats.many', {
              count: course.capacity!,
            }),
          }),
        },
        true,
      )
    if (full && !reason) return refuse({ reason: t('boCourses.error.reason') }, true)
    if (reason.length > 500) return refuse({ reason: t('boCourses.error.tooLong', { max: 500 }) }, full)
    let enrolment = existing
    if (enrolment) enrolment.active = true
    else enrolment = tx.create(Enrolment, { pupil, course })
    await tx.flush()
    // the pupil is the subject, so the change shows in the family's history
    audit(tx, ctx.account, {
      action: 'enrolment.created',
      subject: { type: 'pupil', id: pupil.id },
      details: {
        enrolment: enrolment.id,
        course: { id: course.id, name: course.name },
        reactivated: Boolean(existing),
        ...(full ? { forced: true, reason, enrolled, capacity: course.capacity } : {}),
      },
    })
    return { pupil: name, pupilId: pupil.id, errors: undefined }
  })
}

/**
 * Takes a pupil off a course. The enrolment is kept inactive rather than deleted: its evaluations
 * and absences stay in the pupil's history, and enrolling again reactivates it.
 */
export async function unenrol(ctx: SignedInContext, courseId: number, enrolmentId: number): Promise<string> {
  return ctx.em.transactional(async (tx) => {
    const enrolment = await tx.findOne(
      Enrolment,
      { id: enrolmentId, course: courseId },
      { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
    )
    if (!enrolment) throw new NotFound()
    const pupil = await tx.findOneOrFail(Pupil, enrolment.pupil.id)
    const course = await tx.findOneOrFail(Course, courseId)
    const name = `${pupil.firstName} ${pupil.lastName}`
    if (!enrolment.active) return name
    enrolment.active = false
    audit(tx, ctx.account, {
      action: 'enrolment.removed',
      subject: { type: 'pupil', id: pupil.id },
      details: { enrolment: enrolment.id, course: { id: courseId, name: course.name } },
    })
    return name
  })
}

/** The slot rows a form shows: the given ones, then two empty rows to add slots without a script. */
export function slotRows(slots: readonly CourseSlot[]) {
  return [...slots.map((s) => ({ day: String(s.day), start: s.start, end: s.end })), ...emptyRows(2)]
}

const emptyRows = (n: number) => Array.from({ length: n }, () => ({ day: '', start: '', end: '' }))

/** The slot rows as typed, for a form shown again after a refusal. */
export function typedSlotRows(input: CourseInput) {
  const rows = slotRowsOf(input).map((row) => ({
    day: input[`slots-${row}-day`] ?? '',
    start: input[`slots-${row}-start`] ?? '',
    end: input[`slots-${row}-end`] ?? '',
  }))
  return rows.length ? rows : emptyRows(2)
}

/** A course's slots for its form: the structured ones, or those its older free text names. */
export function formSlotsOf(course: { slots: CourseSlot[]; slot: string | null }): CourseSlot[] {
  return course.slots.length ? course.slots : slotsOfText(course.slot)
}

export { dayNames }
