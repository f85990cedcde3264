import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { signedInContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import type { FieldErrors, FieldLabels } from '../../platform/forms.ts'
import { pageOf, pageParam } from '../../platform/http/pagination.ts'
import { idParams } from '../../platform/http/schemas.ts'
import type { Translate } from '../../platform/views/i18n.ts'
import { type DecisionInput, decide, pendingQueue, reviewOf } from './service.ts'

type ReviewBody = Record<string, string | undefined>

/** The form's fields `decision-<field>` and `reason-<field>` as the service takes them. */
function decisionInput(body: ReviewBody): DecisionInput {
  if (body.action === 'validate-all') return { all: 'validated' }
  if (body.action === 'refuse-all') return { all: 'refused', reason: body.reason ?? '' }
  const fields: Record<string, { decision?: string; reason?: string }> = {}
  for (const [key, value] of Object.entries(body)) {
    const match = /^(decision|reason)-(\w+)$/.exec(key)
    if (match) fields[match[2]!] = { ...fields[match[2]!], [match[1]!]: value }
  }
  return { fields }
}

/** What the error summary calls the fields of the review form: "Nom : choisissez Valider ou Refuser." */
function reviewLabels(rows: { name: string; label: string }[], t: Translate): FieldLabels {
  const labels: FieldLabels = { reason: t('sas.review.reasonAll') }
  for (const row of rows) {
    labels[`decision-${row.name}`] = row.label
    labels[`reason-${row.name}`] = `${row.label} — ${t('sas.review.reason')}`
  }
  return labels
}

/** Staff review of the sas: the queue of pending changes, and each request's before/after table. */
export default async function sas(app: FastifyInstance) {
  const staffOnly = { constraints: { site: 'tenant' }, preHandler: app.requireRole(...staffAccess.decide) }

  app.get<{ Querystring: { page?: number } }>(
    '/admin/changements',
    { ...staffOnly, schema: { querystring: { type: 'object', properties: pageParam } } },
    async (request, reply) => {
      const { db, t } = signedInContext(request)
      const number = request.query.page ?? 1
      const { total, items } = await pendingQueue(db, number, t)
      return reply.view('sas/queue', {
        title: t('sas.queue.title'),
        items,
        page: pageOf(total, number, '/admin/changements'),
      })
    },
  )

  const render = async (
    request: FastifyRequest,
    reply: FastifyReply,
    id: number,
    submitted?: { input: ReviewBody; errors: FieldErrors },
  ) => {
    const { db, t } = signedInContext(request)
    const review = await reviewOf(db, id, t)
    return reply.view('sas/review', {
      title: t('sas.review.title', { id }),
      ...review,
      input: submitted?.input ?? {},
      errors: submitted?.errors,
      labels: submitted && reviewLabels(review.rows, t),
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
          properties: { action: { type: 'string', enum: ['fields', 'validate-all', 'refuse-all'] } },
          additionalProperties: { type: 'string', maxLength: 1000 },
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params
      const errors = await decide(signedInContext(request), id, decisionInput(request.body))
      if (errors) return render(request, reply.code(400), id, { input: request.body, errors })
      return reply.redirect(`/admin/changements/${id}?fait=1`, 303)
    },
  )
}
