import type { FastifyInstance, FastifyReply } from 'fastify'
import type { Kysely } from 'kysely'
import type { TenantDb } from '../../entities.ts'
import { signedInContext, type TenantContext, tenantContext } from '../../platform/auth/context.ts'
import { prepare } from '../../platform/db/reads.ts'
import { NotFound } from '../../platform/http/errors.ts'
import { recordId } from '../../platform/http/schemas.ts'
import { formatDate } from '../../platform/views/dates.ts'
import type { MessageKey } from '../../platform/views/i18n.ts'
import { householdOf, householdOr404, householdPupil } from '../family/service.ts'
import { pupilFrame } from '../shared/pupil-frame.ts'
import { PlaceRequest, RequestState } from './entities.ts'
import { requestsView, stateWords } from './family-service.ts'
import { type AnswerOutcome, answerOffer, type PlacesScope, tokenHashOf } from './service.ts'

const householdRead = prepare((db: Kysely<TenantDb>, p: { accountId: number }) =>
  db.selectNoFrom([householdOf(p.accountId).as('household')]),
)

const requestParams = {
  type: 'object',
  properties: { id: recordId, requestId: recordId },
  required: ['id', 'requestId'],
} as const
const tokenParams = {
  type: 'object',
  properties: { token: { type: 'string', maxLength: 100 } },
  required: ['token'],
} as const
const csrfOnly = {
  type: 'object',
  properties: { _csrf: { type: 'string', maxLength: 200 } },
} as const

type Answer = 'accept' | 'decline'
const answers: Record<string, Answer> = { accepter: 'accept', refuser: 'decline' }

/** What the page says after an answer: done, or why it was refused. */
function outcomeMessage(outcome: AnswerOutcome): { key: MessageKey; ok: boolean } {
  if ('refused' in outcome)
    return {
      key: outcome.refused === 'late' ? 'places.family.refused.late' : 'places.family.refused.notOffered',
      ok: false,
    }
  return {
    key: outcome.done === 'accepted' ? 'places.family.done.accepted' : 'places.family.done.declined',
    ok: true,
  }
}

function scopeOf(ctx: TenantContext): PlacesScope {
  return { config: ctx.config, locale: ctx.locale, baseUrl: ctx.baseUrl }
}

/**
 * The family's answers to seats of next year's offer: a pupil's requests and the seat proposed
 * (accept, or refuse after a confirmation page), and the public page of the link mailed to a
 * pré-inscription's applicant, which answers without an account.
 */
export default async function placesFamily(app: FastifyInstance) {
  const familyOnly = { constraints: { site: 'tenant' }, preHandler: app.requireRole('family') }
  const publicPage = { constraints: { site: 'tenant' } }

  /** The signed-in family's pupil; another family's is a 404. */
  const ownPupil = async (ctx: ReturnType<typeof signedInContext>, pupilId: number) => {
    const found = await householdRead.first(ctx.db, { accountId: ctx.account.id })
    const household = householdOr404(found?.household)
    return { household, pupil: householdPupil(household, pupilId) }
  }

  /** The pupil's request; another pupil's is a 404. */
  const ownRequest = async (ctx: ReturnType<typeof signedInContext>, pupilId: number, requestId: number) => {
    const request = await ctx.em.findOne(
      PlaceRequest,
      { id: requestId, pupil: pupilId },
      { populate: ['item'] },
    )
    if (!request) throw new NotFound()
    return request
  }

  const pupilPage = async (
    reply: FastifyReply,
    ctx: ReturnType<typeof signedInContext>,
    pupilId: number,
    message?: { key: MessageKey; ok: boolean },
  ) => {
    const { household, pupil } = await ownPupil(ctx, pupilId)
    return reply.view('places/pupil', {
      ...pupilFrame(ctx, household, pupil, 'places'),
      places: await requestsView(ctx.em, ctx.config, ctx.t, { pupil: pupil.id }),
      message: message && { text: ctx.t(message.key), ok: message.ok },
    })
  }

  app.get<{ Params: { id: number } }>(
    '/eleves/:id/places',
    { ...familyOnly, schema: { params: { type: 'object', properties: { id: recordId }, required: ['id'] } } },
    async (request, reply) => pupilPage(reply, signedInContext(request), request.params.id),
  )

  app.get<{ Params: { id: number; requestId: number } }>(
    '/eleves/:id/places/:requestId/refuser',
    { ...familyOnly, schema: { params: requestParams } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { household, pupil } = await ownPupil(ctx, request.params.id)
      const place = await ownRequest(ctx, pupil.id, request.params.requestId)
      if (place.state !== RequestState.proposed) return reply.redirect(`/eleves/${pupil.id}/places`, 303)
      return reply.view('places/decline', {
        ...pupilFrame(ctx, household, pupil, 'places'),
        course: place.item.label,
        deadline: place.answerBy ? formatDate(place.answerBy, ctx.config.timezone) : '',
        action: `/eleves/${pupil.id}/places/${place.id}/refuser`,
        back: `/eleves/${pupil.id}/places`,
      })
    },
  )

  for (const [path, answer] of Object.entries(answers)) {
    app.post<{ Params: { id: number; requestId: number } }>(
      `/eleves/:id/places/:requestId/${path}`,
      { ...familyOnly, schema: { params: requestParams, body: csrfOnly } },
      async (request, reply) => {
        const ctx = signedInContext(request)
        const { pupil } = await ownPupil(ctx, request.params.id)
        const place = await ownRequest(ctx, pupil.id, request.params.requestId)
        const outcome = await ctx.em.transactional((tx) =>
          answerOffer(tx, ctx.account, scopeOf(ctx), { request: place.id, answer }),
        )
        const message = outcomeMessage(outcome)
        return pupilPage(reply.code(message.ok ? 200 : 409), ctx, pupil.id, message)
      },
    )
  }

  /** The request behind a mailed link; an unknown token is a 404. */
  const byToken = async (ctx: TenantContext, token: string) => {
    const request = await ctx.em.findOne(
      PlaceRequest,
      { tokenHash: tokenHashOf(token) },
      { populate: ['item'], refresh: true },
    )
    if (!request) throw new NotFound()
    return request
  }

  const tokenPage = async (
    reply: FastifyReply,
    ctx: TenantContext,
    token: string,
    message?: { key: MessageKey; ok: boolean },
  ) => {
    const place = await byToken(ctx, token)
    return reply.header('cache-control', 'private, no-store').view('places/answer', {
      title: ctx.t('places.family.token.title'),
      name: place.name,
      course: place.item.label,
      proposed: place.state === RequestState.proposed,
      stateLabel: ctx.t(stateWords[place.state as RequestState]),
      deadline: place.answerBy ? formatDate(place.answerBy, ctx.config.timezone) : '',
      action: `/places/reponse/${token}`,
      confirmDecline: place.state === RequestState.proposed,
      message: message && { text: ctx.t(message.key), ok: message.ok },
    })
  }

  app.get<{ Params: { token: string } }>(
    '/places/reponse/:token',
    { ...publicPage, schema: { params: tokenParams } },
    async (request, reply) => tokenPage(reply, tenantContext(request), request.params.token),
  )

  for (const [path, answer] of Object.entries(answers)) {
    app.post<{ Params: { token: string } }>(
      `/places/reponse/:token/${path}`,
      { ...publicPage, schema: { params: tokenParams, body: csrfOnly } },
      async (request, reply) => {
        const ctx = tenantContext(request)
        const place = await byToken(ctx, request.params.token)
        const outcome = await ctx.em.transactional((tx) =>
          answerOffer(tx, null, scopeOf(ctx), { request: place.id, answer }),
        )
        const message = outcomeMessage(outcome)
        return tokenPage(reply.code(message.ok ? 200 : 409), ctx, request.params.token, message)
      },
    )
  }
}
