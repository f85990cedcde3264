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
// the sample statement names the invoices the demo issues in the 2026-2027 school year
const now = new Date('2026-11-27T10:00:00Z')
const sample = readFileSync(new URL('../../demo/tresor/releve-tresor-limonest.csv', import.meta.url))

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
      'Paiement en ligne de 60,00 € en cours de confirmation',
    )
    const home = html((await family.get('/accueil')).body).querySelector('#billing-title')!.parentNode!
    t.match(text(home.text), 'Paiement en ligne en cours de confirmation : 60,00 €.')
    t.equal(home.querySelector('.state--late'), null, 'the rehearsal room paid online is not late')
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
    t.equal(page.querySelectorAll('table.treasury-matched tbody tr').length, 3)
    t.equal(page.querySelectorAll('table.treasury-unmatched tbody tr').length, 2)
    t.match(text(page.querySelector('table.treasury-matched')?.text), 'confirme le paiement en ligne')
    const form = page.querySelector('form[action="/admin/facturation/tresor/enregistrer"]')!
    const fields = Object.fromEntries(
      form
        .querySelectorAll('input[type="hidden"]')
        .map((i) => [i.getAttribute('name')!, i.getAttribute('value')!]),
    )
    const done = await staff.post('/admin/facturation/tresor/enregistrer', fields)
    t.equal(done.headers.location, '/admin/facturation/tresor?enregistres=3&ignores=2')
    const after = html((await family.get('/facturation/locations')).body)
    t.equal(after.querySelector('.payfip-awaiting'), null)
    t.same(
      after.querySelectorAll('section.invoice .state').map((s) => text(s.text)),
      ['Payée', 'Payée'],
      'the rehearsal room and the violin: paid',
    )

    await seedDemoPayfip(app.orm, tenants, now)
    t.equal(await em().count(OnlinePayment), 1, 'seeding again adds nothing')
  },
)
