import t from 'tap'
import { demoPassword, seedDemoAccounts } from '../../../src/demo/accounts.ts'
import { seedDemo } from '../../../src/demo/seed.ts'
import { AuditEvent } from '../../../src/platform/audit/entities.ts'
import { OutboxMail } from '../../../src/platform/mail/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { demoTenant } from '../../helpers/reenrolment.ts'

const demos = ['limonest', 'grand-angouleme', 'limoges', 'plessis-pate', 'porte-oceane']

t.test('every demo conservatoire shows demo-admin a varied journal and mails in every state', async (t) => {
  const { app, host, tenants } = await build(t, { tenants: demos.map((slug) => demoTenant(slug)) })
  await seedDemo(app.orm, tenants)
  await seedDemoAccounts(app.orm, tenants)
  for (const [i, config] of tenants.entries()) {
    const name = demos[i]
    const admin = new Browser(app, host(i))
    const signIn = await admin.submit('/admin/connexion', '/admin/connexion', {
      identifiant: 'demo-admin',
      password: demoPassword,
      ...(config.establishments.length > 1 ? { site: config.establishments[0]!.code } : {}),
    })
    t.equal(signIn.statusCode, 303, `${name}: demo-admin signs in`)

    const home = html((await admin.get('/admin')).body)
    t.ok(home.querySelector('nav.site-nav a[href="/admin/administration"]'), `${name}: in the menu`)

    const journal = html((await admin.get('/admin/journal')).body)
    const kinds = new Set(journal.querySelectorAll('table.journal tbody th').map((th) => th.text.trim()))
    t.ok(kinds.size >= 6, `${name}: ${kinds.size} kinds of staff action: ${[...kinds].join(', ')}`)
    const people = journal.querySelectorAll('#qui optgroup option').map((o) => o.text.trim())
    t.ok(people.length >= 3, `${name}: the filter offers ${people.join(', ')}`)
    const families = html((await admin.get('/admin/journal?qui=familles')).body)
    t.ok(families.querySelectorAll('table.journal tbody tr').length > 0, `${name}: a family’s action`)

    const states = html((await admin.get('/admin/courriels')).body)
      .querySelectorAll('table.outbox .state')
      .map((s) => s.text.trim())
    t.same([...new Set(states)].sort(), ['En attente', 'En échec', 'Envoyé'], `${name}: every state`)
    const failed = html((await admin.get('/admin/courriels?etat=failed')).body)
    const link = failed.querySelector('table.outbox tbody th a')!.getAttribute('href')!
    const page = html((await admin.get(link)).body)
    t.match(page.querySelector('#last-error')?.text, '550 5.1.1', `${name}: the failed mail says why`)
    t.ok(page.querySelector('pre.mail-text'), `${name}: and shows its text`)

    // the seed adds nothing the second time
    const em = app.orm.em.fork({ schema: schemaFor(config.slug) })
    const counts = [await em.count(AuditEvent), await em.count(OutboxMail)]
    await seedDemoAccounts(app.orm, [config])
    t.same([await em.count(AuditEvent), await em.count(OutboxMail)], counts, `${name}: seeded once`)
  }
})
