import t from 'tap'
import { stringify } from 'yaml'
import { accountList } from '../../../src/features/accounts/staff-service.ts'
import { AuditEvent } from '../../../src/platform/audit/entities.ts'
import { Account } from '../../../src/platform/auth/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { parseTenantConfig } from '../../../src/platform/tenancy/tenant-config.ts'
import { Browser, createAccount, goodPassword } from '../../helpers/accounts.ts'
import { build, html, tenantYaml, uniqueSlug } from '../../helpers/build.ts'
import { authorize, startProvider } from '../../helpers/oidc.ts'

const redirectUri = (slug: string) => `http://${slug}.localhost/admin/connexion/oidc/retour`

t.test('staff sign in through the conservatoire’s identity provider', async (t) => {
  // A: invited staff only; B: provider only, accounts created at first sign-in; C: roles from groups;
  // D: a provider that does not answer
  const [a, b, c, d] = [uniqueSlug('oa'), uniqueSlug('ob'), uniqueSlug('oc'), uniqueSlug('od')]
  process.env.TUTTI_TEST_OIDC_A = 'secret-of-a'
  process.env.TUTTI_TEST_OIDC_B = 'secret-of-b'
  process.env.TUTTI_TEST_OIDC_C = 'secret-of-c'
  const provider = await startProvider(t, {
    clients: [
      { clientId: 'tutti-a', secret: 'secret-of-a', redirectUri: redirectUri(a) },
      { clientId: 'tutti-b', secret: 'secret-of-b', redirectUri: redirectUri(b) },
      { clientId: 'tutti-c', secret: 'secret-of-c', redirectUri: redirectUri(c) },
    ],
    idTokenSeconds: 60,
  })
  const oidc = (client: string, more: Record<string, unknown> = {}) => ({
    label: 'Ville de Test',
    issuer: provider.issuer,
    clientId: `tutti-${client}`,
    clientSecretEnv: `TUTTI_TEST_OIDC_${client.toUpperCase()}`,
    ...more,
  })
  const { app, tenants, host } = await build(t, {
    tenants: [
      { slug: a, staffSignIn: { oidc: oidc('a') } },
      {
        slug: b,
        staffSignIn: {
          password: false,
          oidc: oidc('b', { provisioning: { enabled: true, defaultRole: 'secretariat' } }),
        },
      },
      {
        slug: c,
        staffSignIn: {
          oidc: oidc('c', {
            scopes: ['openid', 'email', 'profile', 'groups'],
            groupsClaim: 'groups',
            roles: [
              { group: 'conservatoire-secretariat', role: 'secretariat' },
              { group: 'conservatoire-direction', role: 'direction' },
            ],
          }),
        },
      },
      { slug: d, staffSignIn: { oidc: { label: 'Absent', issuer: 'http://127.0.0.1:9', clientId: 'x' } } },
    ],
  })
  const [hostA, hostB, hostC, hostD] = [host(0), host(1), host(2), host(3)]
  const em = (slug: string) => app.orm.em.fork({ schema: schemaFor(slug) })

  await createAccount(app, a, {
    identifiant: 'claire',
    role: 'secretariat',
    email: 'Claire.Martin@ville-test.fr',
    displayName: 'Claire Martin',
  })
  await createAccount(app, a, { identifiant: 'ancien', role: 'admin', email: 'ancien@ville-test.fr' })
  await em(a).nativeUpdate(Account, { identifiant: 'ancien' }, { disabled: true })
  await createAccount(app, a, { identifiant: 'famille', role: 'family', email: 'parent@ville-test.fr' })
  await createAccount(app, c, { identifiant: 'paul', role: 'secretariat', email: 'paul@ville-test.fr' })

  /** A browser going through the provider: the start, the provider's pages, then the return. */
  const signInThroughProvider = async (browser: Browser, start = '/admin/connexion/oidc') => {
    const started = await browser.get(start)
    if (started.statusCode !== 303) throw new Error(`start: ${started.statusCode}`)
    const back = await authorize(started.headers.location as string)
    const returned = await browser.get(`${back.pathname}${back.search}`)
    return { started, back, returned }
  }
  const problemOf = async (browser: Browser, location: string | undefined) =>
    html((await browser.get(location ?? '')).body).querySelector('[role="alert"]')?.text
  const failed = "La connexion avec Ville de Test n'a pas abouti. Veuillez réessayer."
  const refused =
    'Votre identité a été vérifiée (Ville de Test), mais aucun compte actif du personnel de ce conservatoire n’y correspond. Demandez à un administrateur du conservatoire de vous inviter avec votre adresse e-mail professionnelle.'

  t.test('the staff page offers the provider beside the password form', async (t) => {
    const page = html((await new Browser(app, hostA).get('/admin/connexion?retour=/admin/familles')).body)
    const link = page.querySelector('main a.button')
    t.equal(link?.text, 'Se connecter avec Ville de Test')
    t.equal(link?.getAttribute('href'), '/admin/connexion/oidc?retour=%2Fadmin%2Ffamilles')
    t.ok(page.querySelector('form[action="/admin/connexion"] #password'), 'the password form stays')
    const family = html((await new Browser(app, hostA).get('/connexion')).body)
    t.notOk(family.querySelector('a[href^="/admin/connexion/oidc"]'), 'families are not offered it')
  })

  t.test('a staff member invited beforehand signs in with the provider', async (t) => {
    provider.signInAs({ email: 'claire.martin@ville-test.fr', email_verified: true, name: 'Claire Martin' })
    // started on another spelling of the tenant's host: first moved to the canonical one, where the
    // provider will send the browser back
    const elsewhere = await new Browser(app, `${a.toUpperCase()}.localhost:8080`).get(
      '/admin/connexion/oidc?retour=/admin/familles',
    )
    t.equal(elsewhere.statusCode, 303)
    t.equal(elsewhere.headers.location, `http://${a}.localhost/admin/connexion/oidc?retour=/admin/familles`)
    t.notOk(elsewhere.cookies.length, 'nothing set on that host')
    const browser = new Browser(app, hostA)
    const { started, back, returned } = await signInThroughProvider(
      browser,
      '/admin/connexion/oidc?retour=/admin/familles',
    )
    const asked = new URL(started.headers.location as string)
    t.equal(asked.origin, provider.issuer)
    t.equal(asked.searchParams.get('redirect_uri'), redirectUri(a))
    t.equal(asked.searchParams.get('code_challenge_method'), 'S256')
    t.equal(asked.searchParams.get('scope'), 'openid email profile')
    t.ok(asked.searchParams.get('state') && asked.searchParams.get('nonce'), 'a state and a nonce')
    const pending = started.cookies.find((cookie) => cookie.name === 'tutti_oidc') as Record<string, unknown>
    t.match(pending, { httpOnly: true, sameSite: 'Lax', path: '/', maxAge: 600 })
    t.equal(pending.domain, undefined, 'host-only')
    t.equal(`${back.origin}${back.pathname}`, redirectUri(a))
    t.equal(returned.statusCode, 303)
    t.equal(returned.headers.location, '/admin/familles')
    t.notOk(browser.cookies.has('tutti_oidc'), 'the pending sign-in is spent')
    const dashboard = await browser.get('/admin')
    t.equal(dashboard.statusCode, 200, 'the session opens the staff pages')
    t.ok(html(dashboard.body).querySelector('form[action="/deconnexion"]'))
    const account = await em(a).findOneOrFail(Account, { identifiant: 'claire' })
    t.ok(account.lastSignInAt, 'the sign-in is recorded as a password sign-in is')
    t.equal(account.role, 'secretariat')
  })

  t.test('a return address outside the portal is not followed', async (t) => {
    provider.signInAs({ email: 'claire.martin@ville-test.fr', email_verified: true })
    const { returned } = await signInThroughProvider(
      new Browser(app, hostA),
      '/admin/connexion/oidc?retour=//ailleurs.example/piege',
    )
    t.equal(returned.headers.location, '/admin')
  })

  t.test('a return whose state is not the one sent is refused', async (t) => {
    provider.signInAs({ email: 'claire.martin@ville-test.fr', email_verified: true })
    const browser = new Browser(app, hostA)
    const started = await browser.get('/admin/connexion/oidc')
    const back = await authorize(started.headers.location as string)
    back.searchParams.set('state', 'un-autre-etat')
    const returned = await browser.get(`${back.pathname}${back.search}`)
    t.equal(returned.statusCode, 303)
    t.equal(returned.headers.location, '/admin/connexion?oidc=echec')
    t.notOk(
      returned.cookies.some((cookie) => cookie.name === 'tutti_session'),
      'no session',
    )
    t.equal(await problemOf(browser, returned.headers.location), failed)
    t.equal((await browser.get('/admin')).statusCode, 303, 'still a visitor')
  })

  t.test('a code used once cannot be used again, even with its pending sign-in', async (t) => {
    provider.signInAs({ email: 'claire.martin@ville-test.fr', email_verified: true })
    const browser = new Browser(app, hostA)
    const started = await browser.get('/admin/connexion/oidc')
    const pendingCookie = browser.cookies.get('tutti_oidc')!
    const back = await authorize(started.headers.location as string)
    const first = await browser.get(`${back.pathname}${back.search}`)
    t.equal(first.headers.location, '/admin')
    const thief = new Browser(app, hostA)
    thief.cookies.set('tutti_oidc', pendingCookie)
    const replayed = await thief.get(`${back.pathname}${back.search}`)
    t.equal(replayed.headers.location, '/admin/connexion?oidc=echec')
    t.notOk(replayed.cookies.some((cookie) => cookie.name === 'tutti_session'))
    const again = await browser.get(`${back.pathname}${back.search}`)
    t.equal(again.headers.location, '/admin/connexion?oidc=echec', 'nor by the same browser')
  })

  t.test('an expired ID token is refused', async (t) => {
    provider.signInAs({ email: 'claire.martin@ville-test.fr', email_verified: true })
    // the provider's clock two minutes behind: its 60-second ID token has expired when it arrives
    provider.lagSeconds = 120
    t.teardown(() => {
      provider.lagSeconds = 0
    })
    const browser = new Browser(app, hostA)
    const { returned } = await signInThroughProvider(browser)
    t.equal(returned.headers.location, '/admin/connexion?oidc=echec')
    t.notOk(returned.cookies.some((cookie) => cookie.name === 'tutti_session'))
  })

  t.test('who has no active staff account here is refused, all alike', async (t) => {
    const answers: (string | undefined)[] = []
    for (const identity of [
      { email: 'inconnu@ville-test.fr', email_verified: true },
      { email: 'ancien@ville-test.fr', email_verified: true },
      { email: 'parent@ville-test.fr', email_verified: true },
      { email: 'claire.martin@ville-test.fr', email_verified: false },
      { email_verified: true },
    ]) {
      provider.signInAs(identity)
      const browser = new Browser(app, hostA)
      const { returned } = await signInThroughProvider(browser)
      t.equal(returned.headers.location, '/admin/connexion?oidc=refuse', identity.email ?? 'no e-mail')
      t.notOk(returned.cookies.some((cookie) => cookie.name === 'tutti_session'))
      answers.push(await problemOf(browser, returned.headers.location))
    }
    t.same(new Set(answers), new Set([refused]), 'unknown, disabled, a family’s, unverified: one answer')
    t.equal(await em(a).count(Account, { email: 'inconnu@ville-test.fr' }), 0, 'nothing created')
    t.equal((await em(a).findOneOrFail(Account, { identifiant: 'ancien' })).disabled, true)
  })

  t.test('with provisioning on, an unknown person gets a staff account of the default role', async (t) => {
    provider.signInAs({
      email: 'Nina.Roux@ville-test.fr',
      email_verified: true,
      given_name: 'Nina',
      family_name: 'Roux',
    })
    const browser = new Browser(app, hostB)
    const { returned } = await signInThroughProvider(browser)
    t.equal(returned.headers.location, '/admin')
    t.equal((await browser.get('/admin')).statusCode, 200)
    const account = await em(b).findOneOrFail(Account, { email: 'nina.roux@ville-test.fr' })
    t.match(account, {
      identifiant: 'nina.roux',
      role: 'secretariat',
      displayName: 'Nina Roux',
      disabled: false,
    })
    const events = await em(b).find(AuditEvent, { action: 'account.provisioned' })
    t.equal(events.length, 1)
    t.match(events[0], { subjectId: account.id, details: { role: 'secretariat', issuer: provider.issuer } })

    // the second time, the same account
    const again = await signInThroughProvider(new Browser(app, hostB))
    t.equal(again.returned.headers.location, '/admin')
    t.equal(await em(b).count(Account, { email: 'nina.roux@ville-test.fr' }), 1)

    // no password, yet active: Comptes does not call it an expired invitation
    const listed = await accountList(em(b), { role: null, state: 'active', query: 'nina' }, 1)
    t.same(
      listed.rows.map((r) => r.identifiant),
      ['nina.roux'],
    )

    // a disabled account is not made again
    await em(b).nativeUpdate(Account, { id: account.id }, { disabled: true })
    const disabled = await signInThroughProvider(new Browser(app, hostB))
    t.equal(disabled.returned.headers.location, '/admin/connexion?oidc=refuse')
    t.equal(await em(b).count(Account, { email: 'nina.roux@ville-test.fr' }), 1)
  })

  t.test('roles mapped from groups: the provider decides at each sign-in', async (t) => {
    provider.signInAs({
      email: 'paul@ville-test.fr',
      email_verified: true,
      groups: ['conservatoire-direction'],
    })
    const browser = new Browser(app, hostC)
    const { started, returned } = await signInThroughProvider(browser)
    t.equal(
      new URL(started.headers.location as string).searchParams.get('scope'),
      'openid email profile groups',
    )
    t.equal(returned.headers.location, '/admin')
    const paul = await em(c).findOneOrFail(Account, { identifiant: 'paul' })
    t.equal(paul.role, 'direction')
    const [changed] = await em(c).find(AuditEvent, { action: 'account.roleChanged' })
    t.match(changed?.details, { from: 'secretariat', to: 'direction', by: 'oidc' })

    provider.signInAs({ email: 'paul@ville-test.fr', email_verified: true, groups: ['autre-service'] })
    const none = await signInThroughProvider(new Browser(app, hostC))
    t.equal(none.returned.headers.location, '/admin/connexion?oidc=refuse', 'no mapped group: refused')
  })

  t.test('another conservatoire’s sign-in or code is refused', async (t) => {
    provider.signInAs({ email: 'claire.martin@ville-test.fr', email_verified: true })
    // A's pending sign-in and A's code, brought to B's host
    const atA = new Browser(app, hostA)
    const started = await atA.get('/admin/connexion/oidc')
    const back = await authorize(started.headers.location as string)
    const atB = new Browser(app, hostB)
    atB.cookies.set('tutti_oidc', atA.cookies.get('tutti_oidc')!)
    const crossed = await atB.get(`${back.pathname}${back.search}`)
    t.equal(crossed.headers.location, '/admin/connexion?oidc=echec')
    t.notOk(crossed.cookies.some((cookie) => cookie.name === 'tutti_session'))

    // A's code slipped into a sign-in started at B: B's client cannot spend it
    provider.signInAs({ email: 'nina.roux@ville-test.fr', email_verified: true })
    const atB2 = new Browser(app, hostB)
    const startedB = await atB2.get('/admin/connexion/oidc')
    const stateB = new URL(startedB.headers.location as string).searchParams.get('state')!
    const startedA = await new Browser(app, hostA).get('/admin/connexion/oidc')
    const codeOfA = await authorize(startedA.headers.location as string)
    codeOfA.searchParams.set('state', stateB)
    const slipped = await atB2.get(`${codeOfA.pathname}${codeOfA.search}`)
    t.equal(slipped.headers.location, '/admin/connexion?oidc=echec')
    t.notOk(slipped.cookies.some((cookie) => cookie.name === 'tutti_session'))
  })

  t.test('with the password switched off, staff see the provider only; families keep theirs', async (t) => {
    const page = html((await new Browser(app, hostB).get('/admin/connexion')).body)
    t.notOk(page.querySelector('#password'), 'no password form')
    t.equal(page.querySelector('main a.button')?.text, 'Se connecter avec Ville de Test')
    t.match(page.querySelector('main')?.text, /Le personnel se connecte avec son compte Ville de Test\./)
    await createAccount(app, b, { identifiant: 'secretaire', role: 'secretariat' })
    const browser = new Browser(app, hostB)
    const token = html((await browser.get('/connexion')).body)
      .querySelector('input[name="_csrf"]')
      ?.getAttribute('value') as string
    const refusedPost = await browser.post('/admin/connexion', {
      _csrf: token,
      identifiant: 'secretaire',
      password: goodPassword,
    })
    t.equal(refusedPost.statusCode, 403)
    t.notOk(refusedPost.cookies.some((cookie) => cookie.name === 'tutti_session'))
    t.equal(
      html(refusedPost.body).querySelector('[role="alert"]')?.text,
      'La connexion par mot de passe n’est pas ouverte au personnel de ce conservatoire.',
    )
    await createAccount(app, b, { identifiant: 'famille-b', role: 'family' })
    const family = await browser.submit('/connexion', '/connexion', {
      identifiant: 'famille-b',
      password: goodPassword,
    })
    t.equal(family.statusCode, 303)
    t.equal(family.headers.location, '/accueil')
  })

  t.test('a provider that does not answer: a message, never an error page', async (t) => {
    const browser = new Browser(app, hostD)
    const started = await browser.get('/admin/connexion/oidc')
    t.equal(started.statusCode, 303)
    t.equal(started.headers.location, '/admin/connexion?oidc=indisponible')
    t.equal(
      await problemOf(browser, started.headers.location),
      'La connexion avec Absent est momentanément indisponible. Veuillez réessayer plus tard.',
    )
    const stray = await browser.get('/admin/connexion/oidc/retour?code=x&state=y')
    t.equal(stray.headers.location, '/admin/connexion?oidc=echec', 'a return nobody started')
  })

  t.test('the configuration is read at each request: a new provider is discovered anew', async (t) => {
    const tenant = app.registry.get(d)!
    const before = tenant.config
    t.teardown(() => {
      tenant.config = before
    })
    tenant.config = { ...before, staffSignIn: { password: true } }
    t.equal((await new Browser(app, hostD).get('/admin/connexion/oidc')).statusCode, 404)
    t.notOk(html((await new Browser(app, hostD).get('/admin/connexion')).body).querySelector('main a.button'))
    // D now uses A's client: the registered redirect URI is A's, so the provider refuses D's
    tenant.config = { ...before, staffSignIn: { password: true, oidc: tenants[0]!.staffSignIn.oidc } }
    const started = await new Browser(app, hostD).get('/admin/connexion/oidc')
    t.equal(new URL(started.headers.location as string).origin, provider.issuer)
    await t.rejects(authorize(started.headers.location as string), /answered 400/)
  })

  t.test('the routes exist on a conservatoire’s host only', async (t) => {
    for (const url of ['/admin/connexion/oidc', '/admin/connexion/oidc/retour']) {
      const res = await app.inject({ url, headers: { host: 'localhost' } })
      t.equal(res.statusCode, 404, url)
    }
  })
})

t.test('the staffSignIn rules of the tenant file', async (t) => {
  const problems = (staffSignIn: unknown) =>
    parseTenantConfig('exemple.yaml', stringify(tenantYaml('exemple', { staffSignIn }))).problems.map(
      (p) => `${p.path}: ${p.message}`,
    )
  const oidc = { label: 'Ville', issuer: 'https://login.example.fr', clientId: 'tutti' }
  t.same(problems({ oidc }), [])
  t.match(problems({ password: false }), [/staffSignIn\.password: false needs staffSignIn\.oidc/])
  t.match(problems({ oidc: { ...oidc, provisioning: { enabled: true } } }), [
    /staffSignIn\.oidc\.provisioning\.defaultRole: is required when provisioning is enabled/,
  ])
  t.match(problems({ oidc: { ...oidc, roles: [{ group: 'g', role: 'admin' }] } }), [
    /staffSignIn\.oidc\.roles: needs groupsClaim/,
  ])
  t.match(problems({ oidc: { ...oidc, provisioning: { enabled: true, defaultRole: 'family' } } }), [
    /defaultRole/,
  ])
  t.match(problems({ oidc: { ...oidc, scopes: ['email'] } }), [/scopes/])
  t.match(problems({ oidc: { ...oidc, clientSecretEnv: 'le secret lui-même' } }), [/clientSecretEnv/])
})
