import { LockMode } from '@mikro-orm/core'
import { type Kysely, sql } from 'kysely'
import { jsonArrayFrom } from 'kysely/helpers/postgres'
import type { TenantDb } from '../../entities.ts'
import { audit } from '../../platform/audit/audit.ts'
import type { SignedInContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import { prepare } from '../../platform/db/reads.ts'
import type { FieldErrors } from '../../platform/forms.ts'
import { Forbidden, NotFound } from '../../platform/http/errors.ts'
import { offsetOf, pageSize } from '../../platform/http/pagination.ts'
import { MailStatus, OutboxMail } from '../../platform/mail/entities.ts'

/** The administration is the admins' alone; the routes' guard says so, and so does every service call. */
function mustBeAdmin(ctx: SignedInContext): void {
  if (!(staffAccess.admin as readonly string[]).includes(ctx.account.role)) throw new Forbidden()
}

/** What the Administration page's cards count. */
const overviewRead = prepare((db: Kysely<TenantDb>, p: { since: Date }) =>
  db.selectNoFrom((eb) => {
    const mails = (status: string) =>
      eb
        .selectFrom('outbox_mail')
        .select((s) => s.cast<number>(s.fn.countAll(), 'integer').as('n'))
        .where('status', '=', status as never)
    return [
      mails(MailStatus.pending).as('pending'),
      mails(MailStatus.failed).as('failed'),
      eb
        .selectFrom('audit_event')
        .select((s) => s.cast<number>(s.fn.countAll(), 'integer').as('n'))
        .where('created_at', '>=', eb.cast<string>(eb.val(p.since), 'timestamptz'))
        .as('recentEvents'),
      eb
        .selectFrom('account')
        .select((s) => s.cast<number>(s.fn.countAll(), 'integer').as('n'))
        .where('role', '<>', 'family')
        .where('disabled', '=', false)
        .as('staffAccounts'),
    ]
  }),
)

export async function administrationOverview(ctx: SignedInContext) {
  mustBeAdmin(ctx)
  const since = new Date(Date.now() - 7 * 86_400_000)
  const found = await overviewRead.first(ctx.db, { since })
  return {
    pending: found?.pending ?? 0,
    failed: found?.failed ?? 0,
    recentEvents: found?.recentEvents ?? 0,
    staffAccounts: found?.staffAccounts ?? 0,
  }
}

/**
 * Whose actions the journal shows: the staff (every account but the families', and the names kept
 * for actors whose account is gone), the families, everyone, one account, or one kept name.
 */
export type Who =
  | { kind: 'staff' | 'families' | 'everyone' }
  | { kind: 'account'; id: number }
  | { kind: 'name'; name: string }

export interface JournalFilters {
  who: Who
  /** Action prefix with its dot (`change.`), or null for every kind. */
  group: string | null
  /** From this instant (included) to that one (excluded), or null for no bound. */
  from: Date | null
  to: Date | null
}

type JournalParams = {
  who: string
  actorId: number | null
  actorName: string | null
  group: string | null
  from: Date | null
  to: Date | null
  offset: number
  limit: number
}

const journalRead = prepare((db: Kysely<TenantDb>, p: JournalParams) => {
  const text = (value: unknown) => sql<string | null>`cast(${value} as text)`
  const instant = (value: unknown) => sql<string | null>`cast(${value} as timestamptz)`
  const accountsWhere = (family: boolean) =>
    db
      .selectFrom('account')
      .select('id')
      .where('role', family ? '=' : '<>', 'family')
  const matching = db
    .selectFrom('audit_event as a')
    .where((eb) =>
      eb.and([
        eb.or([
          eb(text(p.who), '=', 'everyone'),
          eb.and([
            eb(text(p.who), '=', 'staff'),
            eb.or([eb('a.actor_id', 'is', null), eb('a.actor_id', 'in', accountsWhere(false))]),
          ]),
          eb.and([eb(text(p.who), '=', 'families'), eb('a.actor_id', 'in', accountsWhere(true))]),
          eb.and([
            eb(text(p.who), '=', 'account'),
            eb('a.actor_id', '=', sql<number>`cast(${p.actorId} as integer)`),
          ]),
          eb.and([
            eb(text(p.who), '=', 'name'),
            eb('a.actor_id', 'is', null),
            eb('a.actor_name', '=', text(p.actorName)),
          ]),
        ]),
        eb.or([
          eb(text(p.group), 'is', null),
          eb(sql<string>`left(a.action, length(${text(p.group)}))`, '=', text(p.group)),
        ]),
        eb.or([eb(instant(p.from), 'is', null), eb('a.created_at', '>=', instant(p.from))]),
        eb.or([eb(instant(p.to), 'is', null), eb('a.created_at', '<', instant(p.to))]),
      ]),
    )
  const page = matching
    .select([
      'a.id',
      'a.created_at as at',
      'a.actor_id as actorId',
      'a.actor_name as actorName',
      'a.action',
      'a.subject_type as subjectType',
      'a.subject_id as subjectId',
      'a.details',
    ])
    .orderBy('a.created_at', 'desc')
    .orderBy('a.id', 'desc')
    .limit(p.limit)
    .offset(p.offset)
  // what each event is about, read for the page's rows only: a name to show and where to go
  const rows = db
    .selectFrom(page.as('e'))
    .selectAll('e')
    .select((eb) => {
      const about = (type: string) => eb('e.subjectType', '=', type)
      const named = sql<string>`concat_ws(' ', n.first_name, n.last_name)`
      return [
        eb
          .selectFrom('guardian as n')
          .select(named.as('name'))
          .where(about('guardian'))
          .whereRef('n.id', '=', 'e.subjectId')
          .as('guardianName'),
        eb
          .selectFrom('guardian as n')
          .select('n.family_id')
          .where(about('guardian'))
          .whereRef('n.id', '=', 'e.subjectId')
          .as('guardianFamily'),
        eb
          .selectFrom('pupil as n')
          .select(named.as('name'))
          .where(about('pupil'))
          .whereRef('n.id', '=', 'e.subjectId')
          .as('pupilName'),
        eb
          .selectFrom('pupil as n')
          .select('n.family_id')
          .where(about('pupil'))
          .whereRef('n.id', '=', 'e.subjectId')
          .as('pupilFamily'),
        eb
          .selectFrom('guardian as n')
          .select(named.as('name'))
          .where(about('family'))
          .whereRef('n.family_id', '=', 'e.subjectId')
          .orderBy('n.rank')
          .limit(1)
          .as('familyName'),
        eb
          .selectFrom('document_submission as d')
          .select('d.id')
          .where(about('document'))
          .whereRef('d.id', '=', 'e.subjectId')
          .as('documentHeld'),
        eb
          .selectFrom('course as c')
          .select('c.name')
          .where(about('course'))
          .whereRef('c.id', '=', 'e.subjectId')
          .as('courseName'),
        eb
          .selectFrom('account as n')
          .select(sql<string>`concat(n.display_name, ' (', n.identifiant, ')')`.as('name'))
          .where(about('account'))
          .whereRef('n.id', '=', 'e.subjectId')
          .as('accountName'),
        eb
          .selectFrom('school_year as y')
          .select('y.label')
          .where(about('schoolYear'))
          .whereRef('y.id', '=', 'e.subjectId')
          .as('yearLabel'),
        eb
          .selectFrom('outbox_mail as m')
          .select('m.subject')
          .where(about('mail'))
          .whereRef('m.id', '=', 'e.subjectId')
          .as('mailSubject'),
      ]
    })
    .orderBy('e.at', 'desc')
    .orderBy('e.id', 'desc')
  return db.selectNoFrom((eb) => [
    eb
      .selectFrom(matching.select('a.id').as('q'))
      .select((s) => s.cast<number>(s.fn.countAll(), 'integer').as('n'))
      .as('total'),
    jsonArrayFrom(rows).as('rows'),
    // the people the filter offers: accounts of the staff that acted, and the names kept without one
    jsonArrayFrom(
      db
        .selectFrom('account as p')
        .select(['p.id', 'p.display_name as displayName', 'p.identifiant', 'p.role'])
        .where('p.role', '<>', 'family')
        .where(({ exists, selectFrom }) =>
          exists(selectFrom('audit_event as x').select('x.id').whereRef('x.actor_id', '=', 'p.id')),
        )
        .orderBy(sql`lower(p.display_name)`)
        .orderBy('p.id'),
    ).as('people'),
    jsonArrayFrom(
      db
        .selectFrom('audit_event as x')
        .select('x.actor_name as name')
        .distinct()
        .where('x.actor_id', 'is', null)
        .orderBy('x.actor_name'),
    ).as('keptNames'),
  ])
})

/** One page of the tenant's audit trail, newest first, with the people the filter offers. */
export async function journal(ctx: SignedInContext, filters: JournalFilters, page: number) {
  mustBeAdmin(ctx)
  const { who } = filters
  const found = await journalRead.first(ctx.db, {
    who: who.kind,
    actorId: who.kind === 'account' ? who.id : null,
    actorName: who.kind === 'name' ? who.name : null,
    group: filters.group,
    from: filters.from,
    to: filters.to,
    offset: offsetOf(page),
    limit: pageSize,
  })
  return {
    total: found?.total ?? 0,
    rows: found?.rows ?? [],
    people: found?.people ?? [],
    keptNames: (found?.keptNames ?? []).map((k) => k.name),
  }
}

export type JournalRow = Awaited<ReturnType<typeof journal>>['rows'][number]

/** The outbox's states, as the list filters them. */
export const mailStates = [MailStatus.sent, MailStatus.pending, MailStatus.failed] as const
export type MailState = (typeof mailStates)[number]

const mailColumns = [
  'm.id',
  'm.recipient',
  'm.subject',
  'm.template',
  'm.status',
  'm.attempts',
  'm.next_attempt_at as nextAttemptAt',
  'm.last_error as lastError',
  'm.created_at as createdAt',
  'm.sent_at as sentAt',
] as const

const outboxRead = prepare(
  (
    db: Kysely<TenantDb>,
    p: { state: string | null; pattern: string | null; offset: number; limit: number },
  ) => {
    const state = sql<string | null>`cast(${p.state} as text)`
    const pattern = sql<string | null>`cast(${p.pattern} as text)`
    const matching = db
      .selectFrom('outbox_mail as m')
      .where((eb) =>
        eb.and([
          eb.or([eb(state, 'is', null), eb(sql<string>`m.status`, '=', state)]),
          eb.or([eb(pattern, 'is', null), eb(sql<string>`lower(m.recipient)`, 'like', pattern)]),
        ]),
      )
    return db.selectNoFrom((eb) => [
      eb
        .selectFrom(matching.select('m.id').as('q'))
        .select((s) => s.cast<number>(s.fn.countAll(), 'integer').as('n'))
        .as('total'),
      jsonArrayFrom(
        matching
          .select(mailColumns)
          .orderBy('m.created_at', 'desc')
          .orderBy('m.id', 'desc')
          .limit(p.limit)
          .offset(p.offset),
      ).as('rows'),
    ])
  },
)

/** "%dupont%" as the list's LIKE reads it: lowercase, its own % and _ taken literally. */
function recipientPattern(query: string): string | null {
  const wanted = query.trim().toLowerCase()
  return wanted ? `%${wanted.replace(/[\\%_]/g, '\\$&')}%` : null
}

/** One page of the tenant's mails, newest first, filtered by state and by recipient. */
export async function outbox(
  ctx: SignedInContext,
  filters: { state: MailState | null; query: string },
  page: number,
) {
  mustBeAdmin(ctx)
  const found = await outboxRead.first(ctx.db, {
    state: filters.state,
    pattern: recipientPattern(filters.query),
    offset: offsetOf(page),
    limit: pageSize,
  })
  return { total: found?.total ?? 0, rows: found?.rows ?? [] }
}

export type OutboxRow = Awaited<ReturnType<typeof outbox>>['rows'][number]

const mailRead = prepare((db: Kysely<TenantDb>, p: { id: number }) =>
  db
    .selectFrom('outbox_mail as m')
    .select(mailColumns)
    .select((eb) => [
      'm.text',
      jsonArrayFrom(
        eb
          .selectFrom('audit_event as a')
          .select(['a.created_at as at', 'a.actor_name as actorName', 'a.details'])
          .where('a.subject_type', '=', 'mail')
          .whereRef('a.subject_id', '=', 'm.id')
          .orderBy('a.created_at', 'desc')
          .orderBy('a.id', 'desc'),
      ).as('resends'),
      jsonArrayFrom(
        eb
          .selectFrom('outbox_attachment as f')
          .select('f.file_name as fileName')
          .whereRef('f.mail_id', '=', 'm.id')
          .orderBy('f.id'),
      ).as('attachments'),
    ])
    .where('m.id', '=', p.id),
)

/** A mail of the outbox with its text part and the times it was sent again; 404 when the tenant has none. */
export async function outboxMail(ctx: SignedInContext, id: number) {
  mustBeAdmin(ctx)
  const row = await mailRead.first(ctx.db, { id })
  if (!row) throw new NotFound()
  return row
}

export type OutboxMailRow = Awaited<ReturnType<typeof outboxMail>>

/**
 * "Renvoyer": a failed or pending mail is put back in the queue, due now (a failed one gets its
 * full round of attempts again); the worker is woken when this commits. A sent mail is refused: its
 * bodies were dropped once sent (they may hold a password link), so there is nothing left to send.
 * The row is locked, so a mail the worker is sending at that moment is seen sent, and refused.
 */
export async function resendMail(ctx: SignedInContext, id: number): Promise<FieldErrors | undefined> {
  mustBeAdmin(ctx)
  return ctx.em.transactional(async (tx) => {
    const mail = await tx.findOne(OutboxMail, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true })
    if (!mail) throw new NotFound()
    if (mail.status === MailStatus.sent) return { resend: ctx.t('administration.mail.refused.sent') }
    audit(tx, ctx.account, {
      action: 'mail.resent',
      subject: { type: 'mail', id: mail.id },
      details: { template: mail.template, status: mail.status, attempts: mail.attempts },
    })
    if (mail.status === MailStatus.failed) mail.attempts = 0
    mail.status = MailStatus.pending
    mail.nextAttemptAt = new Date()
    return undefined
  })
}
