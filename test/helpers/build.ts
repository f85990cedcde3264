import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { parse } from 'node-html-parser'
import { stringify } from 'yaml'
import { buildApp } from '../../src/app.ts'
import { type Config, loadConfig } from '../../src/platform/config.ts'
import { spareSchemas, takeSpareSchema, pgliteTemplate } from './pglite-template.ts'
import { TenantRow } from '../../src/platform/tenancy/entities.ts'
import { createTenant, migratePlatform } from '../../src/platform/tenancy/provisioning.ts'
import { schemaFor } from '../../src/platform/tenancy/registry.ts'
import type { TenantConfig } from '../../src/platform/tenancy/tenant-config.ts'

interface Teardown {
  teardown(fn: () => unknown): void
}

/** A slug no other test uses, so tests can run in parallel on one Postgres. */
export function uniqueSlug(prefix = 't'): string {
  return `${prefix}${randomBytes(5).toString('hex')}`
}

/** A minimal valid tenant file's content; tests override what they exercise. */
export function tenantYaml(slug: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    slug,
    name: `Conservatoire ${slug}`,
    contact: { email: `contact@${slug}.example.fr` },
    establishments: [{ code: 'centre', name: 'Site du centre' }],
    ...overrides,
  }
}

/** Test configuration: real Postgres when DATABASE_URL is set, an in-memory PGlite otherwise. */
export function testConfig(tenantsDir: string, dataDir: string, env: NodeJS.ProcessEnv = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    PLATFORM_DOMAIN: 'localhost',
    PUBLIC_URL: 'http://localhost',
    SESSION_SECRET: 'test-secret-test-secret-test-secret-0123',
    BILLING_KEY: '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    TENANTS_DIR: tenantsDir,
    DATA_DIR: dataDir,
    DATABASE_URL: process.env.DATABASE_URL,
    ...env,
  })
}

/** With PGlite, an in-memory database started from the migrated template (pglite-template.ts). */
export async function memoryDatabase(config: Config): Promise<Config> {
  return config.database.kind === 'pglite'
    ? { ...config, database: { kind: 'pglite', dataDir: 'memory://', from: await pgliteTemplate() } }
    : config
}

export interface TestApp {
  app: FastifyInstance
  config: Config
  tenants: TenantConfig[]
  /** Host header of the i-th tenant: `<slug>.localhost`. */
  host(i?: number): string
}

/**
 * An app over fresh tenants of its own (their schemas dropped afterwards). `tenants` lists the
 * overrides of each tenant file; a string entry is written as is (for tests of bad files).
 */
export async function build(
  t: Teardown,
  options: {
    tenants?: Record<string, unknown>[]
    provision?: boolean
    env?: NodeJS.ProcessEnv
    /** Extra routes a test needs (registered before the app is ready). */
    plugin?: (app: FastifyInstance) => Promise<void>
    logStream?: NodeJS.WritableStream
  } = {},
): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'tutti-test-'))
  const tenantsDir = join(dir, 'tenants')
  const specs = (options.tenants ?? [{}]).map((overrides) => tenantYaml(uniqueSlug(), overrides))
  mkdirSync(tenantsDir)
  for (const spec of specs) writeFileSync(join(tenantsDir, `${spec.slug}.yaml`), stringify(spec))
  const config = await memoryDatabase(testConfig(tenantsDir, join(dir, 'data'), options.env))
  const app = await buildApp(config, { logStream: options.logStream })
  t.teardown(async () => {
    if (config.database.kind === 'postgres') {
      const em = app.orm.em.fork()
      await em.nativeDelete(TenantRow, { slug: { $in: specs.map((s) => s.slug as string) } })
      for (const spec of specs)
        await em.execute(`drop schema if exists "${schemaFor(spec.slug as string)}" cascade`)
    }
    await app.close()
    rmSync(dir, { recursive: true, force: true })
  })
  await migratePlatform(app.orm)
  const tenants = app.registry.list().map((tenant) => tenant.config)
  if (options.provision !== false)
    for (const [i, tenant] of tenants.entries()) {
      if (config.database.kind === 'pglite' && i < spareSchemas.length)
        await takeSpareSchema(app.orm, i, schemaFor(tenant.slug))
      await createTenant(app.orm, tenant)
    }
  if (options.plugin) await app.register(options.plugin)
  await app.ready()
  return {
    app,
    config,
    tenants: specs.map((spec) => tenants.find((c) => c.slug === spec.slug)!),
    host: (i = 0) => `${specs[i]!.slug}.localhost`,
  }
}

/** Parses a page as a browser would, to assert what a person sees. */
export const html = parse
