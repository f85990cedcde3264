import t from 'tap'
import type { Page } from 'playwright-core'
import { Family, Guardian } from '../../../src/features/family/entities.ts'
import { OfferItem, PlaceRequest } from '../../../src/features/places/entities.ts'
import { offerYear } from '../../../src/features/places/service.ts'
import { Pupil } from '../../../src/features/pupils/entities.ts'
import { Reenrolment } from '../../../src/features/reenrolment/entities.ts'
import { Course, Enrolment, SchoolYear } from '../../../src/features/teaching/entities.ts'
import type { Em } from '../../../src/platform/db/orm.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import type { TenantConfig } from '../../../src/platform/tenancy/tenant-config.ts'
import { createAccount, goodPassword } from '../../helpers/accounts.ts'
import { needsBrowser } from '../../helpers/chromium.ts'
import { check, demoSite, type Finding, signIn } from '../../helpers/walk.ts'

/**
 * The walk of the issue, on the demo's Limonest: demo-famille's first pupil ranks two courses of next
 * year's offer in the re-enrolment; three other families ask for the first after it, from outside
 * the territory (Limonest's rules put residents first, so the order does not hang on the draw).
 */
async function arrange(em: Em, config: TenantConfig) {
  const guardian = await em.findOneOrFail(Guardian, { account: { identifiant: 'demo-famille' } })
  const family = await em.findOneOrFail(Family, { id: guardian.family.id })
  family.resident = true
  const pupil = await em.findOneOrFail(Pupil, { family }, { orderBy: { id: 'asc' } })
  const current = await em.findOneOrFail(SchoolYear, { current: true })
  const next = (await offerYear(em))!
  const followed = new Set(
    (
      await em.find(
        Enrolment,
        { pupil, active: true, course: { schoolYear: current } },
        { populate: ['course'] },
      )
    ).map((e) => e.course.discipline),
  )
  const [cello, theatre] = (config.disciplines ?? []).filter((d) => !followed.has(d.code))
  const nextCourse = await em.findOneOrFail(Course, { schoolYear: next }, { orderBy: { id: 'asc' } })
  const item = (label: string, discipline: string, seats: number) =>
    em.create(OfferItem, {
      schoolYear: next,
      label,
      discipline,
      courseIds: [nextCourse.id],
      seats,
      accepts: 'both',
      publishedAt: new Date(),
    })
  const first = item('Violoncelle — atelier découverte', cello!.code, 2)
  const second = item('Théâtre — atelier du mercredi', theatre!.code, 1)
  await em.nativeDelete(PlaceRequest, { pupil })
  await em.nativeDelete(Reenrolment, { pupil, schoolYear: config.periods!.reenrolment!.schoolYear })
  // three other families, outside the territory, none following the discipline this year
  const others = (
    await em.find(Pupil, { family: { $ne: family } }, { orderBy: { id: 'asc' }, populate: ['family'] })
  ).filter((p, i, all) => all.findIndex((q) => q.family.id === p.family.id) === i)
  const chosen: Pupil[] = []
  for (const other of others) {
    if (chosen.length === 3) break
    const inDiscipline = await em.count(Enrolment, {
      pupil: other,
      active: true,
      course: { schoolYear: current, discipline: cello!.code },
    })
    if (inDiscipline > 0) continue
    // their one request is the only one in play
    await em.nativeDelete(PlaceRequest, { pupil: other })
    other.family.resident = false
    chosen.push(other)
  }
  await em.flush()
  return { pupil, first, second, others: chosen }
}

/** Each step of the wizard as a family fills it: yes to the authorisations, the two choices, "J'accepte". */
async function reenrol(page: Page, origin: string, pupilId: number, choices: string[]) {
  await page.goto(`${origin}/eleves/${pupilId}/reinscription`)
  await Promise.all([page.waitForLoadState('load'), page.click('form[action$="/commencer"] button')])
  for (let step = 0; step < 8 && !page.url().includes('envoye=1'); step++) {
    for (const name of ['imageRights', 'exitAuthorization'])
      if (
        (await page.locator(`input[name=${name}]`).count()) &&
        !(await page.locator(`input[name=${name}]:checked`).count())
      )
        await page.check(`input[name=${name}][value=true]`)
    for (const [i, label] of choices.entries())
      if (await page.locator(`#choice-${i + 1}`).count()) {
        const value = await page.$eval(
          `#choice-${i + 1}`,
          (select, wanted) =>
            [...(select as unknown as { options: { text: string; value: string }[] }).options].find((o) =>
              o.text.includes(wanted as string),
            )?.value,
          label,
        )
        await page.selectOption(`#choice-${i + 1}`, value!)
      }
    if (await page.locator('#accepted').count()) await page.check('#accepted')
    const button = (await page.locator('button[value=submit]').count()) ? 'submit' : 'next'
    await Promise.all([page.waitForLoadState('load'), page.click(`button[value=${button}]`)])
    const errors = await page.locator('.error-summary').count()
    if (errors) throw new Error(`the step refused: ${await page.locator('.error-summary').textContent()}`)
  }
}

t.test(
  'a family ranks two courses in its re-enrolment; staff allocate; the family accepts its seat; another family moves up the waiting list when a seat is declined',
  needsBrowser,
  async (t) => {
    const site = await demoSite(t, ['limonest'])
    const config = site.tenants[0]!
    const em = () => site.app.orm.em.fork({ schema: schemaFor(config.slug) })
    const { pupil, first, others } = await arrange(em(), config)
    const origin = site.origin()
    const findings: Finding[] = []

    // the family, on a phone: the Cours step offers next year's courses; it ranks two
    const family = await site.newPage()
    await family.setViewportSize({ width: 390, height: 844 })
    await signIn(family, origin, '/connexion', 'demo-famille')
    await reenrol(family, origin, pupil.id, [
      'Violoncelle — atelier découverte',
      'Théâtre — atelier du mercredi',
    ])
    t.match(await family.locator('main').textContent(), /Choix 1 — Violoncelle — atelier découverte/)
    findings.push(...(await check(family, 'the re-enrolment sent, with its requests')))
    const ours = await em().findOneOrFail(PlaceRequest, { pupil, item: first })
    t.equal(ours.rank, 1)
    t.equal(ours.state, 'waiting', 'en attente until staff allocate')

    // three other families ask for the same course afterwards
    const x = em()
    const later = new Date(Date.now() + 60_000)
    for (const other of others)
      x.create(PlaceRequest, {
        item: first.id,
        source: 'reenrolment',
        pupil: other.id,
        family: other.family.id,
        name: `${other.firstName} ${other.lastName}`,
        rank: 1,
        requestedAt: later,
      })
    await x.flush()

    // staff, on a desktop: the board, the allocation of that course, its proposal, confirmed
    const staff = await site.newPage()
    await staff.setViewportSize({ width: 1280, height: 900 })
    await signIn(staff, origin, '/admin/connexion', 'demo-secretariat')
    await staff.goto(`${origin}/admin/places`)
    findings.push(...(await check(staff, 'the demand board')))
    await Promise.all([
      staff.waitForURL(/\/admin\/places\/attributions\/\d+/),
      staff.getByRole('button', { name: 'Lancer l’attribution — Violoncelle — atelier découverte' }).click(),
    ])
    const proposal = await staff.locator('main').textContent()
    t.match(proposal, `${pupil.firstName} ${pupil.lastName}`, 'the proposal names the pupils')
    t.match(proposal, /graine/i, 'the seed is shown')
    findings.push(...(await check(staff, 'the proposal')))
    await Promise.all([
      staff.waitForLoadState('load'),
      staff.getByRole('button', { name: 'Confirmer' }).click(),
    ])
    const requests = await em().find(PlaceRequest, { item: first }, { orderBy: { queueOrder: 'asc' } })
    t.same(
      requests.map((r) => r.state),
      ['proposed', 'proposed', 'waitlisted', 'waitlisted'],
      'two seats offered, two requests waiting',
    )
    t.equal(requests[0]!.id, ours.id, 'the resident family first')
    const [, offered, waiting, last] = requests

    // the last on the list sees its position, never the other families' names
    const lastFamily = others.find((o) => o.id === last!.pupil!.id)!
    const lastGuardian = await em().findOneOrFail(
      Guardian,
      { family: lastFamily.family.id },
      { orderBy: { id: 'asc' } },
    )
    const account = await createAccount(site.app, config.slug, { identifiant: 'famille-en-attente' })
    const g = em()
    g.assign(await g.findOneOrFail(Guardian, { id: lastGuardian.id }), { account: account.id })
    await g.flush()
    const waitingFamily = await site.newPage()
    await waitingFamily.setViewportSize({ width: 390, height: 844 })
    await waitingFamily.goto(`${origin}/connexion`)
    await waitingFamily.fill('#identifiant', 'famille-en-attente')
    await waitingFamily.fill('#password', goodPassword)
    await Promise.all([
      waitingFamily.waitForURL((u) => !u.pathname.endsWith('connexion')),
      waitingFamily.click('button[type=submit]'),
    ])
    await waitingFamily.goto(`${origin}/eleves/${lastFamily.id}/places`)
    let seen = await waitingFamily.locator('main').textContent()
    t.match(seen, /Position 2 sur la liste d’attente — 2 places dans ce cours/)
    for (const other of [pupil, ...others.filter((o) => o.id !== lastFamily.id)])
      t.notMatch(seen, `${other.firstName} ${other.lastName}`, 'no other family named')
    findings.push(...(await check(waitingFamily, 'a waiting list position')))

    // demo-famille is told on its home page, and accepts: the pupil is enrolled
    await family.goto(`${origin}/accueil`)
    t.match(await family.locator('main').textContent(), /Une place est proposée à/)
    await Promise.all([family.waitForURL(/\/places$/), family.click(`a[href="/eleves/${pupil.id}/places"]`)])
    findings.push(...(await check(family, 'a seat offered')))
    await Promise.all([
      family.waitForLoadState('load'),
      family.getByRole('button', { name: 'Accepter la place' }).first().click(),
    ])
    t.match(await family.locator('main').textContent(), /acceptée/)
    t.equal((await em().findOneOrFail(PlaceRequest, { id: ours.id })).state, 'accepted')
    t.ok(
      await em().findOne(Enrolment, { pupil, course: first.courseIds[0]!, active: true }),
      'enrolled in next year’s course',
    )
    t.equal(
      (await em().findOneOrFail(PlaceRequest, { pupil, item: { $ne: first } })).state,
      'closed',
      'the second choice is not needed any more',
    )

    // the other family offered a seat declines it: the next one is offered it, the last moves up
    const offeredFamily = others.find((o) => o.id === offered!.pupil!.id)!
    const offeredGuardian = await em().findOneOrFail(
      Guardian,
      { family: offeredFamily.family.id },
      { orderBy: { id: 'asc' } },
    )
    const declining = await createAccount(site.app, config.slug, { identifiant: 'famille-qui-refuse' })
    const d = em()
    d.assign(await d.findOneOrFail(Guardian, { id: offeredGuardian.id }), { account: declining.id })
    await d.flush()
    const decliner = await site.newPage()
    await decliner.goto(`${origin}/connexion`)
    await decliner.fill('#identifiant', 'famille-qui-refuse')
    await decliner.fill('#password', goodPassword)
    await Promise.all([
      decliner.waitForURL((u) => !u.pathname.endsWith('connexion')),
      decliner.click('button[type=submit]'),
    ])
    await decliner.goto(`${origin}/eleves/${offeredFamily.id}/places`)
    await Promise.all([
      decliner.waitForLoadState('load'),
      decliner.getByRole('link', { name: 'Refuser la place' }).click(),
    ])
    findings.push(...(await check(decliner, 'refusing a seat')))
    await Promise.all([
      decliner.waitForLoadState('load'),
      decliner.getByRole('button', { name: 'Oui, refuser la place' }).click(),
    ])
    t.equal((await em().findOneOrFail(PlaceRequest, { id: offered!.id })).state, 'declined')
    t.equal(
      (await em().findOneOrFail(PlaceRequest, { id: waiting!.id })).state,
      'proposed',
      'the next request is offered the seat',
    )

    await waitingFamily.reload()
    seen = await waitingFamily.locator('main').textContent()
    t.match(seen, /Position 1 sur la liste d’attente — 2 places dans ce cours/, 'moved up by one')
    t.same(findings, [], 'nothing found on the pages walked')
  },
)
