import { createHash } from 'node:crypto'
import { strFromU8, unzipSync } from 'fflate'
import t from 'tap'
import { DocumentSubmission, StoredFile } from '../../../src/features/documents/entities.ts'
import { Preregistration } from '../../../src/features/preregistration/entities.ts'
import { ChangeRequest } from '../../../src/features/sas/entities.ts'
import { AuditEvent } from '../../../src/platform/audit/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { createAccount, signedInBrowser } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { documentsTenant } from '../../helpers/documents.ts'
import { createFamily } from '../../helpers/families.ts'
import { createSchooling } from '../../helpers/teaching.ts'
import { RepertoirePiece } from '../../../src/features/repertoire/entities.ts'

const pdf = Buffer.from('%PDF-1.4\n% attestation Martin\n%%EOF\n')

t.test('a family downloads one ZIP with all its data, and only its own', async (t) => {
  const { app, host, tenants } = await build(t, { tenants: [documentsTenant, documentsTenant] })
  const slug = tenants[0]!.slug
  const martin = await createFamily(app, slug, 'famille-martin', 'Martin')
  const durand = await createFamily(app, slug, 'famille-durand', 'Durand')
  const schooling = await createSchooling(app, slug, martin.pupil)
  await createSchooling(app, slug, durand.pupil)
  const em = app.orm.em.fork({ schema: schemaFor(slug) })
  em.create(RepertoirePiece, {
    pupil: martin.pupil.id,
    course: schooling.enrolment.course.id,
    addedBy: schooling.enrolment.course.teacher!.id,
    title: 'Rêverie',
    composer: 'Claude Debussy',
    period: 'xxe',
    startedOn: '2026-09-16',
    state: 'performed',
    performedOn: '2026-11-05',
  })
  for (const [family, pupil, content, name] of [
    [martin.family, martin.pupil, pdf, 'assurance léa.pdf'],
    [durand.family, durand.pupil, Buffer.from('%PDF-1.4\n% Durand\n%%EOF\n'), 'durand.pdf'],
  ] as const) {
    const file = em.create(StoredFile, {
      fileName: name,
      contentType: 'application/pdf',
      size: content.length,
      sha256: createHash('sha256').update(content).digest('hex'),
      content,
    })
    em.create(DocumentSubmission, {
      family,
      pupil,
      documentId: 'assurance',
      file,
      state: 'refused',
      reason: 'Illisible',
    })
  }
  em.create(ChangeRequest, {
    family: martin.family,
    subjectType: 'guardian',
    subjectId: martin.guardian.id,
    changes: { phoneMobile: { before: '06 12 34 56 78', after: '07 11 22 33 44', decision: 'validated' } },
    status: 'decided',
    decidedAt: new Date(),
  })
  em.create(Preregistration, {
    tokenHash: 'a'.repeat(64),
    status: 'accepted',
    email: 'famille-martin@example.fr',
    guardians: [{ lastName: 'Martin', firstName: 'Camille' }],
    applicants: [
      {
        fromGuardian: false,
        values: { lastName: 'Martin', firstName: 'Léa' },
        choices: ['piano'],
        freeText: null,
      },
    ],
    family: martin.family,
    decidedAt: new Date(),
  })
  await em.flush()

  const browser = await signedInBrowser(app, host(), 'famille-martin')
  const famille = html((await browser.get('/famille')).body)
  t.ok(famille.querySelector('a[href="/famille/mes-donnees"]'), 'the Famille page links to the export')
  const page = await browser.get('/famille/mes-donnees')
  t.equal(page.statusCode, 200)
  t.match(html(page.body).querySelector('h1')?.text, 'Mes données')

  const res = await browser.submit('/famille/mes-donnees', '/famille/mes-donnees.zip', {})
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'application/zip')
  t.match(res.headers['content-disposition'], /^attachment; filename="mes-donnees-.+\.zip"$/)
  t.equal(res.headers['cache-control'], 'private, no-store')
  const files = unzipSync(new Uint8Array(res.rawPayload))
  t.same(Object.keys(files).sort(), ['donnees.json', 'pieces/1-assurance léa.pdf', 'resume.html'].sort())
  const json = strFromU8(files['donnees.json']!)
  t.match(json, /^\{\n {2}"conservatoire"/, 'indented JSON')
  const data = JSON.parse(json)
  t.equal(data.responsables.length, 2)
  t.match(data.responsables[0], {
    rang: 1,
    nom: 'Martin',
    prenom: 'Camille',
    telephonePortable: '06 12 34 56 78',
  })
  t.same(
    data.comptes.map((a: { identifiant: string }) => a.identifiant),
    ['famille-martin'],
  )
  t.ok(data.comptes[0].derniereConnexion, 'the last sign-in')
  t.notMatch(json, /argon2|passwordHash|tokenHash|"a{64}"/, 'no hash, no token')
  t.equal(data.eleves.length, 1)
  const years = data.eleves[0].cours.map((c: { anneeScolaire: string }) => c.anneeScolaire).sort()
  t.same(years, ['2025-2026', '2026-2027'], 'the courses of every year')
  const clarinet = data.eleves[0].cours.find((c: { cours: string }) => c.cours === 'Clarinette 1C2')
  t.match(clarinet.evaluations[0], { appreciation: 'Beau son, travail régulier.' })
  t.same(
    clarinet.absences,
    [{ date: '2026-10-07', statut: 'excused', motif: 'Maladie' }],
    'the register’s absences',
  )
  t.same(data.eleves[0].piecesTravaillees, [
    {
      titre: 'Rêverie',
      compositeur: 'Claude Debussy',
      periode: 'xxe',
      commenceeLe: '2026-09-16',
      etat: 'jouee',
      joueeLe: '2026-11-05',
      cours: 'Clarinette 1C2',
      enseignant: 'Hélène Rivière',
    },
  ])
  t.match(data.documents[0], {
    piece: 'Attestation d’assurance',
    eleve: 'Léa Martin',
    etat: 'refused',
    motif: 'Illisible',
    fichier: { nom: 'assurance léa.pdf', chemin: 'pieces/1-assurance léa.pdf' },
  })
  t.same(Buffer.from(files['pieces/1-assurance léa.pdf']!), pdf, 'the stored bytes')
  t.match(data.modifications[0].champs.phoneMobile, {
    avant: '06 12 34 56 78',
    apres: '07 11 22 33 44',
    decision: 'validated',
  })
  t.match(data.preinscriptions[0], { statut: 'accepted', eleves: [{ firstName: 'Léa', choix: ['Piano'] }] })
  t.notMatch(json, /Durand/, "another family's data is absent")

  const summary = html(strFromU8(files['resume.html']!))
  t.match(summary.querySelector('title')?.text, /^Données de la famille/)
  t.notOk(summary.querySelector('link[rel="stylesheet"], script'), 'self-contained')
  t.match(summary.text, /Camille Martin/)
  t.match(summary.text, /Beau son, travail régulier\./)
  t.match(summary.text, /Rêverie — Claude Debussy/)
  t.match(summary.text, /07\/10\/2026\s*Absence \(excusée\)\s*Maladie/, 'the absence in the summary')
  t.ok(summary.querySelector('a[href="pieces/1-assurance léa.pdf"]'), 'the summary links the file')
  t.notMatch(summary.text, /Durand/)

  const audited = await app.orm.em
    .fork({ schema: schemaFor(slug) })
    .findOne(AuditEvent, { action: 'family.exported', subjectId: martin.family.id })
  t.ok(audited, 'the download is in the family’s history')

  t.test('another tenant’s host does not know the session; staff have no export', async (t) => {
    const elsewhere = await browser.app.inject({
      method: 'GET',
      url: '/famille/mes-donnees',
      headers: { host: host(1), cookie: browser.cookieHeader() },
    })
    t.not(elsewhere.statusCode, 200)
    await createAccount(app, slug, { identifiant: 'secretariat', role: 'secretariat' })
    const staff = await signedInBrowser(app, host(), 'secretariat', '/admin/connexion')
    t.equal((await staff.get('/famille/mes-donnees')).statusCode, 403)
  })
})
