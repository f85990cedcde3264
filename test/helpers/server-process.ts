import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { type IncomingHttpHeaders, request } from 'node:http'
import { type AddressInfo, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import { stringify } from 'yaml'
import { buildApp } from '../../src/app.ts'
import { allEntities } from '../../src/entities.ts'
import type { Config } from '../../src/platform/config.ts'
import { type Orm, openOrm } from '../../src/platform/db/orm.ts'
import { TenantRow } from '../../src/platform/tenancy/entities.ts'
import { createTenant, migratePlatform } from '../../src/platform/tenancy/provisioning.ts'
import { schemaFor } from '../../src/platform/tenancy/registry.ts'
import { tenantYaml, testConfig, uniqueSlug } from './build.ts'

interface Teardown {
  teardown(fn: () => unknown): void
}

const root = fileURLToPath(new URL('../../', import.meta.url))

/** A production setup on disk (a PGlite directory, or DATABASE_URL's Postgres) for a server process. */
export interface Prepared {
  config: Config
  slug: string
  /** Host header of the tenant: `<slug>.localhost`. */
  host: string
}

/**
 * One fresh tenant, migrated, with what `seed` puts in it, in a database a server process can
 * open: the app that prepared it is closed (PGlite allows one process at a time). The tenant's
 * schema is dropped afterwards.
 */
export async function prepareServer<T>(
  t: Teardown,
  seed: (app: FastifyInstance, slug: string) => Promise<T>,
): Promise<Prepared & { seeded: T }> {
  const dir = mkdtempSync(join(tmpdir(), 'tutti-process-'))
  const tenantsDir = join(dir, 'tenants')
  const slug = uniqueSlug()
  mkdirSync(tenantsDir)
  writeFileSync(join(tenantsDir, `${slug}.yaml`), stringify(tenantYaml(slug)))
  // production as the server runs it: its cookie names, no demo seeding at boot
  const config = testConfig(tenantsDir, join(dir, 'data'), { NODE_ENV: 'production' })
  const prepared: Prepared = { config, slug, host: `${slug}.localhost` }
  t.teardown(async () => {
    if (config.database.kind === 'postgres') {
      await withOrm(prepared, async (orm) => {
        const em = orm.em.fork()
        await em.nativeDelete(TenantRow, { slug })
        await em.execute(`drop schema if exists "${schemaFor(slug)}" cascade`)
      })
    }
    rmSync(dir, { recursive: true, force: true })
  })
  const app = await buildApp(config)
  try {
    await migratePlatform(app.orm)
    await createTenant(app.orm, app.registry.get(slug)!.config)
    await app.ready()
    return { ...prepared, seeded: await seed(app, slug) }
  } finally {
    await app.close()
  }
}

/** The prepared database, opened for a while (once the server process has exited, with PGlite). */
export async function withOrm<T>(prepared: Prepared, fn: (orm: Orm) => Promise<T>): Promise<T> {
  const orm = await openOrm(prepared.config.database, { entities: allEntities })
  try {
    return await fn(orm)
  } finally {
    await orm.close()
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })
}

export interface ServerProcess {
  child: ChildProcess
  port: number
  /** The JSON log lines written so far (warnings and errors, unless LOG_LEVEL is given). */
  logs: Record<string, unknown>[]
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** `node src/main.ts` as `npm start` runs it, on the prepared database, ready (/readyz answered 200). */
export async function startServer(t: Teardown, prepared: Prepared, env: NodeJS.ProcessEnv = {}) {
  const port = await freePort()
  const { config } = prepared
  const child = spawn(process.execPath, ['--experimental-async-context-frame', 'src/main.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      PLATFORM_DOMAIN: 'localhost',
      SESSION_SECRET: config.sessionSecret,
      BILLING_KEY: config.billingKey.toString('base64'),
      TENANTS_DIR: config.tenantsDir,
      DATA_DIR: config.dataDir,
      ...(config.database.kind === 'postgres' ? { DATABASE_URL: config.database.url } : {}),
      // warnings and errors only: a line per request would cost the load test more than the page
      LOG_LEVEL: 'warn',
      // several servers run at once: none takes the fixed metrics port unless a test asks
      METRICS_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const logs: Record<string, unknown>[] = []
  let output = ''
  let pending = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8')
    const lines = pending.split('\n')
    pending = lines.pop()!
    for (const line of lines) {
      output += `${line}\n`
      try {
        logs.push(JSON.parse(line))
      } catch {
        // not a log line
      }
    }
  })
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8')
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  let done = false
  void exited.then(() => {
    done = true
  })
  t.teardown(async () => {
    if (!done) {
      child.kill('SIGKILL')
      await exited
    }
  })
  const server: ServerProcess = { child, port, logs, exited }
  const deadline = Date.now() + 30_000
  while (true) {
    if (done || Date.now() > deadline) throw new Error(`the server did not start:\n${output}`)
    const ready = await get(server, '/readyz', 'localhost').catch(() => undefined)
    if (ready?.status === 200) return server
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

export interface Response {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

export interface RequestOptions {
  method?: string
  path: string
  host: string
  cookie?: string
  /** A form's fields, sent urlencoded. */
  form?: Record<string, string>
}

/** One request on a connection of its own, as a browser arriving after the signal would send it. */
export function send(server: ServerProcess, options: RequestOptions): Promise<Response> {
  const body = options.form ? new URLSearchParams(options.form).toString() : undefined
  const headers: Record<string, string | number> = { host: options.host }
  if (options.cookie) headers.cookie = options.cookie
  if (body !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded'
    headers['content-length'] = Buffer.byteLength(body)
  }
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        method: options.method ?? 'GET',
        path: options.path,
        headers,
        agent: false,
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        )
        res.on('error', reject)
      },
    )
    req.on('timeout', () => req.destroy(new Error(`${options.method ?? 'GET'} ${options.path} timed out`)))
    req.on('error', reject)
    req.end(body)
  })
}

export function get(server: ServerProcess, path: string, host: string, cookie?: string): Promise<Response> {
  return send(server, { path, host, cookie })
}

/** `name=value` of each cookie a response sets, for the next request's Cookie header. */
export function cookiesOf(res: Response): string {
  return (res.headers['set-cookie'] ?? []).map((cookie) => cookie.split(';')[0]).join('; ')
}

/** The log lines at level error (50) or above. */
export function errorsIn(server: ServerProcess): Record<string, unknown>[] {
  return server.logs.filter((line) => typeof line.level === 'number' && line.level >= 50)
}
