import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { tenantContext } from '../../platform/auth/context.ts'
import { blockLabels, type FieldErrors, type FieldLabels } from '../../platform/forms.ts'
import { attemptLimits } from '../../platform/http/attempt-limits.ts'
import type { Period } from '../../platform/tenancy/periods.ts'
import type { TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import type { Translate } from '../../platform/views/i18n.ts'
import { formFields } from '../family/identity.ts'
import { tenantToday } from '../family/service.ts'
import { displayValue } from '../sas/service.ts'
import { type Preregistration, PreregistrationStatus } from './entities.ts'
import {
  applicantFields,
  applicantGuardianFields,
  applicantMandatory,
  applyAction,
  type CheckedDossier,
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
  type PreregistrationOffer,
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
import { preregistrationOffer, requestsView } from '../places/family-service.ts'
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
 * What the error summary calls each field of the form: the field's label preceded by its block
 * ("Responsable 1 — Nom", "Élève 2 — Choix 1"), the tenant's own questions as they ask them.
 */
function formLabels(
  config: TenantConfig,
  guardians: { prefix: string; rank: number; fields: FieldLabels }[],
  applicants: {
    prefix: string
    index: number
    fields: FieldLabels
    choices: { name: string; number: number }[]
  }[],
  t: Translate,
): FieldLabels[] {
  const own = config.preregistration
  return [
    ...guardians.map((g) => blockLabels(g.fields, g.prefix, t('prereg.guardian', { n: g.rank }))),
    ...applicants.map((a) =>
      blockLabels(
        {
          ...a.fields,
          ...Object.fromEntries(a.choices.map((c) => [c.name, t('prereg.choice', { n: c.number })])),
          freeText: own?.freeTextQuestion,
        },
        a.prefix,
        t('prereg.applicant', { n: a.index + 1 }),
      ),
    ),
    {
      applicants: t('prereg.applicants'),
      confirmEmail: t('prereg.confirmEmail'),
      antiSpam: own?.antiSpam?.question,
      [honeypotName]: t('prereg.honeypot'),
      confirmed: t('prereg.confirm.box'),
    },
  ]
}

/**
 * The public pré-inscription (manual 000): a form without an account, whose blocks are added and
 * removed by server round trips that keep everything typed, so it works without any script; the
 * private link mailed to responsable 1 reopens the dossier to modify it, then to confirm it.
 */
export default async function preregistration(app: FastifyInstance) {
  const publicPage = { constraints: { site: 'tenant' } }
  /*
   * The "enregistrée" page names the dossier and the address its link went to. They travel in a
   * signed cookie for that one page, for ten minutes, rather than in the URL, where an e-mail
   * address would reach the history and the logs.
   */
  const savedCookie = 'tutti_preinscription'
  const savedCookieOptions = {
    path: '/preinscription/enregistree',
    httpOnly: true,
    sameSite: 'lax',
    secure: app.config.env === 'production',
    signed: true,
    maxAge: 600,
  } as const
  const savedDossier = (request: FastifyRequest) => {
    const raw = request.cookies[savedCookie]
    const unsigned = raw ? request.unsignCookie(raw) : undefined
    if (!unsigned?.valid || !unsigned.value) return undefined
    const [slug, number, email] = unsigned.value.split(' ')
    // a cookie signed on another tenant's host names another tenant's dossier
    if (slug !== tenantContext(request).tenant.slug || !number || !email) return undefined
    return { number, email }
  }
  // a person filling the form posts it a handful of times; a robot posting it in a loop is stopped
  const posting = attemptLimits(app, 'preregistration-post', [{ max: 40, timeWindowMs: 10 * 60_000 }])
  const creating = attemptLimits(app, 'preregistration-create', [{ max: 10, timeWindowMs: 60 * 60_000 }])

  const closedPage = (request: FastifyRequest, reply: FastifyReply, period: Period) =>
    reply.view('preregistration/closed', {
      title: tenantContext(request).t('prereg.closed.title'),
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
    context: {
      action: string
      errors?: FieldErrors
      row?: Preregistration
      notice?: string
      offer: PreregistrationOffer
    },
  ) => {
    const { t, config } = tenantContext(request)
    const display = (name: string, value: string | null) => displayValue(name, value, t)
    // the published offer's items when there are some, else the tenant's disciplines
    const choiceOptions = context.offer.items.length
      ? context.offer.items.map((i) => ({ value: String(i.id), label: i.label }))
      : offeredDisciplines(config).map((d) => ({ value: d.code, label: d.name }))
    const fields = applicantFields(config)
    const mandatory = applicantMandatory(config)
    const choices = choiceCount(config, context.offer)
    const first = form.guardians[0] ?? {}
    const view = {
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
      choiceOptions,
      choiceCount: choices,
      freeTextMax,
      canAddApplicant: form.applicants.length < maxApplicants,
      hasGuardianApplicant: form.applicants.some((a) => a.fromGuardian),
      confirmEmail: form.confirmEmail,
      antiSpam: form.antiSpam,
      honeypot: form.honeypot,
      honeypotName,
    }
    const labels = context.errors && formLabels(config, view.guardians, view.applicants, t)
    return reply.view('preregistration/form', { ...view, labels })
  }

  /** A block button re-renders the form as typed; a save checks it all. */
  const handle = async (
    request: FastifyRequest<{ Body: Body }>,
    reply: FastifyReply,
    action: string,
    save: (dossier: CheckedDossier) => Promise<{ redirect: string } | { errors: FieldErrors }>,
    row?: Preregistration,
  ) => {
    const { config, t, em } = tenantContext(request)
    const offer = await preregistrationOffer(em)
    const form = readForm(request.body)
    const parsed = parseAction(request.body.action)
    if (parsed && parsed !== 'save' && parsed !== 'confirm') {
      return render(request, reply, applyAction(form, parsed), { action, row, offer })
    }
    const checked = checkForm(form, { tenant: config, today: tenantToday(config), t, offer })
    if (checked.errors)
      return render(request, reply.code(400), form, { action, errors: checked.errors, row, offer })
    const saved = await save(checked.values)
    if ('errors' in saved)
      return render(request, reply.code(409), form, { action, errors: saved.errors, row, offer })
    return reply.redirect(saved.redirect, 303)
  }

  app.get('/preinscription', publicPage, async (request, reply) => {
    try {
      openPeriod(tenantContext(request).config)
    } catch (error) {
      if (!(error instanceof PreregistrationClosed)) throw error
      return closedPage(request, reply, error.period)
    }
    return render(request, reply, emptyForm(), {
      action: '/preinscription',
      offer: await preregistrationOffer(tenantContext(request).em),
    })
  })

  app.post<{ Body: Body }>(
    '/preinscription',
    { ...publicPage, schema: { body: formBody }, preHandler: posting },
    async (request, reply) => {
      const ctx = tenantContext(request)
      openPeriod(ctx.config)
      return handle(request, reply, '/preinscription', async (dossier) => {
        await creating.call(app, request, reply)
        const row = await createDossier(ctx.em, ctx, dossier)
        reply.setCookie(savedCookie, `${ctx.tenant.slug} ${row.id} ${row.email}`, savedCookieOptions)
        return { redirect: '/preinscription/enregistree' }
      })
    },
  )

  app.get('/preinscription/enregistree', publicPage, async (request, reply) =>
    reply.header('cache-control', 'private, no-store').view('preregistration/saved', {
      title: tenantContext(request).t('prereg.saved.title'),
      saved: savedDossier(request),
    }),
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
    const { config, t, em } = tenantContext(request)
    const query = request.query as { enregistre?: string; confirme?: string }
    const editable = row.status === PreregistrationStatus.draft && preregistrationPeriod(config)?.open
    reply.header('cache-control', 'private, no-store')
    if (editable) {
      return render(request, reply, formOf(row), {
        action: `/preinscription/dossier/${token}`,
        row,
        notice: query.enregistre ? t('prereg.notice.saved') : undefined,
        offer: await preregistrationOffer(em),
      })
    }
    // each applicant's requests for next year's offer, with their states
    const dossierPlaces = async () => {
      const { requests, rules } = await requestsView(em, config, t, { preregistration: row.id })
      return { rules, byApplicant: row.applicants.map((_, i) => requests.filter((r) => r.applicant === i)) }
    }
    return reply.view('preregistration/dossier', {
      title: t('prereg.dossier.title', { number: row.id }),
      row,
      ...dossierView(config, row, t),
      places: await dossierPlaces(),
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
      const row = await dossierByToken(tenantContext(request).em, request.params.token)
      return showDossier(request, reply, row, request.params.token)
    },
  )

  app.post<{ Params: { token: string }; Body: Body }>(
    '/preinscription/dossier/:token',
    { ...publicPage, schema: { params: tokenParams, body: formBody }, preHandler: posting },
    async (request, reply) => {
      const { token } = request.params
      const ctx = tenantContext(request)
      const row = await dossierByToken(ctx.em, token)
      openPeriod(ctx.config)
      if (row.status !== PreregistrationStatus.draft)
        return showDossier(request, reply.code(409), row, token, true)
      const action = `/preinscription/dossier/${token}`
      if (request.body.action === 'confirm') {
        if (request.body.confirmed !== 'true') {
          return render(request, reply.code(400), formOf(row), {
            action,
            row,
            errors: { confirmed: ctx.t('prereg.error.confirm') },
            offer: await preregistrationOffer(ctx.em),
          })
        }
        await confirmDossier(ctx.em, ctx, token)
        return reply.redirect(`${action}?confirme=1`, 303)
      }
      return handle(
        request,
        reply,
        action,
        async (dossier) => {
          const errors = await updateDossier(ctx.em, ctx, token, dossier)
          return errors ? { errors } : { redirect: `${action}?enregistre=1` }
        },
        row,
      )
    },
  )
}
