/**
 * Allocation benchmark (issue 19): REQUESTS ranked requests (each pupil ranks two items) over ITEMS
 * items of next year's offer, one course each, with more requests than seats. Staff run the
 * allocation for all items and confirm it: the proposal reads the requests and their priority facts,
 * computes the allocation and writes it; the confirmation offers the seats (each family's two
 * guardians mailed through the outbox) and puts the others on the waiting lists. In process, against
 * the service functions, on Postgres and on the embedded PGlite; every run starts from the same
 * requests, all waiting. Started by run.ts:
 *
 *   npm run bench -- allocation                 # 2,000 requests, 150 items, 5 runs, both databases
 *   npm run bench -- allocation --db pglite --runs 3
 *
 * Figures: the median and worst of the runs for the pure allocation, the proposal and the
 * confirmation; the target is the allocation (proposal and confirmation) under 2 s.
 *
 * Bounded: fixed runs, loopback only; its database and temp directory are removed at the end, also
 * on failure and on Ctrl-C. See load-tests/README.md.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { parse as parseYaml, stringify } from 'yaml'
import { allEntities } from '../src/entities.ts'
import { Family, Guardian } from '../src/features/family/entities.ts'
import { allocate, type PriorityRule } from '../src/features/places/allocate.ts'
import { Allocation, OfferItem, PlaceRequest } from '../src/features/places/entities.ts'
import {
  confirmAllocation,
  type PlacesScope,
  proposeAllocation,
  requestFacts,
  seatsLeft,
} from '../src/features/places/service.ts'
import { Pupil } from '../src/features/pupils/entities.ts'
import { Course, Enrolment, SchoolYear } from '../src/features/teaching/entities.ts'
import type { Actor } from '../src/platform/auth/context.ts'
import { Account } from '../src/platform/auth/entities.ts'
import type { Database } from '../src/platform/config.ts'
import { type Orm, openOrm } from '../src/platform/db/orm.ts'
import { OutboxMail } from '../src/platform/mail/entities.ts'
import { createTenant, migratePlatform } from '../src/platform/tenancy/provisioning.ts'
import { schemaFor } from '../src/platform/tenancy/registry.ts'
import { loadTenantConfigs, type TenantConfig } from '../src/platform/tenancy/tenant-config.ts'
import {
  describeMachine,
  integer,
  loadAverage,
  print,
  root,
  runInScratch,
  scratch,
} from './harness/common.ts'
import { databaseUrl, recreateDatabase } from './harness/postgres.ts'
import { ms } from './harness/report.ts'
import { median, round } from './harness/stats.ts'

const slug = 'bench-places'
const database = 'tutti_bench_allocation'
/** The target: allocating 2,000 requests over 150 courses in under 2 s. */
const targetMs = 2000

const usage = `Usage: npm run bench -- allocation [options]   (each option also read from the environment)

  --requests N   REQUESTS  ranked requests, two per pupil (default 2000)
  --items N      ITEMS     items of the offer, one course each (default 150)
  --seats N      SEATS     seats of each item (default 8: 1,200 seats for 1,000 pupils)
  --runs N       RUNS      runs of the proposal and the confirmation (default 5)
  --db KIND      BENCH_DB  postgres, pglite or both (default both)
  --pg-url URL   PG_URL    Postgres server, trust auth (default postgres://postgres@127.0.0.1:5432)
  --out FILE     BENCH_OUT JSON results (default load-tests/results/allocation-<date>.json)
`

const disciplines = [
  'piano',
  'violon',
  'guitare',
  'flute',
  'clarinette',
  'batterie',
  'chant',
  'harpe',
  'cor',
  'alto',
]

/** Limonest's YAML under another slug, with the rules of a conservatoire that draws among equals. */
function writeTenantFile(dir: string): TenantConfig {
  const yaml = parseYaml(readFileSync(join(root, 'tenants/limonest.yaml'), 'utf8'))
  yaml.slug = slug
  delete yaml.hosts
  yaml.places = {
    rules: ['continuing', 'resident', 'sibling', 'draw'],
    residents: { postalCodes: ['69760'] },
    answerDays: 7,
  }
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, `${slug}.yaml`), stringify(yaml))
  return loadTenantConfigs(dir)[0]!
}

/**
 * This year and next; ITEMS courses of next year, each an item of the offer; requests/2 pupils in
 * families of two guardians (a third with a brother or sister), a fifth continuing the discipline of
 * their first choice, half of them residents; each pupil ranks two items, the popular ones more often.
 */
async function seed(
  orm: Orm,
  config: TenantConfig,
  options: { requests: number; items: number; seats: number },
) {
  await migratePlatform(orm)
  await createTenant(orm, config)
  const em = orm.em.fork({ schema: schemaFor(slug) })
  const current = em.create(SchoolYear, {
    label: '2026-2027',
    startsOn: '2026-09-01',
    endsOn: '2027-08-31',
    current: true,
  })
  const next = em.create(SchoolYear, { label: '2027-2028', startsOn: '2027-09-01', endsOn: '2028-08-31' })
  const staff = em.create(Account, {
    identifiant: 'secretariat',
    role: 'secretariat',
    email: 'secretariat@example.org',
    displayName: 'Secrétariat',
    passwordHash: 'unused',
  })
  const establishment = config.establishments[0]!.code
  const thisYear = disciplines.map((discipline) =>
    em.create(Course, { schoolYear: current, discipline, establishment, name: `${discipline} 2026` }),
  )
  const courses = Array.from({ length: options.items }, (_, i) =>
    em.create(Course, {
      schoolYear: next,
      discipline: disciplines[i % disciplines.length]!,
      establishment,
      name: `Cours ${i + 1}`,
      capacity: options.seats + 2,
    }),
  )
  await em.flush()
  const items = courses.map((course, i) =>
    em.create(OfferItem, {
      schoolYear: next,
      label: `${course.discipline} — groupe ${i + 1}`,
      discipline: course.discipline,
      courseIds: [course.id],
      seats: options.seats,
      accepts: 'both',
      publishedAt: new Date(),
    }),
  )
  const pupils = Math.ceil(options.requests / 2)
  // a deterministic spread: item k is asked for about twice as often as item k + items/2
  let state = 42
  const random = () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31
    return state / 2 ** 31
  }
  const pick = () => Math.floor(options.items * random() ** 1.5)
  let family: Family | undefined
  let made = 0
  for (let n = 0; n < pupils; n++) {
    if (!family || n % 3 !== 1) {
      family = em.create(Family, {})
      const postalCode = random() < 0.5 ? '69760' : '69003'
      for (const rank of [1, 2])
        em.create(Guardian, {
          family,
          rank,
          lastName: `Famille ${n}`,
          firstName: rank === 1 ? 'Camille' : 'Thomas',
          email: `famille-${n}-${rank}@example.org`,
          postalCode,
          extraPhones: [],
        })
    }
    const pupil = em.create(Pupil, {
      family,
      lastName: `Élève ${n}`,
      firstName: 'Léa',
      birthDate: '2014-09-01',
    })
    const first = pick()
    let second = pick()
    while (second === first) second = (second + 1) % options.items
    for (const [rank, index] of [first, second].entries()) {
      if (made >= options.requests) break
      made++
      em.create(PlaceRequest, {
        item: items[index]!,
        source: 'reenrolment',
        pupil,
        family,
        name: `Léa Élève ${n}`,
        rank: rank + 1,
        requestedAt: new Date(Date.UTC(2027, 2, 1, 9, 0, n)),
      })
    }
    if (random() < 0.2)
      em.create(Enrolment, {
        pupil,
        course: thisYear[disciplines.indexOf(items[first]!.discipline)]!,
      })
  }
  await em.flush()
  return { next: next.id, staff: staff.id, current: current.id }
}

/** Back to every request waiting, no allocation, no mail: each run starts from the same place. */
async function reset(orm: Orm) {
  const em = orm.em.fork({ schema: schemaFor(slug) })
  await em.nativeUpdate(
    PlaceRequest,
    {},
    { state: 'waiting', queueOrder: null, facts: null, offeredAt: null, answerBy: null, tokenHash: null },
  )
  await em.nativeDelete(Allocation, {})
  await em.nativeDelete(OutboxMail, {})
}

interface Figures {
  allocateMs: number[]
  proposeMs: number[]
  confirmMs: number[]
  placed: number
  offered: number
  waitlisted: number
  mails: number
  seats: number
}

async function measure(
  db: Database,
  config: TenantConfig,
  options: { requests: number; items: number; seats: number; runs: number },
) {
  const orm = await openOrm(db, { entities: allEntities, poolSize: 4 })
  try {
    const ids = await seed(orm, config, options)
    if (db.kind === 'postgres') await orm.em.fork().getConnection().execute('analyze')
    const actor: Actor = {
      id: ids.staff,
      role: 'secretariat',
      identifiant: 'secretariat',
      email: 'secretariat@example.org',
      displayName: 'Secrétariat',
    }
    const scope: PlacesScope = { config, locale: 'fr', baseUrl: `http://${slug}.localhost` }
    const em = () => orm.em.fork({ schema: schemaFor(slug) })
    const figures: Figures = {
      allocateMs: [],
      proposeMs: [],
      confirmMs: [],
      placed: 0,
      offered: 0,
      waitlisted: 0,
      mails: 0,
      seats: options.items * options.seats,
    }
    // the pure allocation, over the facts as the proposal reads them
    const reader = em()
    const items = await reader.find(OfferItem, {})
    const requests = await reader.find(PlaceRequest, {})
    const facts = await requestFacts(
      reader,
      config,
      requests.map((r) => r.id),
      ids.current,
    )
    const seats = await seatsLeft(reader, items)
    const rules = config.places.rules as PriorityRule[]
    for (let run = 0; run < Math.max(options.runs, 10); run++) {
      const started = performance.now()
      const result = allocate({ seats, requests: facts, rules, seed: `run-${run}` })
      figures.allocateMs.push(performance.now() - started)
      figures.placed = result.placed.size
    }
    for (let run = 0; run < options.runs; run++) {
      await reset(orm)
      let started = performance.now()
      const allocation = await em().transactional(async (tx) =>
        proposeAllocation(tx, actor, {
          year: await tx.findOneOrFail(SchoolYear, ids.next),
          config,
          item: null,
          seed: `run-${run}`,
        }),
      )
      figures.proposeMs.push(performance.now() - started)
      started = performance.now()
      const confirmed = await em().transactional((tx) => confirmAllocation(tx, actor, scope, allocation.id))
      figures.confirmMs.push(performance.now() - started)
      if ('refused' in confirmed) throw new Error(`confirmation refused: ${JSON.stringify(confirmed)}`)
      figures.offered = confirmed.offered
      figures.waitlisted = confirmed.waitlisted
      figures.mails = await em().count(OutboxMail, { template: 'place-offered' })
    }
    return figures
  } finally {
    await orm.close()
  }
}

export async function allocationBenchmark(argv: string[]): Promise<number> {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      requests: { type: 'string' },
      items: { type: 'string' },
      seats: { type: 'string' },
      runs: { type: 'string' },
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
    requests: integer('REQUESTS', args.requests, env.REQUESTS, 2000, 2),
    items: integer('ITEMS', args.items, env.ITEMS, 150, 2),
    seats: integer('SEATS', args.seats, env.SEATS, 8),
    runs: integer('RUNS', args.runs, env.RUNS, 5),
    databases: (dbChoice === 'both' ? ['postgres', 'pglite'] : [dbChoice]) as ('postgres' | 'pglite')[],
    pgUrl: args['pg-url'] ?? env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432',
  }
  const date = new Date().toISOString().slice(0, 10)
  const outFile = resolve(
    args.out ?? env.BENCH_OUT ?? join(root, 'load-tests/results', `allocation-${date}.json`),
  )
  const work = scratch(options.pgUrl, [database], 'tutti-bench-allocation-')
  return runInScratch(work, [], async () => {
    const machine = describeMachine(options.pgUrl)
    print(`Tutti allocation benchmark, ${new Date().toISOString()}`)
    print(
      `  ${machine.cpus} CPU(s) ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, Postgres ${machine.postgres}`,
    )
    print(`  load average ${machine.loadAverageAtStart.join(' ')}`)
    print(
      `  ${options.requests} requests over ${options.items} items of ${options.seats} seats, ${options.runs} run(s) on ${options.databases.join(' and ')}`,
    )
    const config = writeTenantFile(join(work.dir, 'tenants'))
    const results: Record<string, Figures> = {}
    for (const kind of options.databases) {
      let db: Database
      if (kind === 'postgres') {
        recreateDatabase(options.pgUrl, database)
        db = { kind: 'postgres', url: databaseUrl(options.pgUrl, database) }
      } else db = { kind: 'pglite', dataDir: join(work.dir, 'pglite') }
      const figures = await measure(db, config, options)
      results[kind] = figures
      const line = (name: string, values: number[]) =>
        `    ${name.padEnd(26)} median ${ms(median(values))}  worst ${ms(Math.max(...values))}  (${values.map((v) => Math.round(v)).join(', ')})`
      print()
      print(
        `${kind}: ${figures.placed} of ${options.requests} requests placed on ${figures.seats} seats; confirmed: ${figures.offered} offered, ${figures.waitlisted} waitlisted, ${figures.mails} mails queued`,
      )
      print(line('allocate() alone', figures.allocateMs))
      print(line('proposeAllocation', figures.proposeMs))
      print(line('confirmAllocation', figures.confirmMs))
      print(
        line(
          'propose + confirm',
          figures.proposeMs.map((p, i) => p + figures.confirmMs[i]!),
        ),
      )
      if (kind === 'postgres') recreateDatabase(options.pgUrl, database)
    }
    const total = (x: Figures) => median(x.proposeMs.map((p, i) => p + x.confirmMs[i]!))
    const targets = Object.entries(results).map(([kind, x]) => ({
      name: `${kind}: proposal and confirmation of ${options.requests} requests under ${targetMs} ms (median)`,
      pass: total(x) < targetMs,
      value: round(total(x), 0),
    }))
    print()
    print('Targets')
    for (const target of targets)
      print(`  ${target.pass ? 'PASS' : 'FAIL'}  ${target.name} (${target.value} ms)`)
    print(`load average at the end ${loadAverage().join(' ')}`)
    mkdirSync(resolve(outFile, '..'), { recursive: true })
    writeFileSync(
      outFile,
      `${JSON.stringify(
        {
          benchmark: 'allocation',
          date,
          command: ['npm run bench -- allocation', ...argv].join(' '),
          options: { ...options, pgUrl: undefined },
          machine: { ...machine, loadAverageAtEnd: loadAverage() },
          results: Object.fromEntries(
            Object.entries(results).map(([kind, x]) => [
              kind,
              {
                ...x,
                allocateMs: x.allocateMs.map((v) => round(v, 1)),
                proposeMs: x.proposeMs.map((v) => round(v, 1)),
                confirmMs: x.confirmMs.map((v) => round(v, 1)),
              },
            ]),
          ),
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
