import t from 'tap'
import { Payment } from '../../../src/features/billing/entities.ts'
import { creditNote, issueInvoices } from '../../../src/features/billing/invoices.ts'
import { parseEuros } from '../../../src/features/billing/payment-form.ts'
import { AuditEvent } from '../../../src/platform/audit/entities.ts'
import { Browser, goodPassword } from '../../helpers/accounts.ts'
import { billingSetUp, cotisation } from '../../helpers/billing.ts'
import { html } from '../../helpers/build.ts'

const text = (value: string | undefined) => (value ?? '').replace(/[\s\u00a0\u202f]+/g, ' ').trim()
const autumn = new Date('2026-10-15T10:00:00Z')

async function setUp(t: Parameters<typeof billingSetUp>[0]) {
  const built = await billingSetUp(t)
  const { staff, mine, other, draft } = built
  const tuition = await draft(cotisation(mine.family.id, mine.pupil.id))
  const theirs = await draft(cotisation(other.family.id, other.pupil.id))
  await issueInvoices(staff, [tuition, theirs], autumn)
  const note = await creditNote(
    staff,
    theirs,
    [{ label: 'Adhésion offerte', amount: 1500, kind: 'fee' }],
    'Arrivée en cours d’année',
    autumn,
  )
  const signIn = async (role: 'secretariat' | 'direction' | 'admin', host = built.host()) => {
    await built.contextOf(role, `${role}-web`).catch(() => undefined)
    const browser = new Browser(built.app, host)
    await browser.submit('/admin/connexion', '/admin/connexion', {
      identifiant: `${role}-web`,
      password: goodPassword,
    })
    return browser
  }
  return { ...built, tuition, theirs, note, signIn }
}

t.test('amounts typed as people write them', async (t) => {
  t.equal(parseEuros('120'), 12000)
  t.equal(parseEuros('1 234,56'), 123456)
  t.equal(parseEuros('1\u202f234,5 €'), 123450)
  t.equal(parseEuros('45.50'), 4550)
  for (const wrong of ['', 'abc', '12,345', '-5', '1e3', '12,'] as const)
    t.equal(parseEuros(wrong), null, wrong)
})

t.test('the list by kind and state, and an invoice’s page', async (t) => {
  const { signIn, tuition, note } = await setUp(t)
  const browser = await signIn('direction')
  const list = html((await browser.get('/admin/facturation')).body)
  t.equal(list.querySelector('h1')?.text, 'Facturation')
  t.same(
    list
      .querySelectorAll('table.invoices tbody tr')
      .map((tr) => tr.querySelectorAll('th, td').map((c) => text(c.text))),
    [
      ['F2026-000002', 'Durand Camille', '15/10/2026', '565,80 €', '0,00 €', '550,80 €', 'À payer'],
      ['F2026-000001', 'Martin Camille', '15/10/2026', '565,80 €', '0,00 €', '565,80 €', 'À payer'],
    ].map((row) => row),
    'newest first (both issued at once: the highest id first)',
  )
  t.equal((await browser.get('/admin/facturation?etat=paid')).statusCode, 200)
  t.match(
    text(html((await browser.get('/admin/facturation?etat=paid')).body).querySelector('main')?.text),
    'Aucune facture ne correspond.',
  )
  t.equal((await browser.get('/admin/facturation?etat=nimporte')).statusCode, 400)
  const notes = html((await browser.get('/admin/facturation?type=avoir')).body)
  t.same(
    notes.querySelectorAll('table.invoices tbody th').map((th) => th.text),
    ['A2026-000001'],
  )
  const page = html((await browser.get(`/admin/facturation/factures/${tuition}`)).body)
  t.equal(page.querySelector('h1')?.text, 'Facture F2026-000001')
  t.equal(
    page.querySelector('form[action$="/paiements"]'),
    null,
    'the direction reads, it does not record payments',
  )
  const pdf = await browser.get(`/admin/facturation/factures/${note.id}/pdf`)
  t.equal(pdf.headers['content-type'], 'application/pdf')
  t.equal((await browser.get('/admin/facturation/factures/999999')).statusCode, 404)
})

t.test(
  'the secretariat records a payment at the desk: receipt, or the message beside the field',
  async (t) => {
    const { signIn, tuition, em } = await setUp(t)
    const browser = await signIn('secretariat')
    const path = `/admin/facturation/factures/${tuition}`
    const refused = await browser.submit(path, `${path}/paiements`, {
      amount: '1 000,00',
      method: 'cheque',
      receivedOn: '2026-10-20',
      reference: 'Chèque 42',
    })
    t.equal(refused.statusCode, 400)
    const form = html(refused.body)
    t.equal(text(form.querySelector('#amount-error')?.text), 'Le montant dépasse ce qui reste dû (565,80 €).')
    t.equal(form.querySelector('#amount')?.getAttribute('value'), '1 000,00', 'what was typed is kept')
    t.equal(form.querySelector('#reference')?.getAttribute('value'), 'Chèque 42')
    const bad = html(
      (
        await browser.submit(path, `${path}/paiements`, {
          amount: '12,345',
          method: 'bitcoin',
          receivedOn: '2999-01-01',
        })
      ).body,
    )
    t.same(
      ['#amount-error', '#method-error', '#receivedOn-error'].map((id) => text(bad.querySelector(id)?.text)),
      [
        'Saisissez un montant positif, en euros.',
        'Choisissez un mode de paiement.',
        'La date de réception ne peut pas être dans le futur.',
      ],
    )
    t.equal(await em().count(Payment), 0, 'nothing recorded')
    const done = await browser.submit(path, `${path}/paiements`, {
      amount: '120,50',
      method: 'cheque',
      receivedOn: '2026-10-20',
      reference: 'Chèque 42',
    })
    t.equal(done.statusCode, 303)
    t.equal(done.headers.location, `${path}?recu=R2026-000001`)
    const after = html((await browser.get(done.headers.location as string)).body)
    t.equal(text(after.querySelector('[role="status"]')?.text), 'Paiement enregistré : reçu R2026-000001.')
    t.match(
      text(after.querySelector('.receipts')?.text),
      '120,50 € le 20/10/2026 (chèque), reçu R2026-000001 — Chèque 42',
    )
    const payment = await em().findOneOrFail(Payment, { receiptNumber: 'R2026-000001' })
    t.same([payment.amount, payment.method, payment.reference], [12050, 'cheque', 'Chèque 42'])
    const receipt = await browser.get(`${path}/recus/${payment.id}/pdf`)
    t.equal(receipt.headers['content-type'], 'application/pdf')
    t.equal((await browser.get(`/admin/facturation/factures/999/recus/${payment.id}/pdf`)).statusCode, 404)
    t.equal(await em().count(AuditEvent, { action: 'invoice.payment' }), 1)
  },
)

t.test('staff pages refuse families and another tenant’s staff; visitors sign in first', async (t) => {
  const { app, host, tuition, signIn } = await setUp(t)
  const visitor = await new Browser(app, host()).get('/admin/facturation')
  t.equal(visitor.statusCode, 303)
  const family = new Browser(app, host())
  await family.submit('/connexion', '/connexion', { identifiant: 'famille-martin', password: goodPassword })
  t.equal((await family.get('/admin/facturation')).statusCode, 403)
  t.equal((await family.get(`/admin/facturation/factures/${tuition}`)).statusCode, 403)
  const direction = await signIn('direction')
  const body = await direction.get(`/admin/facturation/factures/${tuition}`)
  const token = html(body.body).querySelector('input[name="_csrf"]')?.getAttribute('value') ?? ''
  const posted = await direction.post(`/admin/facturation/factures/${tuition}/paiements`, {
    _csrf: token,
    amount: '10',
    method: 'cash',
    receivedOn: '2026-10-20',
  })
  t.equal(posted.statusCode, 403, 'the direction does not record payments')
  // the other tenant has no such invoice: its own secretariat gets a 404
  const elsewhere = new Browser(app, host(1))
  t.equal(
    (await elsewhere.get(`/admin/facturation/factures/${tuition}`)).statusCode,
    303,
    'not signed in there',
  )
})
