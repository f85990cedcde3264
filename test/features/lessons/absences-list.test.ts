import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { Attendance, type AttendanceStatus, Lesson } from '../../../src/features/lessons/entities.ts'
import { Pupil } from '../../../src/features/pupils/entities.ts'
import { Course, Enrolment } from '../../../src/features/teaching/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser, createAccount, goodPassword, signedInBrowser } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { createClasses, tenant, text } from '../repertoire/setup.ts'

const twoSites = {
  ...tenant,
  establishments: [
    { code: 'centre', name: 'Site du centre' },
    { code: 'nord', name: 'Site nord' },
  ],
}

/** Signs in on a tenant of two sites, choosing the first. */
async function signIn(app: FastifyInstance, host: string, identifiant: string, path = '/connexion') {
  const browser = new Browser(app, host)
  const res = await browser.submit(path, path, { identifiant, password: goodPassword, site: 'centre' })
  if (res.statusCode !== 303) throw new Error(`sign-in of ${identifiant}: ${res.statusCode}`)
  return browser
}

/** Roll calls: for each of the enrolment's lessons (course, date), the status recorded. */
async function record(
  app: FastifyInstance,
  slug: string,
  enrolmentId: number,
  lessons: { on: string; status: AttendanceStatus; movedOn?: string; cancelled?: boolean }[],
) {
  const em = app.orm.em.fork({ schema: schemaFor(slug) })
  const enrolment = await em.findOneOrFail(Enrolment, { id: enrolmentId })
  for (const l of lessons) {
    const lesson =
      (await em.findOne(Lesson, { course: enrolment.course, on: l.on, slot: 0 })) ??
      em.create(Lesson, {
        course: enrolment.course,
        on: l.on,
        slot: 0,
        movedOn: l.movedOn ?? null,
        cancelledAt: l.cancelled ? new Date() : null,
      })
    em.create(Attendance, { lesson, enrolment, status: l.status })
  }
  await em.flush()
}

t.test('staff rank pupils by unexcused absences over a period, and export the list', async (t) => {
  const { app, host, tenants } = await build(t, { tenants: [twoSites, twoSites] })
  const slug = tenants[0]!.slug
  const classes = await createClasses(app, slug)
  const { leaPiano, leaViolin, hugoViolin, durand, violin, marc } = classes
  await record(app, slug, leaPiano.id, [
    { on: '2026-09-16', status: 'absent' },
    { on: '2026-09-23', status: 'late' },
    { on: '2026-09-30', status: 'excused' },
    { on: '2026-10-07', status: 'present' },
    // a cancelled lesson's roll call does not count
    { on: '2026-10-14', status: 'absent', cancelled: true },
  ])
  await record(app, slug, leaViolin.id, [{ on: '2026-09-15', status: 'absent' }])
  await record(app, slug, hugoViolin.id, [
    { on: '2026-09-15', status: 'absent' },
    { on: '2026-09-22', status: 'absent' },
    // moved into October: counts in October
    { on: '2026-09-29', status: 'absent', movedOn: '2026-10-03' },
    { on: '2026-10-06', status: 'late' },
  ])
  // a pupil with only excused absences is not on the list
  const em = app.orm.em.fork({ schema: schemaFor(slug) })
  const zoe = em.create(Pupil, { family: durand.family.id, lastName: 'Durand', firstName: 'Zoé' })
  const zoeViolin = em.create(Enrolment, { pupil: zoe, course: violin.id })
  await em.flush()
  await record(app, slug, zoeViolin.id, [{ on: '2026-09-15', status: 'excused' }])

  await createAccount(app, slug, { identifiant: 'secretariat', role: 'secretariat' })
  const staff = await signIn(app, host(), 'secretariat', '/admin/connexion')
  const home = html((await staff.get('/admin')).body)
  t.ok(home.querySelector('nav a[href="/admin/absences"]'), 'the staff menu links to the list')

  const url = '/admin/absences?du=2026-09-01&au=2026-10-31'
  const res = await staff.get(url)
  t.equal(res.statusCode, 200)
  const page = html(res.body)
  t.equal(page.querySelector('h1')?.text, 'Absences non excusées')
  const rows = page
    .querySelectorAll('tbody tr')
    .map((tr) => tr.querySelectorAll('th, td').map((c) => text(c.text)))
  t.same(rows, [
    ['Hugo Durand', 'Violon 1C1', 'Camille Durand — 06 12 34 56 78 Thomas Durand', '3', '1', '0'],
    ['Léa Martin', 'Piano 1C2, Violon 1C1', 'Camille Martin — 06 12 34 56 78 Thomas Martin', '2', '1', '1'],
  ])
  const link = page.querySelector('tbody th a')?.getAttribute('href')
  t.equal(link, `/admin/familles/${durand.family.id}/eleves/${classes.hugo.id}`, 'the staff pupil page')
  t.equal((await staff.get(link!)).statusCode, 200)
  t.ok(page.querySelector('a[href="tel:0612345678"]'), 'the phone can be called')

  // the period: September only
  const september = html((await staff.get('/admin/absences?du=01/09/2026&au=30/09/2026')).body)
  t.same(
    september
      .querySelectorAll('tbody tr')
      .map((tr) => `${text(tr.querySelector('th')?.text)} ${text(tr.querySelectorAll('td')[2]?.text)}`),
    ['Léa Martin 2', 'Hugo Durand 2'],
    'the moved lesson counts on its new day; two absences each, the one late more often first',
  )
  // filters: a course, a teacher, a site
  const course = html((await staff.get(`${url}&cours=${classes.piano.id}`)).body)
  t.same(
    course.querySelectorAll('tbody th').map((th) => text(th.text)),
    ['Léa Martin'],
  )
  t.equal(text(course.querySelector('tbody td')?.text), 'Piano 1C2', 'only that course’s absences')
  const teacher = html((await staff.get(`${url}&professeur=${marc.id}`)).body)
  t.same(
    teacher.querySelectorAll('tbody th').map((th) => text(th.text)),
    ['Hugo Durand', 'Léa Martin'],
  )
  const north = html((await staff.get(`${url}&site=nord`)).body)
  t.equal(
    text(north.querySelector('main')?.text).includes(
      'Aucune absence non excusée du 01/09/2026 au 31/10/2026.',
    ),
    true,
  )

  // the default period: this school year up to today
  const byDefault = html((await staff.get('/admin/absences')).body)
  t.equal(byDefault.querySelector('#du')?.getAttribute('value'), '2026-09-01')
  t.equal(byDefault.querySelectorAll('tbody tr').length, 2)

  // bad dates are told beside their field, as typed
  const bad = await staff.get('/admin/absences?du=hier&au=2026-10-31')
  t.equal(bad.statusCode, 400)
  const badPage = html(bad.body)
  t.equal(badPage.querySelector('#du-error')?.text, 'Date invalide : écrivez-la comme 15/03/2027.')
  t.equal(badPage.querySelector('#du')?.getAttribute('value'), 'hier')
  t.notOk(badPage.querySelector('tbody'), 'no list for a refused period')
  const reversed = html((await staff.get('/admin/absences?du=2026-10-31&au=2026-09-01')).body)
  t.equal(reversed.querySelector('#au-error')?.text, 'La date de fin doit être le jour de début ou après.')
  t.equal((await staff.get('/admin/absences?site=ailleurs')).statusCode, 400)

  // the CSV keeps the filters
  const exportUrl = page.querySelector('a[download]')?.getAttribute('href')
  t.equal(exportUrl, '/admin/absences/export.csv?du=2026-09-01&au=2026-10-31')
  const csv = await staff.get(exportUrl!)
  t.equal(csv.statusCode, 200)
  t.match(csv.headers['content-type'], 'text/csv')
  t.match(csv.headers['content-disposition'], 'absences-2026-09-01-2026-10-31.csv')
  t.same(
    csv.body
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\r\n'),
    [
      'Nom;Prénom;Cours;Responsables;Téléphones;Absences non excusées;Retards;Absences excusées',
      'Durand;Hugo;Violon 1C1;Camille Durand, Thomas Durand;06 12 34 56 78;3;1;0',
      'Martin;Léa;Piano 1C2, Violon 1C1;Camille Martin, Thomas Martin;06 12 34 56 78;2;1;1',
    ],
  )
  const filtered = await staff.get(
    `/admin/absences/export.csv?du=2026-09-01&au=2026-10-31&cours=${classes.piano.id}`,
  )
  t.equal(
    filtered.body
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\r\n').length,
    2,
    'the export keeps the filters',
  )
  t.equal((await staff.get('/admin/absences/export.csv?du=hier')).statusCode, 400)

  // direction reads the list, and opens the family's page
  await createAccount(app, slug, { identifiant: 'direction', role: 'direction' })
  const direction = await signIn(app, host(), 'direction', '/admin/connexion')
  const seen = html((await direction.get(url)).body)
  t.equal(seen.querySelector('tbody th a')?.getAttribute('href'), `/admin/familles/${durand.family.id}`)

  // families and teachers are refused; another tenant has none of these rows
  const family = await signIn(app, host(), 'famille-martin')
  t.equal((await family.get('/admin/absences')).statusCode, 403, 'a family')
  t.equal((await family.get('/admin/absences/export.csv')).statusCode, 403, 'a family, the export')
  const prof = await signIn(app, host(), 'prof-marc', '/enseignant/connexion')
  t.equal((await prof.get('/admin/absences')).statusCode, 403, 'a teacher')
  await createAccount(app, tenants[1]!.slug, { identifiant: 'secretariat', role: 'secretariat' })
  const other = await signIn(app, host(1), 'secretariat', '/admin/connexion')
  const otherPage = html((await other.get(url)).body)
  t.equal(otherPage.querySelectorAll('tbody tr').length, 0, 'another tenant’s list is its own')
  t.equal((await other.get(link!)).statusCode, 404, 'another tenant’s host does not know the pupil')
})

t.test('the list is 50 pupils a page, its links keeping the period', async (t) => {
  const { app, host, tenants } = await build(t, { tenants: [tenant] })
  const slug = tenants[0]!.slug
  const { martin, piano } = await createClasses(app, slug)
  const em = app.orm.em.fork({ schema: schemaFor(slug) })
  const course = await em.findOneOrFail(Course, { id: piano.id })
  const lesson = em.create(Lesson, { course, on: '2026-09-16', slot: 0 })
  for (let i = 0; i < 55; i++) {
    const pupil = em.create(Pupil, {
      family: martin.family.id,
      lastName: 'Élève',
      firstName: `N${String(i).padStart(2, '0')}`,
    })
    const enrolment = em.create(Enrolment, { pupil, course })
    em.create(Attendance, { lesson, enrolment, status: 'absent' })
  }
  await em.flush()
  await createAccount(app, slug, { identifiant: 'secretariat', role: 'secretariat' })
  const staff = await signedInBrowser(app, host(), 'secretariat', '/admin/connexion')
  const first = html((await staff.get('/admin/absences?du=2026-09-01&au=2026-09-30')).body)
  t.equal(first.querySelectorAll('tbody tr').length, 50)
  const next = first.querySelector('a[rel="next"]')?.getAttribute('href') ?? ''
  t.match(next, /du=2026-09-01/)
  t.match(next, /page=2/)
  const second = html((await staff.get(next)).body)
  t.equal(second.querySelectorAll('tbody tr').length, 5)
})
