/**
 * Pages benchmark (issue 12): what each signed-in page costs against a floor measured in the same
 * run, and the staff queues and family pages of a big tenant. Started by run.ts:
 *
 *   npm run bench -- pages                             # about 12 minutes
 *   npm run bench -- pages --duration 4 --warmup 1     # a quick run
 *
 * The demo data of tenants/ (the seed `npm start` runs) on a throw-away database, the production
 * server with the statements it sends counted by request (harness/count-queries.ts), and the floor
 * of DESIGN.md §9 (harness/floor.ts: bare Fastify, one schema-qualified query, one nunjucks render)
 * as a process of its own. Every page of the family `demo-famille` and of `demo-admin` on Limonest is
 * loaded with autocannon right after a floor run of the same length: its req/s as a share of the
 * floor's, its latency, its statements and the server's CPU per request. Then a tenant of 3,000
 * families with full staff queues (harness/big-tenant.ts), its queues' first and third pages, its
 * families list (searched, filtered, third page), the Élèves list (whole, filtered, searched, third
 * page, its CSV) and one family's pages, each p99 against 50 ms.
 *
 * Bounded: fixed durations, loopback only; its database, processes and temp directory are removed at
 * the end, also on failure and on Ctrl-C. See load-tests/README.md.
 */
import { cpSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { parse } from 'node-html-parser'
import { demoPassword, seedDemoAccounts } from '../src/demo/accounts.ts'
import { seedDemo } from '../src/demo/seed.ts'
import { allEntities } from '../src/entities.ts'
import { openOrm } from '../src/platform/db/orm.ts'
import { provisionAll } from '../src/platform/tenancy/provisioning.ts'
import { schemaFor } from '../src/platform/tenancy/registry.ts'
import { loadTenantConfigs } from '../src/platform/tenancy/tenant-config.ts'
import { type BigSeed, bigSurname, seedBigTenant, writeBigTenantFile } from './harness/big-tenant.ts'
import {
  cores,
  describeMachine,
  integer,
  loadAverage,
  print,
  productionEnv,
  root,
  runInScratch,
  scratch,
} from './harness/common.ts'
import { csrfOf, FamilyClient } from './harness/family-client.ts'
import { type LoadFigures, type LoadRun, pageLoad } from './harness/load.ts'
import { databaseUrl, recreateDatabase } from './harness/postgres.ts'
import { ms, s } from './harness/report.ts'
import { requestKey } from './harness/request-key.ts'
import {
  countQueriesEnv,
  freePort,
  readQueryCounts,
  type Server,
  send,
  startServer,
} from './harness/server.ts'
import { round, roundSummary } from './harness/stats.ts'

const database = 'tutti_bench_pages'
export const demoSlug = 'limonest'
const bigSlug = 'bench-big'

/** The wizard's step pages of Limonest's six-step re-enrolment, in order. */
const steps = ['coordonnees', 'autorisations', 'documents', 'cours', 'recapitulatif', 'finalisation']

const targets = { shareOfFloor: 0.25, familyStatements: 5, bigP99Ms: 50 } as const

const usage = `Usage: npm run bench -- pages [options]   (each option also read from the environment)

  --connections N      CONNECTIONS      autocannon connections on the demo tenant and the floor (default 20)
  --duration S         DURATION         measured seconds per page, and per floor run before it (default 8)
  --warmup S           WARMUP           warm-up seconds before each page, not measured; 0: none (default 2)
  --big-connections N  BIG_CONNECTIONS  connections on the big tenant (default 10)
  --big-families N     BIG_FAMILIES     families of the big tenant, 1.5 pupils and 3 enrolments each (default 3000)
  --queue N            QUEUE            items in each staff queue of the big tenant (default 300)
  --skip-big           SKIP_BIG=1       the demo tenant only
  --pg-url URL         PG_URL           Postgres server, trust auth (default postgres://postgres@127.0.0.1:5432)
  --out FILE           BENCH_OUT        JSON results (default load-tests/results/pages-<date>.json)
`

type Who = 'anonymous' | 'family' | 'staff'

export interface Page {
  who: Who
  /** The path with ids as `:id`, as the table shows it. */
  label: string
  path: string
  host: string
  /** The browser's cookies, for a signed-in page. */
  cookie?: string
  /**
   * What tells the page from an error page or a sign-in form: its h1, or a text it shows; and its
   * content type when it is not HTML (an export).
   */
  expect: { h1?: string; text?: string; contentType?: string }
}

interface PageFigures {
  page: Page
  load: LoadFigures
  /** The floor run just before, for the demo tenant's pages. */
  floor?: LoadFigures
  /** Statements per request from the server's counts; NaN when the page was never counted. */
  statements: number
  /** Cores busy over the page's run: the whole machine, and the load generator (this process). */
  cores: { machine: number; loadGenerator: number }
}

export const cookieOf = (client: FamilyClient) => [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ')

/** Signs in as a browser does (the form, its CSRF token, the POST); the client keeps the cookies. */
export async function signIn(
  port: number,
  host: string,
  path: string,
  identifiant: string,
  address: string,
): Promise<FamilyClient> {
  const client = new FamilyClient(port, host, address)
  const form = await client.get(path)
  if (form.status !== 200) throw new Error(`GET ${path} on ${host}: ${form.status}`)
  const reply = await client.post(path, {
    _csrf: csrfOf(form.body, path),
    identifiant,
    password: demoPassword,
  })
  if (reply.status !== 303)
    throw new Error(`sign-in of ${identifiant} at ${host}${path}: ${reply.status}, expected a 303`)
  return client
}

/**
 * The family's pages, found as a browser finds them: `/eleves` sends to the first pupil, whose name
 * is read from the Identité form; a re-enrolment draft is started for that pupil (the choice page's
 * "Je souhaite réinscrire") so that the wizard's step pages exist.
 */
export async function familyPages(client: FamilyClient, host: string): Promise<Page[]> {
  const list = await client.get('/eleves')
  const id = /^\/eleves\/(\d+)$/.exec(String(list.headers.location))?.[1]
  if (list.status !== 303 || !id)
    throw new Error(
      `GET /eleves on ${host}: ${list.status} ${list.headers.location ?? ''}, expected a 303 to a pupil`,
    )
  const pupil = `/eleves/${id}`
  const identity = await client.get(pupil)
  if (identity.status !== 200) throw new Error(`GET ${pupil} on ${host}: ${identity.status}`)
  const form = parse(identity.body)
  const name = ['firstName', 'lastName']
    .map((field) => form.querySelector(`input[name="${field}"]`)?.getAttribute('value') ?? '')
    .join(' ')
    .trim()
  if (!name.includes(' ')) throw new Error(`GET ${pupil} on ${host}: no pupil's name in the Identité form`)

  const base = `${pupil}/reinscription`
  const choice = await client.get(base)
  if (choice.status === 200) {
    const started = await client.post(`${base}/commencer`, {
      _csrf: csrfOf(choice.body, `${base}/commencer`),
    })
    if (started.status !== 303 || started.headers.location !== `${base}/${steps[0]}`)
      throw new Error(
        `POST ${base}/commencer on ${host}: ${started.status} ${started.headers.location ?? ''}`,
      )
  } else if (choice.status !== 303) {
    // a draft already (a run resumed on the same data) sends to its step: anything else is wrong
    throw new Error(`GET ${base} on ${host}: ${choice.status}`)
  }

  const cookie = cookieOf(client)
  const page = (path: string, expect: Page['expect']): Page => ({
    who: 'family',
    label: path.replace(/\d+/g, ':id'),
    path,
    host,
    cookie,
    expect,
  })
  const shows = { text: name }
  return [
    page('/accueil', shows),
    page('/famille', shows),
    page(pupil, shows),
    page(`${pupil}/cours`, shows),
    page('/famille/pieces', { h1: 'Pièces à fournir' }),
    page(`${pupil}/pieces`, shows),
    page(`${pupil}/historique`, shows),
    ...steps.map((step) => page(`${base}/${step}`, shows)),
  ]
}

/** The staff dashboard and queues; with `middle`, each queue's first page and its `?page=3`. */
function staffPages(host: string, cookie: string, options: { middle: boolean; text?: string }): Page[] {
  const page = (path: string, h1: string): Page => ({
    who: 'staff',
    label: path,
    path,
    host,
    cookie,
    expect: { h1, ...(options.text && path !== '/admin' ? { text: options.text } : {}) },
  })
  const queues = [
    ['/admin/changements', 'Modifications à valider'],
    ['/admin/pieces', 'Pièces à valider'],
    ['/admin/reinscriptions', 'Réinscriptions'],
    ['/admin/preinscriptions', 'Pré-inscriptions'],
  ] as const
  // the big tenant's families list: a search by an accented first name every family's pupil has
  // (the whole tenant matches: the worst case), a surname, a filter, and a page in the middle
  const families = [
    `/admin/familles?q=${encodeURIComponent('Léa')}`,
    // a surname as typed at the desk: about a hundred families (Banc-12, Banc-120…, Banc-1200…)
    `/admin/familles?q=${bigSurname.toLowerCase()}-12`,
    '/admin/familles?attente=1',
    '/admin/familles?page=3',
  ]
  // Élèves on a big tenant: the whole list, a discipline, a search by name, a middle page, the export
  const pupils = options.middle
    ? [
        page('/admin/eleves', 'Élèves'),
        page('/admin/eleves?discipline=formation-musicale', 'Élèves'),
        page('/admin/eleves?q=banc-12', 'Élèves'),
        page('/admin/eleves?page=3', 'Élèves'),
        {
          ...page('/admin/eleves/export.csv', ''),
          expect: { contentType: 'text/csv', ...(options.text ? { text: options.text } : {}) },
        },
      ]
    : []
  return [
    page('/admin', 'Tableau de bord'),
    ...queues.flatMap(([path, h1]) =>
      options.middle ? [page(path, h1), page(`${path}?page=3`, h1)] : [page(path, h1)],
    ),
    ...(options.middle
      ? families.map((path) => page(path, 'Familles'))
      : [page('/admin/familles', 'Familles')]),
    ...pupils,
  ]
}

/**
 * One GET as the load will send it: 200, HTML, and the page's own content. A redirect means the
 * session was lost (or the page moved): the load would measure the redirect, so it stops here.
 */
async function check(port: number, page: Page): Promise<void> {
  const reply = await send(port, {
    path: page.path,
    host: page.host,
    headers: page.cookie ? { cookie: page.cookie } : {},
    timeoutMs: 10_000,
  })
  const where = `GET ${page.path} on ${page.host}`
  if (reply.status >= 300 && reply.status < 400)
    throw new Error(
      `${where}: ${reply.status} to ${reply.headers.location}${page.cookie ? ': the session was lost' : ''}`,
    )
  if (reply.status !== 200) throw new Error(`${where}: ${reply.status}`)
  const contentType = page.expect.contentType ?? 'text/html'
  if (!String(reply.headers['content-type']).startsWith(contentType))
    throw new Error(`${where}: ${reply.headers['content-type']}, expected ${contentType}`)
  if (contentType !== 'text/html') {
    if (page.expect.text && !reply.body.includes(page.expect.text))
      throw new Error(`${where}: the file does not hold "${page.expect.text}"`)
    return
  }
  const html = parse(reply.body)
  const h1 = html.querySelector('h1')?.text ?? ''
  if (page.expect.h1 && !h1.includes(page.expect.h1))
    throw new Error(`${where}: h1 "${h1.trim()}", expected "${page.expect.h1}"`)
  if (page.expect.text && !html.text.includes(page.expect.text))
    throw new Error(`${where}: the page does not show "${page.expect.text}" (h1 "${h1.trim()}")`)
}

/**
 * A load run's figures, once every answer is known to be the page: any status but 200 stops the
 * benchmark (a 303 means the session was lost), and so does a connection error. Timeouts (no answer
 * within autocannon's 10 s) are a slow page, not a broken one: they stay in the figures and fail
 * the targets.
 */
function measured(run: LoadRun, what: string): LoadFigures {
  const f = run.figures
  const others = Object.entries(f.statusCodes).filter(([code]) => code !== '200')
  // autocannon counts timeouts among its errors
  if (others.length > 0 || f.errors > f.timeouts) {
    const redirects = others.some(([code]) => code.startsWith('3'))
    throw new Error(
      `${what}: statuses ${JSON.stringify(f.statusCodes)}, ${f.errors - f.timeouts} connection errors${redirects ? ' (a redirect: the session was lost)' : ''}`,
    )
  }
  return f
}

interface Loader {
  server: Server
  connections: number
  durationS: number
  warmupS: number
}

/**
 * Checks a page, warms it up, runs the floor when given (right before the page, so that both see
 * the same machine), then the page, and checks the page again.
 */
async function loadPage(
  loader: Loader,
  page: Page,
  floor?: { server: Server; host: string },
): Promise<Omit<PageFigures, 'statements'>> {
  const { server } = loader
  const run = (durationS: number) =>
    pageLoad({
      port: server.port,
      pid: server.child.pid!,
      path: page.path,
      host: page.host,
      cookie: page.cookie,
      connections: loader.connections,
      durationS,
    })
  await check(server.port, page)
  if (loader.warmupS > 0) measured(await run(loader.warmupS), `${page.path} (warm-up)`)
  const floorFigures = floor
    ? measured(
        await pageLoad({
          port: floor.server.port,
          pid: floor.server.child.pid!,
          path: '/',
          host: floor.host,
          connections: loader.connections,
          durationS: loader.durationS,
        }),
        'the floor',
      )
    : undefined
  const measuredRun = await run(loader.durationS)
  const load = measured(measuredRun, page.path)
  const cpu = measuredRun.share
  // still signed in, still the page: the load measured what was checked
  await check(server.port, page)
  const share = floorFigures
    ? `, ${percent(load.reqPerSec / floorFigures.reqPerSec)} of the floor's ${floorFigures.reqPerSec.toFixed(0)}`
    : ''
  print(
    `  ${page.host} ${page.label}: ${load.reqPerSec.toFixed(0)} req/s${share}, p99 ${p99(load)}, server ${cpuMs(load)} ms CPU/req; cores busy ${cores(cpu.machineMs, cpu.wallMs)} (load generator ${cores(cpu.harnessMs, cpu.wallMs)})`,
  )
  return {
    page,
    load,
    floor: floorFigures,
    cores: { machine: cores(cpu.machineMs, cpu.wallMs), loadGenerator: cores(cpu.harnessMs, cpu.wallMs) },
  }
}

const percent = (ratio: number) => `${(ratio * 100).toFixed(0)} %`
const cpuMs = (f: LoadFigures) => (f.serverCpuUsPerRequest / 1000).toFixed(2)
/** A latency, or a dash when no request was answered within the run. */
const latency = (value: number) => (Number.isFinite(value) ? ms(value) : '-')
/** The p99, or how many requests got no answer at all. */
const p99 = (f: LoadFigures) => (f.timeouts ? `${f.timeouts} timeouts` : latency(f.latencyMs.p99))
const p99Under = (f: LoadFigures, limitMs: number) => f.timeouts === 0 && f.latencyMs.p99 < limitMs

/** Plain text columns: the first left-aligned, the others right-aligned. */
export function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)]
}

interface Target {
  name: string
  pass: boolean
  /** The pages past the target. */
  failing: string[]
}

const target = (name: string, failing: PageFigures[]): Target => ({
  name,
  pass: failing.length === 0,
  failing: failing.map((x) => x.page.label),
})

function targetLine(t: Target): string {
  return `  ${t.pass ? 'PASS' : 'FAIL'}  ${t.name}${t.failing.length ? `: ${t.failing.join(', ')}` : ''}`
}

/**
 * A fresh database with the demo data of every tenant of tenants/ (and the big tenant's when asked),
 * its tenant files copied into `dir`: what each scenario's production servers run on.
 */
export async function demoDatabase(
  dir: string,
  pgUrl: string,
  database: string,
  big: { families: number; queue: number } | undefined,
) {
  const tenantsDir = join(dir, 'tenants')
  const dataDir = join(dir, 'data')
  mkdirSync(tenantsDir)
  mkdirSync(dataDir)
  for (const file of readdirSync(join(root, 'tenants')).filter((f) => f.endsWith('.yaml')))
    cpSync(join(root, 'tenants', file), join(tenantsDir, file))
  if (big) writeBigTenantFile(tenantsDir, bigSlug)
  recreateDatabase(pgUrl, database)
  const url = databaseUrl(pgUrl, database)
  return { url, tenantsDir, dataDir, seeded: await seed(url, tenantsDir, big) }
}

/**
 * The statistics autovacuum gathers after a bulk load, gathered at once: without them Postgres
 * plans every queue as if its tables were empty (nested loops over thousands of rows).
 */
async function gatherStatistics(orm: Awaited<ReturnType<typeof openOrm>>): Promise<void> {
  await orm.em.getConnection().execute('analyze')
}

/** Demo data of every tenant of the directory (what `npm start` does), then the big tenant's. */
async function seed(
  url: string,
  tenantsDir: string,
  big: { families: number; queue: number } | undefined,
): Promise<{ demoName: string; demoMs: number; big?: BigSeed & { ms: number } }> {
  const configs = loadTenantConfigs(tenantsDir)
  const orm = await openOrm({ kind: 'postgres', url }, { entities: allEntities, poolSize: 4 })
  try {
    const start = performance.now()
    await provisionAll(orm, configs, () => {})
    await seedDemo(orm, configs)
    await seedDemoAccounts(orm, configs)
    const demoMs = performance.now() - start
    const demoName = configs.find((c) => c.slug === demoSlug)?.name
    if (!demoName) throw new Error(`no tenants/${demoSlug}.yaml`)
    if (!big) {
      await gatherStatistics(orm)
      return { demoName, demoMs }
    }
    const bigStart = performance.now()
    const bigSeed = await seedBigTenant(
      orm,
      configs.find((c) => c.slug === bigSlug)!,
      big.families,
      big.queue,
    )
    await gatherStatistics(orm)
    return { demoName, demoMs, big: { ...bigSeed, ms: performance.now() - bigStart } }
  } finally {
    await orm.close()
  }
}

export async function pagesBenchmark(argv: string[]): Promise<number> {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      connections: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      'big-connections': { type: 'string' },
      'big-families': { type: 'string' },
      queue: { type: 'string' },
      'skip-big': { type: 'boolean' },
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
    bigConnections: integer('BIG_CONNECTIONS', args['big-connections'], env.BIG_CONNECTIONS, 10),
    bigFamilies: integer('BIG_FAMILIES', args['big-families'], env.BIG_FAMILIES, 3000),
    queue: integer('QUEUE', args.queue, env.QUEUE, 300),
    skipBig: args['skip-big'] ?? env.SKIP_BIG === '1',
    pgUrl: args['pg-url'] ?? env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432',
  }
  const date = new Date().toISOString().slice(0, 10)
  const outFile = resolve(args.out ?? env.BENCH_OUT ?? join(root, 'load-tests/results', `pages-${date}.json`))
  const work = scratch(options.pgUrl, [database], 'tutti-bench-pages-')
  const logs = {
    floor: join(work.dir, 'floor.log'),
    demo: join(work.dir, 'server-demo.log'),
    big: join(work.dir, 'server-big.log'),
  }

  return runInScratch(work, Object.values(logs), async () => {
    const startedAt = new Date()
    const machine = describeMachine(options.pgUrl)
    print(`Tutti pages benchmark, ${startedAt.toISOString()}`)
    print(
      `  ${machine.cpus} CPU(s) ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, Postgres ${machine.postgres}`,
    )
    print(
      `  load average ${machine.loadAverageAtStart.join(' ')} (the server, Postgres, the load generator and anything else running share the cores)`,
    )
    print(
      `  ${options.connections} connections, ${options.warmupS} s warm-up + ${options.durationS} s per page, each after ${options.durationS} s of the floor; big tenant: ${options.skipBig ? 'skipped' : `${options.bigFamilies} families, ${options.queue} items per queue, ${options.bigConnections} connections`}`,
    )

    const { url, tenantsDir, dataDir, seeded } = await demoDatabase(
      work.dir,
      options.pgUrl,
      database,
      options.skipBig ? undefined : { families: options.bigFamilies, queue: options.queue },
    )
    print(`  demo data of tenants/ seeded in ${s(seeded.demoMs)}`)
    if (seeded.big)
      print(
        `  ${bigSlug}: ${seeded.big.families} families, ${seeded.big.pupils} pupils, ${seeded.big.enrolments} enrolments over ${seeded.big.courses} courses, ${seeded.big.queue} items per queue, added in ${s(seeded.big.ms)}`,
      )

    /** The production server, its statements counted by request into `countFile`. */
    const production = async (log: string, countFile: string) => {
      const port = await freePort()
      return startServer({
        root,
        env: {
          ...productionEnv({ databaseUrl: url, tenantsDir, dataDir, port }),
          ...countQueriesEnv(root, countFile),
        },
        port,
        logFile: log,
        bootTimeoutMs: 60_000,
      })
    }
    const statementsOf = (counts: ReturnType<typeof readQueryCounts>, page: Page) => {
      const x = counts[requestKey('GET', page.path)]
      return x?.requests ? x.queries / x.requests : Number.NaN
    }
    const demoHost = `${demoSlug}.localhost`

    // 1. the demo tenant, each page after a floor run
    print()
    print(`1. ${demoHost}: each page after a floor run of the same length`)
    const floorPort = await freePort()
    const floor = await startServer({
      root,
      script: 'load-tests/harness/floor.ts',
      readyPath: '/',
      // the server's environment; the floor reads DATABASE_URL, HOST and PORT of it
      env: {
        ...productionEnv({ databaseUrl: url, tenantsDir, dataDir, port: floorPort }),
        FLOOR_SCHEMA: schemaFor(demoSlug),
        FLOOR_IDENTIFIANT: 'demo-famille',
      },
      port: floorPort,
      logFile: logs.floor,
      bootTimeoutMs: 30_000,
    })
    const floorHost = '127.0.0.1'
    const floorCheck = await send(floorPort, { path: '/', host: floorHost })
    if (floorCheck.status !== 200 || !floorCheck.body.includes('Bonjour'))
      throw new Error(`the floor answered ${floorCheck.status}: ${floorCheck.body.slice(0, 200)}`)
    if (options.warmupS > 0)
      measured(
        await pageLoad({
          port: floorPort,
          pid: floor.child.pid!,
          path: '/',
          host: floorHost,
          connections: options.connections,
          durationS: options.warmupS,
        }),
        'the floor (warm-up)',
      )

    const demoCounts = join(work.dir, 'queries-demo.json')
    const demoServer = await production(logs.demo, demoCounts)
    const family = await signIn(demoServer.port, demoHost, '/connexion', 'demo-famille', '198.18.0.1')
    const staff = await signIn(demoServer.port, demoHost, '/admin/connexion', 'demo-admin', '198.18.0.2')
    const demoPages: Page[] = [
      {
        who: 'anonymous',
        label: '/ (anonymous)',
        path: '/',
        host: demoHost,
        expect: { text: seeded.demoName },
      },
      ...(await familyPages(family, demoHost)),
      ...staffPages(demoHost, cookieOf(staff), { middle: false }),
    ]
    family.close()
    staff.close()
    const demoLoader = {
      server: demoServer,
      connections: options.connections,
      durationS: options.durationS,
      warmupS: options.warmupS,
    }
    const demoRuns = []
    for (const page of demoPages)
      demoRuns.push(await loadPage(demoLoader, page, { server: floor, host: floorHost }))
    await demoServer.stop()
    await floor.stop()
    const demoCounted = readQueryCounts(demoCounts)
    const demoFigures: PageFigures[] = demoRuns.map((r) => ({
      ...r,
      statements: statementsOf(demoCounted, r.page),
    }))

    // 2. the big tenant
    let bigFigures: PageFigures[] = []
    let bigCounted: ReturnType<typeof readQueryCounts> = {}
    if (!options.skipBig) {
      const bigHost = `${bigSlug}.localhost`
      print()
      print(
        `2. ${bigHost}: ${options.bigFamilies} families, the staff queues' first and third pages, one family's pages`,
      )
      const bigCounts = join(work.dir, 'queries-big.json')
      const bigServer = await production(logs.big, bigCounts)
      const bigFamily = await signIn(bigServer.port, bigHost, '/connexion', 'demo-famille', '198.18.0.3')
      const bigStaff = await signIn(bigServer.port, bigHost, '/admin/connexion', 'demo-admin', '198.18.0.4')
      const bigPages = [
        ...staffPages(bigHost, cookieOf(bigStaff), { middle: true, text: `${bigSurname}-` }),
        ...(await familyPages(bigFamily, bigHost)),
      ]
      bigFamily.close()
      bigStaff.close()
      const bigLoader = {
        server: bigServer,
        connections: options.bigConnections,
        durationS: options.durationS,
        warmupS: options.warmupS,
      }
      const bigRuns = []
      for (const page of bigPages) bigRuns.push(await loadPage(bigLoader, page))
      await bigServer.stop()
      bigCounted = readQueryCounts(bigCounts)
      bigFigures = bigRuns.map((r) => ({ ...r, statements: statementsOf(bigCounted, r.page) }))
    }

    // the report
    const allTargets = [
      target(
        `${demoHost}: every page at least ${percent(targets.shareOfFloor)} of the floor's req/s`,
        demoFigures.filter((x) => !(x.load.reqPerSec >= targets.shareOfFloor * x.floor!.reqPerSec)),
      ),
      target(
        `${demoHost}: every family page at most ${targets.familyStatements} statements per request`,
        demoFigures.filter((x) => x.page.who === 'family' && !(x.statements <= targets.familyStatements)),
      ),
      ...(options.skipBig
        ? []
        : [
            target(
              `${bigSlug}.localhost: every page's p99 under ${targets.bigP99Ms} ms at ${options.bigConnections} connections (exports apart)`,
              // an export is a download of the whole list, not a page people wait on: measured, shown,
              // and left out of the pages' target
              bigFigures.filter((x) => !x.page.expect.contentType && !p99Under(x.load, targets.bigP99Ms)),
            ),
          ]),
    ]
    const floorRuns = demoFigures.map((x) => x.floor!)
    const floorCpu =
      floorRuns.reduce((a, f) => a + f.serverCpuMs, 0) / floorRuns.reduce((a, f) => a + f.requests, 0)

    print()
    print('== Results ==')
    print()
    print(
      `Floor (harness/floor.ts: bare Fastify, one schema-qualified query with a bound parameter, one nunjucks render), ${options.connections} connections:`,
    )
    print(
      `  ${Math.min(...floorRuns.map((f) => f.reqPerSec)).toFixed(0)} to ${Math.max(...floorRuns.map((f) => f.reqPerSec)).toFixed(0)} req/s over its ${floorRuns.length} runs, ${floorCpu.toFixed(2)} ms of CPU per request, 1 statement`,
    )
    print()
    print(
      `${demoHost}, production server (NODE_ENV=production, LOG_LEVEL=warn), ${options.connections} connections, ${options.durationS} s each, right after the floor's run:`,
    )
    for (const line of table(
      ['page', 'answers', 'req/s', 'floor req/s', 'of floor', 'p50', 'p99', 'statements', 'CPU ms/req'],
      demoFigures.map((x) => {
        const share = x.load.reqPerSec / x.floor!.reqPerSec
        const familyOver = x.page.who === 'family' && !(x.statements <= targets.familyStatements)
        return [
          `${x.page.who === 'staff' ? 'staff ' : x.page.who === 'family' ? 'family ' : ''}${x.page.label}`,
          String(x.load.requests),
          x.load.reqPerSec.toFixed(0),
          x.floor!.reqPerSec.toFixed(0),
          `${share >= targets.shareOfFloor ? '' : '! '}${percent(share)}`,
          latency(x.load.latencyMs.p50),
          p99(x.load),
          `${familyOver ? '! ' : ''}${x.statements.toFixed(2)}`,
          cpuMs(x.load),
        ]
      }),
    ))
      print(`  ${line}`)
    print(
      '  (! past its target; answers: 200s within the run; statements: per request, sent by the server to Postgres; CPU: the server process, per request sent, those in flight at the end included)',
    )
    if (!options.skipBig) {
      print()
      print(
        `${bigSlug}.localhost (${seeded.big!.families} families, ${seeded.big!.queue} items per staff queue), ${options.bigConnections} connections, ${options.durationS} s each:`,
      )
      for (const line of table(
        ['page', 'answers', 'req/s', 'p50', 'p99', 'max', 'statements', 'CPU ms/req'],
        bigFigures.map((x) => [
          `${x.page.who === 'staff' ? 'staff ' : 'family '}${x.page.label}`,
          String(x.load.requests),
          x.load.reqPerSec.toFixed(0),
          latency(x.load.latencyMs.p50),
          `${p99Under(x.load, targets.bigP99Ms) ? '' : '! '}${p99(x.load)}`,
          latency(x.load.latencyMs.max),
          x.statements.toFixed(2),
          cpuMs(x.load),
        ]),
      ))
        print(`  ${line}`)
    }
    print()
    print('Targets')
    for (const t of allTargets) print(targetLine(t))
    print(`load average at the end ${loadAverage().join(' ')}`)

    const json = (x: PageFigures) => ({
      who: x.page.who,
      label: x.page.label,
      path: x.page.path,
      host: x.page.host,
      statementsPerRequest: round(x.statements, 2),
      shareOfFloor: x.floor ? round(x.load.reqPerSec / x.floor.reqPerSec, 3) : undefined,
      load: { ...x.load, latencyMs: roundSummary(x.load.latencyMs) },
      floor: x.floor ? { ...x.floor, latencyMs: roundSummary(x.floor.latencyMs) } : undefined,
      cores: x.cores,
    })
    mkdirSync(resolve(outFile, '..'), { recursive: true })
    writeFileSync(
      outFile,
      `${JSON.stringify(
        {
          benchmark: 'pages',
          date,
          startedAt: startedAt.toISOString(),
          finishedAt: new Date().toISOString(),
          command: ['npm run bench -- pages', ...argv].join(' '),
          options: { ...options, pgUrl: undefined },
          machine: { ...machine, loadAverageAtEnd: loadAverage() },
          seed: {
            demoMs: round(seeded.demoMs, 1),
            big: seeded.big && { ...seeded.big, ms: round(seeded.big.ms, 1) },
          },
          floorCpuMsPerRequest: round(floorCpu, 3),
          demo: demoFigures.map(json),
          big: bigFigures.map(json),
          statementsByRequest: { demo: demoCounted, big: bigCounted },
          targets: allTargets,
        },
        null,
        2,
      )}\n`,
    )
    print(`raw figures: ${outFile}`)
    return allTargets.every((t) => t.pass) ? 0 : 1
  })
}
