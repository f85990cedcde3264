import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir, totalmem } from 'node:os'
import { basename, delimiter, join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { dropDatabase, serverVersion } from './postgres.ts'
import { closeAgent, killGroup, machineCpuMs, running } from './server.ts'
import { round } from './stats.ts'

/** The repository root, where the server and the CLI are started from. */
export const root = resolve(import.meta.dirname, '../..')

export const print = (line = '') => process.stdout.write(`${line}\n`)

/**
 * An option given as an argument or an environment variable: an integer of at least `min` (1 unless
 * said), or the default.
 */
export function integer(
  name: string,
  arg: string | undefined,
  env: string | undefined,
  fallback: number,
  min = 1,
): number {
  const raw = arg ?? env
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min)
    throw new Error(
      `${name} must be ${min === 1 ? 'a positive integer' : `an integer of at least ${min}`} (got ${raw})`,
    )
  return value
}

export interface ProductionEnvOptions {
  databaseUrl: string
  tenantsDir: string
  dataDir: string
  port?: number
}

/** The environment of the spawned processes: the production settings, nothing inherited but PATH and HOME. */
export function productionEnv(options: ProductionEnvOptions): NodeJS.ProcessEnv {
  return {
    PATH: [join(root, 'node_modules/.bin'), process.env.PATH].join(delimiter),
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    SESSION_SECRET: randomBytes(32).toString('base64url'),
    DATABASE_URL: options.databaseUrl,
    TENANTS_DIR: options.tenantsDir,
    DATA_DIR: options.dataDir,
    PLATFORM_DOMAIN: 'localhost',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    // the load generator plays the ingress: it says who each client is through X-Forwarded-For
    TRUST_PROXY: '127.0.0.1',
    // no load balancer to drain: a server stopped between runs exits without the production grace
    SHUTDOWN_GRACE_SECONDS: '0',
    // two servers may run side by side: neither takes the fixed metrics port
    METRICS_PORT: '0',
    ...(options.port ? { PORT: String(options.port) } : {}),
  }
}

/** 1, 5 and 15 minutes. */
export function loadAverage(): number[] {
  return loadavg().map((v) => round(v, 2))
}

export function cpuModel(): string {
  return /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown'
}

export interface Machine {
  cpus: number
  cpuModel: string
  memoryGiB: number
  node: string
  postgres: string
  loadAverageAtStart: number[]
}

export function describeMachine(pgUrl: string): Machine {
  return {
    cpus: availableParallelism(),
    cpuModel: cpuModel(),
    memoryGiB: round(totalmem() / 1024 ** 3, 1),
    node: process.version,
    postgres: serverVersion(pgUrl),
    loadAverageAtStart: loadAverage(),
  }
}

export interface Scratch {
  /** A fresh temporary directory. */
  dir: string
  /** Kills every spawned process, drops the databases, removes the directory; once, also on Ctrl-C. */
  cleanup(): Promise<void>
}

/**
 * What a run leaves behind and must remove: its temporary directory and its databases. SIGINT and
 * SIGTERM clean up too, then exit 130.
 */
export function scratch(pgUrl: string, databases: string[], prefix: string): Scratch {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  let cleaned = false
  async function cleanup(): Promise<void> {
    if (cleaned) return
    cleaned = true
    for (const child of running) killGroup(child, 'SIGKILL')
    closeAgent()
    for (const name of databases) {
      try {
        dropDatabase(pgUrl, name)
      } catch (error) {
        process.stderr.write(`could not drop database ${name}: ${(error as Error).message}\n`)
      }
    }
    // retried: a log stream of a server that died early may still be creating its file
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 })
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: cleaning up\n`)
      void cleanup().finally(() => process.exit(130))
    })
  }
  return { dir, cleanup }
}

/**
 * Runs a benchmark in its scratch space: on failure, the error and the last lines of each of its
 * logs that exists, and exit code 2; the scratch space is removed in every case.
 */
export async function runInScratch(
  work: Scratch,
  logs: string[],
  run: () => Promise<number>,
): Promise<number> {
  try {
    return await run()
  } catch (error) {
    process.stderr.write(`benchmark failed: ${(error as Error).stack ?? error}\n`)
    for (const log of logs) {
      try {
        const text = readFileSync(log, 'utf8').trim()
        if (text)
          process.stderr.write(
            `--- ${basename(log)} (last lines)\n${text.split('\n').slice(-20).join('\n')}\n`,
          )
      } catch {
        // this log was never written
      }
    }
    return 2
  } finally {
    await work.cleanup()
  }
}

/** Where the machine's CPU went over a stretch of time, in ms: to tell a measure from the noise of other work. */
export interface CpuShare {
  wallMs: number
  /** Every process on the machine. */
  machineMs: number
  /** This process (the harness: argon2 calls or the load generator). */
  harnessMs: number
}

/** Starts watching; the function returned gives the share since then. */
export function cpuWatch(): () => CpuShare {
  const machine = machineCpuMs()
  const harness = process.cpuUsage()
  const start = performance.now()
  return () => {
    const own = process.cpuUsage(harness)
    return {
      wallMs: performance.now() - start,
      machineMs: machineCpuMs() - machine,
      harnessMs: (own.user + own.system) / 1000,
    }
  }
}

/** Average cores busy over the stretch. */
export const cores = (cpuMs: number, wallMs: number) => round(cpuMs / wallMs, 2)
