import { LockMode } from '@mikro-orm/core'
import { audit } from '../../platform/audit/audit.ts'
import type { Account } from '../../platform/auth/entities.ts'
import type { Em } from '../../platform/db/orm.ts'
import { spreadsheetCsv } from '../../platform/csv.ts'
import { selectEntities } from '../../platform/db/rows.ts'
import { NotFound, ValidationFailed } from '../../platform/http/errors.ts'
import { queueMail } from '../../platform/mail/outbox.ts'
import { resolvePeriod } from '../../platform/tenancy/periods.ts'
import type { TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import type { Step } from '../../platform/tenancy/tenant-config-types.ts'
import { formatDate, formatTime } from '../../platform/views/dates.ts'
import { type Locale, type Translate, translator } from '../../platform/views/i18n.ts'
import type { Family } from '../family/entities.ts'
import { Guardian } from '../family/entities.ts'
import { fullName, tenantToday } from '../family/service.ts'
import type { Pupil } from '../pupils/entities.ts'
import { isMinor } from '../pupils/service.ts'
import { checkDecision } from '../staff/decision.ts'
import { type Course, Enrolment } from '../teaching/entities.ts'
import { currentEnrolments, currentSchoolYear } from '../teaching/service.ts'
import { Reenrolment, type ReenrolmentAnswers, ReenrolmentStatus } from './entities.ts'

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

export async function reenrolmentsOf(em: Em, family: Family, schoolYear: string) {
  const rows = await em.find(Reenrolment, { family, schoolYear })
  return new Map(rows.map((r) => [r.pupil.id, r]))
}

export async function reenrolmentOf(em: Em, pupil: Pupil, schoolYear: string) {
  // every page of the re-enrolment reads it: plain SQL, see db/rows.ts
  const [row] = await selectEntities(
    em,
    Reenrolment,
    'r',
    'where r.pupil_id = $1 and r.school_year = $2 limit 1',
    [pupil.id, schoolYear],
  )
  return row
}

/** "Je souhaite réinscrire": opens (or reopens, after a change of mind) the pupil's draft. */
export async function startReenrolment(em: Em, account: Account, pupil: Pupil, campaign: Campaign) {
  return em.transactional(async (tx) => {
    let row = await tx.findOne(
      Reenrolment,
      { pupil, schoolYear: campaign.schoolYear },
      { lockMode: LockMode.PESSIMISTIC_WRITE },
    )
    if (row && !isEditable(row)) return row
    if (!row) {
      row = tx.create(Reenrolment, {
        family: pupil.family,
        pupil,
        schoolYear: campaign.schoolYear,
        updatedBy: account,
      })
    }
    row.status = ReenrolmentStatus.draft
    row.declinedAt = null
    row.step = row.step ?? campaign.steps[0]!
    await tx.flush()
    audit(tx, account, {
      action: 'reenrolment.started',
      subject: { type: 'pupil', id: pupil.id },
      details: { schoolYear: campaign.schoolYear },
    })
    return row
  })
}

/** "Je ne souhaite pas réinscrire", once confirmed: recorded, and reversible while the period lasts. */
export async function declineReenrolment(em: Em, account: Account, pupil: Pupil, campaign: Campaign) {
  return em.transactional(async (tx) => {
    let row = await tx.findOne(
      Reenrolment,
      { pupil, schoolYear: campaign.schoolYear },
      { lockMode: LockMode.PESSIMISTIC_WRITE },
    )
    if (row && !isEditable(row)) return row
    row ??= tx.create(Reenrolment, { family: pupil.family, pupil, schoolYear: campaign.schoolYear })
    row.status = ReenrolmentStatus.declined
    row.declinedAt = new Date()
    row.updatedBy = account
    await tx.flush()
    audit(tx, account, {
      action: 'reenrolment.declined',
      subject: { type: 'pupil', id: pupil.id },
      details: { schoolYear: campaign.schoolYear },
    })
    return row
  })
}

/** A draft or a refusal can still change; a submitted request waits for staff. */
export function isEditable(row: Reenrolment): boolean {
  return row.status === ReenrolmentStatus.draft || row.status === ReenrolmentStatus.declined
}

/** A course of this year in the courses step, with whether it may be dropped. */
export interface CurrentCourse {
  course: Course
  mandatory: boolean
}

export async function currentCourses(em: Em, tenant: TenantConfig, pupil: Pupil): Promise<CurrentCourse[]> {
  const enrolments = await currentEnrolments(em, pupil)
  const mandatory = new Set(tenant.reenrolment.mandatoryDisciplines ?? [])
  return enrolments
    .map((e) => ({ course: e.course, mandatory: mandatory.has(e.course.discipline) }))
    .sort((a, b) => a.course.name.localeCompare(b.course.name, 'fr'))
}

/** The answers of one step, checked; a message per field when something is missing or wrong. */
export function checkStep(
  step: Step,
  input: Record<string, string | undefined>,
  context: { tenant: TenantConfig; pupil: Pupil; courses: CurrentCourse[]; t: Translate },
): { answers: Partial<ReenrolmentAnswers>; errors: Record<string, string> } {
  const { tenant, pupil, courses, t } = context
  const errors: Record<string, string> = {}
  const answers: Partial<ReenrolmentAnswers> = {}
  const yesNo = (name: 'imageRights' | 'exitAuthorization') => {
    const value = input[name]
    if (value === 'true' || value === 'false') answers[name] = value === 'true'
    else
      errors[name] = t(
        name === 'exitAuthorization' && minorNow(tenant, pupil)
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
        courses.map(({ course, mandatory }) => [
          String(course.id),
          mandatory || input[`keep-${course.id}`] === 'true',
        ]),
      )
      answers.newDisciplines = (input.newDisciplines ?? '').trim().slice(0, 1000)
      answers.notes = (input.notes ?? '').trim().slice(0, 4000)
      answers.questions = Object.fromEntries(
        (tenant.reenrolment.questions ?? []).map((q) => [q.id, input[`question-${q.id}`] === 'true']),
      )
      break
    }
    case 'finalize':
      if (input.accepted === 'true') answers.accepted = true
      else errors.accepted = t('reenrolment.error.accept')
      break
    default:
      break
  }
  return { answers, errors }
}

function minorNow(tenant: TenantConfig, pupil: Pupil): boolean {
  return Boolean(pupil.birthDate && isMinor(pupil.birthDate, tenantToday(tenant)))
}

/** Saves a step's answers into the draft and remembers where the family is. */
export async function saveDraft(
  em: Em,
  account: Account,
  row: Reenrolment,
  answers: Partial<ReenrolmentAnswers>,
  step: Step,
) {
  if (!isEditable(row)) throw new ValidationFailed({ step: 'submitted' })
  const changes = {
    answers: { ...row.answers, ...answers },
    step,
    status: ReenrolmentStatus.draft,
    updatedBy: account,
    updatedAt: new Date(),
  }
  // one UPDATE on its own, as a flush would write it but without the begin and commit around it
  // (a copy: nativeUpdate replaces the account by its id in the data it is given)
  await em.nativeUpdate(Reenrolment, { id: row.id }, { ...changes })
  Object.assign(row, changes)
  // what was written becomes the row's persisted state, so that no later flush writes it again
  em.getUnitOfWork().merge(row)
}

/** What a submission still lacks, by step, in the order of the steps. */
export function missingAnswers(
  campaign: Campaign,
  tenant: TenantConfig,
  answers: ReenrolmentAnswers,
  t: Translate,
) {
  const missing: Record<string, string> = {}
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
  return missing
}

export interface SubmitContext {
  tenant: TenantConfig
  campaign: Campaign
  locale: Locale
  baseUrl: string
  t: Translate
}

/**
 * Valider: the draft becomes a request "en attente de validation" and a summary is mailed. The row
 * is locked, so a double submit (two tabs, a double click) finds it submitted and sends nothing twice.
 */
export async function submitReenrolment(
  em: Em,
  context: SubmitContext,
  account: Account,
  pupil: Pupil,
  answers: Partial<ReenrolmentAnswers>,
): Promise<{ row: Reenrolment; already: boolean }> {
  const { tenant, campaign, t } = context
  return em.transactional(async (tx) => {
    const row = await tx.findOne(
      Reenrolment,
      { pupil, schoolYear: campaign.schoolYear },
      { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
    )
    if (!row) throw new NotFound()
    if (!isEditable(row)) return { row, already: true }
    const merged = { ...row.answers, ...answers }
    const missing = missingAnswers(campaign, tenant, merged, t)
    if (Object.keys(missing).length > 0) {
      row.answers = merged
      await tx.flush()
      throw new ValidationFailed(missing)
    }
    row.answers = merged
    row.status = ReenrolmentStatus.submitted
    row.submittedAt = new Date()
    row.updatedBy = account
    row.step = 'finalize'
    await tx.flush()
    audit(tx, account, {
      action: 'reenrolment.submitted',
      subject: { type: 'pupil', id: pupil.id },
      details: { reenrolment: row.id, answers: merged },
    })
    const familyT = translator(context.locale)
    queueMail(tx, tenant, context.locale, {
      to: account.email,
      template: 'reenrolment-submitted',
      data: {
        displayName: account.displayName,
        pupil: fullName(pupil),
        schoolYear: campaign.schoolYear,
        lines: await summaryLines(tx, tenant, pupil, merged, familyT),
        link: `${context.baseUrl}/eleves/${pupil.id}/reinscription`,
      },
    })
    return { row, already: false }
  })
}

/** The answers in words, as the Récapitulatif, the mails and staff show them. */
export async function summaryLines(
  em: Em,
  tenant: TenantConfig,
  pupil: Pupil,
  answers: ReenrolmentAnswers,
  t: Translate,
) {
  const lines: { label: string; value: string }[] = []
  const yes = (value: boolean | undefined) => (value === undefined ? '—' : t(value ? 'sas.yes' : 'sas.no'))
  const mode = tenant.paymentModes?.find((m) => m.id === answers.paymentMode)
  if (mode) lines.push({ label: t('reenrolment.paymentMode'), value: mode.label })
  if (answers.imageRights !== undefined)
    lines.push({ label: t('identity.imageRights'), value: yes(answers.imageRights) })
  if (answers.exitAuthorization !== undefined)
    lines.push({ label: t('identity.exitAuthorization'), value: yes(answers.exitAuthorization) })
  const courses = await currentCourses(em, tenant, pupil)
  for (const { course } of courses) {
    const kept = answers.keep?.[String(course.id)]
    if (kept !== undefined)
      lines.push({ label: course.name, value: t(kept ? 'reenrolment.kept' : 'reenrolment.dropped') })
  }
  if (answers.newDisciplines)
    lines.push({
      label: tenant.reenrolment.newDisciplinesQuestion ?? t('reenrolment.newDisciplines'),
      value: answers.newDisciplines,
    })
  for (const q of tenant.reenrolment.questions ?? []) {
    if (answers.questions?.[q.id] !== undefined)
      lines.push({ label: q.label, value: yes(answers.questions[q.id]) })
  }
  if (answers.notes) lines.push({ label: t('reenrolment.notes'), value: answers.notes })
  return lines
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

export interface StaffFilters {
  status?: ReenrolmentStatus
  course?: string
  establishment?: string
}

/** The staff queue for a school year: submitted requests by default, oldest first. */
export async function reenrolmentQueue(em: Em, schoolYear: string, filters: StaffFilters) {
  const rows = await em.find(
    Reenrolment,
    { schoolYear, ...(filters.status ? { status: filters.status } : {}) },
    { populate: ['pupil'], orderBy: { submittedAt: 'asc', updatedAt: 'asc', id: 'asc' } },
  )
  const year = await currentSchoolYear(em)
  const enrolments =
    year && rows.length
      ? await em.find(
          Enrolment,
          { pupil: { $in: rows.map((r) => r.pupil) }, active: true, course: { schoolYear: year } },
          { populate: ['course'] },
        )
      : []
  const coursesOf = new Map<number, Course[]>()
  for (const e of enrolments) coursesOf.set(e.pupil.id, [...(coursesOf.get(e.pupil.id) ?? []), e.course])
  for (const list of coursesOf.values()) list.sort((a, b) => a.name.localeCompare(b.name, 'fr'))
  const guardians = rows.length
    ? await em.find(Guardian, { family: { $in: rows.map((r) => r.family) }, rank: 1 })
    : []
  const familyNames = new Map(guardians.map((g) => [g.family.id, fullName(g)]))
  return rows
    .map((row) => ({
      row,
      courses: coursesOf.get(row.pupil.id) ?? [],
      familyName: familyNames.get(row.family.id) ?? '',
    }))
    .filter(
      ({ courses }) =>
        (!filters.course || courses.some((c) => c.name === filters.course)) &&
        (!filters.establishment || courses.some((c) => c.establishment === filters.establishment)),
    )
}

/** Staff validate or reject a submitted re-enrolment; a rejection needs its reason. Mailed and audited. */
export async function decideReenrolment(
  em: Em,
  context: { tenant: TenantConfig; baseUrl: string; t: Translate },
  staff: Account,
  id: number,
  input: { decision?: string; reason?: string },
) {
  const { tenant, t } = context
  const { decision, reason } = checkDecision(input, { accept: 'validated', refuse: 'rejected' }, t)
  return em.transactional(async (tx) => {
    const row = await tx.findOne(
      Reenrolment,
      { id },
      { populate: ['pupil', 'family', 'updatedBy'], lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
    )
    if (!row) throw new NotFound()
    if (row.status !== ReenrolmentStatus.submitted)
      throw new ValidationFailed({ decision: t('reenrolment.review.alreadyDecided') })
    row.status = decision
    row.reason = reason
    row.decidedBy = staff
    row.decidedAt = new Date()
    if (decision === 'validated') {
      // the answers become the records: next year's payment mode and the pupil's authorisations
      if (row.answers.paymentMode) row.family.paymentMode = row.answers.paymentMode
      if (row.answers.imageRights !== undefined) row.pupil.imageRights = row.answers.imageRights
      if (row.answers.exitAuthorization !== undefined)
        row.pupil.exitAuthorization = row.answers.exitAuthorization
    }
    audit(tx, staff, {
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
          link: `${context.baseUrl}/eleves/${row.pupil.id}/reinscription`,
        },
      })
    }
    return row
  })
}

/** The CSV of the year's re-enrolments for a French spreadsheet: one line per pupil and course. */
export async function exportCsv(
  em: Em,
  tenant: TenantConfig,
  schoolYear: string,
  t: Translate,
): Promise<string> {
  const items = await reenrolmentQueue(em, schoolYear, {})
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
  for (const { row, courses, familyName } of items) {
    const a = row.answers
    const common = [
      familyName,
      row.pupil.lastName,
      row.pupil.firstName,
      row.pupil.birthDate ? formatDate(row.pupil.birthDate, tenant.timezone) : '',
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
    if (courses.length === 0) lines.push([...common, '', '', '', ...extra])
    for (const course of courses) {
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
