import t from 'tap'
import { Browser, createAccount, goodPassword } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { createFamily } from '../../helpers/families.ts'
import { createSchooling } from '../../helpers/teaching.ts'
import { Enrolment } from '../../../src/features/teaching/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'

const text = (value: string | undefined) => (value ?? '').replace(/\s+/g, ' ').trim()

const tenant = {
  disciplines: [
    { code: 'clarinette', name: 'Clarinette', domain: 'music' },
    { code: 'formation-musicale', name: 'Formation musicale', domain: 'music' },
  ],
}

async function signIn(browser: Browser, identifiant: string, path = '/connexion') {
  const res = await browser.submit(path, path, { identifiant, password: goodPassword })
  if (res.statusCode !== 303) throw new Error(`sign-in failed: ${res.statusCode}`)
  return browser
}

t.test('Cours, Historique and Répertoire show the pupil’s schooling', async (t) => {
  const { app, host, tenants } = await build(t, { tenants: [tenant] })
  const slug = tenants[0]!.slug
  const { pupil } = await createFamily(app, slug, 'famille-martin')
  const { enrolment, pastEnrolment, lastYear } = await createSchooling(app, slug, pupil)
  const browser = await signIn(new Browser(app, host()), 'famille-martin')

  const courses = html((await browser.get(`/eleves/${pupil.id}/cours`)).body)
  t.equal(courses.querySelector('.tabs a[aria-current="page"]')?.text, 'Cours')
  t.equal(courses.querySelector('main h2')?.text, 'Cours 2026-2027')
  t.same(
    courses.querySelectorAll('thead th').map((th) => th.text),
    ['Cursus', 'Cours', 'Enseignant', 'Cycle', 'Suivi'],
  )
  const rows = courses.querySelectorAll('tbody tr')
  t.equal(rows.length, 1, 'only this year’s courses')
  t.same(
    rows[0]!.querySelectorAll('td, th').map((cell) => text(cell.text)),
    [
      'Clarinette',
      'Clarinette 1C2 Mercredi 14h00 – 14h30',
      'Hélène Rivière',
      '1C2',
      '1 évaluation, 1 absence — Clarinette 1C2',
    ],
  )
  const link = rows[0]!.querySelector('a')!.getAttribute('href')
  t.equal(link, `/eleves/${pupil.id}/cours/${enrolment.id}`)

  const detail = html((await browser.get(link!)).body)
  t.equal(detail.querySelector('main h2')?.text, 'Clarinette 1C2', 'a course named after its discipline')
  t.match(text(detail.querySelector('.evaluations')?.text), '1er trimestre — 20/11/2026 · Appréciation : A')
  t.match(text(detail.querySelector('.evaluations')?.text), 'Beau son, travail régulier.')
  t.match(text(detail.querySelector('[aria-labelledby^="absences"]')?.text), '07/10/2026 — excusée (Maladie)')
  t.equal(detail.querySelector('main p a')?.getAttribute('href'), `/eleves/${pupil.id}/cours`)

  const history = html((await browser.get(`/eleves/${pupil.id}/historique`)).body)
  const years = history.querySelectorAll('.history li')
  t.equal(years.length, 1)
  t.equal(years[0]!.querySelector('a')?.text, 'Année 2025-2026')
  t.match(text(years[0]!.text), 'Formation musicale — FM 1C1')
  const year = html((await browser.get(`/eleves/${pupil.id}/historique/${lastYear.id}`)).body)
  t.equal(year.querySelector('main h2')?.text, 'Cours 2025-2026')
  t.equal(
    year.querySelector('tbody a')?.getAttribute('href'),
    `/eleves/${pupil.id}/cours/${pastEnrolment.id}`,
  )
  const past = html((await browser.get(`/eleves/${pupil.id}/cours/${pastEnrolment.id}`)).body)
  t.equal(past.querySelector('.tabs a[aria-current="page"]')?.text, 'Historique')
  t.match(text(past.querySelector('.evaluations')?.text), 'Lecture de notes solide.')
  t.match(past.querySelector('main p a')?.text, 'Retour à l’année 2025-2026')

  const repertoire = html((await browser.get(`/eleves/${pupil.id}/repertoire`)).body)
  t.equal(repertoire.querySelector('.repertoire h3')?.text, 'Concert de printemps')
  t.match(text(repertoire.querySelector('.repertoire')?.text), '03/04/2026 — Auditorium')
  t.match(text(repertoire.querySelector('.repertoire')?.text), 'Berceuse, Gabriel Fauré (Clarinette)')
})

t.test('a pupil with no course, no history and no event is told so', async (t) => {
  const { app, host, tenants } = await build(t)
  const { pupil } = await createFamily(app, tenants[0]!.slug, 'famille-martin')
  const browser = await signIn(new Browser(app, host()), 'famille-martin')
  const pages: [string, string][] = [
    ['cours', 'Aucune inscription à un cours cette année.'],
    ['historique', 'Aucune année précédente au conservatoire.'],
    ['repertoire', 'Aucun événement pour le moment.'],
  ]
  for (const [tab, message] of pages) {
    const res = await browser.get(`/eleves/${pupil.id}/${tab}`)
    t.equal(res.statusCode, 200, tab)
    t.match(text(html(res.body).querySelector('main')?.text), message)
  }
})

t.test('a family sees only its own pupils: another family’s ids are 404 on every route', async (t) => {
  const { app, host, tenants } = await build(t, { tenants: [tenant, tenant] })
  const [a, b] = tenants.map((tenant) => tenant.slug) as [string, string]
  const mine = await createFamily(app, a, 'famille-martin')
  const other = await createFamily(app, a, 'famille-durand', 'Durand')
  const mySchooling = await createSchooling(app, a, mine.pupil)
  const theirs = await createSchooling(app, a, other.pupil)
  const browser = await signIn(new Browser(app, host()), 'famille-martin')
  const csrf = html((await browser.get(`/eleves/${mine.pupil.id}`)).body)
    .querySelector('input[name="_csrf"]')!
    .getAttribute('value')!

  const routes = (pupil: number, enrolment: number, year: number) => [
    `/eleves/${pupil}`,
    `/eleves/${pupil}/cours`,
    `/eleves/${pupil}/cours/${enrolment}`,
    `/eleves/${pupil}/historique`,
    `/eleves/${pupil}/historique/${year}`,
    `/eleves/${pupil}/repertoire`,
    `/eleves?eleve=${pupil}`,
  ]
  for (const url of routes(mine.pupil.id, mySchooling.enrolment.id, mySchooling.lastYear.id)) {
    t.ok([200, 303].includes((await browser.get(url)).statusCode), `own ${url}`)
  }
  for (const url of routes(other.pupil.id, theirs.enrolment.id, theirs.lastYear.id)) {
    const res = await browser.get(url)
    t.equal(res.statusCode, 404, `another family’s ${url}`)
    t.notMatch(res.body, 'Durand')
  }
  const post = await browser.post(`/eleves/${other.pupil.id}`, { _csrf: csrf, firstName: 'Piraté' })
  t.equal(post.statusCode, 404, 'another family’s pupil cannot be edited')
  t.equal(
    (await browser.get(`/eleves/${mine.pupil.id}/cours/${theirs.enrolment.id}`)).statusCode,
    404,
    'another pupil’s enrolment under one’s own pupil',
  )
  t.equal((await browser.get(`/eleves/${mine.pupil.id}/historique/999999`)).statusCode, 404)
  t.equal(
    (await browser.get(`/eleves/${mine.pupil.id}/historique/${mySchooling.year.id}`)).statusCode,
    404,
    'the current year is not history',
  )
  t.equal((await browser.get('/eleves/abc')).statusCode, 400)
  t.notMatch(html((await browser.get('/accueil')).body).text, 'Durand')

  await t.test('tenant B’s host never shows tenant A’s pupils', async (t) => {
    await createAccount(app, b, { identifiant: 'famille-martin' })
    const onB = new Browser(app, host(1))
    const res = await onB.get(`/eleves/${mine.pupil.id}`)
    t.equal(res.statusCode, 303, 'the session of tenant A is not valid on B')
    await signIn(onB, 'famille-martin')
    for (const url of routes(mine.pupil.id, mySchooling.enrolment.id, mySchooling.lastYear.id)) {
      const page = await onB.get(url)
      t.equal(page.statusCode, 404, `B: ${url}`)
      t.notMatch(page.body, 'Léa')
    }
  })

  await t.test('a visitor is sent to sign in; staff and teachers are refused', async (t) => {
    const visitor = await app.inject({ url: `/eleves/${mine.pupil.id}/cours`, headers: { host: host() } })
    t.equal(visitor.statusCode, 303)
    t.equal(
      visitor.headers.location,
      `/connexion?retour=${encodeURIComponent(`/eleves/${mine.pupil.id}/cours`)}`,
    )
    await createAccount(app, a, { identifiant: 'prof-durand', role: 'teacher' })
    await createAccount(app, a, { identifiant: 'secretariat', role: 'secretariat' })
    const teacher = await signIn(new Browser(app, host()), 'prof-durand', '/enseignant/connexion')
    const staff = await signIn(new Browser(app, host()), 'secretariat', '/admin/connexion')
    for (const other of [teacher, staff]) {
      for (const url of routes(mine.pupil.id, mySchooling.enrolment.id, mySchooling.lastYear.id)) {
        t.equal((await other.get(url)).statusCode, 403, url)
      }
    }
  })
})

t.test(
  'a course staff took the pupil off no longer shows on the Cours tab nor on the home page',
  async (t) => {
    const { app, host, tenants } = await build(t, { tenants: [tenant] })
    const slug = tenants[0]!.slug
    const { pupil } = await createFamily(app, slug, 'famille-martin')
    const { enrolment } = await createSchooling(app, slug, pupil)
    const em = app.orm.em.fork({ schema: schemaFor(slug) })
    await em.nativeUpdate(Enrolment, { id: enrolment.id }, { active: false })
    const browser = await signIn(new Browser(app, host()), 'famille-martin')

    const courses = html((await browser.get(`/eleves/${pupil.id}/cours`)).body)
    t.equal(courses.querySelectorAll('tbody tr').length, 0)
    t.equal((await browser.get(`/eleves/${pupil.id}/cours/${enrolment.id}`)).statusCode, 404)
    t.notMatch(text(html((await browser.get('/accueil')).body).querySelector('main')?.text), 'Clarinette 1C2')
  },
)
