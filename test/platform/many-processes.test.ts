import { createServer, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'
import t from 'tap'
import { buildApp } from '../../src/app.ts'
import { MailStatus, OutboxMail } from '../../src/platform/mail/entities.ts'
import { queueMail } from '../../src/platform/mail/outbox.ts'
import { schemaFor } from '../../src/platform/tenancy/registry.ts'
import { Browser, goodPassword } from '../helpers/accounts.ts'
import { build, html } from '../helpers/build.ts'
import { createFamily } from '../helpers/families.ts'
import { errorsIn, get, prepareServer, startServer } from '../helpers/server-process.ts'

/*
 * Pods share nothing but Postgres: sessions and the mail outbox live in the tenant's schema, so
 * what one process did is seen by the others. PGlite is one process's database: these need
 * DATABASE_URL.
 */
const onPostgres = {
  skip: process.env.DATABASE_URL
    ? false
    : 'needs DATABASE_URL: a PGlite database is opened by one process only',
}

t.setTimeout(120_000)

t.test(
  'a session opened through one process is honoured by another, and ends there when it ends',
  onPostgres,
  async (t) => {
    // production, as pods run: the same cookie names in both processes
    const { app, config, tenants, host } = await build(t, { env: { NODE_ENV: 'production' } })
    const slug = tenants[0]!.slug
    await createFamily(app, slug, 'famille-martin')
    const other = await startServer(t, { config, slug, host: host() })

    const family = new Browser(app, host())
    const signedIn = await family.submit('/connexion', '/connexion', {
      identifiant: 'famille-martin',
      password: goodPassword,
    })
    t.equal(signedIn.statusCode, 303)
    // the cookies of the sign-in answer, sent again once the session has ended
    const session = signedInCookies(signedIn.cookies)
    const famille = await get(other, '/famille', host(), session)
    t.equal(famille.status, 200, 'the other process knows the session')
    t.equal(html(famille.body).querySelector('h1')?.text, 'Famille')

    t.equal((await family.submit('/accueil', '/deconnexion', {})).statusCode, 303)
    const after = await get(other, '/famille', host(), session)
    t.equal(after.status, 303, 'signed out through one process, refused by the other')
    t.match(after.headers.location, /^\/connexion/)
    t.same(errorsIn(other), [])
  },
)

/** The Cookie header a browser would send with the cookies of the sign-in answer. */
function signedInCookies(cookies: { name: string; value: string }[]): string {
  return cookies.map((c) => `${c.name}=${c.value}`).join('; ')
}

t.test('a mail claimed by a process that died is sent later by another, once', onPostgres, async (t) => {
  // a relay that accepts the connection and never answers: the first process's send hangs, its row locked
  const sockets = new Set<Socket>()
  const silent = createServer((socket) => sockets.add(socket))
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    for (const socket of sockets) socket.destroy()
    silent.close()
  })
  const received: string[] = []
  const relay = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      let raw = ''
      stream.on('data', (chunk: Buffer) => {
        raw += chunk.toString('utf8')
      })
      stream.on('end', () => {
        received.push(/^Message-ID: (.+)$/im.exec(raw)?.[1]?.trim() ?? '')
        callback()
      })
    },
  })
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => relay.close(() => resolve())))

  const prepared = await prepareServer(t, async (app, slug) => {
    const tenant = app.registry.get(slug)!.config
    const em = app.orm.em.fork({ schema: schemaFor(slug) })
    const mail = queueMail(em, tenant, 'fr', {
      to: 'famille@example.fr',
      template: 'password-reset',
      data: {
        displayName: 'Zoé Martin',
        identifiant: 'zoe.martin',
        link: 'http://localhost/mot-de-passe/nouveau?jeton=abc',
        expiresAt: '22/11/2026 à 14:30',
      },
    })
    await em.flush()
    return mail.uuid
  })
  const uuid = prepared.seeded

  const first = await startServer(t, prepared, {
    SMTP_URL: `smtp://127.0.0.1:${(silent.address() as AddressInfo).port}`,
  })
  // the worker's first sweep claims the mail and connects to the relay, which says nothing
  const deadline = Date.now() + 10_000
  while (sockets.size === 0) {
    if (Date.now() > deadline) throw new Error('the first process never tried to send')
    await sleep(20)
  }
  first.child.kill('SIGKILL')
  t.same(await first.exited, { code: null, signal: 'SIGKILL' })

  // Postgres rolls the dead connection's transaction back: the row is pending and unlocked again
  const second = await buildApp({
    ...prepared.config,
    smtpUrl: `smtp://127.0.0.1:${(relay.server.address() as AddressInfo).port}`,
  })
  t.teardown(() => second.close())
  await second.ready()
  const em = () => second.orm.em.fork({ schema: schemaFor(prepared.slug) })
  const until = Date.now() + 15_000
  while ((await em().findOneOrFail(OutboxMail, { uuid })).status !== MailStatus.sent) {
    if (Date.now() > until) throw new Error('the mail was never sent by the second process')
    await sleep(50)
  }
  await sleep(300)
  t.same(received, [`<${uuid}@localhost>`], 'sent once, by the second process')
  const row = await em().findOneOrFail(OutboxMail, { uuid })
  t.equal(row.attempts, 1, 'the dead process’s attempt was never committed')
})
