import t from 'tap'
import { Browser } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { dossiers, filledForm, postForm } from '../../helpers/preregistration.ts'
import { demoTenant } from '../../helpers/reenrolment.ts'

t.test('an address creates at most 10 dossiers an hour; another address is not affected', async (t) => {
  const { app, host, tenants } = await build(t, { tenants: [demoTenant('limoges')] })
  const robot = new Browser(app, host())
  for (let i = 0; i < 10; i++) {
    const saved = await postForm(robot, '/preinscription', filledForm({ 'g1-firstName': `Claire${i}` }))
    t.equal(saved.statusCode, 303, `dossier ${i + 1} saved`)
  }
  const refused = await postForm(robot, '/preinscription', filledForm({ 'g1-firstName': 'Encore' }))
  t.equal(refused.statusCode, 429)
  t.match(html(refused.body).querySelector('h1')?.text ?? '', /Trop de tentatives/)
  t.ok(refused.headers['retry-after'], 'says when to come back')
  t.equal((await dossiers(app, tenants[0]!.slug)).length, 10, 'the 11th is not saved')

  // a family elsewhere still applies: the limit is per address
  const page = await robot.get('/preinscription')
  const csrf = html(page.body).querySelector('form.prereg-form input[name="_csrf"]')!.getAttribute('value')!
  const elsewhere = await app.inject({
    method: 'POST',
    url: '/preinscription',
    remoteAddress: '203.0.113.7',
    headers: {
      host: host(),
      cookie: robot.cookieHeader(),
      'content-type': 'application/x-www-form-urlencoded',
    },
    payload: new URLSearchParams({ _csrf: csrf, ...filledForm() }).toString(),
  })
  t.equal(elsewhere.statusCode, 303)
})

t.test('round trips are limited too, far above what a family needs', async (t) => {
  const { app, host } = await build(t, { tenants: [demoTenant('limoges')] })
  const browser = new Browser(app, host())
  const statuses: number[] = []
  for (let i = 0; i < 41; i++) {
    statuses.push(
      (await postForm(browser, '/preinscription', { applicants: '1', action: 'addApplicant' })).statusCode,
    )
  }
  t.same(statuses.slice(0, 40), Array(40).fill(200), '40 round trips in 10 minutes')
  t.equal(statuses[40], 429)
})
