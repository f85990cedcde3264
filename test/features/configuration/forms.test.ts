import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { DocumentSubmission, StoredFile } from '../../../src/features/documents/entities.ts'
import { Role } from '../../../src/platform/auth/entities.ts'
import { signInPaths } from '../../../src/platform/auth/plugin.ts'
import { TenantConfigDraft, TenantConfigVersion } from '../../../src/platform/tenancy/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { parseTenantConfig } from '../../../src/platform/tenancy/tenant-config.ts'
import { draftOf } from '../../../src/features/configuration/service.ts'
import { type Browser, createAccount, signedInBrowser } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { createFamily } from '../../helpers/families.ts'
import { formValues } from '../../helpers/forms.ts'

/** A tenant's text as an admin writes it: comments, flow lists, relative dates, a `|` block. */
const commented = (slug: string) => `# Conservatoire de test — en-tête gardé
slug: ${slug}
name: Conservatoire ${slug}
contact:
  email: contact@${slug}.example.fr # le secrétariat
establishments:
  - code: centre
    name: Site du centre

periods:
  # dates de la démonstration
  reenrolment:
    opens: today-30
    closes: today+45
    schoolYear: "2027-2028"

fields:
  guardian: [civility, lastName, firstName, email]

texts:
  home: |
    Bienvenue sur le portail.

    Deuxième paragraphe.

reenrolment:
  steps: [coordinates, documents, finalize] # trois étapes
  texts:
    finalize: Validez votre réinscription.
  courseNotes:
    - Première note.
    - "Deuxième note : avec deux-points."

disciplines:
  - { code: danse, name: Danse, domain: dance }
  - { code: piano, name: Piano, domain: music }

paymentModes:
  - id: prelevement
    label: Prélèvement en 9 fois
    kind: directDebit
    instalments: 9
  - id: cheque
    label: Chèque
    kind: cheque

# — Pièces —
documents:
  - id: sepa
    label: Mandat SEPA
    level: family
    when: { fact: family.paymentMode, equals: prelevement }
  - id: assurance
    label: Attestation d’assurance
    level: pupil
  - id: combine
    label: Certificat combiné
    level: pupil
    when:
      all:
        - { fact: pupil.disciplines, includesAny: [danse] }
        - { fact: pupil.minor, equals: true }
`

/** Publishes a text as the tenant's next version, as the lead's publish does: stored, then served. */
async function publish(app: FastifyInstance, slug: string, source: string) {
  const { config, problems } = parseTenantConfig(`${slug}.yaml`, source)
  if (!config) throw new Error(problems.map((p) => p.message).join('\n'))
  const em = app.orm.em.fork()
  em.create(TenantConfigVersion, {
    tenant: slug,
    number: 2,
    source,
    comment: 'test',
    authorName: 'test',
  })
  await em.flush()
  await em.execute('update platform.tenant set config_version = 2 where slug = ?', [slug])
  app.registry.activate(slug, 2, config)
}

const squash = (value: string | undefined) => (value ?? '').replace(/\s+/g, ' ').trim()

/** The message beside a field, and the field's value as the page shows it again. */
function beside(body: string, name: string) {
  const page = html(body)
  const control = page.querySelector(`#${name}`)
  return {
    error: squash(page.querySelector(`#${name}-error`)?.text),
    value: control?.tagName === 'TEXTAREA' ? control.text : control?.getAttribute('value'),
  }
}

/** The lines of `after` that are not in `before`, and those of `before` gone. */
function changedLines(before: string, after: string) {
  const a = before.split('\n')
  const b = after.split('\n')
  return { added: b.filter((line) => !a.includes(line)), removed: a.filter((line) => !b.includes(line)) }
}

t.test('the forms for what changes every year', async (t) => {
  const { app, host, tenants } = await build(t, { tenants: [{}, {}] })
  const slug = tenants[0]!.slug
  const other = tenants[1]!.slug
  const source = commented(slug)
  await publish(app, slug, source)
  await createAccount(app, slug, { identifiant: 'admin-a', role: 'admin' })
  const admin = await signedInBrowser(app, host(0), 'admin-a', '/admin/connexion')

  const draftText = async (location: string | undefined) => {
    const id = Number(/\/admin\/configuration\/brouillons\/(\d+)$/.exec(location ?? '')?.[1])
    const draft = await app.orm.em.fork().findOneOrFail(TenantConfigDraft, { id })
    t.equal(draft.tenant.slug ?? (draft.tenant as unknown as string), slug)
    return draft.source
  }
  /** Posts a form as its page shows it, with some fields changed (undefined: left empty/unticked). */
  const send = async (page: string, action: string, changes: Record<string, string | undefined>) => {
    const values = formValues((await admin.get(page)).body, action)
    for (const [name, value] of Object.entries(changes)) {
      if (value === undefined) delete values[name]
      else values[name] = value
    }
    return admin.post(action, values)
  }

  // each case edits the served version: the admin's draft of the case before is discarded
  t.beforeEach(async () => {
    await app.orm.em.fork().nativeDelete(TenantConfigDraft, { tenant: slug })
  })

  t.test('Périodes: the served values, resolved, with the relative date said beside', async (t) => {
    const res = await admin.get('/admin/configuration/periodes')
    t.equal(res.statusCode, 200)
    const page = html(res.body)
    t.equal(page.querySelector('h1')?.text, 'Périodes')
    t.match(page.querySelector('#reenrolment-closes')?.getAttribute('value'), /^\d{4}-\d{2}-\d{2}T23:59$/)
    t.equal(page.querySelector('#reenrolment-closes')?.getAttribute('type'), 'datetime-local')
    t.match(page.querySelector('#reenrolment-closes-hint')?.text, 'today+45')
    t.equal(page.querySelector('#reenrolment-schoolYear')?.getAttribute('value'), '2027-2028')
    t.ok(page.querySelector('#reenrolment-enabled')?.hasAttribute('checked'))
    t.notOk(page.querySelector('#preregistration-enabled')?.hasAttribute('checked'), 'no pré-inscription')
  })

  t.test('changing the closing date makes a draft with that line only, comments kept', async (t) => {
    const res = await send('/admin/configuration/periodes', '/admin/configuration/periodes', {
      'reenrolment-closes': '2027-06-30T23:59',
    })
    t.equal(res.statusCode, 303)
    t.match(res.headers.location, /^\/admin\/configuration\/brouillons\/\d+$/)
    const text = await draftText(res.headers.location as string)
    t.same(changedLines(source, text), {
      added: ['    closes: 2027-06-30'],
      removed: ['    closes: today+45'],
    })
    t.match(text, '# dates de la démonstration')
    t.match(text, 'opens: today-30', 'the opening nobody changed stays relative')
  })

  t.test('closing before opening: the core’s message beside the closing, what was typed kept', async (t) => {
    const res = await send('/admin/configuration/periodes', '/admin/configuration/periodes', {
      'reenrolment-opens': '2027-06-30T09:00',
      'reenrolment-closes': '01/06/2027 18:00',
    })
    t.equal(res.statusCode, 400)
    t.same(beside(res.body, 'reenrolment-closes'), {
      error: 'La fermeture doit venir après l’ouverture.',
      value: '01/06/2027 18:00',
    })
    t.equal(beside(res.body, 'reenrolment-opens').value, '2027-06-30T09:00')
    t.match(html(res.body).querySelector('.error-summary')?.text, 'Réinscription — Fermeture')
  })

  t.test('a date that is no date, a school year that is no year: refused beside them', async (t) => {
    const res = await send('/admin/configuration/periodes', '/admin/configuration/periodes', {
      'reenrolment-closes': '31/02/2027',
      'reenrolment-schoolYear': '2027-2029',
    })
    t.equal(res.statusCode, 400)
    t.same(beside(res.body, 'reenrolment-closes'), {
      error: 'Indiquez une date et une heure, par exemple 11/06/2026 23:59.',
      value: '31/02/2027',
    })
    t.match(beside(res.body, 'reenrolment-schoolYear').error, 'deux années qui se suivent')
    t.equal(html(res.body).querySelector('#reenrolment-closes')?.getAttribute('type'), 'text')
  })

  t.test('a pré-inscription added and the re-enrolment removed', async (t) => {
    const res = await send('/admin/configuration/periodes', '/admin/configuration/periodes', {
      'preregistration-enabled': 'true',
      'preregistration-opens': '2027-03-01T00:00',
      'preregistration-closes': '2027-04-15T12:00',
      'reenrolment-enabled': undefined,
    })
    t.equal(res.statusCode, 303)
    const text = await draftText(res.headers.location as string)
    const config = parseTenantConfig(`${slug}.yaml`, text).config!
    t.same(config.periods, { preregistration: { opens: '2027-03-01', closes: '2027-04-15T12:00' } })
  })

  t.test('hostile bodies are answered, never with a 500', async (t) => {
    const token = formValues(
      (await admin.get('/admin/configuration/periodes')).body,
      '/admin/configuration/periodes',
    )._csrf!
    const missing = await admin.post('/admin/configuration/periodes', {
      _csrf: token,
      'reenrolment-enabled': 'true',
    })
    t.equal(missing.statusCode, 400)
    t.equal(beside(missing.body, 'reenrolment-opens').error, 'Ce champ est obligatoire.')
    const huge = await admin.post('/admin/configuration/textes', {
      _csrf: token,
      'texts-home': 'x'.repeat(40_000),
    })
    t.equal(huge.statusCode, 400)
    const long = await send('/admin/configuration/textes', '/admin/configuration/textes', {
      'texts-home': 'é'.repeat(20_001),
    })
    t.equal(long.statusCode, 400)
    t.equal(beside(long.body, 'texts-home').error, 'Doit contenir au plus 20000 caractères.')
    const json = await app.inject({
      method: 'POST',
      url: '/admin/configuration/etapes',
      headers: { host: host(0), cookie: admin.cookieHeader(), 'content-type': 'application/json' },
      payload: JSON.stringify({ _csrf: token, layout: { wizard: true }, 'position-finalize': [1, 2] }),
    })
    t.equal(json.statusCode, 400)
    const nothing = await send('/admin/configuration/champs', '/admin/configuration/champs', {})
    t.equal(nothing.statusCode, 400, 'a form sent unchanged makes no draft')
    t.match(html(nothing.body).querySelector('#problems')?.text, 'Rien n’a changé')
  })

  t.test('Textes: every text shown; a change keeps the others and the file’s comments', async (t) => {
    const page = html((await admin.get('/admin/configuration/textes')).body)
    t.match(page.querySelector('#texts-home')?.text, 'Deuxième paragraphe.')
    t.equal(page.querySelector('#intro-finalize')?.text, 'Validez votre réinscription.')
    t.equal(page.querySelector('#courseNotes')?.text, 'Première note.\nDeuxième note : avec deux-points.')
    const res = await send('/admin/configuration/textes', '/admin/configuration/textes', {
      'texts-paymentInfo': 'Le coût définitif est fixé par nos services.\r\n- Paiement en 9 fois',
      'intro-finalize': '',
      courseNotes: 'Première note.\r\nDeuxième note : avec deux-points.\r\nTroisième note.',
      'texts-rulesUrl': 'https://exemple.fr/reglement.pdf',
    })
    t.equal(res.statusCode, 303)
    const text = await draftText(res.headers.location as string)
    const config = parseTenantConfig(`${slug}.yaml`, text).config!
    t.equal(config.texts?.paymentInfo, 'Le coût définitif est fixé par nos services.\n- Paiement en 9 fois\n')
    t.equal(config.texts?.rulesUrl, 'https://exemple.fr/reglement.pdf')
    t.notOk(config.reenrolment.texts, 'the emptied introduction is removed, and its empty block')
    t.same(config.reenrolment.courseNotes, [
      'Première note.',
      'Deuxième note : avec deux-points.',
      'Troisième note.',
    ])
    t.match(text, '    - "Deuxième note : avec deux-points."', 'a note kept keeps its quotes')
    t.match(text, '# — Pièces —')
    t.match(text, 'steps: [coordinates, documents, finalize] # trois étapes')

    const bad = await send('/admin/configuration/textes', '/admin/configuration/textes', {
      'texts-rulesUrl': 'reglement.pdf',
    })
    t.equal(bad.statusCode, 400)
    t.same(beside(bad.body, 'texts-rulesUrl'), {
      error: 'Indiquez une adresse web complète, commençant par https://.',
      value: 'reglement.pdf',
    })
  })

  t.test('Champs obligatoires: boxes with the identity labels; a box ticked ends in the list', async (t) => {
    const page = html((await admin.get('/admin/configuration/champs')).body)
    t.equal(page.querySelector('label[for="guardian-phoneMobile"]')?.text, 'Mobile')
    t.ok(page.querySelector('#guardian-email')?.hasAttribute('checked'))
    t.notOk(page.querySelector('#guardian-phoneMobile')?.hasAttribute('checked'))
    t.ok(
      page.querySelector('#pupil-birthDate')?.hasAttribute('checked'),
      'the default list when the file has none',
    )
    const res = await send('/admin/configuration/champs', '/admin/configuration/champs', {
      'guardian-phoneMobile': 'true',
      'guardian-firstName': undefined,
    })
    t.equal(res.statusCode, 303)
    const text = await draftText(res.headers.location as string)
    t.match(text, '  guardian: [civility, lastName, email, phoneMobile]\n')
  })

  t.test('Étapes: positions per step; finalize not last is the core’s message beside it', async (t) => {
    const page = html((await admin.get('/admin/configuration/etapes')).body)
    t.equal(page.querySelector('#position-documents option[selected]')?.getAttribute('value'), '2')
    t.equal(page.querySelector('#position-courses option[selected]'), null, 'a step not offered')
    const wrong = await send('/admin/configuration/etapes', '/admin/configuration/etapes', {
      'position-finalize': '2',
      'position-documents': '3',
    })
    t.equal(wrong.statusCode, 400)
    t.equal(beside(wrong.body, 'position-finalize').error, 'Finalize doit être la dernière étape.')
    t.equal(
      html(wrong.body).querySelector('#position-finalize option[selected]')?.getAttribute('value'),
      '2',
      'what was chosen is kept',
    )
    const twice = await send('/admin/configuration/etapes', '/admin/configuration/etapes', {
      'position-courses': '2',
    })
    t.equal(twice.statusCode, 400)
    t.match(
      beside(twice.body, 'position-documents').error + beside(twice.body, 'position-courses').error,
      'position 2',
    )
    const res = await send('/admin/configuration/etapes', '/admin/configuration/etapes', {
      'position-courses': '3',
      'position-finalize': '4',
      layout: 'onePage',
    })
    t.equal(res.statusCode, 303)
    const config = parseTenantConfig(`${slug}.yaml`, await draftText(res.headers.location as string)).config!
    t.same(config.reenrolment.steps, ['coordinates', 'documents', 'courses', 'finalize'])
    t.equal(config.reenrolment.layout, 'onePage')
  })

  t.test('Pièces: the list says each condition in words', async (t) => {
    const page = html((await admin.get('/admin/configuration/pieces')).body)
    const rows = page.querySelectorAll('table.config-documents tbody tr').map((tr) => squash(tr.text))
    t.match(
      rows[0],
      /Mandat SEPA La famille familles qui règlent par « Prélèvement en 9 fois » PDF, JPEG, PNG 2 Mo/,
    )
    t.match(rows[1], 'Toujours demandée')
    t.match(rows[2], 'élèves inscrits en « Danse » et élèves mineurs')
  })

  t.test('a pièce added with a condition (dance pupils only) ends in the draft', async (t) => {
    const form = html((await admin.get('/admin/configuration/pieces/nouvelle')).body)
    t.ok(form.querySelector('#discipline-danse'), 'the tenant’s disciplines are offered')
    const res = await send('/admin/configuration/pieces/nouvelle', '/admin/configuration/pieces/nouvelle', {
      label: 'Certificat médical',
      help: 'De moins de trois mois.',
      level: 'pupil',
      condition: 'disciplines',
      'discipline-danse': 'true',
      'accept-png': undefined,
      maxSizeMb: '1,5',
      validity: 'until',
      until: '2028-08-31',
    })
    t.equal(res.statusCode, 303)
    const text = await draftText(res.headers.location as string)
    const added = parseTenantConfig(`${slug}.yaml`, text).config!.documents!.at(-1)
    t.same(added, {
      id: 'certificat-medical',
      label: 'Certificat médical',
      help: 'De moins de trois mois.',
      level: 'pupil',
      when: { fact: 'pupil.disciplines', includesAny: ['danse'] },
      accept: ['pdf', 'jpeg'],
      maxSizeMb: 1.5,
      validity: { until: '2028-08-31' },
      archived: false,
    })
    t.match(text, '    when: {fact: pupil.disciplines, includesAny: [danse]}')
    t.same(changedLines(source, text).removed, [], 'nothing else of the file changed')
  })

  t.test('a pièce refused: no label, no format, a family’s pièce on a pupil’s fact', async (t) => {
    const res = await send('/admin/configuration/pieces/nouvelle', '/admin/configuration/pieces/nouvelle', {
      label: '   ',
      level: 'family',
      condition: 'minor',
      minor: 'true',
      'accept-pdf': undefined,
      'accept-jpeg': undefined,
      'accept-png': undefined,
      maxSizeMb: 'deux',
    })
    t.equal(res.statusCode, 400)
    t.equal(beside(res.body, 'label').error, 'Ce champ est obligatoire.')
    t.match(beside(res.body, 'condition').error, 'ne peut dépendre que de la famille')
    t.equal(beside(res.body, 'accept').error, 'Cochez au moins un format.')
    t.same(beside(res.body, 'maxSizeMb'), {
      error: 'Indiquez une taille en Mo, par exemple 2 ou 1,5.',
      value: 'deux',
    })
    const big = await send('/admin/configuration/pieces/nouvelle', '/admin/configuration/pieces/nouvelle', {
      label: 'Photo',
      maxSizeMb: '25',
    })
    t.equal(big.statusCode, 400)
    t.equal(beside(big.body, 'maxSizeMb').error, 'Doit être inférieur ou égal à 20.', 'the schema’s limit')
  })

  t.test('editing a pièce: its id fixed, a composite condition kept as it is', async (t) => {
    const page = html((await admin.get('/admin/configuration/pieces/combine')).body)
    t.ok(page.querySelector('#condition-custom')?.hasAttribute('checked'))
    t.match(page.querySelector('a[href="/admin/configuration/yaml"]')?.text, 'éditeur YAML')
    const res = await send('/admin/configuration/pieces/combine', '/admin/configuration/pieces/combine', {
      label: 'Certificat combiné (danse)',
    })
    t.equal(res.statusCode, 303)
    const text = await draftText(res.headers.location as string)
    t.same(changedLines(source, text), {
      added: ['    label: Certificat combiné (danse)'],
      removed: ['    label: Certificat combiné'],
    })
    const sepa = await send('/admin/configuration/pieces/sepa', '/admin/configuration/pieces/sepa', {
      'mode-cheque': 'true',
    })
    t.equal(sepa.statusCode, 303)
    t.match(
      await draftText(sepa.headers.location as string),
      'when: {fact: family.paymentMode, in: [prelevement, cheque]}',
    )
  })

  t.test('a pièce a family provided: removing it is refused (archive it), archiving it works', async (t) => {
    const { family } = await createFamily(app, slug, 'famille-sepa')
    const em = app.orm.em.fork({ schema: schemaFor(slug) })
    const file = em.create(StoredFile, {
      fileName: 'sepa.pdf',
      contentType: 'application/pdf',
      size: 4,
      sha256: '0'.repeat(64),
      content: Buffer.from('%PDF'),
    })
    em.create(DocumentSubmission, { family: family.id, documentId: 'sepa', file })
    await em.flush()
    const page = (await admin.get('/admin/configuration/pieces/sepa')).body
    const token = formValues(page, '/admin/configuration/pieces/sepa/supprimer')._csrf!
    const removed = await admin.post('/admin/configuration/pieces/sepa/supprimer', { _csrf: token })
    t.equal(removed.statusCode, 400)
    t.equal(
      beside(removed.body, 'delete').error,
      'La pièce « Mandat SEPA » a déjà été fournie par 1 famille : archivez-la (archived: true) au lieu de la supprimer.',
    )
    const archived = await admin.post('/admin/configuration/pieces/sepa/archiver', { _csrf: token })
    t.equal(archived.statusCode, 303)
    const text = await draftText(archived.headers.location as string)
    t.same(changedLines(source, text).added, ['    archived: true'])
    const unused = await admin.post('/admin/configuration/pieces/assurance/supprimer', { _csrf: token })
    t.equal(unused.statusCode, 303, 'a pièce nobody provided is removed')
    t.notMatch(await draftText(unused.headers.location as string), 'assurance')
  })

  t.test('Modes de paiement: list, add, edit; one families chose cannot be removed', async (t) => {
    const list = html((await admin.get('/admin/configuration/paiement')).body)
    t.match(
      squash(list.querySelector('table.config-payment tbody tr')?.text),
      'Prélèvement en 9 fois Prélèvement SEPA 9',
    )
    const added = await send(
      '/admin/configuration/paiement/nouveau',
      '/admin/configuration/paiement/nouveau',
      {
        label: 'Chèques vacances ANCV',
        kind: 'holidayVouchers',
      },
    )
    t.equal(added.statusCode, 303)
    t.match(
      await draftText(added.headers.location as string),
      '  - id: cheques-vacances-ancv\n    label: Chèques vacances ANCV\n    kind: holidayVouchers\n',
    )
    const bad = await send('/admin/configuration/paiement/cheque', '/admin/configuration/paiement/cheque', {
      instalments: '13',
    })
    t.equal(bad.statusCode, 400)
    t.same(beside(bad.body, 'instalments'), { error: 'Doit être inférieur ou égal à 12.', value: '13' })
    const { family } = await createFamily(app, slug, 'famille-cheque', 'Chèque')
    await app.orm.em
      .fork()
      .execute(`update "${schemaFor(slug)}".family set payment_mode = 'cheque' where id = ?`, [family.id])
    const token = formValues(
      (await admin.get('/admin/configuration/paiement/cheque')).body,
      '/admin/configuration/paiement/cheque/supprimer',
    )._csrf!
    const removed = await admin.post('/admin/configuration/paiement/cheque/supprimer', { _csrf: token })
    t.equal(removed.statusCode, 400)
    t.match(beside(removed.body, 'delete').error, 'est celui de 1 famille')
    const used = await admin.post('/admin/configuration/paiement/prelevement/supprimer', { _csrf: token })
    t.equal(used.statusCode, 400, 'a mode a pièce’s condition names')
    t.match(
      html(used.body).querySelector('#problems')?.text,
      /Ligne \d+ \(documents\.0\.when\) : « prelevement » n’est pas/,
    )
  })

  t.test(
    'a second form continues the admin’s draft: both changes in one draft, its values shown',
    async (t) => {
      const first = await send('/admin/configuration/periodes', '/admin/configuration/periodes', {
        'reenrolment-closes': '2027-06-30T23:59',
      })
      const firstId = Number(/(\d+)$/.exec(first.headers.location ?? '')?.[1])
      const periods = html((await admin.get('/admin/configuration/periodes')).body)
      t.equal(
        periods.querySelector('#reenrolment-closes')?.getAttribute('value'),
        '2027-06-30T23:59',
        'the draft’s date shown',
      )
      t.match(periods.querySelector('.working-draft')?.text, `Vous continuez votre brouillon n° ${firstId}`)
      const second = await send('/admin/configuration/textes', '/admin/configuration/textes', {
        'texts-rulesUrl': 'https://exemple.fr/reglement-2027.pdf',
      })
      const text = await draftText(second.headers.location as string)
      t.same(
        changedLines(source, text).added.sort(),
        ['    closes: 2027-06-30', '  rulesUrl: https://exemple.fr/reglement-2027.pdf'].sort(),
      )
      t.equal(await app.orm.em.fork().count(TenantConfigDraft, { tenant: slug }), 1, 'one draft per admin')
    },
  )

  t.test('another tenant: its pièces and modes are not found, its drafts never reachable', async (t) => {
    await send('/admin/configuration/periodes', '/admin/configuration/periodes', {
      'reenrolment-closes': '2027-06-30T23:59',
    })
    await createAccount(app, other, { identifiant: 'admin-b', role: 'admin' })
    const otherAdmin = await signedInBrowser(app, host(1), 'admin-b', '/admin/connexion')
    t.equal((await otherAdmin.get('/admin/configuration/pieces/sepa')).statusCode, 404)
    t.equal((await otherAdmin.get('/admin/configuration/paiement/cheque')).statusCode, 404)
    t.equal((await admin.get('/admin/configuration/pieces/inconnue')).statusCode, 404)
    const token = formValues(
      (await otherAdmin.get('/admin/configuration/periodes')).body,
      '/admin/configuration/periodes',
    )._csrf!
    t.equal(
      (await otherAdmin.post('/admin/configuration/pieces/sepa/supprimer', { _csrf: token })).statusCode,
      404,
    )
    const drafts = await app.orm.em.fork().find(TenantConfigDraft, { tenant: slug })
    t.ok(drafts.length > 0)
    const otherCtx = { tenant: app.registry.get(other)!, em: app.orm.em.fork() } as never
    t.equal(await draftOf(otherCtx, drafts[0]!.id), null, 'tenant A’s draft is not found from B')
    const stranger = await admin.get('/admin/configuration/periodes')
    t.equal(stranger.statusCode, 200)
    const crossed = await app.inject({
      url: '/admin/configuration/periodes',
      headers: { host: host(1), cookie: admin.cookieHeader() },
    })
    t.equal(crossed.statusCode, 303, 'A’s session means nothing on B’s host')
  })
})

t.test('only admins reach the forms: other roles 403, visitors sent to sign in', async (t) => {
  const { app, host, tenants } = await build(t)
  const slug = tenants[0]!.slug
  const browsers = new Map<Role, Browser>()
  for (const role of [Role.secretariat, Role.direction, Role.teacher, Role.family]) {
    await createAccount(app, slug, { identifiant: `compte-${role}`, role })
    browsers.set(role, await signedInBrowser(app, host(), `compte-${role}`, signInPaths[role]))
  }
  const pages = [
    '/admin/configuration/periodes',
    '/admin/configuration/textes',
    '/admin/configuration/pieces',
    '/admin/configuration/pieces/nouvelle',
    '/admin/configuration/paiement',
    '/admin/configuration/paiement/nouveau',
    '/admin/configuration/champs',
    '/admin/configuration/etapes',
  ]
  const lists = new Set(['/admin/configuration/pieces', '/admin/configuration/paiement'])
  const forms = pages.filter((url) => !lists.has(url))
  for (const [role, browser] of browsers) {
    const token = html((await browser.get('/mot-de-passe')).body)
      .querySelector('input[name="_csrf"]')!
      .getAttribute('value')!
    for (const url of pages) {
      t.equal((await browser.get(url)).statusCode, 403, `${role} GET ${url}`)
      if (forms.includes(url))
        t.equal((await browser.post(url, { _csrf: token })).statusCode, 403, `${role} POST ${url}`)
    }
  }
  for (const url of pages) {
    const visitor = await app.inject({ url, headers: { host: host() } })
    t.equal(visitor.statusCode, 303)
    t.match(visitor.headers.location, /^\/admin\/connexion\?retour=/)
  }
  t.equal(
    await app.orm.em.fork().count(TenantConfigDraft, { tenant: slug }),
    0,
    'no draft was made by anyone but an admin',
  )
})
