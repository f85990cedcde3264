import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { type SignedInContext, signedInContext, tenantContext } from '../../platform/auth/context.ts'
import type { FieldErrors } from '../../platform/forms.ts'
import { idParams, recordId } from '../../platform/http/schemas.ts'
import type { MessageKey } from '../../platform/views/i18n.ts'
import { requestsView } from '../places/family-service.ts'
import { pupilFrame } from '../shared/pupil-frame.ts'
import {
  type Campaign,
  CampaignClosed,
  campaignDates,
  choiceView,
  declineReenrolment,
  firstPath,
  isEditable,
  loadFile,
  openCampaign,
  type Page,
  pageOfPath,
  pageView,
  pathOf,
  type ReenrolmentFile,
  resumePath,
  saveStep,
  startReenrolment,
  stepPaths,
} from './service.ts'

type Body = Record<string, string | undefined>

/**
 * "Chloé ne sera pas réinscrite": the sentence agrees with the pupil's civility; without one, it is
 * worded so that it agrees with anyone.
 */
const declineExplain: Record<string, MessageKey> = {
  Madame: 'reenrolment.declineExplain.female',
  Monsieur: 'reenrolment.declineExplain.male',
}

const stepParams = {
  type: 'object',
  properties: { id: recordId, step: { type: 'string', enum: [...Object.values(stepPaths), 'formulaire'] } },
} as const

/**
 * The families' re-enrolment: for each pupil, re-enrol or not (a confirmation page, no script),
 * then the tenant's steps in its order, each saved as a draft, or all of them on one page. Every
 * route checks the period on the server, in the tenant's timezone, at the moment of the request.
 */
export default async function reenrolment(app: FastifyInstance) {
  const familyOnly = { constraints: { site: 'tenant' }, preHandler: app.requireRole('family') }

  app.setErrorHandler(async (error, request, reply) => {
    if (!(error instanceof CampaignClosed)) throw error
    const { config, t } = tenantContext(request)
    const campaign = error.campaign
    return reply.code(403).view('reenrolment/closed', {
      title: t('reenrolment.closed.title'),
      dates: campaign ? campaignDates(campaign, config) : undefined,
      upcoming: campaign ? campaign.opens > new Date() : false,
    })
  })

  /** The request's context, the open campaign and the pupil's file as a page of `path` (or the choice page) needs it. */
  const open = async (request: FastifyRequest, pupilId: number, path?: string) => {
    const ctx = signedInContext(request)
    const campaign = openCampaign(ctx.config)
    const page = path === undefined ? undefined : pageOfPath(campaign, path)
    const steps = page === undefined ? 'choice' : page === 'onePage' ? campaign.steps : [page]
    return { ctx, campaign, file: await loadFile(ctx, pupilId, campaign, steps) }
  }

  app.get<{ Params: { id: number } }>(
    '/eleves/:id/reinscription',
    { ...familyOnly, schema: { params: idParams } },
    async (request, reply) => {
      const { ctx, campaign, file } = await open(request, request.params.id)
      const resume = resumePath(file, campaign)
      if (resume) return reply.redirect(resume, 303)
      return reply.view('reenrolment/choice', {
        ...choiceView(ctx, file, campaign),
        places: await requestsView(ctx.em, ctx.config, ctx.t, { pupil: file.pupil.id }),
      })
    },
  )

  app.post<{ Params: { id: number } }>(
    '/eleves/:id/reinscription/commencer',
    { ...familyOnly, schema: { params: idParams } },
    async (request, reply) => {
      const { ctx, campaign, file } = await open(request, request.params.id)
      const row = await startReenrolment(ctx, file, campaign)
      if (!isEditable(row)) return reply.redirect(pathOf(file.pupil.id, 'choice'), 303)
      return reply.redirect(firstPath(file.pupil.id, campaign), 303)
    },
  )

  app.get<{ Params: { id: number } }>(
    '/eleves/:id/reinscription/refuser',
    { ...familyOnly, schema: { params: idParams } },
    async (request, reply) => {
      const { ctx, file } = await open(request, request.params.id)
      return reply.view('reenrolment/decline', {
        ...pupilFrame(ctx, file.household, file.pupil, 'reinscription'),
        name: `${file.pupil.firstName} ${file.pupil.lastName}`,
        explain: ctx.t(declineExplain[file.pupil.civility ?? ''] ?? 'reenrolment.declineExplain.unknown', {
          name: file.pupil.firstName,
        }),
      })
    },
  )

  app.post<{ Params: { id: number } }>(
    '/eleves/:id/reinscription/refuser',
    { ...familyOnly, schema: { params: idParams } },
    async (request, reply) => {
      const { ctx, campaign, file } = await open(request, request.params.id)
      await declineReenrolment(ctx, file, campaign)
      return reply.redirect(pathOf(file.pupil.id, 'choice'), 303)
    },
  )

  /** The page of the form to work on; a submitted or declined re-enrolment goes back to the choice page. */
  const formPage = (file: ReenrolmentFile, campaign: Campaign, path: string): Page | undefined =>
    file.row?.status === 'draft' ? pageOfPath(campaign, path) : undefined

  const render = (
    reply: FastifyReply,
    ctx: SignedInContext,
    file: ReenrolmentFile,
    campaign: Campaign,
    page: Page,
    submitted?: { input: Body; errors: FieldErrors },
  ) => reply.view('reenrolment/step', pageView(ctx, file, campaign, page, submitted))

  app.get<{ Params: { id: number; step: string } }>(
    '/eleves/:id/reinscription/:step',
    { ...familyOnly, schema: { params: stepParams } },
    async (request, reply) => {
      const { ctx, campaign, file } = await open(request, request.params.id, request.params.step)
      const page = formPage(file, campaign, request.params.step)
      if (!page) return reply.redirect(pathOf(file.pupil.id, 'choice'), 303)
      return render(reply, ctx, file, campaign, page)
    },
  )

  app.post<{ Params: { id: number; step: string }; Body: Body }>(
    '/eleves/:id/reinscription/:step',
    {
      ...familyOnly,
      schema: {
        params: stepParams,
        body: { type: 'object', additionalProperties: { type: 'string', maxLength: 5000 } },
      },
    },
    async (request, reply) => {
      const { ctx, campaign, file } = await open(request, request.params.id, request.params.step)
      const page = formPage(file, campaign, request.params.step)
      if (!page) return reply.redirect(pathOf(file.pupil.id, 'choice'), 303)
      const outcome = await saveStep(ctx, file, campaign, page, request.body)
      if ('redirect' in outcome) return reply.redirect(outcome.redirect, 303)
      return render(reply.code(400), ctx, file, campaign, page, {
        input: request.body,
        errors: outcome.errors,
      })
    },
  )
}
