import t from 'tap'
import { Pupil } from '../../../src/features/pupils/entities.ts'
import { Reenrolment } from '../../../src/features/reenrolment/entities.ts'
import { ChangeRequest } from '../../../src/features/sas/entities.ts'
import { OutboxMail } from '../../../src/platform/mail/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser, createAccount, goodPassword } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { createFamily } from '../../helpers/families.ts'
import { demoTenant, enrolIn, reenrollingFamily, wizardValues } from '../../helpers/reenrolment.ts'
import { startInbox } from '../../helpers/smtp.ts'

const text = (value: string | undefined) => (value ?? '').replace(/\s+/g, ' ').trim()

async function setUp(
  t: Parameters<typeof build>[0],
  slug: string,
  disciplines: string[],
  env: NodeJS.ProcessEnv = {},
) {
  const built = await build(t, { tenants: [demoTenant(slug), demoTenant(slug)], env })
  const tenant = built.tenants[0]!
  const em = () => built.app.orm.em.fork({ schema: schemaFor(tenant.slug) })
  const family = await reenrollingFamily(built.app, tenant.slug)
  const courses = await enrolIn(
    built.app,
    tenant.slug,
    family.pupil,
    disciplines,
    tenant.establishments[0]!.code,
  )
  const browser = new Browser(built.app, built.host())
  await browser.submit('/connexion', '/connexion', { identifiant: 'famille-martin', password: goodPassword })
  const base = `/eleves/${family.pupil.id}/reinscription`
  /** Posts the page's wizard form with some fields changed (undefined removes one). */
  const post = async (url: string, changes: Record<string, string | undefined>) => {
    const page = await browser.get(url)
    const values: Record<string, string | undefined> = { ...wizardValues(page.body), ...changes }
    for (const [k, v] of Object.entries(values)) if (v === undefined) delete values[k]
    return browser.post(url, values as Record<string, string>)
  }
  const start = async () => {
    const page = html((await browser.get(base)).body)
    const token = page
      .querySelector(`form[action="${base}/commencer"] input[name="_csrf"]`)!
      .getAttribute('value')!
    return browser.post(`${base}/commencer`, { _csrf: token })
  }
  return { ...built, tenant, em, family, courses, browser, base, post, start }
}

t.test('Limonest: six steps in its order, saved as drafts, submitted once, mailed', async (t) => {
  const inbox = await startInbox(t)
  const { em, family, courses, browser, base, post, start } = await setUp(
    t,
    'limonest',
    ['clarinette', 'formation-musicale'],
    { SMTP_URL: inbox.url },
  )

  const home = html((await browser.get('/accueil')).body)
  t.match(
    text(home.querySelector('#reenrolment-title')?.text),
    /^Réinscriptions — jusqu’au \d{2}\/\d{2}\/\d{4} à 23:59$/,
  )
  t.match(text(home.querySelector('.card--highlight li')?.text), 'Léa Martin — à réinscrire')

  const choice = html((await browser.get(base)).body)
  t.equal(choice.querySelector('.tabs a[aria-current="page"]')?.text, 'Réinscription')
  t.same(
    [
      choice.querySelector('form[action$="/commencer"] button')?.text,
      choice.querySelector('a[href$="/refuser"]')?.text,
    ],
    ['Je souhaite réinscrire Léa Martin', 'Je ne souhaite pas réinscrire Léa Martin'],
  )
  const started = await start()
  t.equal(started.headers.location, `${base}/coordonnees`)

  const first = html((await browser.get(`${base}/coordonnees`)).body)
  t.same(
    first.querySelectorAll('.progress li').map((li) => text(li.text)),
    [
      '1 Modification des coordonnées',
      '2 Autorisations',
      '3 Documents',
      '4 Cours',
      '5 Récapitulatif',
      '6 Finalisation',
    ],
  )
  t.equal(
    first.querySelector('.progress li[aria-current="step"]')?.text.includes('Modification des coordonnées'),
    true,
  )
  t.equal(first.querySelector('#g-lastName')?.getAttribute('value'), 'Martin', 'the guardian prefilled')
  t.equal(first.querySelector('#p-firstName')?.getAttribute('value'), 'Léa', 'the pupil prefilled')
  t.notOk(first.querySelector('#p-imageRights'), 'the authorisations wait for their own step')
  t.equal(first.querySelectorAll('input[name="paymentMode"]').length, 4)

  const noMode = await post(`${base}/coordonnees`, { 'g-city': 'Lyon', 'g-postalCode': '69001' })
  t.equal(noMode.statusCode, 400)
  t.equal(
    html(noMode.body).querySelector('#paymentMode .field__error')?.text,
    'Choisissez le mode de règlement souhaité.',
  )
  t.equal(
    html(noMode.body).querySelector('#paymentMode')?.getAttribute('aria-describedby'),
    'paymentMode-error',
  )
  t.ok(
    html(noMode.body)
      .querySelectorAll('input[name="paymentMode"]')
      .every((r) => r.getAttribute('aria-invalid') === 'true'),
  )
  t.equal(html(noMode.body).querySelector('#g-city')?.getAttribute('value'), 'Lyon', 'what was typed is kept')
  const noCity = await post(`${base}/coordonnees`, { 'g-city': '', paymentMode: 'prelevement' })
  t.same(
    html(noCity.body)
      .querySelectorAll('.error-summary a')
      .map((a) => [a.getAttribute('href'), text(a.text)]),
    [['#g-city', 'Responsable — Ville : ce champ est obligatoire.']],
    'the summary names the field and whose it is',
  )
  t.equal(await em().count(ChangeRequest), 0, 'nothing proposed while the step is refused')

  const next = await post(`${base}/coordonnees`, {
    'g-city': 'Lyon',
    'g-postalCode': '69001',
    paymentMode: 'prelevement',
  })
  t.equal(
    next.headers.location,
    `${base}/autorisations`,
    html(next.body).querySelector('.error-summary')?.text ?? String(next.statusCode),
  )
  const change = await em().findOneOrFail(ChangeRequest, { subjectType: 'guardian' })
  t.same(Object.keys(change.changes).sort(), ['city', 'postalCode'], 'the coordinates go through the sas')

  const authorizations = html((await browser.get(`${base}/autorisations`)).body)
  t.match(
    authorizations.querySelector('#exitAuthorization')?.text,
    'L’élève a moins de 18 ans : une réponse est obligatoire.',
  )
  t.match(authorizations.querySelector('#imageRights')?.text, 'En cochant oui', 'the tenant’s full text')
  const unanswered = await post(`${base}/autorisations`, {})
  t.equal(unanswered.statusCode, 400)
  const page = html(unanswered.body)
  t.equal(page.querySelector('#imageRights .field__error')?.text, 'Répondez Oui ou Non.')
  // the radios say they are in error, and which message explains it
  t.equal(page.querySelector('#imageRights')?.getAttribute('aria-describedby'), 'imageRights-error')
  t.equal(page.querySelector('#imageRights-error')?.text, 'Répondez Oui ou Non.')
  t.same(
    page.querySelectorAll('input[name="imageRights"]').map((r) => r.getAttribute('aria-invalid')),
    ['true', 'true'],
  )
  t.equal(
    page.querySelector('#exitAuthorization .field__error')?.text,
    'L’élève a moins de 18 ans : répondez Oui ou Non à l’autorisation de sortie.',
  )
  t.equal(
    (await post(`${base}/autorisations`, { imageRights: 'true', exitAuthorization: 'false' })).headers
      .location,
    `${base}/documents`,
  )

  const documents = html((await browser.get(`${base}/documents`)).body)
  t.same(
    documents.querySelectorAll('table.documents tbody tr').map((tr) => tr.getAttribute('id')),
    [
      'family-document-mandat-sepa',
      'family-document-iban',
      'family-document-justificatif-domicile',
      'family-document-attestation-qf',
      'pupil-document-responsabilite-civile',
    ],
    'choosing direct debit asks for the SEPA mandate and the IBAN',
  )
  t.equal(
    documents.querySelector('form[enctype="multipart/form-data"]')?.getAttribute('action'),
    `/famille/pieces?retour=${encodeURIComponent(`${base}/documents`)}`,
  )
  t.equal((await post(`${base}/documents`, {})).headers.location, `${base}/cours`)

  const [clarinet, fm] = courses
  const coursesPage = html((await browser.get(`${base}/cours`)).body)
  t.ok(coursesPage.querySelector(`#keep-${fm!.id}`)?.hasAttribute('disabled'), 'formation musicale is locked')
  t.match(coursesPage.querySelector(`#keep-${fm!.id}-hint`)?.text, 'obligatoire')
  t.ok(
    coursesPage.querySelectorAll('#notes-hint li').length >= 1,
    'the tenant’s notes under Information complémentaire',
  )
  const dropped = await browser.post(`${base}/cours`, {
    _csrf: coursesPage.querySelector('#reenrolment-form input[name="_csrf"]')!.getAttribute('value')!,
    action: 'next',
    notes: 'FM le samedi si possible.',
  })
  t.equal(dropped.headers.location, `${base}/recapitulatif`, 'dropping every course is possible')
  const draft = await em().findOneOrFail(Reenrolment, { pupil: family.pupil.id })
  t.same(draft.answers.keep, { [clarinet!.id]: false, [fm!.id]: true }, 'but never the mandatory one')
  t.equal(draft.status, 'draft')
  t.equal(draft.step, 'summary')

  const summary = html((await browser.get(`${base}/recapitulatif`)).body)
  const lines = summary
    .querySelectorAll('dl.summary div')
    .map((d) => `${text(d.querySelector('dt')?.text)} ${text(d.querySelector('dd')?.text)}`)
  t.same(lines, [
    'Mode de règlement souhaité Prélèvement automatique en 9 fois',
    'Droit à l’image Oui',
    'Autorisation de sortie Non',
    'Cours clarinette Abandonné',
    'Cours formation-musicale Conservé',
    'Information complémentaire FM le samedi si possible.',
  ])
  t.same(
    summary.querySelectorAll('.summary-links a').map((a) => a.getAttribute('href')),
    ['coordonnees', 'autorisations', 'documents', 'cours'].map((s) => `${base}/${s}`),
  )
  t.equal((await post(`${base}/recapitulatif`, {})).headers.location, `${base}/finalisation`)

  const notAccepted = await post(`${base}/finalisation`, { action: 'submit' })
  t.equal(notAccepted.statusCode, 400)
  t.equal(
    html(notAccepted.body).querySelector('#accepted-error')?.text,
    'Cochez « J’accepte » pour valider la réinscription.',
  )
  const finalPage = await browser.get(`${base}/finalisation`)
  const values = { ...wizardValues(finalPage.body), accepted: 'true', action: 'submit' }
  // an impatient family: six submits of the same form at once
  const submits = await Promise.all(
    Array.from({ length: 6 }, () => browser.post(`${base}/finalisation`, values)),
  )
  t.same(
    submits.map((r) => r.statusCode),
    [303, 303, 303, 303, 303, 303],
  )
  t.equal(await em().count(Reenrolment), 1, 'one re-enrolment, not two')
  t.equal(
    await em().count(OutboxMail, { subject: { $like: '%Réinscription 2027%' } }),
    1,
    'one summary mail written, however many submits',
  )
  const submitted = await em().findOneOrFail(Reenrolment, { pupil: family.pupil.id })
  t.equal(submitted.status, 'submitted')
  t.ok(submitted.submittedAt)
  const mail = await inbox.waitFor((m) => m.subject.includes('Réinscription 2027'))
  t.match(mail.subject, 'Réinscription 2027-2028 de Léa Martin')
  t.match(mail.text, 'Mode de règlement souhaité : Prélèvement automatique en 9 fois')
  await new Promise((r) => setTimeout(r, 300))
  t.equal(
    inbox.messages.filter((m) => m.subject.includes('Réinscription 2027')).length,
    1,
    'one summary mail',
  )

  const after = html((await browser.get(base)).body)
  t.match(text(after.querySelector('[role="status"]')?.text), 'en attente de validation')
  t.equal(after.querySelector('form[action$="/commencer"]'), null, 'no way to start again once submitted')
  const late = await browser.post(`${base}/cours`, { ...values, action: 'next', notes: 'trop tard' })
  t.equal(late.headers.location, base, 'a submitted re-enrolment has no step to post to')
  t.equal(
    (await em().findOneOrFail(Reenrolment, { pupil: family.pupil.id })).answers.notes,
    'FM le samedi si possible.',
  )
})

t.test('Grand Angoulême: the same engine on one page (courses, documents, finalize)', async (t) => {
  const { em, family, courses, browser, base, start } = await setUp(t, 'grand-angouleme', [
    'violon',
    'formation-musicale',
  ])
  t.equal((await start()).headers.location, `${base}/formulaire`)
  const page = html((await browser.get(`${base}/formulaire`)).body)
  t.equal(page.querySelector('.progress'), null, 'no progress bar on one page')
  t.same(
    page.querySelectorAll('.reenrolment-step h3').map((h) => h.text),
    ['Cours', 'Documents', 'Finalisation'],
  )
  t.equal(page.querySelector('label[for="newDisciplines"]')?.text, 'Nouvelles disciplines demandées')
  const values = wizardValues((await browser.get(`${base}/formulaire`)).body)
  const res = await browser.post(`${base}/formulaire`, {
    ...values,
    newDisciplines: 'Piano',
    accepted: 'true',
    action: 'submit',
  })
  t.equal(res.statusCode, 303)
  const row = await em().findOneOrFail(Reenrolment, { pupil: family.pupil.id })
  t.equal(row.status, 'submitted')
  t.equal(row.answers.newDisciplines, 'Piano')
  t.same(row.answers.keep, Object.fromEntries(courses.map((c) => [c.id, true])))
  t.same(
    Object.keys(row.answers).filter((key) => /^\d+$/.test(key)),
    [],
    'the answers are an object from the start, not a string spread into characters',
  )
})

t.test('Plessis-Pâté: the pédibus question adds its documents', async (t) => {
  const { family, browser, base, post, start } = await setUp(t, 'plessis-pate', ['danse'])
  await start()
  await post(`${base}/coordonnees`, { paymentMode: 'prelevement' })
  await post(`${base}/autorisations`, { imageRights: 'true', exitAuthorization: 'true' })
  await post(`${base}/documents`, {})
  const before = html((await browser.get(`${base}/documents`)).body)
  t.notOk(before.querySelector('#pupil-document-pedibus'))
  t.ok(before.querySelector('#pupil-document-certificat-medical'), 'dance asks for a medical certificate')
  const coursesPage = await post(`${base}/cours`, { 'question-pedibus': 'true' })
  t.equal(coursesPage.headers.location, `${base}/recapitulatif`)
  const after = html((await browser.get(`${base}/documents`)).body)
  t.ok(after.querySelector('#pupil-document-pedibus'), 'the pédibus request')
  t.ok(after.querySelector('#pupil-document-decharge-parentale'), 'and the décharge parentale')
  t.ok(family)
})

t.test('a draft resumes in a new session, on another device', async (t) => {
  const { app, host, em, family, base, post, start } = await setUp(t, 'limonest', ['clarinette'])
  await start()
  await post(`${base}/coordonnees`, { paymentMode: 'payfip' })
  await post(`${base}/autorisations`, { imageRights: 'false', exitAuthorization: 'true' })
  const phone = new Browser(app, host())
  await phone.submit('/connexion', '/connexion', { identifiant: 'famille-martin', password: goodPassword })
  const resumed = await phone.get(base)
  t.equal(resumed.headers.location, `${base}/documents`, 'back where the family stopped')
  const back = html((await phone.get(`${base}/autorisations`)).body)
  t.ok(
    back.querySelector('input[name="imageRights"][value="false"]')?.hasAttribute('checked'),
    'answers kept',
  )
  const coordinates = html((await phone.get(`${base}/coordonnees`)).body)
  t.ok(coordinates.querySelector('input[name="paymentMode"][value="payfip"]')?.hasAttribute('checked'))
  t.equal((await em().findOneOrFail(Reenrolment, { pupil: family.pupil.id })).step, 'documents')
})

t.test('declining asks for confirmation, records it, and can be changed while open', async (t) => {
  const { em, family, browser, base } = await setUp(t, 'limonest', ['clarinette'])
  const confirm = html((await browser.get(`${base}/refuser`)).body)
  t.equal(
    confirm.querySelector('#decline-title')?.text,
    'Voulez-vous vraiment ne pas réinscrire Léa Martin ?',
  )
  for (const [civility, sentence] of [
    ['Madame', 'Léa ne sera pas réinscrite pour l’année prochaine.'],
    ['Monsieur', 'Léa ne sera pas réinscrit pour l’année prochaine.'],
    // without a civility, words that agree with anyone
    [null, 'Réinscription de Léa pour l’année prochaine : non.'],
  ] as const) {
    await em().nativeUpdate(Pupil, { id: family.pupil.id }, { civility })
    const agreed = html((await browser.get(`${base}/refuser`)).body)
    t.equal(
      text(agreed.querySelector('section[aria-labelledby="decline-title"] p')?.text),
      `${sentence} Vous pourrez changer d’avis tant que la réinscription est ouverte.`,
      `agrees with ${civility ?? 'no civility'}`,
    )
  }
  t.equal(await em().count(Reenrolment), 0, 'nothing recorded before the confirmation')
  const token = confirm
    .querySelector(`form[action="${base}/refuser"] input[name="_csrf"]`)!
    .getAttribute('value')!
  t.equal((await browser.post(`${base}/refuser`, { _csrf: token })).headers.location, base)
  const row = await em().findOneOrFail(Reenrolment, { pupil: family.pupil.id })
  t.equal(row.status, 'declined')
  t.ok(row.declinedAt)
  const page = html((await browser.get(base)).body)
  t.match(text(page.querySelector('[role="status"]')?.text), 'Vous avez indiqué ne pas réinscrire Léa Martin')
  t.ok(page.querySelector('form[action$="/commencer"]'), 'the family may still re-enrol')
})

t.test('an adult answers the autorisation de sortie too, with the adult’s wording', async (t) => {
  const { em, family, browser, base, post, start } = await setUp(t, 'limonest', ['clarinette'])
  await em().nativeUpdate(Pupil, { id: family.pupil.id }, { birthDate: '1990-01-01' })
  await start()
  await post(`${base}/coordonnees`, { paymentMode: 'payfip' })
  const page = html((await browser.get(`${base}/autorisations`)).body)
  t.match(page.querySelector('#exitAuthorization')?.text, 'L’élève a 18 ans ou plus')
  const res = await post(`${base}/autorisations`, { imageRights: 'true' })
  t.equal(html(res.body).querySelector('#exitAuthorization .field__error')?.text, 'Répondez Oui ou Non.')
})

t.test('another family’s pupil is a 404 on every route; another tenant’s host knows nothing', async (t) => {
  const { app, host, tenant, tenants, em, family, base, browser, start } = await setUp(t, 'limonest', [
    'clarinette',
  ])
  const other = await createFamily(app, tenant.slug, 'famille-durand', 'Durand')
  await start()
  const theirs = `/eleves/${other.pupil.id}/reinscription`
  const token = html((await browser.get(`/eleves/${family.pupil.id}`)).body)
    .querySelector('input[name="_csrf"]')!
    .getAttribute('value')!
  for (const url of [
    theirs,
    `${theirs}/refuser`,
    `${theirs}/coordonnees`,
    `${theirs}/cours`,
    `${theirs}/formulaire`,
  ]) {
    t.equal((await browser.get(url)).statusCode, 404, `GET ${url}`)
  }
  for (const url of [
    `${theirs}/commencer`,
    `${theirs}/refuser`,
    `${theirs}/coordonnees`,
    `${theirs}/finalisation`,
  ]) {
    t.equal((await browser.post(url, { _csrf: token, action: 'next' })).statusCode, 404, `POST ${url}`)
  }
  t.equal(await em().count(Reenrolment, { pupil: other.pupil.id }), 0)
  const onB = new Browser(app, host(1))
  t.equal((await onB.get(base)).statusCode, 303, 'a session of tenant A is nothing on B')
  await createAccount(app, tenants[1]!.slug, { identifiant: 'famille-martin' })
  await onB.submit('/connexion', '/connexion', { identifiant: 'famille-martin', password: goodPassword })
  for (const url of [base, `${base}/coordonnees`, `${base}/refuser`]) {
    t.equal((await onB.get(url)).statusCode, 404, `tenant B: ${url}`)
  }
  t.ok(family)
})
