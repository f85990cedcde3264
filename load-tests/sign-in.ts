/**
 * Sign-in benchmark (accounts issue): the cost of argon2id at the chosen parameters, in-process and
 * over HTTP. Started by run.ts:
 *
 *   npm run bench -- sign-in                       # 2,000 families, 20 connections, about 2 minutes
 *   npm run bench -- sign-in --duration 6 --argon2-seconds 2
 *
 * 1. in this process: argon2 verify and hash one call after the other for a fixed time, at the
 *    parameters of src/platform/auth/passwords.ts and at two heavier settings, and 20 verifications
 *    started at once;
 * 2. over HTTP: one tenant with N family accounts on a throw-away database, the production server,
 *    20 connections posting sign-ins to /connexion (right password, wrong password, unknown
 *    identifiant), then a check that the attempt limits still answer 429.
 *
 * Bounded: fixed durations, loopback only; its database and temp directory are removed at the end,
 * also on failure and on Ctrl-C. See load-tests/README.md.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { argon2Params, hashPassword, needsRehash } from '../src/platform/auth/passwords.ts'
import { schemaFor } from '../src/platform/tenancy/registry.ts'
import {
  type Argon2Figures,
  type Argon2Setting,
  type ConcurrentFigures,
  concurrentVerify,
  describeSetting,
  timeArgon2,
} from './harness/argon2.ts'
import {
  cores,
  type CpuShare,
  cpuWatch,
  describeMachine,
  integer,
  loadAverage,
  print,
  productionEnv,
  root,
  runInScratch,
  scratch,
} from './harness/common.ts'
import { type LoadFigures, mergeRuns } from './harness/load.ts'
import { databaseUrl, recreateDatabase } from './harness/postgres.ts'
import { mb, ms, s, summaryLine } from './harness/report.ts'
import { freePort, memoryOf, startServer } from './harness/server.ts'
import {
  checkLimits,
  fetchCsrf,
  familyIdentifiants,
  insertFamilies,
  type LimitCheck,
  Rotation,
  type SignInForm,
  type SignInKind,
  type SignInRun,
  signInKinds,
  signInLoad,
  signInOnce,
} from './harness/sign-in.ts'
import { round, roundSummary, type Summary } from './harness/stats.ts'
import { benchTenants, provision, writeTenantFiles } from './harness/tenants.ts'

/** The limits of POST /connexion in src/features/accounts/routes.ts, per 15 minutes. */
const limits = { perAddress: 30, perIdentifiant: 10 }

/** The password every bench family has; the wrong one is this plus " ?". */
const password = 'une phrase de passe pour le banc'

/** The parameters in use, then heavier ones for the comparison. */
const settings: Argon2Setting[] = [
  { label: 'chosen (OWASP 19 MiB, t=2)', ...argon2Params },
  { label: 'OWASP 46 MiB, t=1', memoryCost: 47_104, timeCost: 1, parallelism: 1 },
  { label: 'RFC 9106 64 MiB, t=3 (p=1)', memoryCost: 65_536, timeCost: 3, parallelism: 1 },
]

const kinds: SignInKind[] = ['valid', 'wrong-password', 'unknown-identifiant']

const usage = `Usage: npm run bench -- sign-in [options]   (each option also read from the environment)

  --accounts N        ACCOUNTS        family accounts to sign in with, each at most 10 times (default 2000)
  --connections N     CONNECTIONS     concurrent sign-ins (default 20)
  --warmup S          WARMUP          warm-up seconds of right-password sign-ins, not measured (default 3)
  --duration S        DURATION        measured seconds per kind of sign-in (default 15)
  --rounds N          ROUNDS          the measured seconds split in N runs, alternating the kinds (default 3)
  --argon2-seconds S  ARGON2_SECONDS  in-process seconds of verify, then of hash, per setting (default 5)
  --pg-url URL        PG_URL          Postgres server, trust auth (default postgres://postgres@127.0.0.1:5432)
  --out FILE          BENCH_OUT       JSON results (default load-tests/results/sign-in-<date>.json)
`

interface KindFigures extends LoadFigures {
  kind: SignInKind
  expected: string
  unexpected: number
  unexpectedSamples: string[]
  /** Sign-ins one core of server CPU time would serve per second at this cost. */
  perServerCoreSecond: number
  /** Server CPU per sign-in, in ms, by thread: main (JS), pool (libuv: argon2), other (V8's GC…). */
  serverCpuMsPerSignIn: { total: number; main: number; pool: number; other: number }
  /** Average cores busy: the machine, the server, the load generator, and the rest (Postgres, others' work). */
  cores: { machine: number; server: number; loadGenerator: number; rest: number }
}

interface InProcess extends Argon2Figures {
  /** The machine's CPU while this setting was measured: anything beyond one core was other work. */
  cpu: CpuShare
}

/** Cores busy over a run with neither the server nor the load generator: Postgres and anything else running. */
const restCores = (run: SignInRun) =>
  cores(run.cpu.machineMs - run.figures.serverCpuMs - run.cpu.harnessMs, run.cpu.wallMs)

function mergeKind(kind: SignInKind, runs: SignInRun[]): KindFigures {
  const merged = mergeRuns(runs)
  const each = (part: 'main' | 'pool' | 'other') =>
    round(runs.reduce((a, r) => a + r.serverCpuSplitMs[part], 0) / merged.requests, 2)
  const sum = (part: keyof CpuShare) => runs.reduce((a, r) => a + r.cpu[part], 0)
  const wallMs = sum('wallMs')
  return {
    kind,
    expected: signInKinds[kind].expected,
    ...merged,
    unexpected: runs.reduce((a, r) => a + r.unexpected, 0),
    unexpectedSamples: runs.flatMap((r) => r.unexpectedSamples).slice(0, 5),
    perServerCoreSecond: round(1e6 / merged.serverCpuUsPerRequest, 1),
    serverCpuMsPerSignIn: {
      total: round(merged.serverCpuUsPerRequest / 1000, 2),
      main: each('main'),
      pool: each('pool'),
      other: each('other'),
    },
    cores: {
      machine: cores(sum('machineMs'), wallMs),
      server: cores(merged.serverCpuMs, wallMs),
      loadGenerator: cores(sum('harnessMs'), wallMs),
      rest: cores(sum('machineMs') - merged.serverCpuMs - sum('harnessMs'), wallMs),
    },
  }
}

const summaryJson = (x: Summary) => roundSummary(x)

function argon2Lines(x: InProcess): string[] {
  const v = x.verify
  const h = x.hash
  return [
    `  ${x.setting.label}: ${describeSetting(x.setting)}; machine ${cores(x.cpu.machineMs, x.cpu.wallMs)} cores busy, this process ${cores(x.cpu.harnessMs, x.cpu.wallMs)}`,
    `    verify ${v.count} in ${v.seconds.toFixed(1)} s: ${v.perSecond.toFixed(1)}/s on one core, CPU ${v.cpuMsPerOp} ms each`,
    `    ${summaryLine('  verify', v.ms)}`,
    `    hash   ${h.count} in ${h.seconds.toFixed(1)} s: ${h.perSecond.toFixed(1)}/s on one core, CPU ${h.cpuMsPerOp} ms each`,
    `    ${summaryLine('  hash', h.ms)}`,
  ]
}

function kindLines(x: KindFigures): string[] {
  return [
    `  ${x.kind} (${signInKinds[x.kind].description}; expected ${x.expected})`,
    `    ${x.reqPerSec.toFixed(1)} sign-ins/s, ${x.requests} responses in ${x.durationS} s, unexpected ${x.unexpected}, errors ${x.errors}, timeouts ${x.timeouts}, statuses ${JSON.stringify(x.statusCodes)}`,
    `    cores busy: machine ${x.cores.machine}, server ${x.cores.server}, load generator ${x.cores.loadGenerator}, Postgres and the rest ${x.cores.rest}`,
    `    server CPU ${(x.serverCpuUsPerRequest / 1000).toFixed(1)} ms per sign-in -> ${x.perServerCoreSecond.toFixed(1)} sign-ins/s per core of server CPU`,
    `      by thread: libuv pool (argon2) ${x.serverCpuMsPerSignIn.pool.toFixed(1)} ms, main (JS) ${x.serverCpuMsPerSignIn.main.toFixed(1)} ms, other (GC…) ${x.serverCpuMsPerSignIn.other.toFixed(1)} ms`,
    `    ${summaryLine('latency', x.latencyMs)}`,
    ...x.unexpectedSamples.map((u) => `    ! ${u}`),
  ]
}

export async function signInBenchmark(argv: string[]): Promise<number> {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      accounts: { type: 'string' },
      connections: { type: 'string' },
      warmup: { type: 'string' },
      duration: { type: 'string' },
      rounds: { type: 'string' },
      'argon2-seconds': { type: 'string' },
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
    accounts: integer('ACCOUNTS', args.accounts, env.ACCOUNTS, 2000),
    connections: integer('CONNECTIONS', args.connections, env.CONNECTIONS, 20),
    warmupS: integer('WARMUP', args.warmup, env.WARMUP, 3),
    durationS: integer('DURATION', args.duration, env.DURATION, 15),
    rounds: integer('ROUNDS', args.rounds, env.ROUNDS, 3),
    argon2S: integer('ARGON2_SECONDS', args['argon2-seconds'], env.ARGON2_SECONDS, 5),
    pgUrl: args['pg-url'] ?? env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432',
  }
  if (options.accounts > 10_000) throw new Error('ACCOUNTS is at most 10000')
  const date = new Date().toISOString().slice(0, 10)
  const outFile = resolve(
    args.out ?? env.BENCH_OUT ?? join(root, 'load-tests/results', `sign-in-${date}.json`),
  )

  const database = 'tutti_bench_signin'
  const work = scratch(options.pgUrl, [database], 'tutti-bench-signin-')
  const dirs = { tenants: join(work.dir, 'tenants'), data: join(work.dir, 'data') }
  mkdirSync(dirs.data)
  const logFile = join(work.dir, 'server.log')
  return runInScratch(work, [logFile], run)

  async function run(): Promise<number> {
    const startedAt = new Date()
    const machine = describeMachine(options.pgUrl)
    print(`Tutti sign-in benchmark, ${startedAt.toISOString()}`)
    print(
      `  ${machine.cpus} CPU(s) ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, Postgres ${machine.postgres}`,
    )
    print(`  load average ${machine.loadAverageAtStart.join(' ')} (anything else running skews the figures)`)
    print()

    print(
      `1. argon2id in this process (@node-rs/argon2), ${options.argon2S} s of verify then of hash per setting`,
    )
    const concurrent: ConcurrentFigures = await concurrentVerify(settings[0]!, password, options.connections)
    print(
      `  ${concurrent.calls} verifications at once (${describeSetting(settings[0]!)}, libuv pool of ${concurrent.threadpool}): all done in ${ms(concurrent.wallMs)}, peak RSS +${mb(concurrent.peakGrowthBytes)}`,
    )
    const argon2: InProcess[] = []
    for (const setting of settings) {
      const watch = cpuWatch()
      const figures: InProcess = {
        ...(await timeArgon2(setting, password, options.argon2S, options.argon2S)),
        cpu: watch(),
      }
      argon2.push(figures)
      for (const line of argon2Lines(figures)) print(line)
    }
    print()

    print(`2. Sign-in over HTTP: 1 tenant, ${options.accounts} family accounts, the production server`)
    const [tenant] = benchTenants(1)
    if (!tenant) throw new Error('no tenant')
    writeTenantFiles(dirs.tenants, [tenant])
    recreateDatabase(options.pgUrl, database)
    const url = databaseUrl(options.pgUrl, database)
    const provisioning = await provision(url, dirs.tenants, () => {})
    const passwordHash = await hashPassword(password)
    if (needsRehash(passwordHash)) throw new Error('a fresh hash needs rehash: parameters disagree')
    const identifiants = familyIdentifiants(options.accounts)
    const inserted = insertFamilies(
      options.pgUrl,
      database,
      schemaFor(tenant.slug),
      identifiants,
      passwordHash,
    )
    if (inserted !== options.accounts)
      throw new Error(`${inserted} accounts inserted, ${options.accounts} expected`)
    print(`  ${tenant.slug} provisioned in ${s(provisioning.totalMs)}, ${inserted} family accounts inserted`)

    const port = await freePort()
    const server = await startServer({
      root,
      env: productionEnv({ databaseUrl: url, tenantsDir: dirs.tenants, dataDir: dirs.data, port }),
      port,
      logFile,
      bootTimeoutMs: 60_000,
    })
    const pid = server.child.pid!
    const afterBoot = memoryOf(pid)
    print(`  server up in ${s(server.bootMs)}, RSS ${mb(afterBoot.rss)}`)

    const csrf = await fetchCsrf(port, tenant.host)
    const form = (kind: SignInKind): SignInForm => ({ host: tenant.host, csrf, password, kind })
    const rotation = new Rotation(identifiants, limits.perIdentifiant)
    for (const kind of kinds) {
      const once = await signInOnce(port, form(kind), rotation)
      print(`  check ${kind}: status ${once.status}${once.location ? ` to ${once.location}` : ''}`)
      if (!once.expected)
        throw new Error(`${kind}: expected ${signInKinds[kind].expected}, got ${once.status}`)
    }

    const load = (kind: SignInKind, durationS: number) =>
      signInLoad({ port, pid, form: form(kind), rotation, connections: options.connections, durationS })
    const warmup = await load('valid', options.warmupS)
    const afterWarmup = memoryOf(pid)
    print(
      `  warm-up ${options.warmupS} s: ${warmup.figures.reqPerSec.toFixed(1)} sign-ins/s, unexpected ${warmup.unexpected}, others ${restCores(warmup)} core`,
    )
    const runs = new Map<SignInKind, SignInRun[]>(kinds.map((k) => [k, []]))
    const roundS = options.durationS / options.rounds
    for (let r = 1; r <= options.rounds; r++) {
      for (const kind of r % 2 === 1 ? kinds : [...kinds].reverse()) {
        const run = await load(kind, roundS)
        runs.get(kind)!.push(run)
        const f = run.figures
        print(
          `  round ${r}/${options.rounds}, ${kind}, ${roundS} s: ${f.reqPerSec.toFixed(1)} sign-ins/s, p99 ${ms(f.latencyMs.p99)}, server CPU ${(f.serverCpuUsPerRequest / 1000).toFixed(1)} ms each, unexpected ${run.unexpected}, others ${restCores(run)} core`,
        )
        if (run.stoppedEarly) throw new Error('the identifiants or addresses ran out: use more --accounts')
      }
    }
    const afterLoad = memoryOf(pid)
    const threads = Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1])
    const limitChecks: LimitCheck[] = await checkLimits(
      port,
      form('wrong-password'),
      rotation,
      limits.perAddress,
      limits.perIdentifiant,
    )
    // the checks included: what the server counted against each identifiant over the whole run
    const identifiantUse = { distinct: rotation.distinctUsed, maxPerIdentifiant: rotation.maxUses }
    const addressesUsed = rotation.addresses
    await server.stop()
    print()

    const byKind = kinds.map((kind) => mergeKind(kind, runs.get(kind)!))
    const [valid, wrong, unknown] = byKind as [KindFigures, KindFigures, KindFigures]
    const chosen = argon2[0]!
    const failures = [
      ...byKind
        .filter((k) => k.unexpected > 0 || k.errors > 0 || k.timeouts > 0)
        .map((k) => `${k.kind}: unexpected responses or errors`),
      ...(warmup.unexpected > 0 ? ['warm-up: unexpected responses'] : []),
      ...limitChecks.filter((c) => !c.enforced).map((c) => `limit ${c.limit} not enforced (${c.statuses})`),
      ...(identifiantUse.maxPerIdentifiant > limits.perIdentifiant
        ? ['an identifiant went past its limit']
        : []),
    ]
    const report = [
      '== Results ==',
      '',
      `argon2id in-process (one call at a time, so one core; ${options.argon2S} s each)`,
      ...argon2.flatMap(argon2Lines),
      `  ${concurrent.calls} verifications started at once: ${ms(concurrent.wallMs)} for all, peak RSS +${mb(concurrent.peakGrowthBytes)} (libuv pool of ${concurrent.threadpool})`,
      '',
      `POST /connexion, ${options.connections} connections, ${options.durationS} s per kind in ${options.rounds} alternating round(s), after a ${options.warmupS} s warm-up`,
      `  every request: another identifiant (round-robin over ${options.accounts}), another X-Forwarded-For (198.18.0.0/15), one CSRF token + cookie`,
      ...byKind.flatMap(kindLines),
      `  failed sign-in vs right one: server CPU ${((wrong.serverCpuUsPerRequest / valid.serverCpuUsPerRequest - 1) * 100).toFixed(1)}% (wrong password), ${((unknown.serverCpuUsPerRequest / valid.serverCpuUsPerRequest - 1) * 100).toFixed(1)}% (unknown identifiant); p50 ${ms(valid.latencyMs.p50)} / ${ms(wrong.latencyMs.p50)} / ${ms(unknown.latencyMs.p50)}`,
      `  in-process verify on one core: ${chosen.verify.perSecond.toFixed(1)}/s (${ms(chosen.verify.ms.mean)} each)`,
      `  server: RSS after boot ${mb(afterBoot.rss)}, after warm-up ${mb(afterWarmup.rss)}, after load ${mb(afterLoad.rss)}, peak (VmHWM) ${mb(afterLoad.peak)}; ${threads} threads`,
      `  identifiants: ${identifiantUse.distinct} used, at most ${identifiantUse.maxPerIdentifiant} attempts each (limit ${limits.perIdentifiant}); ${addressesUsed} client addresses`,
      ...limitChecks.map(
        (c) => `  limit ${c.limit}: ${c.statuses} -> ${c.enforced ? 'enforced' : 'NOT ENFORCED'}`,
      ),
      '',
      failures.length === 0 ? 'All checks passed.' : `FAILED: ${failures.join('; ')}`,
      '',
    ]
    for (const line of report) print(line)

    const finishedAt = new Date()
    print(`load average at the end ${loadAverage().join(' ')}`)
    const kindJson = (k: KindFigures) => ({ ...k, latencyMs: summaryJson(k.latencyMs) })
    const results = {
      benchmark: 'sign-in',
      date,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      command: ['npm run bench -- sign-in', ...argv].join(' '),
      options: { ...options, pgUrl: undefined },
      machine: { ...machine, loadAverageAtEnd: loadAverage() },
      argon2: {
        concurrent: { ...concurrent, setting: settings[0] },
        settings: argon2.map((a) => ({
          ...a,
          verify: { ...a.verify, ms: summaryJson(a.verify.ms) },
          hash: { ...a.hash, ms: summaryJson(a.hash.ms) },
        })),
      },
      http: {
        accounts: options.accounts,
        connections: options.connections,
        bootMs: round(server.bootMs, 1),
        memory: {
          afterBoot: { rssBytes: afterBoot.rss, peakBytes: afterBoot.peak },
          afterWarmup: { rssBytes: afterWarmup.rss, peakBytes: afterWarmup.peak },
          afterLoad: { rssBytes: afterLoad.rss, peakBytes: afterLoad.peak },
        },
        threads,
        warmup: {
          ...warmup.figures,
          latencyMs: summaryJson(warmup.figures.latencyMs),
          unexpected: warmup.unexpected,
        },
        kinds: byKind.map(kindJson),
        rounds: kinds.flatMap((kind) =>
          runs.get(kind)!.map((r) => ({
            kind,
            ...r.figures,
            latencyMs: summaryJson(r.figures.latencyMs),
            unexpected: r.unexpected,
            restCores: restCores(r),
          })),
        ),
        identifiants: identifiantUse,
        addressesUsed,
        limitChecks,
      },
      failures,
    }
    mkdirSync(resolve(outFile, '..'), { recursive: true })
    writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`)
    print(`raw figures: ${outFile}`)
    print(`finished in ${s(finishedAt.getTime() - startedAt.getTime())}`)
    return failures.length === 0 ? 0 : 1
  }
}
