import t from 'tap'
import { Browser, createAccount, goodPassword } from '../../helpers/accounts.ts'
import { build } from '../../helpers/build.ts'

// each sign-in checks a password with argon2: the counts are the limits' own, no more
t.test('a stranger failing on an identifiant cannot keep its owner out', async (t) => {
  const { app, host, tenants } = await build(t)
  await createAccount(app, tenants[0]!.slug, { identifiant: 'famille-cible' })
  const stranger = new Browser(app, host(), '203.0.113.9')
  let last = await stranger.submit('/connexion', '/connexion', {
    identifiant: 'famille-cible',
    password: 'x',
  })
  for (let i = 0; i < 10; i++) {
    last = await stranger.submit('/connexion', '/connexion', { identifiant: 'famille-cible', password: 'x' })
  }
  t.equal(last.statusCode, 429, 'the stranger is held back')
  const owner = new Browser(app, host(), '198.51.100.7')
  const res = await owner.submit('/connexion', '/connexion', {
    identifiant: 'famille-cible',
    password: goodPassword,
  })
  t.equal(res.statusCode, 303, 'the owner, from their own address, signs in with the right password')
  t.equal(res.headers.location, '/accueil')
})

t.test('only failures count: signing in again and again is never refused', async (t) => {
  const { app, host, tenants } = await build(t)
  await createAccount(app, tenants[0]!.slug, { identifiant: 'famille-assidue' })
  for (let i = 0; i < 11; i++) {
    const browser = new Browser(app, host())
    const res = await browser.submit('/connexion', '/connexion', {
      identifiant: 'famille-assidue',
      password: goodPassword,
    })
    t.equal(res.statusCode, 303, `sign-in ${i + 1}`)
  }
})

t.test("a failure after the owner's mistakes starts afresh once the owner signs in", async (t) => {
  const { app, host, tenants } = await build(t)
  await createAccount(app, tenants[0]!.slug, { identifiant: 'famille-distraite' })
  const browser = new Browser(app, host())
  for (let i = 0; i < 9; i++) {
    const res = await browser.submit('/connexion', '/connexion', {
      identifiant: 'famille-distraite',
      password: 'x',
    })
    t.equal(res.statusCode, 401)
  }
  const ok = await browser.submit('/connexion', '/connexion', {
    identifiant: 'famille-distraite',
    password: goodPassword,
  })
  t.equal(ok.statusCode, 303)
  const again = new Browser(app, host())
  for (let i = 0; i < 9; i++) {
    const res = await again.submit('/connexion', '/connexion', {
      identifiant: 'famille-distraite',
      password: 'x',
    })
    t.equal(res.statusCode, 401, 'the earlier failures were forgotten at the successful sign-in')
  }
})

t.test("one conservatoire's limits never block an address on another", async (t) => {
  const { app, host, tenants } = await build(t, { tenants: [{}, {}] })
  await createAccount(app, tenants[1]!.slug, { identifiant: 'famille-voisine' })
  const there = new Browser(app, host(0), '192.0.2.44')
  let last = await there.submit('/connexion', '/connexion', { identifiant: 'a0', password: 'x' })
  for (let i = 1; i < 31 && last.statusCode !== 429; i++) {
    last = await there.submit('/connexion', '/connexion', { identifiant: `a${i}`, password: 'x' })
  }
  t.equal(last.statusCode, 429, 'the address is held back on the first conservatoire')
  const here = new Browser(app, host(1), '192.0.2.44')
  const wrong = await here.submit('/connexion', '/connexion', {
    identifiant: 'famille-voisine',
    password: 'x',
  })
  t.equal(wrong.statusCode, 401, 'not on the second')
  const right = await here.submit('/connexion', '/connexion', {
    identifiant: 'famille-voisine',
    password: goodPassword,
  })
  t.equal(right.statusCode, 303)
  const lostThere = new Browser(app, host(0), '192.0.2.45')
  for (let i = 0; i < 10; i++) {
    await lostThere.submit('/mot-de-passe-perdu', '/mot-de-passe-perdu', {
      identifiant: `b${i}`,
      email: 'x@example.fr',
    })
  }
  const lostTooMany = await lostThere.submit('/mot-de-passe-perdu', '/mot-de-passe-perdu', {
    identifiant: 'b10',
    email: 'x@example.fr',
  })
  t.equal(lostTooMany.statusCode, 429)
  const lostHere = await new Browser(app, host(1), '192.0.2.45').submit(
    '/mot-de-passe-perdu',
    '/mot-de-passe-perdu',
    {
      identifiant: 'famille-voisine',
      email: 'x@example.fr',
    },
  )
  t.equal(lostHere.statusCode, 200, '"Mot de passe perdu" counts per conservatoire too')
})
