import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { runCli } from '../../../src/cli/commands.ts'
import { AuditEvent } from '../../../src/platform/audit/entities.ts'
import { TenantConfigVersion } from '../../../src/platform/tenancy/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser } from '../../helpers/accounts.ts'
import { build } from '../../helpers/build.ts'

t.test('tenant config export and import move a configuration as YAML, through the checks', async (t) => {
  const { app, config, tenants, host } = await build(t, {
    tenants: [{ texts: { home: 'Bienvenue.' } }, {}],
  })
  const slug = tenants[0]!.slug
  const dir = mkdtempSync(join(tmpdir(), 'tutti-config-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const lines: string[] = []
  const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(`ERR ${l}`) }
  const cli = (...args: string[]) => runCli(args, config, io, app.orm)

  t.equal(await cli('tenant', 'config', 'export', slug), 0)
  const exported = lines.pop()!
  t.match(exported, `slug: ${slug}`)
  t.match(exported, 'home: Bienvenue.')
  const file = join(dir, 'config.yaml')
  t.equal(await cli('tenant', 'config', 'export', slug, '--out', file), 0)
  t.equal(lines.pop(), `${slug}: version 1 written to ${file}`)

  writeFileSync(file, readFileSync(file, 'utf8').replace('Bienvenue.', 'Nouvelle année.'))
  t.equal(await cli('tenant', 'config', 'import', slug, file, '--comment', 'Texte de rentrée'), 0)
  t.equal(lines.pop(), `${slug}: version 2 published (running servers serve it within seconds)`)
  const version = await app.orm.em.fork().findOneOrFail(TenantConfigVersion, { tenant: slug, number: 2 })
  t.equal(version.comment, 'Texte de rentrée')
  t.equal(version.authorName, 'tutti tenant config import')
  const audit = await app.orm.em.fork({ schema: schemaFor(slug) }).findOneOrFail(AuditEvent, {
    action: 'config.published',
  })
  t.equal(audit.actorName, 'tutti tenant config import')

  // the running app notices at its next refresh (every 2 s)
  await new Promise((resolve) => setTimeout(resolve, 2_500))
  t.match((await new Browser(app, host()).get('/')).body, 'Nouvelle année.')

  writeFileSync(file, readFileSync(file, 'utf8').replace('texts:', 'colour: red\ntexts:'))
  t.equal(await cli('tenant', 'config', 'import', slug, file), 1)
  t.match(lines.pop(), /^ERR nothing published:\n.*: colour \(line \d+\): unknown key "colour"$/)
  writeFileSync(file, readFileSync(file, 'utf8').replace(`slug: ${slug}`, `slug: ${tenants[1]!.slug}`))
  t.equal(await cli('tenant', 'config', 'import', slug, file), 1, 'another tenant’s file is refused')
  t.equal(await cli('tenant', 'config', 'import', slug, join(dir, 'absent.yaml')), 1)
  t.match(lines.pop(), /^ERR .*absent\.yaml: cannot be read/)
  t.equal(await cli('tenant', 'config', 'export', 'inconnu'), 1)
  t.equal(lines.pop(), 'ERR tenant inconnu is not provisioned')
  t.equal(await cli('tenant', 'config', 'publish', slug), 1)
  t.equal(
    await app.orm.em.fork().count(TenantConfigVersion, { tenant: slug }),
    2,
    'nothing refused was published',
  )
})
