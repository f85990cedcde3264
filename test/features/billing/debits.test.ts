import { readFileSync } from 'node:fs'
import t from 'tap'
import { validateXML } from 'xmllint-wasm'
import { exportDebits, rejectDebit } from '../../../src/features/billing/debits.ts'
import { Debit, DebitBatch, Payment, SepaMandate } from '../../../src/features/billing/entities.ts'
import { checkIban, ibanOf, isBic, maskIban, normaliseIban } from '../../../src/features/billing/iban.ts'
import { openIban } from '../../../src/features/billing/iban-vault.ts'
import { issueInvoices } from '../../../src/features/billing/invoices.ts'
import { checkMandate, saveMandate } from '../../../src/features/billing/mandates.ts'
import { tenantToday } from '../../../src/features/family/service.ts'
import { AuditEvent } from '../../../src/platform/audit/entities.ts'
import { translator } from '../../../src/platform/views/i18n.ts'
import { Browser, goodPassword } from '../../helpers/accounts.ts'
import { billingSetUp, billingTenant } from '../../helpers/billing.ts'
import { html } from '../../helpers/build.ts'

const text = (value: string | undefined) => (value ?? '').replace(/[\s\u00a0\u202f]+/g, ' ').trim()
const schema = readFileSync(new URL('../../fixtures/pain.008.001.02.xsd', import.meta.url), 'utf8')

/** What xmllint says of a document against the official pain.008.001.02 schema. */
async function against(xml: string) {
  return validateXML({
    xml: [{ fileName: 'debits.xml', contents: xml }],
    schema: [{ fileName: 'pain.008.001.02.xsd', contents: schema }],
  })
}

const sepaTenant = {
  ...billingTenant,
  sepa: {
    name: 'Régie du conservatoire',
    creditorId: 'FR12ZZZ123456',
    iban: 'FR7630001007941234567890185',
    bic: 'BDFEFRPPCCT',
  },
}

// a family's account, fictional but with valid check digits
const theirIban = 'FR7630006000011234567890189'

/** "2026-11" shifted by n months. */
function monthFrom(month: string, n: number) {
  const [y, m] = month.split('-').map(Number) as [number, number]
  const index = y * 12 + (m - 1) + n
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`
}

async function setUp(t: Parameters<typeof billingSetUp>[0]) {
  const built = await billingSetUp(t, sepaTenant)
  const { staff, mine, other, draft } = built
  const today = tenantToday(built.tenants[0]!)
  const thisMonth = today.slice(0, 7)
  const past = monthFrom(thisMonth, -2)
  const next = monthFrom(thisMonth, 1)
  const schedule = [past, next, monthFrom(thisMonth, 2)].map((m) => ({ dueOn: `${m}-05`, amount: 10000 }))
  const cotisation = (familyId: number, pupilId: number) => ({
    familyId,
    kind: 'cotisation' as const,
    schoolYear: '2026-2027',
    paymentMode: 'prelevement',
    lines: [{ pupilId, label: 'Cursus complet', amount: 30000, kind: 'tuition' as const }],
    instalments: schedule,
  })
  const tuition = await draft(cotisation(mine.family.id, mine.pupil.id))
  const theirs = await draft(cotisation(other.family.id, other.pupil.id))
  const issuedAt = new Date(`${past}-01T08:00:00Z`)
  await issueInvoices(staff, [tuition, theirs], issuedAt)
  const key = built.config.billingKey
  const signIn = async (role: 'secretariat' | 'direction' | 'teacher', host = built.host()) => {
    await built.contextOf(role, `${role}-web`).catch(() => undefined)
    const browser = new Browser(built.app, host)
    await browser.submit('/admin/connexion', '/admin/connexion', {
      identifiant: `${role}-web`,
      password: goodPassword,
    })
    return browser
  }
  /** Martin's mandate, signed before the first debit. */
  const mandate = () =>
    saveMandate(
      staff,
      mine.family.id,
      { holder: 'Camille Martin', iban: theirIban, bic: 'AGRIFRPP882', signedOn: `${past}-01` },
      key,
    )
  return { ...built, today, past, next, tuition, theirs, key, signIn, mandate, issuedAt }
}

t.test('IBANs: normalised, checked by country length and mod-97, masked; BICs by their format', async (t) => {
  t.equal(normaliseIban(' fr76 3000-6000 0112 3456 7890 189 '), theirIban)
  t.same(checkIban('FR76 3000 6000 0112 3456 7890 189'), { iban: theirIban })
  t.same(checkIban('DE89 3704 0044 0532 0130 00'), { iban: 'DE89370400440532013000' })
  t.same(checkIban('FR76 3000 6000 0112 3456 7890 188'), { problem: 'checksum' }, 'one digit wrong')
  t.same(checkIban('FR67 3000 6000 0112 3456 7890 189'), { problem: 'checksum' }, 'check digits swapped')
  t.same(checkIban('FR76 3000 6000 0112 3456 7890 18'), {
    problem: 'length',
    country: 'FR',
    expected: 27,
    actual: 26,
  })
  t.same(checkIban('US12 3456 7890 1234'), { problem: 'country', country: 'US' })
  t.same(checkIban('12FR 3000'), { problem: 'format' })
  t.same(checkIban('   '), { problem: 'missing' })
  t.equal(ibanOf('FR', '30006000011234567890189'), theirIban, 'check digits computed for the demo')
  t.equal(maskIban(theirIban), 'FR76 **** **** **** **** ***0 189')
  t.equal(maskIban('DE89370400440532013000'), 'DE89 **** **** **** **30 00')
  t.ok(isBic('AGRIFRPP882'))
  t.ok(isBic('BNPAFRPP'))
  t.notOk(isBic('AGRIFRPP88'), 'ten characters')
  t.notOk(isBic('1GRIFRPP'), 'a bank code of letters')

  const t_ = translator('fr')
  const refused = checkMandate(
    { holder: '', iban: 'FR76 3000 6000 0112 3456 7890 188', bic: 'x', signedOn: '2999-01-01' },
    t_,
    '2026-11-27',
  )
  t.same(refused.errors, {
    holder: 'Saisissez le nom du titulaire du compte (70 caractères au plus).',
    iban: 'IBAN invalide : la clé de contrôle ne correspond pas.',
    bic: 'BIC invalide : 8 ou 11 caractères (banque, pays, ville, agence), par exemple AGRIFRPP882.',
    signedOn: 'Saisissez la date de signature du mandat, qui ne peut pas être dans le futur.',
  })
  t.equal(
    checkMandate({ iban: 'FR76 3000 6000 0112 3456 7890 18' }, t_, '2026-11-27').errors?.iban,
    'IBAN invalide : un IBAN FR compte 27 caractères, celui-ci en a 26.',
  )
})

t.test(
  'the secretariat records a mandate: errors beside the fields, then the IBAN encrypted and shown masked',
  async (t) => {
    const { signIn, mine, em, key } = await setUp(t)
    const browser = await signIn('secretariat')
    const path = `/admin/facturation/familles/${mine.family.id}/mandat`
    const page = html((await browser.get(path)).body)
    t.equal(text(page.querySelector('h1')?.text), 'Mandat de prélèvement SEPA — Camille Martin')
    t.match(text(page.querySelector('main')?.text), 'Aucun mandat actif')
    t.equal(page.querySelector('#holder')?.getAttribute('value'), 'Camille Martin', 'the addressee as holder')

    const typed = {
      holder: 'Camille Martin',
      iban: 'FR76 3000 6000 0112 3456 7890 188',
      bic: 'agrifrpp882',
      signedOn: '2026-09-01',
    }
    const refused = await browser.submit(path, path, typed)
    t.equal(refused.statusCode, 400)
    const form = html(refused.body)
    t.equal(
      text(form.querySelector('#iban-error')?.text),
      'IBAN invalide : la clé de contrôle ne correspond pas.',
    )
    t.equal(form.querySelector('#iban')?.getAttribute('value'), typed.iban, 'what was typed is kept')
    t.equal(form.querySelector('#bic')?.getAttribute('value'), 'agrifrpp882')
    t.match(text(form.querySelector('.error-summary')?.text), 'IBAN : IBAN invalide')
    const short = html(
      (await browser.submit(path, path, { ...typed, iban: 'FR76 3000 6000 0112 3456 7890 18', bic: 'AGRI' }))
        .body,
    )
    t.equal(
      text(short.querySelector('#iban-error')?.text),
      'IBAN invalide : un IBAN FR compte 27 caractères, celui-ci en a 26.',
    )
    t.match(text(short.querySelector('#bic-error')?.text), 'BIC invalide')
    t.equal(await em().count(SepaMandate), 0, 'nothing saved')

    const saved = await browser.submit(path, path, { ...typed, iban: 'fr76 3000 6000 0112 3456 7890 189' })
    t.equal(saved.statusCode, 303)
    const shown = await browser.get(saved.headers.location as string)
    const after = html(shown.body)
    t.match(
      text(after.querySelector('[role="status"]')?.text),
      /^Mandat [A-Z]{1,3}-000001 enregistré\.$/,
      'the tenant’s letters and a number',
    )
    t.equal(text(after.querySelector('.mandate .iban')?.text), 'FR76 **** **** **** **** ***0 189')
    t.notMatch(shown.body, '30006000011234567890189', 'the page never shows the IBAN')
    t.notMatch(shown.body, '3000 6000', 'not even grouped')
    t.equal(after.querySelector('#iban')?.getAttribute('value') ?? '', '', 'nor in the form')

    const [row] = await em().execute<Record<string, unknown>[]>(
      `select * from "${em().schema}"."sepa_mandate" where family_id = ?`,
      [mine.family.id],
    )
    const raw = JSON.stringify(row)
    t.notMatch(raw, '30006000011234567890189', 'the table does not hold the IBAN')
    t.notMatch(raw, '0112345678', 'nor a run of its digits')
    t.equal(row!.iban_masked, 'FR76 **** **** **** **** ***0 189')
    const mandate = await em().findOneOrFail(
      SepaMandate,
      { family: mine.family.id },
      { populate: ['ibanCiphertext', 'ibanIv', 'ibanTag'] },
    )
    t.equal(openIban(key, mandate), theirIban, 'BILLING_KEY opens it')
    t.throws(() => openIban(Buffer.alloc(32, 1), mandate), 'another key does not')
    t.throws(
      () =>
        openIban(key, {
          ...mandate,
          ibanCiphertext: Buffer.from(`x${mandate.ibanCiphertext}`, 'base64').toString('base64'),
        }),
      'altered bytes do not',
    )

    const replaced = await browser.submit(saved.headers.location as string, path, {
      holder: 'Dominique Martin',
      iban: 'DE89 3704 0044 0532 0130 00',
      bic: 'COBADEFFXXX',
      signedOn: '2026-10-01',
    })
    t.equal(replaced.statusCode, 303)
    const mandates = await em().find(SepaMandate, { family: mine.family.id }, { orderBy: { id: 'asc' } })
    t.same(
      mandates.map((m) => [m.state, m.reference.slice(-6)]),
      [
        ['revoked', '000001'],
        ['active', '000002'],
      ],
      'a new RUM, the old one revoked',
    )
    const revoked = await browser.submit(path, `${path}/revocation`, {})
    t.equal(revoked.statusCode, 303)
    const end = html((await browser.get(revoked.headers.location as string)).body)
    t.match(text(end.querySelector('[role="status"]')?.text), 'révoqué')
    t.match(text(end.querySelector('main')?.text), 'Aucun mandat actif')
    const events = await em().find(AuditEvent, { action: { $like: 'mandate.%' } }, { orderBy: { id: 'asc' } })
    t.same(
      events.map((e) => e.action),
      ['mandate.save', 'mandate.save', 'mandate.revoke'],
    )
    t.notMatch(
      JSON.stringify(events.map((e) => e.details)),
      '0112345678',
      'the audit trail holds masked IBANs only',
    )
    t.equal((await browser.get('/admin/facturation/familles/999999/mandat')).statusCode, 404)
  },
)

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
    const { file } = await em().findOneOrFail(DebitBatch, { month: next }, { populate: ['file'] })
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
    t.match(files[1]?.file, '<SeqTp>FRST</SeqTp>')
    t.match(files[2]?.file, '<SeqTp>RCUR</SeqTp>')
    for (const f of files) t.ok((await against(f.file)).valid, `${f.month} valid`)
  },
)
