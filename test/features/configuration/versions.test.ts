import t from 'tap'
import { DocumentSubmission, StoredFile } from '../../../src/features/documents/entities.ts'
import { Course, SchoolYear } from '../../../src/features/teaching/entities.ts'
import { AuditEvent } from '../../../src/platform/audit/entities.ts'
import { TenantConfigDraft, TenantConfigVersion } from '../../../src/platform/tenancy/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser, createAccount, signedInBrowser } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { createFamily } from '../../helpers/families.ts'
import { errorsIn, get, startServer } from '../../helpers/server-process.ts'

const text = (value: string | undefined) => (value ?? '').replace(/\s+/g, ' ').trim()

const tenant = {
  texts: { home: 'Bienvenue au conservatoire.' },
  disciplines: [
    { code: 'piano', name: 'Piano', domain: 'music' },
    { code: 'danse', name: 'Danse classique', domain: 'dance' },
  ],
  paymentModes: [{ id: 'cheque', label: 'Chèque', kind: 'cheque' }],
  documents: [
    { id: 'assurance', label: 'Attestation d’assurance', level: 'family' },
    { id: 'certificat', label: 'Certificat médical', level: 'pupil' },
  ],
}

async function setUp(t: Parameters<typeof build>[0], env: NodeJS.ProcessEnv = {}) {
  const built = await build(t, { tenants: [tenant, tenant], env })
  const slug = built.tenants[0]!.slug
  await createAccount(built.app, slug, { identifiant: 'admin', role: 'admin', displayName: 'Alice Admin' })
  await createAccount(built.app, slug, { identifiant: 'secretariat', role: 'secretariat' })
  await createAccount(built.app, built.tenants[1]!.slug, { identifiant: 'admin-b', role: 'admin' })
  const admin = await signedInBrowser(built.app, built.host(), 'admin', '/admin/connexion')
  return { ...built, slug, admin }
}

/** The served text, from the editor page. */
async function servedSource(admin: Browser) {
  const page = await admin.get('/admin/configuration/yaml')
  return html(page.body).querySelector('textarea#source')?.text ?? ''
}

/** Sends a text to the editor and answers the draft's id, or the editor page refusing it. */
async function draftOf(admin: Browser, source: string) {
  const res = await admin.submit('/admin/configuration/yaml', '/admin/configuration/yaml', { source })
  const id = /\/admin\/configuration\/brouillons\/(\d+)$/.exec(res.headers.location ?? '')?.[1]
  return { res, id: id ? Number(id) : undefined }
}

async function publish(admin: Browser, id: number, comment: string) {
  return admin.submit(
    `/admin/configuration/brouillons/${id}`,
    `/admin/configuration/brouillons/${id}/publier`,
    { comment },
  )
}

t.test('the YAML editor refuses what the boot refuses, by line, in French, keeping the text', async (t) => {
  const { app, slug, admin } = await setUp(t)
  const source = await servedSource(admin)
  t.match(source, 'Bienvenue au conservatoire.')

  const broken = source.replace('texts:', 'texts: [')
  const syntax = await draftOf(admin, broken)
  t.equal(syntax.res.statusCode, 400)
  const page = html(syntax.res.body)
  t.match(text(page.querySelector('.error-summary')?.text), /Le texte n’a pas été enregistré.*ligne \d+ : /)
  t.equal(page.querySelector('textarea#source')?.text, broken, 'what was typed is kept')
  t.equal(page.querySelector('textarea#source')?.getAttribute('aria-invalid'), 'true')

  const unknown = await draftOf(admin, source.replace('texts:', 'colour: red\ntexts:'))
  const line = source.split('\n').findIndex((l) => l.startsWith('texts:')) + 1
  t.match(
    text(html(unknown.res.body).querySelector('.error-summary')?.text),
    `ligne ${line} : clé inconnue « colour »`,
  )
  const closes = await draftOf(
    admin,
    `${source}periods:\n  reenrolment:\n    opens: 2027-05-01\n    closes: 2027-04-01\n    schoolYear: "2027-2028"\n`,
  )
  t.match(text(closes.res.body), 'la fermeture doit venir après l’ouverture')

  const english = await admin.get('/langue?lang=en&retour=/')
  t.equal(english.statusCode, 303)
  const inEnglish = await draftOf(admin, source.replace('texts:', 'colour: red\ntexts:'))
  t.match(
    text(html(inEnglish.res.body).querySelector('.error-summary')?.text),
    `line ${line}: unknown key "colour"`,
  )

  const em = app.orm.em.fork()
  t.equal(await em.count(TenantConfigDraft, { tenant: slug }), 0, 'nothing refused becomes a draft')
  t.equal(app.registry.get(slug)!.configVersion, 1)
})

t.test('the editor’s live check answers the submit’s problems by line and keeps nothing', async (t) => {
  const { app, slug, admin } = await setUp(t)
  const source = await servedSource(admin)
  const token = html((await admin.get('/admin/configuration/yaml')).body)
    .querySelector('input[name=_csrf]')
    ?.getAttribute('value')
  const check = async (text: string) => {
    const res = await admin.post('/admin/configuration/yaml/verifier', { _csrf: token ?? '', source: text })
    t.equal(res.statusCode, 200)
    return res.json() as { ok: boolean; summary: string; problems: string[] }
  }
  t.same(await check(source), {
    ok: true,
    summary: 'Vérifié pendant la saisie : aucun problème.',
    problems: [],
  })
  const line = source.split('\n').findIndex((l) => l.startsWith('texts:')) + 1
  t.same(await check(source.replace('texts:', 'colour: red\ntexts:')), {
    ok: false,
    summary: 'Vérifié pendant la saisie : 1 problème.',
    problems: [`ligne ${line} : clé inconnue « colour »`],
  })
  const forged = await admin.post('/admin/configuration/yaml/verifier', { source })
  t.equal(forged.statusCode, 403, 'a request without the form’s token is refused')
  t.equal(await app.orm.em.fork().count(TenantConfigDraft, { tenant: slug }), 0, 'nothing kept')
})

t.test('a draft is shown as a diff, published with a comment, served at once, and restored', async (t) => {
  const { app, slug, admin, host } = await setUp(t)
  const source = await servedSource(admin)
  const { id } = await draftOf(
    admin,
    source.replace('Bienvenue au conservatoire.', 'Inscriptions ouvertes !'),
  )
  t.ok(id, 'a valid text becomes a draft')

  const draftPage = html((await admin.get(`/admin/configuration/brouillons/${id}`)).body)
  t.same(
    draftPage.querySelectorAll('.diff__removed .diff__text').map((c) => text(c.text)),
    ['home: Bienvenue au conservatoire.'],
  )
  t.same(
    draftPage.querySelectorAll('.diff__added .diff__text').map((c) => text(c.text)),
    ['home: Inscriptions ouvertes !'],
  )
  const visitor = new Browser(app, host())
  t.match(text((await visitor.get('/')).body), 'Bienvenue au conservatoire.', 'a draft is not served')

  const noComment = await publish(admin, id!, ' ')
  t.equal(noComment.statusCode, 400)
  t.match(
    text(html(noComment.body).querySelector('#comment-error')?.text),
    'Écrivez en quelques mots ce qui change',
  )
  const published = await publish(admin, id!, 'Accueil : inscriptions ouvertes')
  t.equal(published.statusCode, 303)
  t.equal(published.headers.location, '/admin/configuration/versions?fait=publiee')
  t.match(text((await visitor.get('/')).body), 'Inscriptions ouvertes !', 'served at once')
  t.notMatch(text((await visitor.get('/')).body), 'Bienvenue au conservatoire.')

  const versions = html((await admin.get('/admin/configuration/versions')).body)
  const rows = versions.querySelectorAll('tbody tr').map((r) => text(r.text))
  t.equal(rows.length, 2)
  t.match(rows[0], /n° 2 en ligne .* Alice Admin \(admin\) Accueil : inscriptions ouvertes/)
  t.match(rows[1], /n° 1 .* Version initiale/)
  const audit = await app.orm.em.fork({ schema: schemaFor(slug) }).findOneOrFail(AuditEvent, {
    action: 'config.published',
  })
  t.same(audit.details, { comment: 'Accueil : inscriptions ouvertes', origin: 'yaml', restoredFrom: null })

  const compared = html((await admin.get('/admin/configuration/versions/comparer?de=1&a=2')).body)
  t.same(
    compared.querySelectorAll('.diff__added .diff__text').map((c) => text(c.text)),
    ['home: Inscriptions ouvertes !'],
  )

  const restore = await admin.submit(
    '/admin/configuration/versions/1',
    '/admin/configuration/versions/1/restaurer',
    {},
  )
  t.equal(restore.statusCode, 303)
  const restoring = Number(/(\d+)$/.exec(restore.headers.location ?? '')?.[1])
  t.match(
    text((await admin.get(`/admin/configuration/brouillons/${restoring}`)).body),
    'Il remet en ligne la version n° 1.',
  )
  t.equal((await publish(admin, restoring, 'Retour à la version 1')).statusCode, 303)
  t.match(text((await visitor.get('/')).body), 'Bienvenue au conservatoire.')
  const third = await app.orm.em.fork().findOneOrFail(TenantConfigVersion, { tenant: slug, number: 3 })
  t.equal(third.restoredFrom, 1)
  t.equal(third.source, source, 'the restored text is the old one, comments and all')
})

t.test('a draft made from an older version is not published over a newer one', async (t) => {
  const { app, slug, admin, host } = await setUp(t)
  await createAccount(app, slug, { identifiant: 'admin2', role: 'admin', displayName: 'Bruno Admin' })
  const other = await signedInBrowser(app, host(), 'admin2', '/admin/connexion')
  const source = await servedSource(admin)
  const first = await draftOf(admin, source.replace('Bienvenue', 'Bonjour'))
  const second = await draftOf(other, source.replace('Bienvenue', 'Salut'))
  t.equal((await publish(admin, first.id!, 'Bonjour')).statusCode, 303)
  const refused = await publish(other, second.id!, 'Salut')
  t.equal(refused.statusCode, 400)
  t.match(
    text(html(refused.body).querySelector('[role=alert]')?.text),
    'La version n° 2 a été publiée pendant',
  )
  t.match(text((await new Browser(admin.app, admin.host).get('/')).body), 'Bonjour au conservatoire.')
})

t.test('changes that would break data are refused with the way out', async (t) => {
  const { app, slug, admin } = await setUp(t)
  const em = app.orm.em.fork({ schema: schemaFor(slug) })
  const { family } = await createFamily(app, slug, 'famille-martin')
  const file = em.create(StoredFile, {
    fileName: 'assurance.pdf',
    contentType: 'application/pdf',
    size: 4,
    sha256: '0'.repeat(64),
    content: Buffer.from('%PDF'),
  })
  em.create(DocumentSubmission, { family: family.id, documentId: 'assurance', file } as never)
  const year = em.create(SchoolYear, {
    label: '2026-2027',
    startsOn: '2026-09-01',
    endsOn: '2027-06-30',
  } as never)
  em.create(Course, {
    name: 'Piano 1',
    discipline: 'piano',
    establishment: 'centre',
    schoolYear: year,
  } as never)
  await em.flush()
  const source = await servedSource(admin)

  const withoutDocument = source.replace(/ {2}- id: assurance\n(.*\n){2}/, '')
  t.notMatch(withoutDocument, 'assurance')
  const refused = await draftOf(admin, withoutDocument)
  t.equal(refused.res.statusCode, 400)
  t.match(
    text(refused.res.body),
    'la pièce « Attestation d’assurance » a déjà été fournie par 1 famille : archivez-la (archived: true) au lieu de la supprimer',
  )
  const archived = await draftOf(admin, source.replace('id: assurance', 'id: assurance\n    archived: true'))
  t.ok(archived.id, 'archiving it is accepted')
  const removable = await draftOf(admin, source.replace(/ {2}- id: certificat\n(.*\n){2}/, ''))
  t.ok(removable.id, 'a pièce nobody provided can be removed')

  // an old version without a pièce families have provided since cannot come back as it was
  const added = await draftOf(
    admin,
    source.replace(
      'documents:\n',
      'documents:\n  - id: photo\n    label: Photo d’identité\n    level: family\n',
    ),
  )
  t.ok(added.id, 'a pièce added')
  t.equal((await publish(admin, added.id!, 'Photo demandée')).statusCode, 303)
  const photoFile = em.create(StoredFile, {
    fileName: 'photo.jpg',
    contentType: 'image/jpeg',
    size: 4,
    sha256: '1'.repeat(64),
    content: Buffer.from('\xff\xd8\xff'),
  })
  em.create(DocumentSubmission, { family: family.id, documentId: 'photo', file: photoFile } as never)
  await em.flush()
  const restore = await admin.submit(
    '/admin/configuration/versions/1',
    '/admin/configuration/versions/1/restaurer',
    {},
  )
  t.equal(restore.statusCode, 400)
  t.match(
    text(html(restore.body).querySelector('.error-summary')?.text),
    'la pièce « Photo d’identité » a déjà été fournie par 1 famille : archivez-la',
  )

  const withoutPiano = source.replace(/ {2}- code: piano\n(.*\n){2}/, '')
  t.match(
    text((await draftOf(admin, withoutPiano)).res.body),
    'la discipline « Piano » est enseignée dans 1 cours',
  )
  t.match(
    text((await draftOf(admin, `${source}hosts: [musique.example.test]\n`)).res.body),
    'les adresses du portail (hosts) sont réglées par l’exploitant',
  )
})

t.test('the preview serves the draft to the admin only, as a family, read only', async (t) => {
  const { app, slug, admin, host } = await setUp(t)
  const { family } = await createFamily(app, slug, 'famille-martin', 'Martin')
  const source = await servedSource(admin)
  const { id } = await draftOf(admin, source.replace('Bienvenue au conservatoire.', 'Nouvelle saison !'))
  const draftPage = html((await admin.get(`/admin/configuration/brouillons/${id}`)).body)
  t.same(
    draftPage.querySelectorAll('#famille option').map((o) => text(o.text)),
    ['Un visiteur non connecté', 'Martin Camille'],
  )
  t.match(text(draftPage.querySelector('label[for=page-1]')?.text), 'Accueil — concernée par ce changement')

  const start = await admin.get(`/admin/configuration/brouillons/${id}/apercu?famille=${family.id}&page=/`)
  t.equal(start.statusCode, 303)
  t.equal(start.headers.location, '/')
  const home = await admin.get('/')
  const page = html(home.body)
  t.match(
    text(page.querySelector('.preview-banner')?.text),
    'vu par la famille Martin : rien n’est enregistré',
  )
  t.match(text(home.body), 'Nouvelle saison !')
  const famille = await admin.get('/famille')
  t.equal(famille.statusCode, 200, 'family pages open as the family')

  const posted = await admin.post('/famille/coordonnees', { _csrf: 'x' })
  t.equal(posted.statusCode, 403)
  t.match(text(posted.body), 'Aperçu : rien n’est enregistré')

  const visitor = new Browser(app, host())
  visitor.cookies.set('tutti_apercu', admin.cookies.get('tutti_apercu')!)
  t.match(
    text((await visitor.get('/')).body),
    'Bienvenue au conservatoire.',
    'the cookie alone shows nothing',
  )
  const family2 = await signedInBrowser(app, host(), 'famille-martin')
  family2.cookies.set('tutti_apercu', admin.cookies.get('tutti_apercu')!)
  t.notMatch(text((await family2.get('/accueil')).body), 'Nouvelle saison', 'nor with a family session')

  const back = await admin.get(`/admin/configuration/brouillons/${id}`)
  t.equal(back.statusCode, 200, 'an admin page ends the preview')
  t.notOk(admin.cookies.has('tutti_apercu'))
  t.match(text((await admin.get('/')).body), 'Bienvenue au conservatoire.')
})

t.test('only admins of the tenant reach the configuration', async (t) => {
  const { app, slug, admin, host, tenants } = await setUp(t)
  const source = await servedSource(admin)
  const { id } = await draftOf(admin, source.replace('Bienvenue', 'Bonjour'))
  const secretariat = await signedInBrowser(app, host(), 'secretariat', '/admin/connexion')
  for (const url of [
    '/admin/configuration',
    '/admin/configuration/yaml',
    `/admin/configuration/brouillons/${id}`,
  ]) {
    t.equal((await secretariat.get(url)).statusCode, 403, `secretariat on ${url}`)
  }
  const token = html((await secretariat.get('/admin')).body)
    .querySelector('input[name=_csrf]')
    ?.getAttribute('value')
  const refused = await secretariat.post(`/admin/configuration/brouillons/${id}/publier`, {
    _csrf: token ?? '',
    comment: 'pas moi',
  })
  t.equal(refused.statusCode, 403)
  t.equal(app.registry.get(slug)!.configVersion, 1, 'the secretariat published nothing')
  const visitor = new Browser(app, host())
  const redirected = await visitor.get('/admin/configuration')
  t.equal(redirected.statusCode, 303)
  t.match(redirected.headers.location, /^\/admin\/connexion/)

  const other = await signedInBrowser(app, host(1), 'admin-b', '/admin/connexion')
  t.equal(
    (await other.get(`/admin/configuration/brouillons/${id}`)).statusCode,
    404,
    'another tenant’s draft',
  )
  t.equal((await other.get(`/admin/configuration/brouillons/${id}/apercu`)).statusCode, 404)
  const theirs = await servedSource(other)
  t.match(theirs, `slug: ${tenants[1]!.slug}`)
  t.notMatch(theirs, `slug: ${slug}`)
  t.equal((await other.get('/admin/configuration/versions/2')).statusCode, 404)
})

t.test(
  'a version published through one process is served by another within 5 seconds',
  {
    skip: process.env.DATABASE_URL
      ? false
      : 'needs DATABASE_URL: a PGlite database is opened by one process only',
  },
  async (t) => {
    const { admin, config, slug, host } = await setUp(t, { NODE_ENV: 'production' })
    const other = await startServer(t, { config, slug, host: host() })
    t.match((await get(other, '/', host())).body, 'Bienvenue au conservatoire.')
    const source = await servedSource(admin)
    const { id } = await draftOf(admin, source.replace('Bienvenue au conservatoire.', 'Publié partout.'))
    t.equal((await publish(admin, id!, 'Partout')).statusCode, 303)
    const published = Date.now()
    let seen = 0
    while (Date.now() - published < 5_000) {
      if ((await get(other, '/', host())).body.includes('Publié partout.')) {
        seen = Date.now() - published
        break
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    t.ok(seen > 0, `the other process served the new version after ${seen} ms`)
    t.same(errorsIn(other), [])
  },
)
