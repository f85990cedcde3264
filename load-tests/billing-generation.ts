/**
 * Billing generation benchmark (issue 17): a staff member generates and issues the year's tuition
 * invoices of 3,000 families, through the production server's routes. Started by run.ts:
 *
 *   npm run bench -- billing-generation                     # Postgres, then PGlite, 2 rounds each
 *   npm run bench -- billing-generation --db postgres --rounds 1 --families 500
 *
 * Each round: a tenant with Limonest's YAML (its tariffs, QF brackets and payment modes) and FAMILIES
 * families of a realistic mix (harness/billing.ts), the production server started on it, the staff
 * member signed in; then, timed, what staff do: `GET /admin/facturation/generer` (the preview of
 * every family's invoice), `POST` of its form (the invoices written and numbered), and the page the
 * POST redirects to. The database is then checked (one issued invoice per family, numbers gapless
 * from 1, totals as previewed) and emptied of the invoices for the next round.
 *
 * Bounded: loopback only, its database, processes and temp directory are removed at the end, also on
 * failure and on Ctrl-C. See load-tests/README.md.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { parse } from 'node-html-parser'
import { allEntities } from '../src/entities.ts'
import type { Database } from '../src/platform/config.ts'
import { openOrm } from '../src/platform/db/orm.ts'
import { schemaFor } from '../src/platform/tenancy/registry.ts'
import {
  billingStaff,
  currentSchoolYear,
  provisionBillingTenant,
  writeBillingTenantFile,
} from './harness/billing.ts'
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
import { csrfOf, FamilyClient, type Reply } from './harness/family-client.ts'
import { databaseUrl, recreateDatabase } from './harness/postgres.ts'
import { s } from './harness/report.ts'
import {
  countQueriesEnv,
  freePort,
  postgresCpuWatch,
  readQueryCounts,
  startServer,
  threadCpuOf,
} from './harness/server.ts'
import { round } from './harness/stats.ts'
import { signIn } from './pages.ts'

const slug = 'bench-billing'
const host = `${slug}.localhost`
const database = 'tutti_bench_billing'
const path = '/admin/facturation/generer'
/** The issue's target: the year's invoices of 3,000 families generated and issued in under 60 s. */
const targetMs = 60_000

const usage = `Usage: npm run bench -- billing-generation [options]   (each option also read from the environment)

  --families N   FAMILIES   families seeded, 1.65 pupils each (default 3000)
  --rounds N     ROUNDS     generations per database, each on a fresh server (default 2)
  --db KIND      BENCH_DB   postgres, pglite or both (default both)
  --pg-url URL   PG_URL     Postgres server, trust auth (default postgres://postgres@127.0.0.1:5432)
  --out FILE     BENCH_OUT  JSON results (default load-tests/results/billing-generation-<date>.json)

BENCH_CPU_PROF=<dir> writes a V8 CPU profile of each server there.
`

interface Step {
  ms: number
  serverCpuMs: number
  serverMainMs: number
  postgresCpuMs: number
  statements: number
}

interface Round {
  database: 'postgres' | 'pglite'
  round: number
  invoices: number
  previewTotal: string
  preview: Step
  issue: Step
  after: Step
  /** Preview, issue and the page after: what staff wait for. */
  wholeMs: number
  check: Check
}

interface Check {
  issued: number
  firstNumber: string
  lastNumber: string
  gapless: boolean
  lines: number
  instalments: number
  auditEvents: number
  totalCents: number
}

/** What the database holds once the round's invoices are issued, then emptied for the next round. */
async function checkAndReset(db: Database, year: number): Promise<Check> {
  const orm = await openOrm(db, { entities: allEntities, poolSize: 1 })
  try {
    const schema = schemaFor(slug)
    const run = <T>(sql: string) => orm.em.getConnection().execute<T[]>(sql)
    const [row] = await run<{
      issued: number
      first: string
      last: string
      distinct: number
      max: number
      total: number
    }>(
      `select count(*)::int as issued, min(number) as first, max(number) as last,
              count(distinct number)::int as distinct,
              max(substring(number from 7)::int)::int as max, coalesce(sum(total), 0)::bigint as total
       from "${schema}".invoice where state = 'issued' and kind = 'cotisation' and number like 'F${year}-%'`,
    )
    const [counts] = await run<{ lines: number; instalments: number; audit: number }>(
      `select (select count(*) from "${schema}".invoice_line)::int as lines,
              (select count(*) from "${schema}".instalment)::int as instalments,
              (select count(*) from "${schema}".audit_event where action = 'invoice.issue')::int as audit`,
    )
    await run(`delete from "${schema}".invoice`)
    await run(`delete from "${schema}".billing_counter`)
    await run(`delete from "${schema}".audit_event where action like 'invoice.%'`)
    return {
      issued: row!.issued,
      firstNumber: row!.first,
      lastNumber: row!.last,
      gapless: row!.issued === row!.distinct && row!.max === row!.issued,
      lines: counts!.lines,
      instalments: counts!.instalments,
      auditEvents: counts!.audit,
      totalCents: Number(row!.total),
    }
  } finally {
    await orm.close()
  }
}

/** The number of families the preview lists, and its total as printed. */
function previewOf(reply: Reply): { invoices: number; total: string } {
  if (reply.status !== 200) throw new Error(`GET ${path}: ${reply.status}`)
  const page = parse(reply.body)
  const summary = page.querySelectorAll('main p').find((p) => p.text.includes(' en tout'))?.text ?? ''
  return {
    invoices: page.querySelectorAll('tbody tr').length,
    total: /: ([\d\s,]+€)/.exec(summary)?.[1]?.trim() ?? '',
  }
}

export async function billingGenerationBenchmark(argv: string[]): Promise<number> {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      families: { type: 'string' },
      rounds: { type: 'string' },
      db: { type: 'string' },
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
  const dbChoice = args.db ?? env.BENCH_DB ?? 'both'
  if (!['postgres', 'pglite', 'both'].includes(dbChoice))
    throw new Error(`--db is postgres, pglite or both (got ${dbChoice})`)
  const options = {
    families: integer('FAMILIES', args.families, env.FAMILIES, 3000),
    rounds: integer('ROUNDS', args.rounds, env.ROUNDS, 2),
    databases: (dbChoice === 'both' ? ['postgres', 'pglite'] : [dbChoice]) as ('postgres' | 'pglite')[],
    pgUrl: args['pg-url'] ?? env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432',
  }
  const date = new Date().toISOString().slice(0, 10)
  const outFile = resolve(
    args.out ?? env.BENCH_OUT ?? join(root, 'load-tests/results', `billing-generation-${date}.json`),
  )
  const work = scratch(options.pgUrl, [database], 'tutti-bench-billing-')
  const serverLog = join(work.dir, 'server.log')
  return runInScratch(work, [serverLog], async () => {
    const machine = describeMachine(options.pgUrl)
    print(`Tutti billing generation benchmark, ${new Date().toISOString()}`)
    print(
      `  ${machine.cpus} CPU(s) ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, Postgres ${machine.postgres}`,
    )
    print(`  load average ${machine.loadAverageAtStart.join(' ')}`)
    const schoolYear = currentSchoolYear()
    const issueYear = new Date().getUTCFullYear()
    print(
      `  ${options.families} families, school year ${schoolYear}, ${options.rounds} round(s) on ${options.databases.join(' and ')}`,
    )
    const tenantsDir = join(work.dir, 'tenants')
    writeBillingTenantFile(tenantsDir, slug)
    const rounds: Round[] = []
    for (const kind of options.databases) {
      const dataDir = join(work.dir, `data-${kind}`)
      mkdirSync(dataDir, { recursive: true })
      let url: string | undefined
      let db: Database
      if (kind === 'postgres') {
        recreateDatabase(options.pgUrl, database)
        url = databaseUrl(options.pgUrl, database)
        db = { kind: 'postgres', url }
      } else {
        db = { kind: 'pglite', dataDir: join(dataDir, 'pglite') }
      }
      print()
      print(`${kind}:`)
      const seedStart = performance.now()
      const seed = await provisionBillingTenant(db, tenantsDir, schoolYear, options.families, 0)
      print(
        `  seeded ${seed.families} families, ${seed.pupils} pupils, ${seed.enrolments} enrolments (${seed.nonResidents} non-residents, ${seed.noProvenQf} residents without a proven QF, ${seed.noPaymentMode} without a payment mode) in ${s(performance.now() - seedStart)}`,
      )
      for (let r = 1; r <= options.rounds; r++) {
        const port = await freePort()
        const countFile = join(work.dir, `queries-${kind}-${r}.json`)
        const profile = env.BENCH_CPU_PROF
          ? [
              `--cpu-prof --cpu-prof-dir=${resolve(env.BENCH_CPU_PROF)} --cpu-prof-name=generation-${kind}-${r}.cpuprofile`,
            ]
          : []
        const serverEnv = {
          ...productionEnv({ databaseUrl: url ?? '', tenantsDir, dataDir, port }),
          ...countQueriesEnv(root, countFile, profile),
        }
        // no DATABASE_URL: the server opens the embedded PGlite of DATA_DIR, as `npm start` does
        if (kind === 'pglite') delete serverEnv.DATABASE_URL
        const server = await startServer({
          root,
          env: serverEnv,
          port,
          logFile: serverLog,
          bootTimeoutMs: 120_000,
        })
        const pid = server.child.pid!
        const staff = await signIn(port, host, '/admin/connexion', billingStaff, '198.18.0.1')
        const client = new FamilyClient(port, host, '198.18.0.1', 600_000)
        for (const [k, v] of staff.cookies) client.cookies.set(k, v)
        staff.close()
        const postgresWatch = kind === 'postgres' ? postgresCpuWatch(database) : undefined
        /** One timed request: its latency, the server's CPU, this database's Postgres backends' CPU. */
        const timed = async (request: () => Promise<Reply>) => {
          const before = threadCpuOf(pid)
          const pgBefore = postgresWatch?.()
          const reply = await request()
          const after = threadCpuOf(pid)
          const pgAfter = postgresWatch?.()
          return {
            reply,
            step: {
              ms: reply.ms,
              serverCpuMs: after.total - before.total,
              serverMainMs: after.main - before.main,
              postgresCpuMs: pgAfter && pgBefore ? pgAfter.backends - pgBefore.backends : 0,
              statements: 0,
            },
          }
        }
        const preview = await timed(() => client.get(path))
        const shown = previewOf(preview.reply)
        const issue = await timed(() => client.post(path, { _csrf: csrfOf(preview.reply.body, path) }))
        if (issue.reply.status !== 303 || issue.reply.headers.location !== `${path}?emises=${shown.invoices}`)
          throw new Error(
            `POST ${path}: ${issue.reply.status} to ${issue.reply.headers.location}, expected a 303 to ?emises=${shown.invoices}`,
          )
        const after = await timed(() => client.get(issue.reply.headers.location!))
        if (after.reply.status !== 200 || previewOf(after.reply).invoices !== 0)
          throw new Error(`GET ${issue.reply.headers.location}: ${after.reply.status}, invoices still listed`)
        client.close()
        await server.stop()
        const counted = kind === 'postgres' ? readQueryCounts(countFile) : {}
        const statementsOf = (key: string) => counted[key]?.queries ?? 0
        // the preview and the page after share a key (harness/request-key.ts): their statements together
        preview.step.statements = statementsOf(`GET ${path}`)
        issue.step.statements = statementsOf(`POST ${path}`)
        const check = await checkAndReset(db, issueYear)
        const result: Round = {
          database: kind,
          round: r,
          invoices: shown.invoices,
          previewTotal: shown.total,
          preview: preview.step,
          issue: issue.step,
          after: after.step,
          wholeMs: preview.step.ms + issue.step.ms + after.step.ms,
          check,
        }
        rounds.push(result)
        const line = (name: string, x: Step) =>
          `    ${name.padEnd(28)} ${s(x.ms).padStart(8)}  server CPU ${s(x.serverCpuMs)} (main thread ${s(x.serverMainMs)})${kind === 'postgres' ? `, Postgres ${s(x.postgresCpuMs)}` : ''}`
        print(`  round ${r}: ${shown.invoices} invoices, ${shown.total}`)
        print(line(`GET ${path}`, preview.step))
        print(line(`POST ${path}`, issue.step))
        print(line('GET …?emises= (redirect)', after.step))
        print(`    ${'whole'.padEnd(28)} ${s(result.wholeMs).padStart(8)}`)
        if (kind === 'postgres')
          print(
            `    statements to Postgres: POST ${issue.step.statements}, the preview and the page after ${preview.step.statements}`,
          )
        print(
          `    database: ${check.issued} issued (${check.firstNumber} … ${check.lastNumber}, ${check.gapless ? 'gapless' : 'NOT GAPLESS'}), ${check.lines} lines, ${check.instalments} instalments, ${check.auditEvents} audit events`,
        )
      }
      if (kind === 'postgres') recreateDatabase(options.pgUrl, database)
      else rmSync(dataDir, { recursive: true, force: true })
    }

    const targets = options.databases.map((kind) => {
      const mine = rounds.filter((x) => x.database === kind)
      const worst = Math.max(...mine.map((x) => x.wholeMs))
      return {
        name: `${kind}: preview, issue and the page after for ${options.families} families under ${targetMs / 1000} s (the slowest round)`,
        pass: worst < targetMs,
        value: round(worst, 1),
      }
    })
    const correct = rounds.every(
      (x) => x.check.issued === x.invoices && x.check.gapless && x.check.auditEvents === x.invoices,
    )
    targets.push({
      name: 'every previewed invoice issued, numbered without gap, audited',
      pass: correct,
      value: 0,
    })
    print()
    print('Targets')
    for (const target of targets)
      print(`  ${target.pass ? 'PASS' : 'FAIL'}  ${target.name} (${target.value})`)
    print(`load average at the end ${loadAverage().join(' ')}`)
    mkdirSync(resolve(outFile, '..'), { recursive: true })
    writeFileSync(
      outFile,
      `${JSON.stringify(
        {
          benchmark: 'billing-generation',
          date,
          command: ['npm run bench -- billing-generation', ...argv].join(' '),
          options: { ...options, pgUrl: undefined },
          machine: { ...machine, loadAverageAtEnd: loadAverage() },
          rounds,
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
