import t from 'tap'
import { demoPassword, seedDemoAccounts } from '../../../src/demo/accounts.ts'
import { seedDemoConfigHistory } from '../../../src/demo/config-history.ts'
import { seedDemo } from '../../../src/demo/seed.ts'
import { TenantConfigDraft, TenantConfigVersion } from '../../../src/platform/tenancy/entities.ts'
import { Browser } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { demoTenant } from '../../helpers/reenrolment.ts'

const demos = ['limonest', 'grand-angouleme', 'limoges', 'plessis-pate', 'porte-oceane']
const text = (value: string | undefined) => (value ?? '').replace(/\s+/g, ' ').trim()

t.test('every demo conservatoire has a configuration history and a draft to preview', async (t) => {
  const { app, host, tenants } = await build(t, { tenants: demos.map((slug) => demoTenant(slug)) })
  await seedDemo(app.orm, tenants)
  await seedDemoAccounts(app.orm, tenants)
  await seedDemoConfigHistory(app.orm, tenants)
  // the running app picks the published versions up at its next refresh
  await new Promise((resolve) => setTimeout(resolve, 2_500))
  for (const [i, config] of tenants.entries()) {
    const name = demos[i]
    t.equal(app.registry.get(config.slug)!.configVersion, 2, `${name}: version 2 is served`)
    const admin = new Browser(app, host(i))
    await admin.submit('/admin/connexion', '/admin/connexion', {
      identifiant: 'demo-admin',
      password: demoPassword,
      ...(config.establishments.length > 1 ? { site: config.establishments[0]!.code } : {}),
    })
    const administration = html((await admin.get('/admin/administration')).body)
    t.ok(
      administration.querySelector('a[href="/admin/configuration"]'),
      `${name}: reached from Administration`,
    )
    const versions = html((await admin.get('/admin/configuration/versions')).body)
    const rows = versions.querySelectorAll('tbody tr').map((r) => text(r.text))
    t.equal(rows.length, 2, `${name}: two versions`)
    t.match(rows[0], /n° 2 en ligne .*demo-admin/, `${name}: ${rows[0]}`)
    const overview = html((await admin.get('/admin/configuration')).body)
    const draft = overview.querySelector('a[href^="/admin/configuration/brouillons/"]')
    t.ok(draft, `${name}: a draft waits`)
    const page = html((await admin.get(draft!.getAttribute('href')!)).body)
    t.match(
      text(
        page
          .querySelectorAll('.diff__added')
          .map((r) => r.text)
          .join(' '),
      ),
      'reprise le lundi suivant',
      `${name}: the draft's change is shown`,
    )
  }
  const em = app.orm.em.fork()
  const counts = [await em.count(TenantConfigVersion), await em.count(TenantConfigDraft)]
  await seedDemoConfigHistory(app.orm, tenants)
  t.same([await em.count(TenantConfigVersion), await em.count(TenantConfigDraft)], counts, 'seeded once')
})
