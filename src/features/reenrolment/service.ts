import { LockMode } from '@mikro-orm/core'
import { frenchOrder } from '../../platform/text.ts'
import { type Expression, type Kysely, sql } from 'kysely'
import { jsonArrayFrom } from 'kysely/helpers/postgres'
import { type TenantDb, tenantDb } from '../../entities.ts'
import { audit } from '../../platform/audit/audit.ts'
import type { SignedInContext, TenantContext } from '../../platform/auth/context.ts'
import { Account } from '../../platform/auth/entities.ts'
import { spreadsheetCsv } from '../../platform/csv.ts'
import { type JsonOf, prepare, type Reader } from '../../platform/db/reads.ts'
import { type Checked, type FieldErrors, refusals } from '../../platform/forms.ts'
import { NotFound } from '../../platform/http/errors.ts'
import { offsetOf, pageSize } from '../../platform/http/pagination.ts'
import { queueMail } from '../../platform/mail/outbox.ts'
import { resolvePeriod } from '../../platform/tenancy/periods.ts'
import type { TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import type { Step } from '../../platform/tenancy/tenant-config-types.ts'
import { formatDate, formatTime } from '../../platform/views/dates.ts'
import { type MessageKey, type Translate, translator } from '../../platform/views/i18n.ts'
import { requirementsOf, submissionsOf } from '../documents/service.ts'
import {
  checkGuardianForm,
  type FamilyRef,
  familyIdOf,
  formFields,
  fullName,
  guardianFields,
  guardiansOf,
  guardianValues,
  householdOf,
  householdOr404,
  mandatoryFields,
  tenantToday,
} from '../family/service.ts'
import { checkPupil, isMinor, pupilFields, pupilRecordOf, pupilValues } from '../pupils/service.ts'
import { displayValue, pendingChangesOf, pendingOf, proposeChanges } from '../sas/service.ts'
import { checkDecision, type DecisionInput } from '../shared/decision.ts'
import { documentRows, stateLabels, uploadable } from '../shared/document-table.ts'
import { pupilFrame } from '../shared/pupil-frame.ts'
import {
  currentSchoolYear,
  enrolmentsOfFamily,
  type FamilyEnrolment,
  teacherName,
} from '../teaching/service.ts'
import { Reenrolment, type ReenrolmentAnswers, ReenrolmentStatus } from './entities.ts'
import {
  checkChoices,
  choiceFields,
  offerLabels,
  publishedOffer,
  reenrolmentChoices,
  requestLines,
  withdrawRequests,
} from '../places/family-service.ts'
import { OfferItem, PlaceRequest, RequestState } from '../places/entities.ts'
import type { Em } from '../../platform/db/orm.ts'

/** The tenant's re-enrolment window for the coming school year, and whether it is open now. */
export interface Campaign {
  schoolYear: string
  opens: Date
  closes: Date
  open: boolean
  steps: Step[]
  layout: 'wizard' | 'onePage'
}

export function campaignOf(tenant: TenantConfig, now = new Date()): Campaign | undefined {
  const spec = tenant.periods?.reenrolment
  if (!spec) return undefined
  const period = resolvePeriod(spec, tenant.timezone, now)!
  const { steps, layout } = tenant.reenrolment
  return { schoolYear: spec.schoolYear, ...period, steps, layout }
}

/** The re-enrolment is closed now: the page says when it was or will be open. */
export class CampaignClosed extends Error {
  readonly campaign: Campaign | undefined
  constructor(campaign: Campaign | undefined) {
    super('re-enrolment closed')
    this.campaign = campaign
  }
}

export function openCampaign(tenant: TenantConfig, now = new Date()): Campaign {
  const campaign = campaignOf(tenant, now)
  if (!campaign?.open) throw new CampaignClosed(campaign)
  return campaign
}

/** "Jusqu'au 11/06/2025 à 23:59", and the opening, in the tenant's timezone. */
export function campaignDates(campaign: Campaign, tenant: TenantConfig) {
  const tz = tenant.timezone
  return {
    opensDate: formatDate(campaign.opens, tz),
    opensTime: formatTime(campaign.opens, tz),
    closesDate: formatDate(campaign.closes, tz),
    closesTime: formatTime(campaign.closes, tz),
  }
}

/** The family's re-enrolments, every year and state: a fragment of the family's pages. */
export function reenrolmentsOf(familyId: FamilyRef) {
  return jsonArrayFrom(
    tenantDb
      .selectFrom('reenrolment as r')
      .select([
        'r.id',
        'r.pupil_id as pupilId',
        'r.school_year as schoolYear',
        'r.status',
        'r.step',
        'r.answers',
        'r.reason',
        'r.updated_at as updatedAt',
      ])
      .where('r.family_id', '=', familyId),
  )
}

export type FamilyReenrolment = JsonOf<typeof reenrolmentsOf>

/** A re-enrolment the documents' conditions read: being prepared, or submitted and not decided yet. */
export type ReenrolmentInProgress = Pick<
  FamilyReenrolment,
  'pupilId' | 'schoolYear' | 'answers' | 'updatedAt'
>

export function inProgress(rows: readonly FamilyReenrolment[]): FamilyReenrolment[] {
  return rows.filter((r) => r.status === ReenrolmentStatus.draft || r.status === ReenrolmentStatus.submitted)
}

/** A draft or a refusal can still change; a submitted request waits for staff. */
export function isEditable(row: { status: string }): boolean {
  return row.status === ReenrolmentStatus.draft || row.status === ReenrolmentStatus.declined
}

/** What a page of the re-enrolment reads besides the household, the pupil and the family's re-enrolments. */
interface FileParts {
  /** The guardians and the pending changes: the coordinates step. */
  coordinates: boolean
  /** This year's enrolments: the courses, the summary lines, the documents' conditions. */
  courses: boolean
  /** The family's uploads: the documents step and the summary. */
  documents: boolean
}

function partsOf(steps: readonly Step[] | 'choice'): FileParts {
  if (steps === 'choice') return { coordinates: false, courses: true, documents: false }
  const has = (...wanted: Step[]) => steps.some((s) => wanted.includes(s))
  return {
    coordinates: has('coordinates'),
    courses: has('documents', 'courses', 'summary', 'finalize'),
    documents: has('documents', 'summary'),
  }
}

// a part a page does not show is read as an empty list, so every variant has the same shape
const none = <T>() => sql<T[]>`'[]'::json`

const fileReads = new Map<string, ReturnType<typeof fileRead>>()

/** Everything a page of the re-enrolment shows or checks, in one statement; one read per set of parts. */
function fileRead(parts: FileParts) {
  return prepare((db: Kysely<TenantDb>, p: { accountId: number; pupilId: number; yearId: number }) => {
    const family = familyIdOf(p.accountId)
    return db.selectNoFrom([
      householdOf(p.accountId).as('household'),
      pupilRecordOf(p.pupilId, family).as('pupil'),
      reenrolmentsOf(family).as('reenrolments'),
      (parts.coordinates ? guardiansOf(family) : none<JsonOf<typeof guardiansOf>>()).as('guardians'),
      (parts.coordinates ? pendingChangesOf(family) : none<JsonOf<typeof pendingChangesOf>>()).as('changes'),
      (parts.courses ? enrolmentsOfFamily(family, p.yearId) : none<FamilyEnrolment>()).as('enrolments'),
      (parts.documents ? submissionsOf(family) : none<JsonOf<typeof submissionsOf>>()).as('submissions'),
    ])
  })
}

/** One pupil's re-enrolment as the family's pages work on it. */
export type ReenrolmentFile = Awaited<ReturnType<typeof loadFile>>

/**
 * The pupil's re-enrolment file for the campaign's year, with what the given steps (or the choice
 * page) need; another family's pupil is a 404.
 */
export async function loadFile(
  ctx: SignedInContext,
  pupilId: number,
  campaign: Campaign,
  steps: readonly Step[] | 'choice',
) {
  const parts = partsOf(steps)
  const key = `${parts.coordinates}${parts.courses}${parts.documents}`
  let read = fileReads.get(key)
  if (!read) {
    read = fileRead(parts)
    fileReads.set(key, read)
  }
  const year = await currentSchoolYear(ctx.db)
  const found = await read.first(ctx.db, { accountId: ctx.account.id, pupilId, yearId: year?.id ?? 0 })
  const household = householdOr404(found?.household)
  const pupil = found?.pupil
  if (!found || !pupil) throw new NotFound()
  const guardian = found.guardians[0]
  if (parts.coordinates && !guardian) throw new NotFound()
  const row = found.reenrolments.find((r) => r.pupilId === pupilId && r.schoolYear === campaign.schoolYear)
  // next year's offer: the courses step's choice lists and the summaries' request lines
  const offer = parts.courses ? await publishedOffer(ctx.em) : { schoolYear: '', items: [] }
  return { ...found, household, pupil, guardian, row, offer }
}

/** "Je souhaite réinscrire": opens (or reopens, after a change of mind) the pupil's draft. */
export async function startReenrolment(ctx: SignedInContext, file: ReenrolmentFile, campaign: Campaign) {
  return ctx.em.transactional(async (tx) => {
    let row = await tx.findOne(
      Reenrolment,
      { pupil: file.pupil.id, schoolYear: campaign.schoolYear },
      { lockMode: LockMode.PESSIMISTIC_WRITE },
    )
    if (row && !isEditable(row)) return row
    if (!row) {
      row = tx.create(Reenrolment, {
        family: file.household.familyId,
        pupil: file.pupil.id,
        schoolYear: campaign.schoolYear,
        updatedBy: tx.getReference(Account, ctx.account.id),
      })
    }
    row.status = ReenrolmentStatus.draft
    row.declinedAt = null
    row.step = row.step ?? campaign.steps[0]!
    await tx.flush()
    audit(tx, ctx.account, {
      action: 'reenrolment.started',
      subject: { type: 'pupil', id: file.pupil.id },
      details: { schoolYear: campaign.schoolYear },
    })
    return row
  })
}

/** "Je ne souhaite pas réinscrire", once confirmed: recorded, and reversible while the period lasts. */
export async function declineReenrolment(ctx: SignedInContext, file: ReenrolmentFile, campaign: Campaign) {
  await ctx.em.transactional(async (tx) => {
    let row = await tx.findOne(
      Reenrolment,
      { pupil: file.pupil.id, schoolYear: campaign.schoolYear },
      { lockMode: LockMode.PESSIMISTIC_WRITE },
    )
    if (row && !isEditable(row)) return
    row ??= tx.create(Reenrolment, {
      family: file.household.familyId,
      pupil: file.pupil.id,
      schoolYear: campaign.schoolYear,
    })
    row.status = ReenrolmentStatus.declined
    row.declinedAt = new Date()
    row.updatedBy = tx.getReference(Account, ctx.account.id)
    await tx.flush()
    audit(tx, ctx.account, {
      action: 'reenrolment.declined',
      subject: { type: 'pupil', id: file.pupil.id },
      details: { schoolYear: campaign.schoolYear },
    })
  })
}

/** A course of this year in the courses step, with whether it may be dropped. */
export interface CurrentCourse {
  id: number
  name: string
  discipline: string
  teacher: string
  mandatory: boolean
  /** This year's level ("1C2"): what an offer item's levels are read against. */
  cycle: string | null
}

/** The pupil's active courses of this year, by name; those of a mandatory discipline cannot be dropped. */
export function currentCourses(
  tenant: TenantConfig,
  enrolments: ReenrolmentFile['enrolments'],
  pupilId: number,
): CurrentCourse[] {
  const mandatory = new Set(tenant.reenrolment.mandatoryDisciplines ?? [])
  return enrolments
    .filter((e) => e.pupilId === pupilId && e.active)
    .map((e) => ({
      id: e.courseId,
      name: e.name,
      discipline: e.discipline,
      teacher: teacherName(e),
      mandatory: mandatory.has(e.discipline),
      cycle: e.cycle ?? null,
    }))
    .sort((a, b) => frenchOrder(a.name, b.name))
}

/** The tenant's questions asked of a pupil: those limited to disciplines only of their pupils. */
export function questionsFor(tenant: TenantConfig, courses: readonly { discipline: string }[]) {
  return (tenant.reenrolment.questions ?? []).filter(
    (q) => !q.disciplines?.length || courses.some((c) => q.disciplines!.includes(c.discipline)),
  )
}

/** Next year's offer as the courses step reads it. */
export type Offer = Awaited<ReturnType<typeof publishedOffer>>

/** The offer's labels by id, for the summaries' request lines. */
function labelsOf(offer: Offer): Map<number, string> {
  return new Map(offer.items.map((i) => [i.id, i.label]))
}

/** The offer items a pupil may ask for, given the courses kept (by id). */
function choicesOf(
  offer: Offer,
  birthDate: string | null,
  courses: readonly CurrentCourse[],
  keep: Record<string, boolean>,
) {
  return reenrolmentChoices(
    offer,
    { birthDate },
    courses.map((c) => ({ ...c, kept: keep[String(c.id)] ?? true })),
  )
}

function minorNow(tenant: TenantConfig, birthDate: string | null): boolean {
  return Boolean(birthDate && isMinor(birthDate, tenantToday(tenant)))
}

/** The answers of one step, checked; a message per field when something is missing or wrong. */
export function checkStep(
  step: Step,
  input: Record<string, string | undefined>,
  context: {
    tenant: TenantConfig
    birthDate: string | null
    courses: CurrentCourse[]
    t: Translate
    offer?: Offer
  },
): Checked<Partial<ReenrolmentAnswers>> {
  const { tenant, courses, t } = context
  const errors: FieldErrors = {}
  const answers: Partial<ReenrolmentAnswers> = {}
  const yesNo = (name: 'imageRights' | 'exitAuthorization') => {
    const value = input[name]
    if (value === 'true' || value === 'false') answers[name] = value === 'true'
    else
      errors[name] = t(
        name === 'exitAuthorization' && minorNow(tenant, context.birthDate)
          ? 'identity.error.exitAuthorizationMinor'
          : 'reenrolment.error.answer',
      )
  }
  switch (step) {
    case 'coordinates': {
      const modes = tenant.paymentModes ?? []
      if (modes.length > 0) {
        if (modes.some((m) => m.id === input.paymentMode)) answers.paymentMode = input.paymentMode!
        else errors.paymentMode = t('reenrolment.error.paymentMode')
      }
      break
    }
    case 'authorizations':
      yesNo('imageRights')
      yesNo('exitAuthorization')
      break
    case 'courses': {
      answers.keep = Object.fromEntries(
        courses.map(({ id, mandatory }) => [String(id), mandatory || input[`keep-${id}`] === 'true']),
      )
      answers.newDisciplines = (input.newDisciplines ?? '').trim().slice(0, 1000)
      answers.notes = (input.notes ?? '').trim().slice(0, 4000)
      answers.questions = Object.fromEntries(
        questionsFor(tenant, courses).map((q) => [q.id, input[`question-${q.id}`] === 'true']),
      )
      if (context.offer?.items.length) {
        const allowed = choicesOf(context.offer, context.birthDate, courses, answers.keep)
        const checked = checkChoices(input, 'choice-', allowed, t)
        // a refused choice keeps the draft's earlier requests until the family corrects it
        if (Object.keys(checked.errors).length) Object.assign(errors, checked.errors)
        else answers.requests = checked.requests
      }
      break
    }
    case 'finalize':
      if (input.accepted === 'true') answers.accepted = true
      else errors.accepted = t('reenrolment.error.accept')
      break
    default:
      break
  }
  return { values: answers, errors: refusals(errors) }
}

/** What a submission still lacks, by step, in the order of the steps. */
export function missingAnswers(
  campaign: Campaign,
  tenant: TenantConfig,
  answers: ReenrolmentAnswers,
  t: Translate,
): FieldErrors | undefined {
  const missing: FieldErrors = {}
  if (
    campaign.steps.includes('coordinates') &&
    (tenant.paymentModes ?? []).length > 0 &&
    !answers.paymentMode
  )
    missing.paymentMode = t('reenrolment.error.paymentMode')
  if (campaign.steps.includes('authorizations')) {
    if (answers.imageRights === undefined) missing.imageRights = t('reenrolment.error.answer')
    if (answers.exitAuthorization === undefined) missing.exitAuthorization = t('reenrolment.error.answer')
  }
  if (!answers.accepted) missing.accepted = t('reenrolment.error.accept')
  return refusals(missing)
}

/** The answers in words, as the Récapitulatif, the mails and staff show them. */
export function summaryLines(
  tenant: TenantConfig,
  courses: readonly { id: number; name: string; discipline: string }[],
  answers: ReenrolmentAnswers,
  t: Translate,
  offerLabels: ReadonlyMap<number, string> = new Map(),
) {
  const lines: { label: string; value: string }[] = []
  const yes = (value: boolean | undefined) => (value === undefined ? '—' : t(value ? 'sas.yes' : 'sas.no'))
  const mode = tenant.paymentModes?.find((m) => m.id === answers.paymentMode)
  if (mode) lines.push({ label: t('reenrolment.paymentMode'), value: mode.label })
  if (answers.imageRights !== undefined)
    lines.push({ label: t('identity.imageRights'), value: yes(answers.imageRights) })
  if (answers.exitAuthorization !== undefined)
    lines.push({ label: t('identity.exitAuthorization'), value: yes(answers.exitAuthorization) })
  for (const course of courses) {
    const kept = answers.keep?.[String(course.id)]
    if (kept !== undefined)
      lines.push({ label: course.name, value: t(kept ? 'reenrolment.kept' : 'reenrolment.dropped') })
  }
  if (answers.newDisciplines)
    lines.push({
      label: tenant.reenrolment.newDisciplinesQuestion ?? t('reenrolment.newDisciplines'),
      value: answers.newDisciplines,
    })
  lines.push(...requestLines(answers.requests, offerLabels, t))
  for (const q of questionsFor(tenant, courses)) {
    if (answers.questions?.[q.id] !== undefined)
      lines.push({ label: q.label, value: yes(answers.questions[q.id]) })
  }
  if (answers.notes) lines.push({ label: t('reenrolment.notes'), value: answers.notes })
  return lines
}

/**
 * Saves a step's answers into the draft and remembers where the family is, in one UPDATE that
 * applies only while the row is still a draft or a refusal: a page open in another tab cannot turn
 * a submitted request back into a draft. Returns false when the row had been submitted meanwhile.
 */
async function saveDraft(
  ctx: SignedInContext,
  row: FamilyReenrolment,
  answers: Partial<ReenrolmentAnswers>,
  step: Step,
): Promise<boolean> {
  const merged = { ...row.answers, ...answers }
  const saved = await ctx.em.nativeUpdate(
    Reenrolment,
    { id: row.id, status: { $in: [ReenrolmentStatus.draft, ReenrolmentStatus.declined] } },
    {
      answers: merged,
      step,
      status: ReenrolmentStatus.draft,
      updatedBy: ctx.account.id,
      updatedAt: new Date(),
    },
  )
  Object.assign(row, { answers: merged, step, status: ReenrolmentStatus.draft })
  return saved > 0
}

/**
 * Valider: the draft becomes a request "en attente de validation" and a summary is mailed. The row
 * is locked, so a double submit (two tabs, a double click) finds it submitted and sends nothing
 * twice. What is still missing is saved with the draft and named, step by step.
 */
async function submitReenrolment(
  ctx: SignedInContext,
  file: ReenrolmentFile,
  campaign: Campaign,
  answers: Partial<ReenrolmentAnswers>,
  step: Step,
): Promise<FieldErrors | undefined> {
  const { config: tenant, t } = ctx
  const courses = currentCourses(tenant, file.enrolments, file.pupil.id)
  return ctx.em.transactional(async (tx) => {
    const row = await tx.findOne(
      Reenrolment,
      { pupil: file.pupil.id, schoolYear: campaign.schoolYear },
      { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
    )
    if (!row) throw new NotFound()
    if (!isEditable(row)) return undefined
    const merged = { ...row.answers, ...answers }
    row.answers = merged
    row.updatedBy = tx.getReference(Account, ctx.account.id)
    const missing = missingAnswers(campaign, tenant, merged, t)
    if (missing) {
      row.status = ReenrolmentStatus.draft
      row.step = step
      return missing
    }
    row.status = ReenrolmentStatus.submitted
    row.submittedAt = new Date()
    row.step = 'finalize'
    await tx.flush()
    await createRequests(tx, file, row, courses)
    audit(tx, ctx.account, {
      action: 'reenrolment.submitted',
      subject: { type: 'pupil', id: file.pupil.id },
      details: { reenrolment: row.id, answers: merged },
    })
    queueMail(tx, tenant, ctx.locale, {
      to: ctx.account.email,
      template: 'reenrolment-submitted',
      data: {
        displayName: ctx.account.displayName,
        pupil: fullName(file.pupil),
        schoolYear: campaign.schoolYear,
        lines: summaryLines(tenant, courses, merged, translator(ctx.locale), labelsOf(file.offer)),
        link: `${ctx.baseUrl}/eleves/${file.pupil.id}/reinscription`,
      },
    })
    return undefined
  })
}

/**
 * The submitted re-enrolment's requests for next year's offer become the pupil's ranked requests,
 * "en attente": only items still published and open to the pupil count, ranked in the family's order.
 */
async function createRequests(tx: Em, file: ReenrolmentFile, row: Reenrolment, courses: CurrentCourse[]) {
  const wanted = row.answers.requests ?? []
  if (wanted.length === 0) return
  const allowed = new Set(
    choicesOf(file.offer, file.pupil.birthDate, courses, row.answers.keep ?? {}).map((i) => i.id),
  )
  const items = await tx.find(OfferItem, {
    id: { $in: wanted.filter((id) => allowed.has(id)) },
    publishedAt: { $ne: null },
  })
  const already = new Set(
    (await tx.find(PlaceRequest, { pupil: file.pupil.id, item: { $in: items.map((i) => i.id) } })).map(
      (r) => r.item.id,
    ),
  )
  let rank = 0
  for (const id of wanted) {
    const item = items.find((i) => i.id === id)
    if (!item || already.has(id)) continue
    rank++
    tx.create(PlaceRequest, {
      item,
      source: 'reenrolment',
      pupil: file.pupil.id,
      family: file.household.familyId,
      reenrolment: row,
      name: fullName(file.pupil),
      rank,
      requestedAt: row.submittedAt!,
      state: RequestState.waiting,
    })
  }
  await tx.flush()
}

export const stepLabels: Record<Step, MessageKey> = {
  coordinates: 'reenrolment.step.coordinates',
  authorizations: 'reenrolment.step.authorizations',
  documents: 'reenrolment.step.documents',
  courses: 'reenrolment.step.courses',
  summary: 'reenrolment.step.summary',
  finalize: 'reenrolment.step.finalize',
}

/** Step ids as they appear in URLs, in French like the rest of the portal's paths. */
export const stepPaths: Record<Step, string> = {
  coordinates: 'coordonnees',
  authorizations: 'autorisations',
  documents: 'documents',
  courses: 'cours',
  summary: 'recapitulatif',
  finalize: 'finalisation',
}
const stepOfPath = new Map(Object.entries(stepPaths).map(([step, path]) => [path, step as Step]))

/** A page of the form: one step of the wizard, or the whole form on one page. */
export type Page = Step | 'onePage'

/** The page a URL segment names, if the tenant's campaign has it. */
export function pageOfPath(campaign: Campaign, path: string): Page | undefined {
  if (path === 'formulaire') return campaign.layout === 'onePage' ? 'onePage' : undefined
  const step = stepOfPath.get(path)
  return step && campaign.steps.includes(step) ? step : undefined
}

export function pathOf(pupilId: number, page: Page | 'choice'): string {
  const base = `/eleves/${pupilId}/reinscription`
  if (page === 'choice') return base
  return `${base}/${page === 'onePage' ? 'formulaire' : stepPaths[page]}`
}

/** Where the family resumes: the step reached, or the form when it has one page. */
export function resumePath(file: ReenrolmentFile, campaign: Campaign): string | undefined {
  const row = file.row
  if (row?.status !== ReenrolmentStatus.draft || !row.step) return undefined
  return pathOf(file.pupil.id, campaign.layout === 'onePage' ? 'onePage' : (row.step as Step))
}

/** The first page of the form, once the draft is opened. */
export function firstPath(pupilId: number, campaign: Campaign): string {
  return pathOf(pupilId, campaign.layout === 'onePage' ? 'onePage' : campaign.steps[0]!)
}

const authorizationFields = ['imageRights', 'exitAuthorization'] as const

type Body = Record<string, string | undefined>

/** The fields of one of the two forms of the coordinates step, without their prefix. */
function prefixed(body: Body, prefix: string): Body {
  return Object.fromEntries(
    Object.entries(body)
      .filter(([name]) => name.startsWith(prefix))
      .map(([name, value]) => [name.slice(prefix.length), value]),
  )
}

function withoutErrors<T extends object>(answers: T, errors: FieldErrors | undefined): Partial<T> {
  if (!errors) return answers
  return Object.fromEntries(Object.entries(answers).filter(([name]) => !(name in errors))) as Partial<T>
}

/** The main guardian, whose record the coordinates step shows (read with that step's parts). */
function mainGuardian(file: ReenrolmentFile) {
  if (!file.guardian) throw new NotFound()
  return file.guardian
}

/** The guardian's and the pupil's forms of the coordinates step, prefixed g- and p- in the page. */
function checkCoordinates(ctx: SignedInContext, file: ReenrolmentFile, body: Body) {
  const errors: FieldErrors = {}
  const record = mainGuardian(file)
  const guardian = checkGuardianForm(record, prefixed(body, 'g-'), ctx)
  for (const [name, message] of Object.entries(guardian.errors ?? {})) errors[`g-${name}`] = message
  const omitted = ctx.config.reenrolment.steps.includes('authorizations') ? authorizationFields : []
  const pupil = checkPupil(prefixed(body, 'p-'), {
    tenant: ctx.config,
    current: pupilValues(file.pupil),
    today: tenantToday(ctx.config),
    t: ctx.t,
    omitted,
  })
  for (const [name, message] of Object.entries(pupil.errors ?? {})) errors[`p-${name}`] = message
  return {
    errors,
    proposals:
      guardian.errors || pupil.errors
        ? []
        : [
            {
              ref: { type: 'guardian' as const, id: record.id },
              values: guardian.values,
              seen: {
                values: guardianValues(record),
                pending: pendingOf(file.changes, { type: 'guardian', id: record.id })?.changes,
              },
            },
            {
              ref: { type: 'pupil' as const, id: file.pupil.id },
              values: pupil.values,
              seen: {
                values: pupilValues(file.pupil),
                pending: pendingOf(file.changes, { type: 'pupil', id: file.pupil.id })?.changes,
              },
            },
          ],
  }
}

/** What the family posted from a page: where to go next, or the page again with its messages. */
export type StepOutcome = { redirect: string } | { errors: FieldErrors }

/**
 * Saves a page of the form and moves on. The coordinates go through the sas like the Famille and
 * Identité pages; "previous" keeps what is valid and never blocks; the last step submits, the
 * deadline checked again at that moment.
 */
export async function saveStep(
  ctx: SignedInContext,
  file: ReenrolmentFile,
  campaign: Campaign,
  page: Page,
  body: Body,
): Promise<StepOutcome> {
  const row = file.row
  if (!row || row.status !== ReenrolmentStatus.draft) return { redirect: pathOf(file.pupil.id, 'choice') }
  const { config, t } = ctx
  const steps = page === 'onePage' ? campaign.steps : [page]
  const backwards = body.action === 'previous'
  const courses = currentCourses(config, file.enrolments, file.pupil.id)
  const errors: FieldErrors = {}
  let answers: Partial<ReenrolmentAnswers> = {}
  for (const s of steps) {
    const checked = checkStep(s, body, {
      tenant: config,
      birthDate: file.pupil.birthDate,
      courses,
      t,
      offer: file.offer,
    })
    answers = { ...answers, ...checked.values }
    if (s !== 'finalize' || !backwards) Object.assign(errors, checked.errors)
  }
  const coordinates = steps.includes('coordinates') ? checkCoordinates(ctx, file, body) : undefined
  Object.assign(errors, coordinates?.errors)
  const refused = refusals(errors)
  const index = page === 'onePage' ? campaign.steps.length - 1 : campaign.steps.indexOf(page)
  const here = page === 'onePage' ? ((row.step as Step | null) ?? campaign.steps[0]!) : page
  if (backwards) {
    const previous = campaign.steps[index - 1] ?? here
    await saveDraft(ctx, row, withoutErrors(answers, refused), here)
    return { redirect: pathOf(file.pupil.id, previous) }
  }
  if (refused) {
    await saveDraft(ctx, row, withoutErrors(answers, refused), here)
    return { errors: refused }
  }
  if (coordinates?.proposals.length) await proposeChanges(ctx, file.household.familyId, coordinates.proposals)
  const next = campaign.steps[index + 1]
  if (page !== 'onePage' && next) {
    if (!(await saveDraft(ctx, row, answers, next))) return { redirect: pathOf(file.pupil.id, 'choice') }
    return { redirect: pathOf(file.pupil.id, next) }
  }
  // the deadline is checked again at the very moment of submitting
  const open = openCampaign(config)
  const missing = await submitReenrolment(ctx, file, open, answers, page === 'onePage' ? 'finalize' : page)
  if (missing) {
    Object.assign(row, { answers: { ...row.answers, ...answers } })
    return { errors: missing }
  }
  return { redirect: `${pathOf(file.pupil.id, 'choice')}?envoye=1` }
}

/** Everything a page of the form shows; `submitted` carries what was typed after a refusal. */
export function pageView(
  ctx: SignedInContext,
  file: ReenrolmentFile,
  campaign: Campaign,
  page: Page,
  submitted?: { input: Body; errors: FieldErrors },
) {
  const { config, t } = ctx
  const { pupil } = file
  const row = file.row!
  const steps = page === 'onePage' ? campaign.steps : [page]
  const index = page === 'onePage' ? campaign.steps.length - 1 : campaign.steps.indexOf(page)
  const input = submitted?.input
  const answers = row.answers
  const view: Record<string, unknown> = {}
  if (steps.includes('coordinates')) {
    const guardian = mainGuardian(file)
    const guardianPending = pendingOf(file.changes, { type: 'guardian', id: guardian.id })
    const pupilPending = pendingOf(file.changes, { type: 'pupil', id: pupil.id })
    const display = (name: string, value: string | null) => displayValue(name, value, t)
    view.guardian = guardian
    view.guardianFields = formFields(guardianFields, {
      validated: guardianValues(guardian),
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
    view.paymentMode = input ? input.paymentMode : (answers.paymentMode ?? file.household.paymentMode)
  }
  if (steps.includes('authorizations')) {
    const shown = (name: 'imageRights' | 'exitAuthorization') =>
      input
        ? input[name]
        : answers[name] === undefined
          ? pupil[name] === null
            ? ''
            : String(pupil[name])
          : String(answers[name])
    view.minor = minorNow(config, pupil.birthDate)
    view.imageRights = shown('imageRights')
    view.exitAuthorization = shown('exitAuthorization')
  }
  const facts = {
    family: file.household,
    enrolments: file.enrolments,
    reenrolments: inProgress(file.reenrolments),
  }
  if (steps.includes('documents')) {
    const familyRequirements = requirementsOf(config, facts, file.submissions)
    const pupilRequirements = requirementsOf(config, facts, file.submissions, pupil)
    view.familyDocuments = documentRows(ctx, familyRequirements, '')
    view.pupilDocuments = documentRows(ctx, pupilRequirements, '')
    view.familyUploadable = uploadable(familyRequirements)
    view.pupilUploadable = uploadable(pupilRequirements)
    view.documentsBack = pathOf(pupil.id, campaign.layout === 'onePage' ? 'onePage' : 'documents')
  }
  if (steps.includes('courses')) {
    view.courses = currentCourses(config, file.enrolments, pupil.id).map((course) => ({
      ...course,
      kept:
        course.mandatory ||
        (input ? input[`keep-${course.id}`] === 'true' : (answers.keep?.[String(course.id)] ?? true)),
    }))
    view.newDisciplines = input ? input.newDisciplines : answers.newDisciplines
    view.notes = input ? input.notes : answers.notes
    const current = currentCourses(config, file.enrolments, pupil.id)
    view.questions = questionsFor(config, current).map((q) => ({
      ...q,
      checked: input ? input[`question-${q.id}`] === 'true' : Boolean(answers.questions?.[q.id]),
    }))
    // the choices follow the courses kept as saved: a course dropped now shows on the next visit
    const keep = answers.keep ?? {}
    const allowed = choicesOf(file.offer, pupil.birthDate, current, keep)
    view.offerChoices = allowed.length
      ? choiceFields(
          'choice-',
          allowed,
          (rank) => (input ? (input[`choice-${rank}`] ?? '') : String(answers.requests?.[rank - 1] ?? '')),
          t,
        )
      : []
  }
  if (steps.includes('summary')) {
    view.lines = summaryLines(
      config,
      currentCourses(config, file.enrolments, pupil.id),
      answers,
      t,
      labelsOf(file.offer),
    )
    view.missingDocuments = [
      ...requirementsOf(config, facts, file.submissions),
      ...requirementsOf(config, facts, file.submissions, pupil),
    ]
      .filter((r) => r.state === 'missing' || r.state === 'refused')
      .map((r) => r.document.label)
  }
  if (steps.includes('finalize'))
    view.accepted = input ? input.accepted === 'true' : Boolean(answers.accepted)
  return {
    ...pupilFrame(ctx, file.household, pupil, 'reinscription'),
    campaign,
    dates: campaignDates(campaign, config),
    onePage: page === 'onePage',
    step: page,
    steps,
    progress:
      page === 'onePage'
        ? []
        : campaign.steps.map((step, i) => ({
            step,
            number: i + 1,
            label: t(stepLabels[step]),
            href: pathOf(pupil.id, step),
            current: step === page,
          })),
    number: index + 1,
    previous: index > 0 && page !== 'onePage',
    last: index === campaign.steps.length - 1,
    action: pathOf(pupil.id, page),
    ...view,
    errors: submitted?.errors,
    texts: config.texts ?? {},
    reenrolmentTexts: config.reenrolment.texts ?? {},
    config: config.reenrolment,
  }
}

/** The choice page: re-enrol or not, or where the request stands with its answers. */
export function choiceView(ctx: SignedInContext, file: ReenrolmentFile, campaign: Campaign) {
  const { config, t } = ctx
  const row = file.row
  return {
    ...pupilFrame(ctx, file.household, file.pupil, 'reinscription'),
    campaign,
    dates: campaignDates(campaign, config),
    row,
    lines:
      row && !isEditable(row)
        ? summaryLines(
            config,
            currentCourses(config, file.enrolments, file.pupil.id),
            row.answers,
            t,
            labelsOf(file.offer),
          )
        : [],
  }
}

export interface StaffFilters {
  status: ReenrolmentStatus | null
  course: string | null
  establishment: string | null
}

/** This year's course names and sites of a pupil, for the staff queue's filters. */
function currentCoursesOfPupil(pupilId: Expression<number>, yearId: number) {
  return tenantDb
    .selectFrom('enrolment as e')
    .innerJoin('course as c', 'c.id', 'e.course_id')
    .where('e.pupil_id', '=', pupilId)
    .where('e.active', '=', true)
    .where('c.school_year_id', '=', yearId)
}

const queueRead = prepare(
  (
    db: Kysely<TenantDb>,
    p: {
      schoolYear: string
      yearId: number
      status: string | null
      course: string | null
      establishment: string | null
      offset: number
      limit: number
    },
  ) => {
    const matching = db
      .selectFrom('reenrolment as r')
      .where('r.school_year', '=', p.schoolYear)
      .where((eb) =>
        eb.and([
          eb.or([
            eb(eb.cast(eb.val(p.status), 'text'), 'is', null),
            eb(sql<string>`r.status`, '=', eb.cast<string>(eb.val(p.status), 'text')),
          ]),
          eb.or([
            eb(eb.cast(eb.val(p.course), 'text'), 'is', null),
            eb.exists(
              currentCoursesOfPupil(eb.ref('r.pupil_id'), p.yearId)
                .select('c.id')
                .where('c.name', '=', eb.cast<string>(eb.val(p.course), 'text')),
            ),
          ]),
          eb.or([
            eb(eb.cast(eb.val(p.establishment), 'text'), 'is', null),
            eb.exists(
              currentCoursesOfPupil(eb.ref('r.pupil_id'), p.yearId)
                .select('c.id')
                .where('c.establishment', '=', eb.cast<string>(eb.val(p.establishment), 'text')),
            ),
          ]),
        ]),
      )
    return db.selectNoFrom((eb) => [
      eb
        .selectFrom(matching.select('r.id').as('q'))
        .select((inner) => inner.cast<number>(inner.fn.countAll(), 'integer').as('n'))
        .as('total'),
      jsonArrayFrom(
        matching
          .innerJoin('pupil as p', 'p.id', 'r.pupil_id')
          .leftJoin('guardian as g', (join) =>
            join.onRef('g.family_id', '=', 'r.family_id').on('g.rank', '=', 1),
          )
          .select([
            'r.id',
            'r.status',
            'r.answers',
            'r.submitted_at as submittedAt',
            'r.declined_at as declinedAt',
            'r.updated_at as updatedAt',
            'p.first_name as firstName',
            'p.last_name as lastName',
            'p.birth_date as birthDate',
            'g.first_name as guardianFirstName',
            'g.last_name as guardianLastName',
          ])
          .select((inner) =>
            jsonArrayFrom(
              currentCoursesOfPupil(inner.ref('r.pupil_id'), p.yearId)
                .select(['c.id', 'c.name', 'c.discipline', 'c.establishment'])
                .orderBy('c.name'),
            ).as('courses'),
          )
          .orderBy('r.submitted_at')
          .orderBy('r.updated_at')
          .orderBy('r.id')
          .limit(p.limit)
          .offset(p.offset),
      ).as('rows'),
      jsonArrayFrom(
        tenantDb
          .selectFrom('reenrolment as r')
          .innerJoin('enrolment as e', 'e.pupil_id', 'r.pupil_id')
          .innerJoin('course as c', 'c.id', 'e.course_id')
          .select('c.name')
          .distinct()
          .where('r.school_year', '=', p.schoolYear)
          .where('e.active', '=', true)
          .where('c.school_year_id', '=', p.yearId),
      ).as('courseNames'),
    ])
  },
)

export type QueueRow = NonNullable<Awaited<ReturnType<typeof queueRead.first>>>['rows'][number]

/**
 * The staff queue for a school year (submitted requests by default, oldest first), filtered in SQL,
 * one page at a time; `page` undefined reads every row (the export).
 */
export async function reenrolmentQueue(db: Reader, schoolYear: string, filters: StaffFilters, page?: number) {
  const year = await currentSchoolYear(db)
  const found = await queueRead.first(db, {
    schoolYear,
    yearId: year?.id ?? 0,
    ...filters,
    offset: page ? offsetOf(page) : 0,
    limit: page ? pageSize : 1_000_000,
  })
  const rows = (found?.rows ?? []).map((row) => ({
    ...row,
    courses: [...row.courses].sort((a, b) => frenchOrder(a.name, b.name)),
    familyName:
      row.guardianFirstName === null
        ? ''
        : fullName({ firstName: row.guardianFirstName, lastName: row.guardianLastName ?? '' }),
  }))
  return {
    total: found?.total ?? 0,
    rows,
    courseNames: (found?.courseNames ?? []).map((c) => c.name).sort(frenchOrder),
  }
}

const reviewRead = prepare((db: Kysely<TenantDb>, p: { id: number; yearId: number }) =>
  db
    .selectFrom('reenrolment as r')
    .innerJoin('pupil as p', 'p.id', 'r.pupil_id')
    .innerJoin('family as f', 'f.id', 'r.family_id')
    .leftJoin('account as u', 'u.id', 'r.updated_by_id')
    .select([
      'r.id',
      'r.school_year as schoolYear',
      'r.status',
      'r.answers',
      'r.reason',
      'r.submitted_at as submittedAt',
      'r.pupil_id as pupilId',
      'p.first_name as firstName',
      'p.last_name as lastName',
      'p.birth_date as birthDate',
      'f.resident',
      'f.payment_mode as paymentMode',
      'u.display_name as updatedBy',
    ])
    .select((eb) => [
      enrolmentsOfFamily(eb.ref('r.family_id'), p.yearId).as('enrolments'),
      reenrolmentsOf(eb.ref('r.family_id')).as('reenrolments'),
      submissionsOf(eb.ref('r.family_id')).as('submissions'),
    ])
    .where('r.id', '=', p.id),
)

/** A re-enrolment as staff review it: the answers in words, and the state of each document asked. */
export async function reenrolmentForReview(ctx: TenantContext, id: number) {
  const { db, config, t } = ctx
  const year = await currentSchoolYear(db)
  const row = await reviewRead.first(db, { id, yearId: year?.id ?? 0 })
  if (!row) throw new NotFound()
  const pupil = { id: row.pupilId, birthDate: row.birthDate }
  const facts = { family: row, enrolments: row.enrolments, reenrolments: inProgress(row.reenrolments) }
  const documents = [
    ...requirementsOf(config, facts, row.submissions),
    ...requirementsOf(config, facts, row.submissions, pupil),
  ]
  return {
    row,
    name: fullName(row),
    lines: summaryLines(
      config,
      currentCourses(config, row.enrolments, row.pupilId),
      row.answers,
      t,
      await offerLabels(db, row.answers.requests ?? []),
    ),
    documents: documents.map((r) => ({
      label: r.document.label,
      state: r.state,
      stateLabel: t(stateLabels[r.state]),
      id: r.submission?.id,
    })),
  }
}

/** Staff validate or reject a submitted re-enrolment; a rejection needs its reason. Mailed and audited. */
export async function decideReenrolment(
  ctx: SignedInContext,
  id: number,
  input: DecisionInput,
): Promise<FieldErrors | undefined> {
  const { config: tenant, t } = ctx
  const checked = checkDecision(input, { accept: 'validated', refuse: 'refused' }, t)
  if (checked.errors) return checked.errors
  const { decision, reason } = checked.values
  return ctx.em.transactional(async (tx) => {
    const row = await tx.findOne(
      Reenrolment,
      { id },
      { populate: ['pupil', 'family', 'updatedBy'], lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
    )
    if (!row) throw new NotFound()
    if (row.status !== ReenrolmentStatus.submitted)
      return { decision: t('reenrolment.review.alreadyDecided') }
    row.status = decision
    row.reason = reason
    row.decidedBy = tx.getReference(Account, ctx.account.id)
    row.decidedAt = new Date()
    // a refused re-enrolment takes its requests for next year's offer with it
    if (decision === 'refused') await withdrawRequests(tx, { reenrolment: row.id })
    if (decision === 'validated') {
      // the answers become the records: next year's payment mode and the pupil's authorisations
      if (row.answers.paymentMode) row.family.paymentMode = row.answers.paymentMode
      if (row.answers.imageRights !== undefined) row.pupil.imageRights = row.answers.imageRights
      if (row.answers.exitAuthorization !== undefined)
        row.pupil.exitAuthorization = row.answers.exitAuthorization
    }
    audit(tx, ctx.account, {
      action: `reenrolment.${decision}`,
      subject: { type: 'pupil', id: row.pupil.id },
      details: { reenrolment: row.id, reason: row.reason },
    })
    const family = row.updatedBy
    if (family && !family.disabled) {
      const locale = tenant.locale ?? 'fr'
      queueMail(tx, tenant, locale, {
        to: family.email,
        template: 'reenrolment-decided',
        data: {
          displayName: family.displayName,
          pupil: fullName(row.pupil),
          schoolYear: row.schoolYear,
          validated: decision === 'validated',
          reason: row.reason,
          link: `${ctx.baseUrl}/eleves/${row.pupil.id}/reinscription`,
        },
      })
    }
    return undefined
  })
}

/** The CSV of the year's re-enrolments for a French spreadsheet: one line per pupil and course. */
export async function exportCsv(ctx: TenantContext, schoolYear: string): Promise<string> {
  const { db, config: tenant, t } = ctx
  const { rows } = await reenrolmentQueue(db, schoolYear, { status: null, course: null, establishment: null })
  const header = [
    t('reenrolment.csv.family'),
    t('reenrolment.csv.lastName'),
    t('reenrolment.csv.firstName'),
    t('reenrolment.csv.birthDate'),
    t('reenrolment.csv.status'),
    t('reenrolment.csv.submittedAt'),
    t('reenrolment.csv.course'),
    t('reenrolment.csv.discipline'),
    t('reenrolment.csv.kept'),
    t('reenrolment.paymentMode'),
    t('identity.imageRights'),
    t('identity.exitAuthorization'),
    t('reenrolment.newDisciplines'),
    t('reenrolment.notes'),
  ]
  const disciplines = new Map((tenant.disciplines ?? []).map((d) => [d.code, d.name]))
  const yes = (v: boolean | undefined) => (v === undefined ? '' : t(v ? 'sas.yes' : 'sas.no'))
  const lines: string[][] = []
  for (const row of rows) {
    const a = row.answers
    const common = [
      row.familyName,
      row.lastName,
      row.firstName,
      row.birthDate ? formatDate(row.birthDate, tenant.timezone) : '',
      t(`reenrolment.status.${row.status as ReenrolmentStatus}`),
      row.submittedAt
        ? `${formatDate(row.submittedAt, tenant.timezone)} ${formatTime(row.submittedAt, tenant.timezone)}`
        : '',
    ]
    const extra = [
      tenant.paymentModes?.find((m) => m.id === a.paymentMode)?.label ?? '',
      yes(a.imageRights),
      yes(a.exitAuthorization),
      a.newDisciplines ?? '',
      a.notes ?? '',
    ]
    if (row.courses.length === 0) lines.push([...common, '', '', '', ...extra])
    for (const course of row.courses) {
      const kept = row.status === ReenrolmentStatus.declined ? false : a.keep?.[String(course.id)]
      lines.push([
        ...common,
        course.name,
        disciplines.get(course.discipline) ?? course.discipline,
        yes(kept),
        ...extra,
      ])
    }
  }
  return spreadsheetCsv([header, ...lines])
}

/** How many re-enrolments await a decision: a fragment of the staff dashboard. */
export function submittedCount() {
  return tenantDb
    .selectFrom('reenrolment')
    .select((eb) => eb.cast<number>(eb.fn.countAll(), 'integer').as('count'))
    .where('status', '=', ReenrolmentStatus.submitted)
    .$asScalar()
}
