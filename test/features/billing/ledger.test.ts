import t from 'tap'
import { extractText, getDocumentProxy } from 'unpdf'
import type { DraftInvoice } from '../../../src/features/billing/invoices.ts'
import { creditNote, issueInvoices, recordPayment } from '../../../src/features/billing/invoices.ts'
import { InvoiceReminder } from '../../../src/features/billing/entities.ts'
import { Guardian } from '../../../src/features/family/entities.ts'
import { signInPaths } from '../../../src/platform/auth/plugin.ts'
import { AuditEvent } from '../../../src/platform/audit/entities.ts'
import { OutboxAttachment, OutboxMail } from '../../../src/platform/mail/entities.ts'
import { Browser, createAccount, signedInBrowser } from '../../helpers/accounts.ts'
import { billingSetUp, cotisation, nextYear, nineInstalments } from '../../helpers/billing.ts'
import { html } from '../../helpers/build.ts'
import { startInbox } from '../../helpers/smtp.ts'

const text = (value: string | undefined) => (value ?? '').replace(/[\s\u00a0\u202f]+/g, ' ').trim()
const autumn = new Date('2026-10-15T10:00:00Z')
/** A schedule from November two years ago: every instalment already due, whatever day the tests run. */
const pastYear = new Date().getUTCFullYear() - 2

const rental = (familyId: number): DraftInvoice => ({
  familyId,
  kind: 'location',
  schoolYear: '2026-2027',
  paymentMode: 'cheque',
  lines: [{ label: 'Location violon 1/2', detail: 'VIO-012', amount: 12000, kind: 'rental' }],
  instalments: [{ dueOn: `${nextYear}-01-10`, amount: 12000 }],
})

/**
 * Martin: a cotisation all of whose instalments are past (late), partly paid and credited, and a
 * rental paid by cheque. Durand: a cotisation due next year, partly paid (partial).
 */
async function setUp(t: Parameters<typeof billingSetUp>[0], env?: Record<string, string>) {
  const built = await billingSetUp(t, {}, env)
  const { staff, mine, other, draft } = built
  const late = await draft({
    ...cotisation(mine.family.id, mine.pupil.id),
    instalments: nineInstalments(56580, pastYear),
  })
  const partial = await draft(cotisation(other.family.id, other.pupil.id))
  const rented = await draft(rental(mine.family.id))
  await issueInvoices(staff, [late, partial, rented], autumn)
  const note = await creditNote(
    staff,
    late,
    [{ label: 'Adhésion offerte', amount: 1500, kind: 'fee' }],
    'Geste',
    autumn,
  )
  const pay = (invoiceId: number, amount: number, method: 'cheque' | 'cash', receivedOn: string) =>
    recordPayment(staff, { invoiceId, amount, method, receivedOn }, autumn)
  await pay(late, 10000, 'cash', '2026-10-01')
  await pay(partial, 5000, 'cheque', '2026-10-05')
  await pay(rented, 12000, 'cheque', '2026-10-10')
  const signIn = async (role: 'secretariat' | 'direction' | 'admin') => {
    await built.contextOf(role, `${role}-web`).catch(() => undefined)
    return signedInBrowser(built.app, built.host(), `${role}-web`, '/admin/connexion')
  }
  return { ...built, late, partial, rented, note, signIn }
}

const balanceLine = (d: ReturnType<typeof html>) =>
  `${text(d.querySelector('dt')?.text)} ${text(d.querySelector('dd')?.text)}`

const numbersIn = (body: string, table = 'table.invoices') =>
  html(body)
    .querySelectorAll(`${table} tbody th`)
    .map((th) => th.text.trim())

t.test('the invoices list filters by state, due date, payment mode and family, in SQL', async (t) => {
  const { signIn } = await setUp(t)
  const browser = await signIn('direction')
  const list = async (query: string) => numbersIn((await browser.get(`/admin/facturation?${query}`)).body)
  // F2026-000001 Martin late, 000002 Durand partial, 000003 Martin's rental, paid
  t.same(await list(''), ['F2026-000002', 'F2026-000001'], 'cotisations by default')
  t.same(await list('etat=late'), ['F2026-000001'])
  t.same(await list('etat=partial'), ['F2026-000002'])
  t.same(await list('etat=toPay'), [])
  t.same(await list('type=location&etat=paid'), ['F2026-000003'])
  t.same(await list('type=location&mode=cheque'), ['F2026-000003'])
  t.same(await list('mode=cheque'), [], 'no cotisation is paid by cheque')
  t.same(await list('mode=prelevement'), ['F2026-000002', 'F2026-000001'])
  t.same(await list('famille=DURAND'), ['F2026-000002'], 'a name, whatever its case')
  t.same(await list('famille=lea+martin'), ['F2026-000001'], 'a pupil’s name, accents left out')
  t.same(await list('famille=martin+durand'), [], 'every word in one person')
  t.same(await list(`du=${nextYear}-11-01&au=${nextYear}-11-30`), ['F2026-000002'], 'an instalment due then')
  t.same(await list(`du=${pastYear}-11-01&au=${pastYear}-11-30`), ['F2026-000001'])
  t.same(await list(`au=${pastYear}-10-31`), [], 'nothing due before')
  t.same(await list('type=avoir'), ['A2026-000001'])
  const refused = await browser.get('/admin/facturation?du=2026-02-31')
  t.equal(refused.statusCode, 400)
  const page = html(refused.body)
  t.equal(text(page.querySelector('#du-error')?.text), 'Saisissez une date valide.')
  t.equal(page.querySelector('#du')?.getAttribute('value'), '2026-02-31', 'what was typed is kept')
  t.same(numbersIn(refused.body), ['F2026-000002', 'F2026-000001'], 'the refused date is not applied')
  const reversed = html((await browser.get('/admin/facturation?du=2026-03-01&au=2026-01-01')).body)
  t.equal(text(reversed.querySelector('#au-error')?.text), 'Cette date doit suivre la date de début.')
  const late = html((await browser.get('/admin/facturation?etat=late')).body)
  t.equal(
    late
      .querySelector('table.invoices tbody td a')
      ?.getAttribute('href')
      ?.startsWith('/admin/facturation/familles/'),
    true,
    'the family links to its account',
  )
  t.equal(
    late.querySelector('form[action="/admin/facturation/relances"]'),
    null,
    'the direction does not remind',
  )
  t.equal(
    late.querySelector('a[download][href^="/admin/facturation/export.csv"]')?.getAttribute('href'),
    '/admin/facturation/export.csv?type=cotisation&etat=late',
    'the export keeps the filters',
  )
})

t.test('the list is cut into pages of 50 by the database', async (t) => {
  const { signIn, draft, staff, other } = await setUp(t)
  const ids: number[] = []
  for (let i = 0; i < 52; i++)
    ids.push(
      await draft({
        ...rental(other.family.id),
        lines: [{ label: `Location ${i}`, amount: 1000, kind: 'rental' }],
        instalments: [{ dueOn: `${nextYear}-01-10`, amount: 1000 }],
      }),
    )
  await issueInvoices(staff, ids, autumn)
  const browser = await signIn('secretariat')
  const first = html((await browser.get('/admin/facturation?type=location&famille=durand')).body)
  t.equal(first.querySelectorAll('table.invoices tbody tr').length, 50)
  t.equal(text(first.querySelector('.pagination__summary')?.text), '1 à 50 sur 52')
  t.equal(
    first.querySelector('a[rel="next"]')?.getAttribute('href'),
    '/admin/facturation?type=location&famille=durand&page=2',
    'the next page keeps the filters',
  )
  const second = html((await browser.get('/admin/facturation?type=location&famille=durand&page=2')).body)
  t.same(
    second.querySelectorAll('table.invoices tbody th').map((th) => th.text.trim()),
    ['F2026-000005', 'F2026-000004'],
    'the oldest last',
  )
})

t.test('the payments list: filters, receipts, and its export', async (t) => {
  const { signIn, late } = await setUp(t)
  const browser = await signIn('direction')
  const rows = async (query: string) =>
    html((await browser.get(`/admin/facturation/paiements?${query}`)).body)
      .querySelectorAll('table.payments tbody tr')
      .map((tr) => tr.querySelectorAll('th, td').map((c) => text(c.text)))
  t.same(await rows(''), [
    ['R2026-000003', '10/10/2026', 'chèque', '120,00 €', 'F2026-000003', 'Martin Camille'],
    ['R2026-000002', '05/10/2026', 'chèque', '50,00 €', 'F2026-000002', 'Durand Camille'],
    ['R2026-000001', '01/10/2026', 'espèces', '100,00 €', 'F2026-000001', 'Martin Camille'],
  ])
  t.same(
    (await rows('moyen=cash')).map((r) => r[0]),
    ['R2026-000001'],
  )
  t.same(
    (await rows('du=2026-10-02&au=2026-10-09')).map((r) => r[0]),
    ['R2026-000002'],
  )
  t.same(
    (await rows('famille=martin')).map((r) => r[0]),
    ['R2026-000003', 'R2026-000001'],
  )
  const page = html((await browser.get('/admin/facturation/paiements?moyen=cash')).body)
  const receipt = page.querySelector('table.payments tbody th a')?.getAttribute('href') ?? ''
  t.match(receipt, new RegExp(`^/admin/facturation/factures/${late}/recus/\\d+/pdf$`))
  t.equal((await browser.get(receipt)).headers['content-type'], 'application/pdf')
  t.equal(
    page.querySelector('a[download][href^="/admin/facturation/paiements/export.csv"]')?.getAttribute('href'),
    '/admin/facturation/paiements/export.csv?moyen=cash',
  )
  const csv = await browser.get('/admin/facturation/paiements/export.csv?moyen=cheque')
  t.equal(csv.headers['content-type'], 'text/csv; charset=utf-8')
  t.match(csv.headers['content-disposition'], /^attachment; filename="paiements.csv"$/)
  t.equal(
    csv.body,
    '\uFEFFReçu;Date;Moyen;Montant;Facture;Famille;Référence\r\n' +
      'R2026-000003;10/10/2026;chèque;120,00;F2026-000003;Martin Camille;\r\n' +
      'R2026-000002;05/10/2026;chèque;50,00;F2026-000002;Durand Camille;\r\n',
  )
  t.equal((await browser.get('/admin/facturation/paiements?moyen=bitcoin')).statusCode, 400)
})

t.test('the invoices export for the accounting service, with the list’s filters', async (t) => {
  const { signIn } = await setUp(t)
  const browser = await signIn('secretariat')
  const all = await browser.get('/admin/facturation/export.csv')
  t.equal(all.headers['content-type'], 'text/csv; charset=utf-8')
  t.match(all.headers['content-disposition'], /^attachment; filename="factures.csv"$/)
  const lines = all.body
    .replace(/^\uFEFF/, '')
    .trimEnd()
    .split('\r\n')
  t.equal(
    lines[0],
    'Numéro;Date;Famille;Type;Total;Payé;Reste à payer;État;Mode de paiement;Année scolaire;Facture corrigée',
  )
  t.same(lines.slice(1).sort(), [
    'A2026-000001;15/10/2026;Martin Camille;Avoir;15,00;;;;Prélèvement automatique en 9 fois;2026-2027;F2026-000001',
    'F2026-000001;15/10/2026;Martin Camille;Cotisation;565,80;100,00;450,80;En retard;Prélèvement automatique en 9 fois;2026-2027;',
    'F2026-000002;15/10/2026;Durand Camille;Cotisation;565,80;50,00;515,80;Partiellement payée;Prélèvement automatique en 9 fois;2026-2027;',
    'F2026-000003;15/10/2026;Martin Camille;Location;120,00;120,00;0,00;Payée;Chèque;2026-2027;',
  ])
  t.ok(all.body.startsWith('\uFEFF'), 'a BOM, so a spreadsheet reads UTF-8')
  const late = await browser.get('/admin/facturation/export.csv?type=cotisation&etat=late')
  t.same(
    late.body
      .trimEnd()
      .split('\r\n')
      .slice(1)
      .map((l) => l.split(';')[0]),
    ['F2026-000001'],
  )
})

t.test('a family’s account: its invoices, credit notes, payments and balance', async (t) => {
  const { signIn, mine, other } = await setUp(t)
  const browser = await signIn('direction')
  const res = await browser.get(`/admin/facturation/familles/${mine.family.id}`)
  t.equal(res.statusCode, 200)
  const page = html(res.body)
  t.equal(page.querySelector('h1')?.text, 'Compte de facturation — Camille Martin')
  t.same(page.querySelectorAll('.account-balance > div').map(balanceLine), [
    'Facturé 685,80 €',
    'Avoirs 15,00 €',
    'Payé 220,00 €',
    'Reste à payer 450,80 €',
    'Dont en retard 450,80 €',
  ])
  t.same(numbersIn(res.body, 'table.account-invoices'), ['A2026-000001', 'F2026-000003', 'F2026-000001'])
  t.same(numbersIn(res.body, 'table.payments'), ['R2026-000003', 'R2026-000001'])
  t.match(text(page.querySelector('main')?.text), 'Les relances partent à : famille-martin@example.fr')
  const theirs = html((await browser.get(`/admin/facturation/familles/${other.family.id}`)).body)
  t.same(theirs.querySelectorAll('.account-balance > div').map(balanceLine), [
    'Facturé 565,80 €',
    'Avoirs 0,00 €',
    'Payé 50,00 €',
    'Reste à payer 515,80 €',
    'Dont en retard 0,00 €',
  ])
  t.equal((await browser.get('/admin/facturation/familles/999999')).statusCode, 404)
  // the family's record links to its account
  const record = html((await browser.get(`/admin/familles/${mine.family.id}`)).body)
  t.ok(
    record.querySelector(`a[href="/admin/facturation/familles/${mine.family.id}"]`),
    'linked from the family',
  )
  const invoice = html((await browser.get('/admin/facturation/factures/1')).body)
  t.ok(
    invoice.querySelector(`a[href="/admin/facturation/familles/${mine.family.id}"]`),
    'linked from the invoice',
  )
})

t.test('“Relancer”: a mail with the invoice’s PDF through the outbox, once a day', async (t) => {
  const inbox = await startInbox(t)
  const { signIn, late, partial, em, app, host } = await setUp(t, { SMTP_URL: inbox.url })
  const browser = await signIn('secretariat')
  const list = html((await browser.get('/admin/facturation?etat=late')).body)
  t.ok(
    list.querySelector(`input[type="checkbox"][name="factures"][value="${late}"]`),
    'late invoices are ticked',
  )
  const token =
    list
      .querySelector('form[action="/admin/facturation/relances"] input[name="_csrf"]')
      ?.getAttribute('value') ?? ''
  const retour = list.querySelector('input[name="retour"]')?.getAttribute('value')
  t.equal(retour, '/admin/facturation?type=cotisation&etat=late')
  // two invoices ticked: the late one is reminded, the other is not late
  const sent = await app.inject({
    method: 'POST',
    url: '/admin/facturation/relances',
    headers: {
      host: host(),
      cookie: browser.cookieHeader(),
      'content-type': 'application/x-www-form-urlencoded',
    },
    payload: `_csrf=${encodeURIComponent(token)}&factures=${late}&factures=${partial}&retour=${encodeURIComponent(retour ?? '')}`,
  })
  t.equal(sent.statusCode, 303)
  t.equal(sent.headers.location, '/admin/facturation?type=cotisation&etat=late&envoyees=1&nonretard=1')
  const after = html((await browser.get(sent.headers.location as string)).body)
  t.same(
    after.querySelectorAll('[role="status"]').map((p) => text(p.text)),
    ['1 relance envoyée.', '1 facture n’est plus en retard : rien n’est parti.'],
  )
  const today = new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris' }).format(new Date())
  t.match(text(after.querySelector('table.invoices tbody')?.text), `Relancée le ${today}`)

  const mail = await inbox.waitFor((m) => m.subject.includes('F2026-000001'))
  t.match(mail.subject, /\] Relance : facture F2026-000001 en retard de paiement$/)
  t.match(mail.to, 'famille-martin@example.fr')
  t.match(
    text(mail.text),
    'la facture F2026-000001 du 15/10/2026 n’est pas entièrement réglée : 450,80 € restent dus',
  )
  t.match(mail.text, '/facturation')
  t.equal(mail.attachments.length, 1)
  t.equal(mail.attachments[0]?.type.split(';')[0], 'application/pdf')
  t.match(mail.attachments[0]?.fileName, 'F2026-000001')
  const pdf = await getDocumentProxy(new Uint8Array(mail.attachments[0]!.content))
  const { text: pages } = await extractText(pdf, { mergePages: true })
  t.match(pages, 'Facture n° F2026-000001')
  t.match(pages, '450,80')

  // the same day again, from the invoice's page: nothing sent twice
  const again = await browser.submit(`/admin/facturation/factures/${late}`, '/admin/facturation/relances', {
    factures: String(late),
    retour: `/admin/facturation/factures/${late}`,
  })
  t.equal(again.headers.location, `/admin/facturation/factures/${late}?envoyees=0&deja=1`)
  const page = html((await browser.get(again.headers.location as string)).body)
  t.match(text(page.querySelector('main')?.text), '1 facture déjà relancée aujourd’hui : rien n’est reparti.')
  t.match(text(page.querySelector('main')?.text), `Relancée le ${today} par`)
  t.match(text(page.querySelector('main')?.text), 'à famille-martin@example.fr')
  t.equal(await em().count(InvoiceReminder), 1)
  t.equal(await em().count(OutboxMail, { template: 'invoice-reminder' }), 1)
  t.equal(await em().count(AuditEvent, { action: 'invoice.reminder' }), 1)
  // once sent, the attachment's bytes leave the outbox
  for (let i = 0; i < 100 && (await em().count(OutboxAttachment)); i++)
    await new Promise((r) => setTimeout(r, 50))
  t.equal(await em().count(OutboxAttachment), 0)
  // a return address elsewhere is not followed
  const elsewhere = await browser.submit(
    `/admin/facturation/factures/${late}`,
    '/admin/facturation/relances',
    {
      factures: String(late),
      retour: 'https://example.com/',
    },
  )
  t.equal(elsewhere.headers.location, '/admin/facturation?etat=late&envoyees=0&deja=1')
})

t.test('a family without an e-mail address is not reminded, and says so', async (t) => {
  const { signIn, late, em, mine } = await setUp(t)
  const db = em()
  const guardian = await db.findOneOrFail(Guardian, { family: mine.family.id, rank: 1 })
  guardian.email = null
  await db.flush()
  const browser = await signIn('admin')
  const done = await browser.submit(`/admin/facturation/factures/${late}`, '/admin/facturation/relances', {
    factures: String(late),
    retour: `/admin/facturation/factures/${late}`,
  })
  t.equal(done.headers.location, `/admin/facturation/factures/${late}?envoyees=0&sansadresse=1`)
  t.equal(await em().count(InvoiceReminder), 0)
  t.equal(await em().count(OutboxMail), 0)
})

t.test('a reminder waiting in the outbox shows its PDF to the administrator', async (t) => {
  const { signIn, late, em } = await setUp(t)
  const browser = await signIn('admin')
  await browser.submit(`/admin/facturation/factures/${late}`, '/admin/facturation/relances', {
    factures: String(late),
  })
  const mail = await em().findOneOrFail(OutboxMail, { template: 'invoice-reminder' })
  const page = html((await browser.get(`/admin/courriels/${mail.id}`)).body)
  const facts = page.querySelectorAll('dl.facts > div').map(balanceLine)
  t.ok(facts.includes('Modèle Relance de facture'), facts.join(' | '))
  t.ok(facts.includes('Pièces jointes Facture n° F2026-000001.pdf'), 'the PDF waits with the mail')
})

t.test(
  'every ledger route refuses families, teachers and visitors; another tenant finds nothing',
  async (t) => {
    const { app, host, signIn, late, mine, contextOf, tenants } = await setUp(t)
    const gets = [
      '/admin/facturation/paiements',
      '/admin/facturation/paiements/export.csv',
      '/admin/facturation/export.csv',
      `/admin/facturation/familles/${mine.family.id}`,
    ]
    const family = await signedInBrowser(app, host(), 'famille-martin')
    await contextOf('teacher', 'prof')
    const teacher = await signedInBrowser(app, host(), 'prof', signInPaths.teacher)
    for (const url of gets) {
      t.equal((await family.get(url)).statusCode, 403, `family ${url}`)
      t.equal((await teacher.get(url)).statusCode, 403, `teacher ${url}`)
      t.equal((await new Browser(app, host()).get(url)).statusCode, 303, `visitor ${url}`)
    }
    for (const who of [family, teacher]) {
      const token =
        html((await who.get('/mot-de-passe')).body)
          .querySelector('input[name="_csrf"]')
          ?.getAttribute('value') ?? ''
      const posted = await who.post('/admin/facturation/relances', { _csrf: token, factures: String(late) })
      t.equal(posted.statusCode, 403, 'a family or a teacher cannot remind')
    }
    const direction = await signIn('direction')
    const token =
      html((await direction.get('/mot-de-passe')).body)
        .querySelector('input[name="_csrf"]')
        ?.getAttribute('value') ?? ''
    t.equal(
      (await direction.post('/admin/facturation/relances', { _csrf: token, factures: String(late) }))
        .statusCode,
      403,
      'the direction reads the ledgers but does not remind',
    )
    for (const url of gets) t.equal((await direction.get(url)).statusCode, 200, `direction ${url}`)

    // the other tenant's staff: the first tenant's family and invoices do not exist there
    await createAccount(app, tenants[1]!.slug, { identifiant: 'secretariat-ailleurs', role: 'secretariat' })
    const elsewhere = await signedInBrowser(app, host(1), 'secretariat-ailleurs', '/admin/connexion')
    t.equal((await elsewhere.get(`/admin/facturation/familles/${mine.family.id}`)).statusCode, 404)
    const theirToken =
      html((await elsewhere.get('/mot-de-passe')).body)
        .querySelector('input[name="_csrf"]')
        ?.getAttribute('value') ?? ''
    t.equal(
      (await elsewhere.post('/admin/facturation/relances', { _csrf: theirToken, factures: String(late) }))
        .statusCode,
      404,
    )
    t.same(
      numbersIn((await elsewhere.get('/admin/facturation?etat=late')).body),
      [],
      'their lists hold none of ours',
    )
    t.equal((await elsewhere.get('/admin/facturation/paiements')).statusCode, 200)
    t.notMatch((await elsewhere.get('/admin/facturation/export.csv')).body, 'F2026')
  },
)
