import { LockMode } from '@mikro-orm/core'
import { type Kysely, sql } from 'kysely'
import { jsonArrayFrom } from 'kysely/helpers/postgres'
import { type TenantDb, tenantDb } from '../../entities.ts'
import { audit } from '../../platform/audit/audit.ts'
import type { SignedInContext } from '../../platform/auth/context.ts'
import { Account } from '../../platform/auth/entities.ts'
import { type JsonOf, prepare, type Reader } from '../../platform/db/reads.ts'
import { type FieldErrors, refusals } from '../../platform/forms.ts'
import { NotFound } from '../../platform/http/errors.ts'
import { offsetOf, pageSize } from '../../platform/http/pagination.ts'
import { queueMail } from '../../platform/mail/outbox.ts'
import { formatDate } from '../../platform/views/dates.ts'
import { type MessageKey, type Translate, translator } from '../../platform/views/i18n.ts'
import { Guardian } from '../family/entities.ts'
import {
  civilities,
  type FamilyRef,
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
import { ChangeRequest, ChangeStatus, type FieldChange, FieldDecision, SubjectType } from './entities.ts'

/** A record a family may propose to change: one of its guardians or pupils. */
export interface SubjectRef {
  type: SubjectType
  id: number
}

type Values = Record<string, string | null>

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

/** "Responsable : Camille Martin", "Élève : Hugo Martin". */
export function subjectName(
  type: SubjectType,
  person: { firstName: string; lastName: string } | undefined,
  id: number,
  t: Translate,
): string {
  const name = person ? fullName(person) : `#${id}`
  return t(type === SubjectType.guardian ? 'sas.subject.guardian' : 'sas.subject.pupil', { name })
}

/** Where the family sees the record: its guardian's tab of the Famille page, or the pupil's Identité tab. */
export function subjectPath(ref: SubjectRef): string {
  return ref.type === SubjectType.guardian ? `/famille/responsables/${ref.id}` : `/eleves/${ref.id}`
}

/** The family's requests awaiting review, newest first: a fragment of the family's pages. */
export function pendingChangesOf(familyId: FamilyRef) {
  return jsonArrayFrom(
    tenantDb
      .selectFrom('change_request as r')
      .select([
        'r.id',
        'r.subject_type as subjectType',
        'r.subject_id as subjectId',
        'r.changes',
        'r.updated_at as updatedAt',
      ])
      .where('r.family_id', '=', familyId)
      .where('r.status', '=', ChangeStatus.pending)
      .orderBy('r.updated_at', 'desc'),
  )
}

export type PendingChange = JsonOf<typeof pendingChangesOf>

/** The pending request of one record among the family's, if any. */
export function pendingOf(changes: PendingChange[], ref: SubjectRef): PendingChange | undefined {
  return changes.find((c) => c.subjectType === ref.type && c.subjectId === ref.id)
}

function sameChanges(a: Record<string, FieldChange>, b: Record<string, FieldChange>): boolean {
  const keys = Object.keys(a)
  return (
    keys.length === Object.keys(b).length &&
    keys.every((k) => b[k] && a[k]!.before === b[k].before && a[k]!.after === b[k].after)
  )
}

function differences(current: Values, proposed: Values): Record<string, FieldChange> {
  const changes: Record<string, FieldChange> = {}
  for (const [name, after] of Object.entries(proposed)) {
    if (!(name in current)) throw new Error(`unknown field ${name}`)
    if (current[name] !== after) changes[name] = { before: current[name] ?? null, after }
  }
  return changes
}

export type ProposalOutcome = 'proposed' | 'replaced' | 'unchanged' | 'withdrawn'

/** A family's edit of one of its records, with what the page it was made on showed of that record. */
export interface Proposal {
  ref: SubjectRef
  values: Values
  /** The validated values and the pending request the family's page was built from. */
  seen: { values: Values; pending: Record<string, FieldChange> | undefined }
}

/**
 * A family's edits of its guardians or pupils. The validated records are never touched: each
 * record's field-by-field difference becomes its pending change request, replacing any earlier one
 * not yet reviewed, and an acknowledgement is mailed with it. Values equal to the validated ones
 * make no request; going back to them all withdraws the pending one. An edit that changes nothing
 * the page showed needs no transaction; the others lock their records, so that a proposal and a
 * staff decision on the same record never interleave. Another family's record is a 404.
 */
export async function proposeChanges(
  ctx: SignedInContext,
  familyId: number,
  proposals: Proposal[],
): Promise<ProposalOutcome[]> {
  const outcomes: (ProposalOutcome | undefined)[] = proposals.map(({ values, seen }) => {
    const changes = differences(seen.values, values)
    if (!seen.pending && Object.keys(changes).length === 0) return 'unchanged'
    if (seen.pending && sameChanges(seen.pending, changes)) return 'unchanged'
    return undefined
  })
  const toWrite = proposals.filter((_, i) => outcomes[i] === undefined)
  if (toWrite.length === 0) return outcomes as ProposalOutcome[]
  const t = translator(ctx.locale)
  const written = await ctx.em.transactional(async (tx) => {
    const results: ProposalOutcome[] = []
    for (const { ref, values } of toWrite) {
      const where = { id: ref.id, family: familyId }
      // the lock orders a proposal and a decision on the same record; refresh reads the committed value
      const options = { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true } as const
      const subject =
        ref.type === SubjectType.guardian
          ? await tx.findOne(Guardian, where, options)
          : await tx.findOne(Pupil, where, options)
      if (!subject) throw new NotFound()
      const changes = differences(read(ref, subject), values)
      const pending = await tx.findOne(ChangeRequest, {
        subjectType: ref.type,
        subjectId: ref.id,
        status: ChangeStatus.pending,
      })
      if (pending && sameChanges(pending.changes, changes)) {
        results.push('unchanged')
        continue
      }
      const subjectRef = { type: ref.type, id: ref.id }
      if (Object.keys(changes).length === 0) {
        if (!pending) {
          results.push('unchanged')
          continue
        }
        audit(tx, ctx.account, {
          action: 'change.withdrawn',
          subject: subjectRef,
          details: { request: pending.id, changes: pending.changes },
        })
        tx.remove(pending)
        results.push('withdrawn')
        continue
      }
      const request =
        pending ??
        tx.create(ChangeRequest, {
          family: familyId,
          subjectType: ref.type,
          subjectId: ref.id,
          proposedBy: tx.getReference(Account, ctx.account.id),
          changes,
        })
      request.changes = changes
      request.proposedBy = tx.getReference(Account, ctx.account.id)
      // a replacement is a new proposal: it takes the date of the latest edit
      request.updatedAt = new Date()
      await tx.flush()
      audit(tx, ctx.account, {
        action: pending ? 'change.replaced' : 'change.proposed',
        subject: subjectRef,
        details: { request: request.id, changes },
      })
      queueMail(tx, ctx.config, ctx.locale, {
        to: ctx.account.email,
        template: 'change-received',
        data: {
          displayName: ctx.account.displayName,
          subject: subjectName(ref.type, subject, ref.id, t),
          changes: describeChanges(changes, t),
          link: `${ctx.baseUrl}${subjectPath(ref)}`,
        },
      })
      results.push(pending ? 'replaced' : 'proposed')
    }
    return results
  })
  return outcomes.map((outcome) => outcome ?? (written.shift() as ProposalOutcome))
}

/** How many requests await review: a fragment of the staff dashboard. */
export function pendingCount() {
  return tenantDb
    .selectFrom('change_request')
    .select((eb) => eb.cast<number>(eb.fn.countAll(), 'integer').as('count'))
    .where('status', '=', ChangeStatus.pending)
    .$asScalar()
}

const queueRead = prepare((db: Kysely<TenantDb>, p: { offset: number }) => {
  const pending = db
    .selectFrom('change_request as r')
    .leftJoin('guardian as g', (join) =>
      join.onRef('g.id', '=', 'r.subject_id').on('r.subject_type', '=', SubjectType.guardian),
    )
    .leftJoin('pupil as p', (join) =>
      join.onRef('p.id', '=', 'r.subject_id').on('r.subject_type', '=', SubjectType.pupil),
    )
    .leftJoin('account as a', 'a.id', 'r.proposed_by_id')
    .where('r.status', '=', ChangeStatus.pending)
  return db.selectNoFrom((eb) => [
    eb
      .selectFrom(pending.select('r.id').as('q'))
      .select((inner) => inner.cast<number>(inner.fn.countAll(), 'integer').as('n'))
      .as('total'),
    jsonArrayFrom(
      pending
        .select([
          'r.id',
          'r.subject_type as subjectType',
          'r.subject_id as subjectId',
          'r.updated_at as updatedAt',
          'a.display_name as proposedBy',
          sql<number>`(select count(*) from jsonb_object_keys(r.changes))::int`.as('fields'),
          'g.first_name as guardianFirstName',
          'g.last_name as guardianLastName',
          'p.first_name as pupilFirstName',
          'p.last_name as pupilLastName',
        ])
        .orderBy('r.updated_at')
        .orderBy('r.id')
        .limit(pageSize)
        .offset(p.offset),
    ).as('rows'),
  ])
})

function personOf(row: {
  guardianFirstName: string | null
  guardianLastName: string | null
  pupilFirstName: string | null
  pupilLastName: string | null
}) {
  if (row.guardianFirstName !== null)
    return { firstName: row.guardianFirstName, lastName: row.guardianLastName ?? '' }
  if (row.pupilFirstName !== null) return { firstName: row.pupilFirstName, lastName: row.pupilLastName ?? '' }
  return undefined
}

/** A page of the staff queue: pending requests, oldest first, each with its record's name and its proposer. */
export async function pendingQueue(db: Reader, page: number, t: Translate) {
  const found = await queueRead.first(db, { offset: offsetOf(page) })
  return {
    total: found?.total ?? 0,
    items: (found?.rows ?? []).map((row) => ({
      id: row.id,
      subject: subjectName(row.subjectType, personOf(row), row.subjectId, t),
      updatedAt: row.updatedAt,
      proposedBy: row.proposedBy,
      count: row.fields,
    })),
  }
}

const reviewRead = prepare((db: Kysely<TenantDb>, p: { id: number }) =>
  db
    .selectFrom('change_request as r')
    .leftJoin('account as a', 'a.id', 'r.proposed_by_id')
    .leftJoin('account as d', 'd.id', 'r.decided_by_id')
    .select([
      'r.id',
      'r.subject_type as subjectType',
      'r.subject_id as subjectId',
      'r.status',
      'r.changes',
      'r.updated_at as updatedAt',
      'r.decided_at as decidedAt',
      'a.display_name as proposedBy',
      'd.display_name as decidedBy',
    ])
    .select((eb) => [
      jsonArrayFrom(
        eb
          .selectFrom('guardian as g')
          .selectAll('g')
          .whereRef('g.id', '=', 'r.subject_id')
          .where('r.subject_type', '=', SubjectType.guardian),
      ).as('guardian'),
      jsonArrayFrom(
        eb
          .selectFrom('pupil as p')
          .selectAll('p')
          .whereRef('p.id', '=', 'r.subject_id')
          .where('r.subject_type', '=', SubjectType.pupil),
      ).as('pupil'),
    ])
    .where('r.id', '=', p.id),
)

/** snake_case columns of a record read with selectAll, under the entity's property names. */
function camelCased(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(row).map(([name, value]) => [
      name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()),
      value,
    ]),
  )
}

/**
 * One request as staff review it. While it is pending, each field is compared with the record as it
 * is now: a field whose validated value moved since the proposal is a conflict, shown before deciding.
 */
export async function reviewOf(db: Reader, id: number, t: Translate) {
  const request = await reviewRead.first(db, { id })
  if (!request) throw new NotFound()
  const [guardian] = request.guardian
  const [pupil] = request.pupil
  const person = guardian ?? pupil
  const current: Values = guardian
    ? guardianValues(camelCased(guardian) as unknown as Guardian)
    : pupil
      ? pupilValues(camelCased(pupil) as unknown as Pupil)
      : {}
  const rows = describeChanges(request.changes, t).map((row) => {
    const now = current[row.name] ?? null
    const change = request.changes[row.name]!
    const conflict =
      request.status === ChangeStatus.pending
        ? now !== change.before && now !== change.after
        : change.decision === FieldDecision.conflict
    return { ...row, current: displayValue(row.name, now, t), conflict }
  })
  const name = person ? { firstName: person.first_name, lastName: person.last_name } : undefined
  return { request, subject: subjectName(request.subjectType, name, request.subjectId, t), rows }
}

export type DecisionInput =
  | { all: 'validated' }
  | { all: 'refused'; reason: string }
  | { fields: Record<string, { decision?: string; reason?: string }> }

/**
 * Staff's answer to a request: each field validated or refused (a refusal needs a reason), or all
 * at once. Validated values are written to the record in the same transaction as the decision; a
 * field whose validated value changed since the proposal is marked a conflict and left as it is.
 * The decision is audited and the family mailed the outcome, with the reasons.
 */
export async function decide(
  ctx: SignedInContext,
  id: number,
  input: DecisionInput,
): Promise<FieldErrors | undefined> {
  const { t, em } = ctx
  const found = await em.findOne(ChangeRequest, { id })
  if (!found) throw new NotFound()
  const decisions: Record<string, { decision: 'validated' | 'refused'; reason?: string }> = {}
  const errors: FieldErrors = {}
  for (const name of Object.keys(found.changes)) {
    if ('all' in input) {
      decisions[name] =
        input.all === 'validated'
          ? { decision: 'validated' }
          : { decision: 'refused', reason: input.reason.trim() }
      continue
    }
    const given = input.fields[name] ?? {}
    const reason = given.reason?.trim() ?? ''
    if (given.decision === 'validated') decisions[name] = { decision: 'validated' }
    else if (given.decision === 'refused') {
      if (!reason) errors[`reason-${name}`] = t('sas.reasonRequired')
      decisions[name] = { decision: 'refused', reason }
    } else errors[`decision-${name}`] = t('sas.decisionRequired')
  }
  if ('all' in input && input.all === 'refused' && !input.reason.trim()) {
    errors.reason = t('sas.reasonRequired')
  }
  if (refusals(errors)) return errors

  const locale = ctx.config.locale ?? 'fr'
  const familyT = translator(locale)
  return em.transactional(async (tx) => {
    const request = await tx.findOne(
      ChangeRequest,
      { id },
      { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true, populate: ['proposedBy'] },
    )
    if (!request) throw new NotFound()
    if (request.status !== ChangeStatus.pending) return { decision: t('sas.alreadyDecided') }
    const ref = { type: request.subjectType, id: request.subjectId }
    const options = { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true } as const
    const subject =
      ref.type === SubjectType.guardian
        ? await tx.findOne(Guardian, { id: ref.id }, options)
        : await tx.findOne(Pupil, { id: ref.id }, options)
    if (!subject) throw new NotFound()
    const current = read(ref, subject)
    const changes: Record<string, FieldChange> = {}
    for (const [name, change] of Object.entries(request.changes)) {
      const { decision, reason } = decisions[name]!
      if (decision === 'refused') {
        changes[name] = { ...change, decision: FieldDecision.refused, reason: reason ?? '' }
      } else if (current[name] === change.before || current[name] === change.after) {
        write(ref, subject, name, change.after)
        changes[name] = { ...change, decision: FieldDecision.validated }
      } else {
        changes[name] = { ...change, decision: FieldDecision.conflict }
      }
    }
    request.changes = changes
    request.status = ChangeStatus.decided
    request.decidedBy = tx.getReference(Account, ctx.account.id)
    request.decidedAt = new Date()
    audit(tx, ctx.account, {
      action: 'change.decided',
      subject: ref,
      details: { request: request.id, changes },
    })
    const family = request.proposedBy
    if (family && !family.disabled) {
      const described = describeChanges(changes, familyT)
      queueMail(tx, ctx.config, locale, {
        to: family.email,
        template: 'change-decided',
        data: {
          displayName: family.displayName,
          subject: subjectName(ref.type, subject, ref.id, familyT),
          validated: described.filter((c) => c.decision === FieldDecision.validated),
          refused: described.filter((c) => c.decision === FieldDecision.refused),
          conflicts: described.filter((c) => c.decision === FieldDecision.conflict),
          link: `${ctx.baseUrl}${subjectPath(ref)}`,
        },
      })
    }
    return undefined
  })
}
