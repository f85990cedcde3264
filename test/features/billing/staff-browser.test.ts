import t from 'tap'
import { needsBrowser } from '../../helpers/chromium.ts'
import { check, demoSite, type Finding, signIn } from '../../helpers/walk.ts'

t.test(
  'demo-secretariat in chromium: a clarinet lent (first refused beside its field), its invoice generated and issued, then a payment refused beside its field and recorded',
  needsBrowser,
  async (t) => {
    const site = await demoSite(t, ['limonest'])
    const origin = site.origin()
    const findings: Finding[] = []
    const page = await site.newPage()
    await page.setViewportSize({ width: 390, height: 844 })
    await signIn(page, origin, '/admin/connexion', 'demo-secretariat')

    // the demo's invoices of the year are issued: a clarinet lent now is what is left to bill
    await page.goto(`${origin}/admin`)
    await page.click('nav.site-nav a[href="/admin/facturation"]')
    await Promise.all([
      page.waitForURL(`${origin}/admin/facturation/locations`),
      page.click('main a[href="/admin/facturation/locations"]'),
    ])
    t.ok(await page.locator('tbody tr', { hasText: 'CLA-012' }).count(), 'the demo’s clarinets are listed')
    findings.push(...(await check(page, 'rentals')))
    await Promise.all([
      page.waitForURL(`${origin}/admin/facturation/locations/nouvelle`),
      page.click('main a[href="/admin/facturation/locations/nouvelle"]'),
    ])
    // the first family's first pupil (the option after the family's own)
    await page.selectOption('#holder', { index: 2 })
    await page.selectOption('#code', 'clarinette')
    await page.fill('#reference', 'cla-012')
    await page.click('form[action="/admin/facturation/locations"] button[type=submit]')
    await page.waitForSelector('#reference-error')
    t.equal(
      (await page.textContent('#reference-error'))?.trim(),
      'Cet objet est déjà loué : enregistrez d’abord son retour.',
      'an item not back yet is refused beside its reference',
    )
    t.equal(await page.inputValue('#reference'), 'cla-012', 'what was typed is kept')
    findings.push(...(await check(page, 'rental refused')))
    await page.fill('#reference', 'CLA-020')
    await Promise.all([
      page.waitForURL(/\/admin\/facturation\/locations\/\d+$/),
      page.click('form[action="/admin/facturation/locations"] button[type=submit]'),
    ])
    t.match(await page.textContent('h1'), 'Location clarinette — CLA-020')

    await page.goto(`${origin}/admin/facturation`)
    await Promise.all([
      page.waitForURL(`${origin}/admin/facturation/generer`),
      page.click('main a[href="/admin/facturation/generer"]'),
    ])
    t.equal(await page.locator('table.rental-invoices tbody tr').count(), 1, 'one rental invoice to issue')
    t.match(await page.textContent('table.rental-invoices tbody'), 'CLA-020')
    findings.push(...(await check(page, 'generation')))
    await Promise.all([
      page.waitForURL(/\/admin\/facturation\/generer\?emises=\d+$/),
      page.click('form[action="/admin/facturation/generer"] button[type=submit]'),
    ])
    t.equal((await page.textContent('[role=status]'))?.trim(), '1 facture émise.')
    t.equal(await page.locator('tbody tr').count(), 0, 'nothing left to bill')

    // an invoice with something left to pay, whatever the day's date makes of its state
    await page.goto(`${origin}/admin/facturation`)
    await Promise.all([
      page.waitForURL(/\/admin\/facturation\/factures\/\d+$/),
      page.locator('tbody tr', { hasNotText: 'Payée' }).first().locator('th a').click(),
    ])
    await page.fill('#amount', 'douze euros')
    await page.selectOption('#method', 'cheque')
    await page.click('form[action$="/paiements"] button[type=submit]')
    await page.waitForSelector('#amount-error')
    t.match(
      await page.textContent('#amount-error'),
      /montant/i,
      'a word for an amount is refused beside the field',
    )
    t.equal(await page.inputValue('#amount'), 'douze euros', 'what was typed is kept')
    t.equal(await page.inputValue('#method'), 'cheque')
    findings.push(...(await check(page, 'payment refused')))
    await page.fill('#amount', '12,50')
    await Promise.all([
      page.waitForURL(/\?recu=R\d{4}-\d{6}$/),
      page.click('form[action$="/paiements"] button[type=submit]'),
    ])
    t.match(await page.textContent('[role=status]'), /Paiement enregistré : reçu R\d{4}-\d{6}\./)
    t.match(await page.textContent('main'), '12,50', 'the payment is listed')
    t.same(findings, [], 'axe-core finds nothing at 390 and 1280 px')
  },
)
