import t from 'tap'
import { needsBrowser } from '../helpers/chromium.ts'
import { demoSite, signIn, walk } from '../helpers/walk.ts'

t.test(
  'demo-famille: every page reached through the menus passes axe-core at 390 and 1280 px',
  needsBrowser,
  async (t) => {
    const site = await demoSite(t, ['limonest'])
    const page = await site.newPage()
    await signIn(page, site.origin(), '/connexion', 'demo-famille')
    const { walked, findings } = await walk(page, site.origin(), '/accueil')
    t.ok(walked.includes('/eleves/:id/cours/:id'), 'a course’s page, with "Signaler une absence"')
    t.ok(walked.length >= 5, `${walked.length} kinds of page walked: ${walked.join(' ')}`)
    t.same(findings, [], 'nothing found')
  },
)
