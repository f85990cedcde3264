import { PassThrough } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { Browser, createAccount, goodPassword } from '../../helpers/accounts.ts'
import { build, html, uniqueSlug } from '../../helpers/build.ts'
import { needsRedis, redisProxy, redisUrl } from '../../helpers/redis.ts'

/**
 * Two processes of one deployment: two apps serving the same conservatoire. On Postgres they share
 * the database, so only the first provisions it; PGlite gives each its own, each provisioned.
 */
async function twoApps(t: { teardown(fn: () => unknown): void }, env: NodeJS.ProcessEnv) {
  const slug = uniqueSlug()
  const shared = Boolean(process.env.DATABASE_URL)
  const a = await build(t, { tenants: [{ slug }], env })
  const b = await build(t, { tenants: [{ slug }], env, provision: !shared })
  return { a, b }
}

const signIn = (browser: Browser, password = 'x') =>
  browser.submit('/connexion', '/connexion', { identifiant: 'famille-cible', password })

t.test('with REDIS_URL, every process sees the failures counted by the others', needsRedis, async (t) => {
  const { a, b } = await twoApps(t, { REDIS_URL: redisUrl })
  const onA = new Browser(a.app, a.host(), '203.0.113.9')
  for (let i = 0; i < 10; i++) t.equal((await signIn(onA)).statusCode, 401, `failure ${i + 1} on the first`)
  const refused = await signIn(new Browser(b.app, b.host(), '203.0.113.9'))
  t.equal(refused.statusCode, 429, 'the 11th, on the second process, is held back')
  t.match(html(refused.body).querySelector('h1')?.text ?? '', /Trop de tentatives/)
  t.ok(Number(refused.headers['retry-after']) > 800, 'until the 15-minute window ends')

  // the limits counting every request are shared too: "Mot de passe perdu", 10 per address
  const lost = (browser: Browser, i: number) =>
    browser.submit('/mot-de-passe-perdu', '/mot-de-passe-perdu', { identifiant: `inconnu-${i}` })
  for (let i = 0; i < 10; i++) {
    const app = i % 2 ? b : a
    const res = await lost(new Browser(app.app, app.host(), '198.51.100.20'), i)
    t.not(res.statusCode, 429, `request ${i + 1}, on alternating processes`)
  }
  t.equal((await lost(new Browser(a.app, a.host(), '198.51.100.20'), 10)).statusCode, 429)
})

t.test('without REDIS_URL, each process counts in its own memory', async (t) => {
  const { a, b } = await twoApps(t, {})
  const onA = new Browser(a.app, a.host(), '203.0.113.9')
  for (let i = 0; i < 10; i++) await signIn(onA)
  t.equal((await signIn(onA)).statusCode, 429, 'the first process holds the address back')
  t.equal((await signIn(new Browser(b.app, b.host(), '203.0.113.9'))).statusCode, 401, 'the second does not')
})

t.test(
  'when Redis goes away, sign-in keeps answering and limits count per process',
  needsRedis,
  async (t) => {
    const proxy = await redisProxy()
    t.teardown(proxy.cut)
    const logs = new PassThrough()
    const warnings: string[] = []
    const notes: string[] = []
    logs.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        const entry = JSON.parse(line)
        if (entry.level === 40) warnings.push(entry.msg)
        if (entry.level === 30 && /Redis/.test(entry.msg)) notes.push(entry.msg)
      }
    })
    const { app, host, tenants } = await build(t, {
      env: { REDIS_URL: proxy.url, LOG_LEVEL: 'info' },
      logStream: logs,
    })
    await createAccount(app, tenants[0]!.slug, { identifiant: 'famille-cible' })
    const browser = new Browser(app, host(), '203.0.113.9')
    for (let i = 0; i < 3; i++) t.equal((await signIn(browser)).statusCode, 401, 'counted in Redis')
    t.same(warnings, [], 'nothing to say while Redis answers')

    await proxy.cut()
    let started = performance.now()
    t.equal((await signIn(browser)).statusCode, 401, 'a wrong password is still refused as such')
    t.ok(performance.now() - started < 2_000, 'at once')
    started = performance.now()
    const owner = await signIn(new Browser(app, host(), '198.51.100.7'), goodPassword)
    t.equal(owner.statusCode, 303, 'the owner signs in')
    t.ok(performance.now() - started < 2_000, 'at once')

    // the counts start afresh in this process's memory, and hold an address back all the same
    let last = await signIn(browser)
    for (let i = 1; i < 11 && last.statusCode === 401; i++) last = await signIn(browser)
    t.equal(last.statusCode, 429, 'the address is held back, per process')
    t.equal(
      warnings.filter((message) => /Redis unreachable/.test(message)).length,
      1,
      'the outage is logged once, not per request',
    )

    await proxy.resume()
    const resumed = Date.now()
    while (notes.length === 0 && Date.now() - resumed < 5_000) await sleep(100)
    t.match(notes, [/Redis reachable again/], 'its return is logged once too')
    t.equal((await signIn(new Browser(app, host(), '192.0.2.200'))).statusCode, 401, 'sign-in answers')
    t.equal(warnings.filter((message) => /Redis/.test(message)).length, 1, 'no further warning')
  },
)

t.test('a Redis that does not answer does not keep the server from starting', async (t) => {
  const proxy = await redisProxy()
  await proxy.cut()
  const logs = new PassThrough()
  const warnings: string[] = []
  logs.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      const entry = JSON.parse(line)
      if (entry.level === 40) warnings.push(entry.msg)
    }
  })
  const started = performance.now()
  const { app, host } = await build(t, { env: { REDIS_URL: proxy.url, LOG_LEVEL: 'warn' }, logStream: logs })
  t.ok(performance.now() - started < 10_000, 'it starts')
  t.equal((await signIn(new Browser(app, host(), '203.0.113.9'))).statusCode, 401, 'sign-in answers')
  t.match(warnings, [/Redis unreachable/], 'and says the limits count per process')
})
