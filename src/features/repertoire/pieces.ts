import type { Kysely } from 'kysely'
import type { TenantDb } from '../../entities.ts'
import type { SignedInContext } from '../../platform/auth/context.ts'
import { prepare } from '../../platform/db/reads.ts'
import { type Checked, type FieldErrors, refusals } from '../../platform/forms.ts'
import { NotFound } from '../../platform/http/errors.ts'
import type { MessageKey, Translate } from '../../platform/views/i18n.ts'
import { normalizeDate } from '../family/identity.ts'
import { fullName, tenantToday } from '../family/service.ts'
import { type TaughtCourse, taughtCourse } from '../lessons/access.ts'
import { Pupil } from '../pupils/entities.ts'
import { Course, Teacher } from '../teaching/entities.ts'
import { type PiecePeriod, type PieceState, piecePeriods, RepertoirePiece } from './entities.ts'
import { piecesOf, type WorkedPiece } from './service.ts'

/*
 * The pieces a teacher adds to a pupil's répertoire, from the pupil's line of one of their courses:
 * /enseignant/cours/:courseId/eleves/:pupilId/repertoire. The teacher sees every piece of the pupil
 * (all courses, so that two teachers of one pupil know what the other has given) and changes those
 * they added (docs/decisions.md, "Répertoire: pieces").
 */

/** The form's fields, as typed. */
export interface PieceInput {
  title?: string
  composer?: string
  period?: string
  startedOn?: string
  state?: string
  performedOn?: string
}

export interface PieceValues {
  title: string
  composer: string | null
  period: PiecePeriod | null
  startedOn: string
  state: PieceState
  performedOn: string | null
}

export const pieceLimits = { title: 200, composer: 150 } as const

const clean = (value: string | undefined) => (value ?? '').trim().replace(/\s+/g, ' ')

/** Checks the piece form: a French message per refused field, `today` the tenant's date. */
export function checkPiece(input: PieceInput, t: Translate, today: string): Checked<PieceValues> {
  const errors: FieldErrors = {}
  const title = clean(input.title)
  if (!title) errors.title = t('repertoirePiece.error.titleMissing')
  else if (title.length > pieceLimits.title)
    errors.title = t('repertoirePiece.error.tooLong', { max: pieceLimits.title })
  const composer = clean(input.composer)
  if (composer.length > pieceLimits.composer)
    errors.composer = t('repertoirePiece.error.tooLong', { max: pieceLimits.composer })
  const period = clean(input.period)
  if (period && !(piecePeriods as readonly string[]).includes(period))
    errors.period = t('repertoirePiece.error.period')
  const day = (name: 'startedOn' | 'performedOn') => {
    const raw = clean(input[name])
    if (!raw) {
      errors[name] = t('repertoirePiece.error.dateMissing')
      return ''
    }
    const date = normalizeDate(raw)
    if (!date) errors[name] = t('repertoirePiece.error.date')
    else if (date > today) errors[name] = t('repertoirePiece.error.future')
    return date ?? ''
  }
  const startedOn = day('startedOn')
  const state: PieceState = input.state === 'performed' ? 'performed' : 'in_progress'
  if (input.state && input.state !== 'performed' && input.state !== 'in_progress')
    errors.state = t('repertoirePiece.error.state')
  let performedOn: string | null = null
  if (state === 'performed') {
    performedOn = day('performedOn')
    if (performedOn && startedOn && performedOn < startedOn && !errors.performedOn)
      errors.performedOn = t('repertoirePiece.error.beforeStart')
  }
  return {
    values: {
      title,
      composer: composer || null,
      period: (period || null) as PiecePeriod | null,
      startedOn,
      state,
      performedOn,
    },
    errors: refusals(errors),
  }
}

const pageRead = prepare(
  (db: Kysely<TenantDb>, p: { accountId: number; courseId: number; pupilId: number }) =>
    db
      .selectFrom('enrolment as e')
      .innerJoin('pupil as p', 'p.id', 'e.pupil_id')
      .select(['p.id', 'p.first_name as firstName', 'p.last_name as lastName'])
      .select((eb) => [
        eb
          .selectFrom('teacher as t')
          .select('t.id')
          .where('t.account_id', '=', p.accountId)
          .limit(1)
          .as('teacherId'),
        piecesOf(p.pupilId).as('pieces'),
      ])
      .where('e.course_id', '=', p.courseId)
      .where('e.pupil_id', '=', p.pupilId)
      // a pupil taken off the course by staff is no longer the teacher's
      .where('e.active', '=', true),
)

/** A piece as the Répertoire tabs and the teacher's page show it. */
export function describePiece(t: Translate, piece: WorkedPiece) {
  return {
    id: piece.id,
    title: piece.title,
    composer: piece.composer,
    period: piece.period ? t(`repertoirePiece.period.${piece.period}` as MessageKey) : null,
    periodCode: piece.period,
    startedOn: piece.startedOn,
    state: piece.state,
    performedOn: piece.performedOn,
    course: piece.courseName,
    teacher: fullName({ firstName: piece.teacherFirstName ?? '', lastName: piece.teacherLastName ?? '' }),
    addedById: piece.addedById,
  }
}

export type DescribedPiece = ReturnType<typeof describePiece>

/** The pieces, those in progress and those performed apart. */
export function piecesByState(pieces: readonly DescribedPiece[]) {
  return {
    inProgress: pieces.filter((p) => p.state === 'in_progress'),
    performed: pieces.filter((p) => p.state === 'performed'),
  }
}

/**
 * The teacher's page of a pupil's répertoire: a course the account does not teach or replace in, or
 * a pupil not (or no longer) in it, is a 404.
 */
export async function teacherRepertoire(ctx: SignedInContext, courseId: number, pupilId: number) {
  const course = await taughtCourse(ctx.db, ctx.account.id, courseId)
  if (!course) throw new NotFound()
  const found = await pageRead.first(ctx.db, { accountId: ctx.account.id, courseId, pupilId })
  if (!found) throw new NotFound()
  const pieces = found.pieces.map((piece) => describePiece(ctx.t, piece))
  return {
    course,
    pupil: { id: found.id, firstName: found.firstName, lastName: found.lastName },
    teacherId: found.teacherId,
    pieces: pieces.map((piece) => ({
      ...piece,
      mine: piece.addedById !== null && piece.addedById === found.teacherId,
    })),
  }
}

export type TeacherRepertoire = Awaited<ReturnType<typeof teacherRepertoire>>

/** The page's piece the teacher added, to change or delete; another's, or none, is a 404. */
export function ownPiece(page: TeacherRepertoire, pieceId: number) {
  const piece = page.pieces.find((p) => p.id === pieceId)
  if (!piece?.mine) throw new NotFound()
  return piece
}

/** Adds a checked piece to the pupil, worked in the course, as the teacher behind the account. */
export async function addPiece(
  ctx: SignedInContext,
  page: { course: TaughtCourse; pupil: { id: number }; teacherId: number | null },
  values: PieceValues,
) {
  const { em } = ctx
  em.create(RepertoirePiece, {
    pupil: em.getReference(Pupil, page.pupil.id),
    course: em.getReference(Course, page.course.id),
    addedBy: page.teacherId ? em.getReference(Teacher, page.teacherId) : null,
    ...values,
  })
  await em.flush()
}

/** Changes a piece the teacher added (ownPiece said so). */
export async function updatePiece(ctx: SignedInContext, pieceId: number, values: Partial<PieceValues>) {
  const piece = await ctx.em.findOneOrFail(RepertoirePiece, { id: pieceId })
  ctx.em.assign(piece, values)
  await ctx.em.flush()
}

/** Marks a piece performed today, unless it already is (a second tap changes nothing). */
export async function markPerformed(ctx: SignedInContext, pieceId: number) {
  const piece = await ctx.em.findOneOrFail(RepertoirePiece, { id: pieceId })
  if (piece.state === 'performed') return
  ctx.em.assign(piece, { state: 'performed', performedOn: tenantToday(ctx.config) })
  await ctx.em.flush()
}

export async function deletePiece(ctx: SignedInContext, pieceId: number) {
  await ctx.em.nativeDelete(RepertoirePiece, { id: pieceId })
}
