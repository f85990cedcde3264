import type { FastifyInstance, FastifyReply } from 'fastify'
import { type SignedInContext, signedInContext } from '../../platform/auth/context.ts'
import type { FieldErrors } from '../../platform/forms.ts'
import { recordId } from '../../platform/http/schemas.ts'
import type { MessageKey } from '../../platform/views/i18n.ts'
import { fullName, tenantToday } from '../family/service.ts'
import { piecePeriods } from './entities.ts'
import {
  addPiece,
  checkPiece,
  deletePiece,
  markPerformed,
  ownPiece,
  type PieceInput,
  pieceLimits,
  piecesByState,
  type TeacherRepertoire,
  teacherRepertoire,
  updatePiece,
} from './pieces.ts'

interface Params {
  courseId: number
  pupilId: number
}
interface PieceParams extends Params {
  pieceId: number
}

const params = {
  type: 'object',
  properties: { courseId: recordId, pupilId: recordId },
  required: ['courseId', 'pupilId'],
} as const
const pieceParams = {
  type: 'object',
  properties: { courseId: recordId, pupilId: recordId, pieceId: recordId },
  required: ['courseId', 'pupilId', 'pieceId'],
} as const

// generous limits: a value too long is told in French beside its field, not refused as a bad request
const text = { type: 'string', maxLength: 2000 } as const
const pieceBody = {
  type: 'object',
  properties: {
    _csrf: { type: 'string', maxLength: 200 },
    title: text,
    composer: text,
    period: text,
    startedOn: text,
    state: text,
    performedOn: text,
  },
} as const
const csrfBody = { type: 'object', properties: { _csrf: { type: 'string', maxLength: 200 } } } as const

const notices = {
  ajoute: 'repertoirePiece.notice.added',
  modifie: 'repertoirePiece.notice.saved',
  joue: 'repertoirePiece.notice.performed',
  supprime: 'repertoirePiece.notice.deleted',
} as const satisfies Record<string, MessageKey>
type Notice = keyof typeof notices
const noticeQuery = {
  type: 'object',
  properties: { enregistre: { type: 'string', enum: Object.keys(notices) } },
} as const

const pathOf = (page: TeacherRepertoire) =>
  `/enseignant/cours/${page.course.id}/eleves/${page.pupil.id}/repertoire`

/** The field labels, for the error summary and the form. */
function labels(ctx: SignedInContext) {
  const { t } = ctx
  return {
    title: t('repertoirePiece.field.title'),
    composer: t('repertoirePiece.field.composer'),
    period: t('repertoirePiece.field.period'),
    startedOn: t('repertoirePiece.field.startedOn'),
    state: t('repertoirePiece.field.state'),
    performedOn: t('repertoirePiece.field.performedOn'),
  }
}

/**
 * Répertoire for teachers: the pieces a pupil of one of their courses works, added, changed, marked
 * performed and deleted from the pupil's page. Every URL names the course and the pupil: a course the
 * teacher does not teach, or a pupil not in it, is a 404.
 */
export default async function repertoireRoutes(app: FastifyInstance) {
  const teacherOnly = { constraints: { site: 'tenant' }, preHandler: app.requireRole('teacher') }
  // the role is checked before the body: a family posting to a teacher's URL is refused, not told its form is wrong
  const teacherWrites = { constraints: { site: 'tenant' }, preValidation: app.requireRole('teacher') }

  const common = (ctx: SignedInContext, page: TeacherRepertoire) => ({
    course: page.course,
    pupil: page.pupil,
    pupilName: fullName(page.pupil),
    path: pathOf(page),
    periods: piecePeriods.map((code) => ({
      code,
      label: ctx.t(`repertoirePiece.period.${code}` as MessageKey),
    })),
    labels: labels(ctx),
    limits: pieceLimits,
  })

  const renderList = (
    reply: FastifyReply,
    ctx: SignedInContext,
    page: TeacherRepertoire,
    options: { notice?: Notice; input?: PieceInput; errors?: FieldErrors } = {},
  ) =>
    reply.view('repertoire/teacher', {
      ...common(ctx, page),
      title: ctx.t('repertoirePiece.teacher.title', { name: fullName(page.pupil) }),
      ...piecesByState(page.pieces),
      input: options.input ?? { startedOn: tenantToday(ctx.config), state: 'in_progress' },
      errors: options.errors,
      notice: options.notice ? ctx.t(notices[options.notice]) : '',
    })

  const renderEdit = (
    reply: FastifyReply,
    ctx: SignedInContext,
    page: TeacherRepertoire,
    pieceId: number,
    submitted?: { input: PieceInput; errors: FieldErrors },
  ) => {
    const piece = ownPiece(page, pieceId)
    return reply.view('repertoire/edit', {
      ...common(ctx, page),
      title: ctx.t('repertoirePiece.edit.title', { title: piece.title }),
      piece,
      input: submitted?.input ?? {
        title: piece.title,
        composer: piece.composer ?? '',
        period: piece.periodCode ?? '',
        startedOn: piece.startedOn,
        state: piece.state,
        performedOn: piece.performedOn ?? '',
      },
      errors: submitted?.errors,
    })
  }

  app.get<{ Params: Params; Querystring: { enregistre?: Notice } }>(
    '/enseignant/cours/:courseId/eleves/:pupilId/repertoire',
    { ...teacherOnly, schema: { params, querystring: noticeQuery } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { courseId, pupilId } = request.params
      const page = await teacherRepertoire(ctx, courseId, pupilId)
      return renderList(reply, ctx, page, { notice: request.query.enregistre })
    },
  )

  app.post<{ Params: Params; Body: PieceInput }>(
    '/enseignant/cours/:courseId/eleves/:pupilId/repertoire',
    { ...teacherWrites, schema: { params, body: pieceBody } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { courseId, pupilId } = request.params
      const page = await teacherRepertoire(ctx, courseId, pupilId)
      const checked = checkPiece(request.body, ctx.t, tenantToday(ctx.config))
      if (checked.errors)
        return renderList(reply.code(400), ctx, page, { input: request.body, errors: checked.errors })
      await addPiece(ctx, page, checked.values)
      return reply.redirect(`${pathOf(page)}?enregistre=ajoute`, 303)
    },
  )

  app.get<{ Params: PieceParams }>(
    '/enseignant/cours/:courseId/eleves/:pupilId/repertoire/:pieceId',
    { ...teacherOnly, schema: { params: pieceParams } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { courseId, pupilId, pieceId } = request.params
      return renderEdit(reply, ctx, await teacherRepertoire(ctx, courseId, pupilId), pieceId)
    },
  )

  app.post<{ Params: PieceParams; Body: PieceInput }>(
    '/enseignant/cours/:courseId/eleves/:pupilId/repertoire/:pieceId',
    { ...teacherWrites, schema: { params: pieceParams, body: pieceBody } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { courseId, pupilId, pieceId } = request.params
      const page = await teacherRepertoire(ctx, courseId, pupilId)
      ownPiece(page, pieceId)
      const checked = checkPiece(request.body, ctx.t, tenantToday(ctx.config))
      if (checked.errors)
        return renderEdit(reply.code(400), ctx, page, pieceId, {
          input: request.body,
          errors: checked.errors,
        })
      await updatePiece(ctx, pieceId, checked.values)
      return reply.redirect(`${pathOf(page)}?enregistre=modifie`, 303)
    },
  )

  app.post<{ Params: PieceParams }>(
    '/enseignant/cours/:courseId/eleves/:pupilId/repertoire/:pieceId/jouee',
    { ...teacherWrites, schema: { params: pieceParams, body: csrfBody } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { courseId, pupilId, pieceId } = request.params
      const page = await teacherRepertoire(ctx, courseId, pupilId)
      ownPiece(page, pieceId)
      await markPerformed(ctx, pieceId)
      return reply.redirect(`${pathOf(page)}?enregistre=joue`, 303)
    },
  )

  app.post<{ Params: PieceParams }>(
    '/enseignant/cours/:courseId/eleves/:pupilId/repertoire/:pieceId/suppression',
    { ...teacherWrites, schema: { params: pieceParams, body: csrfBody } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { courseId, pupilId, pieceId } = request.params
      const page = await teacherRepertoire(ctx, courseId, pupilId)
      ownPiece(page, pieceId)
      await deletePiece(ctx, pieceId)
      return reply.redirect(`${pathOf(page)}?enregistre=supprime`, 303)
    },
  )
}
