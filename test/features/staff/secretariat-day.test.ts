import type { Page } from 'playwright-core'
import t, { type Test } from 'tap'
import { Pupil } from '../../../src/features/pupils/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { fold } from '../../../src/platform/text.ts'
import { needsBrowser } from '../../helpers/chromium.ts'
import { demoSite, signIn } from '../../helpers/walk.ts'

const text = (value: string | null) => (value ?? '').replace(/\s+/g, ' ').trim()

/** Follows a link of the staff menu, as a person does. */
async function menu(page: Page, label: string) {
  await Promise.all([
    page.waitForLoadState(),
    page.locator('header nav').getByRole('link', { name: label, exact: true }).click(),
  ])
}

async function submit(page: Page, button: ReturnType<Page['locator']>) {
  await Promise.all([page.waitForEvent('load'), button.click()])
}

/**
 * A day of the secretariat on Limonest's demo, through the menus: find a family by a pupil's
 * accented first name typed without accents, correct a phone number, create a course, enrol a pupil
 * in a full course (refused, then forced with a reason), invite a teacher (an admin's task), prepare
 * next year and switch to it.
 */
async function secretariatDay(t: Test, page: Page, admin: Page, origin: string, accented: Pupil) {
  await signIn(page, origin, '/admin/connexion', 'demo-secretariat')

  // a family at the desk: "eloise" finds Éloïse
  await menu(page, 'Familles')
  await page.getByLabel('Rechercher').fill(`${fold(accented.firstName)} ${fold(accented.lastName)}`)
  await submit(page, page.locator('form[action="/admin/familles"] button[type=submit]'))
  const found = page.locator('main table tbody tr')
  t.equal(await found.count(), 1, 'one family found')
  t.match(text(await found.first().textContent()), accented.firstName)
  await submit(page, found.first().locator('a').first())
  t.match(page.url(), /\/admin\/familles\/\d+$/)

  // the phone number was wrong
  await submit(page, page.locator('a[href*="/responsables/"]').first())
  // a digit short first: refused beside the field, what was typed kept, nothing saved
  await page.locator('#phoneMobile').fill('06 98 76 54 3')
  await submit(page, page.locator('main form button[type=submit]').last())
  t.ok(await page.locator('#phoneMobile-error').isVisible(), 'the phone is refused beside the field')
  t.equal(await page.locator('#phoneMobile').inputValue(), '06 98 76 54 3', 'what was typed is kept')
  await page.locator('#phoneMobile').fill('06 98 76 54 32')
  await submit(page, page.locator('main form button[type=submit]').last())
  t.match(page.url(), /\/admin\/familles\/\d+/)
  t.match(text(await page.locator('main').textContent()), '06 98 76 54 32', 'the new number is shown')
  t.match(
    text(await page.locator('main ol.history').textContent()),
    '06 98 76 54 32',
    'and kept in the history',
  )

  // a new course
  await menu(page, 'Cours')
  await submit(page, page.getByRole('link', { name: 'Nouveau cours' }))
  await page.locator('#name').fill('Atelier jazz')
  await page.locator('#discipline').selectOption({ index: 1 })
  await page.locator('#slots-0-day').selectOption({ label: 'Jeudi' })
  await page.locator('#slots-0-start').fill('18:00')
  await page.locator('#slots-0-end').fill('19:30')
  await page.locator('#capacity').fill('8')
  await submit(page, page.locator('main form button[type=submit]').last())
  t.equal(text(await page.locator('main h1').textContent()), 'Atelier jazz', 'the course page')
  t.match(text(await page.locator('main').textContent()), 'Jeudi 18h00 – 19h30')

  // the full course: refused, then forced with a reason
  await menu(page, 'Cours')
  await submit(page, page.locator('main table tbody tr', { hasText: 'complet' }).first().locator('a').first())
  const course = page.url()
  // any pupil who does not follow it yet: the ones found with an "Inscrire" button
  await page.locator('#eleve').fill('a')
  await submit(page, page.getByRole('button', { name: 'Rechercher' }))
  const enrol = page.locator('main form[action$="/inscriptions"] button[type=submit]').first()
  const pupil = text(await enrol.getAttribute('aria-label')).replace(/^Inscrire /, '')
  t.ok(pupil, 'a pupil to enrol')
  await submit(page, enrol)
  t.match(text(await page.locator('main').textContent()), 'Ce cours est complet', 'refused')
  await page.locator('#force').check()
  await page.locator('#reason').fill('Accord de la direction : l’élève remplace un désistement.')
  await submit(page, page.locator('main form[action$="/inscriptions"] button[type=submit]').first())
  t.equal(page.url().split('?')[0], course)
  t.match(text(await page.locator('main').textContent()), pupil, `${pupil}, enrolled past capacity`)

  // an admin invites a teacher
  await signIn(admin, origin, '/admin/connexion', 'demo-admin')
  await menu(admin, 'Administration')
  await submit(admin, admin.locator('main').getByRole('link', { name: 'Comptes', exact: true }))
  await submit(admin, admin.getByRole('link', { name: /Inviter/ }).first())
  await admin.locator('#role').selectOption('teacher')
  await admin.locator('#firstName').fill('Inès')
  await admin.locator('#lastName').fill('Moreau')
  await admin.locator('#email').fill('ines.moreau@example.fr')
  await submit(admin, admin.locator('main form button[type=submit]').last())
  t.match(text(await admin.locator('main').textContent()), 'ines.moreau', 'the teacher’s account, invited')

  // next year: prepared with its courses copied by the demo (its offer of places is open), the
  // re-enrolled pupils enrolled, then switched
  await menu(page, 'Année scolaire')
  t.equal(await page.locator('form[action="/admin/annee/preparer"]').count(), 0, 'next year is prepared')
  await submit(page, page.locator('form[action="/admin/annee/inscriptions"] button'))
  const change = page.locator('form[action="/admin/annee/changer"]')
  await submit(page, change.locator('button[type=submit]'))
  t.match(text(await page.locator('main').textContent()), /en attente/, 'refused while decisions are pending')
  await change.locator('#force').check()
  await change.locator('#reason').fill('Les dernières réinscriptions seront décidées en septembre.')
  await submit(page, change.locator('button[type=submit]'))
  t.match(text(await page.locator('[role=status]').textContent()), 'L’année en cours a changé.')
  t.match(text(await page.locator('main tr[aria-current="true"] th').textContent()), '2027-2028')
  await menu(page, 'Cours')
  t.match(text(await page.locator('main h1').textContent()), /2027-2028/, 'the catalogue is next year’s')
}

t.test('a secretariat day in chromium, at 1280 px and at 390 px', needsBrowser, async (t) => {
  const site = await demoSite(t, ['limonest', 'limonest'])
  for (const [i, width] of [1280, 390].entries()) {
    const em = site.app.orm.em.fork({ schema: schemaFor(site.tenants[i]!.slug) })
    const pupils = await em.find(Pupil, { family: { archivedAt: null } }, { orderBy: { id: 'asc' } })
    const accented = pupils.find((p) => fold(p.firstName) !== p.firstName.toLowerCase())!
    await t.test(`${width} px`, async (t) => {
      const page = await site.newPage()
      const admin = await site.newPage()
      await page.setViewportSize({ width, height: 844 })
      await admin.setViewportSize({ width, height: 844 })
      await secretariatDay(t, page, admin, site.origin(i), accented)
    })
  }
})
