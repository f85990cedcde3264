import t from 'tap'
import { RepertoirePiece } from '../../src/features/repertoire/entities.ts'
import { Enrolment, Evaluation } from '../../src/features/teaching/entities.ts'
import { schemaFor } from '../../src/platform/tenancy/registry.ts'
import { needsBrowser } from '../helpers/chromium.ts'
import { check, demoSite, signIn, walk } from '../helpers/walk.ts'

t.test(
  'demo-prof: every page reached through the menus passes axe-core at 390 and 1280 px',
  needsBrowser,
  async (t) => {
    const site = await demoSite(t, ['limonest'])
    const page = await site.newPage()
    await signIn(page, site.origin(), '/enseignant/connexion', 'demo-prof')
    const { walked, findings } = await walk(page, site.origin(), '/enseignant')
    t.ok(walked.length >= 5, `${walked.length} kinds of page walked: ${walked.join(' ')}`)
    for (const kind of ['/enseignant/cours/:id', '/enseignant/seances/:lesson'])
      t.ok(walked.includes(kind), `${kind} walked (a course’s roster and lessons, a roll call)`)
    t.same(findings, [], 'nothing found')
  },
)

t.test(
  'demo-prof: a pupil’s répertoire, its refused form and a piece’s edit page pass axe-core at 390 and 1280 px',
  needsBrowser,
  async (t) => {
    const site = await demoSite(t, ['limonest'])
    const em = site.app.orm.em.fork({ schema: schemaFor(site.tenants[0]!.slug) })
    // a pupil of one of demo-prof's courses who has a piece demo-prof added
    const piece = await em.findOneOrFail(
      RepertoirePiece,
      { addedBy: { account: { identifiant: 'demo-prof' } } },
      { orderBy: { id: 'asc' } },
    )
    const enrolment = await em.findOneOrFail(Enrolment, {
      pupil: piece.pupil,
      course: piece.course!,
      active: true,
    })
    const path = `/enseignant/cours/${enrolment.course.id}/eleves/${piece.pupil.id}/repertoire`
    const page = await site.newPage()
    await signIn(page, site.origin(), '/enseignant/connexion', 'demo-prof')
    const findings = []
    t.equal((await page.goto(`${site.origin()}${path}`))?.status(), 200)
    findings.push(...(await check(page, path)))
    // the add form sent empty: its messages beside the fields
    await page.fill('#title', '')
    await page.fill('#startedOn', '')
    await Promise.all([page.waitForLoadState(), page.click('.piece-form button[type=submit]')])
    t.ok(await page.locator('#title-error').count(), 'the refused form')
    findings.push(...(await check(page, `${path} (refused)`)))
    t.equal((await page.goto(`${site.origin()}${path}/${piece.id}`))?.status(), 200)
    findings.push(...(await check(page, `${path}/:id`)))
    t.same(findings, [], 'nothing found')
  },
)

t.test(
  'demo-prof: the evaluations of a course, with a refused form and a correction request, pass axe-core at 390 and 1280 px',
  needsBrowser,
  async (t) => {
    const site = await demoSite(t, ['limonest'])
    const em = site.app.orm.em.fork({ schema: schemaFor(site.tenants[0]!.slug) })
    // the course of demo-prof's draft with the secretariat's correction request
    const requested = await em.findOneOrFail(
      Evaluation,
      { correction: { $ne: null } },
      { populate: ['enrolment.course'] },
    )
    const course = requested.enrolment.course.id
    const page = await site.newPage()
    await signIn(page, site.origin(), '/enseignant/connexion', 'demo-prof')
    const path = `/enseignant/cours/${course}/evaluations`
    await page.goto(`${site.origin()}${path}`)
    t.equal(await page.locator('.correction-request').count(), 1, 'the correction request shows')
    const findings = await check(page, path)
    // a refused publish: the message beside the field
    const form = page.locator(`#eleve-${requested.enrolment.id} form`)
    await form.locator('textarea').fill('')
    await Promise.all([page.waitForLoadState('load'), form.locator('button[value=publish]').click()])
    t.equal(await page.locator('.field__error').count(), 1, 'the refusal is shown')
    findings.push(...(await check(page, `${path} (refused)`)))
    t.same(findings, [], 'nothing found')
  },
)
