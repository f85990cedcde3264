import t from 'tap'
import { Role } from '../../src/platform/auth/entities.ts'
import { signInPaths } from '../../src/platform/auth/plugin.ts'
import { type Browser, createAccount, signedInBrowser } from '../helpers/accounts.ts'
import { build, html } from '../helpers/build.ts'

/** A route's URL with every parameter given an id no row has: the guard answers before any lookup. */
const concrete = (url: string) => url.replace(/:\w+/g, '999999')

t.test('every staff route admits the roles it declares, and refuses every other role', async (t) => {
  const { app, host, tenants } = await build(t)
  const slug = tenants[0]!.slug
  const browsers = new Map<Role, Browser>()
  for (const role of Object.values(Role)) {
    await createAccount(app, slug, { identifiant: `compte-${role}`, role })
    browsers.set(role, await signedInBrowser(app, host(), `compte-${role}`, signInPaths[role]))
  }
  const tokens = new Map<Role, string>()
  for (const [role, browser] of browsers) {
    const page = html((await browser.get('/mot-de-passe')).body)
    tokens.set(role, page.querySelector('input[name="_csrf"]')!.getAttribute('value')!)
  }

  const staffRoutes = app.guardedRoutes.filter((r) => r.url.startsWith('/admin'))
  t.ok(staffRoutes.length >= 10, `${staffRoutes.length} staff routes walked`)
  for (const route of staffRoutes) {
    t.notOk(route.roles.includes('family') || route.roles.includes('teacher'), `${route.url}: staff only`)
    const url = concrete(route.url)
    for (const role of Object.values(Role)) {
      const browser = browsers.get(role)!
      const res =
        route.method === 'GET'
          ? await browser.get(url)
          : await browser.post(url, { _csrf: tokens.get(role)! })
      const what = `${role} ${route.method} ${route.url}`
      if (route.roles.includes(role)) {
        t.not(res.statusCode, 403, `${what}: admitted`)
        t.not(res.statusCode, 500, `${what}: no server error`)
      } else {
        t.equal(res.statusCode, 403, `${what}: refused`)
        t.equal(html(res.body).querySelector('h1')?.text, 'Accès refusé', `${what}: says so`)
      }
    }
    if (route.method === 'GET') {
      const visitor = await app.inject({ url, headers: { host: host() } })
      t.equal(visitor.statusCode, 303, `visitor GET ${route.url}`)
      t.match(visitor.headers.location, /^\/admin\/connexion\?retour=/)
    }
  }
})
