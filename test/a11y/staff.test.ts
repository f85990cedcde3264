import t from 'tap'
import { needsBrowser } from '../helpers/chromium.ts'
import { demoSite, signIn, walk } from '../helpers/walk.ts'

t.test(
  'demo-admin: every page reached through the menus, a family’s change request among them, passes axe-core at 390 and 1280 px',
  needsBrowser,
  async (t) => {
    const site = await demoSite(t, ['limonest'])
    // a family changes its phone number: the sas then has a request to review
    const family = await site.newPage()
    await signIn(family, site.origin(), '/connexion', 'demo-famille')
    await family.goto(`${site.origin()}/famille`)
    const form = family.locator('form[action^="/famille/responsables/"]').first()
    await form.locator('[name=phoneMobile]').fill('06 11 22 33 44')
    await Promise.all([family.waitForURL(/enregistre=/), form.locator('button[type=submit]').click()])

    const page = await site.newPage()
    await signIn(page, site.origin(), '/admin/connexion', 'demo-admin')
    // the staff side has more kinds of page than the walk's default budget
    const { walked, findings } = await walk(page, site.origin(), '/admin', 90)
    t.ok(walked.includes('/admin/changements/:id'), 'the change request’s review page is walked')
    for (const kind of [
      '/admin/journal',
      '/admin/courriels',
      '/admin/courriels/:id',
      '/admin/configuration',
      '/admin/configuration/versions',
      '/admin/configuration/yaml',
      '/admin/configuration/pieces/mandat-sepa',
      '/admin/evaluations',
      '/admin/evaluations/:id',
    ])
      t.ok(walked.includes(kind), `${kind}, from the Administration, is walked`)
    t.ok(walked.length >= 5, `${walked.length} kinds of page walked: ${walked.join(' ')}`)
    t.same(findings, [], 'nothing found')
  },
)
