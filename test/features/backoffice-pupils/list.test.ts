import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { Family, Guardian } from '../../../src/features/family/entities.ts'
import { ageOn, searchWords } from '../../../src/features/backoffice-pupils/service.ts'
import { Pupil } from '../../../src/features/pupils/entities.ts'
import { Course, Enrolment, SchoolYear, Teacher } from '../../../src/features/teaching/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser, createAccount, goodPassword } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'

const text = (value: string | undefined) => (value ?? '').replace(/\s+/g, ' ').trim()

const tenant = {
  establishments: [
    { code: 'centre', name: 'Site du centre' },
    { code: 'nord', name: 'Site nord' },
  ],
  disciplines: [
    { code: 'piano', name: 'Piano', domain: 'music' },
    { code: 'violon', name: 'Violon', domain: 'music' },
    { code: 'formation-musicale', name: 'Formation musicale', domain: 'music' },
  ],
}

/**
 * Three families and an archived one: Éloïse Martin in piano and formation musicale (both with
 * Hélène Rivière, both level 1C1, at the centre), her brother Léo with last year's course only and
 * an enrolment this year that ended, Chloé Dupont in violin at the north site, Zoé Ancien of an
 * archived family in piano.
 */
async function seed(app: FastifyInstance, slug: string) {
  const em = app.orm.em.fork({ schema: schemaFor(slug) })
  const year = em.create(SchoolYear, {
    label: '2026-2027',
    startsOn: '2026-09-01',
    endsOn: '2027-08-31',
    current: true,
  })
  const lastYear = em.create(SchoolYear, { label: '2025-2026', startsOn: '2025-09-01', endsOn: '2026-08-31' })
  const riviere = em.create(Teacher, { firstName: 'Hélène', lastName: 'Rivière' })
  const bernard = em.create(Teacher, { firstName: 'Marc', lastName: 'Bernard' })
  const course = (name: string, discipline: string, establishment: string, cycle: string, teacher: Teacher) =>
    em.create(Course, { schoolYear: year, name, discipline, establishment, cycle, teacher })
  const piano = course('Piano 1C1', 'piano', 'centre', '1C1', riviere)
  const fm = course('Formation musicale 1C1', 'formation-musicale', 'centre', '1C1', riviere)
  const violin = course('Violon 2C1', 'violon', 'nord', '2C1', bernard)
  const oldFm = em.create(Course, {
    schoolYear: lastYear,
    name: 'Formation musicale 1C1',
    discipline: 'formation-musicale',
    establishment: 'centre',
    cycle: '1C1',
    teacher: riviere,
  })
  const family = (lastName: string, firstName: string, archived = false) => {
    const f = em.create(Family, { archivedAt: archived ? new Date('2026-10-01T10:00:00Z') : null })
    em.create(Guardian, {
      family: f,
      rank: 1,
      lastName,
      firstName,
      email: `${firstName.toLowerCase()}@example.fr`,
      phoneMobile: '06 11 22 33 44',
      extraPhones: [],
    })
    return f
  }
  const martin = family('Martin', 'Camille')
  const dupont = family('Dupont', 'Paul')
  const ancien = family('Ancien', 'Rose', true)
  const eloise = em.create(Pupil, {
    family: martin,
    lastName: 'Martin',
    firstName: 'Éloïse',
    birthDate: '2014-03-12',
    schoolLevel: 'CM2',
  })
  const leo = em.create(Pupil, {
    family: martin,
    lastName: 'Martin',
    firstName: 'Léo',
    birthDate: '2016-05-02',
  })
  const chloe = em.create(Pupil, { family: dupont, lastName: 'Dupont', firstName: 'Chloé' })
  const zoe = em.create(Pupil, { family: ancien, lastName: 'Ancien', firstName: 'Zoé' })
  em.create(Enrolment, { pupil: eloise, course: piano })
  em.create(Enrolment, { pupil: eloise, course: fm })
  em.create(Enrolment, { pupil: leo, course: oldFm })
  em.create(Enrolment, { pupil: leo, course: violin, active: false })
  em.create(Enrolment, { pupil: chloe, course: violin })
  em.create(Enrolment, { pupil: zoe, course: piano })
  await em.flush()
  return { piano, fm, violin, riviere, bernard, martin }
}

/** The secretariat signed in; the tenant has two sites, so the sign-in form asks for one. */
async function office(app: FastifyInstance, slug: string, host: string): Promise<Browser> {
  await createAccount(app, slug, { identifiant: 'secretariat', role: 'secretariat' })
  const browser = new Browser(app, host)
  const path = '/admin/connexion'
  const res = await browser.submit(path, path, {
    identifiant: 'secretariat',
    password: goodPassword,
    site: 'centre',
  })
  if (res.statusCode !== 303) throw new Error(`sign-in on ${host}: ${res.statusCode}`)
  return browser
}

/** The pupils' names a list page shows, in order. */
async function names(browser: Browser, url: string): Promise<string[]> {
  const res = await browser.get(url)
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode}`)
  return html(res.body)
    .querySelectorAll('tbody th a')
    .map((a) => text(a.text))
}

t.test('each filter of the pupils list narrows it, a pupil in two matching courses once', async (t) => {
  const { app, tenants, host } = await build(t, { tenants: [tenant] })
  const slug = tenants[0]!.slug
  const ids = await seed(app, slug)
  const browser = await office(app, slug, host())

  const page = html((await browser.get('/admin/eleves')).body)
  t.equal(text(page.querySelector('h1')?.text), 'Élèves')
  // ages move with today's date: ageOn is tested on its own
  const age = (cell: string) => cell.replace(/\(\d+ ans\)/, '(N ans)')
  t.same(
    page
      .querySelectorAll('tbody tr')
      .map((tr) => tr.querySelectorAll('th, td').map((cell) => age(text(cell.text)))),
    [
      ['Chloé Dupont', '—', 'Paul Dupont', 'Violon 2C1', 'Site nord'],
      [
        'Éloïse Martin',
        '12/03/2014 (N ans)',
        'Camille Martin',
        'Formation musicale 1C1, Piano 1C1',
        'Site du centre',
      ],
      ['Léo Martin', '02/05/2016 (N ans)', 'Camille Martin', 'Sans cours', '—'],
    ],
    'archived families left out, by last then first name, accents ignored in the order',
  )
  t.equal(
    page.querySelector('tbody th a')?.getAttribute('href'),
    `/admin/familles/${(await app.orm.em.fork({ schema: schemaFor(slug) }).findOneOrFail(Pupil, { firstName: 'Chloé' })).family.id}`,
    'a pupil links to the family’s staff page',
  )

  t.same(await names(browser, '/admin/eleves?discipline=piano'), ['Éloïse Martin'])
  t.same(await names(browser, `/admin/eleves?cours=${ids.fm.id}`), ['Éloïse Martin'])
  t.same(await names(browser, `/admin/eleves?professeur=${ids.riviere.id}`), ['Éloïse Martin'], 'once')
  t.same(await names(browser, '/admin/eleves?niveau=1C1'), ['Éloïse Martin'], 'once')
  t.same(
    await names(browser, '/admin/eleves?site=nord'),
    ['Chloé Dupont'],
    'an ended enrolment counts for nothing',
  )
  t.same(
    await names(browser, '/admin/eleves?site=centre&discipline=violon'),
    [],
    'filters apply to one same course',
  )
  t.same(await names(browser, '/admin/eleves?etat=inscrit'), ['Chloé Dupont', 'Éloïse Martin'])
  t.same(
    await names(browser, '/admin/eleves?etat=sans-cours'),
    ['Léo Martin'],
    'last year’s course is not this year’s',
  )
  t.same(
    await names(browser, '/admin/eleves?etat=archive'),
    ['Zoé Ancien'],
    'archived families under their own state',
  )
  t.same(await names(browser, '/admin/eleves?etat=archive&discipline=piano'), ['Zoé Ancien'])
  const filtered = html((await browser.get('/admin/eleves?discipline=piano')).body)
  t.match(text(filtered.querySelector('.pagination__summary')?.text), '1 à 1 sur 1', 'the count narrows too')
  t.equal(
    filtered.querySelector('#discipline option[selected]')?.getAttribute('value'),
    'piano',
    'the filter shown',
  )
})

t.test('the search finds a name whatever its accents and case', async (t) => {
  const { app, tenants, host } = await build(t, { tenants: [tenant] })
  const slug = tenants[0]!.slug
  await seed(app, slug)
  const browser = await office(app, slug, host())
  for (const q of ['eloise', 'ELOISE', 'Éloïse', 'éloise martin', 'martin eloi', ' Eloïse '])
    t.same(await names(browser, `/admin/eleves?q=${encodeURIComponent(q)}`), ['Éloïse Martin'], q)
  t.same(await names(browser, '/admin/eleves?q=martin'), ['Éloïse Martin', 'Léo Martin'])
  t.same(await names(browser, '/admin/eleves?q=chloe+dupont'), ['Chloé Dupont'])
  t.same(
    await names(browser, '/admin/eleves?q=zoe'),
    [],
    'an archived family’s pupil is not found by default',
  )
  t.same(await names(browser, '/admin/eleves?q=zoe&etat=archive'), ['Zoé Ancien'])
  t.same(
    await names(browser, '/admin/eleves?q=%25'),
    ['Chloé Dupont', 'Éloïse Martin', 'Léo Martin'],
    'no wildcard',
  )
  t.same(
    await names(browser, '/admin/eleves?q=m_rtin'),
    ['Éloïse Martin', 'Léo Martin'],
    'words, not a pattern',
  )
  const page = html((await browser.get('/admin/eleves?q=%C3%A9lo%C3%AFse')).body)
  t.equal(page.querySelector('input#q')?.getAttribute('value'), 'éloïse', 'what was typed kept')
})

t.test('bad query values are a 400, never a 500', async (t) => {
  const { app, tenants, host } = await build(t, { tenants: [tenant] })
  const slug = tenants[0]!.slug
  await seed(app, slug)
  const browser = await office(app, slug, host())
  for (const query of [
    'discipline=harpe',
    'site=sud',
    'niveau=9C9',
    'cours=abc',
    'cours=999999',
    'professeur=0',
    'professeur=999999',
    'etat=perdu',
    'page=abc',
    'page=0',
    `q=${'a'.repeat(101)}`,
  ]) {
    t.equal((await browser.get(`/admin/eleves?${query}`)).statusCode, 400, query)
    t.equal(
      (await browser.get(`/admin/eleves/export.csv?${query.startsWith('page') ? 'cours=x' : query}`))
        .statusCode,
      400,
      `CSV ${query}`,
    )
  }
})

/** A CSV as a French spreadsheet reads it (no quoted separators in these tests' data). */
function parseCsv(body: string): string[][] {
  return body
    .replace(/^\uFEFF/, '')
    .replace(/\r\n$/, '')
    .split('\r\n')
    .map((line) => line.split(';'))
}

t.test('the export is the filtered list, every page, for a French spreadsheet', async (t) => {
  const { app, tenants, host } = await build(t, { tenants: [tenant] })
  const slug = tenants[0]!.slug
  await seed(app, slug)
  const browser = await office(app, slug, host())
  const page = html((await browser.get('/admin/eleves?discipline=piano&etat=inscrit&q=eloise')).body)
  const link = page.querySelector('a[download]')
  t.equal(text(link?.text), 'Exporter (CSV)')
  t.equal(
    link?.getAttribute('href'),
    '/admin/eleves/export.csv?discipline=piano&etat=inscrit&q=eloise',
    'the filters kept',
  )

  const all = await browser.get('/admin/eleves/export.csv')
  t.equal(all.statusCode, 200)
  t.match(all.headers['content-type'], /^text\/csv; charset=utf-8/)
  t.equal(all.headers['content-disposition'], 'attachment; filename="eleves-2026-2027.csv"')
  t.equal(all.headers['cache-control'], 'private, no-store')
  t.ok(all.body.startsWith('\uFEFF'), 'a BOM')
  t.ok(all.body.endsWith('\r\n'), 'CRLF')
  t.same(parseCsv(all.body), [
    [
      'Nom',
      'Prénom',
      'Date de naissance',
      'Niveau scolaire',
      'Responsable 1',
      'E-mail',
      'Téléphone',
      'Cours',
      'Établissement',
      'État',
    ],
    [
      'Dupont',
      'Chloé',
      '',
      '',
      'Paul Dupont',
      'paul@example.fr',
      '06 11 22 33 44',
      'Violon 2C1',
      'Site nord',
      'Inscrit',
    ],
    [
      'Martin',
      'Éloïse',
      '12/03/2014',
      'CM2',
      'Camille Martin',
      'camille@example.fr',
      '06 11 22 33 44',
      'Formation musicale 1C1, Piano 1C1',
      'Site du centre',
      'Inscrit',
    ],
    [
      'Martin',
      'Léo',
      '02/05/2016',
      '',
      'Camille Martin',
      'camille@example.fr',
      '06 11 22 33 44',
      '',
      '',
      'Sans cours',
    ],
  ])
  const filtered = parseCsv((await browser.get(link!.getAttribute('href')!)).body)
  t.same(
    filtered.slice(1).map((line) => line[1]),
    ['Éloïse'],
    'the same filters',
  )
  const archived = parseCsv((await browser.get('/admin/eleves/export.csv?etat=archive')).body)
  t.same(
    archived.slice(1).map((line) => [line[1], line[9]]),
    [['Zoé', 'Archivé']],
  )
})

t.test('the list shows 50 pupils a page, its links keeping the filters', async (t) => {
  const { app, tenants, host } = await build(t, { tenants: [tenant] })
  const slug = tenants[0]!.slug
  const { piano } = await seed(app, slug)
  const em = app.orm.em.fork({ schema: schemaFor(slug) })
  for (let i = 1; i <= 52; i++) {
    const family = em.create(Family, {})
    em.create(Guardian, { family, rank: 1, lastName: `Pianiste${i}`, firstName: 'Anne', extraPhones: [] })
    const pupil = em.create(Pupil, {
      family,
      lastName: `Pianiste${String(i).padStart(2, '0')}`,
      firstName: 'Noé',
    })
    em.create(Enrolment, { pupil, course: em.getReference(Course, piano.id) })
  }
  await em.flush()
  const browser = await office(app, slug, host())
  const first = html((await browser.get('/admin/eleves?discipline=piano&q=noe')).body)
  t.equal(first.querySelectorAll('tbody tr').length, 50)
  t.match(text(first.querySelector('.pagination__summary')?.text), '1 à 50 sur 52')
  const next = first.querySelector('a[rel="next"]')?.getAttribute('href')
  t.equal(next, '/admin/eleves?discipline=piano&q=noe&page=2')
  const second = html((await browser.get(next!)).body)
  t.same(
    second.querySelectorAll('tbody th a').map((a) => text(a.text)),
    ['Noé Pianiste51', 'Noé Pianiste52'],
  )
  t.equal(second.querySelector('a[rel="prev"]')?.getAttribute('href'), '/admin/eleves?discipline=piano&q=noe')
  const csv = parseCsv((await browser.get('/admin/eleves/export.csv?discipline=piano&q=noe')).body)
  t.equal(csv.length, 53, 'the export holds every page')
})

t.test('another tenant’s staff see none of these pupils, on the list or in the export', async (t) => {
  const { app, tenants, host } = await build(t, { tenants: [tenant, tenant] })
  const [mine, other] = tenants.map((c) => c.slug) as [string, string]
  const ids = await seed(app, mine)
  const browser = await office(app, other, host(1))
  const list = await browser.get('/admin/eleves')
  t.equal(list.statusCode, 200)
  t.equal(html(list.body).querySelectorAll('tbody tr').length, 0)
  t.match(text(html(list.body).text), 'Aucun élève ne correspond à ces critères.')
  for (const name of ['Éloïse', 'Chloé', 'Martin', 'Piano 1C1']) t.notMatch(list.body, name)
  t.equal(
    (await browser.get(`/admin/eleves?cours=${ids.piano.id}`)).statusCode,
    400,
    'a course of another tenant',
  )
  t.equal((await browser.get(`/admin/eleves?professeur=${ids.riviere.id}`)).statusCode, 400)
  const csv = await browser.get('/admin/eleves/export.csv')
  t.equal(csv.statusCode, 200)
  t.equal(parseCsv(csv.body).length, 1, 'only the header')
  t.notMatch(csv.body, 'Martin')
})

t.test('a pupil’s age is counted in full years', async (t) => {
  t.equal(ageOn('2014-03-12', '2026-03-11'), 11, 'the day before the birthday')
  t.equal(ageOn('2014-03-12', '2026-03-12'), 12, 'on the birthday')
  t.equal(ageOn('2012-02-29', '2026-02-28'), 13, 'born on 29 February')
  t.same(searchWords('  Éloïse  Dupont-Roy, Œdipe Æsa %_ '), ['eloise', 'dupont', 'roy', 'oedipe', 'aesa'])
})
