import t from 'tap'
import { currentPeriod, periodSpan } from '../../../src/platform/tenancy/evaluation-periods.ts'
import { parseTenantConfig } from '../../../src/platform/tenancy/tenant-config.ts'

const base = `slug: exemple
name: Conservatoire d'exemple
contact:
  email: contact@exemple.fr
establishments:
  - code: centre
    name: Site du centre
`

const problemsOf = (text: string) =>
  parseTenantConfig('exemple.yaml', base + text).problems.map((p) => `${p.path}: ${p.message}`)

t.test('without evaluations: three terms and the appreciation alone', async (t) => {
  const { config, problems } = parseTenantConfig('exemple.yaml', base)
  t.same(problems, [])
  t.same(
    config?.evaluations.periods.map((p) => `${p.code} ${p.label} ${p.from} ${p.to}`),
    ['T1 1er trimestre 09-01 12-31', 'T2 2e trimestre 01-01 03-31', 'T3 3e trimestre 04-01 08-31'],
  )
  t.same(config?.evaluations.scale, {})
})

t.test('semesters with levels and criteria', async (t) => {
  const { config, problems } = parseTenantConfig(
    'exemple.yaml',
    `${base}evaluations:
  periods:
    - { code: S1, label: 1er semestre, from: "09-01", to: "01-31" }
    - { code: S2, label: 2e semestre, from: "02-01", to: "08-31" }
  scale:
    levels: [Très bien, Bien]
    criteria: [Justesse]
`,
  )
  t.same(problems, [])
  const [s1, s2] = config!.evaluations.periods
  t.same(periodSpan(s1!, '2026-09-01'), { from: '2026-09-01', to: '2027-01-31' }, 'across new year')
  t.same(periodSpan(s2!, '2026-09-01'), { from: '2027-02-01', to: '2027-08-31' })
  t.equal(currentPeriod(config!, '2026-09-01', '2027-01-15').code, 'S1')
  t.equal(currentPeriod(config!, '2026-09-01', '2027-02-01').code, 'S2')
  t.equal(currentPeriod(config!, '2026-09-01', '2026-08-31').code, 'S1', 'before the first: the first')
})

t.test('the cross-checks name the period at fault', async (t) => {
  const problems = problemsOf(`evaluations:
  periods:
    - { code: T1, label: 1er trimestre, from: "09-01", to: "12-31" }
    - { code: T1, label: 2e trimestre, from: "12-15", to: "03-31" }
    - { code: T3, label: 3e trimestre, from: "06-30", to: "04-01" }
    - { code: T4, label: Été, from: "02-30", to: "08-31" }
`)
  t.same(problems, [
    'evaluations.periods.1.code: "T1" is used twice in evaluations.periods',
    'evaluations.periods.1.from: this period starts before the previous one ends',
    'evaluations.periods.2.to: the last day must come after the first',
    'evaluations.periods.3.from: must be a day of the year MM-DD, such as 09-01',
  ])
  t.same(
    problemsOf(`evaluations:
  periods:
    - { code: T1, label: 1er trimestre, from: "2027-01-01", to: "08-31" }
`),
    ['evaluations.periods.0.from: must match pattern "^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"'],
    'a full date is not a month-day',
  )
})
