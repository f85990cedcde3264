import t from 'tap'
import { addDays, closureOn, mondayOf } from '../../../src/features/lessons/calendar.ts'
import { Lesson } from '../../../src/features/lessons/entities.ts'
import { html } from '../../helpers/build.ts'
import { key, text, world } from '../../helpers/register.ts'

t.test(
  'the week: lessons in order, holidays named, cancelled and moved lessons shown, courses of the year',
  async (t) => {
    const w = await world(t, 1)
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

  const second = await w.signIn('prof', w.host(2))
  const emailOnly = html((await second.get(`/enseignant/cours/${w.mailOff.clarinet.id}`)).body)
  t.equal(
    emailOnly.querySelectorAll('.roster a[href^="tel:"]').length,
    0,
    'no phone when the tenant says email',
  )
  t.equal(emailOnly.querySelectorAll('.roster a[href^="mailto:"]').length, 2)

  const third = await w.signIn('prof', w.host(1))
  const none = html((await third.get(`/enseignant/cours/${w.shifted.clarinet.id}`)).body)
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
