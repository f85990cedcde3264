import multipart, { type MultipartFile } from '@fastify/multipart'
import { create as contentDisposition } from 'content-disposition'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { type SignedInContext, signedInContext } from '../../platform/auth/context.ts'
import type { FieldErrors } from '../../platform/forms.ts'
import { idParams } from '../../platform/http/schemas.ts'
import type { MessageKey } from '../../platform/views/i18n.ts'
import { documentRows, uploadable } from '../shared/document-table.ts'
import { pupilFrame } from '../shared/pupil-frame.ts'
import {
  deleteSubmission,
  documentsPage,
  familySubmission,
  fileContent,
  megabyte,
  submitDocument,
  type Upload,
} from './service.ts'
import { BodyStalled, readUpload, uploadSlots, watchBody } from './upload.ts'

/** Sends a stored file as a download: never shown inline, never sniffed into something else. */
export async function sendFile(
  ctx: SignedInContext,
  reply: FastifyReply,
  file: { fileId: number; fileName: string; contentType: string },
) {
  const content = await fileContent(ctx.db, file.fileId)
  return reply
    .header('content-type', file.contentType)
    .header('content-disposition', contentDisposition(file.fileName, { type: 'attachment' }))
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'private, no-store')
    .send(content)
}

type Page = Awaited<ReturnType<typeof documentsPage>>

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

// the re-enrolment's documents step embeds these forms and asks to come back to it
const returnQuery = {
  type: 'object',
  properties: {
    retour: { type: 'string', pattern: '^/eleves/[0-9]+/reinscription/(documents|formulaire)$' },
  },
} as const

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

  const render = (
    request: FastifyRequest,
    reply: FastifyReply,
    ctx: SignedInContext,
    page: Page,
    submitted?: { document?: string | undefined; errors: FieldErrors },
  ) => {
    const { t, config } = ctx
    const query = (request.query as { q?: string }).q ?? ''
    const notice = (request.query as { fait?: keyof typeof notices }).fait
    const chosen = page.requirements.find((r) => r.document.id === submitted?.document)?.document
    const view = {
      rows: documentRows(ctx, page.requirements, query),
      total: page.requirements.length,
      query,
      uploadable: uploadable(page.requirements),
      chosen: submitted?.document ?? '',
      errors: submitted?.errors,
      // the summary names the field as its row's form does
      labels: {
        document: t('documents.col.document'),
        file: chosen ? t('documents.fileFor', { document: chosen.label }) : t('documents.col.document'),
      },
      notice: notice && notices[notice] ? t(notices[notice]) : '',
      intro: config.texts?.documentsIntro,
    }
    if (page.pupil) {
      return reply.view('documents/pupil', {
        ...pupilFrame(ctx, page.household, page.pupil, 'pieces'),
        ...view,
        action: `/eleves/${page.pupil.id}/pieces`,
      })
    }
    return reply.view('documents/family', {
      title: t('documents.familyTitle'),
      ...view,
      action: '/famille/pieces',
    })
  }

  const verifyCsrf = (request: FastifyRequest, reply: FastifyReply, token: string | undefined) =>
    new Promise<void>((resolve, reject) => {
      request.body = { _csrf: token }
      app.csrfProtection(request, reply, (error?: Error) => (error ? reject(error) : resolve()))
    })

  /** Reads the Importer form; the file is read only once the form's token and document are checked. */
  const receive = async (
    request: FastifyRequest,
    reply: FastifyReply,
    ctx: SignedInContext,
    page: Page,
  ): Promise<{ document?: string; upload?: Upload; errors?: FieldErrors }> => {
    const { t } = ctx
    const fields: Record<string, string> = {}
    const errors: FieldErrors = {}
    let checked = false
    let upload: Upload | undefined
    const interrupted = () => ({
      document: fields.document,
      errors: { file: t('documents.error.interrupted') },
    })
    // the client left while the page was read: the form's parser would wait for a close already past
    if (request.raw.socket.destroyed) return interrupted()
    const watch = watchBody(request.raw, app.config.uploadIdleTimeoutMs)
    try {
      for await (const part of request.parts()) {
        if (part.type === 'field') {
          fields[part.fieldname] = String(part.value)
          continue
        }
        await verifyCsrf(request, reply, fields._csrf)
        checked = true
        const file = part as MultipartFile
        const document = page.requirements.map((r) => r.document).find((d) => d.id === fields.document)
        if (!document || !file.filename) {
          file.file.resume()
          if (!document) errors.document = t('documents.error.noDocument')
          if (!file.filename) errors.file = t('documents.error.noFile')
          continue
        }
        watch.reading(file.file)
        const read = await readUpload(file, document, t)
        watch.reading(request.raw)
        if ('error' in read) errors.file = read.error
        else upload = read.upload
      }
    } catch (error) {
      // refusals (CSRF, too many parts) keep their status; a body cut short, stalled or malformed is
      // the family's connection failing mid-file: nothing was stored, and the page says to send it again
      if ((error as { statusCode?: number }).statusCode) throw error
      request.log.info({ err: error }, 'upload interrupted')
      // the rest of a stalled body is never read: the connection cannot carry another request
      if (error instanceof BodyStalled) reply.header('connection', 'close')
      return interrupted()
    } finally {
      watch.stop()
    }
    if (!checked) await verifyCsrf(request, reply, fields._csrf)
    if (!upload && !errors.file) errors.file = t('documents.error.noFile')
    if (!fields.document) errors.document = t('documents.error.noDocument')
    if (Object.keys(errors).length > 0) return { document: fields.document, errors }
    return { document: fields.document, upload }
  }

  const backTo = (request: FastifyRequest, fallback: string) =>
    (request.query as { retour?: string }).retour ?? fallback

  /**
   * Receives and stores an upload, holding one of the upload slots from the first byte read to the
   * row written; the answer is sent once the slot is given back, so a client slow to read it keeps none.
   */
  const upload = async (request: FastifyRequest, reply: FastifyReply, pupilId?: number) => {
    const done = await uploadSlots.run(request.ip, request.raw.socket, async () => {
      const ctx = signedInContext(request)
      const page = await documentsPage(ctx, pupilId)
      const received = await receive(request, reply, ctx, page)
      const errors =
        received.errors ?? (await submitDocument(ctx, page.target, received.document!, received.upload!))
      return { ctx, page, document: received.document, errors }
    })
    if (!done) {
      // nobody is there to read an answer: 499 is nginx's "client closed request"
      request.log.info('upload abandoned: the client left while it waited for a slot')
      return reply.code(499).send()
    }
    const { ctx, page, document, errors } = done
    if (errors) return render(request, reply.code(400), ctx, page, { document, errors })
    const back = page.pupil ? `/eleves/${page.pupil.id}/pieces` : '/famille/pieces'
    return reply.redirect(`${backTo(request, back)}?fait=envoye`, 303)
  }

  // the token is read from the multipart stream by the handler, not by the global CSRF hook
  const multipartPost = {
    ...familyOnly,
    config: { csrf: 'in-handler' as const },
    schema: { querystring: returnQuery },
  }

  app.get(
    '/famille/pieces',
    { ...familyOnly, schema: { querystring: pageQuery } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      return render(request, reply, ctx, await documentsPage(ctx))
    },
  )

  app.post('/famille/pieces', multipartPost, async (request, reply) => upload(request, reply))

  app.get<{ Params: { id: number } }>(
    '/eleves/:id/pieces',
    { ...familyOnly, schema: { params: idParams, querystring: pageQuery } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      return render(request, reply, ctx, await documentsPage(ctx, request.params.id))
    },
  )

  app.post<{ Params: { id: number } }>(
    '/eleves/:id/pieces',
    { ...multipartPost, schema: { ...multipartPost.schema, params: idParams } },
    async (request, reply) => upload(request, reply, request.params.id),
  )

  app.get<{ Params: { id: number } }>(
    '/pieces/:id/fichier',
    { ...familyOnly, schema: { params: idParams } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      return sendFile(ctx, reply, await familySubmission(ctx, request.params.id))
    },
  )

  app.post<{ Params: { id: number } }>(
    '/pieces/:id/supprimer',
    {
      ...familyOnly,
      schema: {
        params: idParams,
        querystring: returnQuery,
        body: { type: 'object', properties: { _csrf: { type: 'string', maxLength: 200 } } },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const found = await familySubmission(ctx, request.params.id)
      const back = found.pupilId ? `/eleves/${found.pupilId}/pieces` : '/famille/pieces'
      const errors = await deleteSubmission(ctx, request.params.id)
      if (errors) {
        const page = await documentsPage(ctx, found.pupilId ?? undefined)
        return render(request, reply.code(400), ctx, page, { errors })
      }
      return reply.redirect(`${backTo(request, back)}?fait=supprime`, 303)
    },
  )
}
