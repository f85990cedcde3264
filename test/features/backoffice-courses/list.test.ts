import t from 'tap'
import { Course, Teacher } from '../../../src/features/teaching/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { createAccount } from '../../helpers/accounts.ts'
import { html } from '../../helpers/build.ts'

import { audits, course, pupils, signedInBrowser, text, world } from './setup.ts'

const w = await world(t)
const { app, slug } = w
const browser = await signedInBrowser(app, w.host())

/** A course of its own for a test, with the file's year and teacher. */
async function fresh(capacity: number | null, fields: Parameters<typeof course>[3] = {}) {
  return { ...w, course: await course(app, slug, capacity, fields) }
}

t.test('the list filters by discipline, teacher, site, level and year, with seats', async (t) => {
  const { year, next, teacher } = await fresh(1)
  const em = app.orm.em.fork({ schema: schemaFor(slug) })
  const other = em.create(Teacher, { firstName: 'Marc', lastName: 'Aubry' })
  em.create(Course, {
    schoolYear: year,
    discipline: 'violon',
    establishment: 'nord',
    name: 'Violon 2C1',
    cycle: '2C1',
    teacher: other,
  })
  em.create(Course, {
    schoolYear: next,
    discipline: 'piano',
    establishment: 'centre',
    name: 'Piano 1C2',
    cycle: '1C2',
    teacher,
  })
  await em.flush()
  const names = async (query: string) =>
    html((await browser.get(`/admin/cours${query}`)).body)
      .querySelectorAll('tbody th a')
      .map((a) => text(a.text))
  t.same(await names(''), ['Piano 1C1', 'Violon 2C1'])
  t.same(await names('?discipline=violon'), ['Violon 2C1'])
  t.same(await names(`?prof=${teacher.id}`), ['Piano 1C1'])
  t.same(await names('?site=nord'), ['Violon 2C1'])
  t.same(await names('?niveau=1C1'), ['Piano 1C1'])
  t.same(await names('?annee=2027-2028'), ['Piano 1C2'])
  t.equal((await browser.get('/admin/cours?annee=1999-2000')).statusCode, 404)
  const page = html((await browser.get('/admin/cours')).body)
  t.equal(text(page.querySelector('tbody tr td[data-label="Inscrits / places"]')?.text), '0 / 1')
  t.equal(text(page.querySelector('tbody tr td[data-label="Créneaux"]')?.text), 'Mercredi 14h00 – 14h30')
})

t.test('direction reads the catalogue and a course but cannot enrol or edit', async (t) => {
  const { course } = await fresh(2)
  await createAccount(app, slug, { identifiant: 'direction', role: 'direction' })
  const browser = await signedInBrowser(app, w.host(), 'direction')
  const page = html((await browser.get(`/admin/cours/${course.id}`)).body)
  t.notOk(page.querySelector('#enrol'), 'no enrolment form')
  t.notOk(page.querySelector(`a[href="/admin/cours/${course.id}/modifier"]`))
  t.equal((await browser.get(`/admin/cours/${course.id}/modifier`)).statusCode, 403)
})

t.test(
  'a closed course refuses enrolments and leaves the default list; reopened it takes them',
  async (t) => {
    const { course } = await fresh(null)
    const [pupil] = await pupils(app, slug, [['Léo', 'Martin']])
    const page = `/admin/cours/${course.id}`
    const closed = await browser.submit(page, `${page}/fermer`, {})
    t.equal(closed.statusCode, 303)
    const list = html((await browser.get('/admin/cours')).body)
    t.notOk(list.querySelector(`a[href="${page}"]`), 'not among open courses')
    const closedList = html((await browser.get('/admin/cours?etat=fermes')).body)
    t.ok(closedList.querySelector(`a[href="${page}"]`), 'among closed courses')
    const token = html((await browser.get(page)).body)
      .querySelector('input[name="_csrf"]')!
      .getAttribute('value')!
    const refused = await browser.post(`${page}/inscriptions`, { _csrf: token, pupilId: String(pupil!.id) })
    t.equal(refused.statusCode, 400)
    t.match(text(html(refused.body).querySelector('.error-summary')?.text), /Ce cours est fermé/)
    t.equal((await audits(app, slug, 'course.closed', { type: 'course', id: course.id })).length, 1)
    await browser.submit(page, `${page}/rouvrir`, {})
    const ok = await browser.post(`${page}/inscriptions`, { _csrf: token, pupilId: String(pupil!.id) })
    t.equal(ok.statusCode, 303)
  },
)
