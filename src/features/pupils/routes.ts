import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { type SignedInContext, signedInContext } from '../../platform/auth/context.ts'
import type { FieldErrors } from '../../platform/forms.ts'
import { NotFound } from '../../platform/http/errors.ts'
import { idParams, recordId } from '../../platform/http/schemas.ts'
import { mandatoryFields, formFields, tenantToday } from '../family/service.ts'
import { displayValue } from '../sas/service.ts'
import { noticeQuery, proposalNotice } from '../shared/proposal-notices.ts'
import { noticeOutcomes, renderCoursePage } from '../lessons/absence-notice-routes.ts'
import {
  coursesPage,
  historyPage,
  historyYearPage,
  householdOfAccount,
  type IdentityPage,
  identityPage,
  repertoirePage,
  savePupil,
} from './pages.ts'
import { isMinor, pupilFields, pupilValues } from './service.ts'

type FormBody = Record<string, string | undefined>

/**
 * The Élèves pages of the family portal: a pupil chosen from the family's (a plain form, no script
 * needed), and the tabs of the pupil's file. Every URL carries the pupil's id, and every read is
 * scoped to the signed-in family: another family's pupil is a 404, never a 403 that confirms it exists.
 */
export default async function pupils(app: FastifyInstance) {
  const familyOnly = { constraints: { site: 'tenant' }, preHandler: app.requireRole('family') }

  app.get<{ Querystring: { eleve?: number } }>(
    '/eleves',
    { ...familyOnly, schema: { querystring: { type: 'object', properties: { eleve: recordId } } } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { pupils } = await householdOfAccount(ctx)
      const chosen = request.query.eleve
      if (chosen && !pupils.some((p) => p.id === chosen)) throw new NotFound()
      const first = chosen ?? pupils[0]?.id
      if (first) return reply.redirect(`/eleves/${first}`, 303)
      return reply.view('pupils/none', { title: ctx.t('pupil.title') })
    },
  )

  const renderIdentity = (
    request: FastifyRequest,
    reply: FastifyReply,
    ctx: SignedInContext,
    page: IdentityPage,
    submitted?: { input: FormBody; errors: FieldErrors },
  ) => {
    const { t, config } = ctx
    const { pupil, pending } = page
    const fields = formFields(pupilFields(config), {
      validated: pupilValues(pupil),
      pending: pending?.changes,
      input: submitted?.input,
      mandatory: mandatoryFields(config.fields.pupil),
      t,
      display: (name, value) => displayValue(name, value, t),
    })
    const birthDate = pending?.changes.birthDate?.after ?? pupil.birthDate
    const minor = Boolean(birthDate && isMinor(birthDate, tenantToday(config)))
    // a minor must answer, whatever the YAML says
    if (minor) fields.exitAuthorization!.required = true
    return reply.view('pupils/identity', {
      ...page.frame,
      fields,
      errors: submitted?.errors,
      pending: Boolean(pending),
      notice: proposalNotice(request.query, t),
      minor,
      guardianAddress: page.guardianAddress,
      texts: { imageRights: config.texts?.imageRights, exitAuthorization: config.texts?.exitAuthorization },
    })
  }

  app.get<{ Params: { id: number } }>(
    '/eleves/:id',
    { ...familyOnly, schema: { params: idParams, querystring: noticeQuery } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      return renderIdentity(request, reply, ctx, await identityPage(ctx, request.params.id))
    },
  )

  const fieldSchema = Object.fromEntries(
    pupilFields({}).map((f) => [f.name, { type: 'string', maxLength: 1000 }]),
  )

  app.post<{ Params: { id: number }; Body: FormBody }>(
    '/eleves/:id',
    {
      ...familyOnly,
      schema: {
        params: idParams,
        body: { type: 'object', properties: { _csrf: { type: 'string', maxLength: 200 }, ...fieldSchema } },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const page = await identityPage(ctx, request.params.id)
      const saved = await savePupil(ctx, page, request.body)
      if (saved.errors)
        return renderIdentity(request, reply.code(400), ctx, page, {
          input: request.body,
          errors: saved.errors,
        })
      return reply.redirect(`/eleves/${page.pupil.id}?enregistre=${saved.values}`, 303)
    },
  )

  app.get<{ Params: { id: number } }>(
    '/eleves/:id/cours',
    { ...familyOnly, schema: { params: idParams } },
    async (request, reply) =>
      reply.view('pupils/courses', await coursesPage(signedInContext(request), request.params.id)),
  )

  app.get<{ Params: { id: number; enrolment: number }; Querystring: { absence?: string } }>(
    '/eleves/:id/cours/:enrolment',
    {
      ...familyOnly,
      schema: {
        params: { type: 'object', properties: { id: recordId, enrolment: recordId } },
        querystring: {
          type: 'object',
          properties: { absence: { type: 'string', enum: [...noticeOutcomes] } },
        },
      },
    },
    async (request, reply) =>
      renderCoursePage(signedInContext(request), reply, request.params.id, request.params.enrolment, {
        outcome: request.query.absence,
      }),
  )

  app.get<{ Params: { id: number } }>(
    '/eleves/:id/historique',
    { ...familyOnly, schema: { params: idParams } },
    async (request, reply) =>
      reply.view('pupils/history', await historyPage(signedInContext(request), request.params.id)),
  )

  app.get<{ Params: { id: number; year: number } }>(
    '/eleves/:id/historique/:year',
    { ...familyOnly, schema: { params: { type: 'object', properties: { id: recordId, year: recordId } } } },
    async (request, reply) =>
      reply.view(
        'pupils/history-year',
        await historyYearPage(signedInContext(request), request.params.id, request.params.year),
      ),
  )

  app.get<{ Params: { id: number } }>(
    '/eleves/:id/repertoire',
    { ...familyOnly, schema: { params: idParams } },
    async (request, reply) =>
      reply.view('pupils/repertoire', await repertoirePage(signedInContext(request), request.params.id)),
  )
}
