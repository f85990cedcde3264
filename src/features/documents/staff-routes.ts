import { create as contentDisposition } from 'content-disposition'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { decisionView, type RefusedDecision, reviewRoutes } from '../staff/decision.ts'
import { idParams } from '../../platform/http/schemas.ts'
import { formatDate, formatTime } from '../../platform/views/dates.ts'
import { fullName } from '../family/service.ts'
import { DocumentState, type DocumentSubmission } from './entities.ts'
import {
  decideDocument,
  documentQueue,
  fileContent,
  sizeInMb,
  type QueueFilters,
  submissionForReview,
} from './service.ts'
import { sendFile } from './routes.ts'
import { stateLabels } from './view.ts'

/** Staff review of the pièces: a filtered queue, a safe preview, validate or refuse with a reason. */
export default async function documentReview(app: FastifyInstance) {
  const staffOnly = { constraints: { site: 'tenant' }, preHandler: app.requireRole('staff', 'admin') }

  const describe = (request: FastifyRequest, submission: DocumentSubmission) => {
    const { tenant, t } = request
    const timeZone = tenant!.config.timezone
    return {
      id: submission.id,
      document:
        tenant!.config.documents?.find((d) => d.id === submission.documentId)?.label ?? submission.documentId,
      pupil: submission.pupil ? fullName(submission.pupil) : '',
      fileName: submission.file.fileName,
      contentType: submission.file.contentType,
      size: sizeInMb(submission.file.size),
      date: `${formatDate(submission.createdAt, timeZone)} ${formatTime(submission.createdAt, timeZone)}`,
      state: submission.state,
      stateLabel: t(stateLabels[submission.state as DocumentState]),
      reason: submission.reason,
    }
  }

  app.get<{ Querystring: { document?: string; etat?: string; eleve?: string } }>(
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
          },
        },
      },
    },
    async (request, reply) => {
      const { document = '', etat = DocumentState.pending, eleve = '' } = request.query
      const filters: QueueFilters = {
        ...(document ? { document } : {}),
        ...(etat && etat !== 'tous' ? { state: etat as DocumentState } : {}),
        ...(eleve ? { pupil: eleve } : {}),
      }
      const items = await documentQueue(request.em, filters)
      return reply.view('documents/queue', {
        title: request.t('documents.queue.title'),
        items: items.map(({ submission, familyName }) => ({ ...describe(request, submission), familyName })),
        documents: request.tenant!.config.documents ?? [],
        filters: { document, etat, eleve },
      })
    },
  )

  const render = async (
    request: FastifyRequest,
    reply: FastifyReply,
    id: number,
    submitted?: RefusedDecision,
  ) => {
    const { submission, familyName } = await submissionForReview(request.em, id)
    return reply.view('documents/review', {
      title: request.t('documents.review.title', { id }),
      item: { ...describe(request, submission), familyName },
      decidedBy: submission.decidedBy?.displayName,
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
    async (request, reply) =>
      sendFile(request, reply, (await submissionForReview(request.em, request.params.id)).submission),
  )

  /**
   * The file shown inside the review page. Its type was decided from its bytes at upload, the
   * response may be framed only by this site, runs no script of its own, and is never sniffed.
   */
  app.get<{ Params: { id: number } }>(
    '/admin/pieces/:id/apercu',
    { ...staffOnly, schema: { params: idParams } },
    async (request, reply) => {
      const { submission } = await submissionForReview(request.em, request.params.id)
      const content = await fileContent(request.em, submission)
      return reply
        .header('content-type', submission.file.contentType)
        .header('content-disposition', contentDisposition(submission.file.fileName, { type: 'inline' }))
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
