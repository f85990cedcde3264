/**
 * Foundation benchmark: provisions N tenants on a throw-away Postgres database, boots the production
 * server with 1 and with N tenants, loads the tenant home page, and times `tenant migrate --all`.
 *
 *   npm run bench                       # 1,000 tenants, 10 connections, 3 s warm-up + 15 s measured
 *   TENANTS=20 npm run bench            # a quick run
 *   npm run bench -- --tenants 20 --duration 5
 *   npm run bench -- sign-in            # the sign-in scenario instead: see sign-in.ts
 *   npm run bench -- uploads            # 50 concurrent 2 MB uploads: see uploads.ts
 *   npm run bench -- reenrolment        # the Limonest re-enrolment flow: see reenrolment.ts
 *   npm run bench -- pages              # every page against the floor, and a big tenant: see pages.ts
 *   npm run bench -- processes          # the family pages on one process and on two: see processes.ts
 *   npm run bench -- billing-generation # the year's invoices of 3,000 families: see billing-generation.ts
 *   npm run bench -- billing-pdf        # 20 concurrent PDF duplicates: see billing-pdf.ts
 *   npm run bench -- roll-call          # 60 teachers' roll calls in one minute: see roll-call.ts
 *   npm run bench -- allocation         # 2,000 requests for seats over 150 courses: see allocation.ts
 *
 * Bounded: fixed durations, loopback only; its databases and temp directory are removed at the end,
 * also on failure and on Ctrl-C. See load-tests/README.md.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import {
  describeMachine,
  integer,
  loadAverage,
  print,
  productionEnv as productionSettings,
  root,
  runInScratch,
  scratch,
} from './harness/common.ts'
import {
  checkHomes,
  homeLoad,
  type LoadFigures,
  type LoadRun,
  mergeRuns,
  type PageCheck,
  sample,
} from './harness/load.ts'
import { catalogFigures, databaseUrl, recreateDatabase } from './harness/postgres.ts'
import {
  type Boot,
  evaluateTargets,
  type MigrateAllFigures,
  mb,
  type ServerFigures,
  s,
  serverSection,
  summaryLine,
  targetLines,
} from './harness/report.ts'
import { freePort, killGroup, memoryOf, running, type Server, startServer } from './harness/server.ts'
import { median, round, roundSummary, summarize } from './harness/stats.ts'
import { type BenchTenant, benchTenants, provision, writeTenantFiles } from './harness/tenants.ts'
import { allocationBenchmark } from './allocation.ts'
import { billingGenerationBenchmark } from './billing-generation.ts'
import { billingPdfBenchmark } from './billing-pdf.ts'
import { pagesBenchmark } from './pages.ts'
import { processesBenchmark } from './processes.ts'
import { reenrolmentBenchmark } from './reenrolment.ts'
import { rollCallBenchmark } from './roll-call.ts'
import { signInBenchmark } from './sign-in.ts'
import { uploadsBenchmark } from './uploads.ts'

// `npm run bench -- <scenario> [options]`: another scenario, with its own options
const scenarios: Record<string, (argv: string[]) => Promise<number>> = {
  'sign-in': signInBenchmark,
  uploads: uploadsBenchmark,
  reenrolment: reenrolmentBenchmark,
  pages: pagesBenchmark,
  processes: processesBenchmark,
  'billing-generation': billingGenerationBenchmark,
  'billing-pdf': billingPdfBenchmark,
  'roll-call': rollCallBenchmark,
  allocation: allocationBenchmark,
}
const scenario = process.argv[2]
if (scenario && scenarios[scenario]) process.exit(await scenarios[scenario](process.argv.slice(3)))
if (scenario !== undefined && !scenario.startsWith('-')) {
  process.stderr.write(
    `unknown scenario "${scenario}": npm run bench (foundation), or npm run bench -- ${Object.keys(scenarios).join('|')}\n`,
  )
  process.exit(2)
}

const { values: args } = parseArgs({
  options: {
    tenants: { type: 'string' },
    connections: { type: 'string' },
    warmup: { type: 'string' },
    duration: { type: 'string' },
    boots: { type: 'string' },
    rounds: { type: 'string' },
    'pg-url': { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
})

if (args.help) {
  process.stdout.write(`Usage: npm run bench [-- options]   (each option also read from the environment)
       npm run bench -- sign-in [options]   the sign-in scenario (npm run bench -- sign-in --help)
       npm run bench -- uploads [options]   50 concurrent 2 MB uploads (npm run bench -- uploads --help)
       npm run bench -- reenrolment [options]   scripted Limonest re-enrolment flows (… --help)
       npm run bench -- pages [options]   every page against the floor, and a big tenant (… --help)
       npm run bench -- processes [options]   the family pages on one process and on two (… --help)
       npm run bench -- billing-generation [options]   the year's invoices generated and issued (… --help)
       npm run bench -- billing-pdf [options]   PDF duplicates downloaded at once (… --help)

  --tenants N       TENANTS      tenants to provision and serve (default 1000)
  --connections N   CONNECTIONS  autocannon connections (default 10)
  --warmup S        WARMUP       warm-up seconds before each measured run (default 3)
  --duration S      DURATION     measured seconds per tenant count (default 15)
  --rounds N        ROUNDS       the measured seconds split in N runs, alternating 1/N (default 3)
  --boots N         BOOTS        boots per tenant count; the last one takes the load (default 3)
  --pg-url URL      PG_URL       Postgres server, trust auth (default postgres://postgres@127.0.0.1:5432)
  --out FILE        BENCH_OUT    JSON results (default load-tests/results/foundation-<date>.json)
`)
  process.exit(0)
}

const options = {
  tenants: integer('TENANTS', args.tenants, process.env.TENANTS, 1000),
  connections: integer('CONNECTIONS', args.connections, process.env.CONNECTIONS, 10),
  warmupS: integer('WARMUP', args.warmup, process.env.WARMUP, 3),
  durationS: integer('DURATION', args.duration, process.env.DURATION, 15),
  boots: integer('BOOTS', args.boots, process.env.BOOTS, 3),
  rounds: integer('ROUNDS', args.rounds, process.env.ROUNDS, 3),
  pgUrl: args['pg-url'] ?? process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432',
}
if (options.tenants > 9999) throw new Error('TENANTS is at most 9999')

const date = new Date().toISOString().slice(0, 10)
const outFile = resolve(
  args.out ??
    process.env.BENCH_OUT ??
    join(
      root,
      'load-tests/results',
      options.tenants === 1000
        ? `foundation-${date}.json`
        : `foundation-${date}-${options.tenants}-tenants.json`,
    ),
)

const databases = { one: 'tutti_bench_one', all: 'tutti_bench' }
const work = scratch(options.pgUrl, Object.values(databases), 'tutti-bench-')
const tmp = work.dir
const dirs = { one: join(tmp, 'tenants-one'), all: join(tmp, 'tenants-all'), data: join(tmp, 'data') }
mkdirSync(dirs.data)

/** The environment of the spawned processes: the production settings, nothing inherited but PATH and HOME. */
function productionEnv(which: 'one' | 'all', port?: number): NodeJS.ProcessEnv {
  return productionSettings({
    databaseUrl: databaseUrl(options.pgUrl, databases[which]),
    tenantsDir: dirs[which],
    dataDir: dirs.data,
    port,
  })
}

interface Booted {
  label: string
  tenants: BenchTenant[]
  boots: Boot[]
  server: Server
  afterBoot: { rss: number; peak: number }
}

/** Boots the production server BOOTS times; the last one stays up to take the load. */
async function bootSeries(which: 'one' | 'all', tenants: BenchTenant[]): Promise<Booted> {
  const label = which === 'one' ? '1 tenant' : `${tenants.length} tenants`
  const boots: Boot[] = []
  for (let i = 1; i <= options.boots; i++) {
    const port = await freePort()
    const server = await startServer({
      root,
      env: productionEnv(which, port),
      port,
      logFile: join(tmp, `server-${which}.log`),
      bootTimeoutMs: 60_000,
    })
    const memory = memoryOf(server.child.pid!)
    boots.push({ bootMs: server.bootMs, rssBytes: memory.rss, peakBytes: memory.peak })
    print(`  ${label}: boot ${i}/${options.boots} in ${s(server.bootMs)}, RSS ${mb(memory.rss)}`)
    if (i === options.boots) return { label, tenants, boots, server, afterBoot: memory }
    await server.stop()
  }
  throw new Error('BOOTS must be at least 1')
}

/**
 * The same load on both servers: pages checked, a warm-up each, then ROUNDS measured runs each,
 * alternating 1/N, N/1, … so a drift of the machine does not favour one side.
 */
async function loadBoth(one: Booted, all: Booted): Promise<[ServerFigures, ServerFigures]> {
  const sides = [one, all]
  const pagesBefore = new Map<Booted, PageCheck>()
  const afterWarmup = new Map<Booted, { rss: number; peak: number }>()
  const warmups = new Map<Booted, LoadFigures>()
  const runs = new Map<Booted, LoadRun[]>(sides.map((side) => [side, []]))
  const load = (side: Booted, durationS: number) =>
    homeLoad({
      port: side.server.port,
      pid: side.server.child.pid!,
      hosts: side.tenants.map((t) => t.host),
      connections: options.connections,
      durationS,
    })
  for (const side of sides) {
    const check = await checkHomes(side.server.port, side.tenants)
    pagesBefore.set(side, check)
    print(`  ${side.label}: ${check.checked} home page(s) checked, ${check.failures.length} failed`)
  }
  for (const side of sides) {
    const warmup = await load(side, options.warmupS)
    warmups.set(side, warmup.figures)
    afterWarmup.set(side, memoryOf(side.server.child.pid!))
    print(`  ${side.label}: warm-up ${options.warmupS} s, ${warmup.figures.reqPerSec.toFixed(0)} req/s`)
  }
  const roundS = options.durationS / options.rounds
  for (let round = 1; round <= options.rounds; round++) {
    for (const side of round % 2 === 1 ? sides : [...sides].reverse()) {
      const run = await load(side, roundS)
      runs.get(side)!.push(run)
      const f = run.figures
      print(
        `  ${side.label}: round ${round}/${options.rounds}, ${roundS} s, ${f.reqPerSec.toFixed(0)} req/s, p99 ${f.latencyMs.p99.toFixed(2)} ms, server CPU ${f.serverCpuUsPerRequest} µs/req, non-2xx ${f.non2xx}`,
      )
    }
  }
  const figures: ServerFigures[] = []
  for (const side of sides) {
    const afterLoad = memoryOf(side.server.child.pid!)
    const pagesAfter = await checkHomes(side.server.port, sample(side.tenants, 20))
    const warm = afterWarmup.get(side)!
    figures.push({
      tenants: side.tenants.length,
      boots: side.boots,
      bootMs: {
        median: median(side.boots.map((b) => b.bootMs)),
        max: Math.max(...side.boots.map((b) => b.bootMs)),
      },
      afterBoot: { rssBytes: side.afterBoot.rss, peakBytes: side.afterBoot.peak },
      afterWarmup: { rssBytes: warm.rss, peakBytes: warm.peak },
      afterLoad: { rssBytes: afterLoad.rss, peakBytes: afterLoad.peak },
      pagesBefore: pagesBefore.get(side)!,
      pagesAfter,
      warmup: warmups.get(side)!,
      load: mergeRuns(runs.get(side)!),
      rounds: runs.get(side)!.map((r) => ({ ...r.figures, latencyMs: roundSummary(r.figures.latencyMs) })),
    })
  }
  return figures as [ServerFigures, ServerFigures]
}

async function migrateAll(): Promise<MigrateAllFigures> {
  const argv = ['run', '--silent', 'tutti', '--', 'tenant', 'migrate', '--all']
  const start = performance.now()
  const child = spawn('npm', argv, {
    cwd: root,
    env: productionEnv('all'),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  running.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk
  })
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk
  })
  const killer = setTimeout(() => killGroup(child, 'SIGKILL'), 600_000)
  const exitCode = await new Promise<number | null>((resolveExit) => child.once('close', resolveExit))
  const wallMs = performance.now() - start
  clearTimeout(killer)
  running.delete(child)
  writeFileSync(join(tmp, 'migrate-all.log'), stdout + stderr)
  const match = /^(\d+) tenant\(s\): (\d+) migrated, (\d+) up to date, (\d+) failed$/m.exec(stdout)
  if (exitCode !== 0) process.stderr.write(`migrate --all exited ${exitCode}:\n${stderr.slice(-2000)}\n`)
  return {
    command: `npm ${argv.join(' ')}`,
    wallMs,
    exitCode,
    summaryLine: match?.[0],
    migrated: match ? Number(match[2]) : undefined,
    upToDate: match ? Number(match[3]) : undefined,
    failed: match ? Number(match[4]) : undefined,
    upToDateLines: stdout.split('\n').filter((line) => line.endsWith('] up to date')).length,
  }
}

function serverJson(x: ServerFigures) {
  return {
    ...x,
    boots: x.boots.map((b) => ({ ...b, bootMs: round(b.bootMs, 1) })),
    bootMs: { median: round(x.bootMs.median, 1), max: round(x.bootMs.max, 1) },
    warmup: { ...x.warmup, latencyMs: roundSummary(x.warmup.latencyMs) },
    load: { ...x.load, latencyMs: roundSummary(x.load.latencyMs) },
  }
}

async function main(): Promise<number> {
  const startedAt = new Date()
  const machine = describeMachine(options.pgUrl)
  print(`Tutti foundation benchmark, ${startedAt.toISOString()}`)
  print(
    `  ${machine.cpus} CPU(s) ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, Postgres ${machine.postgres}`,
  )
  print(`  load average ${machine.loadAverageAtStart.join(' ')} (anything else running skews the figures)`)
  print(
    `  ${options.tenants} tenants, ${options.connections} connections, ${options.warmupS} s warm-up + ${options.durationS} s measured (${options.rounds} alternating rounds) per tenant count, ${options.boots} boot(s) each`,
  )
  print()

  const tenants = benchTenants(options.tenants)
  writeTenantFiles(dirs.one, tenants.slice(0, 1))
  writeTenantFiles(dirs.all, tenants)
  recreateDatabase(options.pgUrl, databases.one)
  recreateDatabase(options.pgUrl, databases.all)

  print('1. Provisioning (in-process: openOrm, migratePlatform, createTenant per tenant)')
  const single = await provision(databaseUrl(options.pgUrl, databases.one), dirs.one, () => {})
  const step = Math.max(1, Math.round(options.tenants / 10))
  const provisioning = await provision(databaseUrl(options.pgUrl, databases.all), dirs.all, (done, total) => {
    if (done % step === 0 || done === total) print(`  ${done}/${total} provisioned`)
  })
  const perTenant = summarize(provisioning.perTenantMs)
  const tenth = Math.max(1, Math.floor(provisioning.perTenantMs.length / 10))
  const firstTenth = summarize(provisioning.perTenantMs.slice(0, tenth))
  const lastTenth = summarize(provisioning.perTenantMs.slice(-tenth))
  const catalog = catalogFigures(options.pgUrl, databases.all)
  print()

  print(`2-3. Production server, boot and home page load (1 tenant, then ${options.tenants})`)
  const bootedOne = await bootSeries('one', tenants.slice(0, 1))
  const bootedAll = await bootSeries('all', tenants)
  const [one, all] = await loadBoth(bootedOne, bootedAll)
  await bootedOne.server.stop()
  await bootedAll.server.stop()
  print()

  print(`4. npm run tutti -- tenant migrate --all over ${options.tenants} up-to-date tenants`)
  const migrate = await migrateAll()
  print(`  ${s(migrate.wallMs)}, exit ${migrate.exitCode}: ${migrate.summaryLine ?? '(no summary line)'}`)
  print()

  const targets = evaluateTargets(options.tenants, one, all, migrate)
  const report = [
    '== Results ==',
    '',
    `Provisioning ${options.tenants} tenants: ${s(provisioning.totalMs)} in all`,
    `  load ${options.tenants} tenant files ${s(provisioning.loadConfigsMs)}, openOrm ${s(provisioning.openOrmMs)}, migratePlatform ${s(provisioning.migratePlatformMs)}`,
    `  ${summaryLine('createTenant per tenant', perTenant)}`,
    `  ${summaryLine(`  first ${tenth}`, firstTenth)}`,
    `  ${summaryLine(`  last ${tenth}`, lastTenth)}`,
    `  (1 tenant on an empty database: createTenant ${s(single.perTenantMs[0] ?? Number.NaN)})`,
    `  database ${mb(catalog.bytes)}, ${catalog.tenantSchemas} tenant schemas`,
    '',
    'Production server (NODE_ENV=production, LOG_LEVEL=warn)',
    ...serverSection('1 tenant', one),
    ...serverSection(`${options.tenants} tenants`, all),
    `  throughput ${options.tenants} vs 1: ${((all.load.reqPerSec / one.load.reqPerSec - 1) * 100).toFixed(1)}%`,
    '',
    `tenant migrate --all: ${s(migrate.wallMs)} wall (${migrate.command}), exit ${migrate.exitCode}`,
    `  ${migrate.summaryLine ?? '(no summary line)'}; ${migrate.upToDateLines} "up to date" lines`,
    `  ${(migrate.wallMs / options.tenants).toFixed(1)} ms per tenant, npm and process start included`,
    '',
    'Targets',
    ...targetLines(targets),
    '',
  ]
  for (const line of report) print(line)

  const finishedAt = new Date()
  print(`load average at the end ${loadAverage().join(' ')}`)
  const results = {
    benchmark: 'foundation',
    date,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    command: ['npm run bench', ...process.argv.slice(2)].join(' '),
    options: { ...options, pgUrl: undefined },
    machine: { ...machine, loadAverageAtEnd: loadAverage() },
    provisioning: {
      tenants: provisioning.tenants,
      totalMs: round(provisioning.totalMs, 1),
      loadConfigsMs: round(provisioning.loadConfigsMs, 1),
      openOrmMs: round(provisioning.openOrmMs, 1),
      migratePlatformMs: round(provisioning.migratePlatformMs, 1),
      createTenantMs: roundSummary(perTenant),
      firstTenthMs: roundSummary(firstTenth),
      lastTenthMs: roundSummary(lastTenth),
      singleTenantOnEmptyDatabaseMs: round(single.perTenantMs[0] ?? Number.NaN, 1),
      database: catalog,
      perTenantMs: provisioning.perTenantMs.map((v) => round(v, 1)),
    },
    servers: {
      one: serverJson(one),
      all: serverJson(all),
    },
    migrateAll: { ...migrate, wallMs: round(migrate.wallMs, 1) },
    targets,
  }
  mkdirSync(resolve(outFile, '..'), { recursive: true })
  writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`)
  print(`raw figures: ${outFile}`)
  print(`finished in ${s(finishedAt.getTime() - startedAt.getTime())}`)
  return targets.every((t) => t.pass) ? 0 : 1
}

process.exit(
  await runInScratch(
    work,
    ['server-one.log', 'server-all.log', 'migrate-all.log'].map((log) => join(tmp, log)),
    main,
  ),
)
