import type { AddressInfo } from 'node:net'
import t from 'tap'
import { launchBrowser, needsBrowser } from '../../helpers/chromium.ts'
import { build } from '../../helpers/build.ts'
import { dossierLink, dossiers, nthMail } from '../../helpers/preregistration.ts'
import { demoTenant } from '../../helpers/reenrolment.ts'
import { startInbox } from '../../helpers/smtp.ts'

t.test('a family fills the form in a real browser, with and without JavaScript', needsBrowser, async (t) => {
  const inbox = await startInbox(t)
  const { app, host, tenants } = await build(t, {
    tenants: [demoTenant('limoges')],
    env: { SMTP_URL: inbox.url },
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const origin = `http://${host()}:${(app.server.address() as AddressInfo).port}`
  const browser = await launchBrowser(t)

  for (const [run, javaScriptEnabled, width] of [
    [1, false, 390],
    [2, true, 1280],
  ] as const) {
    const page = await browser.newPage({
      javaScriptEnabled,
      locale: 'fr-FR',
      viewport: { width, height: 844 },
    })
    const label = javaScriptEnabled ? 'with JavaScript' : 'without JavaScript'
    await page.goto(`${origin}/`)
    await page.click('a.button[href="/preinscription"]')
    await page.selectOption('#g1-civility', 'Monsieur')
    await page.fill('#g1-lastName', `Bernard${run}`)
    await page.fill('#g1-firstName', 'Marc')

    // Enter in a field saves (and is refused, the form being incomplete): it does not add a guardian
    await page.press('#g1-firstName', 'Enter')
    t.match(await page.locator('.error-summary').textContent(), /Le formulaire contient des erreurs/, label)
    t.equal(await page.locator('#responsable-2').count(), 0, `${label}: Enter does not add a block`)
    t.equal(await page.inputValue('#g1-lastName'), `Bernard${run}`, `${label}: typed values kept`)

    await page.click('button[value=addGuardian]')
    t.match(page.url(), /#responsable-2$/, `${label}: the page scrolls to the new block`)
    t.equal(await page.inputValue('#g1-firstName'), 'Marc')
    await page.click('button[value=removeGuardian]')
    t.equal(await page.locator('#responsable-2').count(), 0)

    await page.fill('#g1-address', '1 place de la République')
    await page.fill('#g1-postalCode', '87000')
    await page.fill('#g1-city', 'Limoges')
    await page.fill('#g1-email', `marc.bernard${run}@example.fr`)
    await page.click('button[value=guardianApplicant]')
    t.match(await page.locator('#eleve-1').textContent(), /celles du responsable 1 \(Marc Bernard\d\)/, label)
    await page.fill('#p0-birthDate', '1975-02-11')
    await page.selectOption('#p0-choice1', 'guitare')

    await page.click('button[value=addApplicant]')
    // without a script the click loads a new page: wait for its new block before looking at it
    await page.locator('#p1-useGuardianAddress').waitFor({ state: 'attached' })
    // and for its stylesheet, which is what hides the address
    await page.waitForLoadState('load')
    t.ok(
      await page.locator('#p1-address').isHidden(),
      `${label}: the address is hidden while "utiliser les coordonnées" is ticked`,
    )
    await page.uncheck('#p1-useGuardianAddress')
    t.ok(await page.locator('#p1-address').isVisible(), `${label}: and shown when unticked, without a script`)
    await page.check('#p1-useGuardianAddress')
    await page.selectOption('#p1-civility', 'Madame')
    await page.fill('#p1-lastName', `Bernard${run}`)
    await page.fill('#p1-firstName', 'Jeanne')
    await page.fill('#p1-birthDate', '2014-05-02')
    await page.selectOption('#p1-choice1', 'danse-classique')
    await page.selectOption('#p1-choice2', 'piano')
    const trap = await page.locator('input[name="homepage"]').boundingBox()
    t.ok(trap && trap.x + trap.width <= 0, `${label}: the honeypot is off screen`)
    await page.fill('#confirmEmail', `marc.bernard${run}@example.fr`)
    await page.fill('#antiSpam', '26')
    await page.click('.form-actions button[value=save]')
    t.equal((await page.locator('h1').textContent())?.trim(), 'Votre demande est enregistrée', label)

    const ack = await nthMail(inbox, /dossier enregistré/, run)
    await page.goto(`${origin}${dossierLink(ack).path}`)
    t.equal(await page.inputValue('#p1-firstName'), 'Jeanne', `${label}: the link opens the dossier`)
    await page.check('#confirmed')
    await page.click('#confirmer button[value=confirm]')
    t.equal(
      (await page.locator('.alert--success').textContent())?.trim(),
      'Votre dossier est confirmé.',
      label,
    )
    await page.close()
  }
  const saved = await dossiers(app, tenants[0]!.slug)
  t.same(
    saved.map((d) => [d.status, d.applicants.map((a) => [a.values.firstName, a.fromGuardian, a.choices])]),
    [1, 2].map(() => [
      'confirmed',
      [
        ['Marc', true, ['guitare']],
        ['Jeanne', false, ['danse-classique', 'piano']],
      ],
    ]),
  )
})
