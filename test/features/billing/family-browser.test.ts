import { readFile } from 'node:fs/promises'
import t from 'tap'
import { extractText, getDocumentProxy } from 'unpdf'
import { needsBrowser } from '../../helpers/chromium.ts'
import { check, demoSite, type Finding, signIn } from '../../helpers/walk.ts'

t.test(
  'demo-famille in chromium: Facturation from the menu, its two tabs, an invoice’s PDF duplicate as shown on the page',
  needsBrowser,
  async (t) => {
    const site = await demoSite(t, ['limonest'])
    const origin = site.origin()
    const findings: Finding[] = []
    const page = await site.newPage()
    await page.setViewportSize({ width: 390, height: 844 })
    await signIn(page, origin, '/connexion', 'demo-famille')

    await Promise.all([
      page.waitForURL(`${origin}/facturation`),
      page.click('nav.site-nav a[href="/facturation"]'),
    ])
    t.equal(await page.textContent('h1'), 'Facturation')
    t.equal(await page.getAttribute('nav.tabs a[aria-current=page]', 'href'), '/facturation')
    const invoice = page.locator('section.invoice').first()
    const number = ((await invoice.locator('h2').textContent()) ?? '').match(/F\d{4}-\d{6}/)?.[0]
    t.ok(number, `the family’s cotisation ${number} is listed`)
    t.match(await invoice.textContent(), /Total[\s\S]*Payé[\s\S]*Reste à payer/)
    findings.push(...(await check(page, 'cotisations')))

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      invoice.locator(`a[href$="/pdf"]`, { hasText: `facture ${number}` }).click(),
    ])
    t.equal(download.suggestedFilename(), `Facture n° ${number}.pdf`)
    const bytes = new Uint8Array(await readFile(await download.path()))
    const { text } = await extractText(await getDocumentProxy(bytes), {
      mergePages: true,
    })
    t.match(text, number!, 'the duplicate carries the number the page shows')
    const total = ((await invoice.locator('.invoice-balance div').first().locator('dd').textContent()) ?? '')
      .replace(/\s/g, ' ')
      .trim()
    t.match(text.replace(/\s/g, ' '), total, `and the same total, ${total}`)

    await Promise.all([
      page.waitForURL(`${origin}/facturation/locations`),
      page.click('nav.tabs a[href="/facturation/locations"]'),
    ])
    t.equal(await page.getAttribute('nav.tabs a[aria-current=page]', 'href'), '/facturation/locations')
    t.ok((await page.locator('section.invoice').count()) > 0, 'the family’s rental is on its own tab')
    findings.push(...(await check(page, 'locations')))
    t.same(findings, [], 'axe-core finds nothing at 390 and 1280 px')
  },
)
