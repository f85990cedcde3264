import t from 'tap'
import { build, html } from '../helpers/build.ts'

t.test('host routing', async (t) => {
  const { app, tenants, host } = await build(t, {
    tenants: [
      { hosts: ['conservatoire.exemple.test'], brand: { primaryColor: '#123456' } },
      {
        establishments: [
          { code: 'nord', name: 'Site Nord' },
          { code: 'sud', name: 'Site Sud' },
        ],
      },
    ],
  })
  const [first, second] = tenants as [(typeof tenants)[0], (typeof tenants)[0]]

  t.test('a tenant host serves that conservatoire, with its name and brand', async (t) => {
    const res = await app.inject({ url: '/', headers: { host: `${host(0)}:3000` } })
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /text\/html/)
    const page = html(res.body)
    t.equal(page.querySelector('html')?.getAttribute('lang'), 'fr')
    t.match(page.querySelector('h1')?.text, first.name)
    t.equal(page.querySelector('.brand__name')?.text, first.name)
    t.ok(page.querySelector('link[href^="/theme.css?v="]'), 'links its colours, by configuration version')
    const theme = await app.inject({ url: '/theme.css', headers: { host: host(0) } })
    t.match(theme.body, '--brand:#123456')
  })

  t.test('a custom host listed in the YAML serves the same tenant', async (t) => {
    const res = await app.inject({ url: '/', headers: { host: 'conservatoire.exemple.test' } })
    t.equal(res.statusCode, 200)
    t.match(html(res.body).querySelector('h1')?.text, first.name)
  })

  t.test('the bare host shows the Site selector with every tenant and establishments', async (t) => {
    const res = await app.inject({ url: '/', headers: { host: 'localhost:3000' } })
    t.equal(res.statusCode, 200)
    const page = html(res.body)
    t.equal(page.querySelector('h1')?.text, 'Accès aux portails')
    t.equal(page.querySelector('label[for="site"]')?.text, 'Site')
    const values = page.querySelectorAll('#site option').map((o) => o.getAttribute('value'))
    t.ok(values.includes(first.slug), 'single-site tenant listed by slug')
    t.ok(values.includes(`${second.slug}/nord`) && values.includes(`${second.slug}/sud`), 'sites listed')
    t.equal(page.querySelector(`optgroup[label="${second.name}"]`)?.querySelectorAll('option').length, 2)
  })

  t.test('choosing a site sends the person to its tenant host, port kept', async (t) => {
    const res = await app.inject({
      url: `/portail?site=${second.slug}/sud`,
      headers: { host: 'localhost:3000' },
    })
    t.equal(res.statusCode, 303)
    t.equal(res.headers.location, `http://${second.slug}.localhost:3000/?site=sud`)
  })

  t.test('choosing nothing or an unknown site keeps the person on the selector with a message', async (t) => {
    for (const site of ['', 'inconnu', `${second.slug}/ouest`]) {
      const res = await app.inject({ url: `/portail?site=${site}`, headers: { host: 'localhost' } })
      t.equal(res.statusCode, 400)
      const page = html(res.body)
      t.equal(page.querySelector('#site-error')?.text, 'Choisissez un site dans la liste.')
      t.equal(page.querySelector('#site')?.getAttribute('aria-invalid'), 'true')
    }
  })

  t.test('an unknown host gets a French 404 page, never a default tenant', async (t) => {
    for (const hostHeader of ['inconnu.localhost', 'exemple.org', 'localhost.evil.test']) {
      const res = await app.inject({ url: '/', headers: { host: hostHeader } })
      t.equal(res.statusCode, 404, hostHeader)
      const page = html(res.body)
      t.equal(page.querySelector('h1')?.text, 'Page introuvable')
      t.match(res.body, 'Aucun conservatoire ne correspond à cette adresse')
      t.notMatch(res.body, first.name)
      t.equal(
        page.querySelector('main a.button')?.getAttribute('href'),
        'http://localhost/',
        'back to the Site selector',
      )
    }
    const css = await app.inject({ url: '/assets/tutti.css', headers: { host: 'inconnu.localhost' } })
    t.equal(css.statusCode, 200, 'the error page keeps its stylesheet')
  })

  t.test('a malformed Host gets the same 404 page', async (t) => {
    for (const hostHeader of [
      'lim onest.localhost',
      '../etc',
      'a..localhost',
      `${'x'.repeat(300)}.localhost`,
      'localhost:abc',
      '-x.localhost',
    ]) {
      const res = await app.inject({ url: '/', headers: { host: hostHeader } })
      t.equal(res.statusCode, 404, JSON.stringify(hostHeader))
      t.match(res.body, 'Aucun conservatoire')
    }
  })

  t.test('a tenant route does not exist on the bare host, nor platform routes on a tenant', async (t) => {
    t.equal((await app.inject({ url: '/theme.css', headers: { host: 'localhost' } })).statusCode, 404)
    t.equal(
      (await app.inject({ url: `/portail?site=${first.slug}`, headers: { host: host(0) } })).statusCode,
      404,
    )
  })
})

t.test('a disabled tenant shows that its portal is closed', async (t) => {
  const { app, host, tenants } = await build(t)
  const { setTenantStatus } = await import('../../src/platform/tenancy/provisioning.ts')
  await setTenantStatus(app.orm, tenants[0]!.slug, 'disabled')
  app.registry.applyStatuses([{ slug: tenants[0]!.slug, status: 'disabled' }])
  const res = await app.inject({ url: '/', headers: { host: host() } })
  t.equal(res.statusCode, 503)
  t.equal(html(res.body).querySelector('h1')?.text, 'Portail indisponible')
  const selector = await app.inject({ url: '/', headers: { host: 'localhost' } })
  t.notMatch(selector.body, tenants[0]!.slug, 'no longer offered by the Site selector')
})

t.test('a tenant file without a provisioned schema is not served', async (t) => {
  const { app, host } = await build(t, { provision: false })
  const res = await app.inject({ url: '/', headers: { host: host() } })
  t.equal(res.statusCode, 404)
})
