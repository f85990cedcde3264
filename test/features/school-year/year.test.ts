import t from 'tap'
import { Family } from '../../../src/features/family/entities.ts'
import { Preregistration } from '../../../src/features/preregistration/entities.ts'
import { Pupil } from '../../../src/features/pupils/entities.ts'
import { Reenrolment } from '../../../src/features/reenrolment/entities.ts'
import { Course, Enrolment, SchoolYear } from '../../../src/features/teaching/entities.ts'
import { AuditEvent } from '../../../src/platform/audit/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { type Browser, createAccount, signedInBrowser } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { createFamily } from '../../helpers/families.ts'
import { demoTenant, enrolIn } from '../../helpers/reenrolment.ts'

const text = (value: string | undefined) => (value ?? '').replace(/\s+/g, ' ').trim()

/**
 * Limonest (formation musicale mandatory, re-enrolment for 2027-2028) and a second conservatoire.
 * Léa Martin re-enrols: clarinet kept, orchestra dropped, formation musicale unticked (mandatory),
 * and asks for theatre; Hugo Durand's re-enrolment awaits a decision.
 */
async function setUp(t: Parameters<typeof build>[0]) {
  const built = await build(t, { tenants: [demoTenant('limonest'), demoTenant('limonest')] })
  const { app, tenants } = built
  const slug = tenants[0]!.slug
  const em = () => app.orm.em.fork({ schema: schemaFor(slug) })
  const martin = await createFamily(app, slug, 'famille-martin')
  const durand = await createFamily(app, slug, 'famille-durand', 'Durand')
  const site = tenants[0]!.establishments[0]!.code
  const [clarinet, fm, orchestra, closed] = await enrolIn(
    app,
    slug,
    martin.pupil,
    ['clarinette', 'formation-musicale', 'orchestre', 'danse-enfant'],
    site,
  )
  await enrolIn(app, slug, durand.pupil, ['clarinette'], site)
  const setup = em()
  await setup.nativeUpdate(
    Course,
    { id: clarinet!.id },
    {
      room: 'Salle Ravel',
      capacity: 6,
      cycle: '1C2',
      slot: 'Mercredi 14h00 – 14h30',
      slots: [{ day: 3, start: '14:00', end: '14:30' }],
    },
  )
  await setup.nativeUpdate(Course, { id: closed!.id }, { closedAt: new Date() })
  setup.create(Reenrolment, {
    family: martin.family.id,
    pupil: martin.pupil.id,
    schoolYear: '2027-2028',
    status: 'validated',
    answers: {
      keep: { [clarinet!.id]: true, [fm!.id]: false, [orchestra!.id]: false },
      newDisciplines: 'Du théâtre, si possible',
      accepted: true,
    },
  })
  setup.create(Reenrolment, {
    family: durand.family.id,
    pupil: durand.pupil.id,
    schoolYear: '2027-2028',
    status: 'submitted',
    answers: { accepted: true },
  })
  await setup.flush()
  await createAccount(app, slug, { identifiant: 'secretariat', role: 'secretariat' })
  const staff = await signedInBrowser(app, built.host(), 'secretariat', '/admin/connexion')
  return { ...built, slug, em, martin, durand, clarinet: clarinet!, fm: fm!, orchestra: orchestra!, staff }
}

async function press(browser: Browser, action: string, fields: Record<string, string> = {}) {
  return browser.submit('/admin/annee', action, fields)
}

t.test('preparing next year, copying, enrolling the re-enrolled, placing and switching', async (t) => {
  const { app, em, staff, martin, durand, clarinet, host } = await setUp(t)

  let page = html((await staff.get('/admin/annee')).body)
  t.match(text(page.querySelector('table')?.text), /2026-2027 En cours/, 'the current year is listed')
  t.equal(
    text(page.querySelector('form[action="/admin/annee/preparer"] button')?.text),
    'Préparer l’année 2027-2028',
  )

  // prepared twice: one year
  t.equal((await press(staff, '/admin/annee/preparer')).statusCode, 303)
  t.equal((await staff.post('/admin/annee/preparer', { _csrf: csrfOf(page) })).statusCode, 303)
  const next = await em().find(SchoolYear, { label: '2027-2028' })
  t.equal(next.length, 1, 'one next year, however many clicks')
  t.match(next[0], { startsOn: '2027-09-01', endsOn: '2028-08-31', current: false })
  t.equal(await em().count(AuditEvent, { action: 'schoolYear.prepared' }), 1)

  // the copy: its preview, the fields carried over, closed courses left, nothing copied twice
  page = html((await staff.get('/admin/annee')).body)
  t.match(
    text(page.querySelector('#copy-title')?.parentNode?.text),
    /Cours de 2026-2027 à copier vers 2027-2028 : 4/,
  )
  t.equal((await press(staff, '/admin/annee/cours')).statusCode, 303)
  t.equal((await staff.post('/admin/annee/cours', { _csrf: csrfOf(page) })).statusCode, 303)
  const copies = await em().find(Course, { schoolYear: next[0]! }, { orderBy: { id: 'asc' } })
  t.equal(copies.length, 4, 'four open courses copied once, the closed one left out')
  const copy = copies.find((c) => c.copiedFromId === clarinet.id)!
  t.match(copy, {
    name: 'Cours clarinette',
    discipline: 'clarinette',
    cycle: '1C2',
    room: 'Salle Ravel',
    capacity: 6,
    slot: 'Mercredi 14h00 – 14h30',
    slots: [{ day: 3, start: '14:00', end: '14:30' }],
    closedAt: null,
  })
  t.equal(copy.teacher?.id, clarinet.teacher?.id, 'the teacher carried over')
  page = html((await staff.get('/admin/annee')).body)
  t.ok(page.querySelector('a[href="/admin/cours?annee=2027-2028"]'), 'the catalogue of next year is linked')

  // re-enrolments: the preview names the pupil and the courses; kept and mandatory in, dropped out
  const plan = page.querySelector('#reenrol-title')!.parentNode!
  t.match(text(plan.text), /Inscriptions à créer : 2/)
  t.match(text(plan.querySelector('tbody')?.text), /Camille Martin|Martin/)
  t.match(text(plan.querySelector('tbody')?.text), /Cours formation-musicale \(obligatoire\)/)
  t.equal((await press(staff, '/admin/annee/inscriptions')).statusCode, 303)
  t.equal((await staff.post('/admin/annee/inscriptions', { _csrf: csrfOf(page) })).statusCode, 303)
  const enrolled = await em().find(
    Enrolment,
    { pupil: martin.pupil.id, course: { schoolYear: next[0]! } },
    { populate: ['course'] },
  )
  t.same(
    enrolled.map((e) => e.course.discipline).sort(),
    ['clarinette', 'formation-musicale'],
    'kept and mandatory, once',
  )
  t.equal(
    await em().count(Enrolment, { pupil: durand.pupil.id, course: { schoolYear: next[0]! } }),
    0,
    'a pending one waits',
  )

  // placement: the theatre request and an accepted pré-inscription, refused beyond capacity
  const setup = em()
  const theatre = setup.create(Course, {
    schoolYear: next[0]!,
    discipline: 'theatre',
    establishment: copy.establishment,
    name: 'Théâtre ados',
    capacity: 1,
    slot: 'Vendredi 18h00',
  })
  setup.create(Enrolment, { pupil: durand.pupil.id, course: theatre })
  const newcomers = setup.create(Family, {})
  const zoe = setup.create(Pupil, { family: newcomers, firstName: 'Zoé', lastName: 'Petit' })
  setup.create(Preregistration, {
    tokenHash: 'a'.repeat(64),
    status: 'accepted',
    email: 'petit@example.fr',
    guardians: [{ firstName: 'Anne', lastName: 'Petit' }],
    applicants: [
      {
        fromGuardian: false,
        values: { firstName: 'Zoe', lastName: 'PETIT' },
        choices: ['theatre', 'clarinette'],
        freeText: null,
      },
    ],
    decidedAt: new Date(),
    family: newcomers,
  })
  await setup.flush()
  page = html((await staff.get('/admin/annee/placement')).body)
  const rows = page.querySelectorAll('tbody tr')
  t.equal(rows.length, 2, 'two pupils wait')
  t.match(text(page.querySelector('tbody')?.text), /Du théâtre, si possible/)
  t.match(text(page.querySelector('tbody')?.text), /1\. Théâtre, 2\. Clarinette/)
  t.match(text(page.querySelector(`#course-d1-${zoe.id}`)?.text ?? ''), /Théâtre ados .*places restantes : 0/)
  const key = `d${(await em().findOneOrFail(Preregistration, { email: 'petit@example.fr' })).id}-${zoe.id}`
  let res = await staff.submit('/admin/annee/placement', '/admin/annee/placement', {
    pupil: String(zoe.id),
    key,
    course: String(theatre.id),
  })
  t.equal(res.statusCode, 400, 'a full course is refused')
  page = html(res.body)
  t.match(
    text(page.querySelector(`#course-${key}-error`)?.text),
    /Le cours Théâtre ados est complet \(1 places\)/,
  )
  t.equal(await em().count(Enrolment, { pupil: zoe.id }), 0)
  await em().nativeUpdate(Course, { id: theatre.id }, { capacity: 3 })
  res = await staff.submit('/admin/annee/placement', '/admin/annee/placement', {
    pupil: String(zoe.id),
    key,
    course: String(theatre.id),
  })
  t.equal(res.statusCode, 303)
  res = await staff.submit('/admin/annee/placement', '/admin/annee/placement', {
    pupil: String(martin.pupil.id),
    key: 'r1',
    course: String(theatre.id),
  })
  t.equal(res.statusCode, 303)
  t.equal(await em().count(AuditEvent, { action: 'enrolment.placed' }), 2, 'placements audited')
  page = html((await staff.get('/admin/annee/placement')).body)
  t.equal(page.querySelectorAll('tbody tr').length, 0, 'nobody waits any more')

  // the switch: refused while a decision is pending, then forced with a reason
  page = html((await staff.get('/admin/annee')).body)
  const preview = text(page.querySelector('#changer')?.text)
  t.match(preview, /Inscriptions en 2027-2028 : 5/)
  t.match(preview, /Réinscriptions encore en attente de décision : 1/)
  t.match(preview, /Élèves de 2026-2027 sans aucun cours en 2027-2028 : 0/)
  res = await press(staff, '/admin/annee/changer')
  t.equal(res.statusCode, 400)
  t.match(
    text(html(res.body).querySelector('#force-error')?.text),
    /Réinscriptions en attente de décision : 1/,
  )
  res = await press(staff, '/admin/annee/changer', { force: 'true', reason: '  ' })
  t.equal(res.statusCode, 400, 'forcing needs a reason')
  page = html(res.body)
  t.match(text(page.querySelector('#reason-error')?.text), /Indiquez la raison/)
  t.ok(page.querySelector('#force')?.hasAttribute('checked'), 'what was ticked is kept')
  t.equal((await em().findOneOrFail(SchoolYear, { current: true })).label, '2026-2027', 'nothing switched')

  // a family page read before the switch keeps the old year in the cache until the switch
  const family = await signedInBrowser(app, host(), 'famille-martin')
  t.match(
    text(html((await family.get(`/eleves/${martin.pupil.id}/cours`)).body).querySelector('main')?.text),
    /Cours orchestre/,
  )

  res = await press(staff, '/admin/annee/changer', {
    force: 'true',
    reason: 'Conseil pédagogique du 30 juin',
  })
  t.equal(res.statusCode, 303)
  t.equal((await em().findOneOrFail(SchoolYear, { current: true })).label, '2027-2028')
  const switched = await em().findOneOrFail(AuditEvent, { action: 'schoolYear.switched' })
  t.match(switched.details, {
    from: '2026-2027',
    to: '2027-2028',
    forced: true,
    reason: 'Conseil pédagogique du 30 juin',
    pending: 1,
  })

  // families see next year's courses, and the old year in their history
  const courses = text(
    html((await family.get(`/eleves/${martin.pupil.id}/cours`)).body).querySelector('main')?.text,
  )
  t.match(courses, /Théâtre ados/)
  t.notMatch(courses, /Cours orchestre/, 'last year is no longer this year')
  t.match(
    text(html((await family.get(`/eleves/${martin.pupil.id}/historique`)).body).querySelector('main')?.text),
    /2026-2027/,
  )
  page = html((await staff.get('/admin/annee')).body)
  t.match(text(page.querySelector('table')?.text), /2027-2028 En cours/)
  t.match(text(page.querySelector('table')?.text), /2026-2027 Passée/)
  t.match(
    text(page.querySelector('#prepare-title')?.parentNode?.text),
    /2028-2029/,
    'the year after can be prepared',
  )
})

function csrfOf(page: ReturnType<typeof html>): string {
  return page.querySelector('input[name="_csrf"]')!.getAttribute('value')!
}

t.test('another conservatoire sees none of it and cannot place with these ids', async (t) => {
  const { app, em, host, tenants, martin, clarinet } = await setUp(t)
  const other = tenants[1]!.slug
  await createAccount(app, other, { identifiant: 'secretariat-2', role: 'secretariat' })
  const stranger = await signedInBrowser(app, host(1), 'secretariat-2', '/admin/connexion')
  const page = html((await stranger.get('/admin/annee')).body)
  t.equal(page.querySelectorAll('tbody tr').length, 0, 'no year of the first conservatoire')
  t.match(text(page.querySelector('main')?.text), /Aucune année scolaire n’est en cours/)
  const theirs = app.orm.em.fork({ schema: schemaFor(other) })
  theirs.create(SchoolYear, {
    label: '2026-2027',
    startsOn: '2026-09-01',
    endsOn: '2027-08-31',
    current: true,
  })
  theirs.create(SchoolYear, { label: '2027-2028', startsOn: '2027-09-01', endsOn: '2028-08-31' })
  await theirs.flush()
  const token = html((await stranger.get('/admin/annee')).body)
    .querySelector('input[name="_csrf"]')!
    .getAttribute('value')!
  const res = await stranger.post('/admin/annee/placement', {
    _csrf: token,
    pupil: String(martin.pupil.id),
    key: 'r1',
    course: String(clarinet.id),
  })
  t.equal(res.statusCode, 400, 'an id of another conservatoire is no course here')
  t.match(text(html(res.body).querySelector('.error-summary')?.text), /Choisissez un cours ouvert/)
  t.equal(await em().count(Enrolment, { pupil: martin.pupil.id }), 4, 'nothing enrolled in the first one')
  const direction = tenants[0]!.slug
  await createAccount(app, direction, { identifiant: 'direction', role: 'direction' })
  const reader = await signedInBrowser(app, host(), 'direction', '/admin/connexion')
  const seen = html((await reader.get('/admin/annee')).body)
  t.ok(seen.querySelector('h1'), 'direction sees the page')
  t.notOk(seen.querySelector('form[action="/admin/annee/preparer"]'), 'without the buttons')
})
