import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import { ValidationFailed } from '../../platform/http/errors.ts'
import { idParams } from '../../platform/http/schemas.ts'
import type { Account } from '../../platform/auth/entities.ts'
import type { Em } from '../../platform/db/orm.ts'
import { requestOrigin } from '../../platform/http/origin.ts'
import type { TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import type { Locale, Translate } from '../../platform/views/i18n.ts'

/** The form staff answer a document or a re-enrolment with: a decision and, to refuse, a reason. */
export const decisionBody = {
  type: 'object',
  properties: {
    _csrf: { type: 'string', maxLength: 200 },
    decision: { type: 'string', maxLength: 20 },
    reason: { type: 'string', maxLength: 1000 },
  },
} as const

/**
 * Checks staff's answer: one of the two decisions, and a reason when refusing, since the family
 * reads it in the mail. The reason of an acceptance is dropped.
 */
export function checkDecision<Accept extends string, Refuse extends string>(
  input: { decision?: string; reason?: string },
  values: { accept: Accept; refuse: Refuse },
  t: Translate,
): { decision: Accept | Refuse; reason: string | null } {
  const reason = input.reason?.trim() ?? ''
  if (input.decision !== values.accept && input.decision !== values.refuse)
    throw new ValidationFailed({ decision: t('documents.review.decisionRequired') })
  if (input.decision === values.refuse && !reason)
    throw new ValidationFailed({ reason: t('documents.review.reasonRequired') })
  const decision = input.decision as Accept | Refuse
  return { decision, reason: decision === values.refuse ? reason : null }
}

export type DecisionInput = { decision?: string; reason?: string }

/** What a decision needs besides the item: the tenant, its language for the mail, the portal's origin for links. */
export interface DecisionContext {
  tenant: TenantConfig
  locale: Locale
  baseUrl: string
  t: Translate
}

/** What a refused decision re-renders the review page with: the answer as typed and its messages. */
export interface RefusedDecision {
  input: DecisionInput
  errors: Record<string, string>
}

/** What a review page shows of the decision: the answer as typed after a refusal, its messages, "Décision enregistrée". */
export function decisionView(request: FastifyRequest, refused?: RefusedDecision) {
  return {
    input: refused?.input ?? {},
    errors: refused?.errors,
    done: (request.query as { fait?: string }).fait === '1',
  }
}

/**
 * A staff review page (`<base>/:id`) and the decision posted from it: saved, the family's mail
 * sent, back to the page with "Décision enregistrée" (`?fait=1`); or the page again, 400, with the
 * messages beside the fields and what was typed.
 */
export function reviewRoutes(
  app: FastifyInstance,
  options: {
    base: string
    preHandler: preHandlerAsyncHookHandler | preHandlerAsyncHookHandler[]
    render: (
      request: FastifyRequest,
      reply: FastifyReply,
      id: number,
      refused?: RefusedDecision,
    ) => Promise<unknown>
    decide: (
      em: Em,
      context: DecisionContext,
      staff: Account,
      id: number,
      input: DecisionInput,
    ) => Promise<unknown>
  },
) {
  const { base, preHandler, render, decide } = options
  const route = { constraints: { site: 'tenant' }, preHandler }
  app.get<{ Params: { id: number } }>(
    `${base}/:id`,
    {
      ...route,
      schema: {
        params: idParams,
        querystring: { type: 'object', properties: { fait: { type: 'string', maxLength: 1 } } },
      },
    },
    async (request, reply) => render(request, reply, request.params.id),
  )
  app.post<{ Params: { id: number }; Body: DecisionInput }>(
    `${base}/:id`,
    { ...route, schema: { params: idParams, body: decisionBody } },
    async (request, reply) => {
      const { id } = request.params
      try {
        const tenant = request.tenant!.config
        await decide(
          request.em,
          { tenant, locale: tenant.locale, baseUrl: requestOrigin(request), t: request.t },
          request.account!,
          id,
          request.body,
        )
        app.mail.kick(request.tenant!.slug)
        return reply.redirect(`${base}/${id}?fait=1`, 303)
      } catch (error) {
        if (!(error instanceof ValidationFailed)) throw error
        return render(request, reply.code(400), id, { input: request.body, errors: error.fields })
      }
    },
  )
}
