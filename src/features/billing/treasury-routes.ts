import multipart, { type MultipartFile } from '@fastify/multipart'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { type SignedInContext, signedInContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import { idParams } from '../../platform/http/schemas.ts'
import { formatEuros } from '../../platform/views/money.ts'
import { confirmOnlinePayment } from './payfip.ts'
import { recordStatement, previewStatement, type MatchedLine, type UnmatchedLine } from './treasury.ts'
import { parseStatement } from './treasury-csv.ts'

const page = '/admin/facturation/tresor'
const megabyte = 1024 * 1024
/** A year of a conservatoire's treasury payments is a few thousand lines: well under a megabyte. */
const maxFileSize = megabyte

const doneQuery = {
  type: 'object',
  properties: {
    enregistres: { type: 'integer', minimum: 0, maximum: 1_000_000 },
    ignores: { type: 'integer', minimum: 0, maximum: 1_000_000 },
  },
} as const

/**
 * Staff's side of the money the Trésor public collects. "Relevé du Trésor public": staff who write records upload the treasury's payment statement (CSV),
 * see what matches which invoice and what does not and why, then record the matched payments. The
 * preview page carries the file's text to the recording form, which reads and matches it again:
 * nothing the preview showed is trusted, and nothing is kept until staff record. And the confirmation
 * of a PayFiP payment by hand, from the invoice's page.
 */
export default async function treasuryImport(app: FastifyInstance) {
  await app.register(multipart, {
    limits: { fields: 2, fieldSize: 1000, files: 1, parts: 4, fileSize: maxFileSize + 1 },
    throwFileSizeLimit: false,
  })
  const writes = { constraints: { site: 'tenant' }, preHandler: app.requireRole(...staffAccess.records) }

  const render = (
    reply: FastifyReply,
    ctx: SignedInContext,
    view: {
      errors?: string[]
      preview?: { matched: MatchedLine[]; unmatched: UnmatchedLine[] }
      statement?: string
      fileName?: string
      done?: { recorded: number; ignored: number }
    } = {},
  ) => {
    const euros = (cents: number) => formatEuros(cents, ctx.locale)
    const line = (l: MatchedLine | UnmatchedLine) => ({
      line: l.line,
      reference: l.reference,
      debtor: l.debtor,
      date: l.date,
      amount: euros(l.amount),
    })
    const { preview } = view
    return reply.view('billing/treasury', {
      title: ctx.t('treasury.title'),
      errors: view.errors,
      done: view.done,
      statement: view.statement,
      fileName: view.fileName ?? '',
      // `npm start` seeds the demo outside production: its sample statement is worth pointing at
      demo: app.config.env === 'development',
      matched: preview?.matched.map((m) => ({
        ...line(m),
        invoiceId: m.invoiceId,
        invoiceNumber: m.invoiceNumber,
        familyId: m.familyId,
        familyName: m.familyName,
        before: euros(m.remainingBefore),
        after: euros(m.remainingAfter),
        confirmsOnline: Boolean(m.onlinePaymentId),
      })),
      matchedTotal: preview && euros(preview.matched.reduce((sum, m) => sum + m.amount, 0)),
      unmatched: preview?.unmatched.map((u) => ({
        ...line(u),
        why: ctx.t(`treasury.why.${u.why}`, {
          number: u.invoiceNumber ?? '',
          remaining: u.remaining === null ? '' : euros(u.remaining),
        }),
      })),
    })
  }

  // staff confirm a PayFiP payment before the statement that carries it comes
  app.post<{ Params: { id: number; onlineId: number } }>(
    '/admin/facturation/factures/:id/paiements-en-ligne/:onlineId/confirmer',
    {
      ...writes,
      schema: {
        params: {
          type: 'object',
          properties: { id: idParams.properties.id, onlineId: idParams.properties.id },
          required: ['id', 'onlineId'],
        },
        body: { type: 'object', properties: { _csrf: { type: 'string', maxLength: 200 } } },
      },
    },
    async (request, reply) => {
      const { id, onlineId } = request.params
      const confirmed = await confirmOnlinePayment(signedInContext(request), id, onlineId)
      const query = 'receiptNumber' in confirmed ? `recu=${confirmed.receiptNumber}` : 'enligne=au-dela'
      return reply.redirect(`/admin/facturation/factures/${id}?${query}`, 303)
    },
  )

  app.get<{ Querystring: { enregistres?: number; ignores?: number } }>(
    page,
    { ...writes, schema: { querystring: doneQuery } },
    async (request, reply) => {
      const { enregistres, ignores } = request.query
      return render(reply, signedInContext(request), {
        done: enregistres === undefined ? undefined : { recorded: enregistres, ignored: ignores ?? 0 },
      })
    },
  )

  const verifyCsrf = (request: FastifyRequest, reply: FastifyReply, token: string | undefined) =>
    new Promise<void>((resolve, reject) => {
      request.body = { _csrf: token }
      app.csrfProtection(request, reply, (error?: Error) => (error ? reject(error) : resolve()))
    })

  /** The uploaded statement, read once the form's token is checked; or why it is refused. */
  const receive = async (request: FastifyRequest, reply: FastifyReply, ctx: SignedInContext) => {
    const fields: Record<string, string> = {}
    let checked = false
    let file: { name: string; content: Buffer | 'tooLarge' } | undefined
    for await (const part of request.parts()) {
      if (part.type === 'field') {
        fields[part.fieldname] = String(part.value)
        continue
      }
      await verifyCsrf(request, reply, fields._csrf)
      checked = true
      const upload = part as MultipartFile
      const chunks: Buffer[] = []
      let size = 0
      for await (const chunk of upload.file as AsyncIterable<Buffer>) {
        size += chunk.length
        if (size <= maxFileSize) chunks.push(chunk)
      }
      file = {
        name: upload.filename.split(/[\\/]/).at(-1) ?? '',
        content: size > maxFileSize || upload.file.truncated ? 'tooLarge' : Buffer.concat(chunks),
      }
    }
    if (!checked) await verifyCsrf(request, reply, fields._csrf)
    if (!file?.name) return { errors: [ctx.t('treasury.error.noFile')] }
    if (file.content === 'tooLarge') return { errors: [ctx.t('treasury.error.tooLarge')] }
    const parsed = parseStatement(file.content, ctx.t)
    if (parsed.errors) return { errors: parsed.errors, fileName: file.name }
    return { lines: parsed.lines, statement: parsed.text, fileName: file.name }
  }

  app.post(page, { ...writes, config: { csrf: 'in-handler' as const } }, async (request, reply) => {
    const ctx = signedInContext(request)
    const received = await receive(request, reply, ctx)
    if (!received.lines) return render(reply.code(400), ctx, received)
    return render(reply, ctx, {
      preview: await previewStatement(ctx, received.lines),
      statement: received.statement,
      fileName: received.fileName,
    })
  })

  app.post<{ Body: { _csrf?: string; statement?: string; fileName?: string } }>(
    `${page}/enregistrer`,
    {
      ...writes,
      // the statement's text comes back URL-encoded: up to three bytes for one
      bodyLimit: 4 * maxFileSize,
      schema: {
        body: {
          type: 'object',
          properties: {
            _csrf: { type: 'string', maxLength: 200 },
            statement: { type: 'string', maxLength: maxFileSize },
            fileName: { type: 'string', maxLength: 255 },
          },
        },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const parsed = parseStatement(Buffer.from(request.body.statement ?? '', 'utf8'), ctx.t)
      if (parsed.errors) return render(reply.code(400), ctx, { errors: parsed.errors })
      const { recorded, unmatched } = await recordStatement(ctx, parsed.lines, request.body.fileName || null)
      return reply.redirect(`${page}?enregistres=${recorded.length}&ignores=${unmatched.length}`, 303)
    },
  )
}
