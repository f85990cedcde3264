import type { FastifyInstance, FastifyReply } from 'fastify'
import { type SignedInContext, signedInContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import {
  allSteps,
  archiveDocument,
  deleteDocument,
  deletePaymentMode,
  documentChoices,
  documentForm,
  documentRows,
  type FormInput,
  fieldsForm,
  guardianFields,
  layouts,
  type Outcome,
  paymentForm,
  paymentKinds,
  paymentRows,
  periodNames,
  periodsForm,
  pupilFields,
  saveDocument,
  saveFields,
  savePaymentMode,
  savePeriods,
  saveSteps,
  saveTexts,
  stepsForm,
  textKeys,
  textsForm,
} from './forms-service.ts'
import { continuing, workingDraft } from './service.ts'
import { parseTenantConfig } from '../../platform/tenancy/tenant-config.ts'

// longer than any limit of the schema (20 000 for a text), so that the core says which one is passed
const formBody = {
  type: 'object',
  additionalProperties: { type: 'string', maxLength: 30_000 },
} as const
// any text reaches the service, which answers 404 for an identifier the tenant does not have
const itemParams = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1, maxLength: 60 } },
  required: ['id'],
} as const

const draftPage = (id: number) => `/admin/configuration/brouillons/${id}`

/**
 * The forms for what changes every year (periods, texts, pièces à fournir, payment modes, mandatory
 * fields, re-enrolment steps). Each shows the served configuration and ends with a draft that the
 * admin previews and publishes on the draft page; a refusal comes back beside its field. Admins only.
 */
export default async function configurationForms(app: FastifyInstance) {
  const adminOnly = { constraints: { site: 'tenant' }, preHandler: app.requireRole(...staffAccess.admin) }

  // an admin with a draft continues it: the forms show its values and edit its text
  app.addHook('preHandler', async (request, reply) => {
    const ctx = request.ctx
    if (ctx?.account?.role !== 'admin') return
    const draft = await workingDraft(ctx as SignedInContext)
    const config = draft && parseTenantConfig(`${ctx.tenant.slug}.yaml`, draft.source).config
    if (!draft || !config) return
    request.ctx = continuing(ctx, draft, config)
    reply.locals = { ...reply.locals, working: { id: draft.id } }
  })
  const posted = { ...adminOnly, schema: { body: formBody } }
  const postedItem = { ...adminOnly, schema: { body: formBody, params: itemParams } }

  /** A form's answer: the draft's page, or the form again (400) with what was typed and why not. */
  const answer = (
    reply: FastifyReply,
    outcome: Outcome,
    again: (reply: FastifyReply, refused: Refused) => unknown,
    input: FormInput,
  ) => {
    if (outcome.draft !== undefined) return reply.redirect(draftPage(outcome.draft), 303)
    return again(reply.code(400), { values: input, errors: outcome.errors, problems: outcome.problems })
  }

  // —— Periods ——
  const periodsPage = (reply: FastifyReply, ctx: SignedInContext, refused?: Refused) => {
    const form = periodsForm(ctx)
    const shown = shownAgain(form.values, refused)
    return reply.view('configuration/forms/periods', {
      title: ctx.t('configForm.periods.title'),
      ...form,
      ...shown,
      // what a browser's date picker cannot show (11/06/2026 23:59 typed elsewhere) is shown as typed
      types: Object.fromEntries(
        periodNames.flatMap((name) =>
          ['opens', 'closes'].map((edge) => {
            const value = shown.values[`${name}-${edge}`] ?? ''
            const picker = value === '' || /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value)
            return [`${name}-${edge}`, picker ? 'datetime-local' : 'text']
          }),
        ),
      ),
      names: periodNames,
      labels: periodLabels(ctx),
    })
  }
  app.get('/admin/configuration/periodes', adminOnly, async (request, reply) =>
    periodsPage(reply, signedInContext(request)),
  )
  app.post<{ Body: FormInput }>('/admin/configuration/periodes', posted, async (request, reply) => {
    const ctx = signedInContext(request)
    const outcome = await savePeriods(ctx, request.body)
    return answer(reply, outcome, (r, refused) => periodsPage(r, ctx, refused), request.body)
  })

  // —— Texts ——
  const textsPage = (reply: FastifyReply, ctx: SignedInContext, refused?: Refused) =>
    reply.view('configuration/forms/texts', {
      title: ctx.t('configForm.texts.title'),
      ...shownAgain(textsForm(ctx).values, refused),
      textKeys,
      steps: allSteps,
      labels: textLabels(ctx),
    })
  app.get('/admin/configuration/textes', adminOnly, async (request, reply) =>
    textsPage(reply, signedInContext(request)),
  )
  app.post<{ Body: FormInput }>('/admin/configuration/textes', posted, async (request, reply) => {
    const ctx = signedInContext(request)
    const outcome = await saveTexts(ctx, request.body)
    return answer(reply, outcome, (r, refused) => textsPage(r, ctx, refused), request.body)
  })

  // —— Pièces à fournir ——
  app.get('/admin/configuration/pieces', adminOnly, async (request, reply) => {
    const ctx = signedInContext(request)
    return reply.view('configuration/forms/documents', {
      title: ctx.t('configForm.documents.title'),
      rows: documentRows(ctx),
    })
  })
  const documentPage = (reply: FastifyReply, ctx: SignedInContext, id?: string, refused?: Refused) => {
    const form = documentForm(ctx, id)
    return reply.view('configuration/forms/document', {
      title: id
        ? ctx.t('configForm.document.editTitle', { label: form.document.label })
        : ctx.t('configForm.document.newTitle'),
      ...form,
      ...shownAgain(form.values, refused),
      id,
      action: id
        ? `/admin/configuration/pieces/${encodeURIComponent(id)}`
        : '/admin/configuration/pieces/nouvelle',
      choices: documentChoices(ctx),
      labels: documentLabels(ctx),
    })
  }
  app.get('/admin/configuration/pieces/nouvelle', adminOnly, async (request, reply) =>
    documentPage(reply, signedInContext(request)),
  )
  app.post<{ Body: FormInput }>('/admin/configuration/pieces/nouvelle', posted, async (request, reply) => {
    const ctx = signedInContext(request)
    const outcome = await saveDocument(ctx, undefined, request.body)
    return answer(reply, outcome, (r, refused) => documentPage(r, ctx, undefined, refused), request.body)
  })
  app.get<{ Params: { id: string } }>(
    '/admin/configuration/pieces/:id',
    { ...adminOnly, schema: { params: itemParams } },
    async (request, reply) => documentPage(reply, signedInContext(request), request.params.id),
  )
  app.post<{ Params: { id: string }; Body: FormInput }>(
    '/admin/configuration/pieces/:id',
    postedItem,
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { id } = request.params
      const outcome = await saveDocument(ctx, id, request.body)
      return answer(reply, outcome, (r, refused) => documentPage(r, ctx, id, refused), request.body)
    },
  )
  /** A button of the pièce's page: its draft, or the page again with the refusal beside the button. */
  const documentAction = (path: string, act: (ctx: SignedInContext, id: string) => Promise<Outcome>) =>
    app.post<{ Params: { id: string }; Body: FormInput }>(
      `/admin/configuration/pieces/:id/${path}`,
      postedItem,
      async (request, reply) => {
        const ctx = signedInContext(request)
        const { id } = request.params
        const outcome = await act(ctx, id)
        return answer(
          reply,
          outcome,
          (r, refused) => documentPage(r, ctx, id, { ...refused, values: undefined }),
          request.body,
        )
      },
    )
  documentAction('archiver', (ctx, id) => archiveDocument(ctx, id, true))
  documentAction('desarchiver', (ctx, id) => archiveDocument(ctx, id, false))
  documentAction('supprimer', deleteDocument)

  // —— Payment modes ——
  app.get('/admin/configuration/paiement', adminOnly, async (request, reply) => {
    const ctx = signedInContext(request)
    return reply.view('configuration/forms/payment', {
      title: ctx.t('configForm.payment.title'),
      rows: paymentRows(ctx),
    })
  })
  const modePage = (reply: FastifyReply, ctx: SignedInContext, id?: string, refused?: Refused) => {
    const form = paymentForm(ctx, id)
    return reply.view('configuration/forms/payment-mode', {
      title: form.mode
        ? ctx.t('configForm.mode.editTitle', { label: form.mode.label })
        : ctx.t('configForm.mode.newTitle'),
      ...form,
      ...shownAgain(form.values, refused),
      id,
      action: id
        ? `/admin/configuration/paiement/${encodeURIComponent(id)}`
        : '/admin/configuration/paiement/nouveau',
      kinds: paymentKinds.map((kind) => ({ value: kind, label: ctx.t(`configForm.kind.${kind}`) })),
      labels: modeLabels(ctx),
    })
  }
  app.get('/admin/configuration/paiement/nouveau', adminOnly, async (request, reply) =>
    modePage(reply, signedInContext(request)),
  )
  app.post<{ Body: FormInput }>('/admin/configuration/paiement/nouveau', posted, async (request, reply) => {
    const ctx = signedInContext(request)
    const outcome = await savePaymentMode(ctx, undefined, request.body)
    return answer(reply, outcome, (r, refused) => modePage(r, ctx, undefined, refused), request.body)
  })
  app.get<{ Params: { id: string } }>(
    '/admin/configuration/paiement/:id',
    { ...adminOnly, schema: { params: itemParams } },
    async (request, reply) => modePage(reply, signedInContext(request), request.params.id),
  )
  app.post<{ Params: { id: string }; Body: FormInput }>(
    '/admin/configuration/paiement/:id',
    postedItem,
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { id } = request.params
      const outcome = await savePaymentMode(ctx, id, request.body)
      return answer(reply, outcome, (r, refused) => modePage(r, ctx, id, refused), request.body)
    },
  )
  app.post<{ Params: { id: string }; Body: FormInput }>(
    '/admin/configuration/paiement/:id/supprimer',
    postedItem,
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { id } = request.params
      const outcome = await deletePaymentMode(ctx, id)
      return answer(
        reply,
        outcome,
        (r, refused) => modePage(r, ctx, id, { ...refused, values: undefined }),
        request.body,
      )
    },
  )

  // —— Mandatory fields ——
  const fieldsPage = (reply: FastifyReply, ctx: SignedInContext, refused?: Refused) =>
    reply.view('configuration/forms/fields', {
      title: ctx.t('configForm.fields.title'),
      ...shownAgain(fieldsForm(ctx).values, refused),
      guardianFields,
      pupilFields,
      labels: {
        'guardian-fields': ctx.t('configForm.fields.guardian'),
        'pupil-fields': ctx.t('configForm.fields.pupil'),
      },
    })
  app.get('/admin/configuration/champs', adminOnly, async (request, reply) =>
    fieldsPage(reply, signedInContext(request)),
  )
  app.post<{ Body: FormInput }>('/admin/configuration/champs', posted, async (request, reply) => {
    const ctx = signedInContext(request)
    const outcome = await saveFields(ctx, request.body)
    return answer(reply, outcome, (r, refused) => fieldsPage(r, ctx, refused), request.body)
  })

  // —— Re-enrolment steps ——
  const stepsPage = (reply: FastifyReply, ctx: SignedInContext, refused?: Refused) =>
    reply.view('configuration/forms/steps', {
      title: ctx.t('configForm.steps.title'),
      ...shownAgain(stepsForm(ctx).values, refused),
      steps: allSteps,
      layouts,
      labels: {
        ...Object.fromEntries(
          allSteps.map((step) => [`position-${step}`, ctx.t(`reenrolment.step.${step}`)]),
        ),
        layout: ctx.t('configForm.steps.layout'),
      },
    })
  app.get('/admin/configuration/etapes', adminOnly, async (request, reply) =>
    stepsPage(reply, signedInContext(request)),
  )
  app.post<{ Body: FormInput }>('/admin/configuration/etapes', posted, async (request, reply) => {
    const ctx = signedInContext(request)
    const outcome = await saveSteps(ctx, request.body)
    return answer(reply, outcome, (r, refused) => stepsPage(r, ctx, refused), request.body)
  })
}

/** What a refused submission shows again: what was typed (none after a button), and why not. */
interface Refused {
  values?: FormInput
  errors?: Record<string, string>
  problems: string[]
}

/** The form's values: what was typed when a submission was refused, else the served configuration's. */
function shownAgain(served: FormInput, refused: Refused | undefined) {
  return { values: refused?.values ?? served, errors: refused?.errors, problems: refused?.problems ?? [] }
}

function periodLabels(ctx: SignedInContext): Record<string, string> {
  const labels: Record<string, string> = {}
  for (const name of periodNames) {
    const period = ctx.t(`configForm.periods.${name}`)
    labels[`${name}-enabled`] = period
    labels[`${name}-opens`] = `${period} — ${ctx.t('configForm.periods.opens')}`
    labels[`${name}-closes`] = `${period} — ${ctx.t('configForm.periods.closes')}`
  }
  labels['reenrolment-schoolYear'] = ctx.t('configForm.periods.schoolYear')
  return labels
}

function textLabels(ctx: SignedInContext): Record<string, string> {
  const labels: Record<string, string> = { courseNotes: ctx.t('configForm.texts.courseNotes') }
  for (const key of textKeys) labels[`texts-${key}`] = ctx.t(`configForm.texts.${key}`)
  for (const step of allSteps)
    labels[`intro-${step}`] = ctx.t('configForm.texts.stepIntro', { step: ctx.t(`reenrolment.step.${step}`) })
  return labels
}

function documentLabels(ctx: SignedInContext): Record<string, string> {
  return {
    label: ctx.t('configForm.document.label'),
    help: ctx.t('configForm.document.help'),
    level: ctx.t('configForm.document.level'),
    condition: ctx.t('configForm.document.condition'),
    accept: ctx.t('configForm.document.accept'),
    maxSizeMb: ctx.t('configForm.document.maxSizeMb'),
    validity: ctx.t('configForm.document.validity'),
    until: ctx.t('configForm.document.until'),
    delete: ctx.t('configForm.document.delete'),
  }
}

function modeLabels(ctx: SignedInContext): Record<string, string> {
  return {
    label: ctx.t('configForm.mode.label'),
    kind: ctx.t('configForm.mode.kind'),
    instalments: ctx.t('configForm.mode.instalments'),
    help: ctx.t('configForm.mode.help'),
    delete: ctx.t('configForm.mode.delete'),
  }
}
