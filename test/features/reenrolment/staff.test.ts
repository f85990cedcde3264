import t from 'tap'
import { Family } from '../../../src/features/family/entities.ts'
import { Pupil } from '../../../src/features/pupils/entities.ts'
import { Reenrolment } from '../../../src/features/reenrolment/entities.ts'
import { AuditEvent } from '../../../src/platform/audit/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser, createAccount, goodPassword } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { createFamily } from '../../helpers/families.ts'
import { demoTenant, enrolIn, wizardValues } from '../../helpers/reenrolment.ts'
import { startInbox } from '../../helpers/smtp.ts'

const text = (value: string | undefined) => (value ?? '').replace(/\s+/g, ' ').trim()

/** Two families of Grand Angoulême (one-page form): Léa re-enrols, Hugo Durand does not. */
async function setUp(t: Parameters<typeof build>[0], env: NodeJS.ProcessEnv = {}) {
  const built = await build(t, {
    tenants: [demoTenant('grand-angouleme'), demoTenant('grand-angouleme')],
    env,
  })
  const tenant = built.tenants[0]!
  const em = () => built.app.orm.em.fork({ schema: schemaFor(tenant.slug) })
  const martin = await createFamily(built.app, tenant.slug, 'famille-martin')
  const durand = await createFamily(built.app, tenant.slug, 'famille-durand', 'Durand; "Fils"')
  const site = tenant.establishments[0]!.code
  const courses = await enrolIn(built.app, tenant.slug, martin.pupil, ['violon', 'formation-musicale'], site)
  await enrolIn(built.app, tenant.slug, durand.pupil, ['violoncelle'], site)
  const family = new Browser(built.app, built.host())
  await family.submit('/connexion', '/connexion', { identifiant: 'famille-martin', password: goodPassword })
  const base = `/eleves/${martin.pupil.id}/reinscription`
  const choice = html((await family.get(base)).body)
  await family.post(`${base}/commencer`, {
    _csrf: choice.querySelector('input[name="_csrf"]')!.getAttribute('value')!,
  })
  const values = wizardValues((await family.get(`${base}/formulaire`)).body)
  const [violin] = courses
  delete values[`keep-${violin!.id}`]
  await family.post(`${base}/formulaire`, {
    ...values,
    newDisciplines: '=HYPERLINK("http://evil.example";"Piano")',
    notes: 'Le mardi; si possible',
    accepted: 'true',
    action: 'submit',
  })
  const other = new Browser(built.app, built.host())
  await other.submit('/connexion', '/connexion', { identifiant: 'famille-durand', password: goodPassword })
  const otherBase = `/eleves/${durand.pupil.id}/reinscription`
  const confirm = html((await other.get(`${otherBase}/refuser`)).body)
  await other.post(`${otherBase}/refuser`, {
    _csrf: confirm.querySelector('form[action$="/refuser"] input[name="_csrf"]')!.getAttribute('value')!,
  })
  await createAccount(built.app, tenant.slug, {
    identifiant: 'secretariat',
    role: 'secretariat',
    displayName: 'Secrétariat',
  })
  const office = new Browser(built.app, built.host())
  await office.submit('/admin/connexion', '/admin/connexion', {
    identifiant: 'secretariat',
    password: goodPassword,
  })
  return { ...built, tenant, em, martin, durand, courses, family, office }
}

t.test('the staff queue, the detail, the decisions and their mails', async (t) => {
  const inbox = await startInbox(t)
  const { em, martin, office } = await setUp(t, { SMTP_URL: inbox.url })
  const queue = html((await office.get('/admin/reinscriptions')).body)
  t.equal(queue.querySelector('h1')?.text, 'Réinscriptions 2027-2028')
  t.same(
    queue.querySelectorAll('tbody th').map((th) => th.text),
    ['Léa Martin'],
    'submitted ones by default',
  )
  const declined = html((await office.get('/admin/reinscriptions?etat=declined')).body)
  t.same(
    declined.querySelectorAll('tbody th').map((th) => text(th.text)),
    ['Léa Durand; "Fils"'],
    'the declined list',
  )
  const byCourse = html((await office.get('/admin/reinscriptions?etat=tous&cours=Cours%20violoncelle')).body)
  t.same(
    byCourse.querySelectorAll('tbody th').map((th) => text(th.text)),
    ['Léa Durand; "Fils"'],
  )

  const row = await em().findOneOrFail(Reenrolment, { pupil: martin.pupil.id })
  const detail = html((await office.get(`/admin/reinscriptions/${row.id}`)).body)
  const answers = detail
    .querySelectorAll('dl.summary div')
    .map((d) => `${text(d.querySelector('dt')?.text)}: ${text(d.querySelector('dd')?.text)}`)
  t.same(answers, [
    'Cours formation-musicale: Conservé',
    'Cours violon: Abandonné',
    'Nouvelles disciplines demandées: =HYPERLINK("http://evil.example";"Piano")',
    'Information complémentaire: Le mardi; si possible',
  ])
  t.ok(detail.querySelectorAll('ul.plain li .state').length > 0, 'with the state of each document')

  const url = `/admin/reinscriptions/${row.id}`
  const noReason = await office.submit(url, url, { decision: 'refused' })
  t.equal(noReason.statusCode, 400)
  t.equal(
    html(noReason.body).querySelector('#reason-error')?.text,
    'Indiquez le motif du refus : il sera envoyé à la famille.',
  )
  t.equal(
    (await office.submit(url, url, { decision: 'refused', reason: 'Dossier incomplet.' })).statusCode,
    303,
  )
  const mail = await inbox.waitFor((m) => m.subject.includes('refusée'))
  t.match(mail.subject, 'Réinscription 2027-2028 de Léa Martin : refusée')
  t.match(mail.text, 'Motif : Dossier incomplet.')
  t.ok(await em().findOne(AuditEvent, { action: 'reenrolment.refused' }))
  t.equal((await em().findOneOrFail(Reenrolment, row.id)).status, 'refused')
  const again = await office.post(url, {
    _csrf: html((await office.get('/mot-de-passe')).body)
      .querySelector('input[name="_csrf"]')!
      .getAttribute('value')!,
    decision: 'validated',
  })
  t.equal(
    html(again.body).querySelector('.error-summary li')?.text,
    'Décision : cette réinscription a déjà été traitée.',
  )
})

t.test('validating applies the answers: next year’s payment mode and the authorisations', async (t) => {
  const inbox = await startInbox(t)
  const built = await build(t, { tenants: [demoTenant('limonest')], env: { SMTP_URL: inbox.url } })
  const tenant = built.tenants[0]!
  const em = () => built.app.orm.em.fork({ schema: schemaFor(tenant.slug) })
  const family = await createFamily(built.app, tenant.slug, 'famille-martin')
  const row = em().create(Reenrolment, {
    family: family.family.id,
    pupil: family.pupil.id,
    schoolYear: '2027-2028',
    status: 'submitted',
    submittedAt: new Date(),
    updatedBy: family.account.id,
    answers: { paymentMode: 'payfip', imageRights: false, exitAuthorization: true, accepted: true },
  })
  await em().persist(row).flush()
  await createAccount(built.app, tenant.slug, { identifiant: 'secretariat', role: 'secretariat' })
  const office = new Browser(built.app, built.host())
  await office.submit('/admin/connexion', '/admin/connexion', {
    identifiant: 'secretariat',
    password: goodPassword,
  })
  const url = `/admin/reinscriptions/${row.id}`
  t.equal((await office.submit(url, url, { decision: 'validated' })).statusCode, 303)
  t.equal((await em().findOneOrFail(Family, family.family.id)).paymentMode, 'payfip')
  const pupil = await em().findOneOrFail(Pupil, family.pupil.id)
  t.same([pupil.imageRights, pupil.exitAuthorization], [false, true])
  const mail = await inbox.waitFor((m) => m.subject.includes('validée'))
  t.match(mail.text, `/eleves/${family.pupil.id}/reinscription`)
})

t.test('the CSV export: one line per pupil and course, for a French spreadsheet', async (t) => {
  const { office, courses } = await setUp(t)
  const res = await office.get('/admin/reinscriptions/export.csv')
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'text/csv; charset=utf-8')
  t.match(res.headers['content-disposition'], 'attachment; filename="reinscriptions-2027-2028.csv"')
  t.equal(res.rawPayload.subarray(0, 3).toString('hex'), 'efbbbf', 'UTF-8 with a BOM')
  const lines = res.body
    .replace(/^\uFEFF/, '')
    .trim()
    .split('\r\n')
  t.equal(
    lines[0],
    'Famille;Nom;Prénom;Date de naissance;État;Envoyée le;Cours;Discipline;Conservé;Mode de règlement souhaité;Droit à l’image;Autorisation de sortie;Nouvelles disciplines demandées;Information complémentaire',
  )
  const rows = lines.slice(1)
  t.equal(rows.length, 3, 'two courses for Léa Martin, one for the Durand pupil')
  const martin = rows.filter((l) => l.startsWith('Camille Martin;'))
  t.same(
    martin.map((l) => l.split(';').slice(6, 9)),
    [
      ['Cours formation-musicale', 'Formation musicale', 'Oui'],
      ['Cours violon', 'Violon', 'Non'],
    ],
  )
  t.match(martin[0], /;En attente de validation;\d{2}\/\d{2}\/\d{4} \d{2}:\d{2};/)
  t.match(martin[0], /;"Le mardi; si possible"$/, 'a semicolon inside a value is quoted')
  t.match(
    martin[0],
    ';"\'=HYPERLINK(""http://evil.example"";""Piano"")";',
    'a formula typed by a family stays text',
  )
  const durand = rows.find((l) => l.includes('Ne se réinscrit pas'))!
  t.ok(durand.startsWith('"Camille Durand; ""Fils""";'), 'quotes inside a value are doubled')
  t.match(durand, ';Cours violoncelle;Violoncelle;Non;')
  t.ok(courses)
})

t.test('families, teachers and another tenant’s staff are refused on the staff URLs', async (t) => {
  const { app, host, tenant, tenants, family, em, martin } = await setUp(t)
  const row = await em().findOneOrFail(Reenrolment, { pupil: martin.pupil.id })
  await createAccount(app, tenant.slug, { identifiant: 'prof', role: 'teacher' })
  const teacher = new Browser(app, host())
  await teacher.submit('/enseignant/connexion', '/enseignant/connexion', {
    identifiant: 'prof',
    password: goodPassword,
  })
  for (const browser of [family, teacher]) {
    for (const url of [
      '/admin/reinscriptions',
      `/admin/reinscriptions/${row.id}`,
      '/admin/reinscriptions/export.csv',
    ]) {
      t.equal((await browser.get(url)).statusCode, 403, url)
    }
  }
  await createAccount(app, tenants[1]!.slug, { identifiant: 'secretariat-b', role: 'secretariat' })
  const staffB = new Browser(app, host(1))
  await staffB.submit('/admin/connexion', '/admin/connexion', {
    identifiant: 'secretariat-b',
    password: goodPassword,
  })
  t.equal(
    (await staffB.get(`/admin/reinscriptions/${row.id}`)).statusCode,
    404,
    'tenant A’s re-enrolment on B',
  )
  t.equal(
    html((await staffB.get('/admin/reinscriptions?etat=tous')).body).querySelectorAll('tbody tr').length,
    0,
  )
  t.notMatch(
    (await staffB.get('/admin/reinscriptions/export.csv')).body,
    'Martin',
    'B’s export has none of A’s families',
  )
})
