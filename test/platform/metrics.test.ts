import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { loadConfig } from '../../src/platform/config.ts'
import { queueMail } from '../../src/platform/mail/outbox.ts'
import { schemaFor } from '../../src/platform/tenancy/registry.ts'
import { Browser, goodPassword } from '../helpers/accounts.ts'
import { build } from '../helpers/build.ts'
import { createFamily } from '../helpers/families.ts'

function get(address: AddressInfo, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: address.port, path, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        body += chunk
      })
      res.on('end', () =>
        resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }),
      )
    })
    req.on('error', reject)
    req.end()
  })
}

/** The value of the first series of a metric: `name{labels} value`. */
function seriesValue(body: string, name: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
  return line === undefined ? undefined : Number(line.split(' ').at(-1))
}

t.test('METRICS_PORT defaults to 9464; 0 serves no metrics', async (t) => {
  t.equal(loadConfig({}).metricsPort, 9464)
  t.equal(loadConfig({ METRICS_PORT: '0' }).metricsPort, 0)
  t.throws(() => loadConfig({ METRICS_PORT: 'x' }), {
    message: /METRICS_PORT must be an integer between 0 \(no metrics\) and 65535/,
  })
})

t.test(
  'GET /metrics on its own port: requests by route pattern, no tenant or id, the outbox backlog',
  async (t) => {
    const { app, host, tenants } = await build(t, { tenants: [{}, {}] })
    const address = await app.metrics.listen({ host: '127.0.0.1', port: 0 })

    const { pupil } = await createFamily(app, tenants[0]!.slug, 'famille-martin')
    const family = new Browser(app, host())
    await family.submit('/connexion', '/connexion', { identifiant: 'famille-martin', password: goodPassword })
    t.equal((await family.get(`/eleves/${pupil.id}`)).statusCode, 200)
    t.equal((await new Browser(app, host(1)).get('/connexion')).statusCode, 200)
    t.equal((await family.get('/nulle-part-4217')).statusCode, 404)

    // a mail queued an hour ago, still waiting
    const em = app.orm.em.fork({ schema: schemaFor(tenants[1]!.slug) })
    const mail = queueMail(em, tenants[1]!, 'fr', {
      to: 'famille@example.fr',
      template: 'password-reset',
      data: {
        displayName: 'Zoé Martin',
        identifiant: 'zoe.martin',
        link: 'http://localhost/mot-de-passe/nouveau?jeton=abc',
        expiresAt: '22/11/2026 à 14:30',
      },
    })
    mail.createdAt = new Date(Date.now() - 3_600_000)
    await em.flush()

    const scraped = await get(address, '/metrics')
    t.equal(scraped.status, 200)
    t.match(scraped.type, /^text\/plain/)
    const body = scraped.body
    t.match(
      body,
      /tutti_http_request_duration_seconds_count\{method="GET",route="\/eleves\/:id",status_code="200"\} 1/,
    )
    t.match(
      body,
      /tutti_http_request_duration_seconds_count\{method="POST",route="\/connexion",status_code="303"\} 1/,
    )
    t.match(body, /route="unmatched",status_code="404"/, 'an unknown URL is one label, not its path')
    for (const tenant of tenants) t.notMatch(body, tenant.slug, 'no tenant in any label')
    t.notMatch(body, `/eleves/${pupil.id}`, 'no id in any label')
    t.notMatch(body, 'nulle-part')

    t.equal(seriesValue(body, 'tutti_mail_outbox_pending'), 1)
    const age = seriesValue(body, 'tutti_mail_outbox_oldest_pending_age_seconds')!
    t.ok(age >= 3_600 && age < 3_700, `the oldest pending mail is an hour old (${age} s)`)

    t.ok(seriesValue(body, 'nodejs_eventloop_lag_p99_seconds')! >= 0, 'event-loop delay')
    t.ok(seriesValue(body, 'process_resident_memory_bytes')! > 0, 'process memory')
    if (app.config.database.kind === 'postgres') {
      t.match(body, /tutti_db_pool_connections\{state="total"\} [1-9]/)
      t.match(body, /tutti_db_pool_connections\{state="idle"\} \d/)
      t.match(body, /tutti_db_pool_waiting_requests \d+\n/)
    }

    t.equal((await get(address, '/')).status, 404, 'the metrics port serves /metrics only')
    const onPages = await app.inject({ url: '/metrics', headers: { host: host() } })
    t.equal(onPages.statusCode, 404, 'not on a tenant’s pages')
    t.equal((await app.inject({ url: '/metrics', headers: { host: 'localhost' } })).statusCode, 404)
  },
)

t.test('the metrics server closes with the app', async (t) => {
  const { app } = await build(t)
  const address = await app.metrics.listen({ host: '127.0.0.1', port: 0 })
  t.equal((await get(address, '/metrics')).status, 200)
  await app.close()
  await t.rejects(get(address, '/metrics'), { code: 'ECONNREFUSED' })
})
