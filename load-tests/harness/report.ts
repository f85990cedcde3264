import type { LoadFigures, PageCheck } from './load.ts'
import type { Summary } from './stats.ts'

export interface Boot {
  bootMs: number
  rssBytes: number
  peakBytes: number
}

export interface ServerFigures {
  tenants: number
  boots: Boot[]
  bootMs: { median: number; max: number }
  /** Memory of the server that took the load, right after its boot. */
  afterBoot: { rssBytes: number; peakBytes: number }
  afterWarmup: { rssBytes: number; peakBytes: number }
  afterLoad: { rssBytes: number; peakBytes: number }
  pagesBefore: PageCheck
  pagesAfter: PageCheck
  warmup: LoadFigures
  /** The measured rounds merged. */
  load: LoadFigures
  rounds: LoadFigures[]
}

export interface MigrateAllFigures {
  command: string
  wallMs: number
  exitCode: number | null
  summaryLine: string | undefined
  migrated: number | undefined
  upToDate: number | undefined
  failed: number | undefined
  upToDateLines: number
}

export interface Target {
  name: string
  figure: string
  limit: string
  pass: boolean
  note?: string
}

/** Decimal megabytes, as the target is written. */
const MB = 1_000_000

export const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`
export const ms = (value: number) => (value >= 10 ? `${value.toFixed(0)} ms` : `${value.toFixed(2)} ms`)
export const s = (valueMs: number) => `${(valueMs / 1000).toFixed(2)} s`
const pct = (ratio: number) => `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)}%`

/** The four targets of the foundation issue. */
export function evaluateTargets(
  tenants: number,
  one: ServerFigures,
  all: ServerFigures,
  migrate: MigrateAllFigures,
): Target[] {
  const rssGrowthBoot = all.afterBoot.rssBytes - one.afterBoot.rssBytes
  const rssGrowthLoad = all.afterLoad.rssBytes - one.afterLoad.rssBytes
  const rssGrowth = Math.max(rssGrowthBoot, rssGrowthLoad)
  const p99One = one.load.latencyMs.p99
  const p99All = all.load.latencyMs.p99
  const meanRatio = all.load.latencyMs.mean / one.load.latencyMs.mean
  const cpuRatio = all.load.serverCpuUsPerRequest / one.load.serverCpuUsPerRequest
  const migrateOk = migrate.exitCode === 0 && migrate.upToDate === tenants && migrate.failed === 0
  return [
    {
      name: `boot with ${tenants} migrated tenants (worst of ${all.boots.length})`,
      figure: `${s(all.bootMs.max)} (median ${s(all.bootMs.median)}; 1 tenant: ${s(one.bootMs.median)})`,
      limit: '< 5 s',
      pass: all.bootMs.max < 5000,
    },
    {
      name: `RSS growth 1 -> ${tenants} tenants (worst of after boot, after load)`,
      figure: `${rssGrowth >= 0 ? '+' : ''}${mb(rssGrowth)} (after boot ${mb(rssGrowthBoot)}, after load ${mb(rssGrowthLoad)})`,
      limit: '< 100 MB',
      pass: rssGrowth < 100 * MB,
    },
    {
      name: `home page p99 at ${tenants} tenants vs 1 tenant`,
      figure: `${ms(p99All)} vs ${ms(p99One)} (${pct(p99All / p99One)}); mean ${ms(all.load.latencyMs.mean)} vs ${ms(one.load.latencyMs.mean)} (${pct(meanRatio)}); server CPU per request ${pct(cpuRatio)}`,
      limit: 'within 20%',
      pass: p99All <= p99One * 1.2 && all.load.non2xx === 0 && all.load.errors === 0,
      note:
        p99One < 10
          ? `p99 is small: 20% of ${ms(p99One)} is ${ms(p99One * 0.2)}, within scheduling noise on a shared 2-core loopback run; read it with the means and req/s`
          : undefined,
    },
    {
      name: `tenant migrate --all over ${tenants} up-to-date tenants`,
      figure: `${s(migrate.wallMs)} (exit ${migrate.exitCode}, ${migrate.upToDate ?? '?'} up to date, ${migrate.failed ?? '?'} failed)`,
      limit: '< 30 s, exit 0, all up to date',
      pass: migrateOk && migrate.wallMs < 30_000,
    },
  ]
}

function summaryLine(label: string, x: Summary, unit = 'ms'): string {
  const f = (v: number) => (unit === 'ms' ? ms(v) : v.toFixed(2))
  return `${label.padEnd(34)} mean ${f(x.mean)}  p50 ${f(x.p50)}  p90 ${f(x.p90)}  p99 ${f(x.p99)}  max ${f(x.max)}`
}

export function serverSection(label: string, x: ServerFigures): string[] {
  const l = x.load
  return [
    `  ${label}`,
    `    boots (spawn -> first 200 /readyz)  ${x.boots.map((b) => s(b.bootMs)).join(', ')}  -> median ${s(x.bootMs.median)}, max ${s(x.bootMs.max)}`,
    `    RSS after boot ${mb(x.afterBoot.rssBytes)}, after warm-up ${mb(x.afterWarmup.rssBytes)}, after load ${mb(x.afterLoad.rssBytes)}, peak (VmHWM) ${mb(x.afterLoad.peakBytes)}`,
    `    home pages checked before load: ${x.pagesBefore.checked} (${x.pagesBefore.failures.length} failed); after: ${x.pagesAfter.checked} (${x.pagesAfter.failures.length} failed)`,
    `    load: ${l.connections} connections, ${l.durationS} s in ${x.rounds.length} round(s), Host over ${l.hosts} host(s) (${l.hostsHit} hit)`,
    `    ${l.reqPerSec.toFixed(0)} req/s, ${l.requests} responses, non-2xx ${l.non2xx}, errors ${l.errors}, timeouts ${l.timeouts}`,
    `    server CPU ${l.serverCpuUsPerRequest} µs per request (${(l.serverCpuMs / 1000).toFixed(1)} s over the run)`,
    `    ${summaryLine('latency', l.latencyMs)}`,
    ...[...x.pagesBefore.failures, ...x.pagesAfter.failures].slice(0, 5).map((f) => `    ! ${f}`),
  ]
}

export function targetLines(targets: Target[]): string[] {
  return targets.flatMap((t) => [
    `  ${t.pass ? 'PASS' : 'FAIL'}  ${t.name}: ${t.figure}  [target ${t.limit}]`,
    ...(t.note ? [`        note: ${t.note}`] : []),
  ])
}

export { summaryLine }
