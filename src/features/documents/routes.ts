import multipart, { type MultipartFile } from '@fastify/multipart'
import { create as contentDisposition } from 'content-disposition'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { idParams } from '../../platform/http/schemas.ts'
import { ValidationFailed } from '../../platform/http/errors.ts'
import type { MessageKey } from '../../platform/views/i18n.ts'
import { familyOf } from '../family/service.ts'
import { ownPupil, pupilFrame } from '../pupils/frame.ts'
import { DocumentState } from './entities.ts'
import {
  deleteSubmission,
  familySubmission,
  fileContent,
  type Holder,
  megabyte,
  requirementsOf,
  submitDocument,
  type Upload,
} from './service.ts'
import { readUpload, uploadSlot } from './upload.ts'
import { documentRows } from './view.ts'

/** Sends a stored file as a download: never shown inline, never sniffed into something else. */
export async function sendFile(
  request: FastifyRequest,
  reply: FastifyReply,
  submission: Parameters<typeof fileContent>[1],
) {
  const content = await fileContent(request.em, submission)
  return reply
    .header('content-type', submission.file.contentType)
    .header('content-disposition', contentDisposition(submission.file.fileName, { type: 'attachment' }))
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'private, no-store')
    .send(content)
}

/**
 * The families' "Pièces à fournir": one table for the family and one per pupil, with Importer,
 * Consulter and Supprimer. Uploads are multipart forms read as a stream: the CSRF token and the
 * document's name come before the file, so both are checked before a byte of it is kept.
 */
export default async function documents(app: FastifyInstance) {
  // the largest size a tenant may configure, plus one byte to tell "too large" from "exactly the limit"
  await app.register(multipart, {
    limits: { fields: 4, fieldSize: 1000, files: 1, parts: 6, fileSize: 20 * megabyte + 1 },
    throwFileSizeLimit: false,
  })

  const familyOnly = { constraints: { site: 'tenant' }, preHandler: app.requireRole('family') }

  const render = async (
    request: FastifyRequest,
    reply: FastifyReply,
    holder: Holder,
    submitted?: { document?: string; errors: Record<string, string> },
  ) => {
    const { em, t, tenant } = request
    const query = (request.query as { q?: string }).q ?? ''
    const requirements = await requirementsOf(em, tenant!.config, holder)
    const notice = (request.query as { fait?: keyof typeof notices }).fait
    const view = {
      rows: documentRows(request, requirements, query),
      total: requirements.length,
      query,
      uploadable: requirements.filter((r) => r.state !== DocumentState.validated).map((r) => r.document),
      chosen: submitted?.document ?? '',
      errors: submitted?.errors,
      notice: notice && notices[notice] ? t(notices[notice]) : '',
      intro: tenant!.config.texts?.documentsIntro,
    }
    if (holder.pupil) {
      return reply.view('documents/pupil', {
        ...(await pupilFrame(request, holder.pupil, 'pieces')),
        ...view,
        action: `/eleves/${holder.pupil.id}/pieces`,
      })
    }
    return reply.view('documents/family', {
      title: t('documents.familyTitle'),
      ...view,
      action: '/famille/pieces',
    })
  }

  const notices = {
    envoye: 'documents.uploaded',
    supprime: 'documents.deleted',
  } as const satisfies Record<string, MessageKey>

  const pageQuery = {
    type: 'object',
    properties: {
      q: { type: 'string', maxLength: 100 },
      fait: { type: 'string', enum: Object.keys(notices) },
    },
  } as const

  const verifyCsrf = (request: FastifyRequest, reply: FastifyReply, token: string | undefined) =>
    new Promise<void>((resolve, reject) => {
      request.body = { _csrf: token }
      app.csrfProtection(request, reply, (error?: Error) => (error ? reject(error) : resolve()))
    })

  /** Reads the Importer form; the file is read only once the form's token and document are checked. */
  const receive = async (request: FastifyRequest, reply: FastifyReply, holder: Holder) => {
    const { t, tenant, em } = request
    const fields: Record<string, string> = {}
    const errors: Record<string, string> = {}
    let checked = false
    let upload: Upload | undefined
    try {
      for await (const part of request.parts()) {
        if (part.type === 'field') {
          fields[part.fieldname] = String(part.value)
          continue
        }
        await verifyCsrf(request, reply, fields._csrf)
        checked = true
        const file = part as MultipartFile
        const asked = (await requirementsOf(em, tenant!.config, holder)).map((r) => r.document)
        const document = asked.find((d) => d.id === fields.document)
        if (!document || !file.filename) {
          file.file.resume()
          if (!document) errors.document = t('documents.error.noDocument')
          if (!file.filename) errors.file = t('documents.error.noFile')
          continue
        }
        const read = await readUpload(file, document, t)
        if ('error' in read) errors.file = read.error
        else upload = read.upload
      }
    } catch (error) {
      // refusals (CSRF, too many parts) keep their status; a body cut short or malformed is the
      // family's connection failing mid-file: nothing was stored, and the page says to send it again
      if ((error as { statusCode?: number }).statusCode || error instanceof ValidationFailed) throw error
      request.log.info({ err: error }, 'upload interrupted')
      throw new ValidationFailed({ file: t('documents.error.interrupted') }, { document: fields.document })
    }
    if (!checked) await verifyCsrf(request, reply, fields._csrf)
    if (!upload && !errors.file) errors.file = t('documents.error.noFile')
    if (!fields.document) errors.document = t('documents.error.noDocument')
    if (Object.keys(errors).length > 0) throw new ValidationFailed(errors, { document: fields.document })
    return { documentId: fields.document!, upload: upload! }
  }

  // one of the upload slots from the first byte read to the row written
  const upload = async (request: FastifyRequest, reply: FastifyReply, holder: Holder, back: string) =>
    uploadSlot(() => receiveAndStore(request, reply, holder, back))

  const receiveAndStore = async (
    request: FastifyRequest,
    reply: FastifyReply,
    holder: Holder,
    back: string,
  ) => {
    try {
      const { documentId, upload } = await receive(request, reply, holder)
      await submitDocument(
        request.em,
        request.tenant!.config,
        request.account!,
        holder,
        documentId,
        upload,
        request.t,
      )
      return reply.redirect(`${backTo(request, back)}?fait=envoye`, 303)
    } catch (error) {
      if (!(error instanceof ValidationFailed)) throw error
      return render(request, reply.code(400), holder, {
        document: error.values?.document,
        errors: error.fields,
      })
    }
  }

  // the token is read from the multipart stream by the handler, not by the global CSRF hook
  // the re-enrolment's documents step embeds these forms and asks to come back to it
  const returnQuery = {
    type: 'object',
    properties: {
      retour: { type: 'string', pattern: '^/eleves/[0-9]+/reinscription/(documents|formulaire)$' },
    },
  } as const
  const backTo = (request: FastifyRequest, fallback: string) =>
    (request.query as { retour?: string }).retour ?? fallback
  const multipartPost = {
    ...familyOnly,
    config: { csrf: 'in-handler' as const },
    schema: { querystring: returnQuery },
  }

  app.get('/famille/pieces', { ...familyOnly, schema: { querystring: pageQuery } }, async (request, reply) =>
    render(request, reply, { family: await familyOf(request.em, request.account!) }),
  )

  app.post('/famille/pieces', multipartPost, async (request, reply) =>
    upload(request, reply, { family: await familyOf(request.em, request.account!) }, '/famille/pieces'),
  )

  app.get<{ Params: { id: number } }>(
    '/eleves/:id/pieces',
    {
      ...familyOnly,
      schema: { params: idParams, querystring: pageQuery },
    },
    async (request, reply) => {
      const pupil = await ownPupil(request, request.params.id)
      return render(request, reply, { family: pupil.family, pupil })
    },
  )

  app.post<{ Params: { id: number } }>(
    '/eleves/:id/pieces',
    {
      ...multipartPost,
      schema: { ...multipartPost.schema, params: idParams },
    },
    async (request, reply) => {
      const pupil = await ownPupil(request, request.params.id)
      return upload(request, reply, { family: pupil.family, pupil }, `/eleves/${pupil.id}/pieces`)
    },
  )

  const submissionParams = { params: idParams }

  app.get<{ Params: { id: number } }>(
    '/pieces/:id/fichier',
    { ...familyOnly, schema: submissionParams },
    async (request, reply) => {
      const family = await familyOf(request.em, request.account!)
      return sendFile(request, reply, await familySubmission(request.em, family, request.params.id))
    },
  )

  app.post<{ Params: { id: number } }>(
    '/pieces/:id/supprimer',
    {
      ...familyOnly,
      schema: {
        ...submissionParams,
        querystring: returnQuery,
        body: { type: 'object', properties: { _csrf: { type: 'string', maxLength: 200 } } },
      },
    },
    async (request, reply) => {
      const { em, t } = request
      const family = await familyOf(em, request.account!)
      const found = await familySubmission(em, family, request.params.id)
      const back = found.pupil ? `/eleves/${found.pupil.id}/pieces` : '/famille/pieces'
      try {
        await deleteSubmission(em, request.account!, family, request.params.id, t)
        return reply.redirect(`${backTo(request, back)}?fait=supprime`, 303)
      } catch (error) {
        if (!(error instanceof ValidationFailed)) throw error
        const holder = { family, ...(found.pupil ? { pupil: found.pupil } : {}) }
        return render(request, reply.code(400), holder, { errors: error.fields })
      }
    },
  )
}
