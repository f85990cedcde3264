import t from 'tap'
import { Browser, createAccount, goodPassword } from '../helpers/accounts.ts'
import { build, html } from '../helpers/build.ts'
import { createFamily } from '../helpers/families.ts'
import { demoTenant } from '../helpers/reenrolment.ts'

const text = (value: string | undefined) => (value ?? '').replace(/\s+/g, ' ').trim()

t.test(
  'every page says in its title what it is: no two pages of a visitor, a family or staff alike',
  async (t) => {
    const { app, host, tenants } = await build(t, { tenants: [demoTenant('limoges')] })
    const slug = tenants[0]!.slug
    const { second, pupil } = await createFamily(app, slug, 'famille-martin')
    await createAccount(app, slug, {
      identifiant: 'secretariat',
      role: 'secretariat',
      displayName: 'Secrétariat',
    })
    const visitor = new Browser(app, host())
    const family = new Browser(app, host())
    await family.submit('/connexion', '/connexion', { identifiant: 'famille-martin', password: goodPassword })
    const office = new Browser(app, host())
    await office.submit('/admin/connexion', '/admin/connexion', {
      identifiant: 'secretariat',
      password: goodPassword,
    })

    const titles = new Map<string, string>()
    const visit = async (browser: Browser, url: string) => {
      const res = await browser.get(url)
      t.equal(res.statusCode, 200, url)
      const title = text(html(res.body).querySelector('title')?.text)
      t.ok(title.endsWith(' — Conservatoire de Limoges'), `${url}: ${title}`)
      titles.set(url, title)
      return html(res.body)
    }
    for (const url of [
      '/',
      '/connexion',
      '/enseignant/connexion',
      '/admin/connexion',
      '/mot-de-passe-perdu',
    ]) {
      await visit(visitor, url)
    }
    await visit(visitor, '/preinscription')
    await visit(family, '/accueil')
    await visit(family, '/famille')
    await visit(family, `/famille/responsables/${second.id}`)
    await visit(family, '/famille/pieces')
    await visit(family, '/mot-de-passe')
    const pupilPage = await visit(family, `/eleves/${pupil.id}`)
    for (const tab of pupilPage.querySelectorAll('nav.tabs a')) await visit(family, tab.getAttribute('href')!)
    const dashboard = await visit(office, '/admin')
    for (const link of dashboard.querySelectorAll('nav.site-nav a[href^="/admin"]'))
      await visit(office, link.getAttribute('href')!)

    t.ok(titles.size >= 15, `${titles.size} pages`)
    const pagesOf = new Map<string, string[]>()
    for (const [url, title] of titles) pagesOf.set(title, [...(pagesOf.get(title) ?? []), url])
    t.same(
      [...pagesOf.values()].filter((urls) => urls.length > 1),
      [],
      'no two pages share a title',
    )
    t.equal(titles.get('/'), 'Portail des familles et des élèves — Conservatoire de Limoges')
    t.equal(titles.get('/accueil'), 'Accueil — Conservatoire de Limoges')
    t.equal(titles.get('/famille'), 'Responsable 1 : Camille Martin — Famille — Conservatoire de Limoges')
    t.equal(
      titles.get(`/famille/responsables/${second.id}`),
      'Responsable 2 : Thomas Martin — Famille — Conservatoire de Limoges',
    )
  },
)

t.test('a page showing errors says so first in its title', async (t) => {
  const { app, host, tenants } = await build(t)
  const name = tenants[0]!.name
  const browser = new Browser(app, host())
  const title = (body: string) => text(html(body).querySelector('title')?.text)
  t.equal(title((await browser.get('/connexion')).body), `Portail pour les usagers — ${name}`)
  const empty = await browser.submit('/connexion', '/connexion', { identifiant: '', password: '' })
  t.equal(empty.statusCode, 400)
  t.equal(title(empty.body), `Erreur : Portail pour les usagers — ${name}`)
  t.same(
    html(empty.body)
      .querySelectorAll('.error-summary a')
      .map((a) => [a.getAttribute('href'), text(a.text)]),
    [
      ['#identifiant', 'Identifiant : ce champ est obligatoire.'],
      ['#password', 'Mot de passe : ce champ est obligatoire.'],
    ],
    'the summary names each field',
  )
  const failed = await browser.submit('/connexion', '/connexion', {
    identifiant: 'personne',
    password: 'non',
  })
  t.equal(failed.statusCode, 401)
  t.equal(title(failed.body), `Erreur : Portail pour les usagers — ${name}`, 'a failed sign-in too')

  browser.cookies.set('lang', 'en')
  const english = await browser.submit('/connexion', '/connexion', { identifiant: 'x', password: '' })
  t.match(title(english.body), /^Error: /)
  t.equal(
    text(html(english.body).querySelector('.error-summary a')?.text),
    'Password: this field is required.',
  )
})

t.test('a favicon in the conservatoire’s colour, Tutti’s elsewhere; /favicon.ico is no 404', async (t) => {
  const { app, host } = await build(t, { tenants: [{ brand: { primaryColor: '#7a1f3d' } }, {}] })
  const page = html((await new Browser(app, host()).get('/')).body)
  t.equal(page.querySelector('link[rel="icon"]')?.getAttribute('href'), '/favicon.svg')

  const icon = await app.inject({ url: '/favicon.svg', headers: { host: host() } })
  t.equal(icon.statusCode, 200)
  t.match(icon.headers['content-type'], /^image\/svg\+xml/)
  t.match(icon.body, /fill="#7a1f3d"/, 'the tenant’s main colour')
  const plain = await app.inject({ url: '/favicon.svg', headers: { host: host(1) } })
  t.match(plain.body, /fill="#1d4e89"/, 'Tutti’s blue without a colour')
  const platform = await app.inject({ url: '/favicon.svg', headers: { host: 'localhost' } })
  t.equal(platform.statusCode, 200, 'the Site selector has it too')

  for (const h of [host(), 'localhost']) {
    const ico = await app.inject({ url: '/favicon.ico', headers: { host: h } })
    t.equal(ico.statusCode, 301, h)
    t.equal(ico.headers.location, '/favicon.svg')
  }
})
