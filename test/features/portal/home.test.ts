import t from 'tap'
import { build, html } from '../../helpers/build.ts'

t.test('the tenant home shows its name, texts, open periods and contact', async (t) => {
  const { app, host, tenants } = await build(t, {
    tenants: [
      {
        texts: {
          home: 'Bienvenue sur le portail.\n\nVous pouvez :\n- consulter vos données ;\n- réinscrire vos enfants.',
        },
        contact: { email: 'accueil@exemple.fr', phone: '05 55 00 00 00' },
        periods: {
          reenrolment: { opens: 'today-10', closes: '2099-06-11', schoolYear: '2099-2100' },
          preregistration: { opens: '2000-01-01', closes: '2000-02-01' },
        },
      },
    ],
  })
  const res = await app.inject({ url: '/', headers: { host: host() } })
  const page = html(res.body)
  t.equal(page.querySelector('h1')?.text, `${tenants[0]!.name}Portail des familles et des élèves`)
  t.same(
    page.querySelectorAll('.prose p').map((p) => p.text),
    ['Bienvenue sur le portail.', 'Vous pouvez :'],
  )
  t.same(
    page.querySelectorAll('.prose li').map((li) => li.text),
    ['consulter vos données ;', 'réinscrire vos enfants.'],
  )
  const periods = page.querySelector('[aria-labelledby="periods-title"]')
  t.equal(periods?.querySelector('li')?.text, 'Réinscriptions 2099-2100 : jusqu’au 11/06/2099 à 23:59')
  t.notMatch(periods?.text, 'Pré-inscriptions', 'a closed period is not announced')
  t.ok(page.querySelector('a[href="mailto:accueil@exemple.fr"]'))
  t.ok(page.querySelector('a[href="tel:0555000000"]'))
  t.notOk(page.querySelector('[aria-labelledby="sites-title"]'), 'one site: no site list')
})

t.test('the home offers no entry that does not work yet', async (t) => {
  const { app, host } = await build(t)
  const page = html((await app.inject({ url: '/', headers: { host: host() } })).body)
  for (const link of page.querySelectorAll('main a[href^="/"]')) {
    const href = link.getAttribute('href')!
    const res = await app.inject({ url: href, headers: { host: host() } })
    t.equal(res.statusCode, 200, href)
  }
  for (const link of page.querySelectorAll('header a[href^="/"], footer a[href^="/"]')) {
    const href = link.getAttribute('href')!
    const res = await app.inject({ url: href, headers: { host: host() } })
    t.ok(res.statusCode < 400, href)
  }
})
