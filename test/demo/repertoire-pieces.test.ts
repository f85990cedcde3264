import t from 'tap'
import { seedDemoAccounts } from '../../src/demo/accounts.ts'
import { demoPassword } from '../../src/demo/accounts.ts'
import { seedDemoRepertoirePieces } from '../../src/demo/repertoire-pieces.ts'
import { seedDemo } from '../../src/demo/seed.ts'
import { Guardian } from '../../src/features/family/entities.ts'
import { Pupil } from '../../src/features/pupils/entities.ts'
import { RepertoirePiece } from '../../src/features/repertoire/entities.ts'
import { Enrolment } from '../../src/features/teaching/entities.ts'
import { schemaFor } from '../../src/platform/tenancy/registry.ts'
import { Browser } from '../helpers/accounts.ts'
import { build, html } from '../helpers/build.ts'
import { demoTenant } from '../helpers/reenrolment.ts'

const today = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/Paris',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
}).format(new Date())

t.test('each demo conservatoire’s pupils work pieces their teachers added', async (t) => {
  const slugs = ['limonest', 'grand-angouleme', 'plessis-pate', 'limoges', 'porte-oceane']
  const { app, host, tenants } = await build(t, { tenants: slugs.map((slug) => demoTenant(slug)) })
  await seedDemo(app.orm, tenants)
  await seedDemoAccounts(app.orm, tenants)
  await seedDemoRepertoirePieces(app.orm, tenants)
  for (const [i, config] of tenants.entries()) {
    const em = app.orm.em.fork({ schema: schemaFor(config.slug) })
    const pieces = await em.find(
      RepertoirePiece,
      {},
      { populate: ['course', 'course.teacher', 'course.schoolYear'] },
    )
    t.ok(pieces.length >= 5, `${slugs[i]}: ${pieces.length} pieces`)
    t.ok(
      pieces.every((p) => p.course?.schoolYear.current && p.addedBy?.id === p.course.teacher?.id),
      `${slugs[i]}: this year’s courses, added by their teacher`,
    )
    t.ok(
      pieces.every((p) => p.startedOn <= today && (p.state === 'in_progress') === (p.performedOn === null)),
      `${slugs[i]}: started before today, a date when performed`,
    )
    t.ok(
      pieces.every((p) => !p.performedOn || (p.startedOn <= p.performedOn && p.performedOn <= today)),
      `${slugs[i]}: performed after they were started, before today`,
    )
    for (const piece of pieces) {
      const enrolled = await em.count(Enrolment, { pupil: piece.pupil, course: piece.course!, active: true })
      if (!enrolled) t.fail(`${slugs[i]}: ${piece.title} of a pupil not in its course`)
    }
    const guardian = await em.findOneOrFail(Guardian, { rank: 1 }, { orderBy: { family: { id: 'asc' } } })
    const pupils = await em.find(Pupil, { family: guardian.family })
    const theirs = pieces.filter((p) => pupils.some((pupil) => pupil.id === p.pupil.id))
    t.ok(theirs.length > 0, `${slugs[i]}: demo-famille’s pupils have pieces`)

    if (i === 0) {
      const browser = new Browser(app, host(i))
      await browser.submit('/connexion', '/connexion', {
        identifiant: 'demo-famille',
        password: demoPassword,
      })
      const page = html((await browser.get(`/eleves/${theirs[0]!.pupil.id}/repertoire`)).body)
      t.equal(page.querySelector('#pieces-title')?.text, 'Pièces travaillées')
      t.ok(page.querySelectorAll('.piece').length > 0, 'demo-famille sees them')
    }
  }
  const before = await app.orm.em.fork({ schema: schemaFor(tenants[0]!.slug) }).count(RepertoirePiece)
  await seedDemoRepertoirePieces(app.orm, tenants)
  t.equal(
    await app.orm.em.fork({ schema: schemaFor(tenants[0]!.slug) }).count(RepertoirePiece),
    before,
    'seeding again adds nothing',
  )
})
