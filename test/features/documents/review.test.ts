import t from 'tap'
import { DocumentSubmission } from '../../../src/features/documents/entities.ts'
import { Family } from '../../../src/features/family/entities.ts'
import { AuditEvent } from '../../../src/platform/audit/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser, createAccount, goodPassword } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { documentsTenant } from '../../helpers/documents.ts'
import { createFamily } from '../../helpers/families.ts'
import { importDocument, multipartBody, samples } from '../../helpers/multipart.ts'
import { startInbox } from '../../helpers/smtp.ts'

const text = (value: string | undefined) => (value ?? '').replace(/\s+/g, ' ').trim()

async function signIn(browser: Browser, identifiant: string, path = '/connexion') {
  const res = await browser.submit(path, path, { identifiant, password: goodPassword })
  if (res.statusCode !== 303) throw new Error(`sign-in failed: ${res.statusCode}`)
  return browser
}

async function setUp(t: Parameters<typeof build>[0], env: NodeJS.ProcessEnv = {}) {
  const built = await build(t, { tenants: [documentsTenant, documentsTenant], env })
  const slug = built.tenants[0]!.slug
  const em = () => built.app.orm.em.fork({ schema: schemaFor(slug) })
  const mine = await createFamily(built.app, slug, 'famille-martin')
  const other = await createFamily(built.app, slug, 'famille-durand', 'Durand')
  await em().nativeUpdate(Family, {}, { paymentMode: 'prelevement', resident: true })
  await createAccount(built.app, slug, {
    identifiant: 'secretariat',
    role: 'secretariat',
    displayName: 'Secrétariat',
  })
  const family = await signIn(new Browser(built.app, built.host()), 'famille-martin')
  const office = await signIn(new Browser(built.app, built.host()), 'secretariat', '/admin/connexion')
  const upload = (browser: Browser, page: string, document: string, fileName = `${document}.pdf`) =>
    importDocument(
      browser,
      page,
      { document },
      { fileName, contentType: 'application/pdf', content: samples.pdf() },
    )
  return { ...built, slug, em, mine, other, family, office, upload }
}

const decide = async (office: Browser, id: number, fields: Record<string, string>) =>
  office.submit(`/admin/pieces/${id}`, `/admin/pieces/${id}`, fields)

t.test('staff review: the queue, the preview, validate or refuse with a reason, and the mails', async (t) => {
  const inbox = await startInbox(t)
  const { em, mine, other, family, office, upload, app, host } = await setUp(t, { SMTP_URL: inbox.url })
  await upload(family, '/famille/pieces', 'sepa', 'mandat.pdf')
  await upload(family, `/eleves/${mine.pupil.id}/pieces`, 'assurance', 'assurance-lea.pdf')
  const durand = await signIn(new Browser(app, host()), 'famille-durand')
  await upload(durand, '/famille/pieces', 'domicile', 'facture.pdf')

  const queue = html((await office.get('/admin/pieces')).body)
  t.equal(queue.querySelector('h1')?.text, 'Pièces à valider')
  t.same(
    queue.querySelectorAll('tbody tr').map((tr) =>
      tr
        .querySelectorAll('td, th')
        .slice(1, 4)
        .map((c) => text(c.text)),
    ),
    [
      ['Camille Martin', '—', 'Mandat SEPA'],
      ['Camille Martin', 'Léa Martin', 'Attestation d’assurance'],
      ['Camille Durand', '—', 'Justificatif de domicile'],
    ],
    'pending documents, oldest first',
  )
  const byDocument = html((await office.get('/admin/pieces?document=domicile')).body)
  t.equal(byDocument.querySelectorAll('tbody tr').length, 1)
  const byPupil = html((await office.get('/admin/pieces?eleve=l%C3%A9a')).body)
  t.same(
    byPupil.querySelectorAll('tbody th').map((th) => th.text),
    ['Attestation d’assurance'],
  )

  const [sepa, assurance] = await em().find(
    DocumentSubmission,
    { family: mine.family.id },
    { orderBy: { id: 'asc' } },
  )
  const review = html((await office.get(`/admin/pieces/${sepa!.id}`)).body)
  t.equal(review.querySelector('iframe')?.getAttribute('src'), `/admin/pieces/${sepa!.id}/apercu`)
  const preview = await office.get(`/admin/pieces/${sepa!.id}/apercu`)
  t.equal(preview.headers['content-type'], 'application/pdf')
  t.match(preview.headers['content-disposition'], /^inline/)
  t.equal(preview.headers['x-content-type-options'], 'nosniff')
  t.match(preview.headers['content-security-policy'], "default-src 'none'")
  t.match(preview.headers['content-security-policy'], "frame-ancestors 'self'")
  const staffDownload = await office.get(`/admin/pieces/${sepa!.id}/fichier`)
  t.match(staffDownload.headers['content-disposition'], /^attachment/)

  const noReason = await decide(office, assurance!.id, { decision: 'refused', reason: ' ' })
  t.equal(noReason.statusCode, 400)
  t.equal(
    html(noReason.body).querySelector('#reason-error')?.text,
    'Indiquez le motif du refus : il sera envoyé à la famille.',
  )
  const noDecision = await decide(office, assurance!.id, {})
  const undecided = html(noDecision.body)
  t.equal(undecided.querySelector('.error-summary li')?.text, 'Décision : choisissez Valider ou Refuser.')
  t.equal(undecided.querySelector('.error-summary a')?.getAttribute('href'), '#decision')
  t.equal(undecided.querySelector('fieldset#decision')?.getAttribute('aria-describedby'), 'decision-error')
  t.equal(undecided.querySelector('#decision-error')?.text, 'Choisissez Valider ou Refuser.')
  t.same(
    undecided.querySelectorAll('input[name="decision"]').map((r) => r.getAttribute('aria-invalid')),
    ['true', 'true'],
    'the radios say they are invalid',
  )

  t.equal((await decide(office, sepa!.id, { decision: 'validated' })).statusCode, 303)
  const refused = await decide(office, assurance!.id, {
    decision: 'refused',
    reason: 'Attestation de l’an dernier.',
  })
  t.equal(refused.headers.location, `/admin/pieces/${assurance!.id}?fait=1`)
  const again = await office.post(`/admin/pieces/${assurance!.id}`, {
    _csrf: html((await office.get(`/mot-de-passe`)).body)
      .querySelector('input[name="_csrf"]')!
      .getAttribute('value')!,
    decision: 'validated',
  })
  t.equal(again.statusCode, 400, 'a decided document cannot be decided again')
  t.equal(
    html(again.body).querySelector('.error-summary li')?.text,
    'Décision : cette pièce a déjà été traitée.',
  )

  const validatedMail = await inbox.waitFor((m) => m.subject.includes('Document validé'))
  t.match(validatedMail.subject, 'Mandat SEPA')
  t.match(validatedMail.text, 'mandat.pdf')
  const refusedMail = await inbox.waitFor((m) => m.subject.includes('Document refusé'))
  t.match(refusedMail.text, 'Motif : Attestation de l’an dernier.')
  t.match(refusedMail.text, `/eleves/${mine.pupil.id}/pieces`)
  t.ok(await em().findOne(AuditEvent, { action: 'document.validated', subjectId: sepa!.id }))
  t.ok(await em().findOne(AuditEvent, { action: 'document.refused', subjectId: assurance!.id }))

  const familyPage = html((await family.get('/famille/pieces')).body)
  t.equal(text(familyPage.querySelector('#document-sepa .state')?.text), 'Validé')
  t.notOk(
    familyPage.querySelector(`form[action="/pieces/${sepa!.id}/supprimer"]`),
    'no Supprimer once validated',
  )
  t.same(
    familyPage
      .querySelectorAll('table.documents tbody tr')
      .filter((tr) => tr.querySelector('details.row-upload'))
      .map((tr) => tr.getAttribute('id')),
    ['document-domicile'],
    'a validated document is not offered again',
  )
  const cannotDelete = await family.post(`/pieces/${sepa!.id}/supprimer`, {
    _csrf: familyPage.querySelector('input[name="_csrf"]')!.getAttribute('value')!,
  })
  t.equal(cannotDelete.statusCode, 400)
  t.equal(
    html(cannotDelete.body).querySelector('.error-summary li')?.text,
    'Nom du document : un document validé ne peut pas être supprimé.',
  )
  const resend = await upload(family, '/famille/pieces', 'sepa')
  t.equal(resend.statusCode, 400, 'a validated document cannot be replaced')

  const pupilPage = html((await family.get(`/eleves/${mine.pupil.id}/pieces`)).body)
  t.equal(text(pupilPage.querySelector('#document-assurance .state')?.text), 'Refusé')
  t.equal(
    text(pupilPage.querySelector('#document-assurance .state-reason')?.text),
    'Motif : Attestation de l’an dernier.',
  )
  const sentAgain = await upload(family, `/eleves/${mine.pupil.id}/pieces`, 'assurance', 'assurance-2026.pdf')
  t.equal(sentAgain.statusCode, 303, 'a refused document can be sent again')
  const after = html((await family.get(`/eleves/${mine.pupil.id}/pieces`)).body)
  t.equal(text(after.querySelector('#document-assurance .state')?.text), 'En attente de validation')
  t.equal(
    await em().count(DocumentSubmission, { documentId: 'assurance' }),
    2,
    'the refused upload stays in the history',
  )
  t.ok(other)
})

t.test('a document validated earlier and still valid counts; an expired one is asked again', async (t) => {
  const { em, mine, family, office, upload } = await setUp(t)
  await upload(family, '/famille/pieces', 'sepa')
  await upload(family, '/famille/pieces', 'domicile')
  for (const s of await em().find(DocumentSubmission, {}))
    await decide(office, s.id, { decision: 'validated' })
  const validated = await em().find(DocumentSubmission, {}, { orderBy: { documentId: 'asc' } })
  t.same(
    validated.map((s) => [s.documentId, s.validUntil]),
    [
      [
        'domicile',
        `${new Date().getMonth() >= 8 ? new Date().getFullYear() + 1 : new Date().getFullYear()}-08-31`,
      ],
      ['sepa', null],
    ],
    'a school-year document until the end of August, a forever one without end',
  )
  // a year later: the proof of address of last year has expired, the SEPA mandate still counts
  await em().nativeUpdate(DocumentSubmission, { documentId: 'domicile' }, { validUntil: '2020-08-31' })
  const page = html((await family.get('/famille/pieces')).body)
  t.equal(text(page.querySelector('#document-sepa .state')?.text), 'Validé')
  t.equal(text(page.querySelector('#document-domicile .state')?.text), 'À fournir')
  t.ok(mine)
})

t.test('another family’s or tenant’s document cannot be downloaded, deleted or replaced', async (t) => {
  const { app, em, mine, other, family, upload, host, tenants } = await setUp(t)
  const durand = await signIn(new Browser(app, host()), 'famille-durand')
  await upload(durand, '/famille/pieces', 'sepa', 'durand.pdf')
  await upload(durand, `/eleves/${other.pupil.id}/pieces`, 'assurance', 'durand-assurance.pdf')
  const [theirs, theirPupilDoc] = await em().find(DocumentSubmission, {}, { orderBy: { id: 'asc' } })
  const token = html((await family.get('/famille/pieces')).body)
    .querySelector('input[name="_csrf"]')!
    .getAttribute('value')!

  for (const id of [theirs!.id, theirPupilDoc!.id, 999999]) {
    const download = await family.get(`/pieces/${id}/fichier`)
    t.equal(download.statusCode, 404, `download ${id}`)
    t.notMatch(download.body, '%PDF')
    t.equal((await family.post(`/pieces/${id}/supprimer`, { _csrf: token })).statusCode, 404, `delete ${id}`)
  }
  t.equal(
    (await family.get(`/eleves/${other.pupil.id}/pieces`)).statusCode,
    404,
    'another family’s pupil page',
  )
  const durandToken = html((await durand.get('/famille/pieces')).body)
    .querySelector('form[enctype="multipart/form-data"] input[name="_csrf"]')!
    .getAttribute('value')!
  const { body, contentType } = multipartBody(
    { _csrf: durandToken, document: 'assurance' },
    {
      name: 'file',
      fileName: 'intrus.pdf',
      contentType: 'application/pdf',
      content: samples.pdf(),
    },
  )
  const replace = await app.inject({
    method: 'POST',
    url: `/eleves/${mine.pupil.id}/pieces`,
    headers: { host: host(), cookie: durand.cookieHeader(), 'content-type': contentType },
    payload: body,
  })
  t.equal(replace.statusCode, 404, 'uploading for another family’s pupil')
  t.equal(await em().count(DocumentSubmission), 2, 'nothing was deleted or added')

  await createAccount(app, tenants[1]!.slug, { identifiant: 'famille-martin' })
  const onB = await signIn(new Browser(app, host(1)), 'famille-martin')
  for (const id of [theirs!.id, theirPupilDoc!.id]) {
    t.equal((await onB.get(`/pieces/${id}/fichier`)).statusCode, 404, `tenant B: download ${id}`)
  }
  t.ok(mine)
})

t.test(
  'staff URLs refuse families, teachers and another tenant’s staff; visitors are sent to sign in',
  async (t) => {
    const { app, em, family, upload, host, slug, tenants } = await setUp(t)
    await upload(family, '/famille/pieces', 'sepa')
    const [submission] = await em().find(DocumentSubmission, {})
    await createAccount(app, slug, { identifiant: 'prof', role: 'teacher' })
    const teacher = await signIn(new Browser(app, host()), 'prof', '/enseignant/connexion')
    const urls = [
      '/admin/pieces',
      `/admin/pieces/${submission!.id}`,
      `/admin/pieces/${submission!.id}/apercu`,
      `/admin/pieces/${submission!.id}/fichier`,
    ]
    for (const browser of [family, teacher]) {
      for (const url of urls) t.equal((await browser.get(url)).statusCode, 403, url)
    }
    for (const url of urls) {
      const res = await app.inject({ url, headers: { host: host() } })
      t.equal(res.statusCode, 303, url)
    }
    await createAccount(app, tenants[1]!.slug, { identifiant: 'secretariat-b', role: 'secretariat' })
    const staffB = await signIn(new Browser(app, host(1)), 'secretariat-b', '/admin/connexion')
    for (const url of urls)
      t.equal(
        (await staffB.get(url)).statusCode,
        url === '/admin/pieces' ? 200 : 404,
        `tenant B's staff: ${url}`,
      )
    t.equal(
      html((await staffB.get('/admin/pieces?etat=tous')).body).querySelectorAll('tbody tr').length,
      0,
      'tenant B’s queue is its own',
    )
    const familyUrls = ['/famille/pieces', `/pieces/${submission!.id}/fichier`]
    for (const url of familyUrls) t.equal((await teacher.get(url)).statusCode, 403, `teacher on ${url}`)
  },
)
