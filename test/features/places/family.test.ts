import t from 'tap'
import { OfferItem, PlaceRequest } from '../../../src/features/places/entities.ts'
import { tokenHashOf } from '../../../src/features/places/service.ts'
import { Reenrolment } from '../../../src/features/reenrolment/entities.ts'
import { Course, Enrolment, SchoolYear } from '../../../src/features/teaching/entities.ts'
import { OutboxMail } from '../../../src/platform/mail/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser, createAccount, goodPassword } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { createFamily } from '../../helpers/families.ts'
import { demoTenant, enrolIn, reenrollingFamily, wizardValues } from '../../helpers/reenrolment.ts'

const text = (value: string | undefined) => (value ?? '').replace(/\s+/g, ' ').trim()
const day = 24 * 60 * 60 * 1000

t.test('re-enrolment: ranked requests of next year’s offer, their states, the answers', async (t) => {
  const built = await build(t, { tenants: [demoTenant('limonest'), demoTenant('limonest')] })
  const { app } = built
  const tenant = built.tenants[0]!
  const em = () => app.orm.em.fork({ schema: schemaFor(tenant.slug) })
  const site = tenant.establishments[0]!.code
  const martin = await reenrollingFamily(app, tenant.slug)
  const [discovery] = await enrolIn(app, tenant.slug, martin.pupil, ['decouverte-instrumentale'], site)
  await em().nativeUpdate(Course, { id: discovery!.id }, { cycle: 'DI' })
  const durand = await createFamily(app, tenant.slug, 'famille-durand', 'Durand')
  await enrolIn(app, tenant.slug, durand.pupil, ['piano'], site)

  // next year, prepared, with its offer
  const setup = em()
  const next = setup.create(SchoolYear, { label: '2027-2028', startsOn: '2027-09-01', endsOn: '2028-08-31' })
  const violinCourse = setup.create(Course, {
    schoolYear: next,
    discipline: 'violon',
    establishment: site,
    name: 'Violon 1C1',
  })
  await setup.flush()
  const published = new Date()
  const item = (label: string, discipline: string, extra: Partial<OfferItem> = {}) =>
    setup.create(OfferItem, {
      schoolYear: next,
      label,
      discipline,
      seats: 1,
      publishedAt: published,
      ...extra,
    } as OfferItem)
  const piano = item('Piano — débutant', 'piano', { levels: ['DI'] } as Partial<OfferItem>)
  const violin = item('Violon — débutant', 'violon', { courseIds: [violinCourse.id] } as Partial<OfferItem>)
  const guitar = item('Guitare — éveil', 'guitare', { maxAge: 8 } as Partial<OfferItem>)
  const advanced = item('Cor — 2e cycle', 'cor', { levels: ['2C1'] } as Partial<OfferItem>)
  const hidden = item('Harpe', 'harpe', { publishedAt: null } as Partial<OfferItem>)
  const kept = item('Découverte — suite', 'decouverte-instrumentale')
  await setup.flush()

  const browser = new Browser(app, built.host())
  await browser.submit('/connexion', '/connexion', { identifiant: 'famille-martin', password: goodPassword })
  const base = `/eleves/${martin.pupil.id}/reinscription`
  // the steps before the courses, answered
  const drafts = em()
  drafts.create(Reenrolment, {
    family: martin.family.id,
    pupil: martin.pupil.id,
    schoolYear: '2027-2028',
    status: 'draft',
    step: 'courses',
    answers: { paymentMode: 'prelevement', imageRights: true, exitAuthorization: false },
  })
  await drafts.flush()
  const post = async (url: string, changes: Record<string, string>) => {
    const page = await browser.get(url)
    return browser.post(url, { ...wizardValues(page.body), ...changes })
  }

  const courses = html((await browser.get(`${base}/cours`)).body)
  const legends = courses.querySelectorAll('fieldset legend').map((l) => text(l.text))
  t.ok(legends.includes('Cours disponibles pour l’année prochaine'))
  t.same(
    courses.querySelectorAll('#choice-1 option').map((o) => text(o.text)),
    ['— aucun —', 'Piano — débutant', 'Violon — débutant'],
    'eligible, published items, without the discipline kept, too young or the wrong level',
  )
  t.same(
    ['choice-1', 'choice-2', 'choice-3'].map((id) => text(courses.querySelector(`label[for="${id}"]`)?.text)),
    ['Choix 1', 'Choix 2', 'Choix 3'],
  )
  t.equal(
    text(courses.querySelector('label[for="question-administrative"]')?.text),
    'Réinscription administrative',
    'the question for the Découverte instrumentale',
  )
  t.match(text(courses.querySelector('#question-administrative-hint')?.text), 'cours disponibles ci-dessous')

  const twice = await post(`${base}/cours`, {
    action: 'next',
    'choice-1': String(piano.id),
    'choice-2': String(piano.id),
    'question-administrative': 'true',
  })
  t.equal(twice.statusCode, 400)
  const twicePage = html(twice.body)
  t.equal(
    twicePage.querySelector('#choice-2-error')?.text,
    'Ce cours est déjà votre choix 1 : choisissez-en un autre ou laissez vide.',
  )
  t.equal(twicePage.querySelector('#choice-2')?.getAttribute('aria-invalid'), 'true')
  t.equal(twicePage.querySelector('#choice-1 option[selected]')?.getAttribute('value'), String(piano.id))
  t.equal(
    twicePage.querySelector('#choice-2 option[selected]')?.getAttribute('value'),
    String(piano.id),
    'what was chosen is kept',
  )
  for (const wrong of [guitar.id, advanced.id, hidden.id, kept.id, 999999]) {
    const refused = await post(`${base}/cours`, { action: 'next', 'choice-1': String(wrong) })
    t.equal(refused.statusCode, 400)
    t.equal(
      html(refused.body).querySelector('#choice-1-error')?.text,
      'Ce cours n’est pas proposé à cet élève : choisissez-en un dans la liste.',
    )
  }
  const ranked = await post(`${base}/cours`, {
    action: 'next',
    'choice-1': String(violin.id),
    'choice-2': String(piano.id),
    'question-administrative': 'true',
  })
  t.equal(ranked.headers.location, `${base}/recapitulatif`)
  const draft = await em().findOneOrFail(Reenrolment, { pupil: martin.pupil.id })
  t.same(draft.answers.requests, [violin.id, piano.id])
  t.same(draft.answers.questions, { administrative: true })
  t.equal(await em().count(PlaceRequest), 0, 'nothing asked before the submission')

  const summary = html((await browser.get(`${base}/recapitulatif`)).body)
  const lines = summary
    .querySelectorAll('dl.summary div')
    .map((d) => `${text(d.querySelector('dt')?.text)}: ${text(d.querySelector('dd')?.text)}`)
  t.ok(lines.includes('Demande 1: Violon — débutant'))
  t.ok(lines.includes('Demande 2: Piano — débutant'))
  t.ok(lines.includes('Réinscription administrative: Oui'))

  t.equal((await post(`${base}/recapitulatif`, {})).headers.location, `${base}/finalisation`)
  const sent = await post(`${base}/finalisation`, { accepted: 'true', action: 'submit' })
  t.equal(sent.statusCode, 303)
  const submitted = await em().findOneOrFail(Reenrolment, { pupil: martin.pupil.id })
  t.equal(submitted.status, 'submitted')
  const requests = await em().find(PlaceRequest, {}, { orderBy: { rank: 'asc' } })
  t.same(
    requests.map((r) => [r.item.id, r.rank, r.state, r.source, r.pupil?.id, r.family?.id, r.name]),
    [
      [violin.id, 1, 'waiting', 'reenrolment', martin.pupil.id, martin.family.id, 'Léa Martin'],
      [piano.id, 2, 'waiting', 'reenrolment', martin.pupil.id, martin.family.id, 'Léa Martin'],
    ],
  )
  t.equal(requests[0]!.requestedAt.getTime(), submitted.submittedAt!.getTime())
  const mail = await em().findOneOrFail(OutboxMail, { subject: { $like: '%Réinscription 2027%' } })
  t.match(JSON.stringify(mail), 'Demande 1')

  // the choice page: the requests and their states
  const choice = html((await browser.get(base)).body)
  t.same(
    choice.querySelectorAll('.place-request').map((li) => text(li.text)),
    ['Choix 1 — Violon — débutant : en attente', 'Choix 2 — Piano — débutant : en attente'],
  )

  // an allocation put Léa second on the piano's waiting list, after another family's pupil
  const [violinRequest, pianoRequest] = requests
  const others = em()
  const other = others.create(PlaceRequest, {
    item: piano.id,
    source: 'reenrolment',
    pupil: durand.pupil.id,
    family: durand.family.id,
    name: 'Léa Durand',
    rank: 1,
    requestedAt: new Date(Date.now() - day),
    state: 'waitlisted',
    queueOrder: 0,
  })
  await others.flush()
  await em().nativeUpdate(PlaceRequest, { id: pianoRequest!.id }, { state: 'waitlisted', queueOrder: 1 })
  const waiting = await browser.get(`/eleves/${martin.pupil.id}/places`)
  t.equal(waiting.statusCode, 200)
  t.match(
    text(html(waiting.body).querySelector('.place-requests')?.text),
    'Choix 2 — Piano — débutant : liste d’attente Position 2 sur la liste d’attente — 1 places dans ce cours',
  )
  t.notMatch(waiting.body, 'Durand', 'never another family’s name')
  t.match(text(html(waiting.body).querySelector('.place-rules')?.text), 'Comment l’ordre est décidé')

  // a seat proposed: the home page says so, the page answers it
  const answerBy = new Date(Date.now() + 3 * day)
  await em().nativeUpdate(
    PlaceRequest,
    { id: violinRequest!.id },
    { state: 'proposed', offeredAt: new Date(), answerBy },
  )
  const home = html((await browser.get('/accueil')).body)
  t.match(
    text(home.querySelector('.alert a[href$="/places"]')?.text),
    /^Une place est proposée à Léa : répondre avant le \d{2}\/\d{2}\/\d{4}$/,
  )
  const places = html((await browser.get(`/eleves/${martin.pupil.id}/places`)).body)
  t.match(text(places.querySelector('.place-request')?.text), 'place proposée — à accepter avant le')
  t.ok(places.querySelector(`form[action="/eleves/${martin.pupil.id}/places/${violinRequest!.id}/accepter"]`))
  const confirm = await browser.get(`/eleves/${martin.pupil.id}/places/${violinRequest!.id}/refuser`)
  t.equal(
    text(html(confirm.body).querySelector('h2#decline-title')?.text),
    'Refuser la place en Violon — débutant ?',
  )
  t.match(html(confirm.body).querySelector('.panel p')?.text, 'définitif')

  // another family: neither Léa's page nor her request
  const otherBrowser = new Browser(app, built.host())
  await otherBrowser.submit('/connexion', '/connexion', {
    identifiant: 'famille-durand',
    password: goodPassword,
  })
  t.equal((await otherBrowser.get(`/eleves/${martin.pupil.id}/places`)).statusCode, 404)
  const ownPage = html((await otherBrowser.get(`/eleves/${durand.pupil.id}/places`)).body)
  const token =
    ownPage.querySelector('input[name="_csrf"]')?.getAttribute('value') ??
    html((await otherBrowser.get('/mot-de-passe')).body)
      .querySelector('input[name="_csrf"]')!
      .getAttribute('value')!
  t.equal(
    (
      await otherBrowser.post(`/eleves/${durand.pupil.id}/places/${violinRequest!.id}/accepter`, {
        _csrf: token,
      })
    ).statusCode,
    404,
  )
  t.equal(
    (
      await otherBrowser.post(`/eleves/${martin.pupil.id}/places/${violinRequest!.id}/accepter`, {
        _csrf: token,
      })
    ).statusCode,
    404,
  )
  t.equal((await em().findOneOrFail(PlaceRequest, violinRequest!.id)).state, 'proposed')

  // too late: refused, the seat goes on
  await em().nativeUpdate(PlaceRequest, { id: violinRequest!.id }, { answerBy: new Date(Date.now() - 1000) })
  const late = await browser.submit(
    `/eleves/${martin.pupil.id}/places`,
    `/eleves/${martin.pupil.id}/places/${violinRequest!.id}/accepter`,
    {},
  )
  t.equal(late.statusCode, 409)
  t.equal(
    text(html(late.body).querySelector('.alert--error')?.text),
    'Le délai de réponse est passé : la place a été proposée à la demande suivante.',
  )
  t.equal((await em().findOneOrFail(PlaceRequest, violinRequest!.id)).state, 'expired')

  // the piano's seat: offered to Léa, declined; then offered again and accepted
  await em().nativeUpdate(PlaceRequest, { id: other.id }, { state: 'declined' })
  await em().nativeUpdate(
    PlaceRequest,
    { id: pianoRequest!.id },
    { state: 'proposed', offeredAt: new Date(), answerBy },
  )
  const declined = await browser.submit(
    `/eleves/${martin.pupil.id}/places/${pianoRequest!.id}/refuser`,
    `/eleves/${martin.pupil.id}/places/${pianoRequest!.id}/refuser`,
    {},
  )
  t.equal(declined.statusCode, 200)
  t.equal(
    text(html(declined.body).querySelector('.alert--success')?.text),
    'Place refusée : elle est proposée à la demande suivante.',
  )
  t.equal((await em().findOneOrFail(PlaceRequest, pianoRequest!.id)).state, 'declined')
  const again = await browser.post(`/eleves/${martin.pupil.id}/places/${pianoRequest!.id}/accepter`, {
    _csrf: html(declined.body).querySelector('input[name="_csrf"]')?.getAttribute('value') ?? token,
  })
  t.equal(again.statusCode, 409, 'a seat declined cannot be accepted')

  await em().nativeUpdate(
    PlaceRequest,
    { id: violinRequest!.id },
    { state: 'proposed', offeredAt: new Date(), answerBy },
  )
  const accepted = await browser.submit(
    `/eleves/${martin.pupil.id}/places`,
    `/eleves/${martin.pupil.id}/places/${violinRequest!.id}/accepter`,
    {},
  )
  t.equal(accepted.statusCode, 200)
  t.match(text(html(accepted.body).querySelector('.alert--success')?.text), 'Place acceptée')
  t.equal((await em().findOneOrFail(PlaceRequest, violinRequest!.id)).state, 'accepted')
  t.ok(
    await em().findOne(Enrolment, { pupil: martin.pupil.id, course: violinCourse.id, active: true }),
    'enrolled in the item’s course',
  )

  // the Limonest question is asked only after the Découverte instrumentale
  const durandDraft = em()
  durandDraft.create(Reenrolment, {
    family: durand.family.id,
    pupil: durand.pupil.id,
    schoolYear: '2027-2028',
    status: 'draft',
    step: 'courses',
  })
  await durandDraft.flush()
  const durandCourses = html((await otherBrowser.get(`/eleves/${durand.pupil.id}/reinscription/cours`)).body)
  t.ok(durandCourses.querySelector('#keep-1, input[name^="keep-"]'), 'the courses step')
  t.notOk(durandCourses.querySelector('#question-administrative'), 'not asked of a piano pupil')

  // another tenant's host knows neither the pupil nor a link of this tenant
  await em().nativeUpdate(PlaceRequest, { id: other.id }, { tokenHash: tokenHashOf('jeton-martin') })
  const elsewhere = new Browser(app, built.host(1))
  t.equal((await elsewhere.get('/places/reponse/jeton-martin')).statusCode, 404)
  t.equal((await browser.get('/places/reponse/jeton-inconnu')).statusCode, 404)
})

t.test('staff refusing a re-enrolment withdraw its open requests', async (t) => {
  const built = await build(t, { tenants: [demoTenant('limonest')] })
  const { app } = built
  const tenant = built.tenants[0]!
  const em = () => app.orm.em.fork({ schema: schemaFor(tenant.slug) })
  const martin = await createFamily(app, tenant.slug, 'famille-martin')
  const setup = em()
  const next = setup.create(SchoolYear, { label: '2027-2028', startsOn: '2027-09-01', endsOn: '2028-08-31' })
  setup.create(SchoolYear, {
    label: '2026-2027',
    startsOn: '2026-09-01',
    endsOn: '2027-08-31',
    current: true,
  })
  const piano = setup.create(OfferItem, {
    schoolYear: next,
    label: 'Piano',
    discipline: 'piano',
    seats: 2,
    publishedAt: new Date(),
  } as OfferItem)
  const violin = setup.create(OfferItem, {
    schoolYear: next,
    label: 'Violon',
    discipline: 'violon',
    seats: 2,
    publishedAt: new Date(),
  } as OfferItem)
  const row = setup.create(Reenrolment, {
    family: martin.family.id,
    pupil: martin.pupil.id,
    schoolYear: '2027-2028',
    status: 'submitted',
    submittedAt: new Date(),
    updatedBy: martin.account.id,
    answers: { requests: [] },
  })
  await setup.flush()
  for (const [item, rank, state] of [
    [piano, 1, 'waiting'],
    [violin, 2, 'waitlisted'],
  ] as const)
    setup.create(PlaceRequest, {
      item,
      source: 'reenrolment',
      pupil: martin.pupil.id,
      family: martin.family.id,
      reenrolment: row,
      name: 'Léa Martin',
      rank,
      requestedAt: new Date(),
      state,
    })
  await setup.flush()
  await createAccount(app, tenant.slug, { identifiant: 'secretariat', role: 'secretariat' })
  const office = new Browser(app, built.host())
  await office.submit('/admin/connexion', '/admin/connexion', {
    identifiant: 'secretariat',
    password: goodPassword,
  })
  const url = `/admin/reinscriptions/${row.id}`
  t.equal((await office.submit(url, url, { decision: 'refused', reason: 'Hors délai.' })).statusCode, 303)
  t.same(
    (await em().find(PlaceRequest, {}, { orderBy: { rank: 'asc' } })).map((r) => r.state),
    ['withdrawn', 'withdrawn'],
  )
})

t.test('Grand Angoulême: the same choices on the one-page form; no offer, no change', async (t) => {
  const built = await build(t, { tenants: [demoTenant('grand-angouleme')] })
  const { app } = built
  const tenant = built.tenants[0]!
  const em = () => app.orm.em.fork({ schema: schemaFor(tenant.slug) })
  const family = await reenrollingFamily(app, tenant.slug)
  await enrolIn(app, tenant.slug, family.pupil, ['violon'], tenant.establishments[0]!.code)
  const browser = new Browser(app, built.host())
  await browser.submit('/connexion', '/connexion', { identifiant: 'famille-martin', password: goodPassword })
  const base = `/eleves/${family.pupil.id}/reinscription`
  const drafts = em()
  drafts.create(Reenrolment, {
    family: family.family.id,
    pupil: family.pupil.id,
    schoolYear: '2027-2028',
    status: 'draft',
    step: 'courses',
  })
  await drafts.flush()
  const without = html((await browser.get(`${base}/formulaire`)).body)
  t.notOk(without.querySelector('#choice-1'), 'without a published offer, the step is unchanged')

  const setup = em()
  const next = setup.create(SchoolYear, { label: '2027-2028', startsOn: '2027-09-01', endsOn: '2028-08-31' })
  const cello = setup.create(OfferItem, {
    schoolYear: next,
    label: 'Violoncelle — débutant',
    discipline: 'violoncelle',
    seats: 3,
    publishedAt: new Date(),
  } as OfferItem)
  await setup.flush()
  const page = await browser.get(`${base}/formulaire`)
  t.same(
    html(page.body)
      .querySelectorAll('#choice-1 option')
      .map((o) => text(o.text)),
    ['— aucun —', 'Violoncelle — débutant'],
  )
  const sent = await browser.post(`${base}/formulaire`, {
    ...wizardValues(page.body),
    'choice-1': String(cello.id),
    accepted: 'true',
    action: 'submit',
  })
  t.equal(sent.statusCode, 303)
  t.same(
    (await em().find(PlaceRequest, {})).map((r) => [r.item.id, r.rank, r.state]),
    [[cello.id, 1, 'waiting']],
  )
})
