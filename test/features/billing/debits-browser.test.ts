import t from 'tap'
import { needsBrowser } from '../../helpers/chromium.ts'
import { check, demoSite, type Finding, signIn } from '../../helpers/walk.ts'

t.test(
  'demo-secretariat in chromium: next month’s direct debits listed, the pain.008 exported and downloaded',
  needsBrowser,
  async (t) => {
    const site = await demoSite(t, ['limonest'])
    const origin = site.origin()
    const findings: Finding[] = []
    const page = await site.newPage()
    await page.setViewportSize({ width: 390, height: 844 })
    await signIn(page, origin, '/admin/connexion', 'demo-secretariat')

    await page.goto(`${origin}/admin/facturation`)
    await Promise.all([
      page.waitForURL(`${origin}/admin/facturation/prelevements`),
      page.click('main a[href="/admin/facturation/prelevements"]'),
    ])
    t.equal((await page.textContent('h1'))?.trim(), 'Prélèvements')
    findings.push(...(await check(page, 'this month')))

    // the first month after this one that has instalments to collect
    const current = await page.inputValue('#mois')
    // evaluated in the page, as a string: this project's TypeScript knows no DOM
    const months = await page.evaluate<string[]>(
      "[...document.querySelectorAll('#mois option')].map((o) => o.value)",
    )
    const next = months.find((m) => m > current)
    t.ok(next, `a month after ${current} to collect`)
    await page.selectOption('#mois', next!)
    await Promise.all([
      page.waitForURL(`${origin}/admin/facturation/prelevements?mois=${next}`),
      page.click('form.filters button[type=submit]'),
    ])
    const rows = await page.locator('table.debits tbody tr').count()
    t.ok(rows > 0, `${rows} debit(s) to collect`)
    t.match(await page.textContent('table.debits tbody'), /FR\d\d \*{4} \*{4}/, 'accounts masked')
    t.match(await page.textContent('main'), /pour un total de/)
    findings.push(...(await check(page, 'next month')))

    await Promise.all([
      page.waitForURL(`${origin}/admin/facturation/prelevements?mois=${next}&exporte=1`),
      page.click('button:has-text("Exporter le fichier de prélèvement (pain.008)")'),
    ])
    t.match(await page.textContent('[role=status]'), /Le fichier de prélèvement de .* est prêt/)
    t.match(
      await page.textContent('main'),
      /Fichier de .* exporté le \d\d\/\d\d\/\d{4} par .* : \d+ prélèvements?/,
    )
    t.equal(
      await page.locator('form[action="/admin/facturation/prelevements"][method="post"]').count(),
      0,
      'exported once',
    )
    findings.push(...(await check(page, 'exported')))

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('a[href$="/fichier"]')])
    t.equal(download.suggestedFilename(), `prelevements-${next}.xml`)
    const stream = await download.createReadStream()
    const chunks: Buffer[] = []
    for await (const chunk of stream) chunks.push(chunk as Buffer)
    const xml = Buffer.concat(chunks).toString('utf8')
    t.match(xml, '<CstmrDrctDbtInitn>')
    t.match(xml, '<PmtMtd>DD</PmtMtd>')
    t.match(xml, /<SeqTp>(FRST|RCUR)<\/SeqTp>/)
    t.same(findings, [], 'axe-core finds nothing at 390 and 1280 px')
  },
)
