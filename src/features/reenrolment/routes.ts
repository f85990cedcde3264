import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { idParams, recordId } from '../../platform/http/schemas.ts'
import { ValidationFailed } from '../../platform/http/errors.ts'
import { requestOrigin } from '../../platform/http/origin.ts'
import type { Step } from '../../platform/tenancy/tenant-config-types.ts'
import type { MessageKey } from '../../platform/views/i18n.ts'
import { type Requirement, requirementsOfHolders } from '../documents/service.ts'
import { documentRows } from '../documents/view.ts'
import type { Guardian } from '../family/entities.ts'
import {
  checkGuardianForm,
  familyOf,
  formFields,
  guardianFields,
  guardiansOf,
  guardianValues,
  mandatoryFields,
  tenantToday,
} from '../family/service.ts'
import type { Pupil } from '../pupils/entities.ts'
import { ownPupil, pupilFrame } from '../pupils/frame.ts'
import { checkPupil, isMinor, pupilFields, pupilValues } from '../pupils/service.ts'
import { displayValue, pendingChanges, proposeChange } from '../sas/service.ts'
import type { Reenrolment } from './entities.ts'
import {
  type Campaign,
  CampaignClosed,
  campaignDates,
  checkStep,
  currentCourses,
  declineReenrolment,
  isEditable,
  openCampaign,
  reenrolmentOf,
  saveDraft,
  startReenrolment,
  submitReenrolment,
  summaryLines,
} from './service.ts'

type Body = Record<string, string | undefined>

export const stepLabels: Record<Step, MessageKey> = {
  coordinates: 'reenrolment.step.coordinates',
  authorizations: 'reenrolment.step.authorizations',
  documents: 'reenrolment.step.documents',
  courses: 'reenrolment.step.courses',
  summary: 'reenrolment.step.summary',
  finalize: 'reenrolment.step.finalize',
}

/** Step ids as they appear in URLs, in French like the rest of the portal's paths. */
const stepPaths: Record<Step, string> = {
  coordinates: 'coordonnees',
  authorizations: 'autorisations',
  documents: 'documents',
  courses: 'cours',
  summary: 'recapitulatif',
  finalize: 'finalisation',
}
const stepOfPath = new Map(Object.entries(stepPaths).map(([step, path]) => [path, step as Step]))

const authorizationFields = ['imageRights', 'exitAuthorization'] as const

/**
 * The families' re-enrolment: for each pupil, re-enrol or not (a confirmation page, no script),
 * then the tenant's steps in its order, each saved as a draft, or all of them on one page. Every
 * route checks the period on the server, in the tenant's timezone, at the moment of the request.
 */
export default async function reenrolment(app: FastifyInstance) {
  const familyOnly = { constraints: { site: 'tenant' }, preHandler: app.requireRole('family') }
  const base = (pupil: Pupil) => `/eleves/${pupil.id}/reinscription`

  app.setErrorHandler(async (error, request, reply) => {
    if (!(error instanceof CampaignClosed)) throw error
    const campaign = error.campaign
    return reply.code(403).view('reenrolment/closed', {
      title: request.t('reenrolment.closed.title'),
      dates: campaign ? campaignDates(campaign, request.tenant!.config) : undefined,
      upcoming: campaign ? campaign.opens > new Date() : false,
    })
  })

  /** The pupil, once the period is checked. */
  const loadPupil = async (request: FastifyRequest, id: number) => {
    const campaign = openCampaign(request.tenant!.config)
    return { campaign, pupil: await ownPupil(request, id) }
  }

  /** The pupil and their re-enrolment, once the period is checked. */
  const load = async (request: FastifyRequest, id: number) => {
    const { campaign, pupil } = await loadPupil(request, id)
    const row = await reenrolmentOf(request.em, pupil, campaign.schoolYear)
    return { campaign, pupil, row }
  }

  const stepsView = (request: FastifyRequest, campaign: Campaign, pupil: Pupil, current?: Step) =>
    campaign.steps.map((step, i) => ({
      step,
      number: i + 1,
      label: request.t(stepLabels[step]),
      href: `${base(pupil)}/${stepPaths[step]}`,
      current: step === current,
    }))

  app.get<{ Params: { id: number } }>(
    '/eleves/:id/reinscription',
    { ...familyOnly, schema: { params: idParams } },
    async (request, reply) => {
      const { campaign, pupil, row } = await load(request, request.params.id)
      if (row && row.status === 'draft' && row.step) {
        return reply.redirect(
          `${base(pupil)}/${campaign.layout === 'onePage' ? 'formulaire' : stepPaths[row.step as Step]}`,
          303,
        )
      }
      return reply.view('reenrolment/choice', {
        ...(await pupilFrame(request, pupil, 'reinscription')),
        campaign,
        dates: campaignDates(campaign, request.tenant!.config),
        row,
        lines:
          row && !isEditable(row)
            ? await summaryLines(request.em, request.tenant!.config, pupil, row.answers, request.t)
            : [],
      })
    },
  )

  app.post<{ Params: { id: number } }>(
    '/eleves/:id/reinscription/commencer',
    { ...familyOnly, schema: { params: idParams } },
    async (request, reply) => {
      const { campaign, pupil } = await loadPupil(request, request.params.id)
      const row = await startReenrolment(request.em, request.account!, pupil, campaign)
      if (!isEditable(row)) return reply.redirect(base(pupil), 303)
      const first = campaign.layout === 'onePage' ? 'formulaire' : stepPaths[campaign.steps[0]!]
      return reply.redirect(`${base(pupil)}/${first}`, 303)
    },
  )

  app.get<{ Params: { id: number } }>(
    '/eleves/:id/reinscription/refuser',
    { ...familyOnly, schema: { params: idParams } },
    async (request, reply) => {
      const { pupil } = await loadPupil(request, request.params.id)
      return reply.view('reenrolment/decline', {
        ...(await pupilFrame(request, pupil, 'reinscription')),
        name: `${pupil.firstName} ${pupil.lastName}`,
      })
    },
  )

  app.post<{ Params: { id: number } }>(
    '/eleves/:id/reinscription/refuser',
    { ...familyOnly, schema: { params: idParams } },
    async (request, reply) => {
      const { campaign, pupil } = await loadPupil(request, request.params.id)
      await declineReenrolment(request.em, request.account!, pupil, campaign)
      return reply.redirect(base(pupil), 303)
    },
  )

  /** Everything a step page shows; `submitted` carries what was typed after a refusal. */
  const stepView = async (
    request: FastifyRequest,
    context: { campaign: Campaign; pupil: Pupil; row: Reenrolment; steps: Step[] },
    submitted?: { input: Body; errors: Record<string, string> },
  ) => {
    const { em, t, tenant } = request
    const config = tenant!.config
    const { pupil, row, steps } = context
    const family = await familyOf(em, request.account!)
    const view: Record<string, unknown> = {}
    const input = submitted?.input
    const answers = row.answers
    if (steps.includes('coordinates')) {
      const [guardian] = await guardiansOf(em, family)
      const [guardianPending, pupilPending] = await pendingChanges(em, [
        { type: 'guardian', id: guardian!.id },
        { type: 'pupil', id: pupil.id },
      ])
      const display = (name: string, value: string | null) => displayValue(name, value, t)
      view.guardian = guardian
      view.guardianFields = formFields(guardianFields, {
        validated: guardianValues(guardian!),
        pending: guardianPending?.changes,
        input: input && prefixed(input, 'g-'),
        mandatory: mandatoryFields(config.fields.guardian),
        t,
        display,
      })
      const pupilForm = formFields(pupilFields(config), {
        validated: pupilValues(pupil),
        pending: pupilPending?.changes,
        input: input && prefixed(input, 'p-'),
        mandatory: mandatoryFields(config.fields.pupil),
        t,
        display,
      })
      // the authorisations have their own step when the tenant has one
      if (config.reenrolment.steps.includes('authorizations')) {
        for (const name of authorizationFields) delete pupilForm[name]
      }
      view.pupilFields = pupilForm
      view.paymentModes = config.paymentModes ?? []
      view.paymentMode = input ? input.paymentMode : (answers.paymentMode ?? family.paymentMode)
    }
    if (steps.includes('authorizations')) {
      view.minor = Boolean(pupil.birthDate && isMinor(pupil.birthDate, tenantToday(config)))
      view.imageRights = input
        ? input.imageRights
        : answers.imageRights === undefined
          ? pupil.imageRights === null
            ? ''
            : String(pupil.imageRights)
          : String(answers.imageRights)
      view.exitAuthorization = input
        ? input.exitAuthorization
        : answers.exitAuthorization === undefined
          ? pupil.exitAuthorization === null
            ? ''
            : String(pupil.exitAuthorization)
          : String(answers.exitAuthorization)
    }
    if (steps.includes('documents')) {
      const back = `${base(pupil)}/${context.campaign.layout === 'onePage' ? 'formulaire' : 'documents'}`
      const [familyRequirements, pupilRequirements] = await requirementsOfHolders(em, config, [
        { family },
        { family, pupil },
      ])
      const uploadable = (list: Requirement[]) =>
        list.filter((r) => r.state !== 'validated').map((r) => r.document)
      view.familyDocuments = documentRows(request, familyRequirements, '')
      view.pupilDocuments = documentRows(request, pupilRequirements, '')
      view.familyUploadable = uploadable(familyRequirements)
      view.pupilUploadable = uploadable(pupilRequirements)
      view.documentsBack = back
    }
    if (steps.includes('courses')) {
      const courses = await currentCourses(em, config, pupil)
      view.courses = courses.map(({ course, mandatory }) => ({
        id: course.id,
        name: course.name,
        teacher: course.teacher ? `${course.teacher.firstName} ${course.teacher.lastName}` : '',
        mandatory,
        kept:
          mandatory ||
          (input ? input[`keep-${course.id}`] === 'true' : (answers.keep?.[String(course.id)] ?? true)),
      }))
      view.newDisciplines = input ? input.newDisciplines : answers.newDisciplines
      view.notes = input ? input.notes : answers.notes
      view.questions = (config.reenrolment.questions ?? []).map((q) => ({
        ...q,
        checked: input ? input[`question-${q.id}`] === 'true' : Boolean(answers.questions?.[q.id]),
      }))
    }
    if (steps.includes('summary')) {
      view.lines = await summaryLines(em, config, pupil, answers, t)
      const requirements = (await requirementsOfHolders(em, config, [{ family }, { family, pupil }])).flat()
      view.missingDocuments = requirements
        .filter((r) => r.state === 'missing' || r.state === 'refused')
        .map((r) => r.document.label)
    }
    if (steps.includes('finalize'))
      view.accepted = input ? input.accepted === 'true' : Boolean(answers.accepted)
    return {
      ...view,
      errors: submitted?.errors,
      texts: config.texts ?? {},
      reenrolmentTexts: config.reenrolment.texts ?? {},
      config: config.reenrolment,
    }
  }

  const renderStep = async (
    request: FastifyRequest,
    reply: FastifyReply,
    context: { campaign: Campaign; pupil: Pupil; row: Reenrolment },
    step: Step | 'onePage',
    submitted?: { input: Body; errors: Record<string, string> },
  ) => {
    const { campaign, pupil } = context
    const steps = step === 'onePage' ? campaign.steps : [step]
    const index = step === 'onePage' ? campaign.steps.length - 1 : campaign.steps.indexOf(step)
    return reply.view('reenrolment/step', {
      ...(await pupilFrame(request, pupil, 'reinscription')),
      campaign,
      dates: campaignDates(campaign, request.tenant!.config),
      onePage: step === 'onePage',
      step,
      steps,
      progress: step === 'onePage' ? [] : stepsView(request, campaign, pupil, step),
      number: index + 1,
      previous: index > 0 && step !== 'onePage',
      last: index === campaign.steps.length - 1,
      action: `${base(pupil)}/${step === 'onePage' ? 'formulaire' : stepPaths[step]}`,
      ...(await stepView(request, { campaign, pupil, row: context.row, steps }, submitted)),
    })
  }

  /** The draft to work on; a submitted or declined re-enrolment goes back to the choice page. */
  const draftOf = async (request: FastifyRequest, reply: FastifyReply, id: number) => {
    const loaded = await load(request, id)
    if (loaded.row?.status !== 'draft') {
      reply.redirect(base(loaded.pupil), 303)
      return undefined
    }
    return { ...loaded, row: loaded.row }
  }

  const stepParams = {
    type: 'object',
    properties: { id: recordId, step: { type: 'string', enum: [...Object.values(stepPaths), 'formulaire'] } },
  } as const

  app.get<{ Params: { id: number; step: string } }>(
    '/eleves/:id/reinscription/:step',
    { ...familyOnly, schema: { params: stepParams } },
    async (request, reply) => {
      const loaded = await draftOf(request, reply, request.params.id)
      if (!loaded) return reply
      const step = request.params.step === 'formulaire' ? 'onePage' : stepOfPath.get(request.params.step)!
      if (step === 'onePage' ? loaded.campaign.layout !== 'onePage' : !loaded.campaign.steps.includes(step))
        return reply.redirect(base(loaded.pupil), 303)
      return renderStep(request, reply, loaded, step)
    },
  )

  /**
   * Saves a step (or the one-page form) and moves on. The coordinates go through the sas like the
   * Famille and Identité pages; "previous" keeps what is valid and never blocks; the last step submits.
   */
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
      const loaded = await draftOf(request, reply, request.params.id)
      if (!loaded) return reply
      const { campaign, pupil, row } = loaded
      const { em, t, tenant } = request
      const config = tenant!.config
      const onePage = request.params.step === 'formulaire'
      const step = onePage ? undefined : stepOfPath.get(request.params.step)!
      if (onePage ? campaign.layout !== 'onePage' : !campaign.steps.includes(step!))
        return reply.redirect(base(pupil), 303)
      const steps = onePage ? campaign.steps : [step!]
      const backwards = request.body.action === 'previous'
      // only the courses step needs this year's courses
      const courses = steps.includes('courses') ? await currentCourses(em, config, pupil) : []
      const errors: Record<string, string> = {}
      let answers: Partial<ReturnType<typeof checkStep>['answers']> = {}
      for (const s of steps) {
        const checked = checkStep(s, request.body, { tenant: config, pupil, courses, t })
        answers = { ...answers, ...checked.answers }
        if (s !== 'finalize' || !backwards) Object.assign(errors, checked.errors)
      }
      const proposals: (() => Promise<unknown>)[] = []
      if (steps.includes('coordinates')) {
        const family = await familyOf(em, request.account!)
        const [guardian] = await guardiansOf(em, family)
        const coordinates = checkCoordinates(request, guardian!, pupil, request.body)
        Object.assign(errors, coordinates.errors)
        if (coordinates.guardian && coordinates.pupil) {
          const mail = { tenant: config, locale: request.locale, baseUrl: requestOrigin(request) }
          proposals.push(
            () =>
              proposeChange(
                em,
                mail,
                request.account!,
                { type: 'guardian', id: guardian!.id },
                coordinates.guardian!,
              ),
            () =>
              proposeChange(em, mail, request.account!, { type: 'pupil', id: pupil.id }, coordinates.pupil!),
          )
        }
      }
      if (backwards) {
        await saveDraft(em, request.account!, row, withoutErrors(answers, errors), step!)
        const previous = campaign.steps[campaign.steps.indexOf(step!) - 1] ?? step!
        return reply.redirect(`${base(pupil)}/${stepPaths[previous]}`, 303)
      }
      if (Object.keys(errors).length > 0) {
        await saveDraft(em, request.account!, row, withoutErrors(answers, errors), step ?? (row.step as Step))
        return renderStep(request, reply.code(400), loaded, onePage ? 'onePage' : step!, {
          input: request.body,
          errors,
        })
      }
      for (const propose of proposals) await propose()
      if (proposals.length) app.mail.kick(tenant!.slug)
      const isLast = onePage || campaign.steps.indexOf(step!) === campaign.steps.length - 1
      if (!isLast) {
        const next = campaign.steps[campaign.steps.indexOf(step!) + 1]!
        await saveDraft(em, request.account!, row, answers, next)
        return reply.redirect(`${base(pupil)}/${stepPaths[next]}`, 303)
      }
      await saveDraft(em, request.account!, row, answers, step ?? 'finalize')
      try {
        // the deadline is checked again at the very moment of submitting
        const open = openCampaign(config)
        await submitReenrolment(
          em,
          { tenant: config, campaign: open, locale: request.locale, baseUrl: requestOrigin(request), t },
          request.account!,
          pupil,
          answers,
        )
        app.mail.kick(tenant!.slug)
        return reply.redirect(`${base(pupil)}?envoye=1`, 303)
      } catch (error) {
        if (!(error instanceof ValidationFailed)) throw error
        const fresh = (await reenrolmentOf(em, pupil, campaign.schoolYear))!
        return renderStep(request, reply.code(400), { ...loaded, row: fresh }, onePage ? 'onePage' : step!, {
          input: request.body,
          errors: error.fields,
        })
      }
    },
  )

  /** The guardian's and the pupil's forms of the coordinates step, prefixed g- and p- in the page. */
  function checkCoordinates(request: FastifyRequest, guardian: Guardian, pupil: Pupil, body: Body) {
    const config = request.tenant!.config
    const errors: Record<string, string> = {}
    let guardianValuesChecked: Record<string, string | null> | undefined
    try {
      guardianValuesChecked = checkGuardianForm(guardian, prefixed(body, 'g-'), config, request.t)
    } catch (error) {
      if (!(error instanceof ValidationFailed)) throw error
      for (const [name, message] of Object.entries(error.fields)) errors[`g-${name}`] = message
    }
    const omitted = config.reenrolment.steps.includes('authorizations') ? authorizationFields : []
    const checked = checkPupil(prefixed(body, 'p-'), {
      tenant: config,
      current: pupilValues(pupil),
      today: tenantToday(config),
      t: request.t,
      omitted,
    })
    for (const [name, message] of Object.entries(checked.errors)) errors[`p-${name}`] = message
    const pupilChecked = Object.keys(checked.errors).length === 0 ? checked.values : undefined
    return { errors, guardian: guardianValuesChecked, pupil: pupilChecked }
  }
}

/** The fields of one of the two forms of the coordinates step, without their prefix. */
function prefixed(body: Body, prefix: string): Body {
  return Object.fromEntries(
    Object.entries(body)
      .filter(([name]) => name.startsWith(prefix))
      .map(([name, value]) => [name.slice(prefix.length), value]),
  )
}

function withoutErrors<T extends object>(answers: T, errors: Record<string, string>): Partial<T> {
  return Object.fromEntries(Object.entries(answers).filter(([name]) => !(name in errors))) as Partial<T>
}
