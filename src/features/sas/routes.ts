import { requestOrigin } from '../../platform/http/origin.ts'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ValidationFailed } from '../../platform/http/errors.ts'
import { type DecisionInput, decide, pendingQueue, reviewOf } from './service.ts'

type ReviewBody = Record<string, string | undefined>

const idParams = { type: 'object', properties: { id: { type: 'integer' } } } as const

/** The form's fields `decision-<field>` and `reason-<field>` as the service takes them. */
function decisionInput(body: ReviewBody): DecisionInput {
  if (body.action === 'approve-all') return { all: 'approved' }
  if (body.action === 'reject-all') return { all: 'rejected', reason: body.reason ?? '' }
  const fields: Record<string, { decision?: string; reason?: string }> = {}
  for (const [key, value] of Object.entries(body)) {
    const match = /^(decision|reason)-(\w+)$/.exec(key)
    if (match) fields[match[2]!] = { ...fields[match[2]!], [match[1]!]: value }
  }
  return { fields }
}

/** Staff review of the sas: the queue of pending changes, and each request's before/after table. */
export default async function sas(app: FastifyInstance) {
  const staffOnly = { constraints: { site: 'tenant' }, preHandler: app.requireRole('staff', 'admin') }

  app.get('/admin/changements', staffOnly, async (request, reply) =>
    reply.view('sas/queue', {
      title: request.t('sas.queue.title'),
      items: await pendingQueue(request.em, request.t),
    }),
  )

  const render = async (
    request: FastifyRequest,
    reply: FastifyReply,
    id: number,
    submitted?: { input: ReviewBody; errors: Record<string, string> },
  ) => {
    const review = await reviewOf(request.em, id, request.t)
    return reply.view('sas/review', {
      title: request.t('sas.review.title', { id }),
      ...review,
      input: submitted?.input ?? {},
      errors: submitted?.errors,
      done: (request.query as { fait?: string }).fait === '1',
    })
  }

  app.get<{ Params: { id: number } }>(
    '/admin/changements/:id',
    {
      ...staffOnly,
      schema: {
        params: idParams,
        querystring: { type: 'object', properties: { fait: { type: 'string', maxLength: 1 } } },
      },
    },
    async (request, reply) => render(request, reply, request.params.id),
  )

  app.post<{ Params: { id: number }; Body: ReviewBody }>(
    '/admin/changements/:id',
    {
      ...staffOnly,
      schema: {
        params: idParams,
        body: {
          type: 'object',
          properties: { action: { type: 'string', enum: ['fields', 'approve-all', 'reject-all'] } },
          additionalProperties: { type: 'string', maxLength: 1000 },
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params
      try {
        await decide(
          request.em,
          { tenant: request.tenant!.config, baseUrl: requestOrigin(request), t: request.t },
          request.account!,
          id,
          decisionInput(request.body),
        )
        app.mail.kick(request.tenant!.slug)
        return reply.redirect(`/admin/changements/${id}?fait=1`, 303)
      } catch (error) {
        if (!(error instanceof ValidationFailed)) throw error
        return render(request, reply.code(400), id, { input: request.body, errors: error.fields })
      }
    },
  )
}
