import t from 'tap'
import { seedDemoAccounts, demoPassword } from '../../src/demo/accounts.ts'
import { seedDemoBilling } from '../../src/demo/billing.ts'
import { seedDemoDebits } from '../../src/demo/debits.ts'
import { seedDemoPayfip } from '../../src/demo/payfip.ts'
import { seedDemo } from '../../src/demo/seed.ts'
import { DebitBatch, Instalment, Invoice, Payment, SepaMandate } from '../../src/features/billing/entities.ts'
import { Guardian } from '../../src/features/family/entities.ts'
import { Enrolment } from '../../src/features/teaching/entities.ts'
import { schemaFor } from '../../src/platform/tenancy/registry.ts'
import { Browser } from '../helpers/accounts.ts'
import { build, html } from '../helpers/build.ts'
import { demoTenant } from '../helpers/reenrolment.ts'

const text = (value: string | undefined) => (value ?? '').replace(/\s+/g, ' ').trim()

t.test('demo-famille sees issued invoices in every state, made by the year’s generation', async (t) => {
  const { app, tenants, host } = await build(t, { tenants: [demoTenant('limonest')] })
  await seedDemo(app.orm, tenants)
  await seedDemoAccounts(app.orm, tenants)
  await seedDemoBilling(app.orm, tenants)
  await seedDemoPayfip(app.orm, tenants)
  await seedDemoDebits(app.orm, tenants, app.config.billingKey)
  const em = app.orm.em.fork({ schema: schemaFor(tenants[0]!.slug) })
  const invoices = await em.find(Invoice, {}, { orderBy: { id: 'asc' }, populate: ['lines'] })
  t.ok(
    invoices.every((i) => i.state === 'issued' && i.number?.[0] === (i.kind === 'avoir' ? 'A' : 'F')),
    'every invoice issued and numbered',
  )
  const enrolments = await em.find(
    Enrolment,
    { active: true, course: { schoolYear: { current: true } }, pupil: { family: { archivedAt: null } } },
    { populate: ['pupil'] },
  )
  const cotisations = invoices.filter((i) => i.kind === 'cotisation')
  t.equal(
    cotisations.length,
    new Set(enrolments.map((e) => e.pupil.family.id)).size,
    'one cotisation per family enrolled this year',
  )
  t.same(
    invoices
      .filter((i) => i.kind === 'location')
      .flatMap((i) => i.lines.getItems().filter((l) => l.kind === 'rental'))
      .map((l) => l.detail?.slice(0, 12))
      .sort(),
    ['Réf. CLA-012', 'Réf. CLA-013', 'Réf. CLA-014', 'Réf. SALLE-B'],
    'the rentals on their own invoices, each with its reference',
  )
  t.equal(invoices.filter((i) => i.kind === 'avoir').length, 1, 'a credit note')
  const guardian = await em.findOneOrFail(Guardian, { account: { identifiant: 'demo-famille' } })
  const mine = cotisations.find((i) => i.family.id === guardian.family.id)!
  t.ok(
    mine.lines.getItems().some((l) => l.detail?.startsWith('Q3 — ')),
    'priced by the tariffs at the family’s bracket',
  )
  t.equal(await em.count(Instalment, { invoice: mine }), 9, 'nine direct debits for demo-famille')
  t.ok(await em.count(Payment), 'payments, each with its receipt')

  const browser = new Browser(app, host())
  await browser.submit('/connexion', '/connexion', { identifiant: 'demo-famille', password: demoPassword })
  const tuition = html((await browser.get('/facturation')).body)
  // its direct debits are collected month by month, the latest one returned by the bank
  const collected = await em.count(DebitBatch)
  t.equal(await em.count(SepaMandate, { family: mine.family }), 1, 'a mandate for demo-famille')
  t.same(
    tuition.querySelectorAll('section.invoice .state').map((s) => text(s.text).replace(/ le .*/, ' le …')),
    collected ? ['En retard', 'Prélèvement rejeté', 'Prélèvement rejeté le …'] : ['Partiellement payée'],
    collected ? 'its latest debit rejected' : 'the cotisation is partly paid (the adhésion)',
  )
  t.ok(tuition.querySelector('section.invoice .receipts a[download]'), 'with a receipt to download')
  const rentals = html((await browser.get('/facturation/locations')).body)
  t.match(
    text(rentals.querySelector('section.invoice .payfip-awaiting')?.text),
    /Paiement en ligne de [\d ,]+ € en cours de confirmation/,
    'Limonest’s rental paid on PayFiP, awaiting the treasury',
  )
  t.match(text(rentals.querySelector('.invoice-lines')?.text), 'Caution')
  t.match(text(rentals.querySelector('.invoice-lines')?.text), 'Réf. CLA-012')
  const home = html((await browser.get('/accueil')).body)
  t.match(text(home.querySelector('#billing-title')?.parentNode?.text), 'Prochaine échéance')
  const pdf = await browser.get(`/facturation/factures/${mine.id}/pdf`)
  t.equal(pdf.headers['content-type'], 'application/pdf')

  const staff = new Browser(app, host())
  await staff.submit('/admin/connexion', '/admin/connexion', {
    identifiant: 'demo-secretariat',
    password: demoPassword,
  })
  const lent = html((await staff.get('/admin/facturation/locations')).body)
  t.same(
    lent.querySelectorAll('tbody th a').map((a) => text(a.text)),
    ['CLA-014', 'CLA-013', 'CLA-012', 'SALLE-B', 'CLA-011'],
    'the items lent now, newest first, then the one back from last year',
  )
  t.match(text(lent.querySelector('tbody tr:last-child')?.text), 'rendue')

  await seedDemoBilling(app.orm, tenants)
  await seedDemoDebits(app.orm, tenants, app.config.billingKey)
  t.equal(await em.fork().count(Invoice), invoices.length, 'seeding again adds nothing')
  t.equal(await em.fork().count(DebitBatch), collected)
})
