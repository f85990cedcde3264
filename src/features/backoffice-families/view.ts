import type { SignedInContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import { formatDate, formatTime } from '../../platform/views/dates.ts'
import type { MessageKey } from '../../platform/views/i18n.ts'
import { requirementsOf } from '../documents/service.ts'
import { fullName, guardianFields, guardianValues } from '../family/service.ts'
import { campaignOf, inProgress } from '../reenrolment/service.ts'
import type { FieldChange } from '../sas/entities.ts'
import { describeChanges, displayValue } from '../sas/service.ts'
import { stateLabels } from '../shared/document-table.ts'
import { teacherName } from '../teaching/service.ts'
import type { FamilyPageData } from './reads.ts'

/** "Oui", "Q3 — QF de 700 à 1 000 €", "Prélèvement en 9 fois": a family field's value in words. */
export function familyFieldValue(
  ctx: Pick<SignedInContext, 'config' | 't'>,
  name: string,
  value: string | null,
): string {
  const { config, t } = ctx
  if (value === null) return name === 'quotientBracket' ? t('families.bracketNone') : t('sas.empty')
  if (name === 'resident') return t(value === 'true' ? 'sas.yes' : 'sas.no')
  if (name === 'quotientBracket')
    return config.quotientFamilial?.brackets.find((b) => b.code === value)?.label ?? value
  if (name === 'paymentMode') return config.paymentModes?.find((m) => m.id === value)?.label ?? value
  return value
}

const familyFieldLabels: Record<string, MessageKey> = {
  resident: 'families.field.resident',
  quotientBracket: 'families.field.quotientBracket',
  paymentMode: 'families.field.paymentMode',
}

/** The lines "field: before → after" of an audit event's changes, whichever record they are about. */
function changeLines(
  ctx: Pick<SignedInContext, 'config' | 't'>,
  subjectType: string,
  changes: Record<string, FieldChange>,
) {
  const { t } = ctx
  if (subjectType === 'family')
    return Object.entries(changes).map(([name, change]) => ({
      label: familyFieldLabels[name] ? t(familyFieldLabels[name]) : name,
      before: familyFieldValue(ctx, name, change.before),
      after: familyFieldValue(ctx, name, change.after),
      decision: undefined as string | undefined,
    }))
  return describeChanges(changes, t).map((c) => ({
    label: c.label,
    before: c.before,
    after: c.after,
    decision: c.decision && t(`sas.decision.${c.decision}` as MessageKey),
  }))
}

const knownActions = new Set([
  'family.created',
  'family.edited',
  'family.archived',
  'family.reactivated',
  'guardian.edited',
  'pupil.edited',
  'pupil.created',
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
])

const isChanges = (value: unknown): value is Record<string, FieldChange> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** The family's page: its records, its pending work and its history, ready for the template. */
export function familyPageView(ctx: SignedInContext, data: FamilyPageData) {
  const { t, config } = ctx
  const timeZone = config.timezone
  const family = data.family!
  const when = (value: string) => `${formatDate(value, timeZone)} ${formatTime(value, timeZone)}`
  const sites = new Map(config.establishments.map((e) => [e.code, e.name]))
  const guardianNames = new Map(data.guardians.map((g) => [g.id, fullName(g)]))
  const pupilNames = new Map(data.pupils.map((p) => [p.id, fullName(p)]))

  const guardians = data.guardians.map((g) => {
    const values = guardianValues(g)
    const account = data.accounts.find((a) => a.guardianId === g.id)
    return {
      id: g.id,
      rank: g.rank,
      name: fullName(g),
      fields: guardianFields
        .filter((f) => values[f.name] !== null)
        .map((f) => ({
          label: t(`identity.${f.name}` as MessageKey),
          value: displayValue(f.name, values[f.name]!, t),
        })),
      account: account && {
        id: account.id,
        identifiant: account.identifiant,
        state: account.disabled ? 'disabled' : account.activated ? 'active' : 'invited',
        lastSignIn: account.lastSignInAt ? when(account.lastSignInAt) : '',
      },
    }
  })

  const campaign = campaignOf(config)
  const facts = {
    family: { resident: family.resident, paymentMode: family.paymentMode },
    enrolments: data.enrolments,
    reenrolments: inProgress(data.reenrolments),
  }
  const documentRow = (holder: string, r: ReturnType<typeof requirementsOf>[number]) => ({
    label: r.document.label,
    holder,
    state: r.state,
    stateLabel: t(stateLabels[r.state]),
    fileName: r.submission?.fileName ?? '',
    date: r.submission ? when(r.submission.createdAt) : '',
    reason: r.submission?.reason ?? '',
    submissionId: r.submission?.id,
  })
  const documents = [
    ...requirementsOf(config, facts, data.submissions).map((r) => documentRow(t('families.familyLevel'), r)),
    ...data.pupils.flatMap((p) =>
      requirementsOf(config, facts, data.submissions, p).map((r) => documentRow(fullName(p), r)),
    ),
  ]

  const pupils = data.pupils.map((p) => {
    const own = data.reenrolments
      .filter((r) => r.pupilId === p.id && (!campaign || r.schoolYear === campaign.schoolYear))
      .sort((a, b) => b.schoolYear.localeCompare(a.schoolYear) || b.updatedAt.localeCompare(a.updatedAt))[0]
    return {
      id: p.id,
      name: fullName(p),
      birthDate: p.birthDate,
      courses: data.enrolments
        .filter((e) => e.pupilId === p.id)
        .map((e) => ({
          id: e.courseId,
          name: e.name,
          slot: e.slot,
          cycle: e.cycle,
          active: e.active,
          site: sites.get(e.establishment) ?? e.establishment,
          teacher: teacherName(e),
        })),
      reenrolment: own && {
        id: own.id,
        schoolYear: own.schoolYear,
        status: own.status,
        label: t(`reenrolment.status.${own.status}` as MessageKey),
      },
    }
  })

  const subjectOf = (type: string, id: number, details: Record<string, unknown>): string => {
    if (type === 'guardian') return t('sas.subject.guardian', { name: guardianNames.get(id) ?? `#${id}` })
    if (type === 'pupil') return t('sas.subject.pupil', { name: pupilNames.get(id) ?? `#${id}` })
    if (type === 'document') {
      const label = config.documents?.find((d) => d.id === details.document)?.label
      return t('families.history.document', { name: label ?? String(details.document ?? '') })
    }
    if (type === 'preregistration') return t('families.history.preregistration', { number: String(id) })
    return ''
  }

  const history = data.history.map((event) => {
    const details = event.details ?? {}
    return {
      id: event.id,
      at: when(event.at),
      actor: event.actorName,
      action: knownActions.has(event.action)
        ? t(`families.action.${event.action}` as MessageKey)
        : event.action,
      subject: subjectOf(event.subjectType, event.subjectId, details),
      changes: isChanges(details.changes) ? changeLines(ctx, event.subjectType, details.changes) : [],
      reason: typeof details.reason === 'string' ? details.reason : '',
      file: typeof details.file === 'string' ? details.file : '',
    }
  })

  const changes = data.changes.map((c) => ({
    id: c.id,
    subject:
      c.subjectType === 'guardian'
        ? t('sas.subject.guardian', { name: guardianNames.get(c.subjectId) ?? `#${c.subjectId}` })
        : t('sas.subject.pupil', { name: pupilNames.get(c.subjectId) ?? `#${c.subjectId}` }),
    fields: describeChanges(c.changes, t),
    at: when(c.updatedAt),
  }))

  return {
    family: {
      id: family.id,
      archived: Boolean(family.archivedAt),
      archivedAt: family.archivedAt ? when(family.archivedAt) : '',
      erased: Boolean(family.erasedAt),
      createdAt: when(family.createdAt),
      resident: familyFieldValue(ctx, 'resident', String(family.resident)),
      quotientBracket: familyFieldValue(ctx, 'quotientBracket', family.quotientBracket),
      paymentMode: familyFieldValue(ctx, 'paymentMode', family.paymentMode),
      showBracket: Boolean(config.quotientFamilial),
      showPaymentMode: Boolean(config.paymentModes?.length),
    },
    name: guardians[0]?.name ?? t('families.unnamed', { id: String(family.id) }),
    guardians,
    pupils,
    documents,
    changes,
    history,
    canEdit: writesRecords(ctx) && !family.erasedAt,
    schoolYear: campaign?.schoolYear,
  }
}

export type FamilyPageView = ReturnType<typeof familyPageView>

/** Whether the signed-in staff member may write records (the buttons the read-only roles do not see). */
export function writesRecords(ctx: SignedInContext): boolean {
  return (staffAccess.records as readonly string[]).includes(ctx.account.role)
}
