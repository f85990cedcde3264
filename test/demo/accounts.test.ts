import t from 'tap'
import { seedDemoAccounts } from '../../src/demo/accounts.ts'
import { seedDemo } from '../../src/demo/seed.ts'
import { Account, PasswordToken } from '../../src/platform/auth/entities.ts'
import { schemaFor } from '../../src/platform/tenancy/registry.ts'
import { build } from '../helpers/build.ts'
import { demoTenant } from '../helpers/reenrolment.ts'

t.test(
  'each demo tenant shows accounts in every state: invited, invitation expired, active, disabled',
  async (t) => {
    const { app, tenants } = await build(t, { tenants: [demoTenant('limonest')] })
    await seedDemo(app.orm, tenants)
    await seedDemoAccounts(app.orm, tenants)
    const em = app.orm.em.fork({ schema: schemaFor(tenants[0]!.slug) })
    const accounts = await em.find(Account, {}, { populate: ['passwordHash'] })
    const tokens = await em.find(PasswordToken, {})
    const live = (a: Account) =>
      tokens.some((k) => k.account.id === a.id && !k.usedAt && k.expiresAt > new Date())
    const states = accounts.map((a) =>
      a.disabled ? 'disabled' : a.passwordHash ? 'active' : live(a) ? 'invited' : 'expired',
    )
    t.same([...new Set(states)].sort(), ['active', 'disabled', 'expired', 'invited'])
    const invited = accounts.find((a) => !a.passwordHash && live(a))!
    t.equal(invited.role, 'teacher', 'the invited account is a teacher’s')
    t.match(invited.identifiant, /^[a-z-]+\.[a-z-]+$/, 'prenom.nom')

    await seedDemoAccounts(app.orm, tenants)
    t.equal(await em.fork().count(Account), accounts.length, 'seeding again adds nothing')
  },
)
