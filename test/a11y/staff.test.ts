import t from 'tap'
import { needsBrowser } from '../helpers/chromium.ts'
import { Attendance, Lesson } from '../../src/features/lessons/entities.ts'
import { Enrolment } from '../../src/features/teaching/entities.ts'
import { schemaFor } from '../../src/platform/tenancy/registry.ts'
import { check, demoSite, signIn, walk } from '../helpers/walk.ts'

t.test(
  'demo-admin: every page reached through the menus, a family’s change request among them, passes axe-core at 390 and 1280 px',
  needsBrowser,
  async (t) => {
    const site = await demoSite(t, ['limonest'])
    // a family changes its phone number: the sas then has a request to review
    const family = await site.newPage()
    await signIn(family, site.origin(), '/connexion', 'demo-famille')
    await family.goto(`${site.origin()}/famille`)
    const form = family.locator('form[action^="/famille/responsables/"]').first()
    await form.locator('[name=phoneMobile]').fill('06 11 22 33 44')
    await Promise.all([family.waitForURL(/enregistre=/), form.locator('button[type=submit]').click()])

    const page = await site.newPage()
    await signIn(page, site.origin(), '/admin/connexion', 'demo-admin')
    // the staff side has more kinds of page than the walk's default budget
    const { walked, findings } = await walk(page, site.origin(), '/admin', 100)
    t.ok(walked.includes('/admin/changements/:id'), 'the change request’s review page is walked')
    for (const kind of [
      '/admin/journal',
      '/admin/courriels',
      '/admin/courriels/:id',
      '/admin/configuration',
      '/admin/configuration/versions',
      '/admin/configuration/yaml',
      '/admin/configuration/pieces/mandat-sepa',
      '/admin/cours/:id/seances',
      '/admin/cours/:id/seances/:lesson',
      '/admin/cours/:id/remplacements',
      '/admin/evaluations',
      '/admin/evaluations/:id',
    ])
      t.ok(walked.includes(kind), `${kind}, from the Administration, is walked`)
    t.ok(walked.length >= 5, `${walked.length} kinds of page walked: ${walked.join(' ')}`)
    t.same(findings, [], 'nothing found')
  },
)

t.test(
  'demo-secretariat: the list of absences, with pupils on it, passes axe-core at 390 and 1280 px',
  needsBrowser,
  async (t) => {
    const site = await demoSite(t, ['limonest'])
    // the demo has no roll call yet: a few absences and late arrivals in this year's courses
    const em = site.app.orm.em.fork({ schema: schemaFor(site.tenants[0]!.slug) })
    const enrolments = await em.find(
      Enrolment,
      { active: true, course: { schoolYear: { current: true } } },
      { populate: ['course', 'course.schoolYear'], orderBy: { id: 'asc' }, limit: 6 },
    )
    for (const [i, enrolment] of enrolments.entries()) {
      const lesson = em.create(Lesson, {
        course: enrolment.course,
        on: enrolment.course.schoolYear.startsOn,
        slot: i,
      })
      em.create(Attendance, { lesson, enrolment, status: 'absent' })
      const second = em.create(Lesson, {
        course: enrolment.course,
        on: enrolment.course.schoolYear.startsOn,
        slot: i + 10,
      })
      em.create(Attendance, { lesson: second, enrolment, status: i % 2 ? 'late' : 'excused' })
    }
    await em.flush()
    const page = await site.newPage()
    await signIn(page, site.origin(), '/admin/connexion', 'demo-secretariat')
    t.equal((await page.goto(`${site.origin()}/admin/absences`))?.status(), 200)
    t.ok((await page.locator('tbody tr').count()) > 0, 'pupils are listed')
    const findings = await check(page, '/admin/absences')
    t.equal((await page.goto(`${site.origin()}/admin/absences?du=hier`))?.status(), 400)
    findings.push(...(await check(page, '/admin/absences (refused)')))
    t.same(findings, [], 'nothing found')
  },
)
