import t from 'tap'
import { extractText, getDocumentProxy } from 'unpdf'
import { Invoice } from '../../../src/features/billing/entities.ts'
import { Rental, RentalItem } from '../../../src/features/billing/rental-entities.ts'
import { Family } from '../../../src/features/family/entities.ts'
import { AuditEvent } from '../../../src/platform/audit/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser, createAccount, signedInBrowser } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { createFamily } from '../../helpers/families.ts'
import { demoTenant, enrolIn } from '../../helpers/reenrolment.ts'

// Intl writes thousands with a narrow no-break space and the € after a no-break space
const text = (value: string | undefined) =>
  (value ?? '')
    .replace(/[\u202f\u00a0]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()

async function pdfText(body: Buffer | string): Promise<string> {
  const pdf = await getDocumentProxy(new Uint8Array(Buffer.from(body as string, 'binary')))
  const { text: pages } = await extractText(pdf, { mergePages: true })
  return text(pages)
}

/**
 * Limonest's tariffs (clarinette 90 € a year, deposit 200 €; rehearsal room 60 €, no deposit;
 * proration and debits on the nine months from November, day 5): the Martin family (Q3, nine
 * direct debits) with Léa enrolled, the Durand family; staff of each role, a teacher.
 */
async function setUp(t: Parameters<typeof build>[0]) {
  const built = await build(t, { tenants: [demoTenant('limonest'), demoTenant('limonest')] })
  const { app, tenants } = built
  const slug = tenants[0]!.slug
  const site = tenants[0]!.establishments[0]!.code
  const em = () => app.orm.em.fork({ schema: schemaFor(slug) })
  const martin = await createFamily(app, slug, 'famille-martin', 'Martin')
  const durand = await createFamily(app, slug, 'famille-durand', 'Durand')
  await em().nativeUpdate(
    Family,
    { id: martin.family.id },
    { quotientBracket: 'Q3', paymentMode: 'prelevement' },
  )
  await enrolIn(app, slug, martin.pupil, ['clarinette'], site)
  for (const role of ['secretariat', 'direction', 'teacher'] as const)
    await createAccount(app, slug, { identifiant: role, role })
  const secretariat = await signedInBrowser(app, built.host(), 'secretariat', '/admin/connexion')
  /** Lends an item through the form; the redirect's location. */
  const lend = async (fields: Record<string, string>) =>
    secretariat.submit('/admin/facturation/locations/nouvelle', '/admin/facturation/locations', fields)
  return { ...built, slug, em, martin, durand, secretariat, lend }
}

t.test('Nouvelle location: refused beside each field in French, what was typed kept', async (t) => {
  const { em, martin, durand, secretariat, lend } = await setUp(t)
  const list = html((await secretariat.get('/admin/facturation')).body)
  t.ok(list.querySelector('a[href="/admin/facturation/locations"]'), 'reached from Facturation')
  const empty = await lend({ holder: '', code: '', reference: '', startOn: '31/02/2027' })
  t.equal(empty.statusCode, 400)
  const page = html(empty.body)
  const errorOf = (name: string) => text(page.querySelector(`#${name}-error`)?.text)
  t.equal(errorOf('holder'), 'Choisissez l’élève ou la famille.')
  t.equal(errorOf('code'), 'Choisissez une location parmi celles proposées.')
  t.equal(errorOf('reference'), 'Indiquez la référence de l’objet loué.')
  t.equal(errorOf('startOn'), 'Indiquez une date valide (jj/mm/aaaa).')
  t.ok(page.querySelector('.error-summary'), 'an error summary names the fields')

  const bad = html(
    (
      await lend({
        holder: `eleve-${martin.pupil.id}`,
        code: 'harpe',
        reference: 'CLA<014>',
        startOn: '2027-01-10',
      })
    ).body,
  )
  t.equal(text(bad.querySelector('#code-error')?.text), 'Choisissez une location parmi celles proposées.')
  t.match(text(bad.querySelector('#reference-error')?.text), 'Référence invalide')
  t.equal(bad.querySelector('#reference')?.getAttribute('value'), 'CLA<014>', 'the reference typed is kept')
  t.ok(bad.querySelector(`option[value="eleve-${martin.pupil.id}"][selected]`), 'the pupil chosen is kept')

  const lent = await lend({
    holder: `eleve-${martin.pupil.id}`,
    code: 'clarinette',
    reference: ' cla-014 ',
    startOn: '2027-01-10',
  })
  t.equal(lent.statusCode, 303)
  const again = await lend({
    holder: `eleve-${durand.pupil.id}`,
    code: 'clarinette',
    reference: 'CLA-014',
    startOn: '2027-02-01',
  })
  t.equal(again.statusCode, 400)
  t.equal(
    text(html(again.body).querySelector('#reference-error')?.text),
    'Cet objet est déjà loué : enregistrez d’abord son retour.',
  )
  const room = await lend({
    holder: `famille-${durand.family.id}`,
    code: 'salle-repetition',
    reference: 'CLA-014',
    startOn: '2027-02-01',
  })
  t.equal(
    text(html(room.body).querySelector('#reference-error')?.text),
    'Cette référence est celle d’un autre objet : Location clarinette.',
  )
  const another = await lend({
    holder: `famille-${martin.family.id + 1000}`,
    code: 'salle-repetition',
    reference: 'SALLE-B',
    startOn: '2027-02-01',
  })
  t.equal(text(html(another.body).querySelector('#holder-error')?.text), 'Choisissez l’élève ou la famille.')
  const rentals = await em().find(Rental, {}, { populate: ['item'] })
  t.same(
    rentals.map((r) => [r.item.reference, r.item.code, r.family.id, r.pupil?.id, r.deposit]),
    [['CLA-014', 'clarinette', martin.family.id, martin.pupil.id, 20000]],
    'one rental, the reference in capitals, the deposit of the tariffs',
  )
  t.equal(await em().count(RentalItem, {}), 1)
})

t.test(
  'a rental starting in January is billed 6/9 of the year with its deposit, on its own invoice, shown and printed with its reference',
  async (t) => {
    const { app, host, em, martin, durand, secretariat, lend } = await setUp(t)
    await lend({
      holder: `eleve-${martin.pupil.id}`,
      code: 'clarinette',
      reference: 'CLA-014',
      startOn: '2027-01-10',
    })
    await lend({
      holder: `famille-${durand.family.id}`,
      code: 'salle-repetition',
      reference: 'SALLE-B',
      startOn: '2026-09-01',
    })
    const listed = html((await secretariat.get('/admin/facturation/locations')).body)
    const rows = listed.querySelectorAll('tbody tr').map((r) => text(r.text))
    t.match(
      rows[0],
      /CLA-014 Location clarinette Camille Martin Léa Martin Depuis le 10\/01\/2027 200,00 € — déposée/,
    )
    t.match(rows[1], /SALLE-B Salle de répétition .* Camille Durand Depuis le 01\/09\/2026 —/)

    const preview = html((await secretariat.get('/admin/facturation/generer')).body)
    const rentalRows = preview.querySelectorAll('table.rental-invoices tbody tr').map((r) => text(r.text))
    t.equal(rentalRows.length, 2)
    t.match(rentalRows[0], /Durand SALLE-B 60,00 € 1 Mode de paiement non choisi/)
    t.match(rentalRows[1], /Martin CLA-014 \(Léa Martin\) 260,00 € 6 —/)
    t.match(text(preview.text), '2 factures de location : 320,00 €, cautions comprises.')

    const issued = await secretariat.submit('/admin/facturation/generer', '/admin/facturation/generer', {})
    t.equal(issued.headers.location, '/admin/facturation/generer?emises=3', 'the cotisation and two rentals')
    const invoice = await em().findOneOrFail(
      Invoice,
      { family: martin.family.id, kind: 'location' },
      { populate: ['lines', 'instalments'] },
    )
    t.same(
      invoice.lines.getItems().map((l) => [l.label, l.detail, l.amount, l.kind, l.pupil?.id]),
      [
        [
          'Location clarinette',
          'Réf. CLA-014 — à partir du 10/01/2027 — 6/9',
          6000,
          'rental',
          martin.pupil.id,
        ],
        [
          'Caution — Location clarinette',
          'Réf. CLA-014, rendue au retour en bon état',
          20000,
          'deposit',
          martin.pupil.id,
        ],
      ],
    )
    t.same(
      invoice.instalments.getItems().map((i) => [String(i.dueOn).slice(0, 10), i.amount]),
      [
        ['2027-02-05', 21000],
        ['2027-03-05', 1000],
        ['2027-04-05', 1000],
        ['2027-05-05', 1000],
        ['2027-06-05', 1000],
        ['2027-07-05', 1000],
      ],
      'six debits from February, the deposit with the first',
    )
    const after = html((await secretariat.get('/admin/facturation/generer')).body)
    t.notOk(after.querySelector('table.rental-invoices'), 'nothing left to bill')
    const again = await secretariat.post('/admin/facturation/generer', {
      _csrf: after.querySelector('input[name=_csrf]')?.getAttribute('value') ?? '',
    })
    t.equal(again.headers.location, '/admin/facturation/generer?emises=0', 'never billed twice')

    const family = await signedInBrowser(app, host(), 'famille-martin')
    const tab = html((await family.get('/facturation/locations')).body)
    const shown = text(tab.querySelector('main')?.text)
    t.match(shown, invoice.number!)
    t.same(
      tab
        .querySelectorAll('table.invoice-lines tbody tr')
        .map((r) => r.querySelectorAll('th, td').map((c) => text(c.text))),
      [
        ['Léa Martin — Location clarinette Réf. CLA-014 — à partir du 10/01/2027 — 6/9', '60,00 €'],
        ['Léa Martin — Caution — Location clarinette Réf. CLA-014, rendue au retour en bon état', '200,00 €'],
      ],
      'each line with the item’s reference, the deposit on its own line',
    )
    t.notMatch(text((await family.get('/facturation')).body), 'CLA-014', 'not among the cotisations')
    const pdf = await family.get(`/facturation/factures/${invoice.id}/pdf`)
    t.equal(pdf.headers['content-type'], 'application/pdf')
    const printed = await pdfText(pdf.rawPayload)
    t.match(printed, 'Réf. CLA-014 — à partir du 10/01/2027 — 6/9')
    t.match(printed, 'Caution — Location clarinette')
    t.match(printed, '200,00 €')
    t.match(printed, '260,00 €')
  },
)

t.test(
  'Fin de location: the return date checked, the deposit returned by a credit note or kept',
  async (t) => {
    const { em, martin, durand, secretariat, lend } = await setUp(t)
    await lend({
      holder: `eleve-${martin.pupil.id}`,
      code: 'clarinette',
      reference: 'CLA-014',
      startOn: '2026-09-15',
    })
    await lend({
      holder: `eleve-${durand.pupil.id}`,
      code: 'clarinette',
      reference: 'CLA-015',
      startOn: '2026-09-15',
    })
    await secretariat.submit('/admin/facturation/generer', '/admin/facturation/generer', {})
    const [first, second] = await em().find(Rental, {}, { orderBy: { id: 'asc' } })
    const url = `/admin/facturation/locations/${first!.id}`
    const page = html((await secretariat.get(url)).body)
    t.match(text(page.querySelector('h1')?.text), 'Location clarinette — CLA-014')
    t.match(text(page.querySelector('main')?.text), /F\d{4}-\d{6} — Location 2026-2027 : 90,00 €/)

    const refused = await secretariat.submit(url, `${url}/fin`, { returnedOn: '2026-09-01' })
    t.equal(refused.statusCode, 400)
    const errors = html(refused.body)
    t.equal(
      text(errors.querySelector('#returnedOn-error')?.text),
      'La date de retour ne peut pas précéder le début de la location (15/09/2026).',
    )
    t.equal(
      text(errors.querySelector('#deposit-error')?.text),
      'Dites si la caution est rendue ou conservée.',
    )
    t.equal(errors.querySelector('#returnedOn')?.getAttribute('value'), '2026-09-01')

    const back = await secretariat.submit(url, `${url}/fin`, {
      returnedOn: '2026-11-20',
      deposit: 'returned',
    })
    t.equal(back.statusCode, 303)
    const ended = await em().findOneOrFail(Rental, first!.id)
    t.same([String(ended.endOn).slice(0, 10), ended.depositOutcome], ['2026-11-20', 'returned'])
    const note = await em().findOneOrFail(Invoice, { kind: 'avoir' }, { populate: ['lines', 'corrects'] })
    t.same(
      [note.total, note.corrects?.kind, note.reason],
      [20000, 'location', 'Caution rendue au retour de CLA-014'],
      'the deposit credited on the rental invoice',
    )
    const after = html((await secretariat.get(url)).body)
    t.notOk(after.querySelector(`form[action="${url}/fin"]`), 'an ended rental has no return form')
    t.match(text(after.querySelector('main')?.text), 'Du 15/09/2026 au 20/11/2026')
    t.equal(
      (await secretariat.post(`${url}/fin`, { _csrf: 'x', returnedOn: '2026-11-21', deposit: 'kept' }))
        .statusCode,
      403,
      'a forged form is refused',
    )

    const kept = `/admin/facturation/locations/${second!.id}`
    t.equal(
      (await secretariat.submit(kept, `${kept}/fin`, { returnedOn: '2026-11-20', deposit: 'kept' }))
        .statusCode,
      303,
    )
    t.equal((await em().findOneOrFail(Rental, second!.id)).depositOutcome, 'kept')
    t.equal(await em().count(Invoice, { kind: 'avoir' }), 1, 'a deposit kept is not credited')
    t.equal(await em().count(AuditEvent, { action: { $in: ['rental.create', 'rental.end'] } }), 4)
    const list = html((await secretariat.get('/admin/facturation/locations')).body)
    t.match(text(list.text), '200,00 € — rendue')
    t.match(text(list.text), '200,00 € — conservée')
  },
)

t.test(
  'authorization: families, teachers and the direction refused where they may not act; other tenants and ids 404',
  async (t) => {
    const { app, host, tenants, em, martin, lend } = await setUp(t)
    await lend({
      holder: `eleve-${martin.pupil.id}`,
      code: 'clarinette',
      reference: 'CLA-014',
      startOn: '2026-09-15',
    })
    const [rental] = await em().find(Rental, {})
    const reads = ['/admin/facturation/locations', `/admin/facturation/locations/${rental!.id}`]
    const writeForms = ['/admin/facturation/locations/nouvelle']
    const posts = ['/admin/facturation/locations', `/admin/facturation/locations/${rental!.id}/fin`]

    const family = await signedInBrowser(app, host(), 'famille-martin')
    const teacher = await signedInBrowser(app, host(), 'teacher', '/enseignant/connexion')
    for (const browser of [family, teacher]) {
      for (const url of [...reads, ...writeForms]) t.equal((await browser.get(url)).statusCode, 403, url)
      for (const url of posts)
        t.equal((await browser.post(url, { returnedOn: '2026-11-20' })).statusCode, 403, url)
    }
    const visitor = new Browser(app, host())
    t.equal((await visitor.get(reads[0]!)).statusCode, 303, 'a visitor is sent to sign in')

    const direction = await signedInBrowser(app, host(), 'direction', '/admin/connexion')
    for (const url of reads) t.equal((await direction.get(url)).statusCode, 200, `the direction reads ${url}`)
    t.notOk(
      html((await direction.get(reads[1]!)).body).querySelector('form[action$="/fin"]'),
      'without the return form',
    )
    t.equal((await direction.get(writeForms[0]!)).statusCode, 403)
    for (const url of posts)
      t.equal((await direction.post(url, {})).statusCode, 403, `the direction cannot post ${url}`)

    const secretariat = await signedInBrowser(app, host(), 'secretariat', '/admin/connexion')
    t.equal((await secretariat.get('/admin/facturation/locations/999999')).statusCode, 404, 'an unknown id')
    t.equal((await secretariat.get('/admin/facturation/locations/abc')).statusCode, 400)

    await createAccount(app, tenants[1]!.slug, { identifiant: 'secretariat-b', role: 'secretariat' })
    const other = await signedInBrowser(app, host(1), 'secretariat-b', '/admin/connexion')
    t.equal((await other.get(reads[1]!)).statusCode, 404, 'another tenant’s rental')
    t.notMatch(text((await other.get(reads[0]!)).body), 'CLA-014')
    const otherForm = await other.submit(
      '/admin/facturation/locations/nouvelle',
      '/admin/facturation/locations',
      {
        holder: `eleve-${martin.pupil.id}`,
        code: 'clarinette',
        reference: 'CLA-099',
        startOn: '2026-09-15',
      },
    )
    t.equal(
      text(html(otherForm.body).querySelector('#holder-error')?.text),
      'Choisissez l’élève ou la famille.',
      'another tenant’s pupil is unknown',
    )
    const token = html((await other.get(reads[0]!)).body)
      .querySelector('input[name=_csrf]')
      ?.getAttribute('value')
    const ended = await other.post(`/admin/facturation/locations/${rental!.id}/fin`, {
      _csrf: token ?? '',
      returnedOn: '2026-11-20',
      deposit: 'kept',
    })
    t.equal(ended.statusCode, 404, 'another tenant’s rental cannot be ended')
    t.equal((await em().findOneOrFail(Rental, rental!.id)).endOn, null)
  },
)

t.test(
  'proration at the month boundary: lent on the 5th pays that month, on the 6th it does not',
  async (t) => {
    const { em, martin, durand, secretariat, lend } = await setUp(t)
    await lend({
      holder: `eleve-${martin.pupil.id}`,
      code: 'clarinette',
      reference: 'CLA-021',
      startOn: '2027-02-05',
    })
    await lend({
      holder: `famille-${durand.family.id}`,
      code: 'salle-repetition',
      reference: 'SALLE-C',
      startOn: '2027-02-06',
    })
    await secretariat.submit('/admin/facturation/generer', '/admin/facturation/generer', {})
    const lines = await em().find(
      Invoice,
      { kind: 'location' },
      { populate: ['lines'], orderBy: { id: 'asc' } },
    )
    t.same(
      lines.flatMap((i) =>
        i.lines
          .getItems()
          .filter((l) => l.kind === 'rental')
          .map((l) => [l.detail, l.amount]),
      ),
      [
        ['Réf. SALLE-C — à partir du 06/02/2027 — 5/9', 3333],
        ['Réf. CLA-021 — à partir du 05/02/2027 — 6/9', 6000],
      ],
    )
    // a room has no deposit: its return asks for none
    const room = await em().findOneOrFail(Rental, { item: { reference: 'SALLE-C' } })
    const url = `/admin/facturation/locations/${room.id}`
    t.notOk(html((await secretariat.get(url)).body).querySelector('#deposit'), 'no deposit question')
    t.equal(
      (await secretariat.submit(url, `${url}/fin`, { returnedOn: '2026-11-20' })).statusCode,
      400,
      'not before it was lent',
    )
    const early = await em().nativeUpdate(Rental, { id: room.id }, { startOn: '2026-11-02' })
    t.equal(early, 1)
    t.equal((await secretariat.submit(url, `${url}/fin`, { returnedOn: '2026-11-20' })).statusCode, 303)
    t.same([(await em().findOneOrFail(Rental, room.id)).depositOutcome], [null])
  },
)
