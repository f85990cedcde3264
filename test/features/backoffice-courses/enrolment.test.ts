import t from 'tap'
import { Pupil } from '../../../src/features/pupils/entities.ts'
import { Enrolment } from '../../../src/features/teaching/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { createAccount } from '../../helpers/accounts.ts'
import { html } from '../../helpers/build.ts'

import { audits, course, pupils, signedInBrowser, text, world } from './setup.ts'

const w = await world(t, 2)
const { app, slug } = w
const browser = await signedInBrowser(app, w.host())

/** A course of its own for a test, with the file's year and teacher. */
async function fresh(capacity: number | null, fields: Parameters<typeof course>[3] = {}) {
  return { ...w, course: await course(app, slug, capacity, fields) }
}

t.test('past capacity: refused, then forced with a reason (audited); the reason is required', async (t) => {
  const { course } = await fresh(1)
  const [first, second] = await pupils(app, slug, [
    ['Éloïse', 'Dupré'],
    ['Noé', 'Garnier'],
  ])
  const page = `/admin/cours/${course.id}`
  const action = `${page}/inscriptions`
  const found = html((await browser.get(`${page}?eleve=ELOISE`)).body)
  t.equal(
    text(found.querySelector('.pupil-results li span')?.text),
    'Éloïse Dupré',
    'accent- and case-insensitive',
  )
  const ok = await browser.submit(`${page}?eleve=eloise`, action, { pupilId: String(first!.id) })
  t.equal(ok.statusCode, 303)
  const after = html((await browser.get(ok.headers.location as string)).body)
  t.equal(text(after.querySelector('[role="status"]')?.text), 'Inscription de Éloïse Dupré enregistrée.')
  t.equal(text(after.querySelector('#seats-left')?.text), 'complet')
  t.ok(after.querySelector(`a[href="/admin/familles/${first!.family.id}"]`), 'links to the family page')

  const refused = await browser.submit(`${page}?eleve=noe`, action, { pupilId: String(second!.id) })
  t.equal(refused.statusCode, 400)
  t.equal(
    text(html(refused.body).querySelector('.error-summary li')?.text),
    'Ce cours est complet (1 place). Cochez « Forcer » et donnez un motif pour inscrire quand même.',
  )
  const noReason = await browser.submit(`${page}?eleve=noe`, action, {
    pupilId: String(second!.id),
    force: '1',
    reason: ' ',
  })
  t.equal(noReason.statusCode, 400)
  t.equal(
    text(html(noReason.body).querySelector('#reason-error')?.text),
    'Donnez le motif de l’inscription au-delà de la capacité.',
  )
  t.ok(html(noReason.body).querySelector('#force[checked]'), 'the box stays ticked')
  const forced = await browser.submit(`${page}?eleve=noe`, action, {
    pupilId: String(second!.id),
    force: '1',
    reason: 'Fratrie, accord de la direction',
  })
  t.equal(forced.statusCode, 303)
  const em = app.orm.em.fork({ schema: schemaFor(slug) })
  t.equal(await em.count(Enrolment, { course: course.id, active: true }), 2)
  const events = [
    ...(await audits(app, slug, 'enrolment.created', { type: 'pupil', id: first!.id })),
    ...(await audits(app, slug, 'enrolment.created', { type: 'pupil', id: second!.id })),
  ]
  t.equal(events.length, 2)
  t.match(events[1]?.details, { forced: true, reason: 'Fratrie, accord de la direction', capacity: 1 })
  t.equal(events[1]?.subjectType, 'pupil')
  t.equal(events[1]?.subjectId, second!.id)

  const again = await browser.submit(`${page}?eleve=noe`, action, { pupilId: String(second!.id) })
  t.equal(again.statusCode, 400)
  t.equal(text(html(again.body).querySelector('.error-summary li')?.text), 'Noé Garnier suit déjà ce cours.')
})

t.test('two staff taking the last seat at once: only one gets it without forcing', async (t) => {
  const { course } = await fresh(1)
  const [a, b] = await pupils(app, slug, [
    ['Léo', 'Martin'],
    ['Jade', 'Petit'],
  ])
  await createAccount(app, slug, { identifiant: 'secretariat2', role: 'secretariat' })
  const two = await signedInBrowser(app, w.host(), 'secretariat2')
  const page = `/admin/cours/${course.id}`
  const token = async (browser: typeof two) =>
    html((await browser.get(page)).body)
      .querySelector('input[name="_csrf"]')!
      .getAttribute('value')!
  const [t1, t2] = [await token(browser), await token(two)]
  const results = await Promise.all([
    browser.post(`${page}/inscriptions`, { _csrf: t1, pupilId: String(a!.id) }),
    two.post(`${page}/inscriptions`, { _csrf: t2, pupilId: String(b!.id) }),
  ])
  t.same(results.map((r) => r.statusCode).sort(), [303, 400])
  const em = app.orm.em.fork({ schema: schemaFor(slug) })
  t.equal(await em.count(Enrolment, { course: course.id, active: true }), 1)
})

t.test('unenrolling keeps the enrolment inactive; enrolling again reactivates it', async (t) => {
  const { course } = await fresh(2)
  const [pupil] = await pupils(app, slug, [['Léo', 'Martin']])
  const page = `/admin/cours/${course.id}`
  await browser.submit(`${page}?eleve=leo`, `${page}/inscriptions`, { pupilId: String(pupil!.id) })
  const em = app.orm.em.fork({ schema: schemaFor(slug) })
  const enrolment = await em.findOneOrFail(Enrolment, { pupil: pupil!.id, course: course.id })
  const removed = await browser.submit(page, `${page}/inscriptions/${enrolment.id}/retirer`, {})
  t.equal(removed.statusCode, 303)
  await em.refresh(enrolment)
  t.equal(enrolment.active, false)
  t.equal((await audits(app, slug, 'enrolment.removed', { type: 'pupil', id: pupil!.id })).length, 1)
  const shown = html((await browser.get(page)).body)
  t.match(text(shown.querySelector('#pupils')?.text), /\(0\)/)
  await browser.submit(`${page}?eleve=martin`, `${page}/inscriptions`, { pupilId: String(pupil!.id) })
  const rows = await app.orm.em.fork({ schema: schemaFor(slug) }).find(Enrolment, { pupil: pupil!.id })
  t.equal(rows.length, 1, 'the same row')
  t.equal(rows[0]!.active, true)
  t.match((await audits(app, slug, 'enrolment.created', { type: 'pupil', id: pupil!.id }))[1]?.details, {
    reactivated: true,
  })
})

t.test('another tenant: its staff get 404 for this course, its pupils cannot be enrolled here', async (t) => {
  const { course } = await fresh(2)
  const theirs = w.schools[1]!.slug
  const outsider = await signedInBrowser(app, w.host(1))
  const page = `/admin/cours/${course.id}`
  t.equal((await outsider.get(page)).statusCode, 404)
  t.equal((await outsider.get(`${page}/modifier`)).statusCode, 404)
  const theirToken = html((await outsider.get('/admin/cours/nouveau')).body)
    .querySelector('input[name="_csrf"]')!
    .getAttribute('value')!
  t.equal((await outsider.post(`${page}/fermer`, { _csrf: theirToken })).statusCode, 404)
  t.equal((await outsider.post(`${page}/inscriptions`, { _csrf: theirToken, pupilId: '1' })).statusCode, 404)

  // a pupil id that exists in the other tenant only: ids are counted per schema
  const mine = app.orm.em.fork({ schema: schemaFor(slug) })
  const highest = (await mine.find(Pupil, {}, { orderBy: { id: 'desc' }, limit: 1 }))[0]?.id ?? 0
  const strangers = await pupils(
    app,
    theirs,
    Array.from({ length: highest + 1 }, (_, i) => ['Léa', `Ailleurs${i}`] as [string, string]),
  )
  const stranger = strangers.at(-1)!
  t.notOk(await mine.findOne(Pupil, stranger.id), 'no pupil of that id here')
  const token = html((await browser.get(page)).body)
    .querySelector('input[name="_csrf"]')!
    .getAttribute('value')!
  const res = await browser.post(`${page}/inscriptions`, { _csrf: token, pupilId: String(stranger.id) })
  t.equal(res.statusCode, 400)
  t.match(text(html(res.body).querySelector('.error-summary')?.text), /Cet élève est introuvable/)
  t.equal(await mine.count(Enrolment, { course: course.id }), 0)
  const search = html((await browser.get(`${page}?eleve=ailleurs`)).body)
  t.match(text(search.querySelector('#enrol')?.parentNode?.text), /Aucun élève ne correspond/)
})
