import autocannon, { type Request, type Result } from 'autocannon'
import { type CpuShare, cpuWatch } from './common.ts'
import { round, type Summary, summarize } from './stats.ts'
import { cpuTimeOf, get, settled } from './server.ts'
import type { BenchTenant } from './tenants.ts'

export interface LoadOptions {
  port: number
  /** The server's process, whose CPU time is read before and after the run. */
  pid: number
  hosts: string[]
  connections: number
  durationS: number
}

export interface LoadFigures {
  connections: number
  durationS: number
  hosts: number
  requests: number
  /** Completed responses per second over the run. */
  reqPerSec: number
  /** Latencies measured from autocannon's own per-response timings (float ms, not its integer histogram). */
  latencyMs: Summary
  non2xx: number
  errors: number
  timeouts: number
  statusCodes: Record<string, number>
  /** Distinct Host headers actually sent. */
  hostsHit: number
  /** CPU time the server process used during the run (user + system). */
  serverCpuMs: number
  /**
   * serverCpuMs per response (per request sent, for pageLoad): the cost of a page, much less
   * sensitive than latency to a busy machine.
   */
  serverCpuUsPerRequest: number
}

export interface LoadRun {
  figures: LoadFigures
  /** Every 2xx latency in ms, kept to merge rounds; not written to the results. */
  latencies: number[]
  hostsSent: Set<string>
}

export interface PageRun extends LoadRun {
  /** Where the machine's CPU went during the run itself, the server's settling left out. */
  share: CpuShare
}

/**
 * One autocannon run on GET / whose Host header rotates over the given hosts, one request after
 * the other across all connections: with one host it is the same code path, so 1 and N compare.
 */
export async function homeLoad(options: LoadOptions): Promise<LoadRun> {
  const { hosts } = options
  let next = 0
  const sent = new Set<string>()
  return run(options, hosts.length, sent, {
    method: 'GET',
    path: '/',
    setupRequest: (request) => {
      const host = hosts[next++ % hosts.length]!
      sent.add(host)
      return { ...request, headers: { ...request.headers, host, 'accept-language': 'fr' } }
    },
  })
}

export interface PageLoadOptions {
  port: number
  /** The server's process, whose CPU time is read before and after the run. */
  pid: number
  path: string
  host: string
  /** A signed-in browser's cookies, `name=value; …`. */
  cookie?: string
  connections: number
  durationS: number
}

/**
 * One autocannon run on one page, every request the same: its Host, its cookies. The server's CPU
 * is read once it is idle, before the run and after it: the requests still in flight when
 * autocannon stops are served all the same, so it is divided by the requests sent, not the answers.
 * A slow page (a few answers in the run) would otherwise show several times its cost.
 */
export function pageLoad(options: PageLoadOptions): Promise<PageRun> {
  const headers: Record<string, string> = { host: options.host, 'accept-language': 'fr' }
  if (options.cookie) headers.cookie = options.cookie
  return run(options, 1, new Set([options.host]), { method: 'GET', path: options.path, headers }, true)
}

/** Runs autocannon with one request shape; the server's CPU time is read around the run. */
async function run(
  options: { port: number; pid: number; connections: number; durationS: number },
  hosts: number,
  sent: Set<string>,
  request: Request,
  settle = false,
): Promise<PageRun> {
  if (settle) await settled(options.pid)
  const cpuBefore = cpuTimeOf(options.pid)
  const watch = cpuWatch()
  const instance = autocannon({
    url: `http://127.0.0.1:${options.port}`,
    connections: options.connections,
    duration: options.durationS,
    pipelining: 1,
    timeout: 10,
    requests: [request],
  })
  const latencies: number[] = []
  instance.on('response', (_client: unknown, status: number, _bytes: number, responseTimeMs: number) => {
    if (status >= 200 && status < 300) latencies.push(responseTimeMs)
  })
  const result: Result = await instance
  const share = watch()
  if (settle) await settled(options.pid)
  const serverCpuMs = cpuTimeOf(options.pid) - cpuBefore
  const figures = loadFigures(result, latencies, serverCpuMs, {
    connections: options.connections,
    hosts,
    hostsHit: sent.size,
  })
  return {
    figures: settle
      ? { ...figures, serverCpuUsPerRequest: round((serverCpuMs * 1000) / result.requests.sent, 1) }
      : figures,
    latencies,
    hostsSent: sent,
    share,
  }
}

/** The figures of one autocannon run: what it sent, how fast, and what it cost the server. */
export function loadFigures(
  result: Result,
  latencies: number[],
  serverCpuMs: number,
  shape: { connections: number; hosts: number; hostsHit: number },
): LoadFigures {
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([k, v]) => [k, v.count]))
  const completed = Object.values(statusCodes).reduce((a, b) => a + b, 0)
  return {
    connections: shape.connections,
    durationS: result.duration,
    hosts: shape.hosts,
    requests: completed,
    reqPerSec: round(completed / result.duration, 1),
    latencyMs: summarize(latencies),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    hostsHit: shape.hostsHit,
    serverCpuMs,
    serverCpuUsPerRequest: round((serverCpuMs * 1000) / completed, 1),
  }
}

/** Several runs on the same server as one: counts added, latencies pooled, rate over the summed time. */
export function mergeRuns(runs: LoadRun[]): LoadFigures {
  const first = runs[0]
  if (!first) throw new Error('no load run to merge')
  const durationS = runs.reduce((a, r) => a + r.figures.durationS, 0)
  const requests = runs.reduce((a, r) => a + r.figures.requests, 0)
  const serverCpuMs = runs.reduce((a, r) => a + r.figures.serverCpuMs, 0)
  const statusCodes: Record<string, number> = {}
  for (const run of runs) {
    for (const [code, count] of Object.entries(run.figures.statusCodes)) {
      statusCodes[code] = (statusCodes[code] ?? 0) + count
    }
  }
  const hosts = new Set<string>()
  for (const run of runs) for (const host of run.hostsSent) hosts.add(host)
  return {
    connections: first.figures.connections,
    durationS: round(durationS, 2),
    hosts: first.figures.hosts,
    requests,
    reqPerSec: round(requests / durationS, 1),
    latencyMs: summarize(runs.flatMap((r) => r.latencies)),
    non2xx: runs.reduce((a, r) => a + r.figures.non2xx, 0),
    errors: runs.reduce((a, r) => a + r.figures.errors, 0),
    timeouts: runs.reduce((a, r) => a + r.figures.timeouts, 0),
    statusCodes,
    hostsHit: hosts.size,
    serverCpuMs,
    serverCpuUsPerRequest: round((serverCpuMs * 1000) / requests, 1),
  }
}

export interface PageCheck {
  checked: number
  failures: string[]
}

/** GET / on each tenant's host: 200 and the tenant's name in the page. */
export async function checkHomes(port: number, tenants: BenchTenant[]): Promise<PageCheck> {
  const failures: string[] = []
  for (const tenant of tenants) {
    try {
      const res = await get(port, '/', tenant.host)
      if (res.status !== 200) failures.push(`${tenant.host}: status ${res.status}`)
      else if (!res.body.includes(tenant.name)) failures.push(`${tenant.host}: page without "${tenant.name}"`)
    } catch (error) {
      failures.push(`${tenant.host}: ${(error as Error).message}`)
    }
  }
  return { checked: tenants.length, failures }
}

/** Up to n tenants spread evenly over the list, first and last included. */
export function sample<T>(items: T[], n: number): T[] {
  if (items.length <= n) return items
  return Array.from({ length: n }, (_, i) => items[Math.round((i * (items.length - 1)) / (n - 1))]!)
}
