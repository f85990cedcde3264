import t from 'tap'
import { needsBrowser } from '../helpers/chromium.ts'
import { check, demoSite, walk } from '../helpers/walk.ts'

t.test(
  'a visitor: every page reached through the menus, and the pages that refuse, pass axe-core at 390 and 1280 px',
  needsBrowser,
  async (t) => {
    const site = await demoSite(t, ['limonest', 'limoges'])
    for (const [tenant, start] of [
      [0, '/'],
      [1, '/preinscription'],
    ] as const) {
      const page = await site.newPage()
      const { walked, findings } = await walk(page, site.origin(tenant), start)
      t.ok(walked.length >= 5, `${walked.length} kinds of page walked from ${start}: ${walked.join(' ')}`)
      t.same(findings, [], 'nothing found')
    }

    const page = await site.newPage()
    await page.goto(`${site.origin(0)}/connexion`)
    await page.fill('#identifiant', 'inconnu')
    await page.fill('#password', 'mauvais')
    await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')])
    t.same(await check(page, 'refused sign-in'), [], 'a refused sign-in: nothing found')
    await page.goto(`${site.origin(1)}/preinscription`)
    await Promise.all([
      page.waitForLoadState('load'),
      page.click('form.prereg-form button[value=save]:not([aria-hidden])'),
    ])
    t.ok(await page.locator('.error-summary').count(), 'the empty pré-inscription shows its errors')
    t.same(await check(page, 'empty pré-inscription'), [], 'an empty pré-inscription: nothing found')
  },
)
