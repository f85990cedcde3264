import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { tenantToday } from '../../../src/features/family/service.ts'
import { addDays, closureOn, mondayOf } from '../../../src/features/lessons/calendar.ts'
import {
  AbsenceNotice,
  Attendance,
  CourseReplacement,
  Lesson,
} from '../../../src/features/lessons/entities.ts'
import { Course, Enrolment, SchoolYear, Teacher } from '../../../src/features/teaching/entities.ts'
import { AuditEvent } from '../../../src/platform/audit/entities.ts'
import { OutboxMail } from '../../../src/platform/mail/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import type { TenantConfig } from '../../../src/platform/tenancy/tenant-config.ts'
import { type Browser, createAccount, signedInBrowser } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { createFamily } from '../../helpers/families.ts'
import { startInbox } from '../../helpers/smtp.ts'

const text = (value: string | undefined) => (value ?? '').replace(/\s+/g, ' ').trim()
const everyDay = [1, 2, 3, 4, 5, 6, 7].map((day) => ({ day, start: '17:00', end: '17:30' }))
const key = (courseId: number, on: string) =>
  `${courseId}-${on}-${(new Date(`${on}T00:00:00Z`).getUTCDay() + 6) % 7}`

/**
 * A week with no public holiday, at least a week before today: the week the tests cancel, move and
 * call lessons in (the school holidays of the test tenant are the week before it).
 */
function quietWeek(config: Pick<TenantConfig, 'calendar'>, today: string): string {
  let monday = addDays(mondayOf(today), -7)
  while ([0, 1, 2, 3, 4, 5, 6].some((i) => closureOn(config, addDays(monday, i))))
    monday = addDays(monday, -7)
  return monday
}

/** A course's teacher (prof), another teacher (autre) and a replacement, with two families in prof's course. */
async function seed(app: FastifyInstance, config: TenantConfig, options: { shift?: boolean } = {}) {
  const slug = config.slug
  const em = app.orm.em.fork({ schema: schemaFor(slug) })
  const today = tenantToday(config)
  const ref = quietWeek({ calendar: { holidays: [] } }, today)
  const year = em.create(SchoolYear, {
    label: '2026-2027',
    startsOn: addDays(today, -200),
    endsOn: addDays(today, 150),
    current: true,
  })
  const accounts = {
    prof: await createAccount(app, slug, {
      identifiant: 'prof',
      role: 'teacher',
      displayName: 'Hélène Rivière',
    }),
    autre: await createAccount(app, slug, { identifiant: 'autre', role: 'teacher' }),
    remplacant: await createAccount(app, slug, { identifiant: 'remplacant', role: 'teacher' }),
    secretariat: await createAccount(app, slug, { identifiant: 'secretariat', role: 'secretariat' }),
  }
  const teacher = (account: (typeof accounts)['prof'], lastName: string) =>
    em.create(Teacher, { firstName: 'Prof', lastName, account: account.id })
  const prof = teacher(accounts.prof, 'Rivière')
  const autre = teacher(accounts.autre, 'Autre')
  const remplacant = teacher(accounts.remplacant, 'Remplaçant')
  const course = (name: string, by: Teacher) =>
    em.create(Course, {
      schoolYear: year,
      discipline: 'clarinette',
      establishment: 'centre',
      name,
      cycle: '1C2',
      teacher: by,
      slot: 'Tous les jours 17h00 – 17h30',
      slots: everyDay,
      room: 'Salle 12',
    })
  // another tenant's ids name other rows here
  if (options.shift) course('Orgue', autre)
  const clarinet = course('Clarinette 1C2', prof)
  const violin = course('Violon 1C1', autre)
  em.create(CourseReplacement, {
    course: violin,
    teacher: remplacant,
    startsOn: addDays(ref, 2),
    endsOn: addDays(ref, 3),
  })
  await em.flush()
  const martin = await createFamily(app, slug, 'famille', 'Martin')
  const durand = await createFamily(app, slug, 'durand', 'Durand')
  const other = await createFamily(app, slug, 'dupont', 'Dupont')
  const e1 = em.create(Enrolment, { pupil: martin.pupil.id, course: clarinet })
  const e2 = em.create(Enrolment, { pupil: durand.pupil.id, course: clarinet })
  const e3 = em.create(Enrolment, { pupil: other.pupil.id, course: violin })
  await em.flush()
  return { em, today, ref, year, accounts, clarinet, violin, e1, e2, e3, martin, durand }
}

async function world(t: { teardown(fn: () => unknown): void }) {
  const inbox = await startInbox(t)
  const holidays = (ref: string) => [
    { label: 'Vacances de test', from: addDays(ref, -7), to: addDays(ref, -1) },
  ]
  // the quiet week depends on today only: computed once, the same for each tenant
  const today = tenantToday({ timezone: 'Europe/Paris' } as TenantConfig)
  const ref = quietWeek({ calendar: { holidays: [] } }, today)
  const w = await build(t, {
    tenants: [
      { calendar: { zone: 'A', holidays: holidays(ref) } },
      { attendance: { absenceMail: false, teacherContacts: 'email' } },
      { attendance: { teacherContacts: 'none' } },
    ],
    env: { SMTP_URL: inbox.url },
  })
  const data = await seed(w.app, w.tenants[0]!)
  const second = await seed(w.app, w.tenants[1]!)
  const third = await seed(w.app, w.tenants[2]!, { shift: true })
  const signIn = (identifiant: string, host = w.host(), path = '/enseignant/connexion') =>
    signedInBrowser(w.app, host, identifiant, path)
  return { ...w, inbox, data, second, third, signIn }
}

const statusesOn = (body: string) =>
  Object.fromEntries(
    html(body)
      .querySelectorAll('fieldset')
      .map((f) => [
        text(f.querySelector('legend')?.text),
        f.querySelector('input:checked')?.getAttribute('value'),
      ]),
  )

t.test(
  'the week: lessons in order, holidays named, cancelled and moved lessons shown, courses of the year',
  async (t) => {
    const w = await world(t)
    const { ref, clarinet, violin, em, accounts } = w.data
    em.create(Lesson, {
      course: clarinet,
      on: ref,
      slot: 0,
      cancelledAt: new Date(),
      cancelReason: 'Concert des professeurs',
      changedBy: accounts.secretariat.id,
    })
    em.create(Lesson, {
      course: clarinet,
      on: addDays(ref, 1),
      slot: 1,
      movedOn: addDays(ref, 2),
      movedStart: '18:00',
      movedEnd: '18:30',
    })
    await em.flush()
    const prof = await w.signIn('prof')
    const page = html((await prof.get(`/enseignant?semaine=${ref}`)).body)
    t.equal(page.querySelector('h1')?.text, 'Mes cours 2026-2027')
    t.match(text(page.querySelector('#week-title')?.text), /^Semaine du \d\d\/\d\d\/\d{4}$/)
    const days = page.querySelectorAll('.week__day').map((d) => ({
      day: text(d.querySelector('h3')?.text).split(' ')[0],
      lessons: d.querySelectorAll('.lesson').map((l) => text(l.text)),
    }))
    t.same(
      days.map((d) => d.day),
      ['Lundi', 'Mercredi', 'Jeudi', 'Vendredi', 'Samedi', 'Dimanche'],
      'Tuesday’s only lesson moved to Wednesday',
    )
    t.match(
      days[0]!.lessons[0],
      /17:00 – 17:30 Clarinette 1C2 Salle 12 Séance annulée : Concert des professeurs/,
    )
    t.notMatch(days[0]!.lessons[0], /Appel/, 'a cancelled lesson has no roll call')
    t.equal(days[1]!.lessons.length, 2)
    t.match(days[1]!.lessons[1], /^18:00 – 18:30 Clarinette 1C2 .*Séance déplacée \(prévue le/)
    t.match(days[1]!.lessons[0], /Appel à faire/)
    t.ok(
      page.querySelector(`a[href="/enseignant/seances/${key(clarinet.id, addDays(ref, 2))}"]`),
      'a past lesson links to its roll call',
    )
    t.same(
      page.querySelectorAll('tbody tr').map((r) => r.querySelectorAll('th, td').map((c) => text(c.text))),
      [['Clarinette 1C2', '1C2', 'Tous les jours 17h00 – 17h30', '2']],
    )
    t.ok(page.querySelector(`a[href="/enseignant?semaine=${addDays(ref, -7)}"]`), 'previous week')
    t.ok(page.querySelector(`a[href="/enseignant?semaine=${addDays(ref, 7)}"]`), 'next week')

    const holiday = html((await prof.get(`/enseignant?semaine=${addDays(ref, -7)}`)).body)
    t.equal(holiday.querySelectorAll('.lesson').length, 0, 'no lesson in the holidays')
    t.equal(
      holiday
        .querySelectorAll('.week__day p')
        .filter((p) => text(p.text) === 'Pas de cours : Vacances de test').length,
      7,
    )

    const thisWeek = mondayOf(w.data.today)
    for (const bad of ['2026-13-01', 'demain', addDays(ref, 1), `${ref}x`]) {
      const res = await prof.get(`/enseignant?semaine=${encodeURIComponent(bad)}`)
      t.equal(res.statusCode, 200)
      t.ok(
        html(res.body).querySelector(`a[href="/enseignant?semaine=${addDays(thisWeek, 7)}"]`),
        `${bad}: this week`,
      )
    }
    if (!closureOn(w.tenants[0]!, w.data.today)) {
      const now = html((await prof.get('/enseignant')).body)
      const today = now.querySelector('.week__day--today')
      t.ok(today, 'today is highlighted')
      t.equal(
        today?.querySelector('a.button')?.getAttribute('href'),
        `/enseignant/seances/${key(clarinet.id, w.data.today)}`,
        'with a big Faire l’appel button',
      )
      t.match(text(today?.querySelector('a.button')?.text), /^Faire l’appel/)
    }

    // the replacement sees the course in the weeks of its dates only, and its lessons of those dates
    const remplacant = await w.signIn('remplacant')
    const replaced = html((await remplacant.get(`/enseignant?semaine=${ref}`)).body)
    t.same(
      replaced.querySelectorAll('.lesson__name').map((n) => text(n.text)),
      ['Violon 1C1 Remplacement', 'Violon 1C1 Remplacement'],
    )
    t.match(text(replaced.querySelector('tbody th')?.text), 'Violon 1C1 Remplacement')
    const after = html((await remplacant.get(`/enseignant?semaine=${addDays(ref, 7)}`)).body)
    t.equal(after.querySelectorAll('.lesson').length, 0)
    t.equal(after.querySelectorAll('tbody tr').length, 0)
    t.equal((await remplacant.get(`/enseignant/seances/${key(violin.id, addDays(ref, 2))}`)).statusCode, 200)
    t.equal((await remplacant.get(`/enseignant/seances/${key(violin.id, addDays(ref, 4))}`)).statusCode, 404)
    t.equal(
      (await remplacant.get(`/enseignant/seances/${key(clarinet.id, addDays(ref, 2))}`)).statusCode,
      404,
    )
  },
)

t.test('the roster shows the family’s contacts as the tenant allows', async (t) => {
  const w = await world(t)
  const { clarinet, martin } = w.data
  const prof = await w.signIn('prof')
  const page = html((await prof.get(`/enseignant/cours/${clarinet.id}`)).body)
  t.equal(page.querySelector('h1')?.text, 'Clarinette 1C2')
  const pupils = page.querySelectorAll('.roster__pupil')
  t.same(
    pupils.map((p) => text(p.querySelector('h3')?.text)),
    ['Léa Durand', 'Léa Martin'],
  )
  const lea = pupils[1]!
  t.match(text(lea.text), /Âge ?\d+ ans Niveau ?1C2 Discipline ?clarinette/)
  t.ok(lea.querySelector('a[href="tel:0612345678"]'), 'the guardian’s phone')
  t.ok(lea.querySelector('a[href="mailto:famille@example.fr"]'), 'the guardian’s e-mail')
  t.ok(
    lea.querySelector(`a[href="/enseignant/cours/${clarinet.id}/eleves/${martin.pupil.id}/repertoire"]`),
    'the pupil’s répertoire',
  )
  t.ok(page.querySelector(`a[href="/enseignant/cours/${clarinet.id}/evaluations"]`), 'the evaluations')
  t.ok(page.querySelectorAll('.lesson-lines li').length > 0, 'the course’s lessons')
  t.ok(page.querySelector('#past-title'))

  const second = await w.signIn('prof', w.host(1))
  const emailOnly = html((await second.get(`/enseignant/cours/${w.second.clarinet.id}`)).body)
  t.equal(
    emailOnly.querySelectorAll('.roster a[href^="tel:"]').length,
    0,
    'no phone when the tenant says email',
  )
  t.equal(emailOnly.querySelectorAll('.roster a[href^="mailto:"]').length, 2)

  const third = await signedInBrowser(w.app, w.host(2), 'prof', '/enseignant/connexion')
  const none = html((await third.get(`/enseignant/cours/${w.third.clarinet.id}`)).body)
  t.equal(
    none.querySelectorAll('.roster a[href^="tel:"], .roster a[href^="mailto:"]').length,
    0,
    'nothing when none',
  )
  t.match(none.text, 'passez par le secrétariat')

  // another teacher's course, another tenant's course: 404
  const autre = await w.signIn('autre')
  t.equal((await autre.get(`/enseignant/cours/${clarinet.id}`)).statusCode, 404)
  t.equal((await prof.get(`/enseignant/cours/${w.data.violin.id}`)).statusCode, 404)
  t.equal((await third.get(`/enseignant/cours/${clarinet.id}`)).statusCode, 404, 'another tenant’s id')
  const family = await w.signIn('famille', w.host(), '/connexion')
  t.equal((await family.get(`/enseignant/cours/${clarinet.id}`)).statusCode, 403)
})

async function csrfOf(browser: Browser, url: string) {
  return (
    html((await browser.get(url)).body)
      .querySelector('input[name="_csrf"]')
      ?.getAttribute('value') ?? ''
  )
}

t.test(
  'the roll call: present by default, notices excused, saved in one submit, corrected, mailed once',
  async (t) => {
    const w = await world(t)
    const { clarinet, ref, e1, e2, em, durand, accounts } = w.data
    const on = addDays(ref, 2)
    const lesson = em.create(Lesson, { course: clarinet, on, slot: 2 })
    em.create(AbsenceNotice, {
      lesson,
      enrolment: e2,
      reason: 'Rendez-vous médical',
      announcedBy: durand.account.id,
    })
    await em.flush()
    const url = `/enseignant/seances/${key(clarinet.id, on)}`
    const prof = await w.signIn('prof')
    const page = await prof.get(url)
    t.equal(page.statusCode, 200)
    t.same(statusesOn(page.body), { 'Léa Durand': 'excused', 'Léa Martin': 'present' })
    t.match(text(html(page.body).text), 'Absence signalée par la famille : Rendez-vous médical')
    t.equal(html(page.body).querySelectorAll('input[type="radio"]').length, 8, 'four statuses a pupil')

    const saved = await prof.submit(url, url, { [`eleve-${e1.id}`]: 'absent', [`eleve-${e2.id}`]: 'excused' })
    t.equal(saved.statusCode, 303)
    t.equal(saved.headers.location, `${url}?fait=1`)
    const shown = await prof.get(`${url}?fait=1`)
    t.same(statusesOn(shown.body), { 'Léa Durand': 'excused', 'Léa Martin': 'absent' })
    t.match(text(html(shown.body).text), 'Appel enregistré.')
    t.match(text(html(shown.body).text), /Appel fait le .* par Hélène Rivière/)
    const row = await em.fork().findOneOrFail(Lesson, { course: clarinet.id, on, slot: 2 })
    t.ok(row.calledAt, 'called at')
    t.equal(row.calledBy?.id, accounts.prof.id)

    const mail = await w.inbox.waitFor((m) => /Absence de Léa Martin/.test(m.subject))
    t.equal(mail.to, 'famille@example.fr')
    t.match(
      mail.text,
      /Léa Martin a été noté\(e\) absent\(e\) au cours Clarinette 1C2 du \d\d\/\d\d\/\d{4}, de 17:00 à 17:30/,
    )
    t.match(mail.text, 'contacter le conservatoire')

    // corrected: late, then absent again — the absence was mailed already
    t.equal((await prof.submit(url, url, { [`eleve-${e1.id}`]: 'late' })).statusCode, 303)
    t.same(statusesOn((await prof.get(url)).body), { 'Léa Durand': 'excused', 'Léa Martin': 'late' })
    t.equal((await prof.submit(url, url, { [`eleve-${e1.id}`]: 'absent' })).statusCode, 303)
    const mails = await em.fork().find(OutboxMail, { template: 'absence-unexcused' })
    t.equal(mails.length, 1, 'one mail for the absence')
    const rows = await em.fork().find(Attendance, { lesson: row.id }, { orderBy: { enrolment: 'asc' } })
    t.same(
      rows.map((r) => r.status),
      ['absent', 'excused'],
    )

    // the tenant that switched the mail off
    const off = await w.signIn('prof', w.host(1))
    const offUrl = `/enseignant/seances/${key(w.second.clarinet.id, on)}`
    t.equal((await off.submit(offUrl, offUrl, { [`eleve-${w.second.e1.id}`]: 'absent' })).statusCode, 303)
    t.equal(await w.second.em.fork().count(OutboxMail, {}), 0, 'no absence mail when switched off')
    t.equal(await w.second.em.fork().count(Attendance, { status: 'absent' }), 1)
  },
)

t.test(
  'the roll call refuses what is not one: pupil, status, lesson, year, day to come, cancelled',
  async (t) => {
    const w = await world(t)
    const { clarinet, ref, e1, em, year, accounts } = w.data
    const on = addDays(ref, 3)
    const url = `/enseignant/seances/${key(clarinet.id, on)}`
    const prof = await w.signIn('prof')
    const token = await csrfOf(prof, url)

    const stranger = await prof.post(url, {
      _csrf: token,
      [`eleve-${e1.id}`]: 'absent',
      'eleve-99999': 'absent',
    })
    t.equal(stranger.statusCode, 400)
    t.match(text(html(stranger.body).querySelector('[role="alert"]')?.text), 'n’est pas inscrit à ce cours')
    t.same(statusesOn(stranger.body)['Léa Martin'], 'absent', 'what was typed is kept')

    const status = await prof.post(url, { _csrf: token, [`eleve-${e1.id}`]: 'malade' })
    t.equal(status.statusCode, 400)
    t.match(
      text(html(status.body).querySelector(`#eleve-${e1.id}-error`)?.text),
      'Choisissez présent, absent, en retard ou excusé.',
    )
    t.equal(await em.fork().count(Attendance, {}), 0, 'nothing saved')

    // Monday's slot on a Thursday: no such lesson; a date before the school year: another year
    const notOne = await prof.get(`/enseignant/seances/${clarinet.id}-${on}-0`)
    t.equal(notOne.statusCode, 404)
    t.match(text(html(notOne.body).text), 'Ce cours n’a pas de séance à cette date')
    const before = addDays(String(year.startsOn), -7)
    t.equal((await prof.get(`/enseignant/seances/${key(clarinet.id, before)}`)).statusCode, 404)
    t.equal(
      (await prof.post(`/enseignant/seances/${key(clarinet.id, before)}`, { _csrf: token })).statusCode,
      404,
    )
    t.equal((await prof.get('/enseignant/seances/pas-une-seance')).statusCode, 404)
    t.equal(
      (await prof.get(`/enseignant/seances/${key(clarinet.id, addDays(ref, -5))}`)).statusCode,
      404,
      'holidays',
    )

    let coming = addDays(w.data.today, 1)
    while (closureOn(w.tenants[0]!, coming)) coming = addDays(coming, 1)
    const futureUrl = `/enseignant/seances/${key(clarinet.id, coming)}`
    const future = await prof.get(futureUrl)
    t.equal(future.statusCode, 200)
    t.match(text(html(future.body).text), 'n’a pas encore eu lieu')
    t.notOk(html(future.body).querySelector('form.roll-call'), 'no form before the day')
    const early = await prof.post(futureUrl, { _csrf: token, [`eleve-${e1.id}`]: 'absent' })
    t.equal(early.statusCode, 400)
    t.match(
      text(html(early.body).querySelector('[role="alert"]')?.text),
      'l’appel se fait le jour du cours, pas avant',
    )

    const cancelledOn = addDays(ref, 4)
    em.create(Lesson, {
      course: clarinet,
      on: cancelledOn,
      slot: 4,
      cancelledAt: new Date(),
      cancelReason: 'Grève',
      changedBy: accounts.secretariat.id,
    })
    await em.flush()
    const cancelledUrl = `/enseignant/seances/${key(clarinet.id, cancelledOn)}`
    const cancelled = await prof.get(cancelledUrl)
    t.match(text(html(cancelled.body).text), 'Cette séance est annulée : pas d’appel à faire. Motif : Grève')
    t.notOk(html(cancelled.body).querySelector('form.roll-call'))
    const refused = await prof.post(cancelledUrl, { _csrf: token, [`eleve-${e1.id}`]: 'absent' })
    t.equal(refused.statusCode, 400)
    t.match(
      text(html(refused.body).querySelector('[role="alert"]')?.text),
      'son appel ne peut pas être enregistré',
    )
    t.equal(await em.fork().count(Attendance, {}), 0, 'still nothing saved')

    // another teacher's lesson, another tenant's host
    t.equal((await prof.get(`/enseignant/seances/${key(w.data.violin.id, on)}`)).statusCode, 404)
    const third = await w.signIn('prof', w.host(2))
    t.equal((await third.get(url)).statusCode, 404, 'another tenant’s lesson key')
  },
)

t.test('staff open and correct any roll call, audited; families and teachers are refused', async (t) => {
  const w = await world(t)
  const { clarinet, ref, e1, em } = w.data
  const on = addDays(ref, 2)
  const staffUrl = `/admin/seances/${key(clarinet.id, on)}`
  const staff = await w.signIn('secretariat', w.host(), '/admin/connexion')
  const page = await staff.get(staffUrl)
  t.equal(page.statusCode, 200)
  t.same(statusesOn(page.body), { 'Léa Durand': 'present', 'Léa Martin': 'present' })
  const res = await staff.submit(staffUrl, staffUrl, { [`eleve-${e1.id}`]: 'excused' })
  t.equal(res.statusCode, 303)
  t.equal(res.headers.location, `${staffUrl}?fait=1`)
  t.same(statusesOn((await staff.get(staffUrl)).body)['Léa Martin'], 'excused')
  const events = await em.fork().find(AuditEvent, { action: 'attendance.corrected' })
  t.equal(events.length, 1)
  t.match(events[0]?.details, { course: 'Clarinette 1C2', date: on, changed: 1 })
  t.equal(await em.fork().count(OutboxMail, { template: 'absence-unexcused' }), 0, 'excused: no mail')
  // the teacher sees the correction
  const prof = await w.signIn('prof')
  t.same(
    statusesOn((await prof.get(`/enseignant/seances/${key(clarinet.id, on)}`)).body)['Léa Martin'],
    'excused',
  )

  const family = await w.signIn('famille', w.host(), '/connexion')
  for (const browser of [prof, family]) {
    t.equal((await browser.get(staffUrl)).statusCode, 403)
    t.equal((await browser.post(staffUrl, { _csrf: 'x', [`eleve-${e1.id}`]: 'absent' })).statusCode, 403)
  }
  t.equal((await family.get(`/enseignant/seances/${key(clarinet.id, on)}`)).statusCode, 403)
  const other = await w.signIn('secretariat', w.host(2), '/admin/connexion')
  t.equal((await other.get(`/admin/seances/${key(999, on)}`)).statusCode, 404)
})
