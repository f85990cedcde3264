import { Guardian } from '../features/family/entities.ts'
import { Teacher } from '../features/teaching/entities.ts'
import { Account, type Role } from '../platform/auth/entities.ts'
import { hashPassword } from '../platform/auth/passwords.ts'
import type { Orm } from '../platform/db/orm.ts'
import { schemaFor } from '../platform/tenancy/registry.ts'
import type { TenantConfig } from '../platform/tenancy/tenant-config.ts'

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
    await em.flush()
  }
}
