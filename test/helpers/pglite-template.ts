import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { platformEntities, tenantEntities } from '../../src/entities.ts'
import { migrateSchema, migrationsRoot } from '../../src/platform/db/migrations.ts'
import { migratePlatform } from '../../src/platform/tenancy/provisioning.ts'
import { type Orm, openOrm } from '../../src/platform/db/orm.ts'

/**
 * A fresh PGlite spends about 1.5 s in initdb and each migrated schema 0.3 s more, and the suite
 * starts hundreds of apps. Each starts instead from a dump of a database whose platform is migrated
 * and which holds a few migrated tenant schemas, renamed into place as tests create tenants. The
 * dump is built once per set of migrations and kept in the temp directory for every test process.
 */
export const spareSchemas = ['tutti_spare_0', 'tutti_spare_1', 'tutti_spare_2']

let template: Promise<Blob> | undefined

export function pgliteTemplate(): Promise<Blob> {
  template ??= loadOrBuild()
  return template
}

async function loadOrBuild(): Promise<Blob> {
  const name = `tutti-pglite-${migrationsHash()}.tar`
  const path = join(tmpdir(), name)
  if (!existsSync(path)) {
    // the dumps of earlier migrations are 45 MB each: a reader of one holds it in memory already
    for (const old of readdirSync(tmpdir()))
      if (/^tutti-pglite-[0-9a-f]{16}\.tar$/.test(old) && old !== name)
        rmSync(join(tmpdir(), old), { force: true })
    const dump = await buildTemplate()
    const partial = `${path}.${process.pid}`
    writeFileSync(partial, Buffer.from(await dump.arrayBuffer()))
    renameSync(partial, path)
  }
  return new Blob([readFileSync(path)])
}

function migrationsHash(): string {
  const hash = createHash('sha256').update(spareSchemas.join())
  for (const stream of ['platform', 'tenant']) {
    const dir = join(migrationsRoot, stream)
    for (const file of readdirSync(dir).sort()) hash.update(file).update(readFileSync(join(dir, file)))
  }
  const pglite = JSON.parse(
    readFileSync(new URL('../../node_modules/@electric-sql/pglite/package.json', import.meta.url), 'utf8'),
  )
  return hash.update(pglite.version).digest('hex').slice(0, 16)
}

async function buildTemplate(): Promise<Blob> {
  const orm = await openOrm(
    { kind: 'pglite', dataDir: 'memory://' },
    { entities: [...platformEntities, ...tenantEntities] },
  )
  try {
    await migratePlatform(orm)
    for (const schema of spareSchemas) {
      await orm.em.fork().execute(`create schema "${schema}"`)
      await migrateSchema(orm, 'tenant', schema)
    }
    const pglite = await (orm.em.getConnection() as unknown as NativeClient).getNativeClient()
    return (await pglite.dumpDataDir('none')) as Blob
  } finally {
    await orm.close()
  }
}

interface NativeClient {
  getNativeClient(): Promise<{ dumpDataDir(compression: 'none'): Promise<Blob | File> }>
}

/** Renames the i-th spare schema of an app started from the template to a tenant's schema. */
export async function takeSpareSchema(orm: Orm, i: number, schema: string): Promise<void> {
  await orm.em.fork().execute(`alter schema "${spareSchemas[i]}" rename to "${schema}"`)
}
