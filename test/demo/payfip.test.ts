import { readFileSync } from 'node:fs'
import t from 'tap'
import { demoPassword, seedDemoAccounts } from '../../src/demo/accounts.ts'
import { seedDemoBilling } from '../../src/demo/billing.ts'
import { seedDemoPayfip } from '../../src/demo/payfip.ts'
import { seedDemo } from '../../src/demo/seed.ts'
import { OnlinePayment } from '../../src/features/billing/entities.ts'
import { schemaFor } from '../../src/platform/tenancy/registry.ts'
import { Browser } from '../helpers/accounts.ts'
import { build, html } from '../helpers/build.ts'
import { multipartBody } from '../helpers/multipart.ts'
import { demoTenant } from '../helpers/reenrolment.ts'

const text = (value: string | undefined) => (value ?? '').replace(/[\s\u00a0\u202f]+/g, ' ').trim()
const now = new Date('2026-11-27T10:00:00Z')
// demo/tresor/'s sample names the invoices of `npm start`'s Limonest, whose families are drawn from
// its slug: a test tenant's fresh slug draws others, so the statement is written in the sample's
// format (its header) for the invoices this demo issued
const header = readFileSync(
  new URL('../../demo/tresor/releve-tresor-limonest.csv', import.meta.url),
  'utf8',
).split('\n')[0]!

t.test(
  'Limonest’s demo: a PayFiP payment awaiting confirmation, confirmed by the sample statement',
  async (t) => {
    const { app, tenants, host } = await build(t, { tenants: [demoTenant('limonest')] })
    await seedDemo(app.orm, tenants, now)
    await seedDemoAccounts(app.orm, tenants)
    await seedDemoBilling(app.orm, tenants, now)
    await seedDemoPayfip(app.orm, tenants, now)
    const em = () => app.orm.em.fork({ schema: schemaFor(tenants[0]!.slug) })
    t.equal(await em().count(OnlinePayment), 1)

    const family = new Browser(app, host())
    await family.submit('/connexion', '/connexion', { identifiant: 'demo-famille', password: demoPassword })
    const rentals = html((await family.get('/facturation/locations')).body)
    t.match(
      text(rentals.querySelector('.payfip-awaiting')?.text),
      'Paiement en ligne de 290,00 € en cours de confirmation',
    )
    const home = html((await family.get('/accueil')).body).querySelector('#billing-title')!.parentNode!
    t.match(text(home.text), 'Paiement en ligne en cours de confirmation : 290,00 €.')
    t.equal(rentals.querySelector('section.invoice .state--late'), null, 'the rental paid online is not late')
    const tuition = html((await family.get('/facturation')).body)
    t.equal(
      text(tuition.querySelector('form.payfip button')?.text),
      'Payer en ligne',
      'the cotisation may be paid online',
    )

    const staff = new Browser(app, host())
    await staff.submit('/admin/connexion', '/admin/connexion', {
      identifiant: 'demo-secretariat',
      password: demoPassword,
    })
    const [online] = await em().find(OnlinePayment, {})
    const owed = await em()
      .getConnection()
      .execute<{ number: string; remaining: number }[]>(
        `select i.number, i.total - coalesce((select sum(p.amount) from "${schemaFor(tenants[0]!.slug)}".payment p
         where p.invoice_id = i.id), 0) as remaining
       from "${schemaFor(tenants[0]!.slug)}".invoice i where i.kind = 'cotisation' order by i.number`,
      )
    const partly = owed.find((i) => Number(i.remaining) >= 15000)!
    const settled = owed.find((i) => Number(i.remaining) <= 0)!
    const sample = Buffer.from(
      [
        header,
        `${online!.refdet};${(online!.amount / 100).toFixed(2).replace('.', ',')};25/11/2026;MARTIN CAMILLE;DGFIP-1`,
        `${partly.number};150,00;24/11/2026;FAMILLE A;DGFIP-2`,
        `${settled.number};165,00;25/11/2026;FAMILLE B;DGFIP-3`,
        'F2025-000417;85,00;26/11/2026;ROUX JULIEN;DGFIP-4',
      ].join('\n'),
      'utf8',
    )
    const token = html((await staff.get('/admin/facturation/tresor')).body)
      .querySelector('form[enctype="multipart/form-data"] input[name="_csrf"]')!
      .getAttribute('value')!
    const { body, contentType } = multipartBody(
      { _csrf: token },
      { name: 'file', fileName: 'releve-tresor-limonest.csv', contentType: 'text/csv', content: sample },
    )
    const preview = await app.inject({
      method: 'POST',
      url: '/admin/facturation/tresor',
      headers: { host: host(), cookie: staff.cookieHeader(), 'content-type': contentType },
      payload: body,
    })
    const page = html(preview.body)
    t.equal(page.querySelectorAll('table.treasury-matched tbody tr').length, 2)
    t.equal(page.querySelectorAll('table.treasury-unmatched tbody tr').length, 2)
    t.match(text(page.querySelector('table.treasury-matched')?.text), 'confirme le paiement en ligne')
    const form = page.querySelector('form[action="/admin/facturation/tresor/enregistrer"]')!
    const fields = Object.fromEntries(
      form
        .querySelectorAll('input[type="hidden"]')
        .map((i) => [i.getAttribute('name')!, i.getAttribute('value')!]),
    )
    const done = await staff.post('/admin/facturation/tresor/enregistrer', fields)
    t.equal(done.headers.location, '/admin/facturation/tresor?enregistres=2&ignores=2')
    const after = html((await family.get('/facturation/locations')).body)
    t.equal(after.querySelector('.payfip-awaiting'), null)
    t.same(
      after.querySelectorAll('section.invoice .state').map((s) => text(s.text)),
      ['Payée'],
      'the clarinet’s rental: paid',
    )

    await seedDemoPayfip(app.orm, tenants, now)
    t.equal(await em().count(OnlinePayment), 1, 'seeding again adds nothing')
  },
)
