import t from 'tap'
import { needsBrowser } from '../../helpers/chromium.ts'
import { check, demoSite } from '../../helpers/walk.ts'

t.test(
  'a visitor simulates Limonest’s fees from the home page, at 390 and 1280 px, axe finding nothing',
  needsBrowser,
  async (t) => {
    const site = await demoSite(t, ['limonest'])
    const page = await site.newPage()
    await page.goto(`${site.origin()}/`)
    await page.getByRole('link', { name: 'Simuler le coût de l’année' }).click()
    t.match(await page.title(), /^Simulateur de tarifs — /)
    t.same(await check(page, 'simulator'), [], 'the empty form')

    await page.getByRole('button', { name: 'Calculer' }).click()
    t.equal(await page.locator('#p0-error').textContent(), 'Cochez au moins une discipline.')
    t.same(await check(page, 'simulator errors'), [], 'the form with its errors')

    await page.getByLabel('J’habite le territoire').check()
    await page.getByLabel('Quotient familial').selectOption('Q3')
    await page.getByLabel('Mode de règlement').selectOption('prelevement')
    await page.locator('#p0').getByLabel('Clarinette').check()
    await page.locator('#p0').getByLabel('Formation musicale').check()
    await page.getByRole('button', { name: 'Ajouter un élève' }).click()
    t.ok(await page.locator('#p0').getByLabel('Clarinette').isChecked(), 'a round trip keeps the ticks')
    await page.locator('#p1').getByLabel('Danse enfant').check()
    await page.getByRole('button', { name: 'Calculer' }).click()

    const result = page.locator('#resultat')
    t.equal(await result.locator('.stat').textContent(), '432,00\u00a0€')
    t.equal(await result.locator('table').last().locator('tbody tr').count(), 9, 'nine direct debits')
    t.same(await check(page, 'simulator result'), [], 'the result')
  },
)
