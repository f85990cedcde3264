import type { SignedInContext } from '../../platform/auth/context.ts'
import { type FieldErrors, refusals } from '../../platform/forms.ts'
import { zonedTimeToInstant } from '../../platform/views/dates.ts'
import type { MessageKey } from '../../platform/views/messages/fr.ts'
import { normalizeDate } from '../family/identity.ts'
import { describeChanges } from '../sas/service.ts'
import type { JournalFilters, JournalRow, Who } from './service.ts'

/**
 * The kinds of action the journal filters by: the part of the action before its dot. An action of
 * a group not listed here is still shown, under its raw name.
 */
export const actionGroups = [
  'account',
  'family',
  'guardian',
  'pupil',
  'change',
  'document',
  'reenrolment',
  'preregistration',
  'course',
  'enrolment',
  'schoolYear',
  'config',
  'mail',
] as const

/** Every action the application records, each with its words in the catalogue. */
const knownActions = new Set([
  'account.invited',
  'account.invitationResent',
  'account.passwordLinkSent',
  'account.disabled',
  'account.enabled',
  'account.roleChanged',
  'family.created',
  'family.edited',
  'family.archived',
  'family.reactivated',
  'family.erased',
  'family.exported',
  'guardian.edited',
  'pupil.created',
  'pupil.edited',
  'change.proposed',
  'change.replaced',
  'change.withdrawn',
  'change.decided',
  'document.uploaded',
  'document.replaced',
  'document.deleted',
  'document.validated',
  'document.refused',
  'reenrolment.started',
  'reenrolment.declined',
  'reenrolment.submitted',
  'reenrolment.validated',
  'reenrolment.refused',
  'preregistration.accepted',
  'preregistration.waitlisted',
  'preregistration.refused',
  'course.created',
  'course.updated',
  'course.closed',
  'course.reopened',
  'enrolment.created',
  'enrolment.removed',
  'enrolment.placed',
  'schoolYear.prepared',
  'schoolYear.coursesCopied',
  'schoolYear.reenrolmentsEnrolled',
  'schoolYear.switched',
  'config.published',
  'mail.resent',
])

/** Detail keys with a name in the catalogue, in the order they are shown; others follow by their own name. */
const knownDetails = [
  'reason',
  'name',
  'course',
  'document',
  'file',
  'schoolYear',
  'identifiant',
  'role',
  'email',
  'from',
  'to',
  'decision',
  'enrolled',
  'forced',
  'capacity',
  'accounts',
  'reactivated',
  'template',
  'status',
  'attempts',
  'comment',
  'origin',
  'restoredFrom',
  'family',
]

/** Internal ids and hashes: the subject's link already leads to what they name. */
const hiddenDetails = new Set([
  'family',
  'guardian',
  'teacher',
  'submission',
  'enrolment',
  'reenrolment',
  'sha256',
])

/** What the journal's filter form holds, as typed. */
export interface JournalInput {
  qui: string
  type: string
  du: string
  au: string
}

/**
 * The journal's filters from the querystring: whom (`qui`: empty for the staff, `familles`, `tous`,
 * an account's id, or `nom:<kept name>`), the kind of action, and the days from `du` to `au`
 * included, in the tenant's timezone. Refusals are messages beside the fields.
 */
export function checkJournalFilters(ctx: SignedInContext, input: JournalInput) {
  const { t } = ctx
  const errors: FieldErrors = {}
  let who: Who = { kind: 'staff' }
  if (input.qui === 'familles') who = { kind: 'families' }
  else if (input.qui === 'tous') who = { kind: 'everyone' }
  else if (/^[1-9]\d{0,9}$/.test(input.qui) && Number(input.qui) <= 2147483647)
    who = { kind: 'account', id: Number(input.qui) }
  else if (input.qui.startsWith('nom:') && input.qui.length > 4)
    who = { kind: 'name', name: input.qui.slice(4) }
  else if (input.qui !== '') errors.qui = t('administration.journal.error.who')

  let group: string | null = null
  if ((actionGroups as readonly string[]).includes(input.type)) group = `${input.type}.`
  else if (input.type !== '') errors.type = t('administration.journal.error.type')

  const day = (name: 'du' | 'au') => {
    const raw = input[name].trim()
    if (!raw) return undefined
    const date = normalizeDate(raw)
    if (!date) errors[name] = t('administration.journal.error.date')
    return date
  }
  const du = day('du')
  const au = day('au')
  if (du && au && au < du) errors.au = t('administration.journal.error.order')

  const midnight = (date: string, plusDays = 0) => {
    const [year, month, dayOfMonth] = date.split('-').map(Number) as [number, number, number]
    const next = new Date(Date.UTC(year, month - 1, dayOfMonth + plusDays))
    return zonedTimeToInstant(
      {
        year: next.getUTCFullYear(),
        month: next.getUTCMonth() + 1,
        day: next.getUTCDate(),
        hour: 0,
        minute: 0,
      },
      ctx.config.timezone,
    )
  }
  const values: JournalFilters = {
    who,
    group,
    from: du ? midnight(du) : null,
    // the end day is included: up to the next midnight
    to: au ? midnight(au, 1) : null,
  }
  return { values, errors: refusals(errors) }
}

/** A detail's value as a person reads it. */
function shown(value: unknown, t: SignedInContext['t']): string {
  if (value === null || value === undefined || value === '') return '—'
  if (typeof value === 'boolean') return t(value ? 'administration.yes' : 'administration.no')
  if (Array.isArray(value)) return value.length ? value.map((v) => shown(v, t)).join(', ') : '—'
  if (typeof value === 'object') {
    const named = (value as { name?: unknown }).name
    if (typeof named === 'string') return named
    return JSON.stringify(value)
  }
  return String(value)
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

interface DetailLine {
  label: string
  value: string
}

/**
 * An event's details as lines "label : value": each changed field "before → after" (the sas's
 * words for a guardian's or a pupil's fields), other keys by their catalogue name, raw otherwise.
 */
function detailLines(ctx: SignedInContext, event: JournalRow): DetailLine[] {
  const { t } = ctx
  const details = isRecord(event.details) ? event.details : {}
  const lines: DetailLine[] = []
  const changes = details.changes
  if (isRecord(changes)) {
    const fields = Object.entries(changes).filter(
      (entry): entry is [string, { before: unknown; after: unknown }] => isRecord(entry[1]),
    )
    if (event.subjectType === 'guardian' || event.subjectType === 'pupil') {
      for (const c of describeChanges(Object.fromEntries(fields) as never, t))
        lines.push({ label: c.label, value: `${c.before || '—'} → ${c.after || '—'}` })
    } else {
      for (const [name, c] of fields)
        lines.push({ label: name, value: `${shown(c.before, t)} → ${shown(c.after, t)}` })
    }
  }
  // course.updated: the changed fields side by side
  if (isRecord(details.before) && isRecord(details.after)) {
    const before = details.before
    for (const [name, after] of Object.entries(details.after))
      lines.push({ label: name, value: `${shown(before[name], t)} → ${shown(after, t)}` })
  }
  const rank = (key: string) => {
    const at = knownDetails.indexOf(key)
    return at === -1 ? knownDetails.length : at
  }
  // Postgres keeps a jsonb object's keys in its own order: shown in the catalogue's
  const keys = Object.keys(details).sort((a, b) => rank(a) - rank(b))
  for (const key of keys) {
    const value = details[key]
    if (key === 'changes' && isRecord(value)) continue
    if ((key === 'before' || key === 'after') && isRecord(details.before) && isRecord(details.after)) continue
    if (value === null || value === undefined || (hiddenDetails.has(key) && typeof value !== 'object'))
      continue
    const label = knownDetails.includes(key) ? t(`administration.detail.${key}` as MessageKey) : key
    let text = shown(value, t)
    if (key === 'document' && typeof value === 'string')
      text = ctx.config.documents?.find((d) => d.id === value)?.label ?? value
    if (['role', 'from', 'to'].includes(key) && typeof value === 'string' && event.subjectType === 'account')
      text = t(`accounts.role.${value}` as MessageKey)
    if (key === 'status' && typeof value === 'string' && event.subjectType === 'mail')
      text = t(`administration.mail.state.${value}` as MessageKey)
    lines.push({ label, value: text })
  }
  return lines
}

/** What the event is about, with the staff page that shows it where there is one. */
function subjectOf(ctx: SignedInContext, e: JournalRow): { label: string; href: string | undefined } {
  const { t } = ctx
  const id = e.subjectId
  const family = (familyId: number | null) => (familyId !== null ? `/admin/familles/${familyId}` : undefined)
  switch (e.subjectType) {
    case 'family':
      return {
        label: t('administration.subject.family', { name: e.familyName ?? `n° ${id}` }),
        href: family(id),
      }
    case 'guardian':
      return {
        label: t('administration.subject.guardian', { name: e.guardianName ?? `#${id}` }),
        href: family(e.guardianFamily),
      }
    case 'pupil':
      return {
        label: t('administration.subject.pupil', { name: e.pupilName ?? `#${id}` }),
        href: family(e.pupilFamily),
      }
    case 'document':
      return {
        label: t('administration.subject.document', { id: String(id) }),
        href: e.documentHeld !== null ? `/admin/pieces/${id}` : undefined,
      }
    case 'preregistration':
      return {
        label: t('administration.subject.preregistration', { id: String(id) }),
        href: `/admin/preinscriptions/${id}`,
      }
    case 'course':
      return {
        label: t('administration.subject.course', { name: e.courseName ?? `#${id}` }),
        href: e.courseName !== null ? `/admin/cours/${id}` : undefined,
      }
    case 'account':
      return {
        label: t('administration.subject.account', { name: e.accountName ?? `#${id}` }),
        href: e.accountName !== null ? `/admin/comptes/${id}` : undefined,
      }
    case 'schoolYear':
      return {
        label: t('administration.subject.schoolYear', { label: e.yearLabel ?? `#${id}` }),
        href: '/admin/annee',
      }
    case 'config':
      return {
        label: t('administration.subject.config', { number: String(id) }),
        href: `/admin/configuration/versions/${id}`,
      }
    case 'mail':
      return {
        label: t('administration.subject.mail', { subject: e.mailSubject ?? `#${id}` }),
        href: e.mailSubject !== null ? `/admin/courriels/${id}` : undefined,
      }
    default:
      return { label: `${e.subjectType} #${id}`, href: undefined }
  }
}

/** The journal's rows, ready for the template. */
export function journalRows(ctx: SignedInContext, rows: JournalRow[]) {
  return rows.map((e) => ({
    id: e.id,
    at: e.at,
    actor: e.actorName,
    action: knownActions.has(e.action) ? ctx.t(`administration.action.${e.action}` as MessageKey) : e.action,
    subject: subjectOf(ctx, e),
    details: detailLines(ctx, e),
  }))
}
