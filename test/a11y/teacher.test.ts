import t from 'tap'
import { needsBrowser } from '../helpers/chromium.ts'
import { demoSite, signIn, walk } from '../helpers/walk.ts'

t.test(
  'demo-prof: every page reached through the menus passes axe-core at 390 and 1280 px',
  needsBrowser,
  async (t) => {
    const site = await demoSite(t, ['limonest'])
    const page = await site.newPage()
    await signIn(page, site.origin(), '/enseignant/connexion', 'demo-prof')
    const { walked, findings } = await walk(page, site.origin(), '/enseignant')
    t.ok(walked.length >= 5, `${walked.length} kinds of page walked: ${walked.join(' ')}`)
    for (const kind of ['/enseignant/cours/:id', '/enseignant/seances/:lesson'])
      t.ok(walked.includes(kind), `${kind} walked (a course’s roster and lessons, a roll call)`)
    t.same(findings, [], 'nothing found')
  },
)
