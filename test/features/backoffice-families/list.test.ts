import t from 'tap'
import { Family, Guardian } from '../../../src/features/family/entities.ts'
import { Pupil } from '../../../src/features/pupils/entities.ts'
import { ChangeRequest } from '../../../src/features/sas/entities.ts'
import { Course, Enrolment, SchoolYear } from '../../../src/features/teaching/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser, createAccount, goodPassword, signedInBrowser } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { createFamily } from '../../helpers/families.ts'

const twoSites = {
  establishments: [
    { code: 'centre', name: 'Site du centre' },
    { code: 'nord', name: 'Antenne nord' },
  ],
}

/** The responsable 1 names the list shows, in order. */
function listed(body: string): string[] {
  return html(body)
    .querySelectorAll('tbody th[scope="row"]')
    .map((th) => th.text.trim())
}

t.test(
  'the families list finds a family by any of its people, whatever the accents, case or phone spacing',
  async (t) => {
    const { app, host, tenants } = await build(t, { tenants: [twoSites] })
    const slug = tenants[0]!.slug
    await createAccount(app, slug, { identifiant: 'secretariat', role: 'secretariat' })
    const martin = await createFamily(app, slug, 'famille-martin', 'Martin')
    const em = app.orm.em.fork({ schema: schemaFor(slug) })
    // a family typed at the desk: no account, a pupil with accents, another phone
    const family = em.create(Family, { resident: false })
    em.create(Guardian, {
      family,
      rank: 1,
      lastName: 'Lefèvre',
      firstName: 'Hélène',
      phoneMobile: '07 11 22 33 44',
      email: 'helene.lefevre@example.fr',
      extraPhones: [],
    })
    em.create(Pupil, { family, lastName: 'Lefèvre', firstName: 'Éloïse', birthDate: '2015-03-02' })
    await em.flush()
    const browser = new Browser(app, host())
    await browser.submit('/admin/connexion', '/admin/connexion', {
      identifiant: 'secretariat',
      password: goodPassword,
      site: 'centre',
    })

    const search = async (q: string) =>
      listed((await browser.get(`/admin/familles?q=${encodeURIComponent(q)}`)).body)

    t.same(listed((await browser.get('/admin/familles')).body), ['Hélène Lefèvre', 'Camille Martin'])
    t.same(await search('eloise'), ['Hélène Lefèvre'], 'a pupil’s first name without its accents')
    t.same(await search('ÉLOÏSE'), ['Hélène Lefèvre'], 'in capitals')
    t.same(await search('lefevre helene'), ['Hélène Lefèvre'], 'two words, each somewhere in the family')
    t.same(await search('lea martin'), ['Camille Martin'], 'a pupil’s and a guardian’s names together')
    t.same(await search('0612'), ['Camille Martin'], 'a phone typed without its spaces')
    t.same(await search('07.11.22'), ['Hélène Lefèvre'], 'a phone typed with dots')
    t.same(await search('+33 7 11'), ['Hélène Lefèvre'], 'an international number')
    t.same(await search('HELENE.LEFEVRE@'), ['Hélène Lefèvre'], 'an e-mail')
    t.same(await search('thomas'), ['Camille Martin'], 'the second guardian')
    t.same(await search('100%_'), [], 'wildcards are taken literally')
    t.match(html((await browser.get('/admin/familles?q=zzz')).body).text, 'Aucune famille ne correspond')

    await t.test('filters: no account, resident, pending work, site', async (t) => {
      t.same(listed((await browser.get('/admin/familles?compte=sans')).body), ['Hélène Lefèvre'])
      t.same(listed((await browser.get('/admin/familles?resident=oui')).body), ['Camille Martin'])
      t.same(listed((await browser.get('/admin/familles?resident=non')).body), ['Hélène Lefèvre'])
      t.same(listed((await browser.get('/admin/familles?attente=1')).body), [])
      em.create(ChangeRequest, {
        family: martin.family,
        subjectType: 'guardian',
        subjectId: martin.guardian.id,
        changes: { city: { before: 'Limonest', after: 'Lyon' } },
      })
      const year = em.create(SchoolYear, {
        label: '2026-2027',
        startsOn: '2026-09-01',
        endsOn: '2027-08-31',
        current: true,
      })
      const course = em.create(Course, {
        schoolYear: year,
        discipline: 'piano',
        establishment: 'nord',
        name: 'Piano 1C1',
        cycle: '1C1',
      })
      em.create(Enrolment, { pupil: martin.pupil, course })
      await em.flush()
      const pending = html((await browser.get('/admin/familles?attente=1')).body)
      t.same(listed(pending.toString()), ['Camille Martin'])
      t.match(pending.querySelector('tbody tr')?.text, 'Modification en attente')
      t.same(listed((await browser.get('/admin/familles?site=nord')).body), ['Camille Martin'])
      t.same(listed((await browser.get('/admin/familles?site=centre')).body), [])
      const row = html((await browser.get('/admin/familles?q=martin')).body).querySelector('tbody tr')!
      t.equal(row.querySelector('td[data-label^="Cours"]')?.text.trim(), '1', 'this year’s courses')
      t.equal(row.querySelector('td[data-label="Élèves"]')?.text.trim(), 'Léa')
      t.equal(row.querySelector('td[data-label="Téléphone"]')?.text.trim(), '06 12 34 56 78')
    })

    await t.test('a bad filter is a 400, never a 500', async (t) => {
      for (const query of ['etat=nope', 'page=0', 'resident=peut-etre', `q=${'x'.repeat(201)}`])
        t.equal((await browser.get(`/admin/familles?${query}`)).statusCode, 400, query)
    })
  },
)

t.test('the list pages by 50, in French alphabetical order of responsable 1', async (t) => {
  const { app, host, tenants } = await build(t)
  const slug = tenants[0]!.slug
  await createAccount(app, slug, { identifiant: 'direction', role: 'direction' })
  const em = app.orm.em.fork({ schema: schemaFor(slug) })
  for (let i = 0; i < 120; i++) {
    const family = em.create(Family, {})
    em.create(Guardian, {
      family,
      rank: 1,
      lastName: `Famille ${String(i).padStart(3, '0')}`,
      firstName: 'Camille',
      extraPhones: [],
    })
  }
  const early = em.create(Family, {})
  em.create(Guardian, { family: early, rank: 1, lastName: 'Élie', firstName: 'Zoé', extraPhones: [] })
  await em.flush()
  const browser = await signedInBrowser(app, host(), 'direction', '/admin/connexion')
  const first = html((await browser.get('/admin/familles')).body)
  t.equal(listed(first.toString())[0], 'Zoé Élie', '"Élie" sorts with the E')
  t.equal(listed(first.toString()).length, 50)
  t.notOk(
    first.querySelector('a[href="/admin/familles/nouvelle"]'),
    'the direction reads, it does not create',
  )
  const third = html((await browser.get('/admin/familles?page=3')).body)
  t.equal(listed(third.toString()).length, 21)
  t.match(third.querySelector('.pagination__summary')?.text, '101')

  const dashboard = html((await browser.get('/admin')).body)
  const form = dashboard.querySelector('form[action="/admin/familles"]')
  t.equal(
    form?.querySelector('label[for="q"]')?.text,
    'Trouver une famille',
    'the dashboard searches families',
  )
  t.ok(form?.querySelector('input[name="q"]'))
})
