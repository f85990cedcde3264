import t from 'tap'
import { addDays, lessonKey, scheduledDates } from '../../../src/features/lessons/calendar.ts'
import { AbsenceNotice, Attendance, Lesson } from '../../../src/features/lessons/entities.ts'
import { tenantToday } from '../../../src/features/family/service.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { noticesOf } from '../../../src/features/lessons/absence-notices.ts'
import type { SignedInContext } from '../../../src/platform/auth/context.ts'
import { signedInBrowser } from '../../helpers/accounts.ts'
import { html } from '../../helpers/build.ts'
import { audits, lessonsWorld, staffBrowser, text } from './setup.ts'

const w = await lessonsWorld(t, { tenants: 2 })
const { app, slug, course, martin, enrolment } = w
const config = w.tenants[0]!
const family = await signedInBrowser(app, w.host(), 'famille-martin')
const page = `/eleves/${martin.pupil.id}/cours/${enrolment.id}`
const action = `${page}/absences`
const em = () => app.orm.em.fork({ schema: schemaFor(slug) })

// the course's coming Wednesdays, holidays skipped (today's lesson is left to the clock)
const today = tenantToday(config)
const coming = scheduledDates(course.slots, { from: addDays(today, 1), to: '2027-07-03' }, config)
const keyOf = (i: number) => lessonKey(course.id, coming[i]!.on, 0)

t.test('the course page offers the next eight lessons, holidays skipped', async (t) => {
  const res = await family.get(page)
  t.equal(res.statusCode, 200)
  const doc = html(res.body)
  t.equal(text(doc.querySelector('#signaler')?.text), 'Signaler une absence')
  const offered = doc.querySelectorAll('input[name="lesson"]').map((i) => i.getAttribute('value'))
  t.same(
    offered,
    coming.slice(0, 8).map((_, i) => keyOf(i)),
  )
  t.notOk(
    offered.some((k) => /-2026-12-2[3-9]-|-2026-12-30-/.test(k ?? '')),
    'none in the Christmas holidays',
  )
  t.equal(text(doc.querySelector('#absences-annoncees + * ')?.text), '', 'no alert yet')
})

t.test('announcing: a lesson and a reason are required, what was typed stays', async (t) => {
  const noReason = await family.submit(page, action, { lesson: keyOf(1), reason: ' ' })
  t.equal(noReason.statusCode, 400)
  const doc = html(noReason.body)
  t.equal(text(doc.querySelector('#reason-error')?.text), 'Donnez le motif de l’absence.')
  t.ok(doc.querySelector(`input[value="${keyOf(1)}"][checked]`), 'the lesson chosen stays chosen')
  const noLesson = await family.submit(page, action, { reason: 'Stage de foot' })
  t.equal(text(html(noLesson.body).querySelector('#lesson-error')?.text), 'Choisissez la séance.')
  t.equal(text(html(noLesson.body).querySelector('#reason')?.text), 'Stage de foot')
  const tooLong = await family.submit(page, action, { lesson: keyOf(1), reason: 'x'.repeat(301) })
  t.equal(
    text(html(tooLong.body).querySelector('#reason-error')?.text),
    'Le motif tient en 300 caractères au plus.',
  )
  // a Thursday, a holiday, a past lesson: none is a lesson to come
  for (const key of [
    lessonKey(course.id, addDays(coming[0]!.on, 1), 0),
    lessonKey(course.id, '2026-12-23', 0),
    lessonKey(course.id, '2026-09-09', 0),
    'nimporte',
  ]) {
    const res = await family.submit(page, action, { lesson: key, reason: 'Stage de foot' })
    t.equal(res.statusCode, 400, key)
    t.equal(
      text(html(res.body).querySelector('#lesson-error')?.text),
      'Cette séance n’est pas prévue ou a déjà commencé : choisissez une des prochaines séances.',
    )
  }
  t.equal(await em().count(AbsenceNotice, {}), 0, 'nothing recorded')
  t.equal(await em().count(Lesson, {}), 0)
})

t.test('announced, listed with its reason, shown among the absences, then withdrawn', async (t) => {
  const done = await family.submit(page, action, { lesson: keyOf(1), reason: 'Rendez-vous médical' })
  t.equal(done.statusCode, 303)
  const doc = html((await family.get(done.headers.location as string)).body)
  t.equal(
    text(doc.querySelector('[role="status"]')?.text),
    'Absence signalée : le professeur la verra à l’appel.',
  )
  const date = coming[1]!.on.split('-').reverse().join('/')
  t.match(text(doc.querySelector('.notice-list li')?.text), `${date} · 14:00 – 14:30 (Rendez-vous médical)`)
  t.match(
    text(doc.querySelector(`[aria-labelledby="absences-${enrolment.id}"]`)?.text),
    `${date} — annoncée par la famille (Rendez-vous médical)`,
  )
  t.notOk(doc.querySelector(`input[name="lesson"][value="${keyOf(1)}"]`), 'no longer offered')
  const notice = await em().findOneOrFail(
    AbsenceNotice,
    { enrolment: enrolment.id },
    { populate: ['lesson'] },
  )
  t.equal(notice.lesson.on, coming[1]!.on)
  t.equal(notice.reason, 'Rendez-vous médical')
  t.equal((await audits(app, slug, 'absence.announced')).length, 1)

  const withdrawn = await family.submit(page, `${action}/${keyOf(1)}/retirer`, {})
  t.equal(withdrawn.statusCode, 303)
  const after = html((await family.get(withdrawn.headers.location as string)).body)
  t.equal(text(after.querySelector('[role="status"]')?.text), 'Absence retirée.')
  t.notOk(after.querySelector('.notice-list'), 'no absence announced any more')
  t.match(
    text(after.querySelector('[aria-labelledby="absences-annoncees"]')?.text),
    'Aucune absence signalée pour les prochaines séances.',
  )
  t.equal(await em().count(AbsenceNotice, {}), 0)
  t.equal((await audits(app, slug, 'absence.withdrawn')).length, 1)
})

t.test('today’s lesson is offered until it starts, in the conservatoire’s time zone', async (t) => {
  t.equal(config.timezone, 'Europe/Paris')
  const ctx = { db: em(), config } as unknown as SignedInContext
  const schedule = {
    enrolmentId: enrolment.id,
    courseId: course.id,
    slots: course.slots,
    room: 'Salle 3',
    year: { from: '2026-09-01', to: '2027-07-03' },
  }
  // 13:59 and 14:00 in Paris on Wednesday 13 January 2027, in winter time (UTC+1)
  const before = await noticesOf(ctx, schedule, new Date('2027-01-13T12:59:00Z'))
  t.equal(before.upcoming[0]?.lesson.date, '2027-01-13')
  t.equal(before.upcoming.length, 8)
  const started = await noticesOf(ctx, schedule, new Date('2027-01-13T13:00:00Z'))
  t.equal(started.upcoming[0]?.lesson.date, '2027-01-20')
  const lastWeeks = await noticesOf(ctx, schedule, new Date('2027-06-20T10:00:00Z'))
  t.same(
    lastWeeks.upcoming.map((u) => u.lesson.date),
    ['2027-06-23', '2027-06-30'],
    'no lesson after the end of the year',
  )
})

t.test('a cancelled lesson is not offered', async (t) => {
  const staff = await staffBrowser(app, w.host())
  const lessonPage = `/admin/cours/${course.id}/seances/${keyOf(2)}`
  await staff.submit(lessonPage, `${lessonPage}/annuler`, { reason: 'Grève' })
  const doc = html((await family.get(page)).body)
  t.notOk(doc.querySelector(`input[name="lesson"][value="${keyOf(2)}"]`))
  const res = await family.submit(page, action, { lesson: keyOf(2), reason: 'Malade' })
  t.equal(res.statusCode, 400)
})

t.test('the Cours tab reads absences from the register', async (t) => {
  const fork = em()
  const lesson = fork.create(Lesson, { course: course.id, on: '2026-09-16', slot: 0, calledAt: new Date() })
  const moved = fork.create(Lesson, {
    course: course.id,
    on: '2026-09-23',
    slot: 0,
    movedOn: '2026-09-24',
    movedStart: '17:00',
    movedEnd: '17:30',
    calledAt: new Date(),
  })
  const excused = fork.create(Lesson, { course: course.id, on: '2026-09-30', slot: 0, calledAt: new Date() })
  const present = fork.create(Lesson, { course: course.id, on: '2026-10-07', slot: 0, calledAt: new Date() })
  fork.create(Attendance, { lesson, enrolment: enrolment.id, status: 'absent' })
  fork.create(Attendance, { lesson: moved, enrolment: enrolment.id, status: 'late' })
  fork.create(Attendance, { lesson: excused, enrolment: enrolment.id, status: 'excused' })
  fork.create(AbsenceNotice, { lesson: excused, enrolment: enrolment.id, reason: 'Grippe' })
  fork.create(Attendance, { lesson: present, enrolment: enrolment.id, status: 'present' })
  // another pupil's absence is not Léa's
  fork.create(Attendance, { lesson: present, enrolment: w.durandEnrolment.id, status: 'absent' })
  await fork.flush()
  const doc = html((await family.get(page)).body)
  const absences = doc
    .querySelectorAll(`[aria-labelledby="absences-${enrolment.id}"] li`)
    .map((li) => text(li.text))
  t.same(absences, ['16/09/2026 — non excusée', '24/09/2026 — en retard', '30/09/2026 — excusée (Grippe)'])
  const tab = html((await family.get(`/eleves/${martin.pupil.id}/cours`)).body)
  t.match(text(tab.querySelector('table')?.text), '0 évaluation, 3 absences')
})

t.test('isolation: another family, another pupil’s enrolment, a past year, another tenant', async (t) => {
  const durand = await signedInBrowser(app, w.host(), 'famille-durand')
  t.equal((await durand.get(page)).statusCode, 404, 'another family’s pupil')
  const durandPage = `/eleves/${w.durand.pupil.id}/cours/${w.durandEnrolment.id}`
  const token = html((await durand.get(durandPage)).body)
    .querySelector('input[name="_csrf"]')
    ?.getAttribute('value')
  t.ok(token, 'the Durand family has its own form')
  const stolen = await durand.post(action, { _csrf: token!, lesson: keyOf(3), reason: 'x' })
  t.equal(stolen.statusCode, 404, 'nor can it announce for it')
  const mixed = await durand.post(`/eleves/${w.durand.pupil.id}/cours/${enrolment.id}/absences`, {
    _csrf: token!,
    lesson: keyOf(3),
    reason: 'x',
  })
  t.equal(mixed.statusCode, 404, 'its pupil with another pupil’s enrolment')
  const past = `/eleves/${martin.pupil.id}/cours/${w.pastEnrolment.id}`
  const pastPage = html((await family.get(past)).body)
  t.notOk(pastPage.querySelector('#signaler'), 'no form on a past year’s course')
  const familyToken = html((await family.get(page)).body)
    .querySelector('input[name="_csrf"]')
    ?.getAttribute('value')
  t.equal(
    (await family.post(`${past}/absences`, { _csrf: familyToken!, lesson: keyOf(3), reason: 'x' }))
      .statusCode,
    404,
    'a past year takes no notice',
  )
  t.equal(
    (await family.post(`${action}/${keyOf(5)}/retirer`, { _csrf: familyToken! })).statusCode,
    404,
    'no notice to withdraw',
  )
  const elsewhere = await signedInBrowser(app, w.host(1), 'famille-martin')
  const theirs = w.schools[1]!
  const ownCourse = `/eleves/${theirs.martin.pupil.id}/cours/${theirs.enrolment.id}`
  t.equal((await elsewhere.get(ownCourse)).statusCode, 200, 'its own pupil there')
  t.equal(await em().count(AbsenceNotice, { reason: 'x' }), 0, 'nothing recorded here')
  const teacher = await signedInBrowser(app, w.host(), 'prof', '/enseignant/connexion')
  t.equal((await teacher.get(page)).statusCode, 403, 'a teacher is not a family')
  t.equal((await teacher.post(action, { lesson: keyOf(3), reason: 'x' })).statusCode, 403)
})
