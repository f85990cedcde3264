import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import t from 'tap'
import {
  columnFor,
  quoteRentals,
  quoteTuition,
  type Tariffs,
  type TuitionRequest,
} from '../../../src/features/billing/tariffs.ts'
import { parseTenantConfig } from '../../../src/platform/tenancy/tenant-config.ts'
import type { TenantConfig } from '../../../src/platform/tenancy/tenant-config-types.ts'
import { crossCheck } from '../../../src/platform/tenancy/tenant-config-rules.ts'
import { formatEuros } from '../../../src/platform/views/money.ts'

/** Replay a failure with FUZZ_SEED=<the seed fast-check printed>. */
const seed = Number(process.env.FUZZ_SEED ?? 17_2026)

const demo = (slug: string): TenantConfig => {
  const text = readFileSync(new URL(`../../../tenants/${slug}.yaml`, import.meta.url), 'utf8')
  const { config, problems } = parseTenantConfig(`${slug}.yaml`, text)
  if (!config) throw new Error(JSON.stringify(problems))
  return config
}
const limonest = demo('limonest')
const angouleme = demo('grand-angouleme')

const family = (facts: Partial<TuitionRequest['family']> = {}) => ({
  resident: true,
  quotientBracket: null,
  paymentMode: null,
  ...facts,
})
const quote = (config: TenantConfig, request: Partial<TuitionRequest>) =>
  quoteTuition(config, config.tariffs!, {
    schoolYear: '2027-2028',
    family: family(),
    pupils: [],
    ...request,
  })

t.test('euros are written the French way, with no-break spaces', async (t) => {
  t.equal(formatEuros(123456), '1\u202f234,56\u00a0€')
  t.equal(formatEuros(5), '0,05\u00a0€')
  t.equal(formatEuros(0), '0,00\u00a0€')
  t.equal(formatEuros(123456, 'en'), '€1,234.56')
})

t.test('Limonest: a cursus complet in Q3, paid in 9 direct debits from November on the 5th', async (t) => {
  const q = quote(limonest, {
    family: family({ quotientBracket: 'Q3', paymentMode: 'prelevement' }),
    pupils: [{ name: 'Léa', disciplines: ['clarinette', 'formation-musicale', 'orchestre'] }],
  })
  t.same(q.column, { kind: 'bracket', code: 'Q3', label: 'Q3 — QF de 751 à 1 000 €', fallback: false })
  t.same(
    q.pupils[0]!.lines.map((l) => [l.category, l.disciplines, l.amount]),
    [['cursus-complet', ['clarinette', 'formation-musicale', 'orchestre'], 25500]],
    'the orchestra is covered by the cursus',
  )
  t.same(q.familyFees, [{ code: 'adhesion', label: 'Adhésion annuelle', amount: 1500 }])
  t.equal(q.total, 27000)
  t.same(
    q.schedule.map((i) => i.due),
    [
      '2027-11-05',
      '2027-12-05',
      '2028-01-05',
      '2028-02-05',
      '2028-03-05',
      '2028-04-05',
      '2028-05-05',
      '2028-06-05',
      '2028-07-05',
    ],
  )
  t.same(
    q.schedule.map((i) => i.amount),
    [3000, 3000, 3000, 3000, 3000, 3000, 3000, 3000, 3000],
  )
})

t.test('the remainder of the division falls on the first instalment', async (t) => {
  const q = quote(limonest, {
    family: family({ quotientBracket: 'Q2', paymentMode: 'prelevement' }),
    pupils: [{ disciplines: ['clarinette', 'formation-musicale'] }],
  })
  t.equal(q.total, 20200 + 1500)
  t.same(
    q.schedule.map((i) => i.amount),
    [2412, 2411, 2411, 2411, 2411, 2411, 2411, 2411, 2411],
  )
})

t.test('without a proven QF the fallback bracket applies; non-residents pay their own column', async (t) => {
  t.same(columnFor(limonest, { resident: true, quotientBracket: null }), {
    kind: 'bracket',
    code: 'Q7',
    label: 'Q7 — QF supérieur à 2 200 € ou non justifié',
    fallback: true,
  })
  t.same(columnFor(limonest, { resident: true, quotientBracket: 'Q9' }).kind, 'bracket', 'an unknown code')
  t.same(columnFor(limonest, { resident: false, quotientBracket: 'Q1' }), { kind: 'nonResident' })
  const q = quote(limonest, {
    family: family({ resident: false, quotientBracket: 'Q1' }),
    pupils: [{ disciplines: ['theatre'] }],
  })
  t.equal(q.pupils[0]!.tuition, 47000)
})

t.test('a pupil in music and dance gets two lines; a lone choice with no category is reported', async (t) => {
  const q = quote(limonest, {
    family: family({ quotientBracket: 'Q1' }),
    pupils: [{ disciplines: ['clarinette', 'danse-enfant'] }],
  })
  t.same(
    q.pupils[0]!.lines.map((l) => l.category),
    ['instrument-seul', 'danse'],
  )
  const noTheatre = structuredClone(limonest)
  noTheatre.tariffs!.categories.pop()
  const q2 = quote(noTheatre, { pupils: [{ disciplines: ['theatre', 'danse-adulte'] }] })
  t.same(q2.pupils[0]!.unpriced, ['theatre'])
  t.same(
    q2.pupils[0]!.lines.map((l) => l.category),
    ['danse'],
  )
})

t.test('family reductions fall on the cheaper pupils: second −10 %, third and more −20 %', async (t) => {
  const q = quote(limonest, {
    family: family({ quotientBracket: 'Q7', paymentMode: 'payfip' }),
    pupils: [
      { name: 'Éveil', disciplines: ['eveil-artistique'] },
      { name: 'Cursus', disciplines: ['clarinette', 'formation-musicale'] },
      { name: 'Danse', disciplines: ['danse-enfant'] },
    ],
  })
  t.same(
    q.pupils.map((p) => [p.name, p.tuition, p.reduction]),
    [
      ['Éveil', 21000, { rank: 3, percent: 20, amount: 4200 }],
      ['Cursus', 46500, undefined],
      ['Danse', 33000, { rank: 2, percent: 10, amount: 3300 }],
    ],
  )
  t.equal(q.reductions, 7500)
  t.equal(q.total, 21000 + 46500 + 33000 - 7500 + 1500)
  t.same(q.schedule, [{ due: '2027-11-05', amount: q.total }], 'one payment')
})

t.test(
  'proration at month boundaries: Limonest on the instalments, GrandAngoulême on the months',
  async (t) => {
    const cursus = [{ disciplines: ['clarinette', 'formation-musicale'] }]
    const charged = (config: TenantConfig, start: string) =>
      quote(config, { start, pupils: cursus }).proration
    t.same(charged(limonest, '2027-09-01'), { charged: 9, of: 9 })
    t.same(charged(limonest, '2027-11-05'), { charged: 9, of: 9 }, 'on the day of the debit: still due')
    t.same(charged(limonest, '2027-11-06'), { charged: 8, of: 9 })
    t.same(charged(limonest, '2027-12-01'), { charged: 8, of: 9 }, 'the 1st: the month’s debit is to come')
    t.same(charged(limonest, '2027-12-31'), { charged: 7, of: 9 }, 'the 31st: it has passed')
    t.same(charged(limonest, '2028-07-06'), { charged: 0, of: 9 })
    t.same(charged(angouleme, '2028-01-01'), { charged: 6, of: 10 })
    t.same(charged(angouleme, '2028-01-15'), { charged: 6, of: 10 })
    t.same(charged(angouleme, '2028-01-31'), { charged: 5, of: 10 })

    const q = quote(limonest, {
      start: '2028-02-20',
      family: family({ quotientBracket: 'Q7', paymentMode: 'prelevement' }),
      pupils: cursus,
    })
    t.equal(q.pupils[0]!.lines[0]!.amount, Math.round((46500 * 5) / 9))
    t.same(
      q.schedule.map((i) => i.due),
      ['2028-03-05', '2028-04-05', '2028-05-05', '2028-06-05', '2028-07-05'],
      'only the instalments still to come',
    )
    const late = quote(limonest, {
      start: '2028-08-01',
      family: family({ paymentMode: 'prelevement' }),
      pupils: cursus,
    })
    t.same(late.schedule, [{ due: '2028-08-01', amount: 1500 }], 'after the last debit: one payment, the fee')
  },
)

t.test('rentals are prorated like tuition, never reduced, deposits apart', async (t) => {
  const q = quoteRentals(angouleme, angouleme.tariffs!, {
    schoolYear: '2027-2028',
    paymentMode: 'prelevement-8-fois',
    items: ['violon', 'violoncelle', 'harpe'],
  })
  t.same(q.unknown, ['harpe'], 'an item gone from the tariffs is reported, not priced')
  t.same(
    q.lines.map((l) => l.code),
    ['violon', 'violoncelle'],
  )
  t.equal(q.total, 19500)
  t.equal(q.deposits, 65000)
  t.equal(q.schedule.length, 8)
  t.equal(
    q.schedule.reduce((s, i) => s + i.amount, 0),
    19500,
  )
})

t.test('the cross-checks of the tariffs', async (t) => {
  const broken = structuredClone(limonest)
  const tariffs = broken.tariffs!
  delete tariffs.categories[0]!.amounts.Q4
  tariffs.categories[0]!.amounts.Q9 = 10
  tariffs.categories[1]!.amounts.Q1 = 10.005
  tariffs.categories[2]!.includesAny = ['tuba']
  tariffs.categories[3]!.code = tariffs.categories[4]!.code
  tariffs.schedule.months = [11, 12]
  delete tariffs.categories[5]!.includesAny
  const problems = crossCheck(broken).map(
    (p) => `${p.path.join('.')} ${p.code} ${JSON.stringify(p.params ?? {})}`,
  )
  t.same(problems, [
    'tariffs.categories.4.code usedTwice {"value":"pratique-collective","list":"tariffs.categories"}',
    'tariffs.categories.0.amounts tariffMissingAmount {"column":"Q4"}',
    'tariffs.categories.0.amounts.Q9 tariffUnknownColumn {"column":"Q9","columns":"Q1, Q2, Q3, Q4, Q5, Q6, Q7, nonResident"}',
    'tariffs.categories.1.amounts.Q1 tariffCents {"value":10.005}',
    'tariffs.categories.2.includesAny.0 notADiscipline {"value":"tuba"}',
    'tariffs.categories.5 tariffNoDisciplines {}',
    'paymentModes.0.instalments tariffTooManyInstalments {"months":2}',
  ])
})

/** A tenant of random brackets, categories over disjoint disciplines, fees, reductions and calendar. */
const anyTenant = fc
  .record({
    brackets: fc.integer({ min: 0, max: 7 }),
    categories: fc.array(
      fc.record({
        amounts: fc.array(fc.integer({ min: 0, max: 200_000 }), { minLength: 8, maxLength: 8 }),
        size: fc.integer({ min: 1, max: 3 }),
      }),
      { minLength: 1, maxLength: 5 },
    ),
    fees: fc.array(fc.record({ cents: fc.integer({ min: 0, max: 5000 }), perPupil: fc.boolean() }), {
      maxLength: 3,
    }),
    second: fc.integer({ min: 0, max: 50 }),
    third: fc.integer({ min: 0, max: 100 }),
    scheduleMonths: fc.integer({ min: 1, max: 10 }),
    day: fc.integer({ min: 1, max: 28 }),
    instalments: fc.integer({ min: 1, max: 12 }),
  })
  .map((spec) => {
    const months = [9, 10, 11, 12, 1, 2, 3, 4, 5, 6]
    const bracketCodes = Array.from({ length: spec.brackets }, (_, i) => `T${i + 1}`)
    const columns = [...(spec.brackets ? bracketCodes : ['resident']), 'nonResident']
    let next = 0
    const categories = spec.categories.map((c, i) => {
      const disciplines = Array.from({ length: c.size }, () => `d${next++}`)
      return {
        code: `c${i}`,
        label: `C${i}`,
        includesAny: disciplines,
        amounts: Object.fromEntries(columns.map((column, j) => [column, c.amounts[j]! / 100])),
      }
    })
    const tariffs: Tariffs = {
      categories,
      fees: spec.fees.map((f, i) => ({
        code: `f${i}`,
        label: `F${i}`,
        amount: f.cents / 100,
        per: f.perPupil ? 'pupil' : 'family',
      })),
      familyReduction: { secondPupil: spec.second, thirdPupilAndMore: Math.max(spec.second, spec.third) },
      schedule: { months: months.slice(0, spec.scheduleMonths), day: spec.day },
      proration: { months, day: spec.day },
    }
    const config = {
      quotientFamilial: spec.brackets
        ? {
            fallback: bracketCodes.at(-1)!,
            residentsOnly: true,
            brackets: bracketCodes.map((code) => ({ code, label: code })),
          }
        : undefined,
      paymentModes: [{ id: 'split', label: 'Split', kind: 'directDebit', instalments: spec.instalments }],
      tariffs,
    } as unknown as TenantConfig
    return { config, tariffs, disciplines: next, bracketCodes }
  })

const anyRequest = (disciplines: number, bracketCodes: string[]) =>
  fc.record({
    schoolYear: fc.constant('2027-2028'),
    family: fc.record({
      resident: fc.boolean(),
      quotientBracket: fc.option(fc.constantFrom('T1', 'T3', 'T7', 'X', ...bracketCodes), { nil: null }),
      paymentMode: fc.option(fc.constantFrom('split', 'unknown'), { nil: null }),
    }),
    pupils: fc.array(
      fc.record({
        disciplines: fc.uniqueArray(
          fc.nat(disciplines - 1).map((n) => `d${n}`),
          { maxLength: 4 },
        ),
      }),
      { maxLength: 5 },
    ),
    start: fc.option(
      fc
        .date({ min: new Date('2027-08-15'), max: new Date('2028-08-15'), noInvalidDate: true })
        .map((d) => d.toISOString().slice(0, 10)),
      { nil: undefined },
    ),
  })

const anyCase = anyTenant.chain((tenant) =>
  anyRequest(tenant.disciplines, tenant.bracketCodes).map((request) => ({ ...tenant, request })),
)

t.test('properties: totals, instalments, columns', async () => {
  fc.assert(
    fc.property(anyCase, ({ config, tariffs, request }) => {
      const q = quoteTuition(config, tariffs, request)
      const sum = (list: { amount: number }[]) => list.reduce((s, x) => s + x.amount, 0)
      for (const pupil of q.pupils) {
        if (pupil.tuition !== sum(pupil.lines)) return false
        if (pupil.total !== pupil.tuition - (pupil.reduction?.amount ?? 0) + sum(pupil.fees)) return false
        if (pupil.unpriced.length) return false
      }
      if (q.total !== q.pupils.reduce((s, p) => s + p.total, 0) + sum(q.familyFees)) return false
      if (sum(q.schedule) !== q.total) return false
      if (q.schedule.some((i) => !Number.isInteger(i.amount) || i.amount < 0)) return false
      const [first, ...rest] = q.schedule
      if (rest.some((i) => i.amount !== rest[0]!.amount || i.amount > first!.amount)) return false
      if (q.schedule.some((i, k) => k > 0 && i.due <= q.schedule[k - 1]!.due)) return false
      if (request.start && q.schedule.some((i) => i.due < request.start!)) return false
      if (!request.family.resident) return q.column.kind === 'nonResident'
      if (q.column.kind === 'bracket') {
        const proven = config.quotientFamilial!.brackets.some(
          (b) => b.code === request.family.quotientBracket,
        )
        return (
          q.column.fallback === !proven && (proven || q.column.code === config.quotientFamilial!.fallback)
        )
      }
      return q.column.kind === 'resident' && !config.quotientFamilial
    }),
    { seed, numRuns: 400 },
  )
})

t.test('properties: a later start never costs more; more disciplines never cost less', async () => {
  fc.assert(
    fc.property(
      anyCase,
      fc.date({ min: new Date('2027-08-15'), max: new Date('2028-08-15'), noInvalidDate: true }),
      fc.nat(),
      ({ config, tariffs, request, disciplines }, later, extra) => {
        const start = request.start ?? '2027-09-01'
        const laterStart = later.toISOString().slice(0, 10)
        const [early, late] = start <= laterStart ? [start, laterStart] : [laterStart, start]
        const a = quoteTuition(config, tariffs, { ...request, start: early })
        const b = quoteTuition(config, tariffs, { ...request, start: late })
        if (b.pupils.some((p, i) => p.tuition > a.pupils[i]!.tuition)) return false
        const one = { ...request, pupils: [request.pupils[0] ?? { disciplines: [] }] }
        const more = {
          ...one,
          pupils: [{ disciplines: [...new Set([...one.pupils[0]!.disciplines, `d${extra % disciplines}`])] }],
        }
        return (
          quoteTuition(config, tariffs, more).pupils[0]!.tuition >=
          quoteTuition(config, tariffs, one).pupils[0]!.tuition
        )
      },
    ),
    { seed, numRuns: 400 },
  )
})

t.test('a broken tariffs block is refused with each problem’s path and line', async (t) => {
  const text = `slug: exemple
name: Conservatoire d'exemple
contact:
  email: contact@exemple.fr
establishments:
  - { code: centre, name: Site du centre }
disciplines:
  - { code: piano, name: Piano, domain: music }
paymentModes:
  - { id: mensuel, label: Mensuel, kind: directDebit, instalments: 10 }
tariffs:
  categories:
    - code: piano
      label: Piano
      includesAny: [piano, tuba]
      amounts: { resident: 310.555, Q1: 100 }
  schedule: { months: [10, 11], day: 5 }
`
  t.same(
    parseTenantConfig('exemple.yaml', text).problems.map((p) => `${p.path} (line ${p.line}): ${p.message}`),
    [
      'tariffs.categories.0.includesAny.1 (line 15): "tuba" is not a known discipline code',
      'tariffs.categories.0.amounts (line 16): the amount of the column "nonResident" is missing',
      'tariffs.categories.0.amounts.resident (line 16): €310.555 has more than two decimals: amounts are in euros and cents',
      'tariffs.categories.0.amounts.Q1 (line 16): "Q1" is not a column of the tariffs (resident, nonResident)',
      'paymentModes.0.instalments (line 10): more instalments than months in tariffs.schedule (2)',
    ],
  )
})
