import t from 'tap'
import { OnlinePayment, Payment, TreasuryLine } from '../../../src/features/billing/entities.ts'
import { issueInvoices } from '../../../src/features/billing/invoices.ts'
import { parseStatement } from '../../../src/features/billing/treasury-csv.ts'
import { translator } from '../../../src/platform/views/i18n.ts'
import { Browser, createAccount, signedInBrowser } from '../../helpers/accounts.ts'
import { billingSetUp, cotisation } from '../../helpers/billing.ts'
import { html } from '../../helpers/build.ts'
import { multipartBody, samples } from '../../helpers/multipart.ts'

const text = (value: string | undefined) => (value ?? '').replace(/[\s\u00a0\u202f]+/g, ' ').trim()
const autumn = new Date('2026-10-15T10:00:00Z')
const page = '/admin/facturation/tresor'

/**
 * The Martins' cotisation (F2026-000001, 565,80 €) paid online and awaiting confirmation under
 * F2026000001P01; the Durands' (F2026-000002, 565,80 €) unpaid.
 */
async function setUp(t: Parameters<typeof billingSetUp>[0]) {
  const built = await billingSetUp(t, { billing: { payfip: { clientNumber: '012345', mode: 'test' } } })
  const { app, host, staff, mine, other, draft } = built
  const tuition = await draft(cotisation(mine.family.id, mine.pupil.id))
  const theirs = await draft(cotisation(other.family.id, other.pupil.id))
  await issueInvoices(staff, [tuition, theirs], autumn)
  const family = await signedInBrowser(app, host(), 'famille-martin')
  await family.submit('/facturation', `/facturation/factures/${tuition}/payer-en-ligne`, {})
  await family.get('/facturation/paiement-en-ligne/retour?refdet=F2026000001P01&resultrans=P&numauto=1')
  const secretariat = await signedInBrowser(app, host(), 'compte-secretariat', '/admin/connexion')
  return { ...built, tuition, theirs, family, secretariat }
}

/** Sends the import form of the page as a browser does: its CSRF token and the chosen file. */
async function upload(browser: Browser, content: Buffer | string, fileName = 'releve.csv') {
  const shown = html((await browser.get(page)).body)
  const token = shown
    .querySelector('form[enctype="multipart/form-data"] input[name="_csrf"]')
    ?.getAttribute('value')
  const { body, contentType } = multipartBody(
    { _csrf: token ?? '' },
    { name: 'file', fileName, contentType: 'text/csv', content: Buffer.from(content) },
  )
  return browser.app.inject({
    method: 'POST',
    url: page,
    headers: { host: browser.host, cookie: browser.cookieHeader(), 'content-type': contentType },
    payload: body,
  })
}

/** Presses "Enregistrer les paiements" on a preview. */
async function record(browser: Browser, preview: string) {
  const form = html(preview).querySelector(`form[action="${page}/enregistrer"]`)!
  const fields = Object.fromEntries(
    form
      .querySelectorAll('input[type="hidden"]')
      .map((i) => [i.getAttribute('name')!, i.getAttribute('value')!]),
  )
  return browser.post(`${page}/enregistrer`, fields)
}

const rows = (body: string, table: string) =>
  html(body)
    .querySelectorAll(`table.${table} tbody tr`)
    .map((tr) => tr.querySelectorAll('th, td').map((c) => text(c.text)))

const statement = [
  'Référence;Montant;Date;Débiteur;Identifiant',
  'F2026000001P01;565,80;16/10/2026;MARTIN CAMILLE;TP-001',
  'F2026-000002;100,00;17/10/2026;DURAND CAMILLE;TP-002',
  'F2026-000099;50,00;17/10/2026;INCONNU;TP-003',
  'F2026-000002;1 000,00;18/10/2026;DURAND CAMILLE;TP-004',
  'F2026-000002;100,00;17/10/2026;DURAND CAMILLE;TP-002',
].join('\r\n')

t.test('the statement previewed: matched lines with what remains, the others listed with why', async (t) => {
  const { secretariat, em } = await setUp(t)
  const shown = html((await secretariat.get('/admin/facturation')).body)
  t.ok(shown.querySelector(`a[href="${page}"]`), 'reached from Facturation')
  const intro = html((await secretariat.get(page)).body)
  t.match(text(intro.querySelector('main')?.text), 'Format attendu')
  const res = await upload(secretariat, statement)
  t.equal(res.statusCode, 200)
  t.same(rows(res.body, 'treasury-matched'), [
    [
      '2',
      'Martin Camille Débiteur : MARTIN CAMILLE',
      'F2026-000001 confirme le paiement en ligne',
      '16/10/2026',
      '565,80 €',
      '565,80 €',
      '0,00 €',
    ],
    [
      '3',
      'Durand Camille Débiteur : DURAND CAMILLE',
      'F2026-000002',
      '17/10/2026',
      '100,00 €',
      '565,80 €',
      '465,80 €',
    ],
  ])
  t.same(rows(res.body, 'treasury-unmatched'), [
    [
      '4',
      'F2026-000099',
      'INCONNU',
      '17/10/2026',
      '50,00 €',
      'Référence inconnue : aucune facture émise ne porte ce numéro.',
    ],
    [
      '5',
      'F2026-000002',
      'DURAND CAMILLE',
      '18/10/2026',
      '1 000,00 €',
      'Montant supérieur au reste à payer de la facture F2026-000002 (465,80 €).',
    ],
    ['6', 'F2026-000002', 'DURAND CAMILLE', '17/10/2026', '100,00 €', 'Ligne en double dans ce fichier.'],
  ])
  t.equal(await em().count(Payment), 0, 'a preview records nothing')
})

t.test(
  'recording: treasury payments with receipts, PayFiP confirmed, true balances, once only',
  async (t) => {
    const { secretariat, family, em, tuition, theirs } = await setUp(t)
    const preview = await upload(secretariat, statement)
    const done = await record(secretariat, preview.body)
    t.equal(done.statusCode, 303)
    t.equal(done.headers.location, `${page}?enregistres=2&ignores=3`)
    const notice = html((await secretariat.get(done.headers.location as string)).body)
    t.equal(
      text(notice.querySelector('[role="status"]')?.text),
      '2 paiements enregistrés. 3 lignes non enregistrées (voir l’aperçu).',
    )
    const payments = await em().find(Payment, {}, { orderBy: { id: 'asc' } })
    t.same(
      payments.map((p) => [p.invoice.id, p.amount, p.method, String(p.receivedOn).slice(0, 10), p.reference]),
      [
        [tuition, 56580, 'treasury', '2026-10-16', 'F2026000001P01'],
        [theirs, 10000, 'treasury', '2026-10-17', 'F2026-000002'],
      ],
    )
    t.match(payments[0]!.receiptNumber, /^R\d{4}-000001$/)
    const attempt = await em().findOneOrFail(OnlinePayment, { refdet: 'F2026000001P01' })
    t.same([attempt.state, attempt.payment?.id], ['confirmed', payments[0]!.id])

    // the family's balance is true: paid, no longer awaiting, the receipt listed
    const mine = html((await family.get('/facturation')).body).querySelector(
      `section[aria-labelledby="invoice-${tuition}"]`,
    )!
    t.match(text(mine.querySelector('.state--paid')?.text), 'Payée')
    t.equal(mine.querySelector('.payfip-awaiting'), null)
    t.equal(mine.querySelector('form.payfip'), null)
    t.match(text(mine.querySelector('.invoice-balance')?.text), /Reste à payer ?0,00 €/)
    t.match(text(mine.querySelector('.receipts')?.text), '565,80 € le 16/10/2026 (Trésor Public)')

    // the same statement again: every line already recorded, nothing more
    const again = await upload(secretariat, statement)
    t.same(rows(again.body, 'treasury-matched'), [])
    t.same(
      rows(again.body, 'treasury-unmatched')
        .filter((r) => r[0] === '2' || r[0] === '3')
        .map((r) => r[5]),
      ['Déjà enregistrée lors d’un import précédent.', 'Déjà enregistrée lors d’un import précédent.'],
    )
    // the recording form of the first preview, sent twice (a double click, a back button)
    const replay = await record(secretariat, preview.body)
    t.equal(replay.headers.location, `${page}?enregistres=0&ignores=5`)
    t.equal(await em().count(Payment), 2)
    t.equal(await em().count(TreasuryLine), 2)
    const durand = html((await secretariat.get(`/admin/facturation/factures/${theirs}`)).body)
    t.match(text(durand.querySelector('.invoice-balance')?.text), /Reste à payer ?465,80 €/)
  },
)

t.test('a refused file names its lines, saves nothing, never a 500', async (t) => {
  const { secretariat, em } = await setUp(t)
  const cases: [string, Buffer | string, string[]][] = [
    ['a PDF', samples.pdf(), ['Ce fichier n’est pas un fichier CSV']],
    ['an empty file', '', ['Le fichier est vide.']],
    [
      'wrong columns',
      'Nom;Somme;Commentaire\nMARTIN;12,00;x',
      [
        'Ligne 1 : colonnes manquantes (référence, date). La première ligne doit nommer les colonnes référence, montant, date et débiteur ; elle contient : Nom | Somme | Commentaire.',
      ],
    ],
    ['only a header', 'reference;montant;date;debiteur\r\n', ['Le fichier ne contient aucun paiement']],
    [
      'bad amounts and dates',
      [
        'reference,amount,date,debtor',
        'F2026-000002,"12,50",16/10/2026,DURAND',
        'F2026-000002,douze,16/10/2026,DURAND',
        'F2026-000002,"1 234,56",31/02/2026,DURAND',
        'F2026-000002,"-5,00",16/10/2026,DURAND',
        'F2026-000002,"5,00"',
        ',"5,00",16/10/2026,DURAND',
      ].join('\n'),
      [
        'Ligne 3 : montant « douze » illisible (un montant positif, par exemple 1 234,56).',
        'Ligne 4 : date « 31/02/2026 » illisible (jj/mm/aaaa, par exemple 05/11/2026).',
        'Ligne 5 : montant « -5,00 » illisible',
        'Ligne 6 : 2 colonnes au lieu de 4.',
        'Ligne 7 : la référence est vide.',
      ],
    ],
  ]
  for (const [what, content, messages] of cases) {
    const res = await upload(secretariat, content)
    t.equal(res.statusCode, 400, what)
    const alert = html(res.body).querySelector('.error-summary')
    t.match(text(alert?.text), 'Le fichier releve.csv n’a pas été importé ; rien n’a été enregistré', what)
    const items = alert?.querySelectorAll('li').map((li) => text(li.text)) ?? []
    t.equal(items.length, messages.length, `${what}: ${items.join(' / ')}`)
    for (const [i, m] of messages.entries()) t.match(items[i], m, what)
  }
  const none = await upload(secretariat, '', '')
  t.match(text(html(none.body).querySelector('.error-summary')?.text), 'Choisissez le fichier CSV du relevé.')
  const forged = await secretariat.post(`${page}/enregistrer`, {
    _csrf: html((await secretariat.get(page)).body)
      .querySelector('input[name="_csrf"]')!
      .getAttribute('value')!,
    statement: 'Référence;Montant;Date;Débiteur\nF2026-000002;dix;16/10/2026;DURAND',
  })
  t.equal(forged.statusCode, 400)
  t.match(
    text(html(forged.body).querySelector('.error-summary')?.text),
    'Ligne 2 : montant « dix » illisible',
  )
  t.equal(await em().count(Payment), 0, 'nothing saved')
})

t.test('statements as exports write them: commas, Windows-1252, quotes, thousands', async (t) => {
  const tr = translator('fr')
  const latin = Buffer.from(
    'Réf.;Montant encaissé (€);Date de paiement;Nom du redevable\nF2026-000002;1.234,56;5/11/2026;LÉA\n',
    'latin1',
  )
  const read = parseStatement(latin, tr)
  t.same(read.errors, undefined)
  t.same(!read.errors && read.lines, [
    { line: 2, reference: 'F2026-000002', amount: 123456, date: '2026-11-05', debtor: 'LÉA', id: null },
  ])
  const quoted = parseStatement(
    Buffer.from(
      '\uFEFF"reference","montant","date","debiteur"\r\n"F2026-000002","12,5","05/11/2026","DUPONT, ""dit"" JEAN"\r\n',
    ),
    tr,
  )
  t.same(!quoted.errors && quoted.lines[0], {
    line: 2,
    reference: 'F2026-000002',
    amount: 1250,
    date: '2026-11-05',
    debtor: 'DUPONT, "dit" JEAN',
    id: null,
  })
})

t.test('the import is for staff who write records, on their own tenant', async (t) => {
  const { app, host, family, tenants, em, tuition } = await setUp(t)
  t.equal((await family.get(page)).statusCode, 403, 'a family')
  await createAccount(app, tenants[0]!.slug, { identifiant: 'prof', role: 'teacher' })
  const teacher = await signedInBrowser(app, host(), 'prof', '/enseignant/connexion')
  t.equal((await teacher.get(page)).statusCode, 403, 'a teacher')
  await createAccount(app, tenants[0]!.slug, { identifiant: 'direction', role: 'direction' })
  const direction = await signedInBrowser(app, host(), 'direction', '/admin/connexion')
  t.equal((await direction.get(page)).statusCode, 403, 'the direction reads, it does not record')
  t.equal(
    html((await direction.get('/admin/facturation')).body).querySelector(`a[href="${page}"]`),
    null,
    'no link to what it may not do',
  )
  // the second tenant's secretariat: the first tenant's invoices are unknown there
  await createAccount(app, tenants[1]!.slug, { identifiant: 'secretariat-b', role: 'secretariat' })
  const other = await signedInBrowser(app, host(1), 'secretariat-b', '/admin/connexion')
  const preview = await upload(other, statement)
  t.same(rows(preview.body, 'treasury-matched'), [])
  t.equal(rows(preview.body, 'treasury-unmatched').length, 5)
  const attempt = await em().findOneOrFail(OnlinePayment, { refdet: 'F2026000001P01' })
  const otherToken = html((await other.get(page)).body)
    .querySelector('input[name="_csrf"]')!
    .getAttribute('value')!
  const confirm = `/admin/facturation/factures/${tuition}/paiements-en-ligne/${attempt.id}/confirmer`
  t.equal((await other.post(confirm, { _csrf: otherToken })).statusCode, 404, 'another tenant’s invoice')
  const stolen = new Browser(app, host(1))
  stolen.cookies = family.cookies
  t.equal((await stolen.get(page)).statusCode, 303, 'a session is worth nothing on another tenant’s host')
  const res = await record(other, preview.body).catch(() => undefined)
  t.equal(res, undefined, 'nothing to record: no recording form')
  t.equal(await em().count(Payment), 0)
})

t.test('staff confirm a PayFiP payment by hand; the direction only sees it', async (t) => {
  const { app, host, tenants, secretariat, family, em, tuition } = await setUp(t)
  const path = `/admin/facturation/factures/${tuition}`
  const shown = html((await secretariat.get(path)).body)
  t.match(
    text(shown.querySelector('.online-payments')?.text),
    /565,80 € demandé le \d\d\/\d\d\/\d{4}, référence F2026000001P01 Paiement en cours de confirmation/,
  )
  const attempt = await em().findOneOrFail(OnlinePayment, { refdet: 'F2026000001P01' })
  const action = `${path}/paiements-en-ligne/${attempt.id}/confirmer`
  await createAccount(app, tenants[0]!.slug, { identifiant: 'direction', role: 'direction' })
  const direction = await signedInBrowser(app, host(), 'direction', '/admin/connexion')
  t.equal(html((await direction.get(path)).body).querySelector(`form[action="${action}"]`), null)
  const token = html((await direction.get(path)).body)
    .querySelector('input[name="_csrf"]')
    ?.getAttribute('value')
  t.equal((await direction.post(action, { _csrf: token ?? '' })).statusCode, 403)
  const familyToken = html((await family.get('/facturation')).body)
    .querySelector('input[name="_csrf"]')
    ?.getAttribute('value')
  t.equal((await family.post(action, { _csrf: familyToken ?? '' })).statusCode, 403)
  t.equal(
    (await secretariat.submit(path, `${path}/paiements-en-ligne/999999/confirmer`, {}).catch(() => undefined))
      ?.statusCode,
    undefined,
    'no form for an attempt the invoice has not',
  )
  const done = await secretariat.submit(path, action, {})
  t.equal(done.statusCode, 303)
  t.match(done.headers.location, new RegExp(`^${path}\\?recu=R\\d{4}-000001$`))
  const payment = await em().findOneOrFail(Payment, { invoice: tuition })
  t.same([payment.method, payment.amount, payment.reference], ['payfip', 56580, 'F2026000001P01 — 1'])
  const confirmed = await em().findOneOrFail(OnlinePayment, { id: attempt.id })
  t.same([confirmed.state, confirmed.payment?.id], ['confirmed', payment.id])
  const again = await secretariat.post(action, {
    _csrf: html((await secretariat.get(path)).body)
      .querySelector('input[name="_csrf"]')!
      .getAttribute('value')!,
  })
  t.equal(again.statusCode, 404, 'confirmed once only')
  // the statement's line for it comes later: the invoice is paid, the line is listed, not recorded twice
  const preview = await upload(secretariat, statement)
  t.equal(
    rows(preview.body, 'treasury-unmatched')[0]?.[5],
    'Montant supérieur au reste à payer de la facture F2026-000001 (0,00 €).',
  )
  t.match(text(html((await family.get('/facturation')).body).querySelector('.state--paid')?.text), 'Payée')
})
