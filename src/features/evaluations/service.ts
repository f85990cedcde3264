import { LockMode } from '@mikro-orm/core'
import { type Kysely, sql } from 'kysely'
import { jsonArrayFrom } from 'kysely/helpers/postgres'
import type { TenantDb } from '../../entities.ts'
import { audit } from '../../platform/audit/audit.ts'
import type { SignedInContext } from '../../platform/auth/context.ts'
import { Account } from '../../platform/auth/entities.ts'
import type { Em } from '../../platform/db/orm.ts'
import { prepare } from '../../platform/db/reads.ts'
import { type FieldErrors, refusals } from '../../platform/forms.ts'
import { NotFound } from '../../platform/http/errors.ts'
import { offsetOf, pageSize } from '../../platform/http/pagination.ts'
import { queueMail } from '../../platform/mail/outbox.ts'
import { type Period, periodOf } from '../../platform/tenancy/evaluation-periods.ts'
import { fullName, tenantToday } from '../family/service.ts'
import type { TaughtCourse } from '../lessons/access.ts'
import { Enrolment, Evaluation, EvaluationStatus } from '../teaching/entities.ts'
import { checkEvaluation, type EvaluationInput } from './scale.ts'

/*
 * Evaluations: one per enrolment and period of the tenant's YAML. The teacher saves a draft and
 * publishes it; only published ones reach families (their Cours tab, the bulletin), who are mailed
 * when one is published. A published evaluation the teacher changes stays published (no second mail);
 * staff asking for a correction send it back to draft, and the teacher is mailed.
 */

const text = (value: unknown) => sql<string>`cast(${value} as text)`

const rosterRead = prepare((db: Kysely<TenantDb>, p: { courseId: number; period: string }) =>
  db
    .selectFrom('enrolment as e')
    .innerJoin('pupil as p', 'p.id', 'e.pupil_id')
    .leftJoin('evaluation as v', (join) =>
      join.onRef('v.enrolment_id', '=', 'e.id').on('v.period', '=', text(p.period)),
    )
    .select([
      'e.id as enrolmentId',
      'p.first_name as firstName',
      'p.last_name as lastName',
      'v.id',
      'v.status',
      'v.appreciation',
      'v.level',
      'v.criteria',
      'v.given_on as givenOn',
      'v.published_at as publishedAt',
      'v.correction',
      'v.correction_requested_at as correctionRequestedAt',
    ])
    .where('e.course_id', '=', p.courseId)
    .where('e.active', '=', true)
    .orderBy('p.last_name')
    .orderBy('p.first_name')
    .orderBy('e.id'),
)

/** The pupils of a course, each with their evaluation of the period if one was written. */
export function rosterOf(ctx: SignedInContext, courseId: number, period: Period) {
  return rosterRead.all(ctx.db, { courseId, period: period.code })
}

export type RosterRow = Awaited<ReturnType<typeof rosterOf>>[number]

const guardiansRead = prepare((db: Kysely<TenantDb>, p: { enrolmentId: number }) =>
  db
    .selectFrom('enrolment as e')
    .innerJoin('pupil as p', 'p.id', 'e.pupil_id')
    .innerJoin('guardian as g', 'g.family_id', 'p.family_id')
    .select(['g.email', 'g.first_name as firstName', 'g.last_name as lastName'])
    .where('e.id', '=', p.enrolmentId)
    .where('g.email', 'is not', null)
    .orderBy('g.rank'),
)

/** Mails the pupil's guardians (each address once) that an evaluation of the course was published. */
async function mailFamily(
  tx: Em,
  ctx: SignedInContext,
  enrolment: { id: number; pupil: { id: number; firstName: string; lastName: string } },
  course: { name: string },
  period: string,
) {
  const seen = new Set<string>()
  for (const guardian of await guardiansRead.all(tx, { enrolmentId: enrolment.id })) {
    const to = guardian.email!.trim()
    if (seen.has(to.toLowerCase())) continue
    seen.add(to.toLowerCase())
    queueMail(tx, ctx.config, ctx.config.locale ?? 'fr', {
      to,
      template: 'evaluation-published',
      data: {
        displayName: fullName(guardian),
        pupil: fullName(enrolment.pupil),
        course: course.name,
        period,
        link: `${ctx.baseUrl}/eleves/${enrolment.pupil.id}/cours/${enrolment.id}`,
      },
    })
  }
}

export type SaveOutcome = 'draft' | 'published' | 'updated'

/**
 * Saves a teacher's evaluation of a pupil of the course for a period, as a draft or published; a
 * published one stays published. The refused fields come back, nothing is saved then.
 */
export async function saveEvaluation(
  ctx: SignedInContext,
  course: TaughtCourse,
  enrolmentId: number,
  periodCode: string | undefined,
  input: EvaluationInput,
  publish: boolean,
): Promise<{ outcome?: SaveOutcome; errors?: FieldErrors }> {
  const { t, config } = ctx
  const period = periodOf(config, periodCode)
  return ctx.em.transactional(async (tx) => {
    const enrolment = await tx.findOne(
      Enrolment,
      { id: enrolmentId, course: course.id, active: true },
      { populate: ['pupil'] },
    )
    if (!enrolment) throw new NotFound()
    if (!period) return { errors: { periode: t('evaluations.error.unknownPeriod') } }
    const existing = await tx.findOne(
      Evaluation,
      { enrolment, period: period.code },
      { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
    )
    const wasPublished = existing?.status === EvaluationStatus.published
    const checked = checkEvaluation(input, config, t, publish || wasPublished)
    if (checked.errors) return { errors: checked.errors }
    const evaluation =
      existing ??
      tx.create(Evaluation, {
        enrolment,
        period: period.code,
        term: period.label,
        givenOn: tenantToday(config),
        appreciation: '',
      })
    Object.assign(evaluation, checked.values)
    evaluation.term = period.label
    evaluation.givenOn = tenantToday(config)
    evaluation.author = tx.getReference(Account, ctx.account.id)
    let outcome: SaveOutcome = 'draft'
    if (wasPublished) outcome = 'updated'
    else if (publish) {
      outcome = 'published'
      evaluation.status = EvaluationStatus.published
      evaluation.publishedAt = new Date()
      evaluation.correction = null
      evaluation.correctionRequestedAt = null
      evaluation.correctionRequestedBy = null
      await mailFamily(tx, ctx, enrolment, course, period.label)
    }
    await tx.flush()
    if (outcome !== 'draft')
      audit(tx, ctx.account, {
        action: outcome === 'published' ? 'evaluation.published' : 'evaluation.changed',
        subject: { type: 'evaluation', id: evaluation.id },
        details: { enrolment: enrolment.id, period: period.code },
      })
    return { outcome }
  })
}

/** What the staff list filters on; undefined shows all. */
export interface StaffFilters {
  period?: string
  course?: number
  teacher?: number
  state?: 'draft' | 'published' | 'correction'
}

const staffListRead = prepare(
  (
    db: Kysely<TenantDb>,
    p: {
      yearId: number
      period: string | null
      courseId: number | null
      teacherId: number | null
      state: string | null
      limit: number
      offset: number
    },
  ) => {
    const matching = db
      .selectFrom('evaluation as v')
      .innerJoin('enrolment as e', 'e.id', 'v.enrolment_id')
      .innerJoin('pupil as p', 'p.id', 'e.pupil_id')
      .innerJoin('course as c', 'c.id', 'e.course_id')
      .leftJoin('teacher as t', 't.id', 'c.teacher_id')
      .select([
        'v.id',
        'v.period',
        'v.term',
        'v.status',
        'v.given_on as givenOn',
        'v.correction',
        'p.id as pupilId',
        'p.first_name as firstName',
        'p.last_name as lastName',
        'c.id as courseId',
        'c.name as courseName',
        't.first_name as teacherFirstName',
        't.last_name as teacherLastName',
      ])
      .where('c.school_year_id', '=', p.yearId)
      .where((eb) =>
        eb.and([
          sql<boolean>`(${text(p.period)} is null or v.period = ${text(p.period)})`,
          sql<boolean>`(${p.courseId}::integer is null or c.id = ${p.courseId}::integer)`,
          sql<boolean>`(${p.teacherId}::integer is null or c.teacher_id = ${p.teacherId}::integer)`,
          sql<boolean>`(${text(p.state)} is null
            or (${text(p.state)} = 'correction' and v.correction is not null)
            or (${text(p.state)} <> 'correction' and v.status = ${text(p.state)}))`,
        ]),
      )
    return db.selectNoFrom((eb) => [
      eb
        .selectFrom(matching.as('q'))
        .select((inner) => inner.cast<number>(inner.fn.countAll(), 'integer').as('n'))
        .as('total'),
      jsonArrayFrom(
        eb
          .selectFrom(matching.as('r'))
          .selectAll('r')
          .orderBy('r.lastName')
          .orderBy('r.firstName')
          .orderBy('r.courseName')
          .orderBy('r.givenOn')
          .orderBy('r.id')
          .limit(p.limit)
          .offset(p.offset),
      ).as('rows'),
    ])
  },
)

/** One page of the year's evaluations for staff, drafts included, filtered in SQL. */
export async function staffEvaluations(
  ctx: SignedInContext,
  yearId: number,
  filters: StaffFilters,
  page: number,
) {
  const found = await staffListRead.first(ctx.db, {
    yearId,
    period: filters.period ?? null,
    courseId: filters.course ?? null,
    teacherId: filters.teacher ?? null,
    state: filters.state ?? null,
    limit: pageSize,
    offset: offsetOf(page),
  })
  return { total: found?.total ?? 0, rows: found?.rows ?? [] }
}

const filterChoicesRead = prepare((db: Kysely<TenantDb>, p: { yearId: number }) =>
  db.selectNoFrom((eb) => [
    jsonArrayFrom(
      eb
        .selectFrom('course as c')
        .select(['c.id', 'c.name'])
        .where('c.school_year_id', '=', p.yearId)
        .orderBy('c.name')
        .orderBy('c.id'),
    ).as('courses'),
    jsonArrayFrom(
      eb
        .selectFrom('teacher as t')
        .select(['t.id', 't.first_name as firstName', 't.last_name as lastName'])
        .where((inner) =>
          inner.exists(
            inner
              .selectFrom('course as tc')
              .select('tc.id')
              .whereRef('tc.teacher_id', '=', 't.id')
              .where('tc.school_year_id', '=', p.yearId),
          ),
        )
        .orderBy('t.last_name')
        .orderBy('t.first_name'),
    ).as('teachers'),
  ]),
)

/** The year's courses and teachers, the choices of the staff list's filters. */
export async function filterChoices(ctx: SignedInContext, yearId: number) {
  const found = await filterChoicesRead.first(ctx.db, { yearId })
  return { courses: found?.courses ?? [], teachers: found?.teachers ?? [] }
}

const staffOneRead = prepare((db: Kysely<TenantDb>, p: { id: number }) =>
  db
    .selectFrom('evaluation as v')
    .innerJoin('enrolment as e', 'e.id', 'v.enrolment_id')
    .innerJoin('pupil as p', 'p.id', 'e.pupil_id')
    .innerJoin('course as c', 'c.id', 'e.course_id')
    .innerJoin('school_year as y', 'y.id', 'c.school_year_id')
    .leftJoin('teacher as t', 't.id', 'c.teacher_id')
    .leftJoin('account as a', 'a.id', 'v.author_id')
    .leftJoin('account as r', 'r.id', 'v.correction_requested_by_id')
    .select([
      'v.id',
      'v.period',
      'v.term',
      'v.status',
      'v.given_on as givenOn',
      'v.published_at as publishedAt',
      'v.appreciation',
      'v.grade',
      'v.level',
      'v.criteria',
      'v.correction',
      'v.correction_requested_at as correctionRequestedAt',
      'r.display_name as correctionRequestedBy',
      'a.display_name as author',
      'p.id as pupilId',
      'p.first_name as firstName',
      'p.last_name as lastName',
      'c.id as courseId',
      'c.name as courseName',
      'y.label as yearLabel',
      't.first_name as teacherFirstName',
      't.last_name as teacherLastName',
    ])
    .where('v.id', '=', p.id),
)

/** One evaluation as staff open it; an unknown id is a 404. */
export async function staffEvaluation(ctx: SignedInContext, id: number) {
  const found = await staffOneRead.first(ctx.db, { id })
  if (!found) throw new NotFound()
  return found
}

export type StaffEvaluation = Awaited<ReturnType<typeof staffEvaluation>>

/** The longest correction request staff may write. */
export const correctionMax = 1000

/**
 * Staff ask the teacher to correct an evaluation: it goes back to draft (families no longer see
 * it), the message is kept for the teacher and mailed to them, and the request is audited.
 */
export async function requestCorrection(
  ctx: SignedInContext,
  id: number,
  input: { message?: string },
): Promise<FieldErrors | undefined> {
  const { t, config } = ctx
  const message = (input.message ?? '').replace(/\r\n/g, '\n').trim()
  const errors: FieldErrors = {}
  if (!message) errors.message = t('evaluations.error.messageRequired')
  else if (message.length > correctionMax)
    errors.message = t('evaluations.error.tooLong', { max: correctionMax, length: message.length })
  if (refusals(errors)) return errors
  return ctx.em.transactional(async (tx) => {
    const evaluation = await tx.findOne(
      Evaluation,
      { id },
      {
        populate: ['enrolment.pupil', 'enrolment.course.teacher.account', 'author'],
        lockMode: LockMode.PESSIMISTIC_WRITE,
        refresh: true,
      },
    )
    if (!evaluation) throw new NotFound()
    evaluation.status = EvaluationStatus.draft
    evaluation.correction = message
    evaluation.correctionRequestedAt = new Date()
    evaluation.correctionRequestedBy = tx.getReference(Account, ctx.account.id)
    audit(tx, ctx.account, {
      action: 'evaluation.correctionRequested',
      subject: { type: 'evaluation', id: evaluation.id },
      details: { enrolment: evaluation.enrolment.id, period: evaluation.period, message },
    })
    const course = evaluation.enrolment.course
    const teacher = course.teacher?.account ?? evaluation.author
    if (teacher && !teacher.disabled)
      queueMail(tx, config, config.locale ?? 'fr', {
        to: teacher.email,
        template: 'evaluation-correction',
        data: {
          displayName: teacher.displayName,
          pupil: fullName(evaluation.enrolment.pupil),
          course: course.name,
          period: periodOf(config, evaluation.period ?? undefined)?.label ?? evaluation.term,
          message,
          link: `${ctx.baseUrl}/enseignant/cours/${course.id}/evaluations?periode=${encodeURIComponent(evaluation.period ?? '')}#eleve-${evaluation.enrolment.id}`,
        },
      })
    return undefined
  })
}
