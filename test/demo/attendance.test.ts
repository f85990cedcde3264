import t from 'tap'
import { seedDemoAccounts } from '../../src/demo/accounts.ts'
import { seedDemoAttendance } from '../../src/demo/attendance.ts'
import { seedDemo } from '../../src/demo/seed.ts'
import { tenantToday } from '../../src/features/family/service.ts'
import { Attendance, Lesson } from '../../src/features/lessons/entities.ts'
import { Course, SchoolYear } from '../../src/features/teaching/entities.ts'
import { schemaFor } from '../../src/platform/tenancy/registry.ts'
import { build } from '../helpers/build.ts'
import { demoTenant } from '../helpers/reenrolment.ts'

const slugs = ['limonest', 'limoges', 'plessis-pate', 'grand-angouleme', 'porte-oceane']

t.test(
  'demo-prof teaches Monday to Saturday in each demo tenant; the past lessons were called',
  async (t) => {
    const { app, tenants } = await build(t, { tenants: slugs.map((slug) => demoTenant(slug)) })
    await seedDemo(app.orm, tenants)
    await seedDemoAccounts(app.orm, tenants)
    const started = Date.now()
    await seedDemoAttendance(app.orm, tenants)
    t.ok(Date.now() - started < 10_000, `seeded in ${Date.now() - started} ms`)
    for (const config of tenants) {
      const em = app.orm.em.fork({ schema: schemaFor(config.slug) })
      const year = await em.findOneOrFail(SchoolYear, { current: true })
      const courses = await em.find(Course, {
        schoolYear: year,
        teacher: { account: { identifiant: 'demo-prof' } },
      })
      const days = new Set(courses.flatMap((c) => c.slots.map((s) => s.day)))
      t.same(
        [1, 2, 3, 4, 5, 6].filter((d) => !days.has(d)),
        [],
        `${config.slug}: every day but Sunday`,
      )
      const lessons = await em.find(Lesson, {})
      const today = tenantToday(config)
      t.ok(lessons.length > 0, `${config.slug}: ${lessons.length} lessons called`)
      t.ok(
        lessons.every((l) => String(l.on) < today && l.calledAt),
        'only past lessons, each called',
      )
      const statuses = (await em.find(Attendance, {})).map((a) => a.status)
      const count = (s: string) => statuses.filter((x) => x === s).length
      t.ok(count('present') > statuses.length * 0.8, 'mostly present')
      t.ok(count('absent') > 0 && count('late') > 0, 'a few absences and late arrivals')
    }
    const em = app.orm.em.fork({ schema: schemaFor(tenants[0]!.slug) })
    const before = await em.count(Attendance)
    const slots = (await em.find(Course, {})).map((c) => c.slots.length)
    await seedDemoAttendance(app.orm, tenants)
    t.equal(await em.fork().count(Attendance), before, 'seeding again adds nothing')
    t.same(
      (await em.fork().find(Course, {})).map((c) => c.slots.length),
      slots,
      'nor any slot',
    )
  },
)
