import t from 'tap'
import { Browser, createAccount, goodPassword } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { createFamily } from '../../helpers/families.ts'
import { formValues } from '../../helpers/forms.ts'

t.test('the staff review is for staff and admins only', async (t) => {
  const { app, host, tenants } = await build(t, { tenants: [{}, {}] })
  const slug = tenants[0]!.slug
  const { guardian } = await createFamily(app, slug, 'famille-martin')
  await createAccount(app, slug, { identifiant: 'prof-durand', role: 'teacher' })
  await createAccount(app, slug, { identifiant: 'secretariat', role: 'secretariat' })
  await createAccount(app, slug, { identifiant: 'direction', role: 'admin' })
  await createAccount(app, tenants[1]!.slug, { identifiant: 'secretariat-b', role: 'secretariat' })

  const family = new Browser(app, host())
  await family.submit('/connexion', '/connexion', { identifiant: 'famille-martin', password: goodPassword })
  const action = `/famille/responsables/${guardian.id}`
  const form = await family.get(action)
  await family.submit(action, action, { ...formValues(form.body, action), city: 'Lyon' })
  const urls = ['/admin/changements', '/admin/changements/1']

  await t.test('a visitor is sent to the staff sign-in', async (t) => {
    for (const url of urls) {
      const res = await app.inject({ url, headers: { host: host() } })
      t.equal(res.statusCode, 303, url)
      t.equal(res.headers.location, `/admin/connexion?retour=${encodeURIComponent(url)}`)
    }
  })

  await t.test('a family or a teacher is refused (403), and cannot decide', async (t) => {
    const teacher = new Browser(app, host())
    await teacher.submit('/enseignant/connexion', '/enseignant/connexion', {
      identifiant: 'prof-durand',
      password: goodPassword,
    })
    for (const browser of [family, teacher]) {
      for (const url of urls) {
        const res = await browser.get(url)
        t.equal(res.statusCode, 403, url)
        t.equal(html(res.body).querySelector('h1')?.text, 'Accès refusé')
      }
      const token = html((await browser.get('/mot-de-passe')).body)
        .querySelector('input[name="_csrf"]')!
        .getAttribute('value')!
      const post = await browser.post('/admin/changements/1', { _csrf: token, action: 'validate-all' })
      t.equal(post.statusCode, 403)
    }
    t.notMatch(html((await family.get('/famille')).body).querySelector('header')?.text, 'Modifications')
  })

  await t.test('staff and admins see the queue', async (t) => {
    for (const identifiant of ['secretariat', 'direction']) {
      const browser = new Browser(app, host())
      await browser.submit('/admin/connexion', '/admin/connexion', { identifiant, password: goodPassword })
      const page = html((await browser.get('/admin/changements')).body)
      t.equal(page.querySelectorAll('tbody tr').length, 1, identifiant)
      t.equal(page.querySelector('header nav a[aria-current="page"]')?.text, 'Modifications')
      t.equal((await browser.get('/admin/changements/999999')).statusCode, 404)
    }
  })

  await t.test('tenant B’s staff never see tenant A’s requests', async (t) => {
    const browser = new Browser(app, host(1))
    await browser.submit('/admin/connexion', '/admin/connexion', {
      identifiant: 'secretariat-b',
      password: goodPassword,
    })
    const page = await browser.get('/admin/changements')
    t.equal(html(page.body).querySelectorAll('tbody tr').length, 0)
    t.notMatch(page.body, 'Martin')
    t.equal((await browser.get('/admin/changements/1')).statusCode, 404)
  })
})
