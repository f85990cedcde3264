import t from 'tap'
import { Session } from '../../../src/platform/auth/entities.ts'
import { sha256 } from '../../../src/platform/auth/sessions.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser, createAccount, goodPassword } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'

t.test('signing in', async (t) => {
  const { app, tenants, host } = await build(t, { tenants: [{}, {}] })
  const slug = tenants[0]!.slug
  await createAccount(app, slug, { identifiant: 'famille-martin' })
  await createAccount(app, slug, { identifiant: 'prof-durand', role: 'teacher', displayName: 'Alex Durand' })
  await createAccount(app, slug, {
    identifiant: 'secretariat',
    role: 'secretariat',
    displayName: 'Secrétariat',
  })

  t.test('the page families know: Identifiant, Mot de passe, Se connecter, the two links', async (t) => {
    const page = html((await new Browser(app, host()).get('/connexion')).body)
    t.equal(page.querySelector('.eyebrow')?.text, 'Portail pour les usagers')
    t.equal(page.querySelector('h1')?.text, 'Connexion')
    t.match(page.querySelector('label[for="identifiant"]')?.text, /^Identifiant \(obligatoire\)$/)
    t.match(page.querySelector('label[for="password"]')?.text, /^Mot de passe/)
    t.equal(page.querySelector('button[type="submit"]')?.text, 'Se connecter')
    t.ok(page.querySelector('a[href="/mot-de-passe-perdu"]'))
    t.equal(page.querySelector('a[href="/accessibilite"]')?.text, 'Aide – Accessibilité')
    t.notOk(page.querySelector('#site'), 'one establishment: no Site field')
    const home = html((await new Browser(app, host()).get('/')).body)
    t.ok(home.querySelector('main a[href="/connexion"]'), 'the home links to the family access')
    t.ok(home.querySelector('main a[href="/enseignant/connexion"]'), 'and to the teacher access')
  })

  t.test(
    'a family signs in and lands on its home; the cookie is host-only, HttpOnly, SameSite=Lax',
    async (t) => {
      const browser = new Browser(app, host())
      const res = await browser.submit('/connexion', '/connexion', {
        identifiant: 'Famille-Martin',
        password: goodPassword,
      })
      t.equal(res.statusCode, 303)
      t.equal(res.headers.location, '/accueil')
      const cookie = res.cookies.find((c) => c.name === 'tutti_session') as Record<string, unknown>
      t.equal(cookie.httpOnly, true)
      t.equal(cookie.sameSite, 'Lax')
      t.equal(cookie.domain, undefined, 'no Domain attribute: host-only')
      t.equal(cookie.path, '/')
      const home = await browser.get('/accueil')
      t.equal(home.statusCode, 200)
      t.match(html(home.body).querySelector('h1')?.text, /^Bonjour /)
      t.ok(html(home.body).querySelector('form[action="/deconnexion"]'), 'Déconnexion is offered')
    },
  )

  t.test('a wrong password and an unknown identifiant get the same answer', async (t) => {
    const answers = []
    for (const identifiant of ['famille-martin', 'personne-inconnue', 'prof-durand']) {
      const res = await new Browser(app, host()).submit('/connexion', '/connexion', {
        identifiant,
        password: 'pas le bon mot de passe',
      })
      const page = html(res.body)
      answers.push({
        status: res.statusCode,
        alert: page.querySelector('[role="alert"]')?.text,
        identifiant: page.querySelector('#identifiant')?.getAttribute('value'),
        cookie: res.cookies.some((c) => c.name === 'tutti_session'),
      })
    }
    t.same(answers[0], {
      status: 401,
      alert: 'Identifiant ou mot de passe incorrect.',
      identifiant: 'famille-martin',
      cookie: false,
    })
    t.same({ ...answers[1], identifiant: 'x' }, { ...answers[0], identifiant: 'x' })
    t.same(
      { ...answers[2], identifiant: 'x' },
      { ...answers[0], identifiant: 'x' },
      'a teacher on the family portal too',
    )
  })

  t.test('an unknown identifiant costs an argon2 verification like a wrong password', async (t) => {
    const timed = async (identifiant: string) => {
      const browser = new Browser(app, host(1))
      const page = await browser.get('/connexion')
      const token = html(page.body).querySelector('input[name="_csrf"]')!.getAttribute('value')!
      const start = process.hrtime.bigint()
      await browser.post('/connexion', { _csrf: token, identifiant, password: 'pas le bon mot de passe' })
      return Number(process.hrtime.bigint() - start) / 1e6
    }
    await createAccount(app, tenants[1]!.slug, { identifiant: 'temoin' })
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
    const known: number[] = []
    const unknown: number[] = []
    for (let i = 0; i < 5; i++) {
      known.push(await timed('temoin'))
      unknown.push(await timed(`inconnu-${i}`))
    }
    // without the decoy verification an unknown identifiant answers ~10 times faster
    t.ok(median(unknown) > median(known) * 0.5, `unknown ${median(unknown)} ms vs known ${median(known)} ms`)
  })

  t.test('empty fields get a message beside them, and the identifiant typed is kept', async (t) => {
    const res = await new Browser(app, host()).submit('/connexion', '/connexion', {
      identifiant: 'famille-martin',
      password: '',
    })
    t.equal(res.statusCode, 400)
    const page = html(res.body)
    t.equal(page.querySelector('#password-error')?.text, 'Ce champ est obligatoire.')
    t.equal(page.querySelector('#password')?.getAttribute('aria-invalid'), 'true')
    t.equal(page.querySelector('#identifiant')?.getAttribute('value'), 'famille-martin')
  })

  t.test('each portal admits its own roles and sends them to their page', async (t) => {
    const teacher = new Browser(app, host())
    const res = await teacher.submit('/enseignant/connexion', '/enseignant/connexion', {
      identifiant: 'prof-durand',
      password: goodPassword,
    })
    t.equal(res.headers.location, '/enseignant')
    t.equal(
      html((await teacher.get('/enseignant')).body)
        .querySelector('h1')
        ?.text.trim()
        .startsWith('Mes cours'),
      true,
    )
    const staff = new Browser(app, host())
    const admin = await staff.submit('/admin/connexion', '/admin/connexion', {
      identifiant: 'secretariat',
      password: goodPassword,
    })
    t.equal(admin.headers.location, '/admin')
    t.equal(html((await staff.get('/admin')).body).querySelector('h1')?.text, 'Tableau de bord')
    const wrongPortal = await new Browser(app, host()).submit('/admin/connexion', '/admin/connexion', {
      identifiant: 'famille-martin',
      password: goodPassword,
    })
    t.equal(wrongPortal.statusCode, 401, 'a family cannot use the staff sign-in')
  })

  t.test('pages are refused to other roles and send visitors to sign in', async (t) => {
    const family = new Browser(app, host())
    await family.submit('/connexion', '/connexion', { identifiant: 'famille-martin', password: goodPassword })
    for (const url of ['/admin', '/enseignant']) {
      const res = await family.get(url)
      t.equal(res.statusCode, 403, url)
      t.equal(html(res.body).querySelector('h1')?.text, 'Accès refusé')
    }
    const visitor = await new Browser(app, host()).get('/admin')
    t.equal(visitor.statusCode, 303)
    t.equal(visitor.headers.location, '/admin/connexion?retour=%2Fadmin')
    const teacher = new Browser(app, host())
    await teacher.submit('/enseignant/connexion', '/enseignant/connexion', {
      identifiant: 'prof-durand',
      password: goodPassword,
    })
    t.equal((await teacher.get('/admin')).statusCode, 403)
    t.equal((await teacher.get('/accueil')).statusCode, 403)
  })

  t.test('after signing in the person returns to the page they asked for, never off the site', async (t) => {
    const browser = new Browser(app, host())
    const res = await browser.submit('/admin/connexion?retour=/admin', '/admin/connexion', {
      identifiant: 'secretariat',
      password: goodPassword,
      retour: '//evil.example/',
    })
    t.equal(res.headers.location, '/admin')
  })

  t.test('a session made on tenant A is refused on tenant B', async (t) => {
    const browser = new Browser(app, host())
    await browser.submit('/connexion', '/connexion', {
      identifiant: 'famille-martin',
      password: goodPassword,
    })
    t.equal((await browser.get('/accueil')).statusCode, 200)
    const elsewhere = await app.inject({
      url: '/accueil',
      headers: { host: host(1), cookie: browser.cookieHeader() },
    })
    t.equal(elsewhere.statusCode, 303, 'treated as a visitor on the other tenant')
    t.match(elsewhere.headers.location, /^\/connexion/)
  })

  t.test('the session id changes at sign-in and Déconnexion destroys it', async (t) => {
    const browser = new Browser(app, host())
    await browser.submit('/connexion', '/connexion', {
      identifiant: 'famille-martin',
      password: goodPassword,
    })
    const first = browser.cookies.get('tutti_session')!
    // signing in again (e.g. from another tab's sign-in form) replaces the session
    const token = html((await browser.get('/accueil')).body)
      .querySelector('input[name="_csrf"]')!
      .getAttribute('value')!
    await browser.post('/connexion', { _csrf: token, identifiant: 'famille-martin', password: goodPassword })
    t.equal((await browser.get('/accueil')).statusCode, 200)
    const second = browser.cookies.get('tutti_session')!
    t.not(first, second)
    const em = app.orm.em.fork({ schema: schemaFor(slug) })
    t.equal(await em.count(Session, { idHash: sha256(first) }), 0, 'the previous session is gone')
    const out = await browser.submit('/accueil', '/deconnexion', {})
    t.equal(out.statusCode, 303)
    t.equal(out.headers.location, '/connexion?fait=deconnexion')
    const landed = html((await browser.get(out.headers.location as string)).body)
    t.equal(
      landed.querySelector('[role="status"]')?.text,
      'Vous êtes déconnecté.',
      'the sign-in page says so',
    )
    t.notOk(
      html((await browser.get('/connexion')).body).querySelector('[role="status"]'),
      'not on a plain visit',
    )
    t.equal(await em.count(Session, { idHash: sha256(second) }), 0)
    const replay = await app.inject({
      url: '/accueil',
      headers: { host: host(), cookie: `tutti_session=${second}` },
    })
    t.equal(replay.statusCode, 303, 'the old cookie opens nothing')
  })

  t.test('an idle session expires', async (t) => {
    const browser = new Browser(app, host())
    await browser.submit('/connexion', '/connexion', {
      identifiant: 'famille-martin',
      password: goodPassword,
    })
    const em = app.orm.em.fork({ schema: schemaFor(slug) })
    await em.nativeUpdate(
      Session,
      { idHash: sha256(browser.cookies.get('tutti_session')!) },
      { lastSeenAt: new Date(Date.now() - 2 * 3_600_000) },
    )
    t.equal((await browser.get('/accueil')).statusCode, 303)
  })

  t.test('a form without its CSRF token is refused with a French page and changes nothing', async (t) => {
    const browser = new Browser(app, host())
    const res = await browser.post('/connexion', { identifiant: 'famille-martin', password: goodPassword })
    t.equal(res.statusCode, 403)
    t.equal(html(res.body).querySelector('h1')?.text, 'Formulaire expiré')
    t.notOk(
      res.cookies.some((c) => c.name === 'tutti_session'),
      'not signed in',
    )
    await browser.submit('/connexion', '/connexion', {
      identifiant: 'famille-martin',
      password: goodPassword,
    })
    const forged = await browser.post('/deconnexion', { _csrf: 'forged' })
    t.equal(forged.statusCode, 403)
    t.equal((await browser.get('/accueil')).statusCode, 200, 'still signed in')
  })
})

t.test("a form's token from one conservatoire is refused on another, even with its cookie", async (t) => {
  const { app, host, tenants } = await build(t, { tenants: [{}, {}] })
  await createAccount(app, tenants[1]!.slug, { identifiant: 'famille-martin' })
  const here = new Browser(app, host(0))
  const page = await here.get('/connexion')
  const token = html(page.body)
    .querySelector('form[action="/connexion"] input[name="_csrf"]')
    ?.getAttribute('value')
  const there = new Browser(app, host(1))
  there.cookies = new Map(here.cookies)
  const res = await there.post('/connexion', {
    _csrf: token!,
    identifiant: 'famille-martin',
    password: goodPassword,
  })
  t.equal(res.statusCode, 403)
  t.equal(html(res.body).querySelector('h1')?.text, 'Formulaire expiré')
  const own = await there.submit('/connexion', '/connexion', {
    identifiant: 'famille-martin',
    password: goodPassword,
  })
  t.equal(own.statusCode, 303, 'the page of that conservatoire works')
})

t.test('several establishments: the Site field is shown and required', async (t) => {
  const { app, host, tenants } = await build(t, {
    tenants: [
      {
        establishments: [
          { code: 'c1', name: 'Conservatoire 1' },
          { code: 'c2', name: 'Conservatoire 2' },
        ],
      },
    ],
  })
  await createAccount(app, tenants[0]!.slug, { identifiant: 'famille-martin' })
  const browser = new Browser(app, host())
  const page = html((await browser.get('/connexion?site=c2')).body)
  t.same(
    page.querySelectorAll('#site option').map((o) => o.text),
    ['Choisir un site…', 'Conservatoire 1', 'Conservatoire 2'],
  )
  t.equal(
    page.querySelector('#site option[selected]')?.text,
    'Conservatoire 2',
    'preselected from the Site selector',
  )
  const res = await browser.submit('/connexion', '/connexion', {
    identifiant: 'famille-martin',
    password: goodPassword,
  })
  t.equal(res.statusCode, 400)
  t.equal(html(res.body).querySelector('#site-error')?.text, 'Choisissez votre site.')
  const ok = await browser.submit('/connexion', '/connexion', {
    site: 'c1',
    identifiant: 'famille-martin',
    password: goodPassword,
  })
  t.equal(ok.statusCode, 303)
})

t.test('too many attempts get a French 429 page saying when to retry', async (t) => {
  const { app, host, tenants } = await build(t)
  await createAccount(app, tenants[0]!.slug, { identifiant: 'cible' })
  const browser = new Browser(app, host())
  let last = await browser.submit('/connexion', '/connexion', { identifiant: 'cible', password: 'mauvais' })
  for (let i = 0; i < 10 && last.statusCode !== 429; i++) {
    last = await browser.submit('/connexion', '/connexion', { identifiant: 'cible', password: 'mauvais' })
  }
  t.equal(last.statusCode, 429)
  t.ok(Number(last.headers['retry-after']) > 0)
  const page = html(last.body)
  t.equal(page.querySelector('h1')?.text, 'Trop de tentatives')
  t.match(page.querySelector('main p')?.text, /Réessayez dans 1[0-5] minute\(s\)\./)
  const other = await browser.submit('/connexion', '/connexion', {
    identifiant: 'autre',
    password: 'mauvais',
  })
  t.equal(other.statusCode, 401, 'the limit is per identifiant: other people can still sign in')
})

t.test('a teacher lands on the list of their courses of the year, with headcounts', async (t) => {
  const { app, host, tenants } = await build(t)
  const slug = tenants[0]!.slug
  const account = await createAccount(app, slug, { identifiant: 'prof', role: 'teacher' })
  const { Course, Enrolment, SchoolYear, Teacher } = await import(
    '../../../src/features/teaching/entities.ts'
  )
  const { Family } = await import('../../../src/features/family/entities.ts')
  const { Pupil } = await import('../../../src/features/pupils/entities.ts')
  const em = app.orm.em.fork({ schema: schemaFor(slug) })
  const teacher = em.create(Teacher, { lastName: 'Durand', firstName: 'Alex', account: account.id })
  const other = em.create(Teacher, { lastName: 'Autre', firstName: 'Prof' })
  const year = em.create(SchoolYear, {
    label: '2026-2027',
    startsOn: '2026-09-01',
    endsOn: '2027-08-31',
    current: true,
  })
  const past = em.create(SchoolYear, { label: '2025-2026', startsOn: '2025-09-01', endsOn: '2026-08-31' })
  const course = (name: string, who: typeof teacher, y: typeof year) =>
    em.create(Course, {
      schoolYear: y,
      discipline: 'piano',
      establishment: 'centre',
      name,
      teacher: who,
      cycle: '1C2',
      slot: 'Mercredi 14h',
    })
  const piano = course('Piano', teacher, year)
  course('Solfège', teacher, year)
  course('Ancien cours', teacher, past)
  course('Pas le mien', other, year)
  const family = em.create(Family, {})
  for (const firstName of ['Léa', 'Noé'])
    em.create(Enrolment, {
      pupil: em.create(Pupil, { family, lastName: 'Martin', firstName }),
      course: piano,
    })
  await em.flush()
  const browser = new Browser(app, host())
  await browser.submit('/enseignant/connexion', '/enseignant/connexion', {
    identifiant: 'prof',
    password: goodPassword,
  })
  const page = html((await browser.get('/enseignant')).body)
  t.equal(page.querySelector('h1')?.text, 'Mes cours 2026-2027')
  t.same(
    page.querySelectorAll('tbody tr').map((r) => r.querySelectorAll('th, td').map((c) => c.text)),
    [
      ['Piano', '1C2', 'Mercredi 14h', '2'],
      ['Solfège', '1C2', 'Mercredi 14h', '0'],
    ],
  )
})
