import { hash } from '@node-rs/argon2'
import t from 'tap'
import { authenticate } from '../../src/features/accounts/service.ts'
import { Account } from '../../src/platform/auth/entities.ts'
import { checkPassword } from '../../src/platform/auth/password-policy.ts'
import { argon2Params, hashPassword, needsRehash, verifyPassword } from '../../src/platform/auth/passwords.ts'
import { schemaFor } from '../../src/platform/tenancy/registry.ts'
import { build } from '../helpers/build.ts'

t.test('hashes are argon2id at the documented parameters', async (t) => {
  const stored = await hashPassword('une phrase de passe solide')
  t.match(stored, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
  t.ok(await verifyPassword(stored, 'une phrase de passe solide'))
  t.notOk(await verifyPassword(stored, 'une autre phrase'))
  t.notOk(await verifyPassword('not a hash', 'x'), 'a broken hash never matches')
  t.notOk(needsRehash(stored))
  t.ok(needsRehash(await hash('x', { ...argon2Params, memoryCost: 4096 })))
})

t.test('a hash made with older parameters is upgraded at the next sign-in', async (t) => {
  const { app, tenants } = await build(t)
  const em = app.orm.em.fork({ schema: schemaFor(tenants[0]!.slug) })
  em.create(Account, {
    identifiant: 'ancien',
    role: 'family',
    email: 'ancien@example.fr',
    displayName: 'Ancien',
    passwordHash: await hash('une phrase de passe solide', { memoryCost: 4096, timeCost: 1, parallelism: 1 }),
  })
  await em.flush()
  t.ok(
    await authenticate(
      app.orm.em.fork({ schema: schemaFor(tenants[0]!.slug) }),
      'ancien',
      'une phrase de passe solide',
      ['family'],
    ),
  )
  const stored = await app.orm.em
    .fork({ schema: schemaFor(tenants[0]!.slug) })
    .findOneOrFail(Account, { identifiant: 'ancien' }, { populate: ['passwordHash'] })
  t.match(stored.passwordHash, /m=19456,t=2,p=1/)
})

t.test('the default policy: 12 to 128 characters, no composition rule', async (t) => {
  const policy = { rule: 'default', maxLength: 128 } as const
  t.same(checkPassword('tout en minuscules', 'x', policy), [])
  t.same(checkPassword('a'.repeat(11), 'x', policy), [{ rule: 'tooShort', min: 12 }])
  t.same(checkPassword('é'.repeat(128), 'x', policy), [], 'characters, not bytes')
  t.same(checkPassword('qwertyuiop123', 'x', policy), [{ rule: 'common' }])
})
