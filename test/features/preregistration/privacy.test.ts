import { PassThrough } from 'node:stream'
import t from 'tap'
import { Browser, goodPassword } from '../../helpers/accounts.ts'
import { build } from '../../helpers/build.ts'
import { createFamily } from '../../helpers/families.ts'
import { formValues } from '../../helpers/forms.ts'
import { dossierLink, filledForm, nthMail, postForm } from '../../helpers/preregistration.ts'
import { demoTenant } from '../../helpers/reenrolment.ts'
import { linkIn, startInbox } from '../../helpers/smtp.ts'

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

t.test(
  'a family’s whole visit logs JSON lines with tenant and request id, and nothing personal',
  async (t) => {
    const inbox = await startInbox(t)
    const logStream = new PassThrough()
    const logs: string[] = []
    logStream.on('data', (chunk: Buffer) => logs.push(chunk.toString('utf8')))
    const { app, host, tenants } = await build(t, {
      tenants: [demoTenant('limoges')],
      env: { SMTP_URL: inbox.url, LOG_LEVEL: 'debug' },
      logStream,
    })
    const slug = tenants[0]!.slug
    const { guardian } = await createFamily(app, slug, 'famille-zyxwaldt', 'Zyxwaldt')
    const secrets = new Set<string>([
      'famille-zyxwaldt',
      'famille-zyxwaldt@example.fr',
      'Zyxwaldt',
      goodPassword,
    ])

    // a wrong password, then the right one
    const family = new Browser(app, host())
    const wrong = 'ce n’est pas le bon mot de passe'
    secrets.add(wrong)
    await family.submit('/connexion', '/connexion', { identifiant: 'famille-zyxwaldt', password: wrong })
    const signedIn = await family.submit('/connexion', '/connexion', {
      identifiant: 'famille-zyxwaldt',
      password: goodPassword,
    })
    t.equal(signedIn.statusCode, 303)
    for (const value of family.cookies.values()) secrets.add(value)

    // a guardian change goes to the sas
    const action = `/famille/responsables/${guardian.id}`
    const form = formValues((await family.get('/famille')).body, action)
    const changed = await family.submit('/famille', action, {
      ...form,
      email: 'nouvelle-adresse-zyx@example.fr',
      phoneMobile: '06 98 76 54 32',
    })
    t.ok(changed.statusCode < 400, `the change is accepted (${changed.statusCode})`)
    secrets.add('nouvelle-adresse-zyx@example.fr')
    secrets.add('06 98 76 54 32')

    // a lost password: the mailed link, then a new password
    await new Browser(app, host()).submit('/mot-de-passe-perdu', '/mot-de-passe-perdu', {
      identifiant: 'famille-zyxwaldt',
      email: 'famille-zyxwaldt@example.fr',
    })
    const reset = linkIn(
      await inbox.waitFor((m) => /mot de passe/.test(m.subject ?? '')),
      '/mot-de-passe/nouveau',
    )
    const jeton = reset.searchParams.get('jeton')!
    secrets.add(jeton)
    const newPassword = 'une toute nouvelle phrase'
    secrets.add(newPassword)
    const stranger = new Browser(app, host())
    const done = await stranger.submit(reset.pathname + reset.search, '/mot-de-passe/nouveau', {
      jeton,
      password: newPassword,
      confirmation: newPassword,
    })
    t.equal(done.statusCode, 200)

    // a pré-inscription and its dossier link
    const applicant = new Browser(app, host())
    await postForm(applicant, '/preinscription', filledForm())
    const { token, path } = dossierLink(await nthMail(inbox, /dossier enregistré/))
    t.equal((await applicant.get(path)).statusCode, 200)
    secrets.add(token)
    for (const value of applicant.cookies.values()) secrets.add(value)
    for (const value of ['claire.durand@example.fr', 'paul.durand@example.fr', 'Durand', '0612345678'])
      secrets.add(value)

    // the worker's lines come after the mails are marked sent
    await inbox.waitFor(() => inbox.messages.length >= 3)
    await new Promise((resolve) => setTimeout(resolve, 300))

    const logged = logs.join('')
    for (const secret of secrets) t.notOk(logged.includes(secret), `${secret.slice(0, 12)}… is not logged`)
    t.notMatch(logged, /[\w.+-]+@[\w-]+\.[\w.]+/, 'no e-mail address at all')

    const lines = logged.trim().split('\n')
    t.ok(lines.length > 20, `the visit was logged (${lines.length} lines)`)
    for (const line of lines) {
      const entry = JSON.parse(line) as Record<string, unknown>
      t.equal(entry.tenant, slug, `${entry.msg}: the tenant`)
      if (entry.req || entry.res) t.ok(entry.reqId, `${entry.msg}: the request id`)
    }
    t.ok(
      lines.some((line) => JSON.parse(line).msg === 'mail sent'),
      'the worker’s lines are there too',
    )
  },
)
