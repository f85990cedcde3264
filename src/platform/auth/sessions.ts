import { createHash, randomBytes } from 'node:crypto'
import type { InferKyselyDB } from '@mikro-orm/sql'
import type { Kysely } from 'kysely'
import type { Em } from '../db/orm.ts'
import { prepare, type ReadDb, type Reader } from '../db/reads.ts'
import type { TenantConfig } from '../tenancy/tenant-config.ts'
import type { Actor } from './context.ts'
import { type Account, Session } from './entities.ts'

export const sessionDefaults = { idleMinutes: 60, absoluteHours: 12 } as const

/** How often a session's last activity is written back: not on every request. */
const touchEveryMs = 60_000

type AuthDb = ReadDb<InferKyselyDB<typeof Session | typeof Account>>

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

/** The account as a request carries it. */
export function actorOf(account: Account): Actor {
  const { id, role, identifiant, email, displayName } = account
  return { id, role, identifiant, email, displayName }
}

/**
 * Starts a session; returns the id for the cookie (only its hash is stored). `establishment` is the
 * site chosen in the sign-in form, kept for the session's pages.
 */
export async function openSession(
  em: Em,
  config: TenantConfig,
  account: Account,
  userAgent?: string,
  establishment?: string,
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
    establishment: establishment ?? null,
  })
  return id
}

// every request of a signed-in person starts with this one statement
const sessionRead = prepare((db: Kysely<AuthDb>, p: { idHash: string }) =>
  db
    .selectFrom('session as s')
    .innerJoin('account as a', 'a.id', 's.account_id')
    .select([
      's.last_seen_at as lastSeenAt',
      's.expires_at as expiresAt',
      's.establishment',
      'a.id',
      'a.role',
      'a.identifiant',
      'a.email',
      'a.display_name as displayName',
      'a.disabled',
    ])
    .where('s.id_hash', '=', p.idHash),
)

/** The account of a live session, or undefined when the id is unknown, idle too long or expired. */
export async function resumeSession(
  db: Reader,
  em: () => Em,
  config: TenantConfig,
  id: string,
): Promise<Actor | undefined> {
  const idHash = sha256(id)
  const found = await sessionRead.first(db, { idHash })
  if (!found) return undefined
  const now = Date.now()
  const lastSeen = Date.parse(found.lastSeenAt)
  const expired = Date.parse(found.expiresAt) <= now || lastSeen + lifetimes(config).idleMs <= now
  if (expired || found.disabled) {
    await em().nativeDelete(Session, { idHash })
    return undefined
  }
  if (now - lastSeen > touchEveryMs) {
    await em().nativeUpdate(Session, { idHash }, { lastSeenAt: new Date(now) })
  }
  const { id: accountId, role, identifiant, email, displayName, establishment } = found
  return { id: accountId, role, identifiant, email, displayName, establishment }
}

export async function closeSession(em: Em, id: string): Promise<void> {
  await em.nativeDelete(Session, { idHash: sha256(id) })
}

/** Signs the account out everywhere, except the session given (the one changing its password). */
export async function closeAccountSessions(em: Em, accountId: number, keepId?: string): Promise<void> {
  await em.nativeDelete(
    Session,
    keepId ? { account: accountId, idHash: { $ne: sha256(keepId) } } : { account: accountId },
  )
}
