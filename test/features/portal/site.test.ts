import t from 'tap'
import { Course, Enrolment, SchoolYear, Teacher } from '../../../src/features/teaching/entities.ts'
import { Session } from '../../../src/platform/auth/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser, createAccount, goodPassword } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { createFamily } from '../../helpers/families.ts'
import { demoTenant } from '../../helpers/reenrolment.ts'

const text = (value: string | undefined) => (value ?? '').replace(/\s+/g, ' ').trim()

/** Porte Océane (two sites) with a pupil and a teacher at both: piano at Saint-Junien, guitar at Rochechouart. */
async function setUp(t: Parameters<typeof build>[0]) {
  const built = await build(t, { tenants: [demoTenant('porte-oceane')] })
  const slug = built.tenants[0]!.slug
  const { pupil } = await createFamily(built.app, slug, 'famille-martin')
  const account = await createAccount(built.app, slug, { identifiant: 'professeur', role: 'teacher' })
  const em = built.app.orm.em.fork({ schema: schemaFor(slug) })
  const year = em.create(SchoolYear, {
    label: '2026-2027',
    startsOn: '2026-09-01',
    endsOn: '2027-08-31',
    current: true,
  })
  const teacher = em.create(Teacher, { firstName: 'Hélène', lastName: 'Rivière', account })
  for (const [discipline, establishment, name] of [
    ['guitare', 'rochechouart', 'Guitare 1C2'],
    ['piano', 'saint-junien', 'Piano 1C1'],
  ] as const) {
    const course = em.create(Course, { schoolYear: year, discipline, establishment, name, teacher })
    em.create(Enrolment, { pupil, course })
  }
  await em.flush()
  const signIn = async (path: string, identifiant: string, site: string) => {
    const browser = new Browser(built.app, built.host())
    const res = await browser.submit(path, path, { site, identifiant, password: goodPassword })
    if (res.statusCode !== 303) throw new Error(`sign-in at ${site} answered ${res.statusCode}`)
    return browser
  }
  return { ...built, slug, pupil, em: () => built.app.orm.em.fork({ schema: schemaFor(slug) }), signIn }
}

t.test('the site chosen at sign-in is kept with the session and shown first', async (t) => {
  const { pupil, em, signIn } = await setUp(t)

  for (const [site, name, first] of [
    ['saint-junien', 'Site de Saint-Junien', 'Piano 1C1'],
    ['rochechouart', 'Site de Rochechouart', 'Guitare 1C2'],
  ] as const) {
    await t.test(site, async (t) => {
      const family = await signIn('/connexion', 'famille-martin', site)
      const sessions = await em().find(Session, {}, { orderBy: { createdAt: 'desc' } })
      t.equal(sessions[0]?.establishment, site, 'kept with the session')

      const home = html((await family.get('/accueil')).body)
      t.equal(text(home.querySelector('#site-title')?.text), name, 'Accueil names the site')
      t.match(text(home.querySelector('[aria-labelledby="site-title"]')?.text), 'cri-porte-oceane@example.fr')
      t.match(text(home.querySelector('[aria-labelledby="site-title"]')?.text), /\d{5} /, 'with its address')
      t.equal(
        text(home.querySelector(`[aria-labelledby="pupil-${pupil.id}"] ul li`)?.text),
        first,
        'the pupil’s courses at that site come first',
      )

      const courses = html((await family.get(`/eleves/${pupil.id}/cours`)).body)
      t.match(text(courses.querySelector('tbody tr')?.text), first, 'the Cours tab too')

      const portal = html((await family.get('/')).body)
      t.match(
        text(portal.querySelector('[aria-labelledby="sites-title"] li')?.text),
        `${name} (votre site)`,
        'the home page lists the site first',
      )

      const teacher = await signIn('/enseignant/connexion', 'professeur', site)
      const taught = html((await teacher.get('/enseignant')).body)
      t.match(
        text(taught.querySelector('tbody tr')?.text),
        first,
        'a teacher’s courses at that site come first',
      )
    })
  }
})

t.test('a visitor’s home page lists the sites in the tenant’s order', async (t) => {
  const { app, host } = await setUp(t)
  const portal = html((await new Browser(app, host()).get('/')).body)
  t.same(
    portal.querySelectorAll('[aria-labelledby="sites-title"] li strong').map((s) => s.text),
    ['Site de Saint-Junien', 'Site de Rochechouart'],
  )
})
