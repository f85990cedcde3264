import { requestOrigin } from '../../platform/http/origin.ts'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { idParams } from '../../platform/http/schemas.ts'
import { ValidationFailed } from '../../platform/http/errors.ts'
import { noticeQuery, proposalNotice } from '../sas/notices.ts'
import { displayValue, pendingChange, pendingForFamily, proposeChange } from '../sas/service.ts'
import { requirementsOf } from '../documents/service.ts'
import { campaignOf, reenrolmentsOf } from '../reenrolment/service.ts'
import { coursesOfPupil, currentSchoolYear } from '../teaching/service.ts'
import type { Guardian } from './entities.ts'
import {
  checkGuardianForm,
  familyGuardian,
  familyOf,
  formFields,
  fullName,
  guardianFields,
  guardianOf,
  guardiansOf,
  guardianValues,
  mandatoryFields,
  pupilsOf,
} from './service.ts'

type FormBody = Record<string, string | undefined>

const fieldSchema = Object.fromEntries(
  guardianFields.map((f) => [f.name, { type: 'string', maxLength: 1000 }]),
)

export default async function family(app: FastifyInstance) {
  const familyOnly = { constraints: { site: 'tenant' }, preHandler: app.requireRole('family') }

  app.get('/accueil', familyOnly, async (request, reply) => {
    const guardian = await guardianOf(request.em, request.account!)
    const year = await currentSchoolYear(request.em)
    const pupils = await Promise.all(
      (guardian ? await pupilsOf(request.em, guardian.family) : []).map(async (pupil) => ({
        pupil,
        courses: year ? (await coursesOfPupil(request.em, pupil, year)).map((c) => c.course.name) : [],
      })),
    )
    const pending = guardian ? await pendingForFamily(request.em, guardian.family, request.t) : []
    const name = guardian
      ? [guardian.civility, guardian.firstName, guardian.lastName].filter(Boolean).join(' ')
      : request.account!.displayName
    const config = request.tenant!.config
    // what is still to provide or to send again, for the family and for each pupil
    const holders = guardian
      ? [
          { label: request.t('famille.title'), href: '/famille/pieces', holder: { family: guardian.family } },
          ...pupils.map(({ pupil }) => ({
            label: `${pupil.firstName} ${pupil.lastName}`,
            href: `/eleves/${pupil.id}/pieces`,
            holder: { family: guardian.family, pupil },
          })),
        ]
      : []
    const documents = []
    for (const { label, href, holder } of holders) {
      const requirements = await requirementsOf(request.em, config, holder)
      if (requirements.length === 0) continue
      const toDo = requirements.filter((r) => r.state === 'missing' || r.state === 'refused').length
      documents.push({ label, href, toDo })
    }
    // the re-enrolment box, only while the period is open
    const campaign = campaignOf(config)
    const reenrolments =
      guardian && campaign?.open
        ? await reenrolmentsOf(request.em, guardian.family, campaign.schoolYear)
        : undefined
    const reenrolment = reenrolments && {
      schoolYear: campaign!.schoolYear,
      closes: campaign!.closes,
      pupils: pupils.map(({ pupil }) => ({ pupil, status: reenrolments.get(pupil.id)?.status ?? 'none' })),
    }
    return reply.view('family/home', {
      reenrolment,
      title: request.t('nav.home'),
      name,
      pupils,
      pending,
      documents,
    })
  })

  /**
   * The Famille page for one guardian: the validated values with the pending proposal laid over
   * them (✓ on each proposed field), or, after a refused submission, exactly what was typed.
   */
  const render = async (
    request: FastifyRequest,
    reply: FastifyReply,
    guardian: Guardian,
    submitted?: { input: FormBody; errors: Record<string, string> },
  ) => {
    const { em, t } = request
    const family = guardian.family
    const validated = guardianValues(guardian)
    const pending = await pendingChange(em, { type: 'guardian', id: guardian.id })
    const fields = formFields(guardianFields, {
      validated,
      pending: pending?.changes,
      input: submitted?.input,
      mandatory: mandatoryFields(request.tenant!.config.fields.guardian),
      t,
      display: (name, value) => displayValue(name, value, t),
    })
    return reply.view('family/famille', {
      title: t('famille.title'),
      guardian,
      guardians: (await guardiansOf(em, family)).map((g) => ({ id: g.id, rank: g.rank, name: fullName(g) })),
      pupils: await pupilsOf(em, family),
      fields,
      pending: Boolean(pending),
      notice: proposalNotice(request.query, t),
      errors: submitted?.errors,
    })
  }

  app.get('/famille', { ...familyOnly, schema: { querystring: noticeQuery } }, async (request, reply) => {
    const [first] = await guardiansOf(request.em, await familyOf(request.em, request.account!))
    return render(request, reply, first!)
  })

  app.get<{ Params: { id: number } }>(
    '/famille/responsables/:id',
    {
      ...familyOnly,
      schema: { querystring: noticeQuery, params: idParams },
    },
    async (request, reply) => {
      const family = await familyOf(request.em, request.account!)
      return render(request, reply, await familyGuardian(request.em, family, request.params.id))
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
      const { em, tenant, t } = request
      const family = await familyOf(em, request.account!)
      const guardian = await familyGuardian(em, family, request.params.id)
      try {
        const values = checkGuardianForm(guardian, request.body, tenant!.config, t)
        const { outcome } = await proposeChange(
          em,
          { tenant: tenant!.config, locale: request.locale, baseUrl: requestOrigin(request) },
          request.account!,
          { type: 'guardian', id: guardian.id },
          values,
        )
        if (outcome === 'proposed' || outcome === 'replaced') app.mail.kick(tenant!.slug)
        return reply.redirect(`/famille/responsables/${guardian.id}?enregistre=${outcome}`, 303)
      } catch (error) {
        if (!(error instanceof ValidationFailed)) throw error
        return render(request, reply.code(400), guardian, { input: request.body, errors: error.fields })
      }
    },
  )
}
