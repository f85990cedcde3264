import { defineEntity, type InferEntity, p } from '@mikro-orm/core'
import { TenantEntity } from '../db/base-entity.ts'

export const Role = {
  family: 'family',
  teacher: 'teacher',
  /** The secretariat: records, queues, decisions. */
  secretariat: 'secretariat',
  /** The direction: reads everything, decides. */
  direction: 'direction',
  /** Everything, including the configuration and the accounts. */
  admin: 'admin',
} as const
export type Role = (typeof Role)[keyof typeof Role]

/**
 * A person who signs in to one conservatoire. The identifiant is given by the conservatoire; the
 * guardian or teacher an account belongs to points at it from their own table.
 */
export const Account = defineEntity({
  name: 'Account',
  schema: '*',
  extends: TenantEntity,
  properties: {
    /** Stored lowercased: "Demo-Famille" and "demo-famille" are the same person. */
    identifiant: p.string().length(100).unique(),
    role: p.enum(Object.values(Role)),
    email: p.string().length(254),
    displayName: p.string(),
    /** argon2id, PHC string; null until the invitation is accepted. */
    passwordHash: p.string().nullable().hidden().lazy(),
    disabled: p.boolean().default(false),
    lastSignInAt: p.datetime().nullable(),
  },
})
export type Account = InferEntity<typeof Account>

/** A server-side session: the cookie holds a random id, the table only its SHA-256. */
export const Session = defineEntity({
  name: 'Session',
  schema: '*',
  tableName: 'session',
  indexes: [{ properties: 'account' }],
  properties: {
    idHash: p.string().length(64).primary(),
    account: () => p.manyToOne(Account).deleteRule('cascade'),
    createdAt: p.datetime().onCreate(() => new Date()),
    lastSeenAt: p.datetime(),
    expiresAt: p.datetime(),
    userAgent: p.string().length(300).nullable(),
    /** The site chosen in the sign-in form's Site field (tenants with several establishments). */
    establishment: p.string().length(40).nullable(),
  },
})
export type Session = InferEntity<typeof Session>

export const TokenPurpose = { reset: 'reset', invitation: 'invitation' } as const

/** A single-use link sent by mail (password reset, invitation); only the token's SHA-256 is kept. */
export const PasswordToken = defineEntity({
  name: 'PasswordToken',
  schema: '*',
  extends: TenantEntity,
  indexes: [{ properties: 'account' }],
  properties: {
    tokenHash: p.string().length(64).unique(),
    account: () => p.manyToOne(Account).deleteRule('cascade'),
    purpose: p.enum(Object.values(TokenPurpose)),
    expiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
  },
})
export type PasswordToken = InferEntity<typeof PasswordToken>
