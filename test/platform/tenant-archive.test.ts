import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import t from 'tap'
import { parse } from 'yaml'
import { runCli } from '../../src/cli/commands.ts'
import { demoPassword, seedDemoAccounts } from '../../src/demo/accounts.ts'
import { seedDemo } from '../../src/demo/seed.ts'
import { StoredFile } from '../../src/features/documents/entities.ts'
import { Guardian } from '../../src/features/family/entities.ts'
import { Pupil } from '../../src/features/pupils/entities.ts'
import { Account } from '../../src/platform/auth/entities.ts'
import { schemaFor } from '../../src/platform/tenancy/registry.ts'
import { Browser, createAccount } from '../helpers/accounts.ts'
import { build, html } from '../helpers/build.ts'
import { importDocument, samples } from '../helpers/multipart.ts'
import { demoTenant } from '../helpers/reenrolment.ts'

/** Every row of every table of a schema, as Postgres writes them, in primary key order. */
async function contents(app: Awaited<ReturnType<typeof build>>['app'], slug: string) {
  const em = app.orm.em.fork()
  const schema = schemaFor(slug)
  const tables = await em.execute<{ name: string }[]>(
    `select table_name as name from information_schema.tables
     where table_schema = ? and table_type = 'BASE TABLE' and table_name <> 'mikro_orm_migrations'
     order by table_name`,
    [schema],
  )
  const all: Record<string, string[]> = {}
  for (const { name } of tables) {
    const rows = await em.execute<{ row: string }[]>(
      `select row_to_json(t)::text as row from "${schema}"."${name}" t order by 1`,
    )
    all[name] = rows.map((r) => r.row)
  }
  return all
}

t.test('a tenant exported and imported under another slug: same rows, same files, it works', async (t) => {
  const { app, config, tenants, host } = await build(t, {
    tenants: [demoTenant('limonest'), demoTenant('limonest'), demoTenant('limonest')],
  })
  const [source, target, other] = tenants.map((c) => c.slug) as [string, string, string]
  await seedDemo(app.orm, [tenants[0]!])
  await seedDemoAccounts(app.orm, [tenants[0]!])
  await createAccount(app, source, { identifiant: 'secretariat', role: 'secretariat' })
  const family = new Browser(app, host(0))
  await family.submit('/connexion', '/connexion', { identifiant: 'demo-famille', password: demoPassword })
  const pdf = samples.pdf(3000)
  const document = html((await family.get('/famille/pieces')).body)
    .querySelector('form[enctype="multipart/form-data"] input[name="document"]')
    ?.getAttribute('value')
  const uploaded = await importDocument(
    family,
    '/famille/pieces',
    { document },
    { fileName: 'mandat.pdf', contentType: 'application/pdf', content: pdf },
  )
  t.equal(uploaded.statusCode, 303, 'the family uploaded a file')

  const dir = mkdtempSync(join(tmpdir(), 'tutti-archive-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const lines: string[] = []
  const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(`ERR ${l}`) }
  const cli = (...args: string[]) => runCli(args, config, io, app.orm)
  const file = join(dir, 'limonest.jsonl.gz')

  t.equal(await cli('tenant', 'export', source, '--out', file), 0)
  t.match(lines.pop(), new RegExp(`^${source}: \\d+ rows of \\d+ tables written to ${file}$`))
  const archived = gunzipSync(readFileSync(file)).toString().trim().split('\n')
  const header = JSON.parse(archived[0]!)
  t.equal(header.slug, source)
  t.equal(parse(header.config).slug, source, 'the archive holds the tenant file')
  t.notOk(
    archived.some((line) => line.includes(target) || line.includes(other)),
    'nothing of another tenant',
  )

  t.equal(await cli('tenant', 'import', target, file), 0, lines.join('\n'))
  t.match(lines.pop(), new RegExp(`^${target}: \\d+ rows imported from `))
  const before = await contents(app, source)
  const after = await contents(app, target)
  t.ok(before.pupil!.length >= 5, `the source had demo data (${before.pupil!.length} pupils)`)
  t.ok(before.stored_file!.length >= 2, 'and stored files: the demo’s waiting document and the upload')
  t.same(after, before, 'every table holds the same rows, ids included')
  const stored = await app.orm.em
    .fork({ schema: schemaFor(target) })
    .findOne(
      StoredFile,
      { sha256: createHash('sha256').update(pdf).digest('hex') },
      { populate: ['content'] },
    )
  t.ok(stored && Buffer.compare(Buffer.from(stored.content), pdf) === 0, 'the file’s bytes came through')

  // the imported tenant works: sign-in, pages, and new rows whose ids follow the imported ones
  const imported = new Browser(app, host(1))
  const signedIn = await imported.submit('/connexion', '/connexion', {
    identifiant: 'demo-famille',
    password: demoPassword,
  })
  t.equal(signedIn.statusCode, 303)
  const em = app.orm.em.fork({ schema: schemaFor(target) })
  const account = await em.findOneOrFail(Account, { identifiant: 'demo-famille' })
  const guardian = await em.findOneOrFail(Guardian, { account: account.id })
  const pupils = await em.find(Pupil, { family: guardian.family })
  const home = await imported.get('/famille')
  t.equal(home.statusCode, 200)
  for (const pupil of pupils) t.match(home.body, pupil.firstName, `the family sees ${pupil.firstName}`)
  const maxId = Math.max(...(await em.find(Account, {})).map((a) => a.id))
  const added = await createAccount(app, target, { identifiant: 'nouveau' })
  t.ok(added.id > maxId, 'a new row takes the next id, not an imported one')

  t.test('refusals leave the tenant as it was, with a clear message and exit code 1', async (t) => {
    const refused = async (args: string[], message: RegExp) => {
      lines.length = 0
      t.equal(await cli(...args), 1, args.join(' '))
      t.match(lines.join('\n'), message)
    }
    await refused(
      ['tenant', 'import', target, file],
      /already has data \(table \w+\): import only into an empty tenant/,
    )
    await refused(['tenant', 'import', 'inconnu', file], /tenant inconnu is not provisioned/)
    await refused(['tenant', 'export', 'inconnu'], /tenant inconnu is not provisioned/)
    await refused(
      ['tenant', 'export', source, '--out', join(dir, 'absent', 'x.gz')],
      /nothing exported: ENOENT: no such file or directory/,
    )
    await refused(['tenant', 'import', other], /needs the archive file/)
    await refused(['tenant', 'import', other, join(dir, 'absent.gz')], /no such file/)

    const corrupt = join(dir, 'corrupt.gz')
    writeFileSync(corrupt, 'this is not an archive')
    await refused(['tenant', 'import', other, corrupt], /nothing imported: .*not a gzip'd tenant archive/)
    const cut = join(dir, 'cut.gz')
    writeFileSync(cut, gzipSync(archived.slice(0, archived.length - 40).join('\n')))
    await refused(['tenant', 'import', other, cut], /cut short/)
    const foreign = join(dir, 'foreign.gz')
    writeFileSync(foreign, gzipSync('{"hello":"world"}\n'))
    await refused(['tenant', 'import', other, foreign], /not a tenant archive/)
    t.same(
      Object.values(await contents(app, other)).flat(),
      [],
      'the rows imported before the cut were rolled back',
    )

    const older = join(dir, 'older.gz')
    const olderHeader = { ...header, migrations: header.migrations.slice(0, -1) }
    writeFileSync(older, gzipSync([JSON.stringify(olderHeader), ...archived.slice(1)].join('\n')))
    await refused(['tenant', 'import', other, older], /migration level .* differs from tenant/)
  })

  t.test('--config-out writes the archived tenant file under the new slug', async (t) => {
    const path = join(dir, 'nouveau.yaml')
    lines.length = 0
    t.equal(await cli('tenant', 'import', 'nouveau', file, '--config-out', path), 0)
    const written = parse(readFileSync(path, 'utf8'))
    t.equal(written.slug, 'nouveau')
    t.equal(written.name, tenants[0]!.name)
    t.equal(await cli('tenant', 'import', 'nouveau', file, '--config-out', path), 1, 'never overwrites')
  })
})
