/**
 * Billing PDF benchmark (issue 17): families downloading the PDF duplicates of their invoice and of
 * their receipts, CONCURRENCY at once, against the production server on a throw-away Postgres
 * database. Started by run.ts:
 *
 *   npm run bench -- billing-pdf                          # 20 families, 5 s warm-up + 30 s measured
 *   npm run bench -- billing-pdf --duration 10 --warmup 2
 *
 * The tenant is Limonest's YAML with FAMILIES families (harness/billing.ts); the year's invoices are
 * issued through the staff route, then two payments recorded on each downloading family's invoice
 * (the billing service, as the payment form does). Each family is a client of its own (its
 * keep-alive socket, its session, its address), signed in, and downloads its invoice's PDF and its
 * receipts' in turn, the next as soon as the previous one arrived (closed loop). Figures: downloads
 * per second, latency (p50, p95, p99, max) by document, the server's CPU per download.
 *
 * Bounded: fixed durations, loopback only; its database, processes and temp directory are removed at
 * the end, also on failure and on Ctrl-C. See load-tests/README.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { demoPassword } from '../src/demo/accounts.ts'
import { allEntities } from '../src/entities.ts'
import { PaymentMethod } from '../src/features/billing/entities.ts'
import { type BillingContext, recordPayment } from '../src/features/billing/invoices.ts'
import { openOrm } from '../src/platform/db/orm.ts'
import { schemaFor } from '../src/platform/tenancy/registry.ts'
import { loadTenantConfigs } from '../src/platform/tenancy/tenant-config.ts'
import { translator } from '../src/platform/views/i18n.ts'
import {
  billingStaff,
  currentSchoolYear,
  provisionBillingTenant,
  writeBillingTenantFile,
} from './harness/billing.ts'
import {
  cores,
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
import { csrfOf, FamilyClient, type Reply } from './harness/family-client.ts'
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

const slug = 'bench-billing'
const host = `${slug}.localhost`
const database = 'tutti_bench_billing_pdf'
/** The target: PDF duplicates at 20 concurrent downloads, p99 under 150 ms. */
const targetP99Ms = 150

const usage = `Usage: npm run bench -- billing-pdf [options]   (each option also read from the environment)

  --concurrency N  CONCURRENCY  families downloading at once, each signed in (default 20)
  --families N     FAMILIES     families seeded and invoiced (default 300)
  --warmup S       WARMUP       warm-up seconds, not measured (default 5)
  --duration S     DURATION     measured seconds (default 30)
  --pg-url URL     PG_URL       Postgres server, trust auth (default postgres://postgres@127.0.0.1:5432)
  --out FILE       BENCH_OUT    JSON results (default load-tests/results/billing-pdf-<date>.json)

BENCH_CPU_PROF=<dir> writes a V8 CPU profile of the server there.
`

const kinds = ['invoice', 'receipt'] as const
type Kind = (typeof kinds)[number]

/** One family's documents: its invoice and the receipts of its two payments. */
interface Documents {
  identifiant: string
  invoiceId: number
  invoiceNumber: string
  paymentIds: number[]
}

/**
 * Two payments on each of the first `count` families' invoice (a third, then a sixth of it, by
 * cheque), as the payment form records them: the families' receipts.
 */
async function recordPayments(url: string, tenantsDir: string, count: number): Promise<Documents[]> {
  const [config] = loadTenantConfigs(tenantsDir)
  const orm = await openOrm({ kind: 'postgres', url }, { entities: allEntities, poolSize: 2 })
  try {
    const schema = schemaFor(slug)
    const em = orm.em.fork({ schema })
    const rows = await em
      .getConnection()
      .execute<{ identifiant: string; invoiceId: number; number: string; total: number; staff: number }[]>(
        `select a.identifiant, i.id as "invoiceId", i.number, i.total,
              (select id from "${schema}".account where identifiant = ?) as staff
       from "${schema}".invoice i
       join "${schema}".guardian g on g.family_id = i.family_id and g.rank = 1
       join "${schema}".account a on a.id = g.account_id
       where i.state = 'issued' order by a.identifiant limit ?`,
        [billingStaff, count],
      )
    if (rows.length < count) throw new Error(`only ${rows.length} families with an account were invoiced`)
    const ctx: BillingContext = {
      em,
      config: config!,
      t: translator('fr'),
      account: {
        id: rows[0]!.staff,
        role: 'secretariat',
        identifiant: billingStaff,
        email: `${billingStaff}@example.org`,
        displayName: 'Secrétariat du banc',
      },
    }
    const documents: Documents[] = []
    for (const row of rows) {
      const paymentIds: number[] = []
      for (const share of [3, 6]) {
        const result = await recordPayment(ctx, {
          invoiceId: row.invoiceId,
          amount: Math.floor(row.total / share),
          method: PaymentMethod.cheque,
          receivedOn: new Date().toISOString().slice(0, 10),
          reference: `Chèque ${row.invoiceId}-${share}`,
        })
        if (result.errors) throw new Error(`payment refused: ${JSON.stringify(result.errors)}`)
        paymentIds.push(result.payment.id)
      }
      documents.push({
        identifiant: row.identifiant,
        invoiceId: row.invoiceId,
        invoiceNumber: row.number,
        paymentIds,
      })
    }
    return documents
  } finally {
    await orm.close()
  }
}

interface Timings {
  byKind: Record<Kind, number[]>
  bytes: Record<Kind, number>
  unexpected: string[]
}

/** A download as expected: a 200 PDF attachment. */
function checkPdf(reply: Reply, path: string): string | undefined {
  if (reply.status !== 200) return `${path}: ${reply.status}`
  if (reply.headers['content-type'] !== 'application/pdf') return `${path}: ${reply.headers['content-type']}`
  if (!reply.body.startsWith('%PDF-')) return `${path}: not a PDF`
  return undefined
}

/** A family's downloads in turn: its invoice, its receipts, its invoice again (as many of each). */
const pathsOf = (documents: Documents): [Kind, string][] => [
  ['invoice', `/facturation/factures/${documents.invoiceId}/pdf`],
  ...documents.paymentIds.map((id): [Kind, string] => ['receipt', `/facturation/recus/${id}/pdf`]),
  ['invoice', `/facturation/factures/${documents.invoiceId}/pdf`],
]

/**
 * Every family downloads each of its documents once, all families at the same moment: documents no
 * one downloaded before, which the server draws (it keeps the PDFs it drew, see billing/pdf.ts).
 */
async function firstDownloads(
  clients: FamilyClient[],
  documents: Documents[],
  timings: number[],
  unexpected: string[],
) {
  await Promise.all(
    clients.map(async (client, i) => {
      const paths = pathsOf(documents[i]!).slice(0, -1)
      for (const [, path] of paths) {
        const reply = await client.get(path)
        const problem = checkPdf(reply, path)
        if (problem) unexpected.push(problem)
        else timings.push(reply.ms)
      }
    }),
  )
}

/** One family downloading its documents in turn until `deadline` (performance.now() time). */
async function downloads(
  client: FamilyClient,
  documents: Documents,
  deadline: number,
  timings: Timings | undefined,
): Promise<void> {
  const paths = pathsOf(documents)
  for (let i = 0; performance.now() < deadline; i++) {
    const [kind, path] = paths[i % paths.length]!
    const reply = await client.get(path)
    const problem = checkPdf(reply, path)
    if (problem) {
      if (timings && timings.unexpected.length < 20) timings.unexpected.push(problem)
      continue
    }
    if (!timings) continue
    timings.byKind[kind].push(reply.ms)
    timings.bytes[kind] = Number(reply.headers['content-length'] ?? 0)
  }
}

export async function billingPdfBenchmark(argv: string[]): Promise<number> {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      concurrency: { type: 'string' },
      families: { type: 'string' },
      warmup: { type: 'string' },
      duration: { type: 'string' },
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
    concurrency: integer('CONCURRENCY', args.concurrency, env.CONCURRENCY, 20),
    families: integer('FAMILIES', args.families, env.FAMILIES, 300),
    warmupS: integer('WARMUP', args.warmup, env.WARMUP, 5, 0),
    durationS: integer('DURATION', args.duration, env.DURATION, 30),
    pgUrl: args['pg-url'] ?? env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432',
  }
  if (options.families < options.concurrency) throw new Error('FAMILIES must be at least CONCURRENCY')
  const date = new Date().toISOString().slice(0, 10)
  const outFile = resolve(
    args.out ?? env.BENCH_OUT ?? join(root, 'load-tests/results', `billing-pdf-${date}.json`),
  )
  const work = scratch(options.pgUrl, [database], 'tutti-bench-billing-pdf-')
  const serverLog = join(work.dir, 'server.log')
  return runInScratch(work, [serverLog], async () => {
    const machine = describeMachine(options.pgUrl)
    print(`Tutti billing PDF benchmark, ${new Date().toISOString()}`)
    print(
      `  ${machine.cpus} CPU(s) ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, Postgres ${machine.postgres}`,
    )
    print(`  load average ${machine.loadAverageAtStart.join(' ')}`)
    print(
      `  ${options.concurrency} families downloading at once, ${options.warmupS} s warm-up + ${options.durationS} s measured; ${options.families} families invoiced`,
    )
    const tenantsDir = join(work.dir, 'tenants')
    const dataDir = join(work.dir, 'data')
    mkdirSync(dataDir)
    writeBillingTenantFile(tenantsDir, slug)
    recreateDatabase(options.pgUrl, database)
    const url = databaseUrl(options.pgUrl, database)
    await provisionBillingTenant(
      { kind: 'postgres', url },
      tenantsDir,
      currentSchoolYear(),
      options.families,
      options.concurrency,
    )

    const port = await freePort()
    const countFile = join(work.dir, 'queries.json')
    const profile = env.BENCH_CPU_PROF
      ? [`--cpu-prof --cpu-prof-dir=${resolve(env.BENCH_CPU_PROF)} --cpu-prof-name=billing-pdf.cpuprofile`]
      : []
    const server = await startServer({
      root,
      env: {
        ...productionEnv({ databaseUrl: url, tenantsDir, dataDir, port }),
        ...countQueriesEnv(root, countFile, profile),
      },
      port,
      logFile: serverLog,
      bootTimeoutMs: 60_000,
    })
    const pid = server.child.pid!

    // the year's invoices, issued by staff as on the generation page
    const staff = new FamilyClient(port, host, '198.18.0.1', 300_000)
    const staffForm = await staff.get('/admin/connexion')
    const signedIn = await staff.post('/admin/connexion', {
      _csrf: csrfOf(staffForm.body, '/admin/connexion'),
      identifiant: billingStaff,
      password: demoPassword,
    })
    if (signedIn.status !== 303) throw new Error(`staff sign-in: ${signedIn.status}`)
    const preview = await staff.get('/admin/facturation/generer')
    const issued = await staff.post('/admin/facturation/generer', {
      _csrf: csrfOf(preview.body, '/admin/facturation/generer'),
    })
    if (issued.status !== 303) throw new Error(`issuing the year's invoices: ${issued.status}`)
    staff.close()
    const documents = await recordPayments(url, tenantsDir, options.concurrency)
    print(
      `  invoices issued (${issued.headers.location}), two payments recorded on each of ${documents.length} families' invoices`,
    )

    const clients = await Promise.all(
      documents.map(async (d, i) => {
        const client = new FamilyClient(port, host, `198.18.1.${i + 1}`)
        const form = await client.get('/connexion')
        const reply = await client.post('/connexion', {
          _csrf: csrfOf(form.body, '/connexion'),
          identifiant: d.identifiant,
          password: demoPassword,
        })
        if (reply.status !== 303) throw new Error(`sign-in of ${d.identifiant}: ${reply.status}`)
        return client
      }),
    )
    const first: number[] = []
    const firstUnexpected: string[] = []
    const firstCpuBefore = threadCpuOf(pid)
    await firstDownloads(clients, documents, first, firstUnexpected)
    const firstCpuMs = round((threadCpuOf(pid).total - firstCpuBefore.total) / Math.max(first.length, 1), 2)
    if (options.warmupS > 0) {
      const end = performance.now() + options.warmupS * 1000
      await Promise.all(clients.map((c, i) => downloads(c, documents[i]!, end, undefined)))
    }
    const timings: Timings = {
      byKind: { invoice: [], receipt: [] },
      bytes: { invoice: 0, receipt: 0 },
      unexpected: [],
    }
    const before = memoryOf(pid)
    const cpuBefore = threadCpuOf(pid)
    const watch = cpuWatch()
    const postgresWatch = postgresCpuWatch(database)
    const started = performance.now()
    const deadline = started + options.durationS * 1000
    await Promise.all(clients.map((c, i) => downloads(c, documents[i]!, deadline, timings)))
    const wallMs = performance.now() - started
    const cpu = watch()
    const postgresCpu = postgresWatch()
    const cpuAfter = threadCpuOf(pid)
    const after = memoryOf(pid)
    for (const c of clients) c.close()
    await server.stop()
    const counted = readQueryCounts(countFile)
    const statements = Object.fromEntries(
      kinds.map((k) => {
        const x =
          counted[k === 'invoice' ? 'GET /facturation/factures/:id/pdf' : 'GET /facturation/recus/:id/pdf']
        return [k, x?.requests ? round(x.queries / x.requests, 2) : Number.NaN]
      }),
    ) as Record<Kind, number>

    const all = summarize([...timings.byKind.invoice, ...timings.byKind.receipt])
    const byKind = Object.fromEntries(kinds.map((k) => [k, summarize(timings.byKind[k])])) as Record<
      Kind,
      Summary
    >
    const perDownload = (x: number) => round(x / Math.max(all.count, 1), 2)
    const serverCpu = {
      total: perDownload(cpuAfter.total - cpuBefore.total),
      main: perDownload(cpuAfter.main - cpuBefore.main),
      postgres: perDownload(postgresCpu.backends),
    }
    const perSecond = round((all.count / wallMs) * 1000, 1)
    print()
    print('== Results ==')
    print(
      `  ${all.count} downloads in ${s(wallMs)}: ${perSecond} per second, ${options.concurrency} at once; ${timings.unexpected.length} unexpected answers`,
    )
    print(
      `  CPU per download: server ${serverCpu.total} ms (main thread ${serverCpu.main}), Postgres ${serverCpu.postgres} ms; cores busy: machine ${cores(cpu.machineMs, cpu.wallMs)}, load generator ${cores(cpu.harnessMs, cpu.wallMs)}`,
    )
    print(`  server RSS ${mb(before.rss)} before, ${mb(after.rss)} after, peak ${mb(after.peak)}`)
    const line = (name: string, x: Summary, more = '') =>
      `    ${name.padEnd(9)} n=${String(x.count).padStart(6)}  p50 ${ms(x.p50)}  p95 ${ms(x.p95)}  p99 ${ms(x.p99)}  max ${ms(x.max)}${more}`
    print('  latency per download:')
    for (const k of kinds)
      print(
        line(
          k,
          byKind[k],
          `  (${(timings.bytes[k] / 1024).toFixed(1)} KiB, ${statements[k]} statements to Postgres each)`,
        ),
      )
    print(line('all', all))
    const firstFigures = summarize(first)
    print(
      `  before the warm-up, each family's ${documents[0]!.paymentIds.length + 1} documents downloaded once, ${options.concurrency} families at once (documents drawn for the first time), server CPU ${firstCpuMs} ms per download:`,
    )
    print(line('first', firstFigures))
    for (const u of [...firstUnexpected, ...timings.unexpected]) print(`  ! ${u}`)
    const targets = [
      {
        name: `p99 of the downloads under ${targetP99Ms} ms, ${options.concurrency} at once`,
        pass: all.p99 < targetP99Ms,
        value: round(all.p99, 1),
      },
      {
        name: 'every download a PDF',
        pass: timings.unexpected.length === 0,
        value: timings.unexpected.length,
      },
    ]
    print('Targets')
    for (const target of targets)
      print(`  ${target.pass ? 'PASS' : 'FAIL'}  ${target.name} (${target.value})`)
    print(`load average at the end ${loadAverage().join(' ')}`)
    mkdirSync(resolve(outFile, '..'), { recursive: true })
    writeFileSync(
      outFile,
      `${JSON.stringify(
        {
          benchmark: 'billing-pdf',
          date,
          command: ['npm run bench -- billing-pdf', ...argv].join(' '),
          options: { ...options, pgUrl: undefined },
          machine: { ...machine, loadAverageAtEnd: loadAverage() },
          wallMs: round(wallMs, 1),
          downloadsPerSecond: perSecond,
          cpuMsPerDownload: serverCpu,
          cpuMsPerFirstDownload: firstCpuMs,
          memory: { before, after },
          latencyMs: {
            first: roundSummary(firstFigures),
            all: roundSummary(all),
            ...Object.fromEntries(kinds.map((k) => [k, roundSummary(byKind[k])])),
          },
          bytes: timings.bytes,
          statementsPerDownload: statements,
          unexpected: timings.unexpected,
          targets,
        },
        null,
        2,
      )}\n`,
    )
    print(`raw figures: ${outFile}`)
    return targets.every((t) => t.pass) ? 0 : 1
  })
}
