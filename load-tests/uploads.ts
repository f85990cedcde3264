/**
 * Upload benchmark (documents issue): families sending a 2 MB document at the same moment, against
 * the production server on a throw-away Postgres database. Started by run.ts:
 *
 *   npm run bench -- uploads                      # 50 uploads at once: 5 waves, then 20 s sustained
 *   npm run bench -- uploads --concurrency 20 --waves 2 --duration 0
 *
 * Every family signs in (not measured); the server's memory is read there (the baseline, before
 * any upload) and its peak (VmHWM) reset, the sign-ins' argon2 having set it. Then every family
 * uploads once alone, one after the other (the check and the warm-up), and the load runs: WAVES waves where every family sends its upload at the same moment and the wave
 * ends with the last answer, then DURATION seconds where each family sends its next upload as soon
 * as the previous one is answered, so CONCURRENCY uploads are always in flight. Figures: uploads and
 * MB per second, latency (p50, p90, p99, max), statuses, the server's CPU, and its peak RSS against
 * the baseline, which says how much of the uploads sat in memory at once. At the end the database
 * must hold what the answers said was stored.
 *
 * Bounded: a fixed number of waves and seconds, loopback only; its database and temp directory are
 * removed at the end, also on failure and on Ctrl-C. See load-tests/README.md.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { parse } from 'node-html-parser'
import { stringify } from 'yaml'
import { allEntities } from '../src/entities.ts'
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
  runInScratch,
  scratch,
} from './harness/common.ts'
import { csrfOf, FamilyClient, multipartParts, pdfOf } from './harness/family-client.ts'
import { databaseUrl, psql, recreateDatabase } from './harness/postgres.ts'
import { mb, ms, s } from './harness/report.ts'
import { cpuTimeOf, freePort, memoryOf, resetPeak, startServer } from './harness/server.ts'
import { round, roundSummary, type Summary, summarize } from './harness/stats.ts'

const password = 'une phrase de passe pour le banc'
const slug = 'bench-uploads'
const host = `${slug}.localhost`
const documentId = 'assurance'
const uploadPath = '/famille/pieces'
const expectedLocation = '/famille/pieces?fait=envoye'
const MB = 1_000_000
const targetGrowthBytes = 150 * MB

const usage = `Usage: npm run bench -- uploads [options]   (each option also read from the environment)

  --concurrency N  CONCURRENCY  families, each signed in, uploading at the same moment (default 50)
  --waves N        WAVES        times they all send their upload at once (default 5)
  --duration S     DURATION     then seconds with CONCURRENCY uploads always in flight (default 20; 0: none)
  --size-kb N      SIZE_KB      size of each file in KiB (default 2048, the 2 Mo limit of the document)
  --pg-url URL     PG_URL       Postgres server, trust auth (default postgres://postgres@127.0.0.1:5432)
  --out FILE       BENCH_OUT    JSON results (default load-tests/results/uploads-<date>.json)
`

const identifiantOf = (i: number) => `famille-${String(i + 1).padStart(5, '0')}`

/** The tenant (one family-level document, the defaults: 2 Mo, PDF, JPEG or PNG) and its families. */
async function seed(url: string, tenantsDir: string, families: number): Promise<void> {
  const [config] = loadTenantConfigs(tenantsDir)
  const orm = await openOrm({ kind: 'postgres', url }, { entities: allEntities, poolSize: 2 })
  try {
    await migratePlatform(orm)
    await createTenant(orm, config!)
    const em = orm.em.fork({ schema: schemaFor(slug) })
    const passwordHash = await hashPassword(password)
    for (let i = 0; i < families; i++) {
      const identifiant = identifiantOf(i)
      const account = em.create(Account, {
        identifiant,
        role: 'family',
        email: `${identifiant}@example.org`,
        displayName: `Famille ${i + 1}`,
        passwordHash,
      })
      const family = em.create(Family, {})
      em.create(Guardian, {
        family,
        rank: 1,
        lastName: `Banc${i + 1}`,
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

/** The `_csrf` of the page's upload form (its cookie is in the family's jar already). */
function uploadTokenOf(body: string): string {
  const token = parse(body)
    .querySelector('form[enctype="multipart/form-data"] input[name="_csrf"]')
    ?.getAttribute('value')
  if (!token) throw new Error(`no upload form on ${uploadPath}`)
  return token
}

interface Outcome {
  status: number
  location?: string
  /** From the first byte sent to the last byte of the answer. */
  ms: number
  /** When the answer was complete, from performance.now(). */
  endedAt: number
  /** A network error or a timeout instead of an answer. */
  error?: string
  /** Of an unexpected answer: the page's field errors, or the start of its text. */
  detail?: string
}

/** What an answer other than the redirect said: its field errors (a 400), or the start of its text. */
function detailOf(body: string): string {
  const page = parse(body)
  const errors = page.querySelectorAll('.field__error').map((e) => e.text.trim())
  const text = errors.length > 0 ? errors.join(' / ') : page.text.replace(/\s+/g, ' ').trim()
  return text.slice(0, 160)
}

const expected = (o: Outcome) => o.status === 303 && o.location === expectedLocation

interface Memory {
  rss: number
  peak: number
}

interface PhaseFigures {
  phase: string
  uploads: number
  responses: number
  statusCodes: Record<string, number>
  errors: number
  unexpected: number
  unexpectedSamples: string[]
  wallMs: number
  uploadsPerSecond: number
  mbPerSecond: number
  /** Expected answers (303) only. */
  latencyMs: Summary
  serverCpuMsPerUpload: number
  cores: { machine: number; server: number; loadGenerator: number }
  memory: {
    /** Right before the phase, after its peak was reset. */
    before: Memory
    after: Memory
    /** The highest RSS of the samples taken every 50 ms during the phase. */
    sampledMaxRss: number
  }
}

/** Samples the server's RSS every 50 ms, between VmHWM readings, as a cross-check of the peak. */
function rssSampler(pid: number) {
  let max = 0
  const timer = setInterval(() => {
    try {
      max = Math.max(max, memoryOf(pid).rss)
    } catch {
      // the server is gone; the phase will fail on its own
    }
  }, 50)
  return {
    take(): number {
      const value = max
      max = 0
      return value
    },
    stop: () => clearInterval(timer),
  }
}

export async function uploadsBenchmark(argv: string[]): Promise<number> {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      concurrency: { type: 'string' },
      waves: { type: 'string' },
      duration: { type: 'string' },
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
    waves: integer('WAVES', args.waves, env.WAVES, 5, 0),
    durationS: integer('DURATION', args.duration, env.DURATION, 20, 0),
    sizeKb: integer('SIZE_KB', args['size-kb'], env.SIZE_KB, 2048),
    pgUrl: args['pg-url'] ?? env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432',
  }
  if (options.concurrency > 10_000) throw new Error('CONCURRENCY is at most 10000')
  if (options.waves === 0 && options.durationS === 0)
    throw new Error('nothing to measure: WAVES and DURATION are 0')
  const date = new Date().toISOString().slice(0, 10)
  const outFile = resolve(
    args.out ?? env.BENCH_OUT ?? join(root, 'load-tests/results', `uploads-${date}.json`),
  )
  const database = 'tutti_bench_uploads'
  const work = scratch(options.pgUrl, [database], 'tutti-bench-uploads-')
  const logFile = join(work.dir, 'server.log')
  return runInScratch(work, [logFile], run)

  async function run(): Promise<number> {
    const startedAt = new Date()
    const machine = describeMachine(options.pgUrl)
    print(`Tutti upload benchmark, ${startedAt.toISOString()}`)
    print(
      `  ${machine.cpus} CPU(s) ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, Postgres ${machine.postgres}`,
    )
    print(`  load average ${machine.loadAverageAtStart.join(' ')} (anything else running skews the figures)`)
    print(
      `  ${options.concurrency} families, files of ${options.sizeKb} KiB; ${options.waves} wave(s) of ${options.concurrency} at once, then ${options.durationS} s with ${options.concurrency} in flight`,
    )
    print()

    print('1. Tenant, families, production server')
    const tenantsDir = join(work.dir, 'tenants')
    mkdirSync(tenantsDir)
    writeFileSync(
      join(tenantsDir, `${slug}.yaml`),
      stringify({
        slug,
        name: 'Conservatoire Bench Uploads',
        contact: { email: 'contact@bench.example.org' },
        establishments: [{ code: 'centre', name: 'Site du centre' }],
        documents: [{ id: documentId, label: 'Attestation d’assurance', level: 'family' }],
      }),
    )
    recreateDatabase(options.pgUrl, database)
    const url = databaseUrl(options.pgUrl, database)
    await seed(url, tenantsDir, options.concurrency)
    const dataDir = join(work.dir, 'data')
    mkdirSync(dataDir)
    const port = await freePort()
    const server = await startServer({
      root,
      env: productionEnv({ databaseUrl: url, tenantsDir, dataDir, port }),
      port,
      logFile,
      bootTimeoutMs: 60_000,
    })
    const pid = server.child.pid!
    const afterBoot = memoryOf(pid)
    print(
      `  ${slug}: ${options.concurrency} families; server up in ${s(server.bootMs)}, RSS ${mb(afterBoot.rss)}`,
    )

    // each family its own socket, cookie jar (session + CSRF secret) and address
    const clients = Array.from(
      { length: options.concurrency },
      (_, i) => new FamilyClient(port, host, `10.1.${(i >> 8) & 255}.${i & 255}`),
    )
    const signInStart = performance.now()
    const tokens = await Promise.all(
      clients.map(async (client, i) => {
        const page = await client.get('/connexion')
        const signedIn = await client.post('/connexion', {
          _csrf: csrfOf(page.body, '/connexion'),
          identifiant: identifiantOf(i),
          password,
        })
        if (signedIn.status !== 303)
          throw new Error(`sign-in of ${identifiantOf(i)}: status ${signedIn.status}`)
        const pieces = await client.get(uploadPath)
        if (pieces.status !== 200) throw new Error(`GET ${uploadPath}: status ${pieces.status}`)
        return uploadTokenOf(pieces.body)
      }),
    )
    print(
      `  ${clients.length} families signed in at once in ${s(performance.now() - signInStart)} (not measured)`,
    )

    const content = pdfOf(options.sizeKb * 1024)
    const sha256 = createHash('sha256').update(content).digest('hex')
    // one body per family, in parts: every one of them sends the same file buffer, never copied
    const bodies = tokens.map((token) =>
      multipartParts(
        { _csrf: token, document: documentId },
        { name: 'file', fileName: 'assurance.pdf', contentType: 'application/pdf', content },
      ),
    )
    const uploadOnce = async (i: number): Promise<Outcome> => {
      const start = performance.now()
      try {
        const reply = await clients[i]!.send('POST', uploadPath, bodies[i]!.parts, bodies[i]!.contentType)
        const outcome: Outcome = {
          status: reply.status,
          location: reply.headers.location,
          ms: reply.ms,
          endedAt: performance.now(),
        }
        if (!expected(outcome)) outcome.detail = detailOf(reply.body)
        return outcome
      } catch (error) {
        const end = performance.now()
        return { status: 0, ms: end - start, endedAt: end, error: (error as Error).message }
      }
    }
    const describe = (o: Outcome) => o.error ?? `${o.status} ${o.location ?? o.detail ?? ''}`.trim()

    // the baseline: after the sign-ins, before any upload; the peak so far is the sign-ins' (argon2)
    await sleep(1000)
    const baseline = memoryOf(pid)
    const peakReset = resetPeak(pid)
    print(
      `  server RSS ${mb(baseline.rss)} at the baseline, before any upload (peak since boot ${mb(baseline.peak)}, the sign-ins' argon2 included)${peakReset ? '; peak reset' : '; the kernel refused to reset the peak'}`,
    )

    // the check and the warm-up: every family uploads once, alone on the server
    const alone: Outcome[] = []
    for (let i = 0; i < clients.length; i++) alone.push(await uploadOnce(i))
    const aloneBad = alone.filter((o) => !expected(o))
    const aloneMs = summarize(alone.filter(expected).map((o) => o.ms))
    print(
      `  check: ${clients.length} uploads one after the other, ${alone.length - aloneBad.length} answered 303 to ${expectedLocation}; alone p50 ${ms(aloneMs.p50)}, max ${ms(aloneMs.max)}`,
    )
    if (aloneBad.length > 0)
      throw new Error(
        `an upload alone was not accepted: ${[...new Set(aloneBad.map(describe))].slice(0, 3).join('; ')}`,
      )
    await sleep(1000)
    const afterCheck = memoryOf(pid)
    print(`  server RSS ${mb(afterCheck.rss)} after the check, peak ${mb(afterCheck.peak)}`)
    print()

    print('2. Load')
    const sampler = rssSampler(pid)

    const phase = async (name: string, load: () => Promise<Outcome[]>): Promise<PhaseFigures> => {
      if (peakReset) resetPeak(pid)
      const before = memoryOf(pid)
      sampler.take()
      const cpuBefore = cpuTimeOf(pid)
      const watch = cpuWatch()
      const start = performance.now()
      const outcomes = await load()
      const wallMs = Math.max(...outcomes.map((o) => o.endedAt)) - start
      const cpu = watch()
      const serverCpuMs = cpuTimeOf(pid) - cpuBefore
      const after = memoryOf(pid)
      const sampledMaxRss = Math.max(sampler.take(), after.rss)
      const ok = outcomes.filter(expected)
      const bad = outcomes.filter((o) => !expected(o))
      const statusCodes: Record<string, number> = {}
      for (const o of outcomes) {
        const key = o.error ? 'error' : String(o.status)
        statusCodes[key] = (statusCodes[key] ?? 0) + 1
      }
      return {
        phase: name,
        uploads: ok.length,
        responses: outcomes.filter((o) => !o.error).length,
        statusCodes,
        errors: outcomes.filter((o) => o.error).length,
        unexpected: bad.length,
        unexpectedSamples: [...new Set(bad.map(describe))].slice(0, 10),
        wallMs,
        uploadsPerSecond: round(ok.length / (wallMs / 1000), 1),
        mbPerSecond: round((ok.length * content.length) / MB / (wallMs / 1000), 1),
        latencyMs: summarize(ok.map((o) => o.ms)),
        serverCpuMsPerUpload: round(serverCpuMs / Math.max(ok.length, 1), 1),
        cores: {
          machine: cores(cpu.machineMs, cpu.wallMs),
          server: cores(serverCpuMs, cpu.wallMs),
          loadGenerator: cores(cpu.harnessMs, cpu.wallMs),
        },
        memory: { before, after, sampledMaxRss },
      }
    }

    const phases: PhaseFigures[] = []
    const waveLines: { wave: number; wallMs: number; p99: number; rss: number; unexpected: number }[] = []
    if (options.waves > 0) {
      const figures = await phase('waves', async () => {
        const all: Outcome[] = []
        for (let wave = 1; wave <= options.waves; wave++) {
          const waveStart = performance.now()
          const outcomes = await Promise.all(clients.map((_, i) => uploadOnce(i)))
          all.push(...outcomes)
          const line = {
            wave,
            wallMs: round(performance.now() - waveStart, 1),
            p99: round(summarize(outcomes.map((o) => o.ms)).p99, 1),
            rss: memoryOf(pid).rss,
            unexpected: outcomes.filter((o) => !expected(o)).length,
          }
          waveLines.push(line)
          print(
            `  wave ${wave}/${options.waves}: ${outcomes.length} uploads at once, all answered in ${s(line.wallMs)}, p99 ${ms(line.p99)}, unexpected ${line.unexpected}; RSS ${mb(line.rss)}, peak ${mb(memoryOf(pid).peak)}`,
          )
        }
        return all
      })
      phases.push(figures)
    }
    if (options.durationS > 0) {
      const figures = await phase('sustained', async () => {
        const all: Outcome[] = []
        const deadline = performance.now() + options.durationS * 1000
        const progress = setInterval(() => {
          const m = memoryOf(pid)
          print(`  sustained: ${all.length} answered so far; RSS ${mb(m.rss)}, peak ${mb(m.peak)}`)
        }, 5000)
        try {
          await Promise.all(
            clients.map(async (_, i) => {
              while (performance.now() < deadline) all.push(await uploadOnce(i))
            }),
          )
        } finally {
          clearInterval(progress)
        }
        return all
      })
      phases.push(figures)
    }
    sampler.stop()
    const atEnd = memoryOf(pid)
    for (const client of clients) client.close()
    await server.stop()
    print()

    // what the answers said was stored: one pending submission per family (an upload replaces the
    // family's pending one), its file of the right size and bytes, and one audit event per upload
    const schema = schemaFor(slug)
    if (!/^tenant_[a-z0-9_]+$/.test(schema)) throw new Error(`refusing schema "${schema}"`)
    const [files, bytes, contentBytes, intact] = psql(
      options.pgUrl,
      `select count(*), coalesce(sum(size), 0), coalesce(sum(octet_length(content)), 0),
              count(*) filter (where size = ${content.length} and octet_length(content) = ${content.length}
                               and encode(sha256(content), 'hex') = '${sha256}' and sha256 = '${sha256}')
       from "${schema}".stored_file`,
      database,
    )
      .split('|')
      .map(Number) as [number, number, number, number]
    const [submissions, submittingFamilies] = psql(
      options.pgUrl,
      `select count(*), count(distinct family_id) from "${schema}".document_submission
       where document_id = '${documentId}' and state = 'pending' and pupil_id is null`,
      database,
    )
      .split('|')
      .map(Number) as [number, number]
    const [uploadedEvents, replacedEvents] = psql(
      options.pgUrl,
      `select count(*) filter (where action = 'document.uploaded'), count(*) filter (where action = 'document.replaced')
       from "${schema}".audit_event`,
      database,
    )
      .split('|')
      .map(Number) as [number, number]
    const accepted = alone.length + phases.reduce((sum, p) => sum + p.uploads, 0)
    const stored = {
      files,
      bytes,
      contentBytes,
      intact,
      submissions,
      submittingFamilies,
      uploadedEvents,
      replacedEvents,
      expected: {
        files: clients.length,
        bytes: clients.length * content.length,
        uploadedEvents: accepted,
        replacedEvents: accepted - clients.length,
      },
    }
    const storedOk =
      files === clients.length &&
      intact === clients.length &&
      bytes === stored.expected.bytes &&
      contentBytes === stored.expected.bytes &&
      submissions === clients.length &&
      submittingFamilies === clients.length &&
      uploadedEvents === accepted &&
      replacedEvents === accepted - clients.length

    // what the server logged at warn and above (LOG_LEVEL=warn): pino's JSON lines
    const logLines = readFileSync(logFile, 'utf8').split('\n').filter(Boolean)
    const logLevels: Record<string, number> = {}
    const logSamples: string[] = []
    for (const line of logLines) {
      let level = 'text'
      let text = line
      try {
        const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } }
        level = String(entry.level ?? 'unknown')
        text = [entry.msg, entry.err?.message].filter(Boolean).join(': ')
      } catch {
        // not JSON: kept as it is
      }
      logLevels[level] = (logLevels[level] ?? 0) + 1
      if (logSamples.length < 5) logSamples.push(`[${level}] ${text.slice(0, 200)}`)
    }

    // the peak of the uploads: of the check (one at a time) and of every phase, each reset before
    const peak = Math.max(afterCheck.peak, ...phases.map((p) => p.memory.after.peak))
    const sampledPeak = Math.max(...phases.map((p) => p.memory.sampledMaxRss))
    const growth = peak - baseline.rss
    const warmGrowth = peak - afterCheck.rss
    const unexpected = phases.reduce((sum, p) => sum + p.unexpected, 0)
    const responses = phases.reduce((sum, p) => sum + p.uploads + p.unexpected, 0)

    const phaseLines = (p: PhaseFigures): string[] => [
      p.phase === 'waves'
        ? `${options.waves} wave(s) of ${options.concurrency} uploads sent at the same moment (a wave ends with its last answer)`
        : `${options.durationS} s with ${options.concurrency} uploads always in flight (each family sends its next one when answered)`,
      `  ${p.uploads} uploads of ${mb(content.length)} in ${s(p.wallMs)}: ${p.uploadsPerSecond} uploads/s, ${p.mbPerSecond} MB/s; statuses ${JSON.stringify(p.statusCodes)}, unexpected ${p.unexpected}`,
      `  latency p50 ${ms(p.latencyMs.p50)}, p90 ${ms(p.latencyMs.p90)}, p99 ${ms(p.latencyMs.p99)}, max ${ms(p.latencyMs.max)} (mean ${ms(p.latencyMs.mean)})`,
      `  server CPU ${p.serverCpuMsPerUpload} ms per upload; cores busy: machine ${p.cores.machine}, server ${p.cores.server}, load generator ${p.cores.loadGenerator}, Postgres and the rest ${round(p.cores.machine - p.cores.server - p.cores.loadGenerator, 2)}`,
      `  server RSS ${mb(p.memory.before.rss)} before, ${mb(p.memory.after.rss)} after; peak (VmHWM) ${mb(p.memory.after.peak)}, sampled RSS peaked at ${mb(p.memory.sampledMaxRss)}; growth over the baseline ${mb(p.memory.after.peak - baseline.rss)}`,
      ...p.unexpectedSamples.map((u) => `  ! ${u}`),
    ]
    const targets = [
      {
        name: 'peak RSS growth under 150 MB',
        pass: growth < targetGrowthBytes,
        figure: `${mb(growth)}: peak ${mb(peak)} - baseline RSS ${mb(baseline.rss)}`,
      },
      {
        name: 'no unexpected status',
        pass: unexpected === 0 && responses > 0,
        figure: `${responses - unexpected} x 303 to ${expectedLocation}, ${unexpected} other`,
      },
      {
        name: 'every accepted upload stored',
        pass: storedOk,
        figure: `${files} files (${intact} intact), ${bytes} bytes; ${uploadedEvents} uploaded and ${replacedEvents} replaced events for ${accepted} accepted`,
      },
    ]
    const report = [
      '== Results ==',
      '',
      `${options.concurrency} families, one file of ${content.length} bytes each (a PDF), POST ${uploadPath}; the server reads and stores a limited number at once (src/features/documents/upload.ts)`,
      `  alone (the check, one after the other): p50 ${ms(aloneMs.p50)}, p99 ${ms(aloneMs.p99)}, max ${ms(aloneMs.max)}`,
      ...phases.flatMap(phaseLines),
      '',
      `Server memory: RSS after boot ${mb(afterBoot.rss)}; baseline after the sign-ins, before any upload, ${mb(baseline.rss)} (peak since boot ${mb(baseline.peak)}${peakReset ? ', then reset before the check and each phase' : '; not reset: the kernel refused'})`,
      `  after the check ${mb(afterCheck.rss)}; peak of the uploads ${mb(peak)} (sampled RSS during the load ${mb(sampledPeak)}); at the end ${mb(atEnd.rss)}`,
      `  peak RSS growth ${mb(growth)} over the baseline RSS; ${mb(warmGrowth)} over the RSS after the check; ${mb(peak - baseline.peak)} over the peak before any upload (${mb(baseline.peak)}, the sign-ins')`,
      `Database: ${files} stored files, ${intact} of ${content.length} bytes with the file's SHA-256 (${bytes} bytes in all); ${submissions} pending submissions of ${submittingFamilies} families; audit: ${uploadedEvents} document.uploaded, ${replacedEvents} document.replaced (expected ${accepted} and ${accepted - clients.length})`,
      `Server log (warn and above): ${logLines.length} line(s)${logLines.length ? ` ${JSON.stringify(logLevels)}` : ''}`,
      ...logSamples.map((l) => `  ${l}`),
      '',
      'Targets',
      ...targets.map((t) => `  ${t.pass ? 'PASS' : 'FAIL'}  ${t.name} (${t.figure})`),
      '',
    ]
    for (const line of report) print(line)

    const finishedAt = new Date()
    print(`load average at the end ${loadAverage().join(' ')}`)
    const results = {
      benchmark: 'uploads',
      date,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      command: ['npm run bench -- uploads', ...argv].join(' '),
      options: { ...options, pgUrl: undefined },
      machine: { ...machine, loadAverageAtEnd: loadAverage() },
      fileBytes: content.length,
      bootMs: round(server.bootMs, 1),
      alone: { uploads: alone.length, latencyMs: roundSummary(aloneMs) },
      phases: phases.map((p) => ({ ...p, wallMs: round(p.wallMs, 1), latencyMs: roundSummary(p.latencyMs) })),
      waves: waveLines,
      memory: {
        afterBoot,
        baseline,
        peakReset,
        afterCheck,
        peak,
        sampledPeakRss: sampledPeak,
        atEnd,
        peakGrowthBytes: growth,
        peakGrowthOverAfterCheckBytes: warmGrowth,
        peakGrowthOverPeakBeforeBytes: peak - baseline.peak,
      },
      stored,
      serverLog: { lines: logLines.length, levels: logLevels, samples: logSamples },
      targets,
    }
    mkdirSync(resolve(outFile, '..'), { recursive: true })
    writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`)
    print(`raw figures: ${outFile}`)
    print(`finished in ${s(finishedAt.getTime() - startedAt.getTime())}`)
    return targets.every((t) => t.pass) ? 0 : 1
  }
}
