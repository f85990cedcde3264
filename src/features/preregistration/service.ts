import { LockMode } from '@mikro-orm/core'
import { audit } from '../../platform/audit/audit.ts'
import { Account } from '../../platform/auth/entities.ts'
import { randomToken, sha256 } from '../../platform/auth/sessions.ts'
import { spreadsheetCsv } from '../../platform/csv.ts'
import type { Em } from '../../platform/db/orm.ts'
import { NotFound, ValidationFailed } from '../../platform/http/errors.ts'
import { queueMail } from '../../platform/mail/outbox.ts'
import { type Period, resolvePeriod } from '../../platform/tenancy/periods.ts'
import type { TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import { fold } from '../../platform/text.ts'
import { formatDate, formatTime } from '../../platform/views/dates.ts'
import type { Locale, Translate } from '../../platform/views/i18n.ts'
import { invite, until } from '../accounts/service.ts'
import { Family, Guardian } from '../family/entities.ts'
import { setGuardianValue } from '../family/identity.ts'
import { fullName } from '../family/service.ts'
import { Pupil } from '../pupils/entities.ts'
import { setPupilValue } from '../pupils/service.ts'
import { type Applicant, type PersonValues, Preregistration, PreregistrationStatus } from './entities.ts'
import { type CheckedDossier, choiceCount, offeredDisciplines } from './form.ts'

interface MailContext {
  tenant: TenantConfig
  locale: Locale
  /** Origin of the tenant's portal, for the dossier's link. */
  baseUrl: string
}

/** The tenant's pré-inscription window; undefined when the tenant has none (no public form at all). */
export function preregistrationPeriod(tenant: TenantConfig, now = new Date()): Period | undefined {
  return resolvePeriod(tenant.periods?.preregistration, tenant.timezone, now)
}

/** Outside the period: the page gives the dates; existing links still show their dossier. */
export class PreregistrationClosed extends Error {
  readonly period: Period
  constructor(period: Period) {
    super('pré-inscription closed')
    this.period = period
  }
}

/** The open period, or PreregistrationClosed; a tenant without one has no such pages (404). */
export function openPeriod(tenant: TenantConfig, now = new Date()): Period {
  const period = preregistrationPeriod(tenant, now)
  if (!period) throw new NotFound()
  if (!period.open) throw new PreregistrationClosed(period)
  return period
}

const dossierPath = (token: string) => `/preinscription/dossier/${token}`

/** A dossier's applicants as the mails and pages list them: name and choices in words. */
export function applicantLines(tenant: TenantConfig, applicants: Applicant[]) {
  const names = new Map(offeredDisciplines(tenant).map((d) => [d.code, d.name]))
  for (const d of tenant.disciplines ?? []) if (!names.has(d.code)) names.set(d.code, d.name)
  return applicants.map((a) => ({
    name: [a.values.firstName, a.values.lastName].filter(Boolean).join(' '),
    choices: a.choices.map((code) => names.get(code) ?? code),
  }))
}

function mailAcknowledgement(
  em: Em,
  context: MailContext,
  row: Preregistration,
  token: string,
  template: 'preregistration-saved' | 'preregistration-confirmed',
) {
  const guardian = row.guardians[0]!
  const period = preregistrationPeriod(context.tenant)
  queueMail(em, context.tenant, context.locale, {
    to: row.email,
    template,
    data: {
      displayName: [guardian.firstName, guardian.lastName].filter(Boolean).join(' '),
      number: row.id,
      created: row.revision === 1,
      link: `${context.baseUrl}${dossierPath(token)}`,
      applicants: applicantLines(context.tenant, row.applicants),
      closes: period ? until(period.closes, context.tenant, context.locale) : '',
    },
  })
}

/**
 * "Enregistrer la demande": a new dossier and its acknowledgement, carrying the private link. The
 * link's token (256 random bits) is only in the mail; the table keeps its SHA-256.
 */
export async function createDossier(em: Em, context: MailContext, dossier: CheckedDossier) {
  openPeriod(context.tenant)
  const token = randomToken()
  return em.transactional(async (tx) => {
    const row = tx.create(Preregistration, {
      tokenHash: sha256(token),
      email: dossier.email,
      guardians: dossier.guardians,
      applicants: dossier.applicants,
    })
    await tx.flush()
    mailAcknowledgement(tx, context, row, token, 'preregistration-saved')
    return row
  })
}

const tokenPattern = /^[A-Za-z0-9_-]{43}$/

/** The dossier a link opens; a malformed, unknown or other tenant's token is a 404 like any unknown page. */
export async function dossierByToken(em: Em, token: string): Promise<Preregistration> {
  const row = tokenPattern.test(token)
    ? await em.findOne(Preregistration, { tokenHash: sha256(token) })
    : null
  if (!row) throw new NotFound()
  return row
}

/** Saves a modification made through the link, while the period is open and the dossier a draft. */
export async function updateDossier(
  em: Em,
  context: MailContext & { t: Translate },
  token: string,
  dossier: CheckedDossier,
) {
  openPeriod(context.tenant)
  return em.transactional(async (tx) => {
    const row = await lockedDossier(tx, token)
    if (row.status !== PreregistrationStatus.draft)
      throw new ValidationFailed({ dossier: context.t('prereg.error.locked') })
    row.guardians = dossier.guardians
    row.applicants = dossier.applicants
    row.email = dossier.email
    row.revision += 1
    mailAcknowledgement(tx, context, row, token, 'preregistration-saved')
    return row
  })
}

async function lockedDossier(tx: Em, token: string) {
  if (!tokenPattern.test(token)) throw new NotFound()
  const row = await tx.findOne(
    Preregistration,
    { tokenHash: sha256(token) },
    { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
  )
  if (!row) throw new NotFound()
  return row
}

/** "Confirmer": locks the dossier for good; confirming twice changes nothing and mails once. */
export async function confirmDossier(em: Em, context: MailContext, token: string) {
  openPeriod(context.tenant)
  return em.transactional(async (tx) => {
    const row = await lockedDossier(tx, token)
    if (row.status !== PreregistrationStatus.draft) return row
    row.status = PreregistrationStatus.confirmed
    row.confirmedAt = new Date()
    mailAcknowledgement(tx, context, row, token, 'preregistration-confirmed')
    return row
  })
}

/** What staff can still decide: a confirmed or waitlisted dossier, or a draft once the period is over. */
export function isDecidable(row: Preregistration, tenant: TenantConfig, now = new Date()): boolean {
  if (row.status === PreregistrationStatus.confirmed || row.status === PreregistrationStatus.waitlisted)
    return true
  return row.status === PreregistrationStatus.draft && !preregistrationPeriod(tenant, now)?.open
}

export const decisions = ['accepted', 'waitlisted', 'refused'] as const
export type Decision = (typeof decisions)[number]

/** A login for the new family: "prenom.nom", plain ASCII, numbered when already taken. */
async function freeIdentifiant(em: Em, guardian: PersonValues): Promise<string> {
  const part = (value: string | null | undefined) =>
    fold(value ?? '')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
  const base =
    [part(guardian.firstName), part(guardian.lastName)].filter(Boolean).join('.').slice(0, 90) || 'famille'
  const stem = base.length >= 3 ? base : `famille.${base}`
  const taken = new Set(
    (await em.find(Account, { identifiant: { $like: `${stem}%` } }, { fields: ['identifiant'] })).map(
      (a) => a.identifiant,
    ),
  )
  if (!taken.has(stem)) return stem
  let n = 2
  while (taken.has(`${stem}${n}`)) n++
  return `${stem}${n}`
}

/** Accepting: the family, its guardians and pupils as typed, and responsable 1's invited account. */
async function createFamily(tx: Em, context: MailContext, row: Preregistration): Promise<Family> {
  const family = tx.create(Family, { quotientBracket: null, paymentMode: null })
  const guardians = row.guardians.map((values, i) => {
    const guardian = tx.create(Guardian, {
      family,
      rank: i + 1,
      lastName: values.lastName ?? '',
      firstName: values.firstName ?? '',
    })
    for (const [name, value] of Object.entries(values)) setGuardianValue(guardian, name, value)
    return guardian
  })
  for (const applicant of row.applicants) {
    const pupil = tx.create(Pupil, {
      family,
      lastName: applicant.values.lastName ?? '',
      firstName: applicant.values.firstName ?? '',
    })
    for (const [name, value] of Object.entries(applicant.values)) setPupilValue(pupil, name, value)
  }
  const first = guardians[0]!
  first.account = await invite(tx, context, {
    identifiant: await freeIdentifiant(tx, row.guardians[0]!),
    email: row.email,
    displayName: fullName(first),
    role: 'family',
  })
  return family
}

/**
 * Staff's answer: Accepter creates the family and invites responsable 1; Liste d'attente and
 * Refuser (with its reason) are mailed. Each decision is audited.
 */
export async function decideDossier(
  em: Em,
  context: MailContext & { t: Translate },
  staff: Account,
  id: number,
  input: { decision?: string; reason?: string },
) {
  const { t } = context
  const decision = decisions.find((d) => d === input.decision)
  const reason = input.reason?.trim() || null
  if (!decision) throw new ValidationFailed({ decision: t('prereg.review.decisionRequired') })
  if (decision === 'refused' && !reason)
    throw new ValidationFailed({ reason: t('documents.review.reasonRequired') })
  return em.transactional(async (tx) => {
    const row = await tx.findOne(
      Preregistration,
      { id },
      { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
    )
    if (!row) throw new NotFound()
    if (!isDecidable(row, context.tenant) || row.status === decision)
      throw new ValidationFailed({ decision: t('prereg.review.notDecidable') })
    row.status = decision
    row.reason = decision === 'accepted' ? null : reason
    row.decidedBy = staff
    row.decidedAt = new Date()
    if (decision === 'accepted') row.family = await createFamily(tx, context, row)
    audit(tx, staff, {
      action: `preregistration.${decision}`,
      subject: { type: 'preregistration', id: row.id },
      details: { reason: row.reason, family: row.family?.id ?? null },
    })
    const guardian = row.guardians[0]!
    queueMail(tx, context.tenant, context.locale, {
      to: row.email,
      template: 'preregistration-decided',
      data: {
        displayName: [guardian.firstName, guardian.lastName].filter(Boolean).join(' '),
        number: row.id,
        decision,
        reason: row.reason,
        applicants: applicantLines(context.tenant, row.applicants),
      },
    })
    return row
  })
}

/** Why a dossier may duplicate another dossier or a family already known, in staff's words. */
export async function duplicatesOf(
  em: Em,
  rows: Preregistration[],
  t: Translate,
  /** Every dossier, when the caller has read them already. */
  everyDossier?: Preregistration[],
): Promise<Map<number, string[]>> {
  const personKey = (v: PersonValues) =>
    v.birthDate && v.lastName && v.firstName
      ? `${fold(v.lastName)}|${fold(v.firstName)}|${v.birthDate}`
      : undefined
  const byEmail = new Map<string, number[]>()
  const byPupil = new Map<string, number[]>()
  const push = (map: Map<string, number[]>, key: string, id: number) => {
    const ids = map.get(key) ?? []
    if (!ids.includes(id)) ids.push(id)
    map.set(key, ids)
  }
  const all = everyDossier ?? (await em.find(Preregistration, {}, { fields: ['email', 'applicants'] }))
  for (const other of all) {
    push(byEmail, other.email, other.id)
    for (const a of other.applicants) {
      const key = personKey(a.values)
      if (key) push(byPupil, key, other.id)
    }
  }
  const emails = [...new Set(rows.map((r) => r.email))]
  const birthDates = [
    ...new Set(
      rows
        .flatMap((r) => r.applicants.map((a) => a.values.birthDate))
        .filter((d) => d !== null && d !== undefined),
    ),
  ] as string[]
  // a LIKE without wildcards is a case-insensitive equality; "_" in an address is a literal
  const literal = (value: string) => value.replace(/[\\%_]/g, (c) => `\\${c}`)
  const [knownGuardians, knownPupils] = await Promise.all([
    emails.length
      ? em.find(
          Guardian,
          { $or: emails.map((email) => ({ email: { $ilike: literal(email) } })) },
          { fields: ['email', 'family'] },
        )
      : Promise.resolve([]),
    birthDates.length
      ? em.find(
          Pupil,
          { birthDate: { $in: birthDates } },
          { fields: ['lastName', 'firstName', 'birthDate', 'family'] },
        )
      : Promise.resolve([]),
  ])
  // the families holding each e-mail and each pupil: an accepted dossier's own family is no duplicate
  const familiesBy = (map: Map<string, Set<number>>, key: string | undefined, family: number) => {
    if (!key) return
    const ids = map.get(key) ?? new Set<number>()
    ids.add(family)
    map.set(key, ids)
  }
  const knownEmails = new Map<string, Set<number>>()
  for (const g of knownGuardians) familiesBy(knownEmails, (g.email ?? '').toLowerCase(), g.family.id)
  const knownPupilKeys = new Map<string, Set<number>>()
  for (const p of knownPupils)
    familiesBy(
      knownPupilKeys,
      personKey({
        lastName: p.lastName,
        firstName: p.firstName,
        birthDate: p.birthDate ? String(p.birthDate).slice(0, 10) : null,
      }),
      p.family.id,
    )
  const elsewhere = (families: Set<number> | undefined, own: number | undefined) =>
    [...(families ?? [])].some((id) => id !== own)
  const result = new Map<number, string[]>()
  for (const row of rows) {
    const reasons: string[] = []
    const others = (ids: number[] | undefined) => (ids ?? []).filter((id) => id !== row.id)
    const sameEmail = others(byEmail.get(row.email))
    if (sameEmail.length)
      reasons.push(t('prereg.duplicate.email', { numbers: sameEmail.map((n) => `n° ${n}`).join(', ') }))
    for (const a of row.applicants) {
      const key = personKey(a.values)
      if (!key) continue
      const name = [a.values.firstName, a.values.lastName].join(' ')
      const samePupil = others(byPupil.get(key))
      if (samePupil.length)
        reasons.push(
          t('prereg.duplicate.pupil', { name, numbers: samePupil.map((n) => `n° ${n}`).join(', ') }),
        )
      if (elsewhere(knownPupilKeys.get(key), row.family?.id))
        reasons.push(t('prereg.duplicate.knownPupil', { name }))
    }
    if (elsewhere(knownEmails.get(row.email), row.family?.id))
      reasons.push(t('prereg.duplicate.knownFamily', { email: row.email }))
    if (reasons.length) result.set(row.id, reasons)
  }
  return result
}

/** Every dossier, oldest first: a tenant receives hundreds a year, so the queue filters them in memory. */
export async function dossierQueue(em: Em) {
  return em.find(Preregistration, {}, { orderBy: { id: 'asc' } })
}

/** The CSV of every dossier for a French spreadsheet: one line per applicant. */
export async function exportCsv(em: Em, tenant: TenantConfig, t: Translate): Promise<string> {
  const rows = await dossierQueue(em)
  const duplicates = await duplicatesOf(em, rows, t, rows)
  const n = choiceCount(tenant)
  const names = new Map((tenant.disciplines ?? []).map((d) => [d.code, d.name]))
  const at = (date: Date | null | undefined) =>
    date ? `${formatDate(date, tenant.timezone)} ${formatTime(date, tenant.timezone)}` : ''
  const day = (value: string | null | undefined) => (value ? formatDate(value, 'UTC') : '')
  const header = [
    t('prereg.csv.number'),
    t('prereg.csv.status'),
    t('prereg.csv.savedAt'),
    t('prereg.csv.confirmedAt'),
    t('prereg.csv.guardian1'),
    t('identity.email'),
    t('identity.phoneMobile'),
    t('identity.phoneHome'),
    t('identity.address'),
    t('identity.postalCode'),
    t('identity.city'),
    t('prereg.csv.guardian2'),
    t('prereg.csv.guardian2Email'),
    t('prereg.csv.applicantLastName'),
    t('prereg.csv.applicantFirstName'),
    t('identity.birthDate'),
    ...Array.from({ length: n }, (_, i) => t('prereg.choice', { n: i + 1 })),
    tenant.preregistration?.freeTextQuestion ?? t('prereg.csv.freeText'),
    t('prereg.csv.duplicates'),
  ]
  const lines = rows.flatMap((row) => {
    const [g1, g2] = row.guardians
    const common = [
      String(row.id),
      t(`prereg.status.${row.status as PreregistrationStatus}`),
      at(row.updatedAt),
      at(row.confirmedAt),
      [g1?.lastName, g1?.firstName].filter(Boolean).join(' '),
      g1?.email ?? '',
      g1?.phoneMobile ?? '',
      g1?.phoneHome ?? '',
      g1?.address ?? '',
      g1?.postalCode ?? '',
      g1?.city ?? '',
      g2 ? [g2.lastName, g2.firstName].filter(Boolean).join(' ') : '',
      g2?.email ?? '',
    ]
    return row.applicants.map((a) => [
      ...common,
      a.values.lastName ?? '',
      a.values.firstName ?? '',
      day(a.values.birthDate),
      ...Array.from({ length: n }, (_, i) => {
        const code = a.choices[i]
        return code ? (names.get(code) ?? code) : ''
      }),
      a.freeText ?? '',
      (duplicates.get(row.id) ?? []).join(' ; '),
    ])
  })
  return spreadsheetCsv([header, ...lines])
}
