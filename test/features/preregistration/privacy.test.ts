import { PassThrough } from 'node:stream'
import t from 'tap'
import { Browser } from '../../helpers/accounts.ts'
import { build } from '../../helpers/build.ts'
import { dossierLink, filledForm, nthMail, postForm } from '../../helpers/preregistration.ts'
import { demoTenant } from '../../helpers/reenrolment.ts'
import { startInbox } from '../../helpers/smtp.ts'

t.test('a private link never reaches the logs, the cache or another site', async (t) => {
  const inbox = await startInbox(t)
  const logs: string[] = []
  const logStream = new PassThrough()
  logStream.on('data', (chunk: Buffer) => logs.push(chunk.toString('utf8')))
  const { app, host } = await build(t, {
    tenants: [demoTenant('limoges')],
    env: { SMTP_URL: inbox.url, LOG_LEVEL: 'info' },
    logStream,
  })
  const family = new Browser(app, host())
  await postForm(family, '/preinscription', filledForm())
  const { token, path } = dossierLink(await nthMail(inbox, /dossier enregistré/))
  const page = await family.get(path)
  t.equal(page.statusCode, 200)
  t.equal(page.headers['cache-control'], 'private, no-store', 'not kept by a shared cache')
  t.equal(page.headers['referrer-policy'], 'no-referrer', 'a link followed from the page does not carry it')
  await family.get(`/mot-de-passe/nouveau?jeton=${'x'.repeat(43)}`)
  const logged = logs.join('')
  t.match(logged, /"url":"\/preinscription\/dossier\/…"/, 'the request is logged without its token')
  t.match(logged, /"url":"\/mot-de-passe\/nouveau\?jeton=…"/)
  t.notMatch(logged, token)
  t.notMatch(logged, 'x'.repeat(43))
})
