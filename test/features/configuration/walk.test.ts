import t from 'tap'
import { needsBrowser } from '../../helpers/chromium.ts'
import { check, demoSite, type Finding, signIn } from '../../helpers/walk.ts'

/** A day `days` from today, as the date input takes it and as the portal shows it. */
function dayFrom(days: number) {
  const date = new Date(Date.now() + days * 86_400_000)
  const [y, m, d] = [date.getFullYear(), date.getMonth() + 1, date.getDate()].map((n) =>
    String(n).padStart(2, '0'),
  )
  return { input: `${y}-${m}-${d}T23:59`, shown: `${d}/${m}/${y}` }
}

t.test(
  'demo-admin in chromium: a closing date and a conditional pièce, diffed, previewed as a family, published, seen by the family, then the previous version restored',
  needsBrowser,
  async (t) => {
    const site = await demoSite(t, ['limonest'])
    const origin = site.origin()
    const findings: Finding[] = []
    const admin = await site.newPage()
    await admin.setViewportSize({ width: 390, height: 844 })
    await signIn(admin, origin, '/admin/connexion', 'demo-admin')
    const family = await site.newPage()
    await family.setViewportSize({ width: 390, height: 844 })
    await signIn(family, origin, '/connexion', 'demo-famille')
    const familyHome = async () => {
      await family.goto(`${origin}/accueil`)
      return (await family.textContent('main')) ?? ''
    }
    const before = await familyHome()
    const closing = dayFrom(60)
    t.notMatch(before, closing.shown, 'the family sees today’s closing date')

    // through the menus: Administration, then Configuration, then the periods' form
    await admin.goto(`${origin}/admin`)
    await admin.click('nav.site-nav a[href="/admin/administration"]')
    await admin.click('main a[href="/admin/configuration"]')
    await admin.click('a[href="/admin/configuration/periodes"]')
    await admin.fill('#reenrolment-closes', closing.input)
    await Promise.all([
      admin.waitForURL(/\/admin\/configuration\/brouillons\/\d+$/),
      admin.click('form[action="/admin/configuration/periodes"] button[type=submit]'),
    ])

    // the pièce, added to the same draft
    await admin.goto(`${origin}/admin/configuration/pieces/nouvelle`)
    t.match(await admin.textContent('.working-draft'), 'Vous continuez votre brouillon')
    await admin.fill('#label', 'Certificat médical de danse')
    await admin.check('#level-pupil')
    await admin.check('#condition-disciplines')
    await admin.check('#discipline-danse-enfant')
    await Promise.all([
      admin.waitForURL(/\/admin\/configuration\/brouillons\/\d+$/),
      admin.click('form[action="/admin/configuration/pieces/nouvelle"] button[type=submit]'),
    ])
    const draftUrl = admin.url()
    const added = (await admin.locator('.diff__added .diff__text').allTextContents()).join('\n')
    t.match(added, `closes: ${closing.input.slice(0, 10)}`, 'the diff shows the closing date')
    t.match(added, 'label: Certificat médical de danse', 'and the pièce')
    t.match(added, 'danse-enfant', 'with its condition')
    findings.push(...(await check(admin, 'draft')))

    // the preview, as the demo family, of the home page the change touches
    await admin.selectOption('#famille', { index: 1 })
    await admin.check('input[name=page][value="/"]')
    await Promise.all([admin.waitForURL(`${origin}/`), admin.click('.preview-form button[type=submit]')])
    t.match(await admin.textContent('.preview-banner'), 'Aperçu d’une version non publiée, vu par la famille')
    t.match(await admin.textContent('main'), closing.shown, 'the preview shows the new closing date')
    findings.push(...(await check(admin, 'preview')))
    t.notMatch(await familyHome(), closing.shown, 'the family does not see a draft')
    await Promise.all([admin.waitForURL(draftUrl), admin.click('.preview-banner a')])
    t.equal(admin.url(), draftUrl, 'leaving the preview comes back to the draft')

    await admin.fill('#comment', 'Réinscriptions prolongées, certificat pour la danse')
    await Promise.all([
      admin.waitForURL(/\/admin\/configuration\/versions\?fait=publiee$/),
      admin.click('form[action$="/publier"] button[type=submit]'),
    ])
    t.match(await admin.textContent('[role=status]'), 'La nouvelle version est en ligne')
    findings.push(...(await check(admin, 'versions')))
    t.match(await familyHome(), closing.shown, 'the family sees the published closing date')

    // the previous version restored
    await Promise.all([
      admin.waitForURL(/\/admin\/configuration\/versions\/1$/),
      admin.click('a[href="/admin/configuration/versions/1"]'),
    ])
    await admin.waitForLoadState('load')
    findings.push(...(await check(admin, 'version 1')))
    await Promise.all([
      admin.waitForURL(/\/admin\/configuration\/brouillons\/\d+$/),
      admin.click('form[action="/admin/configuration/versions/1/restaurer"] button[type=submit]'),
    ])
    t.match(await admin.textContent('main'), 'Il remet en ligne la version n° 1.')
    const removed = (await admin.locator('.diff__removed .diff__text').allTextContents()).join('\n')
    t.match(removed, 'Certificat médical de danse', 'restoring takes the pièce away again')
    await admin.fill('#comment', 'Retour au calendrier initial')
    await Promise.all([
      admin.waitForURL(/\/admin\/configuration\/versions\?fait=publiee$/),
      admin.click('form[action$="/publier"] button[type=submit]'),
    ])
    const rows = await admin.locator('tbody tr').allTextContents()
    t.match(rows[0], /n° 3[\s\S]*Retour au calendrier initial[\s\S]*restauration de la n° 1/)
    t.notMatch(await familyHome(), closing.shown, 'the family is back to the first closing date')
    t.same(findings, [], 'axe-core finds nothing at 390 and 1280 px')
  },
)

t.test(
  'the YAML editor in chromium says the problems as the admin types, by line',
  needsBrowser,
  async (t) => {
    const site = await demoSite(t, ['limonest'])
    const admin = await site.newPage()
    await signIn(admin, site.origin(), '/admin/connexion', 'demo-admin')
    await admin.goto(`${site.origin()}/admin/configuration/yaml`)
    const source = await admin.inputValue('#source')
    const line = source.split('\n').findIndex((l) => l.startsWith('texts:')) + 1
    await admin.fill('#source', source.replace('texts:', 'colour: red\ntexts:'))
    await admin.waitForSelector('#live-check li')
    t.equal((await admin.textContent('#live-check li'))?.trim(), `ligne ${line} : clé inconnue « colour »`)
    t.equal(await admin.getAttribute('#live-check', 'aria-live'), 'polite', 'said to screen readers')
    await admin.fill('#source', source)
    await admin.waitForSelector('#live-check.live-check--ok')
    t.match(await admin.textContent('#live-check'), 'aucun problème')
    t.same(await check(admin, 'live check'), [], 'axe-core finds nothing at 390 and 1280 px')
  },
)
