/**
 * Upload benchmark (issue 5): families sending a 2 MB document at the same moment, against the
 * production server on a throw-away Postgres database. Started by run.ts:
 *
 *   npm run bench -- uploads                      # 50 uploads at once, 5 waves
 *   npm run bench -- uploads --concurrency 20 --waves 2
 *
 * Every family signs in first (not measured), then each wave sends one upload per family, all at
 * once. Figures: uploads and MB per second, latency (p50, p99, max), and the server's memory: its
 * RSS before the load and its peak (VmHWM) after, which says how much of the uploads sat in memory.
 *
 * Bounded: a fixed number of waves, loopback only; its database and temp directory are removed at
 * the end, also on failure and on Ctrl-C. See load-tests/README.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { stringify } from 'yaml'
import { allEntities } from '../src/entities.ts'
import { StoredFile } from '../src/features/documents/entities.ts'
import { Family, Guardian } from '../src/features/family/entities.ts'
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
import { csrfOf, FamilyClient, multipart, pdfOf } from './harness/family-client.ts'
import { databaseUrl, recreateDatabase } from './harness/postgres.ts'
import { mb, ms, s } from './harness/report.ts'
import { cpuTimeOf, freePort, memoryOf, startServer } from './harness/server.ts'
import { round, roundSummary, summarize } from './harness/stats.ts'

const password = 'une phrase de passe pour le banc'
const slug = 'bench-uploads'
const host = `${slug}.localhost`
const MiB = 1024 * 1024

const usage = `Usage: npm run bench -- uploads [options]   (each option also read from the environment)

  --concurrency N  CONCURRENCY  families uploading at the same moment (default 50)
  --waves N        WAVES        times they all upload at once (default 5)
  --size-kb N      SIZE_KB      size of each file in KiB (default 2048, the 2 Mo limit)
  --pg-url URL     PG_URL       Postgres server, trust auth (default postgres://postgres@127.0.0.1:5432)
  --out FILE       BENCH_OUT    JSON results (default load-tests/results/uploads-<date>.json)
`

async function seed(url: string, tenantsDir: string, families: number): Promise<void> {
  const [config] = loadTenantConfigs(tenantsDir)
  const orm = await openOrm({ kind: 'postgres', url }, { entities: allEntities, poolSize: 2 })
  try {
    await migratePlatform(orm)
    await createTenant(orm, config!)
    const em = orm.em.fork({ schema: schemaFor(slug) })
    const passwordHash = await hashPassword(password)
    for (let i = 1; i <= families; i++) {
      const identifiant = `famille-${String(i).padStart(5, '0')}`
      const account = em.create(Account, {
        identifiant,
        role: 'family',
        email: `${identifiant}@example.org`,
        displayName: `Famille ${i}`,
        passwordHash,
      })
      const family = em.create(Family, {})
      em.create(Guardian, {
        family,
        rank: 1,
        lastName: `Banc${i}`,
        firstName: 'Camille',
        extraPhones: [],
        account,
      })
    }
    await em.flush()
  } finally {
    await orm.close()
  }
}

export async function uploadsBenchmark(argv: string[]): Promise<number> {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      concurrency: { type: 'string' },
      waves: { type: 'string' },
      'size-kb': { type: 'string' },
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
    concurrency: integer('CONCURRENCY', args.concurrency, env.CONCURRENCY, 50),
    waves: integer('WAVES', args.waves, env.WAVES, 5),
    sizeKb: integer('SIZE_KB', args['size-kb'], env.SIZE_KB, 2048),
    pgUrl: args['pg-url'] ?? env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432',
  }
  const date = new Date().toISOString().slice(0, 10)
  const outFile = resolve(
    args.out ?? env.BENCH_OUT ?? join(root, 'load-tests/results', `uploads-${date}.json`),
  )
  const database = 'tutti_bench_uploads'
  const work = scratch(options.pgUrl, [database], 'tutti-bench-uploads-')
  try {
    const machine = describeMachine(options.pgUrl)
    print(`Tutti upload benchmark, ${new Date().toISOString()}`)
    print(
      `  ${machine.cpus} CPU(s) ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, Postgres ${machine.postgres}`,
    )
    print(`  load average ${machine.loadAverageAtStart.join(' ')}`)
    print(`  ${options.concurrency} uploads at once of ${options.sizeKb} KiB, ${options.waves} waves`)
    const tenantsDir = join(work.dir, 'tenants')
    mkdirSync(tenantsDir)
    writeFileSync(
      join(tenantsDir, `${slug}.yaml`),
      stringify({
        slug,
        name: 'Conservatoire Bench Uploads',
        contact: { email: 'contact@bench.example.org' },
        establishments: [{ code: 'centre', name: 'Site du centre' }],
        documents: [{ id: 'assurance', label: 'Attestation d’assurance', level: 'family' }],
      }),
    )
    recreateDatabase(options.pgUrl, database)
    const url = databaseUrl(options.pgUrl, database)
    await seed(url, tenantsDir, options.concurrency)
    const port = await freePort()
    const dataDir = join(work.dir, 'data')
    mkdirSync(dataDir)
    const server = await startServer({
      root,
      env: productionEnv({ databaseUrl: url, tenantsDir, dataDir, port }),
      port,
      logFile: join(work.dir, 'server.log'),
      bootTimeoutMs: 60_000,
    })
    const pid = server.child.pid!
    const clients = Array.from(
      { length: options.concurrency },
      (_, i) => new FamilyClient(port, host, `10.1.${(i >> 8) & 255}.${i & 255}`),
    )
    // sign in (not measured) and keep each family's token of the Importer form
    const tokens = await Promise.all(
      clients.map(async (client, i) => {
        const page = await client.get('/connexion')
        const identifiant = `famille-${String(i + 1).padStart(5, '0')}`
        const signedIn = await client.post('/connexion', {
          _csrf: csrfOf(page.body, '/connexion'),
          identifiant,
          password,
        })
        if (signedIn.status !== 303) throw new Error(`sign-in of ${identifiant}: ${signedIn.status}`)
        return csrfOf((await client.get('/famille/pieces')).body, '/famille/pieces')
      }),
    )
    const content = pdfOf(options.sizeKb * 1024)
    const bodies = tokens.map((token) =>
      multipart(
        { _csrf: token, document: 'assurance' },
        { name: 'file', fileName: 'assurance.pdf', contentType: 'application/pdf', content },
      ),
    )
    await new Promise((r) => setTimeout(r, 1000))
    const baseline = memoryOf(pid)
    const cpuBefore = cpuTimeOf(pid)
    const watch = cpuWatch()
    const latencies: number[] = []
    const unexpected: string[] = []
    let peakSeen = baseline.rss
    const sampler = setInterval(() => {
      peakSeen = Math.max(peakSeen, memoryOf(pid).rss)
    }, 50)
    const started = performance.now()
    for (let wave = 1; wave <= options.waves; wave++) {
      const waveStart = performance.now()
      const replies = await Promise.all(
        clients.map((client, i) =>
          client.send('POST', '/famille/pieces', bodies[i]!.body, bodies[i]!.contentType),
        ),
      )
      for (const reply of replies) {
        if (reply.status === 303 && reply.headers.location === '/famille/pieces?fait=envoye')
          latencies.push(reply.ms)
        else if (unexpected.length < 10)
          unexpected.push(`${reply.status} ${reply.headers.location ?? reply.body.slice(0, 120)}`)
      }
      print(
        `  wave ${wave}/${options.waves}: ${clients.length} uploads in ${s(performance.now() - waveStart)}, RSS ${mb(memoryOf(pid).rss)}`,
      )
    }
    const wallMs = performance.now() - started
    clearInterval(sampler)
    const cpu = watch()
    const serverCpuMs = cpuTimeOf(pid) - cpuBefore
    const after = memoryOf(pid)
    for (const client of clients) client.close()
    await server.stop()

    const check = await openOrm({ kind: 'postgres', url }, { entities: allEntities, poolSize: 1 })
    const em = check.em.fork({ schema: schemaFor(slug) })
    const files = await em.find(StoredFile, {}, { fields: ['size'] })
    await check.close()

    const uploads = latencies.length
    const latency = summarize(latencies)
    const growth = after.peak - baseline.rss
    const perSecond = round(uploads / (wallMs / 1000), 1)
    const mbPerSecond = round((uploads * content.length) / MiB / (wallMs / 1000), 1)
    print()
    print('== Results ==')
    print(
      `  ${uploads} uploads of ${mb(content.length)} in ${s(wallMs)}: ${perSecond} uploads/s, ${mbPerSecond} MB/s; unexpected ${unexpected.length}`,
    )
    print(
      `  latency p50 ${ms(latency.p50)}, p90 ${ms(latency.p90)}, p99 ${ms(latency.p99)}, max ${ms(latency.max)}`,
    )
    print(
      `  server RSS before the load ${mb(baseline.rss)} (peak so far ${mb(baseline.peak)}); after ${mb(after.rss)}, peak ${mb(after.peak)}`,
    )
    print(`  peak RSS growth ${mb(growth)} (RSS sampled every 50 ms peaked at ${mb(peakSeen)})`)
    print(
      `  server CPU ${(serverCpuMs / Math.max(uploads, 1)).toFixed(1)} ms per upload; cores busy: machine ${cores(cpu.machineMs, cpu.wallMs)}, server ${cores(serverCpuMs, cpu.wallMs)}`,
    )
    print(
      `  database: ${files.length} stored files (one per family: a pending upload is replaced), ${files.filter((f) => f.size === content.length).length} of ${content.length} bytes`,
    )
    for (const u of unexpected) print(`  ! ${u}`)
    const targets = [
      { name: 'peak RSS growth under 150 MB', pass: growth < 150 * MiB, value: mb(growth) },
      {
        name: 'every upload answered 303 and stored',
        pass: unexpected.length === 0 && files.length === clients.length,
        value: unexpected.length,
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
          benchmark: 'uploads',
          date,
          command: ['npm run bench -- uploads', ...argv].join(' '),
          options: { ...options, pgUrl: undefined },
          machine: { ...machine, loadAverageAtEnd: loadAverage() },
          uploads,
          wallMs: round(wallMs, 1),
          uploadsPerSecond: perSecond,
          mbPerSecond,
          latencyMs: roundSummary(latency),
          memory: { baseline, after, sampledPeakRss: peakSeen, peakGrowthBytes: growth },
          serverCpuMsPerUpload: round(serverCpuMs / Math.max(uploads, 1), 1),
          storedFiles: files.length,
          unexpected,
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
