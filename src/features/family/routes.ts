import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { type SignedInContext, signedInContext } from '../../platform/auth/context.ts'
import type { FieldErrors } from '../../platform/forms.ts'
import { idParams } from '../../platform/http/schemas.ts'
import { displayValue } from '../sas/service.ts'
import { noticeQuery, proposalNotice } from '../shared/proposal-notices.ts'
import { homeView } from './home.ts'
import {
  formFields,
  fullName,
  type GuardianPage,
  guardianFields,
  guardianPage,
  guardianValues,
  mandatoryFields,
  saveGuardian,
} from './service.ts'

type FormBody = Record<string, string | undefined>

const fieldSchema = Object.fromEntries(
  guardianFields.map((f) => [f.name, { type: 'string', maxLength: 1000 }]),
)

/** Accueil and the Famille page: the family's home, and its guardians' records through the sas. */
export default async function family(app: FastifyInstance) {
  const familyOnly = { constraints: { site: 'tenant' }, preHandler: app.requireRole('family') }

  app.get('/accueil', familyOnly, async (request, reply) =>
    reply.view('family/home', await homeView(signedInContext(request))),
  )

  /**
   * The Famille page for one guardian: the validated values with the pending proposal laid over
   * them (✓ on each proposed field), or, after a refused submission, exactly what was typed.
   */
  const render = (
    request: FastifyRequest,
    reply: FastifyReply,
    ctx: SignedInContext,
    page: GuardianPage,
    submitted?: { input: FormBody; errors: FieldErrors },
  ) => {
    const { t, config } = ctx
    const fields = formFields(guardianFields, {
      validated: guardianValues(page.guardian),
      pending: page.pending?.changes,
      input: submitted?.input,
      mandatory: mandatoryFields(config.fields.guardian),
      t,
      display: (name, value) => displayValue(name, value, t),
    })
    return reply.view('family/famille', {
      title: t('famille.title'),
      guardian: page.guardian,
      guardianName: fullName(page.guardian),
      guardians: page.guardians.map((g) => ({ id: g.id, rank: g.rank, name: fullName(g) })),
      pupils: page.household.pupils,
      fields,
      pending: Boolean(page.pending),
      notice: proposalNotice(request.query, t),
      errors: submitted?.errors,
    })
  }

  app.get('/famille', { ...familyOnly, schema: { querystring: noticeQuery } }, async (request, reply) => {
    const ctx = signedInContext(request)
    return render(request, reply, ctx, await guardianPage(ctx))
  })

  app.get<{ Params: { id: number } }>(
    '/famille/responsables/:id',
    { ...familyOnly, schema: { querystring: noticeQuery, params: idParams } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      return render(request, reply, ctx, await guardianPage(ctx, request.params.id))
    },
  )

  app.post<{ Params: { id: number }; Body: FormBody }>(
    '/famille/responsables/:id',
    {
      ...familyOnly,
      schema: {
        params: idParams,
        body: { type: 'object', properties: { _csrf: { type: 'string', maxLength: 200 }, ...fieldSchema } },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const page = await guardianPage(ctx, request.params.id)
      const saved = await saveGuardian(ctx, page, request.body)
      if (saved.errors)
        return render(request, reply.code(400), ctx, page, { input: request.body, errors: saved.errors })
      return reply.redirect(`/famille/responsables/${page.guardian.id}?enregistre=${saved.values}`, 303)
    },
  )
}
