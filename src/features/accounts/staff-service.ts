import { LockMode } from '@mikro-orm/core'
import { type Expression, type Kysely, sql } from 'kysely'
import { jsonArrayFrom, jsonObjectFrom } from 'kysely/helpers/postgres'
import { type TenantDb, tenantDb } from '../../entities.ts'
import { audit } from '../../platform/audit/audit.ts'
import type { SignedInContext } from '../../platform/auth/context.ts'
import { Account, Role, TokenPurpose } from '../../platform/auth/entities.ts'
import { isStaff, staffRoles } from '../../platform/auth/roles.ts'
import { closeAccountSessions } from '../../platform/auth/sessions.ts'
import { prepare, type Reader } from '../../platform/db/reads.ts'
import { type Checked, type FieldErrors, refusals } from '../../platform/forms.ts'
import { NotFound } from '../../platform/http/errors.ts'
import { offsetOf, pageSize } from '../../platform/http/pagination.ts'
import { fold } from '../../platform/text.ts'
import { Guardian } from '../family/entities.ts'
import { Teacher } from '../teaching/entities.ts'
import { currentSchoolYear } from '../teaching/service.ts'
import {
  emailPattern,
  freeIdentifiant,
  identifiantProblem,
  invitationLifetimeMs,
  invite,
  type MailContext,
  mailLink,
  normalizeIdentifiant,
  resetLifetimeMs,
  spendLinks,
} from './service.ts'

/**
 * Where an account stands: invited (no password yet, a live invitation link), expired (no password
 * and no live link: the invitation must be sent again), active (a password, or signed in once
 * through the identity provider), or disabled (whatever else).
 */
export const accountStates = ['invited', 'expired', 'active', 'disabled'] as const
export type AccountState = (typeof accountStates)[number]

// translate() maps one character to one: every accented letter of French names to its plain letter
const accented = 'ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖòóôõöÙÚÛÜùúûüÝýÿ'
const plain = [...accented].map((c) => c.normalize('NFD')[0]).join('')

/**
 * The SQL twin of `fold()`: lowercase without accents or œ. lower() alone is not enough where the
 * database's ctype is C (it then lowers ASCII only), hence translate() first.
 */
function folded(text: Expression<string | null>) {
  return sql<string>`lower(translate(replace(replace(coalesce(${text}, ''), 'œ', 'oe'), 'Œ', 'oe'), ${accented}, ${plain}))`
}

/** Every account with its state and who it belongs to, as one row each: the list's and the page's source. */
function accountRows() {
  return tenantDb
    .selectFrom('account as a')
    .leftJoin('guardian as g', 'g.account_id', 'a.id')
    .leftJoin('teacher as t', 't.account_id', 'a.id')
    .select((eb) => [
      'a.id',
      'a.identifiant',
      'a.display_name as displayName',
      'a.email',
      'a.role',
      'a.last_sign_in_at as lastSignInAt',
      'a.created_at as createdAt',
      eb
        .case()
        .when('a.disabled', '=', true)
        .then(sql.lit('disabled'))
        // a password, or a sign-in through the conservatoire's identity provider (no password needed)
        .when(eb.or([eb('a.password_hash', 'is not', null), eb('a.last_sign_in_at', 'is not', null)]))
        .then(sql.lit('active'))
        .when(
          eb.exists(
            eb
              .selectFrom('password_token as k')
              .select('k.id')
              .whereRef('k.account_id', '=', 'a.id')
              .where('k.purpose', '=', TokenPurpose.invitation)
              .where('k.used_at', 'is', null)
              .where('k.expires_at', '>', sql<string>`now()`),
          ),
        )
        .then(sql.lit('invited'))
        .else(sql.lit('expired'))
        .end()
        .$castTo<AccountState>()
        .as('state'),
      'g.id as guardianId',
      'g.family_id as familyId',
      'g.rank as guardianRank',
      'g.first_name as guardianFirstName',
      'g.last_name as guardianLastName',
      't.id as teacherId',
      't.first_name as teacherFirstName',
      't.last_name as teacherLastName',
      folded(
        sql`concat_ws(' ', a.identifiant, a.display_name, a.email, g.first_name, g.last_name, t.first_name, t.last_name)`,
      ).as('haystack'),
      folded(eb.ref('a.display_name')).as('sortName'),
    ])
}

type ListFilters = {
  role: Role | null
  state: AccountState | null
  /** What the search box holds, folded; null for every account. */
  pattern: string | null
}

const listRead = prepare((db: Kysely<TenantDb>, p: ListFilters & { offset: number; limit: number }) => {
  const matching = db
    .selectFrom(accountRows().as('x'))
    .where((eb) =>
      eb.and([
        eb.or([
          eb(eb.cast(eb.val(p.role), 'text'), 'is', null),
          eb(sql<string>`x.role`, '=', eb.cast<string>(eb.val(p.role), 'text')),
        ]),
        eb.or([
          eb(eb.cast(eb.val(p.state), 'text'), 'is', null),
          eb(sql<string>`x.state`, '=', eb.cast<string>(eb.val(p.state), 'text')),
        ]),
        eb.or([
          eb(eb.cast(eb.val(p.pattern), 'text'), 'is', null),
          eb('x.haystack', 'like', eb.cast<string>(eb.val(p.pattern), 'text')),
        ]),
      ]),
    )
  return db.selectNoFrom((eb) => [
    eb
      .selectFrom(matching.select('x.id').as('q'))
      .select((inner) => inner.cast<number>(inner.fn.countAll(), 'integer').as('n'))
      .as('total'),
    jsonArrayFrom(
      matching
        .select([
          'x.id',
          'x.identifiant',
          'x.displayName',
          'x.email',
          'x.role',
          'x.state',
          'x.lastSignInAt',
          'x.familyId',
          'x.guardianRank',
          'x.guardianFirstName',
          'x.guardianLastName',
          'x.teacherFirstName',
          'x.teacherLastName',
        ])
        .orderBy('x.sortName')
        .orderBy('x.id')
        .limit(p.limit)
        .offset(p.offset),
    ).as('rows'),
  ])
})

/** "%éloïse%" as the list's LIKE reads it: folded, its own % and _ taken literally. */
function searchPattern(query: string): string | null {
  const wanted = fold(query.trim())
  return wanted ? `%${wanted.replace(/[\\%_]/g, '\\$&')}%` : null
}

/** One page of the accounts, filtered and searched in SQL, by name. */
export async function accountList(
  db: Reader,
  filters: { role: Role | null; state: AccountState | null; query: string },
  page: number,
) {
  const found = await listRead.first(db, {
    role: filters.role,
    state: filters.state,
    pattern: searchPattern(filters.query),
    offset: offsetOf(page),
    limit: pageSize,
  })
  return { total: found?.total ?? 0, rows: found?.rows ?? [] }
}

export type AccountListRow = Awaited<ReturnType<typeof accountList>>['rows'][number]

const accountRead = prepare((db: Kysely<TenantDb>, p: { id: number; yearId: number }) =>
  db
    .selectFrom(accountRows().as('x'))
    .selectAll('x')
    .select((eb) => [
      jsonObjectFrom(
        eb
          .selectFrom('password_token as k')
          .select(['k.created_at as sentAt', 'k.expires_at as expiresAt', 'k.used_at as usedAt'])
          .whereRef('k.account_id', '=', 'x.id')
          .where('k.purpose', '=', TokenPurpose.invitation)
          .orderBy('k.created_at', 'desc')
          .orderBy('k.id', 'desc')
          .limit(1),
      ).as('invitation'),
      jsonArrayFrom(
        eb
          .selectFrom('course as c')
          .select(['c.id', 'c.name', 'c.slot', 'c.establishment', 'c.closed_at as closedAt'])
          .whereRef('c.teacher_id', '=', 'x.teacherId')
          .where('c.school_year_id', '=', p.yearId)
          .orderBy('c.name'),
      ).as('courses'),
      jsonArrayFrom(
        eb
          .selectFrom('audit_event as e')
          .select(['e.id', 'e.action', 'e.actor_name as actorName', 'e.details', 'e.created_at as createdAt'])
          .where('e.subject_type', '=', 'account')
          .whereRef('e.subject_id', '=', 'x.id')
          .orderBy('e.id', 'desc')
          .limit(50),
      ).as('history'),
    ])
    .where('x.id', '=', p.id),
)

/** An account as its page shows it: state, owner, last invitation, a teacher's courses, its history. */
export async function accountPage(db: Reader, id: number) {
  const year = await currentSchoolYear(db)
  const row = await accountRead.first(db, { id, yearId: year?.id ?? 0 })
  if (!row) throw new NotFound()
  return { row, year: year?.label ?? '' }
}

export type AccountPageRow = Awaited<ReturnType<typeof accountPage>>['row']

/** The roles an account may be moved between from its page: staff roles only. */
export const staffRoleChoices: readonly Role[] = staffRoles

/** The mails staff cause go out in the conservatoire's language, whatever the page's. */
function mailContext(ctx: SignedInContext): MailContext {
  return { config: ctx.config, locale: ctx.config.locale ?? 'fr', baseUrl: ctx.baseUrl }
}

/** The account, locked for the change; another tenant's id is simply absent from this schema. */
async function lockedAccount(tx: SignedInContext['em'], id: number) {
  const account = await tx.findOne(
    Account,
    { id },
    { populate: ['passwordHash'], lockMode: LockMode.PESSIMISTIC_WRITE },
  )
  if (!account) throw new NotFound()
  return account
}

/** Whether another active admin than `accountId` remains, admins locked so two demotions cannot cross. */
async function anotherAdminRemains(tx: SignedInContext['em'], accountId: number): Promise<boolean> {
  const admins = await tx.find(
    Account,
    { role: Role.admin, disabled: false },
    { lockMode: LockMode.PESSIMISTIC_WRITE, fields: ['id'] },
  )
  return admins.some((a) => a.id !== accountId)
}

/** A refusal of one of the page's actions, shown at the top of the account's page. */
const refused = (message: string): FieldErrors => ({ action: message })

/** A new invitation link (valid 7 days) for an account that has no password yet; earlier links are spent. */
export async function resendInvitation(ctx: SignedInContext, id: number): Promise<FieldErrors | undefined> {
  return ctx.em.transactional(async (tx) => {
    const account = await lockedAccount(tx, id)
    if (account.disabled) return refused(ctx.t('accounts.refused.disabled'))
    if (account.passwordHash) return refused(ctx.t('accounts.refused.hasPassword'))
    await spendLinks(tx, account.id)
    mailLink(tx, mailContext(ctx), account, TokenPurpose.invitation, invitationLifetimeMs)
    audit(tx, ctx.account, {
      action: 'account.invitationResent',
      subject: { type: 'account', id: account.id },
      details: { email: account.email },
    })
    await tx.flush()
    return undefined
  })
}

/** The "mot de passe perdu" mail, sent by staff: a link valid 30 minutes; the password works until it is used. */
export async function sendPasswordLink(ctx: SignedInContext, id: number): Promise<FieldErrors | undefined> {
  return ctx.em.transactional(async (tx) => {
    const account = await lockedAccount(tx, id)
    if (account.disabled) return refused(ctx.t('accounts.refused.disabled'))
    if (!account.passwordHash) return refused(ctx.t('accounts.refused.noPassword'))
    mailLink(tx, mailContext(ctx), account, TokenPurpose.reset, resetLifetimeMs)
    audit(tx, ctx.account, {
      action: 'account.passwordLinkSent',
      subject: { type: 'account', id: account.id },
      details: { email: account.email },
    })
    await tx.flush()
    return undefined
  })
}

/**
 * Disables (every session closed at once, every link spent, sign-in refused) or enables an account.
 * Nobody disables their own account, and one active admin always remains.
 */
export async function setDisabled(
  ctx: SignedInContext,
  id: number,
  disabled: boolean,
): Promise<FieldErrors | undefined> {
  return ctx.em.transactional(async (tx) => {
    const account = await lockedAccount(tx, id)
    if (account.disabled === disabled) return undefined
    if (disabled) {
      if (account.id === ctx.account.id) return refused(ctx.t('accounts.refused.self'))
      if (account.role === Role.admin && !(await anotherAdminRemains(tx, account.id)))
        return refused(ctx.t('accounts.refused.lastAdmin'))
    }
    account.disabled = disabled
    if (disabled) {
      await closeAccountSessions(tx, account.id)
      await spendLinks(tx, account.id)
    }
    audit(tx, ctx.account, {
      action: disabled ? 'account.disabled' : 'account.enabled',
      subject: { type: 'account', id: account.id },
      details: {},
    })
    await tx.flush()
    return undefined
  })
}

/** Moves a staff account to another staff role; not one's own, and one active admin always remains. */
export async function changeRole(
  ctx: SignedInContext,
  id: number,
  role: string,
): Promise<FieldErrors | undefined> {
  return ctx.em.transactional(async (tx) => {
    const account = await lockedAccount(tx, id)
    if (!isStaff(account.role)) return refused(ctx.t('accounts.refused.notStaff'))
    if (!staffRoleChoices.includes(role as Role)) return { role: ctx.t('accounts.refused.role') }
    if (account.role === role) return undefined
    if (account.id === ctx.account.id) return { role: ctx.t('accounts.refused.self') }
    if (account.role === Role.admin && !(await anotherAdminRemains(tx, account.id)))
      return { role: ctx.t('accounts.refused.lastAdmin') }
    const from = account.role
    account.role = role as Role
    audit(tx, ctx.account, {
      action: 'account.roleChanged',
      subject: { type: 'account', id: account.id },
      details: { from, to: role },
    })
    await tx.flush()
    return undefined
  })
}

const teachersRead = prepare((db: Kysely<TenantDb>) =>
  db
    .selectFrom('teacher')
    .select(['id', 'first_name as firstName', 'last_name as lastName', 'email'])
    .where('account_id', 'is', null)
    .orderBy('last_name')
    .orderBy('first_name')
    .orderBy('id'),
)

/** Teachers not tied to an account yet: those an invitation may be for. */
export function teachersWithoutAccount(db: Reader) {
  return teachersRead.all(db, {})
}

const guardianRead = prepare((db: Kysely<TenantDb>, p: { id: number }) =>
  db
    .selectFrom('guardian as g')
    .innerJoin('family as f', 'f.id', 'g.family_id')
    .select([
      'g.id',
      'g.family_id as familyId',
      'g.rank',
      'g.first_name as firstName',
      'g.last_name as lastName',
      'g.email',
      'g.account_id as accountId',
    ])
    .where('g.id', '=', p.id)
    .where('f.erased_at', 'is', null),
)

/** The guardian a family invitation is for (`?responsable=`); a 404 when there is none to invite. */
export async function guardianToInvite(db: Reader, id: number) {
  const guardian = await guardianRead.first(db, { id })
  if (!guardian) throw new NotFound()
  return guardian
}

const teacherRead = prepare((db: Kysely<TenantDb>, p: { id: number }) =>
  db
    .selectFrom('teacher')
    .select(['id', 'first_name as firstName', 'last_name as lastName', 'email', 'account_id as accountId'])
    .where('id', '=', p.id),
)

/** The teacher an invitation is prefilled for (`?enseignant=`); a 404 when there is none. */
export async function teacherToInvite(db: Reader, id: number) {
  const teacher = await teacherRead.first(db, { id })
  if (!teacher) throw new NotFound()
  return teacher
}

/** What the invitation form sends; `teacher` is a Teacher's id or "nouveau". */
export interface InviteInput {
  role: string
  firstName: string
  lastName: string
  email: string
  identifiant: string
  teacher: string
  guardian: number | undefined
}

/** The roles the form offers; a family's account is opened from its guardian (`?responsable=`). */
export const invitableRoles: readonly Role[] = [Role.teacher, Role.secretariat, Role.direction, Role.admin]

export const newTeacher = 'nouveau'

/**
 * Invites a person: checks the form, creates the account and mails the invitation; a teacher's
 * account is tied to their Teacher row (created when new), a family's to its guardian. One
 * transaction, audited; answers the account, or the form's refusals keyed by field.
 */
export async function inviteFromStaff(
  ctx: SignedInContext,
  input: InviteInput,
): Promise<Checked<Account | undefined>> {
  const { t } = ctx
  return ctx.em.transactional(async (tx) => {
    const fields: FieldErrors = {}
    const guardian =
      input.guardian !== undefined ? await tx.findOne(Guardian, { id: input.guardian }) : undefined
    if (guardian === null) throw new NotFound()
    const role: Role | undefined = guardian
      ? Role.family
      : invitableRoles.includes(input.role as Role)
        ? (input.role as Role)
        : undefined
    if (!role) {
      fields.role = input.role === Role.family ? t('accounts.invite.familyFromGuardian') : t('form.required')
    }
    if (guardian?.account) fields.guardian = t('accounts.invite.guardianTaken')

    let teacher: Teacher | undefined
    if (role === Role.teacher && input.teacher !== newTeacher) {
      const id = Number(input.teacher)
      const found = Number.isInteger(id) && id > 0 ? await tx.findOne(Teacher, { id }) : null
      if (!found) fields.teacher = t('accounts.invite.teacherRequired')
      else if (found.account) fields.teacher = t('accounts.invite.teacherTaken')
      else teacher = found
    }
    // an existing teacher's name is theirs; anyone else's is typed
    const firstName = teacher ? teacher.firstName : input.firstName.trim()
    const lastName = teacher ? teacher.lastName : input.lastName.trim()
    if (!teacher) {
      if (!firstName) fields.firstName = t('form.required')
      if (!lastName) fields.lastName = t('form.required')
    }
    const email = input.email.trim()
    if (!email) fields.email = t('form.required')
    else if (!emailPattern.test(email)) fields.email = t('lost.emailInvalid')
    const identifiant = input.identifiant.trim()
      ? normalizeIdentifiant(input.identifiant)
      : await freeIdentifiant(tx, { firstName, lastName })
    const identifiantError = await identifiantProblem(tx, identifiant, t)
    if (identifiantError) fields.identifiant = identifiantError
    const errors = refusals(fields)
    if (errors || !role) return { values: undefined, errors }

    const displayName = `${firstName} ${lastName}`
    const invited = await invite(tx, mailContext(ctx), { identifiant, email, displayName, role }, t)
    if (invited.errors) return invited
    const account = invited.values!
    if (role === Role.teacher) {
      if (teacher) {
        teacher.account = account
        teacher.email ??= email
      } else {
        teacher = tx.create(Teacher, { firstName, lastName, email, account })
      }
    }
    if (guardian) guardian.account = account
    await tx.flush()
    audit(tx, ctx.account, {
      action: 'account.invited',
      subject: { type: 'account', id: account.id },
      details: {
        identifiant,
        role,
        email,
        ...(teacher ? { teacher: teacher.id } : {}),
        ...(guardian ? { guardian: guardian.id, family: guardian.family.id } : {}),
      },
    })
    await tx.flush()
    return { values: account, errors: undefined }
  })
}
