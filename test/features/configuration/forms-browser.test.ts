import t from 'tap'
import { TenantConfigDraft } from '../../../src/platform/tenancy/entities.ts'
import { parseTenantConfig } from '../../../src/platform/tenancy/tenant-config.ts'
import { needsBrowser } from '../../helpers/chromium.ts'
import { check, demoSite, type Finding, signIn } from '../../helpers/walk.ts'

const pages = [
  '/admin/configuration/periodes',
  '/admin/configuration/textes',
  '/admin/configuration/pieces',
  '/admin/configuration/pieces/nouvelle',
  '/admin/configuration/pieces/mandat-sepa',
  '/admin/configuration/paiement',
  '/admin/configuration/paiement/nouveau',
  '/admin/configuration/paiement/prelevement',
  '/admin/configuration/champs',
  '/admin/configuration/etapes',
]

t.test(
  'demo-admin in chromium: the closing date changed and a dance pièce added through the forms, every form passing axe-core',
  needsBrowser,
  async (t) => {
    const site = await demoSite(t, ['limonest'])
    const slug = site.tenants[0]!.slug
    const origin = site.origin()
    const page = await site.newPage()
    await signIn(page, origin, '/admin/connexion', 'demo-admin')
    const findings: Finding[] = []
    for (const path of pages) {
      const response = await page.goto(`${origin}${path}`)
      t.equal(response?.status(), 200, path)
      findings.push(...(await check(page, path)))
    }

    const draftOf = async () => {
      const id = Number(/\/brouillons\/(\d+)$/.exec(new URL(page.url()).pathname)?.[1])
      const draft = await site.app.orm.em.fork().findOneOrFail(TenantConfigDraft, { id })
      return parseTenantConfig(`${slug}.yaml`, draft.source).config!
    }

    await page.goto(`${origin}/admin/configuration/periodes`)
    await page.fill('#reenrolment-opens', '2027-06-20T09:00')
    await page.fill('#reenrolment-closes', '2027-06-11T23:59')
    await page.click('form[action="/admin/configuration/periodes"] button[type=submit]')
    await page.waitForLoadState()
    t.equal(
      (await page.textContent('#reenrolment-closes-error'))?.trim(),
      'La fermeture doit venir après l’ouverture.',
      'closing before opening: refused beside the closing',
    )
    findings.push(...(await check(page, 'periods refused')))
    await page.fill('#reenrolment-opens', '2027-05-15T00:00')
    await Promise.all([
      page.waitForURL(/\/admin\/configuration\/brouillons\/\d+$/),
      page.click('form[action="/admin/configuration/periodes"] button[type=submit]'),
    ])
    t.same((await draftOf()).periods?.reenrolment, {
      opens: '2027-05-15',
      closes: '2027-06-11',
      schoolYear: '2027-2028',
    })

    await page.goto(`${origin}/admin/configuration/pieces/nouvelle`)
    await page.fill('#label', 'Certificat médical de danse')
    await page.check('#level-pupil')
    await page.check('#condition-disciplines')
    await page.check('#discipline-danse-enfant')
    await page.check('#discipline-danse-adulte')
    await page.uncheck('#accept-png')
    await Promise.all([
      page.waitForURL(/\/admin\/configuration\/brouillons\/\d+$/),
      page.click('form[action="/admin/configuration/pieces/nouvelle"] button[type=submit]'),
    ])
    const added = (await draftOf()).documents?.find((d) => d.id === 'certificat-medical-de-danse')
    t.same(added?.when, { fact: 'pupil.disciplines', includesAny: ['danse-enfant', 'danse-adulte'] })
    t.same(added?.accept, ['pdf', 'jpeg'])
    t.same(findings, [], 'nothing found')
  },
)
