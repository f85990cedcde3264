import { create as contentDisposition } from 'content-disposition'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { signedInContext, type TenantContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import { pageOf, pageParam } from '../../platform/http/pagination.ts'
import { idParams } from '../../platform/http/schemas.ts'
import { formatDate, formatTime } from '../../platform/views/dates.ts'
import { fullName } from '../family/service.ts'
import { decisionView, type RefusedDecision, reviewRoutes } from '../shared/decision.ts'
import { stateLabels } from '../shared/document-table.ts'
import { DocumentState } from './entities.ts'
import { sendFile } from './routes.ts'
import {
  decideDocument,
  documentQueue,
  fileContent,
  type QueueRow,
  sizeInMb,
  submissionForReview,
} from './service.ts'

/** "Camille Martin", or '' when the columns of an outer join are null. */
function nameOf(firstName: string | null, lastName: string | null): string {
  return firstName === null ? '' : fullName({ firstName, lastName: lastName ?? '' })
}

/** An upload as the staff queue and the review page show it. */
function describe(ctx: Pick<TenantContext, 'config' | 't'>, row: QueueRow) {
  const { config, t } = ctx
  const timeZone = config.timezone
  return {
    id: row.id,
    document: config.documents?.find((d) => d.id === row.documentId)?.label ?? row.documentId,
    pupil: nameOf(row.pupilFirstName, row.pupilLastName),
    familyName: nameOf(row.guardianFirstName, row.guardianLastName),
    fileName: row.fileName,
    contentType: row.contentType,
    size: sizeInMb(row.size),
    date: `${formatDate(row.createdAt, timeZone)} ${formatTime(row.createdAt, timeZone)}`,
    state: row.state,
    stateLabel: t(stateLabels[row.state]),
    reason: row.reason,
  }
}

/** Staff review of the pièces: a filtered queue, a safe preview, validate or refuse with a reason. */
export default async function documentReview(app: FastifyInstance) {
  const staffOnly = { constraints: { site: 'tenant' }, preHandler: app.requireRole(...staffAccess.decide) }

  app.get<{ Querystring: { document?: string; etat?: string; eleve?: string; page?: number } }>(
    '/admin/pieces',
    {
      ...staffOnly,
      schema: {
        querystring: {
          type: 'object',
          properties: {
            document: { type: 'string', maxLength: 60 },
            etat: { type: 'string', enum: ['', 'tous', ...Object.values(DocumentState)] },
            eleve: { type: 'string', maxLength: 100 },
            ...pageParam,
          },
        },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { document = '', etat = DocumentState.pending, eleve = '', page = 1 } = request.query
      const { total, rows } = await documentQueue(
        ctx.db,
        {
          document: document || null,
          state: etat && etat !== 'tous' ? (etat as DocumentState) : null,
          pupil: eleve || null,
        },
        page,
      )
      return reply.view('documents/queue', {
        title: ctx.t('documents.queue.title'),
        items: rows.map((row) => describe(ctx, row)),
        documents: ctx.config.documents ?? [],
        filters: { document, etat, eleve },
        page: pageOf(total, page, '/admin/pieces', { document, etat, eleve }),
      })
    },
  )

  const render = async (
    request: FastifyRequest,
    reply: FastifyReply,
    id: number,
    submitted?: RefusedDecision,
  ) => {
    const ctx = signedInContext(request)
    const submission = await submissionForReview(ctx.db, id)
    return reply.view('documents/review', {
      title: ctx.t('documents.review.title', { id }),
      item: describe(ctx, submission),
      decidedBy: submission.decidedBy,
      decidedAt: submission.decidedAt,
      ...decisionView(request, submitted),
    })
  }

  reviewRoutes(app, {
    base: '/admin/pieces',
    preHandler: staffOnly.preHandler,
    render,
    decide: decideDocument,
  })

  app.get<{ Params: { id: number } }>(
    '/admin/pieces/:id/fichier',
    { ...staffOnly, schema: { params: idParams } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      return sendFile(ctx, reply, await submissionForReview(ctx.db, request.params.id))
    },
  )

  /**
   * The file shown inside the review page. Its type was decided from its bytes at upload, the
   * response may be framed only by this site, runs no script of its own, and is never sniffed.
   */
  app.get<{ Params: { id: number } }>(
    '/admin/pieces/:id/apercu',
    { ...staffOnly, schema: { params: idParams } },
    async (request, reply) => {
      const { db } = signedInContext(request)
      const submission = await submissionForReview(db, request.params.id)
      const content = await fileContent(db, submission.fileId)
      return reply
        .header('content-type', submission.contentType)
        .header('content-disposition', contentDisposition(submission.fileName, { type: 'inline' }))
        .header('x-content-type-options', 'nosniff')
        .header(
          'content-security-policy',
          "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'",
        )
        .header('x-frame-options', 'SAMEORIGIN')
        .header('cache-control', 'private, no-store')
        .send(content)
    },
  )
}
