/**
 * Re-enrolment benchmark (issues 6 and 12): scripted families doing the whole Limonest flow — sign
 * in, the six steps, one 1 MB upload, submit — against the production server on a throw-away
 * Postgres database. Started by run.ts:
 *
 *   npm run bench -- reenrolment                       # open loop: 1,000 flows per minute for 60 s
 *   npm run bench -- reenrolment --rate 300 --duration 20
 *   npm run bench -- reenrolment --concurrency 50      # closed loop: 50 families at once
 *
 * Open loop (the default): a new family starts its flow every 60,000 / RATE ms whatever the number
 * of flows in flight, as families arrive on a real site; each request's latency runs from when it
 * was due (the flow's scheduled start for its first request, the previous answer for the others),
 * so a late load generator adds to the latency instead of hiding it. Closed loop: CONCURRENCY
 * families, each starting its next flow as soon as one ends; its latency is then decided by
 * Little's law and has no target.
 *
 * Each flow is a new family (a pupil is re-enrolled once). Figures: completed flows per minute,
 * each step's latency (p50, p99, max, over its requests), the CPU per completed flow of the server,
 * Postgres and the load generator, the statements per request, the server's memory.
 *
 * Bounded: a fixed duration, loopback only; its database and temp directory are removed at the end,
 * also on failure and on Ctrl-C. See load-tests/README.md.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { parse as parseYaml, stringify } from 'yaml'
import { allEntities } from '../src/entities.ts'
import { Family, Guardian } from '../src/features/family/entities.ts'
import { Pupil } from '../src/features/pupils/entities.ts'
import { Reenrolment } from '../src/features/reenrolment/entities.ts'
import { Course, Enrolment, SchoolYear, Teacher } from '../src/features/teaching/entities.ts'
import { Account } from '../src/platform/auth/entities.ts'
import { hashPassword } from '../src/platform/auth/passwords.ts'
import { openOrm } from '../src/platform/db/orm.ts'
import { createTenant, migratePlatform } from '../src/platform/tenancy/provisioning.ts'
import { schemaFor } from '../src/platform/tenancy/registry.ts'
import { loadTenantConfigs } from '../src/platform/tenancy/tenant-config.ts'
import {
  cores,
  cpuWatch,
  describeMachine,
  integer,
  loadAverage,
  print,
  productionEnv,
  root,
  scratch,
} from './harness/common.ts'
import { csrfOf, FamilyClient, multipart, pdfOf, type Reply, wizardFields } from './harness/family-client.ts'
import { databaseUrl, recreateDatabase } from './harness/postgres.ts'
import { mb, ms, s } from './harness/report.ts'
import {
  countQueriesEnv,
  freePort,
  memoryOf,
  postgresCpuWatch,
  readQueryCounts,
  startServer,
  threadCpuOf,
} from './harness/server.ts'
import { round, roundSummary, type Summary, summarize } from './harness/stats.ts'

const password = 'une phrase de passe pour le banc'
const slug = 'bench-limonest'
const host = `${slug}.localhost`

const steps = [
  'sign-in',
  'choice',
  'coordinates',
  'authorizations',
  'documents',
  'upload',
  'courses',
  'summary',
  'finalize',
] as const
type StepName = (typeof steps)[number]

/** The issue's targets: server CPU per completed flow, and each step's p99 in the open loop. */
const targetServerCpuMs = 30
const targetStepP99Ms = 150

const usage = `Usage: npm run bench -- reenrolment [options]   (each option also read from the environment)

  --rate N         RATE         open loop: flows started per minute, one every 60,000 / N ms (default 1000)
  --concurrency N  CONCURRENCY  closed loop instead: N families at once, each flow after the other
  --duration S     DURATION     seconds during which flows start; those started finish (default 60)
  --families N     FAMILIES     families seeded, one flow each (default: the flows the open loop
                                starts; 3000 in a closed loop)
  --upload-kb N    UPLOAD_KB    size of the uploaded document in KiB (default 1024)
  --pg-url URL     PG_URL       Postgres server, trust auth (default postgres://postgres@127.0.0.1:5432)
  --out FILE       BENCH_OUT    JSON results (default load-tests/results/reenrolment-<date>.json)
`

/** Limonest's own YAML, under the bench's slug: its six steps, its documents, its texts. */
function tenantFile(dir: string): void {
  const yaml = parseYaml(readFileSync(join(root, 'tenants/limonest.yaml'), 'utf8'))
  yaml.slug = slug
  delete yaml.hosts
  yaml.periods = { reenrolment: { opens: 'today-1', closes: 'today+30', schoolYear: '2099-2100' } }
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, `${slug}.yaml`), stringify(yaml))
}

/** Families with one pupil each, enrolled this year in clarinet, formation musicale and orchestra. */
async function seed(url: string, tenantsDir: string, families: number): Promise<number[]> {
  const [config] = loadTenantConfigs(tenantsDir)
  const orm = await openOrm({ kind: 'postgres', url }, { entities: allEntities, poolSize: 4 })
  try {
    await migratePlatform(orm)
    await createTenant(orm, config!)
    const em = orm.em.fork({ schema: schemaFor(slug) })
    const year = em.create(SchoolYear, {
      label: '2098-2099',
      startsOn: '2000-09-01',
      endsOn: '2099-08-31',
      current: true,
    })
    const teacher = em.create(Teacher, { firstName: 'Hélène', lastName: 'Rivière' })
    const courses = ['clarinette', 'formation-musicale', 'orchestre'].map((discipline) =>
      em.create(Course, {
        schoolYear: year,
        discipline,
        establishment: config!.establishments[0]!.code,
        name: discipline,
        teacher,
        slot: 'Mercredi 14h00',
      }),
    )
    await em.flush()
    const passwordHash = await hashPassword(password)
    const pupilIds: number[] = []
    for (let start = 0; start < families; start += 500) {
      const batch = em.fork()
      const pupils: Pupil[] = []
      for (let i = start; i < Math.min(families, start + 500); i++) {
        const identifiant = `famille-${String(i + 1).padStart(5, '0')}`
        const account = batch.create(Account, {
          identifiant,
          role: 'family',
          email: `${identifiant}@example.org`,
          displayName: `Famille ${i + 1}`,
          passwordHash,
        })
        const family = batch.create(Family, { resident: true, paymentMode: 'payfip' })
        batch.create(Guardian, {
          family,
          rank: 1,
          civility: 'Madame',
          lastName: `Banc${i + 1}`,
          firstName: 'Camille',
          address: '1 place du Marché',
          postalCode: '69760',
          city: 'Limonest',
          phoneMobile: '06 12 34 56 78',
          email: `${identifiant}@example.org`,
          extraPhones: [],
          account,
        })
        const pupil = batch.create(Pupil, {
          family,
          civility: 'Madame',
          lastName: `Banc${i + 1}`,
          firstName: 'Léa',
          birthDate: '2014-09-01',
          schoolLevel: 'CM2',
          school: 'Non scolarisé·e',
          imageRights: true,
          exitAuthorization: true,
        })
        for (const course of courses)
          batch.create(Enrolment, { pupil, course: batch.getReference(Course, course.id) })
        pupils.push(pupil)
      }
      await batch.flush()
      pupilIds.push(...pupils.map((p) => p.id))
    }
    return pupilIds
  } finally {
    await orm.close()
  }
}

interface Timings {
  /** Each request's latency by step, from when the request was due to its answer's last byte. */
  byStep: Map<StepName, number[]>
  /** How long after it was due each request was sent: the load generator's own delay. */
  sendDelays: number[]
  unexpected: string[]
}

/**
 * One family's whole flow, due to start at `due` (performance.now() time). Every request is due when
 * the answer before it arrived (the first when the flow was due): the family clicks at once. Its
 * latency runs from then, so the harness' own delays (a late timer, parsing the form, a busy event
 * loop) count in it, never hide a slow answer; they are also kept apart in `sendDelays`. A request
 * that gets no answer (a timeout, a reset) counts with the time it waited.
 */
async function flow(
  client: FamilyClient,
  number: number,
  pupilId: number,
  upload: Buffer,
  timings: Timings,
  due: number,
): Promise<boolean> {
  let next = due
  const time = async (step: StepName, request: Promise<Reply>, expected: number) => {
    const reply = await request.catch((error: Error) => {
      // a timeout or a reset is an answer that never came: its wait is a latency too, the longest
      timings.byStep.get(step)!.push(performance.now() - next)
      throw error
    })
    timings.byStep.get(step)!.push(reply.end - next)
    timings.sendDelays.push(reply.start - next)
    next = reply.end
    if (reply.status !== expected) {
      if (timings.unexpected.length < 20)
        timings.unexpected.push(
          `${step}: ${reply.status} (expected ${expected}) ${reply.headers.location ?? ''}`,
        )
      throw new Error(step)
    }
    return reply
  }
  const base = `/eleves/${pupilId}/reinscription`
  const identifiant = `famille-${String(number).padStart(5, '0')}`
  try {
    const signInPage = await time('sign-in', client.get('/connexion'), 200)
    await time(
      'sign-in',
      client.post('/connexion', {
        _csrf: csrfOf(signInPage.body, '/connexion'),
        identifiant,
        password,
      }),
      303,
    )
    const choice = await time('choice', client.get(base), 200)
    await time(
      'choice',
      client.post(`${base}/commencer`, { _csrf: csrfOf(choice.body, `${base}/commencer`) }),
      303,
    )
    const stepPost = async (step: StepName, path: string, changes: Record<string, string>) => {
      const page = await time(step, client.get(`${base}/${path}`), 200)
      return time(step, client.post(`${base}/${path}`, { ...wizardFields(page.body), ...changes }), 303)
    }
    await stepPost('coordinates', 'coordonnees', { paymentMode: 'payfip', action: 'next' })
    await stepPost('authorizations', 'autorisations', {
      imageRights: 'true',
      exitAuthorization: 'true',
      action: 'next',
    })
    const documents = await time('documents', client.get(`${base}/documents`), 200)
    const back = `${base}/documents`
    const action = `/eleves/${pupilId}/pieces?retour=${encodeURIComponent(back)}`
    const token = csrfOf(documents.body, action)
    const { body, contentType } = multipart(
      { _csrf: token, document: 'responsabilite-civile' },
      { name: 'file', fileName: 'assurance.pdf', contentType: 'application/pdf', content: upload },
    )
    await time('upload', client.send('POST', action, body, contentType), 303)
    await time(
      'documents',
      client.post(`${base}/documents`, { ...wizardFields(documents.body), action: 'next' }),
      303,
    )
    await stepPost('courses', 'cours', { notes: 'Banc de charge', action: 'next' })
    await stepPost('summary', 'recapitulatif', { action: 'next' })
    const final = await stepPost('finalize', 'finalisation', { accepted: 'true', action: 'submit' })
    return final.headers.location === `${base}?envoye=1`
  } catch (error) {
    if (timings.unexpected.length < 20 && !steps.includes((error as Error).message as StepName))
      timings.unexpected.push(String(error))
    return false
  } finally {
    client.close()
  }
}

/** Open loop: flows started at a fixed rate whatever is in flight; closed loop: N families at once. */
type Mode = { kind: 'open'; perMinute: number } | { kind: 'closed'; concurrency: number }

export async function reenrolmentBenchmark(argv: string[]): Promise<number> {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      rate: { type: 'string' },
      concurrency: { type: 'string' },
      duration: { type: 'string' },
      families: { type: 'string' },
      'upload-kb': { type: 'string' },
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
  const closed = (args.concurrency ?? env.CONCURRENCY ?? '') !== ''
  if (closed && (args.rate ?? env.RATE ?? '') !== '')
    throw new Error('RATE (open loop) and CONCURRENCY (closed loop) exclude each other')
  const mode: Mode = closed
    ? { kind: 'closed', concurrency: integer('CONCURRENCY', args.concurrency, env.CONCURRENCY, 50) }
    : { kind: 'open', perMinute: integer('RATE', args.rate, env.RATE, 1000) }
  const durationS = integer('DURATION', args.duration, env.DURATION, 60)
  // the open loop starts one flow at each 60,000 / RATE ms strictly before the end
  const scheduled = mode.kind === 'open' ? Math.ceil((mode.perMinute * durationS) / 60) : undefined
  const options = {
    mode,
    durationS,
    families: integer('FAMILIES', args.families, env.FAMILIES, scheduled ?? 3000),
    uploadKb: integer('UPLOAD_KB', args['upload-kb'], env.UPLOAD_KB, 1024),
    pgUrl: args['pg-url'] ?? env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432',
  }
  if (scheduled !== undefined && options.families < scheduled)
    throw new Error(
      `FAMILIES must be at least ${scheduled}: the open loop starts that many flows, one per family`,
    )
  const date = new Date().toISOString().slice(0, 10)
  const outFile = resolve(
    args.out ?? env.BENCH_OUT ?? join(root, 'load-tests/results', `reenrolment-${date}.json`),
  )
  const database = 'tutti_bench_reenrolment'
  const work = scratch(options.pgUrl, [database], 'tutti-bench-reenrolment-')
  try {
    const machine = describeMachine(options.pgUrl)
    print(`Tutti re-enrolment benchmark, ${new Date().toISOString()}`)
    print(
      `  ${machine.cpus} CPU(s) ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, Postgres ${machine.postgres}`,
    )
    print(`  load average ${machine.loadAverageAtStart.join(' ')}`)
    print(
      `  ${mode.kind === 'open' ? `open loop: a flow started every ${(60_000 / mode.perMinute).toFixed(1)} ms (${mode.perMinute} per minute)` : `closed loop: ${mode.concurrency} families at once`} for ${options.durationS} s, ${options.families} families seeded, ${options.uploadKb} KiB upload`,
    )
    const tenantsDir = join(work.dir, 'tenants')
    tenantFile(tenantsDir)
    recreateDatabase(options.pgUrl, database)
    const url = databaseUrl(options.pgUrl, database)
    const seedStart = performance.now()
    const pupilIds = await seed(url, tenantsDir, options.families)
    print(`  seeded ${pupilIds.length} families in ${s(performance.now() - seedStart)}`)

    const port = await freePort()
    const dataDir = join(work.dir, 'data')
    mkdirSync(dataDir)
    const queryCountFile = join(work.dir, 'queries.json')
    // a V8 CPU profile of the server, to see where a flow's time goes
    const profile = env.BENCH_CPU_PROF ? [`--cpu-prof --cpu-prof-dir=${resolve(env.BENCH_CPU_PROF)}`] : []
    const server = await startServer({
      root,
      env: {
        ...productionEnv({ databaseUrl: url, tenantsDir, dataDir, port }),
        ...countQueriesEnv(root, queryCountFile, profile),
      },
      port,
      logFile: join(work.dir, 'server.log'),
      bootTimeoutMs: 60_000,
    })
    const pid = server.child.pid!
    const upload = pdfOf(options.uploadKb * 1024)
    const timings: Timings = {
      byStep: new Map(steps.map((step) => [step, []])),
      sendDelays: [],
      unexpected: [],
    }
    const before = memoryOf(pid)
    const cpuBefore = threadCpuOf(pid)
    const watch = cpuWatch()
    const postgresWatch = postgresCpuWatch(database)
    let startedFlows = 0
    let completed = 0
    let failed = 0
    let inFlight = 0
    let maxInFlight = 0
    /** Family i's flow, due at `due`. */
    const run = async (i: number, due: number) => {
      startedFlows++
      maxInFlight = Math.max(maxInFlight, ++inFlight)
      // each family from its own address, as from its own home: the sign-in limits stay on
      const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`
      const ok = await flow(new FamilyClient(port, host, address), i + 1, pupilIds[i]!, upload, timings, due)
      inFlight--
      if (ok) completed++
      else failed++
    }
    const started = performance.now()
    const deadline = started + options.durationS * 1000
    if (mode.kind === 'open') {
      const everyMs = 60_000 / mode.perMinute
      const flows: Promise<void>[] = []
      for (let i = 0; started + i * everyMs < deadline; i++) {
        const due = started + i * everyMs
        const wait = due - performance.now()
        if (wait > 0) await sleep(wait)
        flows.push(run(i, due))
      }
      await Promise.all(flows)
    } else {
      let next = 0
      const worker = async () => {
        while (performance.now() < deadline && next < pupilIds.length) await run(next++, performance.now())
      }
      await Promise.all(Array.from({ length: mode.concurrency }, worker))
    }
    const wallMs = performance.now() - started
    const cpu = watch()
    const postgresCpu = postgresWatch()
    const cpuAfter = threadCpuOf(pid)
    const serverCpuMs = cpuAfter.total - cpuBefore.total
    const after = memoryOf(pid)
    await server.stop()
    const queries = readQueryCounts(queryCountFile)

    const check = await openOrm({ kind: 'postgres', url }, { entities: allEntities, poolSize: 1 })
    const submitted = await check.em
      .fork({ schema: schemaFor(slug) })
      .count(Reenrolment, { status: 'submitted' })
    await check.close()

    const perMinute = round((completed / wallMs) * 60_000, 1)
    const perFlow = (x: number) => round(x / Math.max(completed, 1), 1)
    const flowCpu = {
      server: perFlow(serverCpuMs),
      serverMainThread: perFlow(cpuAfter.main - cpuBefore.main),
      serverThreadPool: perFlow(cpuAfter.pool - cpuBefore.pool),
      postgresBackends: perFlow(postgresCpu.backends),
      postgresBackground: perFlow(postgresCpu.background),
      loadGenerator: perFlow(cpu.harnessMs),
    }
    const totalQueries = Object.values(queries).reduce((sum, x) => sum + x.queries, 0)
    const stepFigures = Object.fromEntries(
      steps.map((step) => [step, summarize(timings.byStep.get(step)!)]),
    ) as Record<StepName, Summary>
    const sendDelay = summarize(timings.sendDelays)
    print()
    print('== Results ==')
    print(
      `  ${startedFlows} flows started, ${completed} completed, ${failed} failed, in ${s(wallMs)} (the last flows finishing after the ${options.durationS} s): ${perMinute} completed flows per minute`,
    )
    if (mode.kind === 'open')
      print(`  offered ${mode.perMinute} flows per minute; at most ${maxInFlight} flows in flight at once`)
    print(`  ${submitted} re-enrolments submitted in the database`)
    print(
      `  CPU per completed flow: server ${flowCpu.server} ms (main thread ${flowCpu.serverMainThread}, libuv pool ${flowCpu.serverThreadPool}, the rest V8's helper threads), Postgres ${flowCpu.postgresBackends} ms in this database's backends (+ ${flowCpu.postgresBackground} ms in its shared background processes), load generator ${flowCpu.loadGenerator} ms`,
    )
    print(
      `  cores busy: machine ${cores(cpu.machineMs, cpu.wallMs)}, server ${cores(serverCpuMs, cpu.wallMs)}, Postgres ${cores(postgresCpu.backends + postgresCpu.background, cpu.wallMs)}, load generator ${cores(cpu.harnessMs, cpu.wallMs)}`,
    )
    print(`  ${perFlow(totalQueries)} statements to Postgres per flow; per request, by request:`)
    for (const [key, x] of Object.entries(queries))
      print(
        `    ${key.padEnd(46)} ${String(x.requests).padStart(6)} requests  ${x.requests ? `${(x.queries / x.requests).toFixed(2)} statements each` : `${x.queries} statements in all`}`,
      )
    print(`  server RSS ${mb(before.rss)} before, ${mb(after.rss)} after, peak ${mb(after.peak)}`)
    print(
      `  latency per request, by step, from when the request was due${mode.kind === 'closed' ? " (closed loop: set by Little's law, no target)" : ''}:`,
    )
    for (const step of steps) {
      const x = stepFigures[step]
      print(
        `    ${step.padEnd(15)} n=${String(x.count).padStart(6)}  p50 ${ms(x.p50)}  p90 ${ms(x.p90)}  p99 ${ms(x.p99)}  max ${ms(x.max)}`,
      )
    }
    print(
      `  the load generator sent requests p50 ${ms(sendDelay.p50)}, p99 ${ms(sendDelay.p99)}, max ${ms(sendDelay.max)} after they were due (its own delay, counted in the latencies above)`,
    )
    for (const u of timings.unexpected) print(`  ! ${u}`)
    const slowSteps = steps.filter((step) => !(stepFigures[step].p99 < targetStepP99Ms))
    const targets = [
      ...(mode.kind === 'closed'
        ? [{ name: 'at least 1,000 flows per minute', pass: perMinute >= 1000, value: perMinute }]
        : [
            {
              name: `each step's p99 under ${targetStepP99Ms} ms, open loop at ${mode.perMinute} flows per minute`,
              pass: slowSteps.length === 0,
              value: slowSteps,
            },
          ]),
      {
        name: `server CPU per completed flow at most ${targetServerCpuMs} ms`,
        pass: flowCpu.server <= targetServerCpuMs,
        value: flowCpu.server,
      },
      { name: 'no failed flow', pass: failed === 0 && submitted === completed, value: failed },
    ]
    print('Targets')
    for (const target of targets)
      print(`  ${target.pass ? 'PASS' : 'FAIL'}  ${target.name} (${JSON.stringify(target.value)})`)
    print(`load average at the end ${loadAverage().join(' ')}`)
    mkdirSync(resolve(outFile, '..'), { recursive: true })
    writeFileSync(
      outFile,
      `${JSON.stringify(
        {
          benchmark: 'reenrolment',
          date,
          command: ['npm run bench -- reenrolment', ...argv].join(' '),
          options: { ...options, pgUrl: undefined },
          machine: { ...machine, loadAverageAtEnd: loadAverage() },
          started: startedFlows,
          completed,
          failed,
          submitted,
          maxInFlight,
          wallMs: round(wallMs, 1),
          flowsPerMinute: perMinute,
          serverCpuMsPerFlow: flowCpu.server,
          cpuMsPerFlow: flowCpu,
          statementsPerFlow: perFlow(totalQueries),
          statementsByRequest: queries,
          memory: { before, after },
          steps: Object.fromEntries(steps.map((step) => [step, roundSummary(stepFigures[step])])),
          sendDelayMs: roundSummary(sendDelay),
          unexpected: timings.unexpected,
          targets,
        },
        null,
        2,
      )}\n`,
    )
    print(`raw figures: ${outFile}`)
    return targets.every((t) => t.pass) ? 0 : 1
  } finally {
    await work.cleanup()
  }
}
