import { LockMode } from '@mikro-orm/core'
import { audit } from '../../platform/audit/audit.ts'
import type { Account } from '../../platform/auth/entities.ts'
import type { Em } from '../../platform/db/orm.ts'
import { NotFound } from '../../platform/http/errors.ts'
import { queueMail } from '../../platform/mail/outbox.ts'
import type { TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import { formatDate } from '../../platform/views/dates.ts'
import { type Locale, type MessageKey, type Translate, translator } from '../../platform/views/i18n.ts'
import { ValidationFailed } from '../../platform/http/errors.ts'
import { type Family, Guardian } from '../family/entities.ts'
import {
  civilities,
  familyOf,
  familySituations,
  fullName,
  guardianFields,
  guardianValues,
  setGuardianValue,
  socioProfessionalCategories,
} from '../family/service.ts'
import { Pupil } from '../pupils/entities.ts'
import {
  pupilFieldNames,
  pupilValues,
  schoolLevels,
  schoolSpecials,
  setPupilValue,
} from '../pupils/service.ts'
import { ChangeRequest, ChangeStatus, FieldDecision, type FieldChange, SubjectType } from './entities.ts'

/** A record a family may propose to change: one of its guardians or pupils. */
export interface SubjectRef {
  type: SubjectType
  id: number
}

export interface MailContext {
  tenant: TenantConfig
  /** Origin of the tenant's portal, for the link in the mails. */
  baseUrl: string
}

type Values = Record<string, string | null>

async function lockSubject(em: Em, ref: SubjectRef, family?: Family): Promise<Guardian | Pupil> {
  const where = family ? { id: ref.id, family } : { id: ref.id }
  // the lock orders a proposal and a decision on the same record; refresh reads the committed value
  const options = { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true } as const
  const subject =
    ref.type === SubjectType.guardian
      ? await em.findOne(Guardian, where, options)
      : await em.findOne(Pupil, where, options)
  if (!subject) throw new NotFound()
  return subject
}

// a guardian's validated record lives in the family feature, a pupil's in the pupils feature
function read(ref: SubjectRef, subject: Guardian | Pupil): Values {
  return ref.type === SubjectType.guardian
    ? guardianValues(subject as Guardian)
    : pupilValues(subject as Pupil)
}

function write(ref: SubjectRef, subject: Guardian | Pupil, name: string, value: string | null) {
  if (ref.type === SubjectType.guardian) setGuardianValue(subject as Guardian, name, value)
  else setPupilValue(subject as Pupil, name, value)
}

const choiceLabels = new Map<string, Map<string, MessageKey>>(
  (
    [
      ['civility', civilities],
      ['familySituation', familySituations],
      ['socioProfessionalCategory', socioProfessionalCategories],
      ['schoolLevel', schoolLevels],
      ['school', schoolSpecials],
    ] as const
  ).map(([name, choices]) => [name, new Map(choices.flatMap((c) => (c.label ? [[c.value, c.label]] : [])))]),
)

/** A value as people read it: dates in French order, yes/no in words, choices by their label. */
export function displayValue(name: string, value: string | null, t: Translate): string {
  if (value === null) return t('sas.empty')
  if (value === 'true' || value === 'false') return t(value === 'true' ? 'sas.yes' : 'sas.no')
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return formatDate(value, 'UTC')
  const choice = choiceLabels.get(name)?.get(value)
  return choice ? t(choice) : value
}

function fieldLabel(name: string, t: Translate): string {
  return t(`identity.${name}` as MessageKey)
}

// jsonb keeps keys in its own order: fields are listed in the order of the forms
const formOrder = [...new Set([...guardianFields.map((f) => f.name), ...pupilFieldNames])]
const rank = (name: string) => formOrder.indexOf(name)

/** What the mails and pages list: each field, in the form's order, with its label and values in words. */
export function describeChanges(changes: Record<string, FieldChange>, t: Translate) {
  const entries = Object.entries(changes).sort(([a], [b]) => rank(a) - rank(b))
  return entries.map(([name, change]) => ({
    name,
    label: fieldLabel(name, t),
    before: displayValue(name, change.before, t),
    after: displayValue(name, change.after, t),
    decision: change.decision,
    reason: change.reason,
  }))
}

async function subjectName(em: Em, ref: SubjectRef, t: Translate): Promise<string> {
  const person =
    ref.type === SubjectType.guardian
      ? await em.findOne(Guardian, { id: ref.id })
      : await em.findOne(Pupil, { id: ref.id })
  const name = person ? fullName(person) : `#${ref.id}`
  return t(ref.type === SubjectType.guardian ? 'sas.subject.guardian' : 'sas.subject.pupil', { name })
}

/** Where the family sees the record: its guardian's tab of the Famille page, or the pupil's Identité tab. */
export function subjectPath(ref: SubjectRef): string {
  return ref.type === SubjectType.guardian ? `/famille/responsables/${ref.id}` : `/eleves/${ref.id}`
}

function sameChanges(a: Record<string, FieldChange>, b: Record<string, FieldChange>): boolean {
  const keys = Object.keys(a)
  return (
    keys.length === Object.keys(b).length &&
    keys.every((k) => b[k] && a[k]!.before === b[k].before && a[k]!.after === b[k].after)
  )
}

export type ProposalOutcome = 'proposed' | 'replaced' | 'unchanged' | 'withdrawn'

/**
 * A family's edit of one of its guardians or pupils. The validated record is never touched: the
 * field-by-field difference becomes the subject's pending change request, replacing any earlier
 * one not yet reviewed, and an acknowledgement is mailed with it. Values equal to the validated
 * ones make no request; going back to them all withdraws the pending one.
 */
export async function proposeChange(
  em: Em,
  context: MailContext & { locale: Locale },
  account: Account,
  ref: SubjectRef,
  proposed: Values,
): Promise<{ outcome: ProposalOutcome; request?: ChangeRequest }> {
  const family = await familyOf(em, account)
  const t = translator(context.locale)
  return em.transactional(async (tx) => {
    const subject = await lockSubject(tx, ref, family)
    const current = read(ref, subject)
    const changes: Record<string, FieldChange> = {}
    for (const [name, after] of Object.entries(proposed)) {
      if (!(name in current)) throw new Error(`unknown ${ref.type} field ${name}`)
      if (current[name] !== after) changes[name] = { before: current[name] ?? null, after }
    }
    const pending = await tx.findOne(ChangeRequest, {
      subjectType: ref.type,
      subjectId: ref.id,
      status: ChangeStatus.pending,
    })
    if (pending && sameChanges(pending.changes, changes)) return { outcome: 'unchanged', request: pending }
    const subjectRef = { type: ref.type, id: ref.id }
    if (Object.keys(changes).length === 0) {
      if (!pending) return { outcome: 'unchanged' }
      audit(tx, account, {
        action: 'change.withdrawn',
        subject: subjectRef,
        details: { request: pending.id, changes: pending.changes },
      })
      tx.remove(pending)
      return { outcome: 'withdrawn' }
    }
    const request =
      pending ??
      tx.create(ChangeRequest, {
        family,
        subjectType: ref.type,
        subjectId: ref.id,
        proposedBy: account,
        changes,
      })
    request.changes = changes
    request.proposedBy = account
    // a replacement is a new proposal: it takes the date of the latest edit
    request.updatedAt = new Date()
    await tx.flush()
    audit(tx, account, {
      action: pending ? 'change.replaced' : 'change.proposed',
      subject: subjectRef,
      details: { request: request.id, changes },
    })
    queueMail(tx, context.tenant, context.locale, {
      to: account.email,
      template: 'change-received',
      data: {
        displayName: account.displayName,
        subject: await subjectName(tx, ref, t),
        changes: describeChanges(changes, t),
        link: `${context.baseUrl}${subjectPath(ref)}`,
      },
    })
    return { outcome: pending ? 'replaced' : 'proposed', request }
  })
}

/** The subject's pending change request, if any, for the pages that show the proposed values. */
export async function pendingChange(em: Em, ref: SubjectRef): Promise<ChangeRequest | undefined> {
  return (
    (await em.findOne(ChangeRequest, {
      subjectType: ref.type,
      subjectId: ref.id,
      status: ChangeStatus.pending,
    })) ?? undefined
  )
}

/** pendingChange of several records, in one query. */
export async function pendingChanges(em: Em, refs: SubjectRef[]): Promise<(ChangeRequest | undefined)[]> {
  const found = await em.find(ChangeRequest, {
    $or: refs.map((ref) => ({ subjectType: ref.type, subjectId: ref.id })),
    status: ChangeStatus.pending,
  })
  return refs.map((ref) => found.find((c) => c.subjectType === ref.type && c.subjectId === ref.id))
}

/** The family's requests awaiting review, newest first, with whom each is about. */
export async function pendingForFamily(em: Em, family: Family, t: Translate) {
  const requests = await em.find(
    ChangeRequest,
    { family, status: ChangeStatus.pending },
    { orderBy: { updatedAt: 'desc' } },
  )
  return Promise.all(
    requests.map(async (r) => ({
      request: r,
      subject: await subjectName(em, { type: r.subjectType, id: r.subjectId }, t),
      path: subjectPath({ type: r.subjectType, id: r.subjectId }),
      fields: describeChanges(r.changes, t).map((c) => c.label),
    })),
  )
}

export async function pendingCount(em: Em): Promise<number> {
  return em.count(ChangeRequest, { status: ChangeStatus.pending })
}

/** The staff queue: pending requests, oldest first, each with its subject and who proposed it. */
export async function pendingQueue(em: Em, t: Translate) {
  const requests = await em.find(
    ChangeRequest,
    { status: ChangeStatus.pending },
    { orderBy: { updatedAt: 'asc', id: 'asc' }, populate: ['proposedBy'] },
  )
  return Promise.all(
    requests.map(async (r) => ({
      request: r,
      subject: await subjectName(em, { type: r.subjectType, id: r.subjectId }, t),
      count: Object.keys(r.changes).length,
    })),
  )
}

/**
 * One request as staff review it. While it is pending, each field is compared with the record as it
 * is now: a field whose validated value moved since the proposal is a conflict, shown before deciding.
 */
export async function reviewOf(em: Em, id: number, t: Translate) {
  const request = await em.findOne(ChangeRequest, { id }, { populate: ['proposedBy', 'decidedBy'] })
  if (!request) throw new NotFound()
  const ref = { type: request.subjectType, id: request.subjectId }
  const person =
    ref.type === SubjectType.guardian
      ? await em.findOne(Guardian, { id: ref.id })
      : await em.findOne(Pupil, { id: ref.id })
  const current = person ? read(ref, person) : {}
  const rows = describeChanges(request.changes, t).map((row) => {
    const now = current[row.name] ?? null
    const change = request.changes[row.name]!
    const conflict =
      request.status === ChangeStatus.pending
        ? now !== change.before && now !== change.after
        : change.decision === FieldDecision.conflict
    return { ...row, current: displayValue(row.name, now, t), conflict }
  })
  return { request, subject: await subjectName(em, ref, t), rows }
}

export type DecisionInput =
  | { all: 'approved' }
  | { all: 'rejected'; reason: string }
  | { fields: Record<string, { decision?: string; reason?: string }> }

/**
 * Staff's answer to a request: each field approved or rejected (a rejection needs a reason), or all
 * at once. Approved values are written to the record in the same transaction as the decision; a
 * field whose validated value changed since the proposal is marked a conflict and left as it is.
 * The decision is audited and the family mailed the outcome, with the reasons.
 */
export async function decide(
  em: Em,
  context: MailContext & { t: Translate },
  staff: Account,
  id: number,
  input: DecisionInput,
): Promise<ChangeRequest> {
  const { t } = context
  const found = await em.findOne(ChangeRequest, { id })
  if (!found) throw new NotFound()
  const decisions: Record<string, { decision: 'approved' | 'rejected'; reason?: string }> = {}
  const errors: Record<string, string> = {}
  for (const name of Object.keys(found.changes)) {
    if ('all' in input) {
      decisions[name] =
        input.all === 'approved'
          ? { decision: 'approved' }
          : { decision: 'rejected', reason: input.reason.trim() }
      continue
    }
    const given = input.fields[name] ?? {}
    const reason = given.reason?.trim() ?? ''
    if (given.decision === 'approved') decisions[name] = { decision: 'approved' }
    else if (given.decision === 'rejected') {
      if (!reason) errors[`reason-${name}`] = t('sas.reasonRequired')
      decisions[name] = { decision: 'rejected', reason }
    } else errors[`decision-${name}`] = t('sas.decisionRequired')
  }
  if ('all' in input && input.all === 'rejected' && !input.reason.trim()) {
    errors.reason = t('sas.reasonRequired')
  }
  if (Object.keys(errors).length > 0) throw new ValidationFailed(errors)

  const locale = context.tenant.locale ?? 'fr'
  const familyT = translator(locale)
  const request = await em.transactional(async (tx) => {
    const request = await tx.findOne(
      ChangeRequest,
      { id },
      { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true, populate: ['proposedBy'] },
    )
    if (!request) throw new NotFound()
    if (request.status !== ChangeStatus.pending)
      throw new ValidationFailed({ decision: t('sas.alreadyDecided') })
    const ref = { type: request.subjectType, id: request.subjectId }
    const subject = await lockSubject(tx, ref)
    const current = read(ref, subject)
    const changes: Record<string, FieldChange> = {}
    for (const [name, change] of Object.entries(request.changes)) {
      const { decision, reason } = decisions[name]!
      if (decision === 'rejected') {
        changes[name] = { ...change, decision: FieldDecision.rejected, reason: reason ?? '' }
      } else if (current[name] === change.before || current[name] === change.after) {
        write(ref, subject, name, change.after)
        changes[name] = { ...change, decision: FieldDecision.approved }
      } else {
        changes[name] = { ...change, decision: FieldDecision.conflict }
      }
    }
    request.changes = changes
    request.status = ChangeStatus.decided
    request.decidedBy = staff
    request.decidedAt = new Date()
    audit(tx, staff, {
      action: 'change.decided',
      subject: ref,
      details: { request: request.id, changes },
    })
    const family = request.proposedBy
    if (family && !family.disabled) {
      const described = describeChanges(changes, familyT)
      queueMail(tx, context.tenant, locale, {
        to: family.email,
        template: 'change-decided',
        data: {
          displayName: family.displayName,
          subject: await subjectName(tx, ref, familyT),
          approved: described.filter((c) => c.decision === FieldDecision.approved),
          rejected: described.filter((c) => c.decision === FieldDecision.rejected),
          conflicts: described.filter((c) => c.decision === FieldDecision.conflict),
          link: `${context.baseUrl}${subjectPath(ref)}`,
        },
      })
    }
    return request
  })
  return request
}
