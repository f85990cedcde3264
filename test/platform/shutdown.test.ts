import { type AddressInfo, createServer, type Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import autocannon from 'autocannon'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { MailStatus, OutboxMail } from '../../src/platform/mail/entities.ts'
import { schemaFor } from '../../src/platform/tenancy/registry.ts'
import { Browser, goodPassword } from '../helpers/accounts.ts'
import { html } from '../helpers/build.ts'
import { createFamily } from '../helpers/families.ts'
import {
  cookiesOf,
  errorsIn,
  freePort,
  get,
  prepareServer,
  type Response,
  send,
  startServer,
  withOrm,
} from '../helpers/server-process.ts'

/** A family with its pupil, signed in: the cookies its browser sends. */
async function signedInFamily(app: FastifyInstance, slug: string): Promise<string> {
  await createFamily(app, slug, 'famille-martin')
  const browser = new Browser(app, `${slug}.localhost`)
  const res = await browser.submit('/connexion', '/connexion', {
    identifiant: 'famille-martin',
    password: goodPassword,
  })
  if (res.statusCode !== 303) throw new Error(`sign-in failed: ${res.statusCode}`)
  return browser.cookieHeader()
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`waited in vain for ${what}`)
    await sleep(20)
  }
}

// three server processes, one after the other: more than tap's 120 s per file on a busy machine
t.setTimeout(240_000)

// one database for the three servers, run one after the other (PGlite allows one process at a time)
const prepared = await prepareServer(t, signedInFamily)

t.test('after SIGTERM, /readyz answers 503 at once while pages are served through the grace', async (t) => {
  const metricsPort = await freePort()
  const server = await startServer(t, prepared, {
    SHUTDOWN_GRACE_SECONDS: '3',
    METRICS_PORT: String(metricsPort),
  })
  const metrics = { ...server, port: metricsPort }
  const cookie = prepared.seeded
  t.equal((await get(server, '/famille', prepared.host, cookie)).status, 200, 'signed in before')
  const scraped = await get(metrics, '/metrics', 'localhost')
  t.equal(scraped.status, 200, 'the metrics are served on their own port')
  t.match(
    scraped.body,
    'tutti_http_request_duration_seconds_count{method="GET",route="/famille",status_code="200"} 1',
  )

  const signalled = performance.now()
  server.child.kill('SIGTERM')
  let readiness: Response | undefined
  await waitFor('a 503', async () => {
    readiness = await get(server, '/readyz', 'localhost')
    return readiness.status === 503
  })
  t.ok(performance.now() - signalled < 1_000, 'not ready within a second of the signal')
  t.same(JSON.parse(readiness!.body), { status: 'stopping' })

  const home = await get(server, '/', prepared.host)
  t.equal(home.status, 200, 'the home page is still served')
  t.match(html(home.body).querySelector('h1')?.text, `Conservatoire ${prepared.slug}`)
  const famille = await get(server, '/famille', prepared.host, cookie)
  t.equal(famille.status, 200, 'a signed-in page too')
  t.equal(html(famille.body).querySelector('h1')?.text, 'Famille')
  t.equal((await get(metrics, '/metrics', 'localhost')).status, 200, 'and the metrics')
  t.ok(performance.now() - signalled < 3_000, 'all of it during the grace')

  const { code } = await server.exited
  t.equal(code, 0, 'a clean exit')
  t.ok(performance.now() - signalled >= 2_900, 'after the whole grace')
  await t.rejects(
    get(metrics, '/metrics', 'localhost'),
    { code: 'ECONNREFUSED' },
    'the metrics port closed too',
  )
  t.same(errorsIn(server), [])
})

t.test(
  'under load, a SIGTERM fails no request: every one is answered 200, then the process exits 0',
  async (t) => {
    const server = await startServer(t, prepared, { SHUTDOWN_GRACE_SECONDS: '1' })
    const statuses = { before: new Map<number, number>(), after: new Map<number, number>() }
    let signalled = false
    const instance = autocannon({
      url: `http://127.0.0.1:${server.port}/famille`,
      connections: 20,
      duration: 20,
      timeout: 5,
      headers: { host: prepared.host, cookie: prepared.seeded },
    })
    instance.on('response', (_client: unknown, status: number) => {
      const counts = signalled ? statuses.after : statuses.before
      counts.set(status, (counts.get(status) ?? 0) + 1)
    })
    // once the server is gone, autocannon would reconnect in a loop until its duration ends
    void server.exited.then(() => instance.stop())

    await sleep(1_500)
    signalled = true
    server.child.kill('SIGTERM')
    const { code } = await server.exited
    await instance

    t.ok((statuses.before.get(200) ?? 0) > 0, 'the family page was served before the signal')
    t.ok((statuses.after.get(200) ?? 0) > 0, 'and after it, during the grace')
    const failed = [...statuses.before, ...statuses.after].filter(([status]) => status !== 200)
    t.same(failed, [], 'no other status, no 5xx')
    t.equal(code, 0, 'a clean exit')
    t.same(errorsIn(server), [], 'no error logged (no request found the database closed)')
  },
)

t.test(
  'an SMTP relay that never answers holds the shutdown a bounded time, and the mail stays queued',
  async (t) => {
    // a relay that greets, then never answers: only nodemailer's 30 s socket timeout would end the send
    const sockets = new Set<Socket>()
    const relay = createServer((socket) => {
      sockets.add(socket)
      socket.write('220 relay.example ESMTP\r\n')
    })
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve))
    t.teardown(() => {
      for (const socket of sockets) socket.destroy()
      relay.close()
    })
    const server = await startServer(t, prepared, {
      SHUTDOWN_GRACE_SECONDS: '1',
      SMTP_URL: `smtp://127.0.0.1:${(relay.address() as AddressInfo).port}`,
    })
    // a mail queued now, by a family who lost its password: the worker sends it at once
    const form = await get(server, '/mot-de-passe-perdu', prepared.host)
    const token = html(form.body)
      .querySelector('form[action="/mot-de-passe-perdu"] input[name="_csrf"]')
      ?.getAttribute('value')
    const asked = await send(server, {
      method: 'POST',
      path: '/mot-de-passe-perdu',
      host: prepared.host,
      cookie: cookiesOf(form),
      form: { _csrf: token ?? '', identifiant: 'famille-martin', email: 'famille-martin@example.fr' },
    })
    t.equal(asked.status, 200)
    await waitFor('the worker sending to the relay', () => sockets.size > 0)

    const signalled = performance.now()
    server.child.kill('SIGTERM')
    const { code } = await server.exited
    const took = performance.now() - signalled
    t.equal(code, 0, 'a clean exit')
    t.ok(
      took < 1_000 + 5_000 + 4_000,
      `the grace, the worker's 5 s wait and little more (${Math.round(took)} ms)`,
    )
    t.ok(
      server.logs.some(
        (line) => line.msg === 'the mail relay did not answer: the mail being sent stays in the outbox',
      ),
      'the abandoned send is logged',
    )
    t.same(errorsIn(server), [])

    const mails = await withOrm(prepared, (orm) =>
      orm.em.fork({ schema: schemaFor(prepared.slug) }).find(OutboxMail, {}),
    )
    t.same(
      mails.map((mail) => [mail.recipient, mail.status, mail.attempts, mail.lastError]),
      [['famille-martin@example.fr', MailStatus.pending, 0, null]],
      'still queued for the next process, the abandoned send not counted as an attempt',
    )
  },
)
