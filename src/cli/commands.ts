import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { parseArgs } from 'node:util'
import { parseDocument } from 'yaml'
import { seedDemoTenants } from '../demo/all.ts'
import { allEntities, platformEntities, tenantEntities } from '../entities.ts'
import type { Config } from '../platform/config.ts'
import { invite } from '../features/accounts/service.ts'
import { Role } from '../platform/auth/entities.ts'
import { generateMigration } from '../platform/db/generate-migration.ts'
import { pendingMigrations } from '../platform/db/migrations.ts'
import { type Orm, openOrm } from '../platform/db/orm.ts'
import { ArchiveError, exportTenant, importTenant, readArchiveHeader } from '../platform/tenancy/archive.ts'
import {
  createTenant,
  migratePlatform,
  migrateTenants,
  setTenantStatus,
  tenantRows,
} from '../platform/tenancy/provisioning.ts'
import { schemaFor, tenantBaseUrl } from '../platform/tenancy/registry.ts'
import { tenantSchemaReference } from '../platform/tenancy/schema-docs.ts'
import { tenantConfigTypes } from '../platform/tenancy/schema-types.ts'
import { formatProblem, loadTenantConfigs, slugPattern } from '../platform/tenancy/tenant-config.ts'
import { importConfig, servedSource } from '../features/configuration/operator.ts'

export interface CliIo {
  out: (line: string) => void
  err: (line: string) => void
}

export const tenantReferencePath = new URL('../../docs/tenant-configuration.md', import.meta.url).pathname
export const tenantTypesPath = new URL('../platform/tenancy/tenant-config-types.ts', import.meta.url).pathname

export const usage = `Usage: npm run tutti -- <command>

  tenant list                  provisioned tenants, their status and pending migrations
  tenant create <slug>         provision tenants/<slug>.yaml: platform row, schema, migrations
  tenant migrate <slug>        apply pending migrations to one tenant
  tenant migrate --all         apply pending migrations to every tenant (goes on past failures)
  tenant disable <slug>        close a tenant's portal (its data is kept)
  tenant enable <slug>         reopen it
  tenant export <slug> [--out <file>]
                               write the tenant's rows, stored files and tenant file to one archive
                               (default tenant-<slug>-<date>.jsonl.gz)
  tenant import <slug> <file>  restore an archive into a provisioned tenant that has no rows yet,
                               at the archive's migration level (same or another deployment)
  tenant import <slug> <file> --config-out <path>
                               only write the archive's tenant file, renamed to <slug>, to <path>
                               (to provision the tenant before importing its data)
  tenant config export <slug> [--out <file>]
                               write the tenant's published configuration (YAML) to stdout or a file
  tenant config import <slug> <file> [--comment <text>]
                               publish a YAML file as the tenant's next configuration version, after
                               the checks of the portal's editor (servers serve it within seconds)
  account invite <slug> --role <family|teacher|secretariat|direction|admin> --identifiant <id> --email <e-mail> --name <name>
                               create an account and mail its owner an activation link (valid 7 days)
  demo seed                    add the demo data to the tenants of tenants/ (never in production)
  config docs                  rewrite docs/tenant-configuration.md from the schema (developers)
  config types                 rewrite src/platform/tenancy/tenant-config-types.ts from the schema (developers)
  migration create <platform|tenant> [name]
                               write a migration for the entities' changes (developers)`

/** Runs one CLI command; returns the process exit code. Tests pass the ORM they already have open. */
export async function runCli(argv: string[], config: Config, io: CliIo, openedOrm?: Orm): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      all: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      role: { type: 'string' },
      identifiant: { type: 'string' },
      email: { type: 'string' },
      name: { type: 'string' },
      out: { type: 'string' },
      comment: { type: 'string' },
      'config-out': { type: 'string' },
    },
  })
  const [group, command, arg] = positionals
  if (values.help || !group) {
    io.out(usage)
    return values.help ? 0 : 2
  }
  const key = `${group} ${command ?? ''}`.trim()

  if (key === 'config docs') {
    writeFileSync(tenantReferencePath, tenantSchemaReference())
    io.out(`wrote ${tenantReferencePath}`)
    return 0
  }

  if (key === 'config types') {
    writeFileSync(tenantTypesPath, tenantConfigTypes(tenantTypesPath))
    io.out(`wrote ${tenantTypesPath}`)
    return 0
  }

  if (key === 'migration create') {
    if (arg !== 'platform' && arg !== 'tenant') return fail(io, 'migration create takes platform or tenant')
    const file = await generateMigration(
      arg,
      arg === 'platform' ? platformEntities : tenantEntities,
      positionals[3],
    )
    io.out(file ? `wrote ${file}` : 'no changes: the entities match the migrations')
    return 0
  }

  if (key === 'tenant config') return configCommand(config, positionals.slice(2), values, io, openedOrm)

  const known = [
    'tenant list',
    'tenant create',
    'tenant migrate',
    'tenant disable',
    'tenant enable',
    'tenant export',
    'tenant import',
    'account invite',
    'demo seed',
  ]
  if (!known.includes(key)) return fail(io, `unknown command "${key}"\n\n${usage}`)
  const needsSlug =
    [
      'tenant create',
      'tenant disable',
      'tenant enable',
      'tenant export',
      'tenant import',
      'account invite',
    ].includes(key) ||
    (key === 'tenant migrate' && !values.all)
  if (needsSlug && (!arg || !slugPattern.test(arg))) {
    return fail(io, `${key} needs a tenant slug (lowercase letters, digits and hyphens, e.g. limonest)`)
  }
  const archive = positionals[3]
  if (key === 'tenant import' && !archive)
    return fail(io, 'tenant import needs the archive file: tenant import <slug> <file>')
  if (key === 'tenant import' && values['config-out'])
    return await writeArchivedConfig(arg!, archive!, values['config-out'], io)
  if (key === 'demo seed' && config.env === 'production')
    return fail(io, 'the demo seed never runs in production')

  const orm = openedOrm ?? (await openOrm(config.database, { entities: allEntities, poolSize: 4 }))
  try {
    await migratePlatform(orm)
    switch (key) {
      case 'tenant list':
        return await list(orm, io)
      case 'tenant create':
        return await create(orm, config, arg!, io)
      case 'tenant migrate': {
        const slugs = values.all ? (await tenantRows(orm)).map((r) => r.slug) : [arg!]
        if (!values.all && !(await tenantRows(orm)).some((r) => r.slug === arg)) {
          return fail(io, `tenant ${arg} is not provisioned: run tenant create ${arg}`)
        }
        // the embedded PGlite is one session: its tenants migrate one at a time
        const results = await migrateTenants(orm, slugs, io.out, config.database.kind === 'postgres' ? 4 : 1)
        const failures = results.filter((r) => r.error)
        const applied = results.filter((r) => r.applied.length > 0).length
        io.out(
          `${results.length} tenant(s): ${applied} migrated, ${results.length - applied - failures.length} up to date, ${failures.length} failed`,
        )
        if (failures.length > 0) {
          io.err(`failed: ${failures.map((f) => schemaFor(f.slug)).join(', ')}`)
          return 1
        }
        return 0
      }
      case 'tenant disable':
      case 'tenant enable': {
        const status = command === 'disable' ? 'disabled' : 'active'
        if (!(await setTenantStatus(orm, arg!, status))) return fail(io, `tenant ${arg} is not provisioned`)
        io.out(`${arg}: ${status} (running servers notice within seconds)`)
        return 0
      }
      case 'tenant export':
        return await exportArchive(orm, config, arg!, values.out, io)
      case 'tenant import':
        return await importArchive(orm, arg!, archive!, io)
      case 'account invite':
        return await inviteAccount(orm, config, arg!, values, io)
      default: {
        const configs = loadTenantConfigs(config.tenantsDir)
        const reports = await seedDemoTenants(orm, configs, config)
        for (const r of reports)
          io.out(`${r.slug}: ${r.seeded ? 'demo data added' : 'already has data, left as is'}`)
        return 0
      }
    }
  } finally {
    if (!openedOrm) await orm.close()
  }
}

/** `tenant config export|import <slug> …`: the configuration as YAML, for operators. */
async function configCommand(
  config: Config,
  [action, slug, file]: string[],
  values: { out?: string; comment?: string },
  io: CliIo,
  openedOrm?: Orm,
): Promise<number> {
  if (action !== 'export' && action !== 'import')
    return fail(io, `tenant config takes export or import\n\n${usage}`)
  if (!slug || !slugPattern.test(slug)) return fail(io, `tenant config ${action} needs a tenant slug`)
  if (action === 'import' && !file)
    return fail(io, 'tenant config import needs the YAML file: tenant config import <slug> <file>')
  const orm = openedOrm ?? (await openOrm(config.database, { entities: allEntities, poolSize: 2 }))
  try {
    await migratePlatform(orm)
    if (action === 'export') {
      const served = await servedSource(orm, slug)
      if (!served) return fail(io, `tenant ${slug} is not provisioned`)
      if (!values.out) {
        io.out(served.source.replace(/\n$/, ''))
        return 0
      }
      writeFileSync(values.out, served.source)
      io.out(`${slug}: version ${served.number} written to ${values.out}`)
      return 0
    }
    let source: string
    try {
      source = readFileSync(file!, 'utf8')
    } catch (error) {
      return fail(io, `${file}: cannot be read (${(error as Error).message})`)
    }
    const comment = values.comment?.trim() || `Imported from ${basename(file!)}`
    const result = await importConfig(orm, config.tenantsDir, slug, source, comment)
    if ('missing' in result) return fail(io, `tenant ${slug} is not provisioned`)
    if ('conflict' in result)
      return fail(io, `version ${result.conflict} was published meanwhile: nothing published, try again`)
    if ('problems' in result)
      return fail(io, `nothing published:\n${result.problems.map(formatProblem).join('\n')}`)
    io.out(`${slug}: version ${result.published} published (running servers serve it within seconds)`)
    return 0
  } finally {
    if (!openedOrm) await orm.close()
  }
}

function fail(io: CliIo, message: string): number {
  io.err(message)
  return 1
}

async function list(orm: Orm, io: CliIo): Promise<number> {
  const rows = await tenantRows(orm)
  if (rows.length === 0) io.out('no tenant provisioned yet: tenant create <slug>')
  for (const row of rows) {
    const pending = await pendingMigrations(orm, 'tenant', schemaFor(row.slug))
    io.out(
      [
        row.slug.padEnd(24),
        row.status.padEnd(9),
        schemaFor(row.slug).padEnd(32),
        `${pending.length} pending`,
        row.name,
      ].join(' '),
    )
  }
  return 0
}

async function create(orm: Orm, config: Config, slug: string, io: CliIo): Promise<number> {
  const tenantConfig = loadTenantConfigs(config.tenantsDir).find((c) => c.slug === slug)
  if (!tenantConfig) {
    return fail(
      io,
      `${config.tenantsDir}/${slug}.yaml not found: write the tenant's file first (see config/README.md)`,
    )
  }
  const applied = await createTenant(orm, tenantConfig)
  io.out(
    `${slug}: provisioned in schema ${schemaFor(slug)}${applied.length ? `, applied ${applied.join(', ')}` : ', already up to date'}`,
  )
  return 0
}

async function exportArchive(
  orm: Orm,
  config: Config,
  slug: string,
  out: string | undefined,
  io: CliIo,
): Promise<number> {
  if (!(await tenantRows(orm)).some((r) => r.slug === slug))
    return fail(io, `tenant ${slug} is not provisioned`)
  const file = out ?? `tenant-${slug}-${new Date().toISOString().slice(0, 19).replace(/[-:]/g, '')}.jsonl.gz`
  // the published configuration, which the portal's admins may have changed since the file
  const served = await servedSource(orm, slug)
  const tenantFile = join(config.tenantsDir, `${slug}.yaml`)
  const tenantText = served?.source ?? (existsSync(tenantFile) ? readFileSync(tenantFile, 'utf8') : null)
  let counts: Record<string, number>
  try {
    counts = await exportTenant(orm, slug, file, tenantText)
  } catch (error) {
    return fail(io, `nothing exported: ${(error as Error).message}`)
  }
  const rows = Object.values(counts).reduce((a, b) => a + b, 0)
  io.out(`${slug}: ${rows} rows of ${Object.keys(counts).length} tables written to ${file}`)
  if (tenantText === null) io.err(`warning: ${tenantFile} not found: the archive holds no tenant file`)
  return 0
}

async function importArchive(orm: Orm, slug: string, file: string, io: CliIo): Promise<number> {
  if (!(await tenantRows(orm)).some((r) => r.slug === slug))
    return fail(
      io,
      `tenant ${slug} is not provisioned: write its tenant file and run tenant create ${slug} first`,
    )
  try {
    const header = await readArchiveHeader(file)
    const counts = await importTenant(orm, slug, file)
    const rows = Object.values(counts).reduce((a, b) => a + b, 0)
    io.out(
      `${slug}: ${rows} rows imported from ${file} (tenant ${header.slug}, exported ${header.exportedAt})`,
    )
    return 0
  } catch (error) {
    if (error instanceof ArchiveError) return fail(io, `nothing imported: ${error.message}`)
    throw error
  }
}

/** The archived tenant file under the new slug; its hosts stay for the operator to review. */
async function writeArchivedConfig(slug: string, file: string, path: string, io: CliIo): Promise<number> {
  if (existsSync(path)) return fail(io, `${path} already exists: nothing written`)
  try {
    const header = await readArchiveHeader(file)
    if (header.config === null) return fail(io, `${file} holds no tenant file`)
    const document = parseDocument(header.config)
    document.set('slug', slug)
    writeFileSync(path, String(document))
    io.out(`wrote ${path} (tenant file of ${header.slug}): review its hosts, then run tenant create ${slug}`)
    return 0
  } catch (error) {
    if (error instanceof ArchiveError) return fail(io, error.message)
    throw error
  }
}

async function inviteAccount(
  orm: Orm,
  config: Config,
  slug: string,
  values: { role?: string; identifiant?: string; email?: string; name?: string },
  io: CliIo,
): Promise<number> {
  const tenant = loadTenantConfigs(config.tenantsDir).find((c) => c.slug === slug)
  if (!tenant || !(await tenantRows(orm)).some((r) => r.slug === slug))
    return fail(io, `tenant ${slug} is not provisioned`)
  const role = values.role as Role | undefined
  if (!role || !Object.values(Role).includes(role))
    return fail(io, '--role must be family, teacher, secretariat, direction or admin')
  if (!values.identifiant || !values.email || !values.name)
    return fail(io, '--identifiant, --email and --name are required')
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(values.email))
    return fail(io, `--email: "${values.email}" is not an e-mail address`)
  const invited = await invite(
    orm.em.fork({ schema: schemaFor(slug) }),
    { config: tenant, locale: tenant.locale, baseUrl: tenantBaseUrl(config, tenant) },
    { role, identifiant: values.identifiant, email: values.email, displayName: values.name },
  )
  if (invited.errors) {
    return fail(
      io,
      Object.entries(invited.errors)
        .map(([field, message]) => `--${field}: ${message}`)
        .join('\n'),
    )
  }
  const account = invited.values!
  io.out(
    `${slug}: ${account.identifiant} (${role}) invited; the activation link was mailed to ${account.email}`,
  )
  return 0
}
