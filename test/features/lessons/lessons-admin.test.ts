import t from 'tap'
import { CourseReplacement, Lesson } from '../../../src/features/lessons/entities.ts'
import { Course } from '../../../src/features/teaching/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { signedInBrowser } from '../../helpers/accounts.ts'
import { html } from '../../helpers/build.ts'
import { type ParsedMail, startInbox } from '../../helpers/smtp.ts'
import { audits, lessonsWorld, staffBrowser, text } from './setup.ts'

const inbox = await startInbox(t)
const w = await lessonsWorld(t, { tenants: 2, env: { SMTP_URL: inbox.url } })
const { app, slug, course } = w
const staff = await staffBrowser(app, w.host())
const lessons = `/admin/cours/${course.id}/seances`
const em = () => app.orm.em.fork({ schema: schemaFor(slug) })

/** The mails of one subject, to the three addresses of the course's families. */
async function mailsAbout(subject: string): Promise<ParsedMail[]> {
  const to = ['famille-martin@example.fr', 'famille-durand@example.fr', 'thomas.durand@example.fr']
  return Promise.all(
    to.map((address) => inbox.waitFor((m) => m.to.includes(address) && (m.subject ?? '').includes(subject))),
  )
}

t.test(
  'the staff course page links to the year’s lessons, which name the holidays between them',
  async (t) => {
    const page = html((await staff.get(`/admin/cours/${course.id}`)).body)
    t.ok(page.querySelector(`a[href="${lessons}"]`), 'linked from the course page')
    t.ok(page.querySelector(`a[href="/admin/cours/${course.id}/remplacements"]`), 'replacements too')
    const res = await staff.get(lessons)
    t.equal(res.statusCode, 200)
    const list = html(res.body)
    t.equal(text(list.querySelector('h1')?.text), 'Séances — Piano 1C1')
    const items = list.querySelectorAll('.lesson-list > li').map((li) => text(li.text))
    const christmas = items.findIndex((i) => i.startsWith('Vacances de Noël'))
    t.match(items[christmas], 'Vacances de Noël : pas de cours du 23/12/2026 au 30/12/2026')
    t.match(items[christmas - 1], '16/12/2026 · 14:00 – 14:30')
    t.match(items[christmas + 1], '06/01/2027 · 14:00 – 14:30')
    t.ok(
      items.some((i) => i.startsWith('Armistice 1918 : pas de cours le 11/11/2026')),
      'a public holiday on a Wednesday',
    )
    t.ok(
      list.querySelector(`a[href="/admin/seances/${course.id}-2026-12-09-0"]`),
      'the roll call of a lesson',
    )
    t.match(text(list.querySelector('.lesson-list')?.text), 'à venir')
  },
)

t.test(
  'cancelling a lesson: the reason is required, every family is mailed, it can be restored',
  async (t) => {
    const key = `${course.id}-2026-12-09-0`
    const page = `${lessons}/${key}`
    const missing = await staff.submit(page, `${page}/annuler`, { reason: '  ' })
    t.equal(missing.statusCode, 400)
    t.equal(text(html(missing.body).querySelector('#reason-error')?.text), 'Donnez le motif de l’annulation.')
    t.equal(await em().count(Lesson, {}), 0, 'nothing recorded')

    const done = await staff.submit(page, `${page}/annuler`, { reason: 'Professeure en formation' })
    t.equal(done.statusCode, 303)
    const after = html((await staff.get(done.headers.location as string)).body)
    t.equal(
      text(after.querySelector('[role="status"]')?.text),
      'Séance annulée : les familles sont prévenues par courriel.',
    )
    t.equal(text(after.querySelector('#lesson-state')?.text), 'annulée')
    const row = await em().findOneOrFail(Lesson, { course: course.id, on: '2026-12-09', slot: 0 })
    t.equal(row.cancelReason, 'Professeure en formation')
    t.ok(row.changedBy, 'who changed it')
    const mails = await mailsAbout('Séance annulée : Piano 1C1')
    t.equal(mails.length, 3, 'each guardian with an address')
    t.match(
      mails[0]!.text,
      'La séance de Piano 1C1 de Léa Martin du mercredi 09/12/2026, 14:00 – 14:30 est annulée.',
    )
    t.match(mails[0]!.text, 'Motif : Professeure en formation')
    t.match(mails[1]!.text, 'Hugo Durand')
    const [event] = await audits(app, slug, 'lesson.cancelled')
    t.match(event?.details, { lesson: key, reason: 'Professeure en formation', mails: 3 })
    t.match(text(html((await staff.get(lessons)).body).querySelector('.lesson--cancelled')?.text), 'annulée')

    const restored = await staff.submit(page, `${page}/retablir`, {})
    t.equal(restored.statusCode, 303)
    t.equal(text(html((await staff.get(page)).body).querySelector('#lesson-state')?.text), 'à venir')
    const back = await mailsAbout('Séance rétablie : Piano 1C1')
    t.match(back[0]!.text, 'a finalement lieu comme prévu : mercredi 09/12/2026, 14:00 – 14:30')
    t.equal((await audits(app, slug, 'lesson.restored')).length, 1, 'audited')
  },
)

t.test('moving a lesson: a day of the year that is no holiday, an end after the start', async (t) => {
  const key = `${course.id}-2026-12-02-0`
  const page = `${lessons}/${key}`
  const action = `${page}/deplacer`
  const refusals: [Record<string, string>, string, string][] = [
    [
      { date: '2026-12-23', start: '15:00', end: '15:30' },
      '#date-error',
      'Ce jour tombe pendant « Vacances de Noël » : choisissez un autre jour.',
    ],
    [
      { date: '2026-11-11', start: '15:00', end: '15:30' },
      '#date-error',
      'Ce jour tombe pendant « Armistice 1918 » : choisissez un autre jour.',
    ],
    [
      { date: '2027-09-15', start: '15:00', end: '15:30' },
      '#date-error',
      'Choisissez un jour de l’année 2026-2027, du 01/09/2026 au 03/07/2027.',
    ],
    [{ date: '2026-12-03', start: '15:30', end: '15:00' }, '#end-error', 'La fin doit venir après le début.'],
    [{ date: '', start: '15:00', end: '15:30' }, '#date-error', 'Saisissez une date (jj/mm/aaaa).'],
  ]
  for (const [fields, selector, message] of refusals) {
    const res = await staff.submit(page, action, { ...fields, room: 'Salle 5' })
    t.equal(res.statusCode, 400, message)
    const form = html(res.body)
    t.equal(text(form.querySelector(selector)?.text), message)
    t.equal(form.querySelector('#date')?.getAttribute('value'), fields.date, 'the date typed stays')
    t.equal(form.querySelector('#room')?.getAttribute('value'), 'Salle 5', 'the room typed stays')
  }
  t.equal(await em().count(Lesson, { on: '2026-12-02' }), 0, 'nothing recorded')

  const moved = await staff.submit(page, action, {
    date: '10/12/2026',
    start: '15:00',
    end: '15:30',
    room: 'Salle 5',
  })
  t.equal(moved.statusCode, 303)
  const row = await em().findOneOrFail(Lesson, { course: course.id, on: '2026-12-02', slot: 0 })
  t.same(
    [row.movedOn, row.movedStart, row.movedEnd, row.movedRoom],
    ['2026-12-10', '15:00', '15:30', 'Salle 5'],
  )
  const mails = await mailsAbout('Séance déplacée : Piano 1C1')
  t.match(
    mails[0]!.text,
    'La séance de Piano 1C1 de Léa Martin du mercredi 02/12/2026, 14:00 – 14:30 est déplacée au jeudi 10/12/2026, 15:00 – 15:30.',
  )
  t.match(mails[0]!.text, 'Salle : Salle 5')
  const list = html((await staff.get(lessons)).body)
  const line = text(list.querySelector('.lesson--moved')?.text)
  t.match(line, '10/12/2026 · 15:00 – 15:30')
  t.match(line, 'Prévue le 02/12/2026, 14:00 – 14:30')
  t.match((await audits(app, slug, 'lesson.moved'))[0]?.details, { lesson: key, to: { date: '2026-12-10' } })
})

t.test(
  'replacements: a teacher other than the course’s, for days of its year; listed and removed',
  async (t) => {
    const page = `/admin/cours/${course.id}/remplacements`
    const form = html((await staff.get(page)).body)
    const options = form.querySelectorAll('#teacher option').map((o) => text(o.text))
    t.same(options, ['Choisissez un professeur', 'Durand Paul'], 'the course’s own teacher is not offered')
    const refusals: [Record<string, string>, string, string][] = [
      [
        { teacher: '', from: '2026-12-01', to: '2026-12-15' },
        '#teacher-error',
        'Choisissez le professeur remplaçant.',
      ],
      [
        { teacher: String(w.teacher.id), from: '2026-12-01', to: '2026-12-15' },
        '#teacher-error',
        'C’est le professeur du cours : choisissez un autre professeur.',
      ],
      [
        { teacher: String(w.other.id), from: '2026-12-15', to: '2026-12-01' },
        '#to-error',
        'Le dernier jour ne peut venir avant le premier.',
      ],
      [
        { teacher: String(w.other.id), from: '2026-08-15', to: '2026-12-01' },
        '#from-error',
        'Choisissez un jour de l’année 2026-2027, du 01/09/2026 au 03/07/2027.',
      ],
    ]
    for (const [fields, selector, message] of refusals) {
      const res = await staff.submit(page, page, fields)
      t.equal(res.statusCode, 400, message)
      const again = html(res.body)
      t.equal(text(again.querySelector(selector)?.text), message)
      t.equal(again.querySelector('#from')?.getAttribute('value'), fields.from, 'what was typed stays')
    }
    t.equal(await em().count(CourseReplacement, {}), 0)
    const added = await staff.submit(page, page, {
      teacher: String(w.other.id),
      from: '2026-12-01',
      to: '2026-12-15',
    })
    t.equal(added.statusCode, 303)
    const listed = html((await staff.get(added.headers.location as string)).body)
    t.equal(text(listed.querySelector('[role="status"]')?.text), 'Remplacement enregistré.')
    t.equal(
      text(listed.querySelector('.replacement-list li span')?.text),
      'Paul Durand, du 01/12/2026 au 15/12/2026',
    )
    const [created] = await audits(app, slug, 'replacement.created')
    t.match(created?.details, { teacher: { id: w.other.id }, from: '2026-12-01', to: '2026-12-15' })
    const row = await em().findOneOrFail(CourseReplacement, { course: course.id })
    const removed = await staff.submit(page, `${page}/${row.id}/supprimer`, {})
    t.equal(removed.statusCode, 303)
    t.equal(text(html((await staff.get(page)).body).querySelector('.replacement-list')?.text), '')
    t.equal(await em().count(CourseReplacement, {}), 0)
    t.equal((await audits(app, slug, 'replacement.removed')).length, 1)
  },
)

t.test('isolation: another tenant, another course, families and teachers', async (t) => {
  // a course of this tenant only: its id names nothing on the other tenant's host
  const fork = em()
  const own = fork.create(Course, {
    schoolYear: w.year.id,
    discipline: 'piano',
    establishment: 'centre',
    name: 'Piano 2C1',
    slots: [{ day: 2, start: '18:00', end: '18:45' }],
  })
  await fork.flush()
  const elsewhere = await staffBrowser(app, w.host(1))
  const ownLessons = `/admin/cours/${own.id}/seances`
  t.equal((await staff.get(ownLessons)).statusCode, 200, 'here')
  for (const url of [
    ownLessons,
    `${ownLessons}/${own.id}-2026-12-08-0`,
    `/admin/cours/${own.id}/remplacements`,
  ])
    t.equal((await elsewhere.get(url)).statusCode, 404, `${url} on another tenant's host`)
  const theirs = w.schools[1]!.course.id
  const token = html((await elsewhere.get(`/admin/cours/${theirs}/seances/${theirs}-2026-12-09-0`)).body)
    .querySelector('input[name="_csrf"]')
    ?.getAttribute('value')
  const post = await elsewhere.post(`${ownLessons}/${own.id}-2026-12-08-0/annuler`, {
    _csrf: token ?? '',
    reason: 'Grève',
  })
  t.equal(post.statusCode, 404, 'nor can it be cancelled from there')
  t.equal((await staff.get(`/admin/cours/999999/seances`)).statusCode, 404, 'no such course')
  t.equal((await staff.get(`${lessons}/999999-2026-12-09-0`)).statusCode, 404, 'another course’s lesson')
  t.equal(
    (await staff.get(`${lessons}/${course.id}-2026-12-10-0`)).statusCode,
    404,
    'not a day of the course',
  )
  t.equal((await staff.get(`${lessons}/${course.id}-2026-12-23-0`)).statusCode, 404, 'a holiday')
  t.equal((await staff.get(`${lessons}/nimporte`)).statusCode, 404, 'not a key')
  const family = await signedInBrowser(app, w.host(), 'famille-martin')
  const teacher = await signedInBrowser(app, w.host(), 'prof', '/enseignant/connexion')
  for (const browser of [family, teacher]) {
    t.equal((await browser.get(lessons)).statusCode, 403)
    t.equal((await browser.get(`/admin/cours/${course.id}/remplacements`)).statusCode, 403)
    const res = await browser.post(`${lessons}/${course.id}-2026-12-09-0/annuler`, { reason: 'x' })
    t.equal(res.statusCode, 403)
  }
})
