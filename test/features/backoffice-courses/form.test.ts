import t from 'tap'
import { Course, Teacher } from '../../../src/features/teaching/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser, createAccount, goodPassword } from '../../helpers/accounts.ts'
import { html } from '../../helpers/build.ts'

import { audits, course, signedInBrowser, text, world } from './setup.ts'

const w = await world(t)
const { app, slug } = w
const browser = await signedInBrowser(app, w.host())

/** A course of its own for a test, with the file's year and teacher. */
async function fresh(capacity: number | null, fields: Parameters<typeof course>[3] = {}) {
  return { ...w, course: await course(app, slug, capacity, fields) }
}

t.test(
  'staff create a course: the slots become the text families read, and the audit keeps it',
  async (t) => {
    const { year, teacher } = await fresh(2)
    const form = html((await browser.get('/admin/cours/nouveau')).body)
    t.equal(form.querySelectorAll('select[name$="-day"]').length, 2, 'two empty slot rows')
    t.equal(form.querySelector('#schoolYear option[selected]')?.getAttribute('value'), String(year.id))
    t.ok(form.querySelector('datalist#levels option[value="1C1"]'), 'levels already used are suggested')
    const res = await browser.submit('/admin/cours/nouveau', '/admin/cours/nouveau', {
      schoolYear: String(year.id),
      name: 'Violon 2C1',
      discipline: 'violon',
      cycle: '2C1',
      teacher: String(teacher.id),
      room: 'Salle 12',
      establishment: 'nord',
      capacity: '8',
      'slots-0-day': '6',
      'slots-0-start': '09:30',
      'slots-0-end': '10:30',
      'slots-1-day': '4',
      'slots-1-start': '17:00',
      'slots-1-end': '18:00',
    })
    t.equal(res.statusCode, 303)
    const id = Number(/\/admin\/cours\/(\d+)/.exec(res.headers.location as string)![1])
    const em = app.orm.em.fork({ schema: schemaFor(slug) })
    const course = await em.findOneOrFail(Course, id)
    t.equal(course.slot, 'Jeudi 17h00 – 18h00, Samedi 9h30 – 10h30')
    t.same(course.slots, [
      { day: 4, start: '17:00', end: '18:00' },
      { day: 6, start: '09:30', end: '10:30' },
    ])
    t.equal(course.capacity, 8)
    t.equal(course.establishment, 'nord')
    t.equal(course.room, 'Salle 12')
    const [created] = await audits(app, slug, 'course.created', { type: 'course', id })
    t.equal(created?.subjectId, id)
    t.match(created?.details, {
      after: { name: 'Violon 2C1', slot: 'Jeudi 17h00 – 18h00, Samedi 9h30 – 10h30' },
    })
    const page = html((await browser.get(res.headers.location as string)).body)
    t.equal(text(page.querySelector('[role="status"]')?.text), 'Le cours est créé.')
    t.equal(text(page.querySelector('#seats-left')?.text), '8 places restantes')

    const edit = html((await browser.get(`/admin/cours/${id}/modifier`)).body)
    t.equal(edit.querySelectorAll('select[name$="-day"]').length, 4, 'the saved slots and two empty rows')
  },
)

t.test('bad input: each field says why beside it, what was typed is kept, nothing saved', async (t) => {
  const { year } = await fresh(2)
  const res = await browser.submit('/admin/cours/nouveau', '/admin/cours/nouveau', {
    schoolYear: String(year.id),
    name: '',
    discipline: 'tuba',
    cycle: 'x'.repeat(61),
    teacher: '999999',
    room: 'Auditorium',
    establishment: 'ailleurs',
    capacity: '0',
    'slots-0-day': '',
    'slots-0-start': '17:00',
    'slots-0-end': '18:00',
    'slots-1-day': '2',
    'slots-1-start': '25:00',
    'slots-1-end': '18h',
    'slots-2-day': '3',
    'slots-2-start': '18:00',
    'slots-2-end': '17:30',
  })
  t.equal(res.statusCode, 400)
  const page = html(res.body)
  const error = (name: string) => text(page.querySelector(`#${name}-error`)?.text)
  t.equal(error('name'), 'Ce champ est obligatoire.')
  t.equal(error('discipline'), 'Choisissez une discipline dans la liste.')
  t.equal(error('cycle'), '60 caractères au plus.')
  t.equal(error('teacher'), 'Choisissez un enseignant dans la liste.')
  t.equal(error('establishment'), 'Choisissez un site dans la liste.')
  t.equal(error('capacity'), 'Nombre entier de places, au moins 1 (laissez vide pour un cours sans limite).')
  t.equal(error('slots-0-day'), 'Choisissez le jour du créneau.')
  t.equal(error('slots-1-start'), 'Heure au format HH:MM, par exemple 17:30.')
  t.equal(error('slots-1-end'), 'Heure au format HH:MM, par exemple 17:30.')
  t.equal(error('slots-2-end'), 'La fin doit être après le début.')
  t.match(
    text(page.querySelector('.error-summary')?.text),
    /Créneau 3 — Fin : la fin doit être après le début\./,
  )
  t.equal(page.querySelector('#room')?.getAttribute('value'), 'Auditorium', 'typed text kept')
  t.equal(page.querySelector('#slots-2-start')?.getAttribute('value'), '18:00')
  t.equal(page.querySelector('#slots-1-day option[selected]')?.getAttribute('value'), '2')
  const count = await app.orm.em.fork({ schema: schemaFor(slug) }).count(Course, { room: 'Auditorium' })
  t.equal(count, 0, 'nothing saved')

  const capacity = await browser.submit('/admin/cours/nouveau', '/admin/cours/nouveau', {
    schoolYear: String(year.id),
    name: 'Piano 2C1',
    discipline: 'piano',
    establishment: 'centre',
    capacity: '2,5',
  })
  t.equal(capacity.statusCode, 400)
  t.ok(html(capacity.body).querySelector('#capacity-error'))
})

t.test('an edit is audited with the fields that changed, before and after', async (t) => {
  const { course } = await fresh(2)
  const url = `/admin/cours/${course.id}/modifier`
  const form = html((await browser.get(url)).body)
  t.equal(form.querySelector('#slots-0-start')?.getAttribute('value'), '14:00')
  const res = await browser.submit(url, url, {
    name: 'Piano 1C1',
    discipline: 'piano',
    cycle: '1C1',
    teacher: '',
    room: 'Salle 3',
    establishment: 'centre',
    capacity: '2',
    'slots-0-day': '3',
    'slots-0-start': '14:00',
    'slots-0-end': '14:45',
  })
  t.equal(res.statusCode, 303)
  const [updated] = await audits(app, slug, 'course.updated', { type: 'course', id: course.id })
  t.same(updated?.details, {
    before: {
      teacher: course.teacher!.id,
      slots: [{ day: 3, start: '14:00', end: '14:30' }],
      slot: 'Mercredi 14h00 – 14h30',
      room: null,
    },
    after: {
      teacher: null,
      slots: [{ day: 3, start: '14:00', end: '14:45' }],
      slot: 'Mercredi 14h00 – 14h45',
      room: 'Salle 3',
    },
  })
})

t.test(
  'the teacher chosen in the form finds the course on their portal, with the written slot',
  async (t) => {
    const account = await createAccount(app, slug, { identifiant: 'prof-aubry', role: 'teacher' })
    const em = app.orm.em.fork({ schema: schemaFor(slug) })
    const teacher = em.create(Teacher, { firstName: 'Marc', lastName: 'Aubry', account })
    await em.flush()
    const res = await browser.submit('/admin/cours/nouveau', '/admin/cours/nouveau', {
      schoolYear: String(w.year.id),
      name: 'Formation musicale 2C1',
      discipline: 'piano',
      establishment: 'centre',
      teacher: String(teacher.id),
      'slots-0-day': '1',
      'slots-0-start': '18:15',
      'slots-0-end': '19:15',
    })
    t.equal(res.statusCode, 303)
    const portal = new Browser(app, w.host())
    await portal.submit('/enseignant/connexion', '/enseignant/connexion', {
      identifiant: 'prof-aubry',
      password: goodPassword,
      site: 'centre',
    })
    const row = html((await portal.get('/enseignant')).body)
      .querySelectorAll('tbody tr')
      .find((tr) => text(tr.querySelector('th')?.text) === 'Formation musicale 2C1')
    t.ok(row, 'the course is listed')
    t.match(text(row?.text), /Lundi 18h15 – 19h15/)
  },
)
