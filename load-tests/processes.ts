/**
 * The processes scenario of the operations issue (14): the family pages of the demo data served by
 * one production process, then by two processes on the same database, in the same run.
 *
 *   npm run bench -- processes
 *
 * One browser signs in on the first process; its session cookie is used on both, since sessions
 * live in Postgres. For each page: autocannon on one process with all the connections, then on
 * both at once with half the connections each (two autocannon instances: no proxy in between).
 * The two processes' figures are added up: answers per second summed, latencies pooled.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import {
  describeMachine,
  integer,
  loadAverage,
  print,
  productionEnv,
  root,
  runInScratch,
  scratch,
} from './harness/common.ts'
import { type PageRun, pageLoad } from './harness/load.ts'
import { ms } from './harness/report.ts'
import { freePort, send, startServer } from './harness/server.ts'
import { round, summarize } from './harness/stats.ts'
import { cookieOf, demoDatabase, demoSlug, familyPages, type Page, signIn, table } from './pages.ts'

const database = 'tutti_bench_processes'

const usage = `Usage: npm run bench -- processes [options]   (each option also read from the environment)

  --connections N  CONNECTIONS  autocannon connections in all, split over the processes (default 20)
  --duration S     DURATION     measured seconds per page and per setting (default 8)
  --warmup S       WARMUP       warm-up seconds on each process before each page (default 2)
  --pg-url URL     PG_URL       Postgres server, trust auth (default postgres://postgres@127.0.0.1:5432)
  --out FILE       BENCH_OUT    JSON results (default load-tests/results/processes-<date>.json)
`

interface Setting {
  reqPerSec: number
  p50: number
  p99: number
  non2xx: number
  errors: number
}

/** Runs at once on several processes, as one: answers per second added, latencies pooled. */
function together(runs: PageRun[]): Setting {
  const latencies = summarize(runs.flatMap((r) => r.latencies))
  return {
    reqPerSec: round(
      runs.reduce((a, r) => a + r.figures.reqPerSec, 0),
      1,
    ),
    p50: latencies.p50,
    p99: latencies.p99,
    non2xx: runs.reduce((a, r) => a + r.figures.non2xx, 0),
    errors: runs.reduce((a, r) => a + r.figures.errors + r.figures.timeouts, 0),
  }
}

export async function processesBenchmark(argv: string[]): Promise<number> {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      connections: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      'pg-url': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (args.help) {
    process.stdout.write(usage)
    return 0
  }
  const env = process.env
  const options = {
    connections: integer('CONNECTIONS', args.connections, env.CONNECTIONS, 20),
    durationS: integer('DURATION', args.duration, env.DURATION, 8),
    warmupS: integer('WARMUP', args.warmup, env.WARMUP, 2, 0),
    pgUrl: args['pg-url'] ?? env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432',
  }
  const date = new Date().toISOString().slice(0, 10)
  const outFile = resolve(
    args.out ?? env.BENCH_OUT ?? join(root, 'load-tests/results', `processes-${date}.json`),
  )
  const work = scratch(options.pgUrl, [database], 'tutti-bench-processes-')
  const logs = [join(work.dir, 'server-a.log'), join(work.dir, 'server-b.log')]

  return runInScratch(work, logs, async () => {
    const machine = describeMachine(options.pgUrl)
    print(`Tutti processes benchmark, ${new Date().toISOString()}`)
    print(
      `  ${machine.cpus} CPU(s) ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, Postgres ${machine.postgres}`,
    )
    print(`  load average ${loadAverage().join(' ')}`)
    print(
      `  ${options.connections} connections on one process, or ${options.connections / 2} on each of two; ${options.warmupS} s warm-up + ${options.durationS} s per page and setting`,
    )
    const { url, tenantsDir, dataDir } = await demoDatabase(work.dir, options.pgUrl, database, undefined)

    const servers = []
    for (const logFile of logs) {
      const port = await freePort()
      servers.push(
        await startServer({
          root,
          env: productionEnv({ databaseUrl: url, tenantsDir, dataDir, port }),
          port,
          logFile,
          bootTimeoutMs: 60_000,
        }),
      )
    }
    const [a, b] = servers as [(typeof servers)[number], (typeof servers)[number]]
    const host = `${demoSlug}.localhost`
    const family = await signIn(a.port, host, '/connexion', 'demo-famille', '198.18.0.1')
    const pages: Page[] = (await familyPages(family, host)).slice(0, 7)
    family.close()
    const cookie = cookieOf(family)
    // the session opened through the first process is honoured by the second
    const other = await send(b.port, { path: pages[0]!.path, host, headers: { cookie } })
    if (other.status !== 200) throw new Error(`the second process answered ${other.status} to the session`)

    const load = (server: typeof a, page: Page, connections: number, durationS: number) =>
      pageLoad({
        port: server.port,
        pid: server.child.pid!,
        path: page.path,
        host,
        cookie,
        connections,
        durationS,
      })
    const rows: { page: Page; one: Setting; two: Setting }[] = []
    for (const page of pages) {
      if (options.warmupS > 0)
        await Promise.all([
          load(a, page, options.connections / 2, options.warmupS),
          load(b, page, options.connections / 2, options.warmupS),
        ])
      const one = together([await load(a, page, options.connections, options.durationS)])
      const two = together(
        await Promise.all([
          load(a, page, options.connections / 2, options.durationS),
          load(b, page, options.connections / 2, options.durationS),
        ]),
      )
      print(
        `  ${page.label}: one process ${one.reqPerSec.toFixed(0)} req/s, p99 ${ms(one.p99)}; two ${two.reqPerSec.toFixed(0)} req/s, p99 ${ms(two.p99)}`,
      )
      rows.push({ page, one, two })
    }
    for (const server of servers) await server.stop()

    print()
    print('== Results ==')
    for (const line of table(
      ['page', 'one: req/s', 'p50', 'p99', 'two: req/s', 'p50', 'p99', 'two / one', 'not 200'],
      rows.map(({ page, one, two }) => [
        page.label,
        one.reqPerSec.toFixed(0),
        ms(one.p50),
        ms(one.p99),
        two.reqPerSec.toFixed(0),
        ms(two.p50),
        ms(two.p99),
        `${((100 * two.reqPerSec) / one.reqPerSec).toFixed(0)} %`,
        String(one.non2xx + one.errors + two.non2xx + two.errors),
      ]),
    ))
      print(`  ${line}`)
    print(`load average at the end ${loadAverage().join(' ')}`)
    mkdirSync(join(outFile, '..'), { recursive: true })
    writeFileSync(
      outFile,
      `${JSON.stringify({ date: new Date().toISOString(), machine, options, rows: rows.map((r) => ({ ...r, page: r.page.path })) }, null, 2)}\n`,
    )
    print(`raw figures: ${outFile}`)
    const failed = rows.some(({ one, two }) => one.non2xx + one.errors + two.non2xx + two.errors > 0)
    return failed ? 1 : 0
  })
}
