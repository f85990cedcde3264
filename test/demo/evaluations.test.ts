import t from 'tap'
import { demoPassword, seedDemoAccounts } from '../../src/demo/accounts.ts'
import { seedDemoEvaluations } from '../../src/demo/evaluations.ts'
import { seedDemo } from '../../src/demo/seed.ts'
import { Evaluation } from '../../src/features/teaching/entities.ts'
import { schemaFor } from '../../src/platform/tenancy/registry.ts'
import { Browser } from '../helpers/accounts.ts'
import { build, html } from '../helpers/build.ts'
import { demoTenant } from '../helpers/reenrolment.ts'

const now = new Date('2026-11-27T10:00:00Z')

t.test(
  'the demo evaluations follow each tenant’s periods and scale, with drafts and a correction',
  async (t) => {
    const { app, tenants, host } = await build(t, {
      tenants: [demoTenant('limonest'), demoTenant('grand-angouleme')],
    })
    await seedDemo(app.orm, tenants, now)
    await seedDemoAccounts(app.orm, tenants)
    await seedDemoEvaluations(app.orm, tenants, now)
    const [limonest, angouleme] = tenants.map((c) => app.orm.em.fork({ schema: schemaFor(c.slug) }))

    const past = { enrolment: { course: { schoolYear: { current: false } } } }
    t.same(
      [...new Set((await limonest!.find(Evaluation, past)).map((e) => e.period))].sort(),
      ['T1', 'T2', 'T3'],
      'Limonest: trimestres',
    )
    const semesters = await angouleme!.find(Evaluation, past)
    t.same([...new Set(semesters.map((e) => e.period))].sort(), ['S1', 'S2'], 'Grand Angoulême: semestres')
    t.ok(
      semesters.every((e) => e.level && e.criteria.length === 0),
      'rated with Grand Angoulême’s levels',
    )
    const rated = await limonest!.find(Evaluation, past)
    t.ok(
      rated.every((e) => e.criteria.length === 4 && !e.level && e.status === 'published'),
      'rated on Limonest’s four criteria, published',
    )

    const current = { enrolment: { course: { schoolYear: { current: true } } }, period: 'T1' }
    t.ok(
      (await limonest!.count(Evaluation, { ...current, status: 'draft' })) > 0,
      'drafts of the current term',
    )
    t.equal(await limonest!.count(Evaluation, { correction: { $ne: null } }), 1, 'one correction request')
    t.ok(
      (await limonest!.count(Evaluation, { ...current, author: { identifiant: 'demo-prof' } })) > 0,
      'demo-prof wrote some',
    )

    const family = new Browser(app, host())
    await family.submit('/connexion', '/connexion', { identifiant: 'demo-famille', password: demoPassword })
    const pupil = (await family.get('/eleves')).headers.location as string
    const courses = html((await family.get(`${pupil}/cours`)).body)
    t.match(
      courses.querySelector('.bulletins a')?.text,
      'Bulletin du 1er trimestre',
      'demo-famille has a bulletin',
    )

    const before = await limonest!.count(Evaluation)
    await seedDemoEvaluations(app.orm, tenants, now)
    t.equal(await limonest!.fork().count(Evaluation), before, 'a second run adds nothing')
  },
)
