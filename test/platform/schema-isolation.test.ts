import pg from 'pg'
import t from 'tap'
import { demoPassword, seedDemoAccounts } from '../../src/demo/accounts.ts'
import { seedDemo } from '../../src/demo/seed.ts'
import { Browser } from '../helpers/accounts.ts'
import { build, html } from '../helpers/build.ts'
import { demoTenant } from '../helpers/reenrolment.ts'

/** The schemas a statement names: `tenant_<slug>` ones and the platform's. */
function schemasOf(sql: string): Set<string> {
  const names = new Set<string>()
  for (const match of sql.matchAll(/"?(tenant_[a-z0-9_]+|platform)"?\s*\.\s*"?[a-z_]/g)) names.add(match[1]!)
  return names
}

t.test('the check sees the schemas a statement names', async (t) => {
  t.same(
    [...schemasOf('select * from "tenant_a"."pupil" p join platform.tenant r on r.slug = p.x')],
    ['tenant_a', 'platform'],
  )
  t.same(
    [...schemasOf('select * from "tenant_b"."guardian" g, "tenant_c" . "guardian" h where g.id = h.id')],
    ['tenant_b', 'tenant_c'],
  )
})

t.test(
  'no statement on tenant data names another schema: each tenant schema could live on its own Citus node',
  { skip: process.env.DATABASE_URL ? false : 'needs DATABASE_URL: the rule is about what Postgres is sent' },
  async (t) => {
    const { app, host, tenants } = await build(t, {
      tenants: [demoTenant('limonest'), demoTenant('limoges')],
    })
    await seedDemo(app.orm, tenants)
    await seedDemoAccounts(app.orm, tenants)

    const sent: string[] = []
    const query = pg.Client.prototype.query
    pg.Client.prototype.query = function (this: unknown, ...args: unknown[]) {
      const first = args[0] as string | { text?: string }
      sent.push(typeof first === 'string' ? first : (first?.text ?? ''))
      return query.apply(this, args as never)
    } as typeof query
    t.teardown(() => {
      pg.Client.prototype.query = query
    })

    // what families, staff and visitors do every day, on both conservatoires
    for (const [i, who, path, landing] of [
      [0, 'demo-famille', '/connexion', '/accueil'],
      [0, 'demo-admin', '/admin/connexion', '/admin'],
      [1, 'demo-famille', '/connexion', '/accueil'],
    ] as const) {
      const browser = new Browser(app, host(i))
      await browser.submit(path, path, { identifiant: who, password: demoPassword })
      const start = html((await browser.get(landing)).body)
      const links = start
        .querySelectorAll('a[href^="/"]')
        .map((a) => a.getAttribute('href')!)
        .filter((href) => !/fichier|export|deconnexion/.test(href))
      for (const href of new Set(links)) await browser.get(href)
    }
    await new Browser(app, host(1)).get('/preinscription')

    t.ok(sent.length > 50, `${sent.length} statements sent`)
    const crossing = sent.filter((sql) => {
      const schemas = [...schemasOf(sql)]
      return schemas.length > 1
    })
    t.same(crossing, [], 'no statement names two schemas')
    const tenantSchemas = new Set(sent.flatMap((sql) => [...schemasOf(sql)]).filter((s) => s !== 'platform'))
    t.ok(tenantSchemas.size >= 2, `statements went to ${[...tenantSchemas].join(', ')}`)
  },
)
