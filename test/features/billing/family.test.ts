import t from 'tap'
import { extractText, getDocumentProxy } from 'unpdf'
import { creditNote, issueInvoices, recordPayment } from '../../../src/features/billing/invoices.ts'
import { Guardian } from '../../../src/features/family/entities.ts'
import { Browser, goodPassword, signedInBrowser } from '../../helpers/accounts.ts'
import { billingSetUp, cotisation, nextYear } from '../../helpers/billing.ts'
import { html } from '../../helpers/build.ts'
import { createFamily } from '../../helpers/families.ts'

const text = (value: string | undefined) => (value ?? '').replace(/\s+/g, ' ').trim()
const autumn = new Date('2026-10-15T10:00:00Z')
// Intl writes thousands with a narrow no-break space and the € after a no-break space
const plain = (value: string) => value.replace(/[\u202f\u00a0]/g, ' ')

/** A row's or a pair's cells as a person reads them, one | between cells. */
const cells = (row: ReturnType<typeof html>) =>
  row
    .querySelectorAll('th, td, dt, dd')
    .map((c) => plain(text(c.text)))
    .join(' | ')

async function pdfText(body: Buffer | string): Promise<string> {
  const pdf = await getDocumentProxy(new Uint8Array(Buffer.from(body as string, 'binary')))
  const { text: pages } = await extractText(pdf, { mergePages: true })
  return plain(pages).replace(/\s+/g, ' ')
}

async function setUp(t: Parameters<typeof billingSetUp>[0]) {
  const built = await billingSetUp(t)
  const { staff, mine, other, draft, em } = built
  const tuition = await draft(cotisation(mine.family.id, mine.pupil.id))
  const rental = await draft({
    familyId: mine.family.id,
    kind: 'location',
    schoolYear: '2026-2027',
    paymentMode: 'cheque',
    lines: [
      {
        pupilId: mine.pupil.id,
        label: 'Location violon 3/4',
        detail: 'Instrument n° VL-034',
        amount: 12000,
        kind: 'rental',
      },
      { label: 'Caution', detail: 'Rendue au retour de l’instrument', amount: 15000, kind: 'deposit' },
    ],
    instalments: [{ dueOn: '2026-10-01', amount: 27000 }],
  })
  const theirs = await draft(cotisation(other.family.id, other.pupil.id))
  const issued = await issueInvoices(staff, [tuition, rental, theirs], autumn)
  const paid = await recordPayment(staff, {
    invoiceId: tuition,
    amount: 12000,
    method: 'cheque',
    receivedOn: '2026-10-20',
    reference: 'Chèque 0012345',
  })
  const note = await creditNote(
    staff,
    tuition,
    [{ label: 'Geste commercial', amount: 1500, kind: 'reduction' }],
    'Adhésion offerte',
    autumn,
  )
  const browser = await signedInBrowser(built.app, built.host(), 'famille-martin')
  const receiptId = paid.errors ? 0 : paid.payment.id
  return { ...built, em, tuition, rental, theirs, issued, receiptId, note, browser }
}

t.test(
  'Facturation: the Cotisations tab shows each invoice’s balance, schedule, receipts and PDFs',
  async (t) => {
    const { browser, tuition, note, receiptId } = await setUp(t)
    const res = await browser.get('/facturation')
    t.equal(res.statusCode, 200)
    const page = html(res.body)
    t.equal(page.querySelector('h1')?.text, 'Facturation')
    t.same(
      page.querySelectorAll('nav.tabs a').map((a) => [a.text, a.getAttribute('aria-current') ?? '']),
      [
        ['Cotisations', 'page'],
        ['Locations', ''],
      ],
    )
    t.equal(page.querySelector('.site-nav a[href="/facturation"]')?.getAttribute('aria-current'), 'page')
    const cards = page.querySelectorAll('section.invoice')
    t.equal(cards.length, 1, 'only this family’s cotisations')
    const card = cards[0]!
    t.equal(card.querySelector('h2')?.text, 'Facture F2026-000001')
    t.equal(text(card.querySelector('.state')?.text), 'Partiellement payée')
    t.same(card.querySelectorAll('.invoice-balance div').map(cells), [
      'Total | 565,80 €',
      'Avoirs | 15,00 €',
      'Payé | 120,00 €',
      'Reste à payer | 430,80 €',
    ])
    t.same(card.querySelectorAll('.invoice-lines tbody tr').map(cells), [
      'Léa Martin — Cursus complet Cursus complet — Q3 | 612,00 €',
      'Adhésion | 15,00 €',
      'Léa Martin — Réduction deuxième enfant | -61,20 €',
    ])
    const instalments = card.querySelectorAll('.instalments li').map((li) => plain(text(li.text)))
    t.equal(instalments.length, 7, 'the cheque and the credit note cover the earliest instalments')
    t.equal(instalments[0], `05/01/${nextYear + 1} — reste 53,64 €`)
    t.same(
      card.querySelectorAll('a[download]').map((a) => [a.getAttribute('href'), text(a.text)]),
      [
        [`/facturation/factures/${note.id}/pdf`, 'Télécharger (PDF) l’avoir A2026-000001'],
        [`/facturation/recus/${receiptId}/pdf`, 'Télécharger (PDF) le reçu R2026-000001'],
        [`/facturation/factures/${tuition}/pdf`, 'Télécharger (PDF) la facture F2026-000001'],
      ],
    )
    t.match(
      plain(text(card.querySelector('.receipts')?.text)),
      '120,00 € le 20/10/2026 (chèque), reçu R2026-000001',
    )
  },
)

t.test('the Locations tab lists the rentals, with the item’s reference and the deposit', async (t) => {
  const { browser } = await setUp(t)
  const page = html((await browser.get('/facturation/locations')).body)
  const card = page.querySelector('section.invoice')!
  t.equal(card.querySelector('h2')?.text, 'Facture F2026-000002')
  t.equal(text(card.querySelector('.state')?.text), 'En retard', 'its only instalment was due on 01/10/2026')
  t.same(card.querySelectorAll('.invoice-lines tbody tr').map(cells), [
    'Léa Martin — Location violon 3/4 Instrument n° VL-034 | 120,00 €',
    'Caution Rendue au retour de l’instrument | 150,00 €',
  ])
})

t.test('Accueil says what is due and what is late', async (t) => {
  const { browser } = await setUp(t)
  const card = html((await browser.get('/accueil')).body).querySelector('#billing-title')?.parentNode
  t.ok(card, 'a Facturation card')
  t.match(plain(text(card?.text)), '270,00 € en retard de paiement.')
  t.match(plain(text(card?.text)), 'Reste à payer en tout : 700,80 €.')
  t.equal(card?.querySelector('a')?.getAttribute('href'), '/facturation')
})

t.test('the PDFs: an invoice, a credit note and a receipt, as downloads with readable text', async (t) => {
  const { browser, tuition, note, receiptId } = await setUp(t)
  const res = await browser.get(`/facturation/factures/${tuition}/pdf`)
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'application/pdf')
  t.match(res.headers['content-disposition'], /^attachment; filename=.*F2026-000001\.pdf/)
  t.equal(res.headers['x-content-type-options'], 'nosniff')
  const invoice = await pdfText(res.rawPayload)
  for (const expected of [
    'Facture n° F2026-000001',
    'regie@example.fr',
    '1 place de la Mairie',
    'Madame Camille Martin',
    '3 rue des Lilas',
    'Date d’émission : 15/10/2026',
    'Année scolaire 2026-2027',
    'Mode de règlement : Prélèvement automatique en 9 fois',
    'Léa Martin — Cursus complet',
    'Cursus complet — Q3',
    '612,00 €',
    '-61,20 €',
    'Total 565,80 €',
    'Payé 120,00 €',
    'Reste à payer 430,80 €',
    'Échéancier',
    `05/11/${nextYear}`,
    'Facture acquittable auprès du régisseur',
  ])
    t.match(invoice, expected, expected)
  const credit = await pdfText((await browser.get(`/facturation/factures/${note.id}/pdf`)).rawPayload)
  for (const expected of [
    'Avoir n° A2026-000001',
    'Avoir sur la facture n° F2026-000001',
    'Motif : Adhésion offerte',
    'Total de l’avoir 15,00 €',
  ])
    t.match(credit, expected, expected)
  const receipt = await browser.get(`/facturation/recus/${receiptId}/pdf`)
  t.match(receipt.headers['content-disposition'], /R2026-000001\.pdf/)
  const receiptText = await pdfText(receipt.rawPayload)
  for (const expected of [
    'Reçu n° R2026-000001',
    'Reçu la somme de 120,00 € le 20/10/2026 par chèque, pour la facture n° F2026-000001.',
    'Référence : Chèque 0012345',
  ])
    t.match(receiptText, expected, expected)
})

t.test('a PDF downloaded again prints what changed since: a payment, a new address', async (t) => {
  const { browser, tuition, staff, em, mine } = await setUp(t)
  const path = `/facturation/factures/${tuition}/pdf`
  const first = (await browser.get(path)).rawPayload
  t.same((await browser.get(path)).rawPayload, first, 'the same document, the same bytes')
  const paid = await recordPayment(staff, {
    invoiceId: tuition,
    amount: 10000,
    method: 'cheque',
    receivedOn: '2026-10-25',
  })
  t.notOk(paid.errors)
  const afterPayment = await pdfText((await browser.get(path)).rawPayload)
  t.match(afterPayment, 'Payé 220,00 €')
  t.match(afterPayment, 'Reste à payer 330,80 €')
  await em().nativeUpdate(Guardian, { family: mine.family.id, rank: 1 }, { address: '9 chemin des Vignes' })
  const moved = await pdfText((await browser.get(path)).rawPayload)
  t.match(moved, '9 chemin des Vignes')
  t.notMatch(moved, '3 rue des Lilas')
})

t.test('another family’s invoice or receipt, or another tenant’s, is a 404', async (t) => {
  const { app, browser, theirs, tuition, receiptId, host, tenants } = await setUp(t)
  t.equal(
    (await browser.get(`/facturation/factures/${theirs}/pdf`)).statusCode,
    404,
    'another family’s invoice',
  )
  t.equal((await browser.get('/facturation/factures/999999/pdf')).statusCode, 404, 'no such invoice')
  t.equal((await browser.get('/facturation/factures/abc/pdf')).statusCode, 400, 'not an id')
  const theirsPage = await signedInBrowser(app, host(), 'famille-durand')
  t.equal((await theirsPage.get(`/facturation/factures/${tuition}/pdf`)).statusCode, 404)
  t.equal(
    (await theirsPage.get(`/facturation/recus/${receiptId}/pdf`)).statusCode,
    404,
    'another family’s receipt',
  )
  // a family of the second tenant asks for the first tenant's ids on its own host
  await createFamily(app, tenants[1]!.slug, 'famille-b')
  const onB = await signedInBrowser(app, host(1), 'famille-b')
  t.equal((await onB.get(`/facturation/factures/${tuition}/pdf`)).statusCode, 404)
  t.equal((await onB.get(`/facturation/recus/${receiptId}/pdf`)).statusCode, 404)
  t.equal((await onB.get('/facturation')).statusCode, 200, 'its own Facturation, empty')
  // the first tenant's session is not valid on the second's host
  const stolen = new Browser(app, host(1))
  stolen.cookies = browser.cookies
  t.equal((await stolen.get(`/facturation/factures/${tuition}/pdf`)).statusCode, 303)
})

t.test('Facturation is the families’: a visitor signs in first, staff are refused', async (t) => {
  const { app, host, contextOf, tuition } = await setUp(t)
  const visitor = await new Browser(app, host()).get('/facturation')
  t.equal(visitor.statusCode, 303)
  t.match(visitor.headers.location, /^\/connexion\?retour=%2Ffacturation/)
  await contextOf('secretariat', 'secretaire')
  const staff = new Browser(app, host())
  await staff.submit('/admin/connexion', '/admin/connexion', {
    identifiant: 'secretaire',
    password: goodPassword,
  })
  t.equal((await staff.get('/facturation')).statusCode, 403)
  t.equal((await staff.get(`/facturation/factures/${tuition}/pdf`)).statusCode, 403)
})

t.test('a family with no invoice sees empty tabs and no Facturation card on Accueil', async (t) => {
  const { app, host, slug } = await billingSetUp(t)
  await createFamily(app, slug, 'famille-nouvelle', 'Nouvelle')
  const browser = await signedInBrowser(app, host(), 'famille-nouvelle')
  const page = html((await browser.get('/facturation')).body)
  t.match(text(page.querySelector('main')?.text), 'Aucune facture de cotisation pour le moment.')
  t.equal(html((await browser.get('/accueil')).body).querySelector('#billing-title'), null)
})
