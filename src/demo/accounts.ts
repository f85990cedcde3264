import { freeIdentifiant } from '../features/accounts/service.ts'
import { Guardian } from '../features/family/entities.ts'
import { Teacher } from '../features/teaching/entities.ts'
import { Account, PasswordToken, type Role, TokenPurpose } from '../platform/auth/entities.ts'
import { hashPassword } from '../platform/auth/passwords.ts'
import { randomToken, sha256 } from '../platform/auth/sessions.ts'
import type { Em, Orm } from '../platform/db/orm.ts'
import { schemaFor } from '../platform/tenancy/registry.ts'
import type { TenantConfig } from '../platform/tenancy/tenant-config.ts'
import { seedDemoJournal } from './journal.ts'
import { firstNames, surnames } from './people.ts'
import { random } from './random.ts'

/** The same on every demo tenant, so anyone can try them; it satisfies every demo tenant's policy. */
export const demoPassword = 'Conservatoire-2025'

export const demoAccounts: { identifiant: string; role: Role; what: string }[] = [
  { identifiant: 'demo-famille', role: 'family', what: 'a family with two pupils' },
  { identifiant: 'demo-prof', role: 'teacher', what: 'a teacher' },
  { identifiant: 'demo-admin', role: 'admin', what: 'the conservatoire’s administrator' },
  { identifiant: 'demo-secretariat', role: 'secretariat', what: 'the secretariat' },
  { identifiant: 'demo-direction', role: 'direction', what: 'the direction' },
]

const staffNames: Partial<Record<Role, string>> = {
  admin: 'Administration',
  secretariat: 'Secrétariat',
  direction: 'Direction',
}

/**
 * Gives each demo tenant its demo accounts (idempotent): demo-famille is the first guardian of
 * the first demo family, demo-prof the first teacher.
 */
export async function seedDemoAccounts(orm: Orm, configs: TenantConfig[]): Promise<void> {
  const passwordHash = await hashPassword(demoPassword)
  for (const config of configs) {
    const em = orm.em.fork({ schema: schemaFor(config.slug) })
    const existing = new Set(
      (await em.find(Account, {}, { fields: ['identifiant'] })).map((a) => a.identifiant),
    )
    const guardian = await em.findOne(Guardian, { rank: 1 }, { orderBy: { family: { id: 'asc' } } })
    const [teacher] = await em.find(Teacher, {}, { orderBy: { id: 'asc' }, limit: 1 })
    for (const demo of demoAccounts) {
      if (existing.has(demo.identifiant)) continue
      const person = demo.role === 'family' ? guardian : demo.role === 'teacher' ? teacher : null
      const account = em.create(Account, {
        identifiant: demo.identifiant,
        role: demo.role,
        email: person?.email ?? `${demo.identifiant}@example.fr`,
        displayName: person
          ? `${person.firstName} ${person.lastName}`
          : `${staffNames[demo.role]} — ${config.shortName ?? config.name}`,
        passwordHash,
      })
      if (person) person.account = account
    }
    // written first: the reads below would otherwise reload demo-prof's teacher without its account
    await em.flush()
    await seedAccountStates(em, config, passwordHash)
    await em.flush()
    await seedDemoJournal(em, config)
  }
}

const day = 86_400_000

/** An invitation link nobody holds (its token is thrown away), sent `sentDaysAgo` and valid 7 days. */
function invitation(em: Em, account: Account, sentDaysAgo: number) {
  const createdAt = new Date(Date.now() - sentDaysAgo * day)
  account.createdAt = createdAt
  em.create(PasswordToken, {
    tokenHash: sha256(randomToken()),
    account,
    purpose: TokenPurpose.invitation,
    createdAt,
    expiresAt: new Date(createdAt.getTime() + 7 * day),
  })
}

/**
 * Accounts in every state for the admins' Comptes (idempotent): the second teacher invited two days
 * ago and not yet activated, the second family's first guardian whose invitation expired unused,
 * and the account of a secretariat member who left, disabled.
 */
async function seedAccountStates(em: Em, config: TenantConfig, passwordHash: string): Promise<void> {
  const [, teacher] = await em.find(Teacher, {}, { orderBy: { id: 'asc' }, limit: 2 })
  if (teacher && !teacher.account) {
    const account = em.create(Account, {
      identifiant: await freeIdentifiant(em, teacher),
      role: 'teacher',
      email: teacher.email ?? 'enseignant@example.fr',
      displayName: `${teacher.firstName} ${teacher.lastName}`,
      passwordHash: null,
    })
    teacher.account = account
    invitation(em, account, 2)
  }
  const [, guardian] = await em.find(Guardian, { rank: 1 }, { orderBy: { family: { id: 'asc' } }, limit: 2 })
  if (guardian && !guardian.account) {
    const account = em.create(Account, {
      identifiant: await freeIdentifiant(em, guardian),
      role: 'family',
      email: guardian.email ?? 'famille@example.fr',
      displayName: `${guardian.firstName} ${guardian.lastName}`,
      passwordHash: null,
    })
    guardian.account = account
    invitation(em, account, 12)
  }
  if (!(await em.count(Account, { role: 'secretariat', disabled: true }))) {
    const rng = random(`${config.slug}/accounts`)
    const person = { firstName: rng.pick(firstNames.adult.Madame), lastName: rng.pick(surnames) }
    const identifiant = await freeIdentifiant(em, person)
    em.create(Account, {
      identifiant,
      role: 'secretariat',
      email: `${identifiant}@example.fr`,
      displayName: `${person.firstName} ${person.lastName}`,
      passwordHash,
      disabled: true,
      lastSignInAt: new Date(Date.now() - 200 * day),
    })
  }
}
