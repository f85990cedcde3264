import t from 'tap'
import { addDays, closureOn } from '../../../src/features/lessons/calendar.ts'
import { AbsenceNotice, Attendance, Lesson } from '../../../src/features/lessons/entities.ts'
import { AuditEvent } from '../../../src/platform/audit/entities.ts'
import { OutboxMail } from '../../../src/platform/mail/entities.ts'
import type { Browser } from '../../helpers/accounts.ts'
import { html } from '../../helpers/build.ts'
import { key, statusesOn, text, world } from '../../helpers/register.ts'

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
    const off = await w.signIn('prof', w.host(2))
    const offUrl = `/enseignant/seances/${key(w.mailOff.clarinet.id, on)}`
    t.equal((await off.submit(offUrl, offUrl, { [`eleve-${w.mailOff.e1.id}`]: 'absent' })).statusCode, 303)
    t.equal(await w.mailOff.em.fork().count(OutboxMail, {}), 0, 'no absence mail when switched off')
    t.equal(await w.mailOff.em.fork().count(Attendance, { status: 'absent' }), 1)
  },
)

t.test(
  'the roll call refuses what is not one: pupil, status, lesson, year, day to come, cancelled',
  async (t) => {
    const w = await world(t, 2)
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
    const expected = html(future.body)
    t.notOk(expected.querySelector('button.roll-call__save'), 'nothing to save before the day')
    t.ok(
      expected.querySelectorAll('.roll-call__pupil fieldset').every((f) => f.hasAttribute('disabled')),
      'the pupils expected, read only',
    )
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
    const third = await w.signIn('prof', w.host(1))
    t.equal((await third.get(url)).statusCode, 404, 'another tenant’s lesson key')
  },
)

t.test('staff open and correct any roll call, audited; families and teachers are refused', async (t) => {
  const w = await world(t, 2)
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
  const other = await w.signIn('secretariat', w.host(1), '/admin/connexion')
  t.equal((await other.get(`/admin/seances/${key(999, on)}`)).statusCode, 404)
})
