import t from 'tap'
import { seedDemoAccounts, demoPassword } from '../../src/demo/accounts.ts'
import { seedDemoBilling } from '../../src/demo/billing.ts'
import { seedDemoDebits } from '../../src/demo/debits.ts'
import { seedDemo } from '../../src/demo/seed.ts'
import { DebitBatch, Instalment, Invoice, Payment, SepaMandate } from '../../src/features/billing/entities.ts'
import { schemaFor } from '../../src/platform/tenancy/registry.ts'
import { Browser } from '../helpers/accounts.ts'
import { build, html } from '../helpers/build.ts'
import { demoTenant } from '../helpers/reenrolment.ts'

const text = (value: string | undefined) => (value ?? '').replace(/\s+/g, ' ').trim()

t.test('demo-famille sees issued invoices in every state, made through the billing services', async (t) => {
  const { app, tenants, host } = await build(t, { tenants: [demoTenant('limonest')] })
  await seedDemo(app.orm, tenants)
  await seedDemoAccounts(app.orm, tenants)
  await seedDemoBilling(app.orm, tenants)
  await seedDemoDebits(app.orm, tenants, app.config.billingKey)
  const em = app.orm.em.fork({ schema: schemaFor(tenants[0]!.slug) })
  const invoices = await em.find(Invoice, {}, { orderBy: { id: 'asc' } })
  t.same(
    invoices.map((i) => [i.kind, i.state, i.number?.slice(0, 1)]),
    [
      ['cotisation', 'issued', 'F'],
      ['cotisation', 'issued', 'F'],
      ['cotisation', 'issued', 'F'],
      ['cotisation', 'issued', 'F'],
      ['location', 'issued', 'F'],
      ['avoir', 'issued', 'A'],
    ],
  )
  t.equal(await em.count(Instalment, { invoice: invoices[0]! }), 9, 'nine direct debits for demo-famille')
  t.ok(await em.count(Payment), 'payments, each with its receipt')

  const browser = new Browser(app, host())
  await browser.submit('/connexion', '/connexion', { identifiant: 'demo-famille', password: demoPassword })
  const tuition = html((await browser.get('/facturation')).body)
  // its direct debits are collected month by month, the latest one returned by the bank
  const collected = await em.count(DebitBatch)
  t.equal(await em.count(SepaMandate, { family: invoices[0]!.family }), 1, 'a mandate for demo-famille')
  t.same(
    tuition.querySelectorAll('section.invoice .state').map((s) => text(s.text).replace(/ le .*/, ' le …')),
    collected ? ['En retard', 'Prélèvement rejeté', 'Prélèvement rejeté le …'] : ['Partiellement payée'],
    collected ? 'its latest debit rejected' : 'the cotisation is partly paid (the adhésion)',
  )
  t.ok(tuition.querySelector('section.invoice .receipts a[download]'), 'with a receipt to download')
  const rentals = html((await browser.get('/facturation/locations')).body)
  t.equal(text(rentals.querySelector('section.invoice .state')?.text), 'Payée')
  t.match(text(rentals.querySelector('.invoice-lines')?.text), 'Caution')
  const home = html((await browser.get('/accueil')).body)
  t.match(text(home.querySelector('#billing-title')?.parentNode?.text), 'Prochaine échéance')
  const pdf = await browser.get(`/facturation/factures/${invoices[0]!.id}/pdf`)
  t.equal(pdf.headers['content-type'], 'application/pdf')

  await seedDemoBilling(app.orm, tenants)
  await seedDemoDebits(app.orm, tenants, app.config.billingKey)
  t.equal(await em.fork().count(Invoice), invoices.length, 'seeding again adds nothing')
  t.equal(await em.fork().count(DebitBatch), collected)
})
