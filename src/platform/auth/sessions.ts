import { createHash, randomBytes } from 'node:crypto'
import type { Em } from '../db/orm.ts'
import { selectEntities, tableOf } from '../db/rows.ts'
import type { TenantConfig } from '../tenancy/tenant-config.ts'
import { Account, Session } from './entities.ts'

export const sessionDefaults = { idleMinutes: 60, absoluteHours: 12 } as const

/** How often a session's last activity is written back: not on every request. */
const touchEveryMs = 60_000

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex')
}

export function randomToken(): string {
  return randomBytes(32).toString('base64url')
}

function lifetimes(config: TenantConfig) {
  return {
    idleMs: (config.sessions?.idleMinutes ?? sessionDefaults.idleMinutes) * 60_000,
    absoluteMs: (config.sessions?.absoluteHours ?? sessionDefaults.absoluteHours) * 3_600_000,
  }
}

/** Starts a session; returns the id for the cookie (only its hash is stored). */
export async function openSession(
  em: Em,
  config: TenantConfig,
  account: Account,
  userAgent?: string,
): Promise<string> {
  const id = randomToken()
  const now = new Date()
  // one INSERT on its own: a flush would wrap it in begin and commit
  await em.insert(Session, {
    idHash: sha256(id),
    account,
    createdAt: now,
    lastSeenAt: now,
    expiresAt: new Date(now.getTime() + lifetimes(config).absoluteMs),
    userAgent: userAgent?.slice(0, 300) ?? null,
  })
  return id
}

/** The account of a live session, or undefined when the id is unknown, idle too long or expired. */
export async function resumeSession(em: Em, config: TenantConfig, id: string): Promise<Account | undefined> {
  // every request of a signed-in person comes through here: plain SQL, see db/rows.ts
  const [session] = await selectEntities(
    em,
    Session,
    's',
    `join ${tableOf(em, Account)} a on a.id = s.account_id where s.id_hash = $1`,
    [sha256(id)],
    [{ entity: Account, alias: 'a' }],
  )
  if (!session) return undefined
  const now = Date.now()
  const expired =
    session.expiresAt.getTime() <= now || session.lastSeenAt.getTime() + lifetimes(config).idleMs <= now
  if (expired || session.account.disabled) {
    await em.nativeDelete(Session, { idHash: session.idHash })
    return undefined
  }
  if (now - session.lastSeenAt.getTime() > touchEveryMs) {
    await em.nativeUpdate(Session, { idHash: session.idHash }, { lastSeenAt: new Date(now) })
  }
  return session.account
}

export async function closeSession(em: Em, id: string): Promise<void> {
  await em.nativeDelete(Session, { idHash: sha256(id) })
}

/** Signs the account out everywhere, except the session given (the one changing its password). */
export async function closeAccountSessions(em: Em, account: Account, keepId?: string): Promise<void> {
  await em.nativeDelete(Session, keepId ? { account, idHash: { $ne: sha256(keepId) } } : { account })
}
