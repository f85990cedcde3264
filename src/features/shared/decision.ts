import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import { type SignedInContext, signedInContext } from '../../platform/auth/context.ts'
import type { Checked, FieldErrors } from '../../platform/forms.ts'
import { idParams } from '../../platform/http/schemas.ts'
import type { Translate } from '../../platform/views/i18n.ts'

/*
 * The staff review-and-decision page that documents, re-enrolments and pré-inscriptions share: the
 * item with its decision form, the decision posted, mailed to the family and audited by the
 * feature's service.
 */

/** The form staff answer an item with: a decision and, to refuse, a reason. */
export const decisionBody = {
  type: 'object',
  properties: {
    _csrf: { type: 'string', maxLength: 200 },
    decision: { type: 'string', maxLength: 20 },
    reason: { type: 'string', maxLength: 1000 },
  },
} as const

export type DecisionInput = { decision?: string; reason?: string }

/**
 * Checks staff's answer: one of the two decisions, and a reason when refusing, since the family
 * reads it in the mail. The reason of an acceptance is dropped.
 */
export function checkDecision<Accept extends string, Refuse extends string>(
  input: DecisionInput,
  values: { accept: Accept; refuse: Refuse },
  t: Translate,
): Checked<{ decision: Accept | Refuse; reason: string | null }> {
  const reason = input.reason?.trim() ?? ''
  const decision = input.decision as Accept | Refuse
  if (decision !== values.accept && decision !== values.refuse)
    return { values: { decision, reason }, errors: { decision: t('documents.review.decisionRequired') } }
  if (decision === values.refuse && !reason)
    return { values: { decision, reason }, errors: { reason: t('documents.review.reasonRequired') } }
  return { values: { decision, reason: decision === values.refuse ? reason : null }, errors: undefined }
}

/** What a refused decision re-renders the review page with: the answer as typed and its messages. */
export interface RefusedDecision {
  input: DecisionInput
  errors: FieldErrors
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
 * queued, back to the page with "Décision enregistrée" (`?fait=1`); or the page again, 400, with the
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
    decide: (ctx: SignedInContext, id: number, input: DecisionInput) => Promise<FieldErrors | undefined>
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
      const errors = await decide(signedInContext(request), id, request.body)
      if (errors) return render(request, reply.code(400), id, { input: request.body, errors })
      return reply.redirect(`${base}/${id}?fait=1`, 303)
    },
  )
}
