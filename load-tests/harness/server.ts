import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { createWriteStream, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { Agent, type IncomingHttpHeaders, type OutgoingHttpHeaders, request } from 'node:http'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import type { QueryCounts } from './count-queries.ts'

/** Every process the harness started, so a failure or Ctrl-C still stops them. */
export const running = new Set<ChildProcess>()

/**
 * Children are spawned `detached`, in a process group of their own: a signal to the group also
 * reaches what they started themselves (npm's shell and node).
 */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal)
  } catch {
    child.kill(signal)
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      )
    })
  })
}

export interface Response {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 })

export interface SendOptions {
  method?: string
  path: string
  host: string
  headers?: Record<string, string>
  body?: string
  timeoutMs?: number
}

/** One request on loopback with a chosen Host header, one at a time over a keep-alive socket. */
export function send(port: number, options: SendOptions): Promise<Response> {
  const { path, body } = options
  const headers: OutgoingHttpHeaders = { ...options.headers, host: options.host }
  if (body !== undefined) headers['content-length'] = Buffer.byteLength(body)
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path,
        headers,
        agent,
        timeout: options.timeoutMs ?? 5_000,
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
    req.on('timeout', () => req.destroy(new Error(`${options.method ?? 'GET'} ${path} timed out`)))
    req.on('error', reject)
    req.end(body)
  })
}

/** One GET on loopback with a chosen Host header. */
export function get(port: number, path: string, host: string, timeoutMs = 5_000): Promise<Response> {
  return send(port, { path, host, timeoutMs })
}

/** VmRSS (now) and VmHWM (peak) of a process, in bytes. */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN)
  return { rss: kb('VmRSS') * 1024, peak: kb('VmHWM') * 1024 }
}

let ticksPerSecond: number | undefined

/** CPU time (user + system) in ms of a /proc/…/stat file: a process' (all its threads) or one thread's. */
function cpuTimeIn(statFile: string): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  // the command name, field 2, is in parentheses and may hold spaces: count fields after its ')'
  const stat = readFileSync(statFile, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const [utime, stime] = [Number(fields[11]), Number(fields[12])]
  return ((utime + stime) * 1000) / ticksPerSecond
}

/** CPU time (user + system) a process has used so far, in ms; to tell its cost from the machine's noise. */
export function cpuTimeOf(pid: number): number {
  return cpuTimeIn(`/proc/${pid}/stat`)
}

/** CPU time the whole machine has spent busy so far (every core, every process), in ms, from /proc/stat. */
export function machineCpuMs(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  // cpu  user nice system idle iowait irq softirq steal …
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n', 1)[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number)
  const busy = [user, nice, system, irq, softirq, steal].reduce<number>((a, b) => a + (b ?? 0), 0)
  return (busy * 1000) / ticksPerSecond
}

/**
 * Waits until a process is idle: at most one clock tick (10 ms) of CPU in each of three 100 ms
 * windows in a row, or `maxMs` at the most. A load generator that stops leaves requests in flight,
 * which the server still answers: their CPU belongs to the run that sent them, not to the next one.
 */
export async function settled(pid: number, maxMs = 30_000): Promise<void> {
  const end = performance.now() + maxMs
  let quiet = 0
  let last = cpuTimeOf(pid)
  while (quiet < 3 && performance.now() < end) {
    await sleep(100)
    const now = cpuTimeOf(pid)
    quiet = now - last <= 10 ? quiet + 1 : 0
    last = now
  }
}

export interface ThreadCpu {
  /** The whole process, as cpuTimeOf. */
  total: number
  /** The main thread: JavaScript, the event loop, HTTP parsing, templates, the database driver. */
  main: number
  /** libuv's pool (threads named libuv-worker): file system, and native work such as argon2 hashing. */
  pool: number
}

/** cpuTimeOf split by thread, in ms; the rest of total is V8's helpers (GC, compiler) and exited threads. */
export function threadCpuOf(pid: number): ThreadCpu {
  let main = 0
  let pool = 0
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const ms = cpuTimeIn(`/proc/${pid}/task/${tid}/stat`)
      if (Number(tid) === pid) main += ms
      else if (readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() === 'libuv-worker') pool += ms
    } catch {
      // the thread exited meanwhile
    }
  }
  return { total: cpuTimeOf(pid), main, pool }
}

export interface Server {
  child: ChildProcess
  port: number
  /** From spawn to the first 200 of GET /readyz. */
  bootMs: number
  stop(): Promise<void>
}

export interface ServerOptions {
  root: string
  env: NodeJS.ProcessEnv
  port: number
  logFile: string
  bootTimeoutMs: number
  /** What node runs, from root: the production server unless said (the pages scenario's floor). */
  script?: string
  /** Polled until it answers 200 (default /readyz). */
  readyPath?: string
}

/** Spawns `node src/main.ts` (or `script`) and polls /readyz (or `readyPath`) until it answers 200. */
export async function startServer(options: ServerOptions): Promise<Server> {
  const log = createWriteStream(options.logFile, { flags: 'a' })
  const start = performance.now()
  const child = spawn(process.execPath, [options.script ?? 'src/main.ts'], {
    cwd: options.root,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  running.add(child)
  child.stdout?.pipe(log)
  child.stderr?.pipe(log)
  let exited: string | undefined
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = `exited with ${signal ?? code}`
      running.delete(child)
      resolve()
    }),
  )
  const stop = async () => {
    if (exited === undefined) {
      killGroup(child, 'SIGTERM')
      const killer = setTimeout(() => killGroup(child, 'SIGKILL'), 15_000)
      await exit
      clearTimeout(killer)
    }
    log.end()
  }

  while (true) {
    if (exited !== undefined) throw new Error(`server ${exited} before being ready (see ${options.logFile})`)
    if (performance.now() - start > options.bootTimeoutMs) {
      await stop()
      throw new Error(`server not ready after ${options.bootTimeoutMs} ms (see ${options.logFile})`)
    }
    try {
      const res = await get(options.port, options.readyPath ?? '/readyz', `127.0.0.1:${options.port}`, 1_000)
      if (res.status === 200) break
    } catch {
      // not listening yet
    }
    await sleep(10)
  }
  return { child, port: options.port, bootMs: performance.now() - start, stop }
}

/**
 * The environment that preloads harness/count-queries.ts into a server: the statements it sends to
 * Postgres, counted by request, written to `file` when it exits. `nodeOptions` go to NODE_OPTIONS too.
 */
export function countQueriesEnv(root: string, file: string, nodeOptions: string[] = []): NodeJS.ProcessEnv {
  const preload = `--import=${join(root, 'load-tests/harness/count-queries.ts')}`
  return { NODE_OPTIONS: [...startFlags(root), preload, ...nodeOptions].join(' '), BENCH_QUERY_COUNT: file }
}

/**
 * The Node flags `npm start` runs the server with (package.json's start script), so that the
 * benchmarked server is the one operators run. count-queries.ts needs --experimental-async-context-frame,
 * which they include.
 */
export function startFlags(root: string): string[] {
  const { scripts } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    scripts: { start: string }
  }
  const words = scripts.start.split(/\s+/)
  return words.slice(words.indexOf('node') + 1, words.indexOf('src/main.ts'))
}

/** The counts count-queries.ts wrote when the server exited, the harness' readiness polls left out. */
export function readQueryCounts(file: string): QueryCounts['byRequest'] {
  const { byRequest } = JSON.parse(readFileSync(file, 'utf8')) as QueryCounts
  delete byRequest['GET /readyz']
  return byRequest
}

/** Closes the keep-alive sockets of the checks, so nothing keeps the harness alive. */
export function closeAgent(): void {
  agent.destroy()
}

/**
 * Resets a process' peak RSS (VmHWM) to its current RSS, as Linux allows the process' owner
 * (`echo 5 > /proc/<pid>/clear_refs`): so a later peak belongs to what ran after. False when the
 * kernel refused, and the peak still counts from the start of the process.
 */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
    return true
  } catch {
    return false
  }
}

export interface PostgresCpu {
  /** The backends connected to the database (and its autovacuum workers), in ms. */
  backends: number
  /** The postmaster, checkpointer, background writer and WAL writer, shared with every other database. */
  background: number
}

const background = /: (checkpointer|background writer|walwriter|autovacuum launcher)\b|\/bin\/postgres\b/

/**
 * CPU time of the local Postgres processes from now on, split into the backends of one database and
 * the shared background processes. Sampled every second from /proc: a backend that exits before the
 * end keeps what it used until its last sample; one that starts later counts from zero.
 */
export function postgresCpuWatch(database: string, everyMs = 1_000): () => PostgresCpu {
  const kinds = new Map<number, 'backends' | 'background' | 'other'>()
  const cpu = new Map<number, { first: number; last: number }>()
  const scan = (initial: boolean) => {
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue
      const pid = Number(name)
      try {
        let kind = kinds.get(pid)
        if (!kind) {
          const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
          kind = !title.includes('postgres')
            ? 'other'
            : title.includes(` ${database} `)
              ? 'backends'
              : background.test(title)
                ? 'background'
                : 'other'
          kinds.set(pid, kind)
        }
        if (kind === 'other') continue
        const ms = cpuTimeOf(pid)
        const known = cpu.get(pid)
        if (known) known.last = ms
        else cpu.set(pid, { first: initial ? ms : 0, last: ms })
      } catch {
        // the process exited meanwhile
      }
    }
  }
  scan(true)
  const timer = setInterval(() => scan(false), everyMs)
  return () => {
    clearInterval(timer)
    scan(false)
    const totals: PostgresCpu = { backends: 0, background: 0 }
    for (const [pid, { first, last }] of cpu) totals[kinds.get(pid) as keyof PostgresCpu] += last - first
    return totals
  }
}
