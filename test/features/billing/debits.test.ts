import t from 'tap'
import { openText } from '../../../src/features/billing/iban-vault.ts'
import { exportDebits, rejectDebit } from '../../../src/features/billing/debits.ts'
import { Debit, DebitBatch, OnlinePayment, Payment } from '../../../src/features/billing/entities.ts'
import { AuditEvent } from '../../../src/platform/audit/entities.ts'
import { html } from '../../helpers/build.ts'
import { against, debitSetUp as setUp, monthFrom, sepaTenant, text, theirIban } from '../../helpers/debits.ts'

t.test(
  'a month’s debits: those with a mandate to collect, with totals, and the families without one',
  async (t) => {
    const { signIn, mandate, next, tuition, theirs } = await setUp(t)
    await mandate()
    const browser = await signIn('direction')
    const page = html((await browser.get(`/admin/facturation/prelevements?mois=${next}`)).body)
    t.equal(text(page.querySelector('h1')?.text), 'Prélèvements')
    t.equal(page.querySelector('#mois option[selected]')?.getAttribute('value'), next)
    t.match(text(page.querySelector('main')?.text), '1 prélèvement pour un total de 100,00 €.')
    const rows = page
      .querySelectorAll('table.debits tbody tr')
      .map((tr) => tr.querySelectorAll('th, td').map((c) => text(c.text)))
    t.same(
      rows.map((r) => [r[0], r[1], r[2], r[4]]),
      [['Martin Camille', 'F2026-000001', `05/${next.slice(5)}/${next.slice(0, 4)}`, '100,00 €']],
    )
    t.match(
      rows[0]?.[3],
      /^[A-Z]{1,3}-000001 \(Premier\) FR76 \*\*\*\* \*\*\*\* \*\*\*\* \*\*\*\* \*\*\*0 189$/,
      'the RUM, first debit, IBAN masked',
    )
    t.equal(
      page.querySelector(`table.debits a[href="/admin/facturation/factures/${tuition}"]`)?.text,
      'F2026-000001',
    )
    t.same(
      page.querySelectorAll('tfoot th, tfoot td').map((c) => text(c.text)),
      ['Total', '100,00 €'],
    )
    const anomalies = text(page.querySelector('.anomalies')?.text)
    t.match(anomalies, 'F2026-000002 — Durand Camille')
    t.match(anomalies, 'Pas de mandat actif')
    t.ok(page.querySelector(`.anomalies a[href="/admin/facturation/factures/${theirs}"]`))
    t.equal(
      page.querySelector('form[action="/admin/facturation/prelevements"][method="post"]'),
      null,
      'the direction reads; it does not export',
    )
    t.equal((await browser.get('/admin/facturation/prelevements?mois=2026-13')).statusCode, 400)
  },
)

t.test(
  'the export: a pain.008 the official schema accepts, payments with receipts, once per month',
  async (t) => {
    const { signIn, mandate, next, past, em, tuition } = await setUp(t)
    await mandate()
    const browser = await signIn('secretariat')
    const path = `/admin/facturation/prelevements?mois=${next}`
    const exported = await browser.submit(path, '/admin/facturation/prelevements', { mois: next })
    t.equal(exported.statusCode, 303)
    t.equal(exported.headers.location, `${path}&exporte=1`)
    const page = html((await browser.get(exported.headers.location as string)).body)
    t.match(text(page.querySelector('[role="status"]')?.text), 'Le fichier de prélèvement de ')
    t.match(
      text(page.querySelector('main')?.text),
      /Fichier de .* exporté le .* par .* : 1 prélèvement, 100,00 €\./,
    )
    const link = page.querySelector('a[href$="/fichier"]')
    t.ok(link?.hasAttribute('download'))
    const file = await browser.get(link?.getAttribute('href') as string)
    t.equal(file.statusCode, 200)
    t.match(file.headers['content-type'], 'application/xml')
    t.equal(file.headers['content-disposition'], `attachment; filename="prelevements-${next}.xml"`)
    const verdict = await against(file.body)
    t.ok(verdict.valid, `valid against pain.008.001.02: ${verdict.rawOutput}`)
    const xml = html(file.body)
    // the parser reads element names in lower case
    const read = (selector: string) => xml.querySelectorAll(selector.toLowerCase()).map((e) => e.text)
    t.same(read('MsgId').length, 1)
    t.same(read('NbOfTxs'), ['1', '1'])
    t.same(read('CtrlSum'), ['100.00', '100.00'])
    t.same(read('PmtMtd'), ['DD'])
    t.same(read('SeqTp'), ['FRST'], 'the mandate’s first collection')
    t.same(read('ReqdColltnDt'), [`${next}-05`])
    t.same(read('EndToEndId'), ['F2026-000001-02'], 'the invoice’s number and the instalment')
    t.same(read('InstdAmt'), ['100.00'])
    t.equal(xml.querySelector('instdamt')?.getAttribute('Ccy'), 'EUR')
    t.match(read('MndtId')[0], /^[A-Z]{1,3}-000001$/)
    t.same(read('DtOfSgntr'), [`${past}-01`])
    t.same(read('IBAN'), [sepaTenant.sepa.iban, theirIban], 'the creditor’s account, then the debtor’s')
    t.same(read('BIC'), ['BDFEFRPPCCT', 'AGRIFRPP882'])
    t.same(read('Cdtr Nm'), ['Regie du conservatoire'], 'in the SEPA character set')
    t.same(read('Dbtr Nm'), ['Camille Martin'])
    t.same(read('CdtrSchmeId Id Othr Id'), ['FR12ZZZ123456'])
    t.match(read('Ustrd')[0], 'F2026-000001 echeance 2/3')

    const payments = await em().find(Payment, { invoice: tuition })
    t.same(
      payments.map((p) => [
        p.method,
        p.amount,
        String(p.receivedOn).slice(0, 10),
        p.receiptNumber.slice(0, 1),
      ]),
      [['directDebit', 10000, `${next}-05`, 'R']],
    )
    const exportedPage = html((await browser.get(path)).body)
    t.equal(
      exportedPage.querySelector('form[action="/admin/facturation/prelevements"][method="post"]'),
      null,
      'no export form any more',
    )
    // a second tab still showing the form posts it again
    const token = exportedPage.querySelector('input[name="_csrf"]')?.getAttribute('value')
    const twice = await browser.post('/admin/facturation/prelevements', { _csrf: token ?? '', mois: next })
    t.equal(twice.statusCode, 400)
    t.match(text(html(twice.body).querySelector('.error-summary')?.text), 'a déjà été exporté')
    t.equal(await em().count(DebitBatch), 1)
    t.equal(await em().count(Payment), 1, 'nothing collected twice')
    t.equal(await em().count(AuditEvent, { action: 'debits.export' }), 1)
  },
)

t.test(
  'the schema check refuses a wrong document: an unknown sequence, no message id, a bad currency, a transfer',
  async (t) => {
    const { mandate, next, staff, key, em } = await setUp(t)
    await mandate()
    const done = await exportDebits(staff, next, key)
    t.equal(done.errors, undefined)
    const stored = await em().findOneOrFail(DebitBatch, { month: next }, { populate: ['file'] })
    t.notMatch(stored.file, theirIban, 'the file is kept encrypted')
    t.notMatch(stored.file, 'Document')
    const file = openText(key, stored.file)
    t.ok((await against(file)).valid)
    t.notOk(
      (await against(file.replace('<SeqTp>FRST</SeqTp>', '<SeqTp>FIRST</SeqTp>'))).valid,
      'an unknown sequence',
    )
    t.notOk((await against(file.replace(/<MsgId>[^<]*<\/MsgId>/, ''))).valid, 'no message id')
    t.notOk((await against(file.replace('Ccy="EUR"', 'Ccy="EURO"'))).valid, 'a currency of four letters')
    t.notOk((await against(file.replace('<PmtMtd>DD</PmtMtd>', '<PmtMtd>TRF</PmtMtd>'))).valid, 'a transfer')
  },
)

t.test(
  'FRST for a mandate’s first collection, RCUR after; a returned first debit makes the next one FRST again',
  async (t) => {
    const { mandate, past, next, staff, key, em, issuedAt } = await setUp(t)
    await mandate()
    const later = monthFrom(next, 1)
    t.equal((await exportDebits(staff, past, key, issuedAt)).errors, undefined)
    const [returned] = await em().find(Debit, {})
    t.equal(
      (await rejectDebit(staff, returned!.id, { reason: 'AM04', rejectedOn: `${past}-08` })).errors,
      undefined,
    )
    t.equal((await exportDebits(staff, next, key)).errors, undefined)
    t.equal((await exportDebits(staff, later, key)).errors, undefined)
    const debits = await em().find(Debit, {}, { orderBy: { id: 'asc' }, populate: ['batch'] })
    t.same(
      debits.map((d) => [d.batch.month, d.sequenceType, String(d.collectedOn).slice(0, 10)]),
      [
        [past, 'FRST', `${past}-05`],
        [next, 'FRST', `${next}-05`],
        [later, 'RCUR', `${later}-05`],
      ],
    )
    const files = await em().find(DebitBatch, {}, { populate: ['file'], orderBy: { month: 'asc' } })
    const xml = files.map((f) => openText(key, f.file))
    t.match(xml[1], '<SeqTp>FRST</SeqTp>')
    t.match(xml[2], '<SeqTp>RCUR</SeqTp>')
    for (const [i, f] of xml.entries()) t.ok((await against(f)).valid, `${files[i]?.month} valid`)
  },
)

t.test('an invoice paid online, awaiting the treasury, is not debited as well', async (t) => {
  const { signIn, mandate, next, em, tuition } = await setUp(t)
  await mandate()
  const db = em()
  db.create(OnlinePayment, {
    invoice: tuition,
    amount: 30000,
    refdet: 'F2026000001P01',
    startedAt: new Date(),
    result: 'P',
    returnedAt: new Date(),
  })
  await db.flush()
  const browser = await signIn('direction')
  const page = html((await browser.get(`/admin/facturation/prelevements?mois=${next}`)).body)
  t.equal(page.querySelectorAll('table.debits tbody tr').length, 0, 'nothing to collect from the Martins')
})
