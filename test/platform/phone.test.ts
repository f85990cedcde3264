import type { AddressInfo } from 'node:net'
import t from 'tap'
import { launchBrowser, needsBrowser } from '../helpers/chromium.ts'
import { goodPassword } from '../helpers/accounts.ts'
import { build } from '../helpers/build.ts'
import { demoTenant, enrolIn, reenrollingFamily } from '../helpers/reenrolment.ts'

t.test(
  'on a 320 px phone: nothing widens the page, steps are named, cards have no empty lines',
  needsBrowser,
  async (t) => {
    // Limonest's home text ends with the address of a PDF whose long name has no place to break
    const { app, host, tenants } = await build(t, { tenants: [demoTenant('limonest')] })
    const slug = tenants[0]!.slug
    const family = await reenrollingFamily(app, slug)
    await enrolIn(app, slug, family.pupil, ['clarinette'], tenants[0]!.establishments[0]!.code)
    await app.listen({ port: 0, host: '127.0.0.1' })
    const origin = `http://${host()}:${(app.server.address() as AddressInfo).port}`
    const browser = await launchBrowser(t)
    const page = await browser.newPage({
      javaScriptEnabled: false,
      locale: 'fr-FR',
      viewport: { width: 320, height: 640 },
    })
    // run in the page (the DOM's types are not this project's)
    const pageWidth = () => page.evaluate<number>('document.documentElement.scrollWidth')

    await page.goto(`${origin}/`)
    t.match(await page.locator('main .prose').textContent(), 'PlanningPrevisionnelCoursCollectifs2023.pdf')
    t.ok((await pageWidth()) <= 320, 'the long URL of the home text wraps: no sideways scrolling')

    await page.goto(`${origin}/connexion`)
    await page.fill('#identifiant', 'famille-martin')
    await page.fill('#password', goodPassword)
    await Promise.all([page.waitForURL(/\/accueil$/), page.click('main form button[type=submit]')])

    const base = `${origin}/eleves/${family.pupil.id}/reinscription`
    await page.goto(base)
    await Promise.all([page.waitForURL(/\/coordonnees$/), page.click(`form[action$="/commencer"] button`)])
    t.equal(
      (await page.locator('#step-title').textContent())?.trim(),
      'Étape 1 sur 6 : Modification des coordonnées',
    )
    const labels = page.locator('.progress__label')
    t.same(await labels.allTextContents(), [
      'Modification des coordonnées',
      'Autorisations',
      'Documents',
      'Cours',
      'Récapitulatif',
      'Finalisation',
    ])
    for (const label of await labels.all()) {
      const box = await label.boundingBox()
      t.ok(box && box.width > 10, `"${await label.textContent()}" is shown, not a bare number`)
    }
    t.ok((await pageWidth()) <= 320, 'the stepper fits')

    await page.goto(`${origin}/eleves/${family.pupil.id}/pieces`)
    const row = page.locator('#document-responsabilite-civile')
    const shown = await row
      .locator('th, td')
      .evaluateAll((cells) =>
        cells
          .filter((c) => (c as unknown as { offsetHeight: number }).offsetHeight > 0)
          .map((c) => c.getAttribute('data-label')),
      )
    t.same(
      shown,
      ['Nom du document', 'État', 'Consulter'],
      'a missing document’s card has no "—" lines for file, date, time and size',
    )
    await row.locator('summary').click()
    t.ok(await row.locator('input[type=file]').isVisible(), 'Importer opens this document’s own form')
    t.ok((await pageWidth()) <= 320, 'the card and its form fit')
  },
)
