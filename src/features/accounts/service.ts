import { Account, PasswordToken, type Role, TokenPurpose } from '../../platform/auth/entities.ts'
import { checkPassword, describeProblem } from '../../platform/auth/password-policy.ts'
import { hashPassword, needsRehash, spendVerifyTime, verifyPassword } from '../../platform/auth/passwords.ts'
import { signInPaths } from '../../platform/auth/plugin.ts'
import { closeAccountSessions, randomToken, sha256 } from '../../platform/auth/sessions.ts'
import type { Em } from '../../platform/db/orm.ts'
import type { Actor } from '../../platform/auth/context.ts'
import { type Checked, type FieldErrors, refusals } from '../../platform/forms.ts'
import { queueMail } from '../../platform/mail/outbox.ts'
import { fold } from '../../platform/text.ts'
import type { TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import { formatDate, formatTime } from '../../platform/views/dates.ts'
import { type Locale, type Translate, translator } from '../../platform/views/i18n.ts'

export const resetLifetimeMs = 30 * 60_000
export const invitationLifetimeMs = 7 * 24 * 3_600_000

export function normalizeIdentifiant(identifiant: string): string {
  return identifiant.trim().toLowerCase()
}

const identifiantPattern = /^[a-z0-9][a-z0-9._@-]{2,99}$/
export const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

/** `stem` when no account has it, else the first of stem2, stem3… that is free. */
async function freeVariant(em: Em, stem: string): Promise<string> {
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

/** A free identifiant for a person: "prenom.nom", plain ASCII, numbered when already taken. */
export async function freeIdentifiant(
  em: Em,
  person: { firstName?: string | null; lastName?: string | null },
  fallback = 'compte',
): Promise<string> {
  const part = (value: string | null | undefined) =>
    fold(value ?? '')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
  const base =
    [part(person.firstName), part(person.lastName)].filter(Boolean).join('.').slice(0, 90) || fallback
  return freeVariant(em, base.length >= 3 ? base : `${fallback}.${base}`)
}

/** Why an identifiant cannot be given (its form, or another account has it), in words; undefined when it can. */
export async function identifiantProblem(
  em: Em,
  identifiant: string,
  t: Translate,
): Promise<string | undefined> {
  if (!identifiant) return t('form.required')
  if (!identifiantPattern.test(identifiant)) return t('accounts.identifiant.format')
  if (await em.count(Account, { identifiant })) {
    return t('accounts.identifiant.taken', { suggestion: await freeVariant(em, identifiant.slice(0, 95)) })
  }
  return undefined
}

/**
 * The account these credentials open on this portal, or undefined — whatever was wrong (unknown
 * identifiant, wrong password, other portal, disabled), at the cost of one argon2 verification.
 */
export async function authenticate(
  em: Em,
  identifiant: string,
  password: string,
  roles: readonly Role[],
): Promise<Account | undefined> {
  const account = await em.findOne(
    Account,
    { identifiant: normalizeIdentifiant(identifiant) },
    { populate: ['passwordHash'] },
  )
  if (!account?.passwordHash || account.disabled || !roles.includes(account.role)) {
    await spendVerifyTime(password)
    return undefined
  }
  if (!(await verifyPassword(account.passwordHash, password))) return undefined
  const rehashed = needsRehash(account.passwordHash) ? await hashPassword(password) : undefined
  const now = new Date()
  const changes = { lastSignInAt: now, updatedAt: now, ...(rehashed ? { passwordHash: rehashed } : {}) }
  // one UPDATE on its own, as a flush would write it but without the begin and commit around it
  await em.nativeUpdate(Account, { id: account.id }, changes)
  Object.assign(account, changes)
  // what was written becomes the account's persisted state, so that no later flush writes it again
  em.getUnitOfWork().merge(account)
  return account
}

/** Who a mail goes out for and in which language; a request's TenantContext is one. */
export interface MailContext {
  config: TenantConfig
  locale: Locale
  /** Origin of the tenant's portal, such as https://limonest.tutti.fr, for the links in mails. */
  baseUrl: string
}

/** "11/06/2025 à 23:59" in the tenant's timezone, for mails. */
export function until(date: Date, tenant: TenantConfig, locale: Locale): string {
  const intl = locale === 'en' ? 'en-GB' : 'fr-FR'
  const t = translator(locale)
  return t('date.until', {
    date: formatDate(date, tenant.timezone, intl),
    time: formatTime(date, tenant.timezone, intl),
  })
}

/** Creates a single-use link for the account (only its hash is stored) and queues the mail carrying it. */
export function mailLink(
  em: Em,
  context: MailContext,
  account: Account,
  purpose: keyof typeof TokenPurpose,
  lifetimeMs: number,
) {
  const token = randomToken()
  const expiresAt = new Date(Date.now() + lifetimeMs)
  em.create(PasswordToken, { tokenHash: sha256(token), account, purpose, expiresAt })
  queueMail(em, context.config, context.locale, {
    to: account.email,
    template: purpose === TokenPurpose.reset ? 'password-reset' : 'invitation',
    data: {
      displayName: account.displayName,
      identifiant: account.identifiant,
      link: `${context.baseUrl}/mot-de-passe/nouveau?jeton=${token}`,
      expiresAt: until(expiresAt, context.config, context.locale),
    },
  })
}

/**
 * "Mot de passe perdu": when the identifiant and the e-mail match, a single-use link valid 30
 * minutes is mailed. The caller answers the same thing either way; the password is left as it is.
 */
export async function requestReset(em: Em, context: MailContext, identifiant: string, email: string) {
  const account = await em.findOne(Account, { identifiant: normalizeIdentifiant(identifiant) })
  if (!account || account.disabled || account.email.toLowerCase() !== email.trim().toLowerCase()) return false
  mailLink(em, context, account, TokenPurpose.reset, resetLifetimeMs)
  await em.flush()
  return true
}

/** The account a mailed link is for, while the link is unused and unexpired. */
export async function tokenAccount(em: Em, token: string): Promise<Account | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined
  const found = await em.findOne(
    PasswordToken,
    { tokenHash: sha256(token), usedAt: null, expiresAt: { $gt: new Date() } },
    { populate: ['account'] },
  )
  return found && !found.account.disabled ? found.account : undefined
}

function passwordProblems(
  password: string,
  confirmation: string,
  account: Pick<Account, 'identifiant'>,
  tenant: TenantConfig,
  t: Translate,
  field = 'password',
): FieldErrors {
  const fields: FieldErrors = {}
  if (!password) fields[field] = t('form.required')
  else {
    const problems = checkPassword(password, account.identifiant, tenant.passwordPolicy)
    if (problems.length > 0) fields[field] = problems.map((p) => describeProblem(p, t)).join(' ')
  }
  if (!confirmation) fields.confirmation = t('form.required')
  else if (password && confirmation !== password) fields.confirmation = t('newPassword.mismatch')
  return fields
}

/**
 * Sets the password through a mailed link (reset or invitation). The link works once: it is
 * claimed by a conditional update, so two submissions racing each other cannot both use it. Every
 * session of the account is closed, and every other outstanding link is spent.
 */
export async function setPasswordWithToken(
  em: Em,
  context: { config: TenantConfig; t: Translate },
  token: string,
  password: string,
  confirmation: string,
): Promise<Checked<Account | undefined>> {
  // the link's own field: the page says it is no longer valid
  const spent = { values: undefined, errors: { token: context.t('newPassword.invalidBody') } }
  const account = await tokenAccount(em, token)
  if (!account) return spent
  const errors = refusals(passwordProblems(password, confirmation, account, context.config, context.t))
  if (errors) return { values: undefined, errors }
  const passwordHash = await hashPassword(password)
  return em.transactional(async (tx) => {
    const claimed = await tx.nativeUpdate(
      PasswordToken,
      { tokenHash: sha256(token), usedAt: null, expiresAt: { $gt: new Date() } },
      { usedAt: new Date() },
    )
    if (claimed !== 1) return spent
    await tx.nativeUpdate(PasswordToken, { account, usedAt: null }, { usedAt: new Date() })
    await tx.nativeUpdate(Account, { id: account.id }, { passwordHash })
    await closeAccountSessions(tx, account.id)
    return { values: account, errors: undefined }
  })
}

/** "Mot de passe" page: the current password, then the new one twice; other sessions are closed. */
export async function changePassword(
  context: MailContext & { em: Em; t: Translate; account: Actor },
  sessionId: string | undefined,
  input: { current: string; password: string; confirmation: string },
): Promise<FieldErrors | undefined> {
  const { t, em, account } = context
  const withHash = await em.findOneOrFail(Account, { id: account.id }, { populate: ['passwordHash'] })
  const fields = passwordProblems(input.password, input.confirmation, account, context.config, t)
  if (!input.current) fields.current = t('form.required')
  else if (!withHash.passwordHash || !(await verifyPassword(withHash.passwordHash, input.current))) {
    fields.current = t('changePassword.wrongCurrent')
  }
  const errors = refusals(fields)
  if (errors) return errors
  const passwordHash = await hashPassword(input.password)
  // the new password, the closing of the other sessions and the notice mail commit together
  await em.transactional(async (tx) => {
    await tx.nativeUpdate(Account, { id: account.id }, { passwordHash })
    await closeAccountSessions(tx, account.id, sessionId)
    queueMail(tx, context.config, context.locale, {
      to: account.email,
      template: 'password-changed',
      data: {
        displayName: account.displayName,
        identifiant: account.identifiant,
        changedAt: until(new Date(), context.config, context.locale),
      },
    })
  })
  return undefined
}

export interface Invitation {
  identifiant: string
  email: string
  displayName: string
  role: Role
}

/** Marks every unused link of the account (invitation or reset) as used: none of them opens it any more. */
export async function spendLinks(em: Em, accountId: number): Promise<void> {
  await em.nativeUpdate(PasswordToken, { account: accountId, usedAt: null }, { usedAt: new Date() })
}

/**
 * Creates an account without a password and mails its owner the identifiant and a link, valid
 * 7 days, to choose one: the first connection. Refusals are worded by `t` (the mail's language
 * by default), keyed `identifiant`, `email` and `displayName`.
 */
export async function invite(
  em: Em,
  context: MailContext,
  invitation: Invitation,
  t: Translate = translator(context.locale),
): Promise<Checked<Account | undefined>> {
  const identifiant = normalizeIdentifiant(invitation.identifiant)
  const email = invitation.email.trim()
  const displayName = invitation.displayName.trim()
  const fields: FieldErrors = {}
  const identifiantError = await identifiantProblem(em, identifiant, t)
  if (identifiantError) fields.identifiant = identifiantError
  if (!email) fields.email = t('form.required')
  else if (!emailPattern.test(email) || email.length > 254) fields.email = t('lost.emailInvalid')
  if (!displayName) fields.displayName = t('form.required')
  const errors = refusals(fields)
  if (errors) return { values: undefined, errors }
  const account = em.create(Account, {
    identifiant,
    role: invitation.role,
    email,
    displayName,
    passwordHash: null,
  })
  mailLink(em, context, account, TokenPurpose.invitation, invitationLifetimeMs)
  await em.flush()
  return { values: account, errors: undefined }
}

/** `text` for ILIKE, matching it whole: its wildcards taken literally. */
const exactly = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`)

/**
 * "Identifiant oublié": one mail to the address listing every identifiant of an enabled account
 * whose e-mail it is (compared without case), each with its sign-in page, queued in the same
 * transaction as the lookup. Nothing is mailed for an unknown address, and the caller answers the
 * same thing either way.
 */
export async function remindIdentifiants(em: Em, context: MailContext, email: string): Promise<void> {
  await em.transactional(async (tx) => {
    const accounts = await tx.find(
      Account,
      { email: { $ilike: exactly(email.trim()) }, disabled: false },
      { orderBy: { identifiant: 'asc' } },
    )
    if (accounts.length === 0) return
    queueMail(tx, context.config, context.locale, {
      to: accounts[0]!.email,
      template: 'identifiants',
      data: {
        // accounts sharing an address are most often one person's (a parent who also teaches)
        displayName: accounts[0]!.displayName,
        accounts: accounts.map((a) => ({
          identifiant: a.identifiant,
          displayName: a.displayName,
          link: `${context.baseUrl}${signInPaths[a.role]}`,
        })),
        lostLink: `${context.baseUrl}/mot-de-passe-perdu`,
      },
    })
  })
}
