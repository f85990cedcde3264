import t from 'tap'
import { tenantToday } from '../../../src/features/family/service.ts'
import { Guardian } from '../../../src/features/family/entities.ts'
import {
  addDays,
  closureOn,
  lessonKey,
  scheduledDates,
  weekday,
} from '../../../src/features/lessons/calendar.ts'
import { Lesson } from '../../../src/features/lessons/entities.ts'
import { Pupil } from '../../../src/features/pupils/entities.ts'
import { Course, Enrolment, Evaluation, SchoolYear } from '../../../src/features/teaching/entities.ts'
import type { Em } from '../../../src/platform/db/orm.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import type { TenantConfig } from '../../../src/platform/tenancy/tenant-config.ts'
import { needsBrowser } from '../../helpers/chromium.ts'
import { check, demoSite, type Finding, signIn } from '../../helpers/walk.ts'

/**
 * The walk of the issue, on the demo's Limonest: demo-famille's first pupil follows a course of
 * demo-prof's, whose lesson of today is called. Whatever the day the test runs (a Sunday, the
 * holidays), the course is given a lesson today: a weekly slot on today's weekday, or the next
 * lesson moved onto today, as staff would move one.
 */
async function arrange(em: Em, config: TenantConfig) {
  const guardian = await em.findOneOrFail(Guardian, { account: { identifiant: 'demo-famille' } })
  const pupil = await em.findOneOrFail(Pupil, { family: guardian.family }, { orderBy: { id: 'asc' } })
  const year = await em.findOneOrFail(SchoolYear, { current: true })
  const course = await em.findOneOrFail(
    Course,
    { schoolYear: year, teacher: { account: { identifiant: 'demo-prof' } } },
    { orderBy: { id: 'asc' } },
  )
  const enrolment =
    (await em.findOne(Enrolment, { pupil, course })) ?? em.create(Enrolment, { pupil, course, active: true })
  enrolment.active = true
  // two classmates at least, for two absences and a late arrival
  const others = await em.find(
    Enrolment,
    { course: { schoolYear: year }, active: true, pupil: { family: { $ne: guardian.family } } },
    { limit: 2, orderBy: { id: 'asc' } },
  )
  for (const other of others)
    if (!(await em.findOne(Enrolment, { pupil: other.pupil, course })))
      em.create(Enrolment, { pupil: other.pupil, course, active: true })

  const today = tenantToday(config)
  let slot = course.slots.findIndex((s) => s.day === weekday(today))
  if (slot < 0) {
    course.slots = [...course.slots, { day: weekday(today), start: '17:00', end: '18:00' }]
    slot = course.slots.length - 1
  }
  let on = today
  if (closureOn(config, today) !== undefined) {
    on = scheduledDates(
      [course.slots[slot]!],
      { from: addDays(today, 1), to: String(year.endsOn) },
      config,
    )[0]!.on
    em.create(Lesson, { course, on, slot, movedOn: today })
  }
  await em.flush()
  // the teacher writes this period's evaluation: whatever the demo wrote for the pupil is gone
  await em.nativeDelete(Evaluation, { enrolment })
  const next = scheduledDates(course.slots, { from: addDays(today, 7), to: String(year.endsOn) }, config)[0]!
  return {
    pupil,
    course,
    enrolment,
    guardian,
    today: lessonKey(course.id, on, slot),
    nextWeek: lessonKey(course.id, next.on, next.slot),
  }
}

t.test(
  'a teacher calls the roll and publishes an evaluation on a phone; the family reads both and announces an absence, which the teacher sees excused',
  needsBrowser,
  async (t) => {
    const site = await demoSite(t, ['limonest'])
    const origin = site.origin()
    const config = site.tenants[0]!
    const em = site.app.orm.em.fork({ schema: schemaFor(config.slug) })
    const world = await arrange(em, config)
    const pupilName = `${world.pupil.firstName} ${world.pupil.lastName}`
    const findings: Finding[] = []

    const teacher = await site.newPage()
    await teacher.setViewportSize({ width: 390, height: 844 })
    await signIn(teacher, origin, '/enseignant/connexion', 'demo-prof')
    await teacher.goto(`${origin}/enseignant`)
    t.match(await teacher.textContent('h1'), /^Mes cours/)
    await Promise.all([
      teacher.waitForURL(`${origin}/enseignant/seances/${world.today}`),
      teacher.click(`a[href="/enseignant/seances/${world.today}"]`),
    ])
    const rows = teacher.locator('li.roll-call__pupil')
    t.ok((await rows.count()) >= 3, 'today’s lesson lists the course’s pupils')
    t.equal(
      await rows.locator('input[value=present]:checked').count(),
      await rows.count(),
      'everyone present by default',
    )
    const names = (await rows.locator('legend').allTextContents()).map((n) => n.trim())
    const others = names.filter((n) => n !== pupilName)
    const mark = (name: string, status: string) =>
      rows
        .filter({ has: teacher.locator('legend', { hasText: name }) })
        .locator(`label.segmented__${status}`)
        .click()
    await mark(pupilName, 'absent')
    await mark(others[0]!, 'absent')
    await mark(others[1]!, 'late')
    findings.push(...(await check(teacher, 'appel')))
    await Promise.all([teacher.waitForLoadState('load'), teacher.click('button.roll-call__save')])
    t.match(await teacher.textContent('[role=status]'), /enregistr/i, 'the roll call is saved')
    const saved = (name: string) =>
      rows
        .filter({ has: teacher.locator('legend', { hasText: name }) })
        .locator('input:checked')
        .getAttribute('value')
    t.equal(await saved(pupilName), 'absent')
    t.equal(await saved(others[0]!), 'absent')
    t.equal(await saved(others[1]!), 'late')

    await teacher.goto(`${origin}/enseignant/cours/${world.course.id}`)
    await Promise.all([
      teacher.waitForURL(/\/evaluations/),
      teacher.click(`a[href="/enseignant/cours/${world.course.id}/evaluations"]`),
    ])
    const form = teacher.locator(`#eleve-${world.enrolment.id}`)
    const appreciation = 'Belle écoute en ensemble, un son qui s’affirme : continuez ainsi.'
    await form.locator('textarea[name=appreciation]').fill(appreciation)
    await Promise.all([
      teacher.waitForLoadState('load'),
      form.locator('button[name=action][value=publish]').click(),
    ])
    t.match(
      await teacher.locator(`#eleve-${world.enrolment.id} [role=status]`).textContent(),
      /publi/i,
      'the evaluation is published',
    )
    findings.push(...(await check(teacher, 'évaluations')))

    // the demo's outbox, on the platform host
    const outbox = await site.newPage()
    await outbox.goto(`${origin.replace(`${config.slug}.`, '')}/_outbox`)
    const absenceMail = outbox
      .locator('tr', { hasText: world.guardian.email! })
      .filter({ hasText: /absence/i })
    t.ok((await absenceMail.count()) >= 1, `the absence mail to ${world.guardian.email} is in the outbox`)
    t.ok(
      (await outbox
        .locator('tr', { hasText: world.guardian.email! })
        .filter({ hasText: /évaluation/i })
        .count()) >= 1,
      'and the mail saying a new evaluation is there',
    )

    const family = await site.newPage()
    await family.setViewportSize({ width: 390, height: 844 })
    await signIn(family, origin, '/connexion', 'demo-famille')
    await family.goto(`${origin}/eleves/${world.pupil.id}/cours/${world.enrolment.id}`)
    const page = (await family.textContent('main')) ?? ''
    t.match(page, /Absence/, 'the absence is on the course’s page')
    t.match(page, appreciation, 'and the published evaluation')
    await family.check(`#lesson-${world.nextWeek}`)
    await family.fill('#reason', 'Sortie scolaire avec la classe')
    await Promise.all([family.waitForLoadState('load'), family.click('button:has-text("Signaler")')])
    t.match(await family.textContent('[role=status]'), /signal/i, 'the absence is announced')
    t.match(await family.textContent('.notice-list'), /Sortie scolaire avec la classe/)
    findings.push(...(await check(family, 'cours de l’élève')))

    await teacher.goto(`${origin}/enseignant/seances/${world.nextWeek}`)
    const announced = rows.filter({ has: teacher.locator('legend', { hasText: pupilName }) })
    t.equal(
      await announced.locator('input:checked').getAttribute('value'),
      'excused',
      'the teacher sees it excused',
    )
    t.match(await announced.textContent(), /Sortie scolaire avec la classe/, 'with the family’s reason')
    t.same(findings, [], 'axe-core finds nothing at 390 and 1280 px')
  },
)
