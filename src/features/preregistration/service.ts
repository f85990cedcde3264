import { LockMode } from '@mikro-orm/core'
import { type Kysely, sql } from 'kysely'
import { jsonArrayFrom } from 'kysely/helpers/postgres'
import { type TenantDb, tenantDb } from '../../entities.ts'
import { audit } from '../../platform/audit/audit.ts'
import type { SignedInContext } from '../../platform/auth/context.ts'
import { Account } from '../../platform/auth/entities.ts'
import { randomToken, sha256 } from '../../platform/auth/sessions.ts'
import { spreadsheetCsv } from '../../platform/csv.ts'
import type { Em } from '../../platform/db/orm.ts'
import { prepare, type Reader } from '../../platform/db/reads.ts'
import type { FieldErrors } from '../../platform/forms.ts'
import { NotFound } from '../../platform/http/errors.ts'
import { offsetOf, pageSize } from '../../platform/http/pagination.ts'
import { queueMail } from '../../platform/mail/outbox.ts'
import { type Period, resolvePeriod } from '../../platform/tenancy/periods.ts'
import type { TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import { fold } from '../../platform/text.ts'
import { formatDate, formatTime } from '../../platform/views/dates.ts'
import type { Translate } from '../../platform/views/i18n.ts'
import { freeIdentifiant, invite, type MailContext, until } from '../accounts/service.ts'
import { Family, Guardian } from '../family/entities.ts'
import { setGuardianValue } from '../family/identity.ts'
import { fullName } from '../family/service.ts'
import { Pupil } from '../pupils/entities.ts'
import { setPupilValue } from '../pupils/service.ts'
import { PlaceRequest, RequestState } from '../places/entities.ts'
import { preregistrationChoices, preregistrationOffer, withdrawRequests } from '../places/family-service.ts'
import { enrolInItem } from '../places/service.ts'
import { type Applicant, Preregistration, PreregistrationStatus } from './entities.ts'
import { type CheckedDossier, choiceCount, offeredDisciplines } from './form.ts'

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
  const period = preregistrationPeriod(context.config)
  queueMail(em, context.config, context.locale, {
    to: row.email,
    template,
    data: {
      displayName: [guardian.firstName, guardian.lastName].filter(Boolean).join(' '),
      number: row.id,
      created: row.revision === 1,
      link: `${context.baseUrl}${dossierPath(token)}`,
      applicants: applicantLines(context.config, row.applicants),
      closes: period ? until(period.closes, context.config, context.locale) : '',
    },
  })
}

/**
 * "Enregistrer la demande": a new dossier and its acknowledgement, carrying the private link. The
 * link's token (256 random bits) is only in the mail; the table keeps its SHA-256.
 */
export async function createDossier(em: Em, context: MailContext, dossier: CheckedDossier) {
  openPeriod(context.config)
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

/**
 * Saves a modification made through the link, while the period is open and the dossier a draft;
 * a dossier confirmed meanwhile refuses it.
 */
export async function updateDossier(
  em: Em,
  context: MailContext & { t: Translate },
  token: string,
  dossier: CheckedDossier,
): Promise<FieldErrors | undefined> {
  openPeriod(context.config)
  return em.transactional(async (tx) => {
    const row = await lockedDossier(tx, token)
    if (row.status !== PreregistrationStatus.draft) return { dossier: context.t('prereg.error.locked') }
    row.guardians = dossier.guardians
    row.applicants = dossier.applicants
    row.email = dossier.email
    row.revision += 1
    row.savedAt = new Date()
    mailAcknowledgement(tx, context, row, token, 'preregistration-saved')
    return undefined
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
  openPeriod(context.config)
  return em.transactional(async (tx) => {
    const row = await lockedDossier(tx, token)
    if (row.status !== PreregistrationStatus.draft) return row
    row.status = PreregistrationStatus.confirmed
    row.confirmedAt = new Date()
    await createRequests(tx, row)
    mailAcknowledgement(tx, context, row, token, 'preregistration-confirmed')
    return row
  })
}

/**
 * The confirmed dossier's choices among next year's offer become ranked requests, "en attente", by
 * applicant: only items still published and open to the applicant's age count.
 */
async function createRequests(tx: Em, row: Preregistration) {
  if (!row.applicants.some((a) => a.offerChoices?.length)) return
  const offer = await preregistrationOffer(tx)
  row.applicants.forEach((applicant, index) => {
    const open = new Set(preregistrationChoices(offer, applicant.values.birthDate ?? null).map((i) => i.id))
    let rank = 0
    for (const id of applicant.offerChoices ?? []) {
      if (!open.has(id)) continue
      rank++
      tx.create(PlaceRequest, {
        item: id,
        source: 'preregistration',
        preregistration: row,
        applicant: index,
        name: [applicant.values.firstName, applicant.values.lastName].filter(Boolean).join(' '),
        rank,
        requestedAt: row.confirmedAt!,
        state: RequestState.waiting,
      })
    }
  })
  await tx.flush()
}

/**
 * The accepted dossier's requests follow its applicants into the family and pupils created; a seat
 * already accepted enrols the pupil now.
 */
async function linkRequests(tx: Em, row: Preregistration, family: Family, pupils: Pupil[]) {
  const requests = await tx.find(PlaceRequest, { preregistration: row }, { populate: ['item'] })
  for (const request of requests) {
    const pupil = pupils[request.applicant ?? -1]
    if (!pupil) continue
    request.family = family
    request.pupil = pupil
    if (request.state === RequestState.accepted) await enrolInItem(tx, pupil.id, request.item)
  }
  await tx.flush()
}

/** What staff can still decide: a confirmed or waitlisted dossier, or a draft once the period is over. */
export function isDecidable(row: { status: string }, tenant: TenantConfig, now = new Date()): boolean {
  if (row.status === PreregistrationStatus.confirmed || row.status === PreregistrationStatus.waitlisted)
    return true
  return row.status === PreregistrationStatus.draft && !preregistrationPeriod(tenant, now)?.open
}

export const decisions = ['accepted', 'waitlisted', 'refused'] as const
export type Decision = (typeof decisions)[number]

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
  const pupils = row.applicants.map((applicant) => {
    const pupil = tx.create(Pupil, {
      family,
      lastName: applicant.values.lastName ?? '',
      firstName: applicant.values.firstName ?? '',
    })
    for (const [name, value] of Object.entries(applicant.values)) setPupilValue(pupil, name, value)
    return pupil
  })
  const first = guardians[0]!
  const invited = await invite(tx, context, {
    identifiant: await freeIdentifiant(tx, row.guardians[0]!, 'famille'),
    email: row.email,
    displayName: fullName(first),
    role: 'family',
  })
  // the identifiant was chosen free a moment ago, inside this transaction
  first.account = invited.values!
  await tx.flush()
  await linkRequests(tx, row, family, pupils)
  return family
}

/**
 * Staff's answer: Accepter creates the family and invites responsable 1; Liste d'attente and
 * Refuser (with its reason) are mailed. Each decision is audited.
 */
export async function decideDossier(
  ctx: SignedInContext,
  id: number,
  input: { decision?: string; reason?: string },
): Promise<FieldErrors | undefined> {
  const { t } = ctx
  const decision = decisions.find((d) => d === input.decision)
  const reason = input.reason?.trim() || null
  if (!decision) return { decision: t('prereg.review.decisionRequired') }
  if (decision === 'refused' && !reason) return { reason: t('documents.review.reasonRequired') }
  return ctx.em.transactional(async (tx) => {
    const row = await tx.findOne(
      Preregistration,
      { id },
      { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
    )
    if (!row) throw new NotFound()
    if (!isDecidable(row, ctx.config) || row.status === decision)
      return { decision: t('prereg.review.notDecidable') }
    row.status = decision
    row.reason = decision === 'accepted' ? null : reason
    row.decidedBy = tx.getReference(Account, ctx.account.id)
    row.decidedAt = new Date()
    if (decision === 'accepted') row.family = await createFamily(tx, ctx, row)
    // a refused dossier takes its requests for next year's offer with it
    if (decision === 'refused') await withdrawRequests(tx, { preregistration: row.id })
    audit(tx, ctx.account, {
      action: `preregistration.${decision}`,
      subject: { type: 'preregistration', id: row.id },
      details: { reason: row.reason, family: row.family?.id ?? null },
    })
    const guardian = row.guardians[0]!
    queueMail(tx, ctx.config, ctx.locale, {
      to: row.email,
      template: 'preregistration-decided',
      data: {
        displayName: [guardian.firstName, guardian.lastName].filter(Boolean).join(' '),
        number: row.id,
        decision,
        reason: row.reason,
        applicants: applicantLines(ctx.config, row.applicants),
      },
    })
    return undefined
  })
}

/** A dossier as the duplicate check compares it. */
export interface DossierKeys {
  id: number
  email: string
  applicants: Applicant[]
  familyId: number | null
}

const personKey = (v: { lastName?: string | null; firstName?: string | null; birthDate?: string | null }) =>
  v.birthDate && v.lastName && v.firstName
    ? `${fold(v.lastName)}|${fold(v.firstName)}|${v.birthDate}`
    : undefined

// what may match the dossiers shown: other dossiers, guardians and pupils sharing an e-mail or a birth date
const candidatesRead = prepare((db: Kysely<TenantDb>, p: { emails: string[]; birthDates: string[] }) =>
  db.selectNoFrom([
    jsonArrayFrom(
      db
        .selectFrom('preregistration as d')
        .select(['d.id', 'd.email', 'd.applicants'])
        .where((eb) =>
          eb.or([
            eb('d.email', '=', sql<string>`any(${p.emails}::text[])`),
            eb.exists(
              sql`(select 1 from jsonb_array_elements(d.applicants) a where a->'values'->>'birthDate' = any(${p.birthDates}::text[]))`,
            ),
          ]),
        ),
    ).as('dossiers'),
    jsonArrayFrom(
      db
        .selectFrom('guardian as g')
        .select(['g.email', 'g.family_id as familyId'])
        .where(sql<boolean>`lower(g.email) = any(${p.emails}::text[])`),
    ).as('guardians'),
    jsonArrayFrom(
      db
        .selectFrom('pupil as p')
        .select([
          'p.last_name as lastName',
          'p.first_name as firstName',
          'p.birth_date as birthDate',
          'p.family_id as familyId',
        ])
        .where(sql<boolean>`p.birth_date = any(${p.birthDates}::date[])`),
    ).as('pupils'),
  ]),
)

/**
 * Why each dossier shown may duplicate another dossier or a family already known, in staff's
 * words: the same e-mail or the same pupil (name and birth date) as another dossier, an existing
 * family's e-mail, an existing pupil. An accepted dossier is no duplicate of the family it created.
 */
export async function duplicatesOf(
  db: Reader,
  rows: DossierKeys[],
  t: Translate,
): Promise<Map<number, string[]>> {
  const emails = [...new Set(rows.map((r) => r.email))]
  const birthDates = [
    ...new Set(rows.flatMap((r) => r.applicants.map((a) => a.values.birthDate)).filter((d) => d != null)),
  ] as string[]
  const found = rows.length ? await candidatesRead.first(db, { emails, birthDates }) : undefined
  const byEmail = new Map<string, number[]>()
  const byPupil = new Map<string, number[]>()
  const push = (map: Map<string, number[]>, key: string, id: number) => {
    const ids = map.get(key) ?? []
    if (!ids.includes(id)) ids.push(id)
    map.set(key, ids)
  }
  for (const other of found?.dossiers ?? []) {
    push(byEmail, other.email, other.id)
    for (const a of other.applicants) {
      const key = personKey(a.values)
      if (key) push(byPupil, key, other.id)
    }
  }
  // the families holding each e-mail and each pupil: an accepted dossier's own family is no duplicate
  const familiesBy = (map: Map<string, Set<number>>, key: string | undefined, family: number) => {
    if (!key) return
    const ids = map.get(key) ?? new Set<number>()
    ids.add(family)
    map.set(key, ids)
  }
  const knownEmails = new Map<string, Set<number>>()
  for (const g of found?.guardians ?? []) familiesBy(knownEmails, (g.email ?? '').toLowerCase(), g.familyId)
  const knownPupilKeys = new Map<string, Set<number>>()
  for (const p of found?.pupils ?? []) familiesBy(knownPupilKeys, personKey(p), p.familyId)
  const elsewhere = (families: Set<number> | undefined, own: number | null) =>
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
      if (elsewhere(knownPupilKeys.get(key), row.familyId))
        reasons.push(t('prereg.duplicate.knownPupil', { name }))
    }
    if (elsewhere(knownEmails.get(row.email), row.familyId))
      reasons.push(t('prereg.duplicate.knownFamily', { email: row.email }))
    if (reasons.length) result.set(row.id, reasons)
  }
  return result
}

const dossierColumns = [
  'd.id',
  'd.status',
  'd.email',
  'd.guardians',
  'd.applicants',
  'd.saved_at as savedAt',
  'd.confirmed_at as confirmedAt',
  'd.decided_at as decidedAt',
  'd.family_id as familyId',
] as const

const queueRead = prepare(
  (db: Kysely<TenantDb>, p: { status: string | null; offset: number; limit: number }) =>
    db.selectNoFrom([
      jsonArrayFrom(
        db
          .selectFrom('preregistration')
          .select(['status', (inner) => inner.cast<number>(inner.fn.countAll(), 'integer').as('count')])
          .groupBy('status'),
      ).as('counts'),
      jsonArrayFrom(
        db
          .selectFrom('preregistration as d')
          .select(dossierColumns)
          .where((inner) =>
            inner.or([
              inner(inner.cast(inner.val(p.status), 'text'), 'is', null),
              inner(sql<string>`d.status`, '=', inner.cast<string>(inner.val(p.status), 'text')),
            ]),
          )
          .orderBy('d.id')
          .limit(p.limit)
          .offset(p.offset),
      ).as('rows'),
    ]),
)

export type QueuedDossier = NonNullable<Awaited<ReturnType<typeof queueRead.first>>>['rows'][number]

/**
 * A page of the dossiers in a state (all of them when `status` is null), oldest first, with each
 * state's count; `page` undefined reads them all (the export).
 */
export async function dossierQueue(db: Reader, status: PreregistrationStatus | null, page?: number) {
  const found = await queueRead.first(db, {
    status,
    offset: page ? offsetOf(page) : 0,
    limit: page ? pageSize : 1_000_000,
  })
  const counts = Object.fromEntries(Object.values(PreregistrationStatus).map((s) => [s, 0])) as Record<
    PreregistrationStatus,
    number
  >
  for (const { status: state, count } of found?.counts ?? []) counts[state] = count
  const total = status ? counts[status] : Object.values(counts).reduce((a, b) => a + b, 0)
  return { rows: found?.rows ?? [], counts, total }
}

/** The CSV of every dossier for a French spreadsheet: one line per applicant. */
export async function exportCsv(db: Reader, tenant: TenantConfig, t: Translate): Promise<string> {
  const { rows } = await dossierQueue(db, null)
  const duplicates = await duplicatesOf(db, rows, t)
  const n = choiceCount(tenant)
  const names = new Map((tenant.disciplines ?? []).map((d) => [d.code, d.name]))
  const at = (date: string | null | undefined) =>
    date ? `${formatDate(date, tenant.timezone)} ${formatTime(date, tenant.timezone)}` : ''
  const day = (value: string | null | undefined) => (value ? formatDate(value, 'UTC') : '')
  const header = [
    t('prereg.csv.number'),
    t('prereg.csv.status'),
    t('prereg.csv.savedAt'),
    t('prereg.csv.confirmedAt'),
    t('prereg.csv.decidedAt'),
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
      at(row.savedAt),
      at(row.confirmedAt),
      at(row.decidedAt),
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

const reviewRead = prepare((db: Kysely<TenantDb>, p: { id: number }) =>
  db
    .selectFrom('preregistration as d')
    .leftJoin('account as u', 'u.id', 'd.decided_by_id')
    // the invited account hangs on the created family's responsable 1
    .leftJoin('guardian as g', (join) => join.onRef('g.family_id', '=', 'd.family_id').on('g.rank', '=', 1))
    .leftJoin('account as a', 'a.id', 'g.account_id')
    .select([
      ...dossierColumns,
      'd.revision',
      'd.reason',
      'u.display_name as decidedBy',
      'a.identifiant as invitedIdentifiant',
      'a.email as invitedEmail',
    ])
    .where('d.id', '=', p.id),
)

/** A dossier as staff review it, with who decided it and the account its acceptance created. */
export async function dossierForReview(db: Reader, id: number) {
  const row = await reviewRead.first(db, { id })
  if (!row) throw new NotFound()
  return row
}

/** How many confirmed dossiers await a decision: a fragment of the staff dashboard. */
export function confirmedCount() {
  return tenantDb
    .selectFrom('preregistration')
    .select((eb) => eb.cast<number>(eb.fn.countAll(), 'integer').as('count'))
    .where('status', '=', PreregistrationStatus.confirmed)
    .$asScalar()
}
