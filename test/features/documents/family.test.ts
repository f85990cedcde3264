import { createConnection } from 'node:net'
import t from 'tap'
import { DocumentSubmission, StoredFile } from '../../../src/features/documents/entities.ts'
import { Family } from '../../../src/features/family/entities.ts'
import { AuditEvent } from '../../../src/platform/audit/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser, goodPassword } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { createFamily } from '../../helpers/families.ts'
import { documentsTenant } from '../../helpers/documents.ts'
import { importDocument, multipartBody, samples } from '../../helpers/multipart.ts'

const text = (value: string | undefined) => (value ?? '').replace(/\s+/g, ' ').trim()
const MiB = 1024 * 1024

async function setUp(t: Parameters<typeof build>[0]) {
  const built = await build(t, { tenants: [documentsTenant, documentsTenant] })
  const slug = built.tenants[0]!.slug
  const em = () => built.app.orm.em.fork({ schema: schemaFor(slug) })
  const mine = await createFamily(built.app, slug, 'famille-martin')
  await em().nativeUpdate(Family, { id: mine.family.id }, { paymentMode: 'prelevement', resident: true })
  const browser = new Browser(built.app, built.host())
  await browser.submit('/connexion', '/connexion', { identifiant: 'famille-martin', password: goodPassword })
  return { ...built, slug, em, mine, browser }
}

t.test('the family’s Pièces à fournir: the table, Importer, Consulter, Supprimer', async (t) => {
  const { app, em, mine, browser } = await setUp(t)

  const empty = html((await browser.get('/famille/pieces')).body)
  t.equal(empty.querySelector('h1')?.text, 'Pièces à fournir de la famille')
  t.same(
    empty.querySelectorAll('table.documents thead th').map((th) => th.text),
    ['Nom du document', 'Nom du fichier', 'Date', 'Heure', 'Taille (Mo)', 'État', 'Consulter'],
  )
  t.same(
    empty
      .querySelectorAll('table.documents tbody tr')
      .map((tr) => [text(tr.querySelector('th')?.text), text(tr.querySelector('.state')?.text)]),
    [
      ['Mandat SEPA PDF, JPEG ou PNG, 2 Mo maximum', 'À fournir'],
      ['Justificatif de domicile De moins de 3 mois. PDF, 1 Mo maximum', 'À fournir'],
    ],
    'only the documents whose condition holds, each “à fournir”',
  )
  t.same(
    empty
      .querySelectorAll('table.documents tbody tr')
      .map((tr) => [
        text(tr.querySelector('details.row-upload summary')?.text),
        tr.querySelector('form[enctype="multipart/form-data"] input[name="document"]')?.getAttribute('value'),
        text(tr.querySelector('form[enctype="multipart/form-data"] label')?.text),
      ]),
    [
      ['Importer — Mandat SEPA', 'sepa', 'Fichier pour « Mandat SEPA » (obligatoire)'],
      [
        'Importer — Justificatif de domicile',
        'domicile',
        'Fichier pour « Justificatif de domicile » (obligatoire)',
      ],
    ],
    'each missing document has its own Importer, which names it',
  )
  t.notOk(empty.querySelector('select[name="document"]'), 'no list to pick the document from a second time')
  t.same(
    empty.querySelectorAll('#document-sepa td.cell--empty').map((td) => td.getAttribute('data-label')),
    ['Nom du fichier', 'Date', 'Heure', 'Taille (Mo)'],
    'the cells with nothing to say, which a phone’s card leaves out',
  )

  const content = samples.pdf(300_000)
  const sent = await importDocument(
    browser,
    '/famille/pieces',
    { document: 'sepa' },
    {
      fileName: 'mandat signé.pdf',
      contentType: 'application/pdf',
      content,
    },
  )
  t.equal(sent.statusCode, 303)
  t.equal(sent.headers.location, '/famille/pieces?fait=envoye')
  const page = html((await browser.get('/famille/pieces?fait=envoye')).body)
  t.match(page.querySelector('[role="status"]')?.text, 'en attente de validation')
  const row = page.querySelector('#document-sepa')!
  const cells = row.querySelectorAll('td').map((td) => text(td.text))
  t.equal(cells[0], 'mandat signé.pdf')
  t.match(cells[1], /^\d{2}\/\d{2}\/\d{4}$/)
  t.match(cells[2], /^\d{2}:\d{2}$/)
  t.equal(cells[3], '0,29')
  t.equal(text(row.querySelector('.state')?.text), 'En attente de validation')

  const [submission] = await em().find(DocumentSubmission, {}, { populate: ['file'] })
  t.equal(submission!.documentId, 'sepa')
  t.equal(submission!.file.size, content.length)
  t.equal(submission!.file.contentType, 'application/pdf')
  t.match(submission!.file.sha256, /^[0-9a-f]{64}$/)
  t.ok(await em().findOne(AuditEvent, { action: 'document.uploaded', subjectId: submission!.id }), 'audited')

  const download = await browser.get(`/pieces/${submission!.id}/fichier`)
  t.equal(download.statusCode, 200)
  t.equal(download.headers['content-type'], 'application/pdf')
  t.match(
    download.headers['content-disposition'],
    /^attachment; filename="mandat sign.\.pdf"; filename\*=UTF-8''mandat%20sign%C3%A9\.pdf$/,
  )
  t.equal(download.headers['x-content-type-options'], 'nosniff')
  t.ok(download.rawPayload.equals(content), 'the very bytes sent')

  const again = await importDocument(
    browser,
    '/famille/pieces',
    { document: 'sepa' },
    {
      fileName: 'mandat-v2.png',
      contentType: 'image/png',
      content: samples.png(),
    },
  )
  t.equal(again.statusCode, 303, 'a pending document can be replaced')
  t.equal(await em().count(DocumentSubmission), 1, 'the replaced one is gone')
  t.equal(await em().count(StoredFile), 1, 'with its file')
  const replaced = await em().findOneOrFail(
    DocumentSubmission,
    { documentId: 'sepa' },
    { populate: ['file'] },
  )
  t.equal(replaced.file.fileName, 'mandat-v2.png')

  const listed = html((await browser.get('/famille/pieces')).body)
  const deleteForm = listed.querySelector(`form[action="/pieces/${replaced.id}/supprimer"]`)!
  const removed = await browser.post(`/pieces/${replaced.id}/supprimer`, {
    _csrf: deleteForm.querySelector('input[name="_csrf"]')!.getAttribute('value')!,
  })
  t.equal(removed.statusCode, 303)
  t.equal(removed.headers.location, '/famille/pieces?fait=supprime')
  t.equal(await em().count(DocumentSubmission), 0)
  t.equal(await em().count(StoredFile), 0, 'deleting leaves no file behind')

  await t.test('Recherche filters the table by document or file name', async (t) => {
    const found = html((await browser.get('/famille/pieces?q=domicile')).body)
    t.same(
      found.querySelectorAll('table.documents tbody th').map((th) => text(th.text).split(' De ')[0]),
      ['Justificatif de domicile'],
    )
    const none = html((await browser.get('/famille/pieces?q=passeport')).body)
    t.equal(none.querySelector('table.documents'), null)
    t.match(text(none.querySelector('main .panel')?.text), 'Aucun document ne correspond à « passeport ».')
  })

  await t.test('the pupil’s table asks the pupil’s documents, by the pupil’s courses', async (t) => {
    const res = await browser.get(`/eleves/${mine.pupil.id}/pieces`)
    t.equal(res.statusCode, 200)
    const page = html(res.body)
    t.equal(page.querySelector('.tabs a[aria-current="page"]')?.text, 'Pièces à fournir')
    t.same(
      page.querySelectorAll('table.documents tbody tr').map((tr) => tr.getAttribute('id')),
      ['document-assurance'],
      'no certificat médical without a dance course',
    )
    const upload = await importDocument(
      browser,
      `/eleves/${mine.pupil.id}/pieces`,
      { document: 'assurance' },
      {
        fileName: 'assurance.jpg',
        contentType: 'image/jpeg',
        content: samples.jpeg(),
      },
    )
    t.equal(upload.headers.location, `/eleves/${mine.pupil.id}/pieces?fait=envoye`)
    const stored = await em().findOneOrFail(
      DocumentSubmission,
      { documentId: 'assurance' },
      { populate: ['pupil'] },
    )
    t.equal(stored.pupil?.id, mine.pupil.id)
    const home = html((await browser.get('/accueil')).body)
    t.same(
      home.querySelectorAll('.documents-todo li').map((li) => text(li.text)),
      [
        'Famille — 2 pièces à fournir ou à renvoyer.',
        'Léa Martin — Toutes les pièces demandées sont fournies.',
      ],
    )
  })
  t.ok(app)
})

t.test('upload errors are French and precise, and nothing is stored', async (t) => {
  const { em, browser } = await setUp(t)
  const cases: [
    string,
    { document?: string },
    { fileName: string; contentType: string; content: Buffer } | undefined,
    string,
    string,
  ][] = [
    [
      'too large',
      { document: 'sepa' },
      { fileName: 'gros.pdf', contentType: 'application/pdf', content: samples.pdf(2 * MiB + 1) },
      'file',
      'Le fichier dépasse 2 Mo',
    ],
    [
      'too large for its document',
      { document: 'domicile' },
      { fileName: 'facture.pdf', contentType: 'application/pdf', content: samples.pdf(MiB + 1) },
      'file',
      'Le fichier dépasse 1 Mo',
    ],
    [
      'not a PDF, whatever its name',
      { document: 'sepa' },
      {
        fileName: 'mandat.pdf',
        contentType: 'application/pdf',
        content: Buffer.from('MZ\x90\x00 this is a program, not a PDF'),
      },
      'file',
      'Ce type de fichier n’est pas accepté : envoyez un fichier PDF, JPEG ou PNG.',
    ],
    [
      'a type this document does not take',
      { document: 'domicile' },
      { fileName: 'facture.png', contentType: 'image/png', content: samples.png() },
      'file',
      'envoyez un fichier PDF.',
    ],
    [
      'empty file',
      { document: 'sepa' },
      { fileName: 'vide.pdf', contentType: 'application/pdf', content: Buffer.alloc(0) },
      'file',
      'Le fichier est vide',
    ],
    ['no file chosen', { document: 'sepa' }, undefined, 'file', 'Choisissez un fichier à envoyer.'],
    [
      'no document chosen',
      {},
      { fileName: 'mandat.pdf', contentType: 'application/pdf', content: samples.pdf() },
      'document',
      'Choisissez le nom du document que vous envoyez.',
    ],
    [
      'a document not asked of this family',
      { document: 'certificat' },
      { fileName: 'mandat.pdf', contentType: 'application/pdf', content: samples.pdf() },
      'document',
      'Choisissez le nom du document',
    ],
  ]
  for (const [label, fields, file, field, message] of cases) {
    const res = await importDocument(browser, '/famille/pieces', fields, file)
    t.equal(res.statusCode, 400, label)
    const page = html(res.body)
    t.match(page.querySelector(`#${field}-error`)?.text, message, `${label}: the message is beside the field`)
    t.ok(page.querySelector(`.error-summary a[href="#${field}"]`), `${label}: in the summary`)
    if (fields.document && fields.document !== 'certificat')
      t.ok(
        page.querySelector(`#document-${fields.document} details.row-upload`)?.hasAttribute('open'),
        `${label}: the document’s own form is open again`,
      )
  }
  t.equal(await em().count(DocumentSubmission), 0, 'no submission stored')
  t.equal(await em().count(StoredFile), 0, 'no file stored')

  const exact = await importDocument(
    browser,
    '/famille/pieces',
    { document: 'sepa' },
    {
      fileName: 'juste.pdf',
      contentType: 'application/pdf',
      content: samples.pdf(2 * MiB),
    },
  )
  t.equal(exact.statusCode, 303, 'exactly 2 Mo is accepted')
})

t.test('an upload without its CSRF token is refused before the file is read', async (t) => {
  const { app, em, browser, host } = await setUp(t)
  const { body, contentType } = multipartBody(
    { document: 'sepa' },
    {
      name: 'file',
      fileName: 'mandat.pdf',
      contentType: 'application/pdf',
      content: samples.pdf(),
    },
  )
  const res = await app.inject({
    method: 'POST',
    url: '/famille/pieces',
    headers: { host: host(), cookie: browser.cookieHeader(), 'content-type': contentType },
    payload: body,
  })
  t.equal(res.statusCode, 403)
  t.equal(await em().count(StoredFile), 0)
})

t.test('an upload cut off mid-file leaves no row', async (t) => {
  const { app, em, browser, host } = await setUp(t)
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const port = Number(new URL(address).port)
  const page = html((await browser.get('/famille/pieces')).body)
  const token = page
    .querySelector('form[enctype="multipart/form-data"] input[name="_csrf"]')!
    .getAttribute('value')!
  const { body, contentType } = multipartBody(
    { _csrf: token, document: 'sepa' },
    {
      name: 'file',
      fileName: 'mandat.pdf',
      contentType: 'application/pdf',
      content: samples.pdf(MiB),
    },
  )
  await new Promise<void>((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' }, () => {
      socket.write(
        `POST /famille/pieces HTTP/1.1\r\nHost: ${host()}\r\nCookie: ${browser.cookieHeader()}\r\nContent-Type: ${contentType}\r\nContent-Length: ${body.length}\r\n\r\n`,
      )
      // half the file, then the connection drops
      socket.write(body.subarray(0, body.length / 2), () => setTimeout(() => socket.destroy(), 100))
    })
    socket.on('close', () => resolve())
    socket.on('error', () => resolve())
  })
  // the server notices the drop; give it the time to end the request
  for (let i = 0; i < 20 && (await em().count(AuditEvent, { action: 'document.uploaded' })) === 0; i++) {
    await new Promise((r) => setTimeout(r, 50))
  }
  t.equal(await em().count(DocumentSubmission), 0)
  t.equal(await em().count(StoredFile), 0)
  const after = await importDocument(
    browser,
    '/famille/pieces',
    { document: 'sepa' },
    {
      fileName: 'mandat.pdf',
      contentType: 'application/pdf',
      content: samples.pdf(),
    },
  )
  t.equal(after.statusCode, 303, 'the next upload works')
})
