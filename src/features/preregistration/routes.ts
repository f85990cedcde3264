import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { attemptLimits } from '../../platform/http/attempt-limits.ts'
import { ValidationFailed } from '../../platform/http/errors.ts'
import { requestOrigin } from '../../platform/http/origin.ts'
import type { Period } from '../../platform/tenancy/periods.ts'
import { formFields } from '../family/identity.ts'
import { tenantToday } from '../family/service.ts'
import { displayValue } from '../sas/service.ts'
import { type Preregistration, PreregistrationStatus } from './entities.ts'
import {
  applicantFields,
  applicantGuardianFields,
  applicantMandatory,
  applyAction,
  checkForm,
  choiceCount,
  emptyForm,
  type FormState,
  formOf,
  freeTextMax,
  guardianMandatory,
  honeypotName,
  maxApplicants,
  offeredDisciplines,
  parseAction,
  readForm,
} from './form.ts'
import {
  confirmDossier,
  createDossier,
  dossierByToken,
  openPeriod,
  PreregistrationClosed,
  preregistrationPeriod,
  updateDossier,
} from './service.ts'
import { dossierView } from './view.ts'

type Body = Record<string, string | undefined>

const formBody = {
  type: 'object',
  maxProperties: 600,
  additionalProperties: { type: 'string', maxLength: 2000 },
} as const
const tokenParams = {
  type: 'object',
  properties: { token: { type: 'string', maxLength: 100 } },
  required: ['token'],
} as const

/**
 * The public pré-inscription (manual 000): a form without an account, whose blocks are added and
 * removed by server round trips that keep everything typed, so it works without any script; the
 * private link mailed to responsable 1 reopens the dossier to modify it, then to confirm it.
 */
export default async function preregistration(app: FastifyInstance) {
  const publicPage = { constraints: { site: 'tenant' } }
  // a person filling the form posts it a handful of times; a robot posting it in a loop is stopped
  const posting = attemptLimits(app, [{ max: 40, timeWindowMs: 10 * 60_000 }])
  const creating = attemptLimits(app, [{ max: 10, timeWindowMs: 60 * 60_000 }])

  const closedPage = (request: FastifyRequest, reply: FastifyReply, period: Period) =>
    reply.view('preregistration/closed', {
      title: request.t('prereg.closed.title'),
      window: period,
      upcoming: period.opens > new Date(),
    })

  app.setErrorHandler(async (error, request, reply) => {
    if (!(error instanceof PreregistrationClosed)) throw error
    return closedPage(request, reply.code(403), error.period)
  })

  const render = (
    request: FastifyRequest,
    reply: FastifyReply,
    form: FormState,
    context: { action: string; errors?: Record<string, string>; row?: Preregistration; notice?: string },
  ) => {
    const { t, tenant } = request
    const config = tenant!.config
    const display = (name: string, value: string | null) => displayValue(name, value, t)
    const disciplines = offeredDisciplines(config)
    const fields = applicantFields(config)
    const mandatory = applicantMandatory(config)
    const choices = choiceCount(config)
    const first = form.guardians[0] ?? {}
    return reply.view('preregistration/form', {
      title: t('prereg.title'),
      window: preregistrationPeriod(config),
      action: context.action,
      row: context.row,
      notice: context.notice,
      errors: context.errors,
      guardians: form.guardians.map((input, i) => ({
        prefix: `g${i + 1}-`,
        rank: i + 1,
        fields: formFields(applicantGuardianFields, {
          validated: {},
          input,
          mandatory: guardianMandatory(config, i + 1),
          t,
          display,
        }),
      })),
      applicants: form.applicants.map(({ fromGuardian, input }, i) => ({
        prefix: `p${i}-`,
        index: i,
        fromGuardian,
        guardianName: [first.firstName, first.lastName].filter((v) => v?.trim()).join(' '),
        fields: formFields(fields, {
          validated: {},
          input,
          mandatory,
          t,
          display,
        }),
        choices: Array.from({ length: choices }, (_, k) => ({
          name: `choice${k + 1}`,
          number: k + 1,
          value: input[`choice${k + 1}`] ?? '',
        })),
        freeText: input.freeText ?? '',
      })),
      disciplines,
      choiceCount: choices,
      freeTextMax,
      canAddApplicant: form.applicants.length < maxApplicants,
      hasGuardianApplicant: form.applicants.some((a) => a.fromGuardian),
      confirmEmail: form.confirmEmail,
      antiSpam: form.antiSpam,
      honeypot: form.honeypot,
      honeypotName,
    })
  }

  /** A block button re-renders the form as typed; a save checks it all. */
  const handle = async (
    request: FastifyRequest<{ Body: Body }>,
    reply: FastifyReply,
    action: string,
    save: (dossier: ReturnType<typeof checkForm>['dossier']) => Promise<string>,
    row?: Preregistration,
  ) => {
    const form = readForm(request.body)
    const parsed = parseAction(request.body.action)
    if (parsed && parsed !== 'save' && parsed !== 'confirm') {
      return render(request, reply, applyAction(form, parsed), { action, row })
    }
    const { dossier, errors } = checkForm(form, {
      tenant: request.tenant!.config,
      today: tenantToday(request.tenant!.config),
      t: request.t,
    })
    if (Object.keys(errors).length > 0) return render(request, reply.code(400), form, { action, errors, row })
    try {
      const target = await save(dossier)
      app.mail.kick(request.tenant!.slug)
      return reply.redirect(target, 303)
    } catch (error) {
      if (!(error instanceof ValidationFailed)) throw error
      return render(request, reply.code(409), form, { action, errors: error.fields, row })
    }
  }

  const mailContext = (request: FastifyRequest) => ({
    tenant: request.tenant!.config,
    locale: request.locale,
    baseUrl: requestOrigin(request),
    t: request.t,
  })

  app.get('/preinscription', publicPage, async (request, reply) => {
    try {
      openPeriod(request.tenant!.config)
    } catch (error) {
      if (!(error instanceof PreregistrationClosed)) throw error
      return closedPage(request, reply, error.period)
    }
    return render(request, reply, emptyForm(), { action: '/preinscription' })
  })

  app.post<{ Body: Body }>(
    '/preinscription',
    { ...publicPage, schema: { body: formBody }, preHandler: posting },
    async (request, reply) => {
      openPeriod(request.tenant!.config)
      return handle(request, reply, '/preinscription', async (dossier) => {
        await creating.call(app, request, reply)
        await createDossier(request.em, mailContext(request), dossier)
        return '/preinscription/enregistree'
      })
    },
  )

  app.get('/preinscription/enregistree', publicPage, async (request, reply) =>
    reply.view('preregistration/saved', { title: request.t('prereg.saved.title') }),
  )

  /**
   * The dossier behind a link: the form while it can change, the dossier read-only afterwards;
   * `refused` says a modification arrived after the confirmation.
   */
  const showDossier = async (
    request: FastifyRequest,
    reply: FastifyReply,
    row: Preregistration,
    token: string,
    refused = false,
  ) => {
    const query = request.query as { enregistre?: string; confirme?: string }
    const editable =
      row.status === PreregistrationStatus.draft && preregistrationPeriod(request.tenant!.config)?.open
    reply.header('cache-control', 'private, no-store')
    if (editable) {
      return render(request, reply, formOf(row), {
        action: `/preinscription/dossier/${token}`,
        row,
        notice: query.enregistre ? request.t('prereg.notice.saved') : undefined,
      })
    }
    return reply.view('preregistration/dossier', {
      title: request.t('prereg.dossier.title', { number: row.id }),
      row,
      ...dossierView(request.tenant!.config, row, request.t),
      confirmed: query.confirme === '1',
      refused,
    })
  }

  app.get<{ Params: { token: string }; Querystring: { enregistre?: string; confirme?: string } }>(
    '/preinscription/dossier/:token',
    {
      ...publicPage,
      schema: {
        params: tokenParams,
        querystring: {
          type: 'object',
          properties: {
            enregistre: { type: 'string', maxLength: 1 },
            confirme: { type: 'string', maxLength: 1 },
          },
        },
      },
    },
    async (request, reply) => {
      const row = await dossierByToken(request.em, request.params.token)
      return showDossier(request, reply, row, request.params.token)
    },
  )

  app.post<{ Params: { token: string }; Body: Body }>(
    '/preinscription/dossier/:token',
    { ...publicPage, schema: { params: tokenParams, body: formBody }, preHandler: posting },
    async (request, reply) => {
      const { token } = request.params
      const row = await dossierByToken(request.em, token)
      openPeriod(request.tenant!.config)
      if (row.status !== PreregistrationStatus.draft)
        return showDossier(request, reply.code(409), row, token, true)
      const action = `/preinscription/dossier/${token}`
      if (request.body.action === 'confirm') {
        if (request.body.confirmed !== 'true') {
          return render(request, reply.code(400), formOf(row), {
            action,
            row,
            errors: { confirmed: request.t('prereg.error.confirm') },
          })
        }
        await confirmDossier(request.em, mailContext(request), token)
        app.mail.kick(request.tenant!.slug)
        return reply.redirect(`${action}?confirme=1`, 303)
      }
      return handle(
        request,
        reply,
        action,
        async (dossier) => {
          await updateDossier(request.em, mailContext(request), token, dossier)
          return `${action}?enregistre=1`
        },
        row,
      )
    },
  )
}
