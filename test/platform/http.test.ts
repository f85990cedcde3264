import { PassThrough } from 'node:stream'
import t from 'tap'
import { build, html } from '../helpers/build.ts'

t.test('shared HTTP behaviour', async (t) => {
  const logs = new PassThrough()
  const lines: Record<string, unknown>[] = []
  logs.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line))
  })
  const { app, tenants, host } = await build(t, {
    env: { LOG_LEVEL: 'info' },
    logStream: logs,
    plugin: async (app) => {
      app.get('/test/boom', async () => {
        throw new Error('secret detail from the database layer')
      })
      // as node-postgres reports a row at fault: `detail` echoes its values
      app.get('/test/row', async () => {
        throw Object.assign(new Error('new row for relation "guardian" violates check constraint'), {
          code: '23514',
          detail: 'Failing row contains (7, Zyxwaldt, Camille, claire.zyx@example.fr).',
          table: 'guardian',
        })
      })
      app.get('/test/relay', async () => {
        throw new Error(
          'Can’t send mail - all recipients were rejected: 550 <claire.zyx@example.fr>: unknown',
        )
      })
    },
  })

  t.test('health endpoints answer on every host, even unknown ones', async (t) => {
    for (const hostHeader of [host(), 'localhost', '10.0.0.7:3000', 'inconnu.example']) {
      const live = await app.inject({ url: '/healthz', headers: { host: hostHeader } })
      t.equal(live.statusCode, 200)
      t.same(live.json(), { status: 'ok' })
      const ready = await app.inject({ url: '/readyz', headers: { host: hostHeader } })
      t.equal(ready.statusCode, 200)
      t.same(ready.json(), { status: 'ok', database: 'reachable' })
    }
  })

  t.test('a URL the router refuses gets a French page that does not echo it', async (t) => {
    for (const [url, status, title] of [
      [`/preinscription/dossier/${'a'.repeat(300)}`, 404, 'Page introuvable'],
      ['/eleves/%E0%A4%A', 400, 'Requête invalide'],
    ] as const) {
      const res = await app.inject({ url, headers: { host: host() } })
      t.equal(res.statusCode, status, url)
      t.match(res.headers['content-type'], /text\/html/)
      t.equal(res.headers['content-security-policy'], "default-src 'none'")
      t.equal(html(res.body).querySelector('h1')?.text, title)
      t.notMatch(res.body, url.slice(1, 20), 'the URL is not echoed')
    }
  })

  t.test('a failure shows a French page without any detail', async (t) => {
    const res = await app.inject({ url: '/test/boom', headers: { host: host() } })
    t.equal(res.statusCode, 500)
    t.match(res.headers['content-type'], /text\/html/)
    t.equal(html(res.body).querySelector('h1')?.text, 'Une erreur est survenue')
    t.notMatch(res.body, 'secret detail')
    t.notMatch(res.body, /at .*\.ts:\d+/)
    t.ok(
      lines.some((l) => (l.err as { message?: string })?.message === 'secret detail from the database layer'),
      'logged',
    )
  })

  t.test('a failure’s log line keeps the error, not the row’s values or an address', async (t) => {
    for (const url of ['/test/row', '/test/relay']) {
      t.equal((await app.inject({ url, headers: { host: host() } })).statusCode, 500)
    }
    const logged = lines
      .filter((l) => l.msg === 'request failed')
      .map((l) => l.err as Record<string, unknown>)
    const row = logged.find((err) => err.code === '23514')
    t.match(row, { type: 'Error', table: 'guardian', message: /violates check constraint/ })
    t.notOk(row && 'detail' in row, 'Postgres’ detail is dropped')
    t.ok(
      logged.some((err) => String(err.message).includes('550 <…>: unknown')),
      'the address is masked',
    )
    t.notMatch(JSON.stringify(lines), 'claire.zyx')
    t.notMatch(JSON.stringify(lines), 'Zyxwaldt')
  })

  t.test('an unknown page on a tenant host is a French 404 in the tenant’s layout', async (t) => {
    const res = await app.inject({ url: '/nulle-part', headers: { host: host() } })
    t.equal(res.statusCode, 404)
    const page = html(res.body)
    t.equal(page.querySelector('h1')?.text, 'Page introuvable')
    t.equal(page.querySelector('.brand__name')?.text, tenants[0]!.name)
  })

  t.test('an address probing for pages is held back: 120 unknown pages a minute', async (t) => {
    const probe = () =>
      app.inject({ url: '/wp-login.php', remoteAddress: '192.0.2.66', headers: { host: host() } })
    for (let i = 0; i < 120; i++) {
      const res = await probe()
      if (res.statusCode !== 404) t.fail(`probe ${i + 1} answered ${res.statusCode}`)
    }
    const refused = await probe()
    t.equal(refused.statusCode, 429)
    t.match(html(refused.body).querySelector('h1')?.text ?? '', /Trop de tentatives/)
    t.ok(Number(refused.headers['retry-after']) <= 60, 'until the minute ends')
    const elsewhere = await app.inject({ url: '/wp-login.php', headers: { host: host() } })
    t.equal(elsewhere.statusCode, 404, 'another address still gets the page')
  })

  t.test('log lines carry the tenant and the request id', async (t) => {
    await app.inject({ url: '/', headers: { host: host() } })
    await app.inject({ url: '/', headers: { host: 'localhost' } })
    const requestLines = lines.filter((l) => l.msg === 'request completed')
    t.ok(requestLines.some((l) => l.tenant === tenants[0]!.slug && typeof l.reqId === 'string'))
    t.ok(requestLines.some((l) => l.tenant === 'platform'))
    t.ok(requestLines.every((l) => typeof l.tenant === 'string' && l.reqId))
  })

  t.test('security headers', async (t) => {
    const res = await app.inject({ url: '/', headers: { host: host() } })
    const csp = String(res.headers['content-security-policy'])
    t.match(csp, "script-src 'self'")
    t.match(csp, "default-src 'self'")
    t.notMatch(csp, 'unsafe-inline')
    t.equal(res.headers['x-content-type-options'], 'nosniff')
    t.equal(res.headers['x-frame-options'], 'SAMEORIGIN')
    t.notOk(html(res.body).querySelector('script:not([src]), [style]'), 'no inline script or style')
  })

  t.test('the stylesheet is served with validators', async (t) => {
    const res = await app.inject({ url: '/assets/tutti.css', headers: { host: host() } })
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /text\/css/)
    t.ok(res.headers.etag)
    t.match(res.headers['cache-control'], /max-age/)
    const again = await app.inject({
      url: '/assets/tutti.css',
      headers: { host: host(), 'if-none-match': String(res.headers.etag) },
    })
    t.equal(again.statusCode, 304)
  })

  t.test('the layout: French, skip link, tenant header, Accessibilité in the footer', async (t) => {
    const page = html((await app.inject({ url: '/', headers: { host: host() } })).body)
    t.equal(page.querySelector('html')?.getAttribute('lang'), 'fr')
    t.equal(page.querySelector('a.skip-link')?.getAttribute('href'), '#contenu')
    t.ok(page.querySelector('main#contenu'))
    const footerLink = page.querySelector('footer a[href="/accessibilite"]')
    t.equal(footerLink?.text, 'Accessibilité')
    const accessibility = await app.inject({ url: '/accessibilite', headers: { host: host() } })
    t.equal(html(accessibility.body).querySelector('h1')?.text, 'Déclaration d’accessibilité')
    t.match(accessibility.body, tenants[0]!.contact.email)
  })

  t.test('language: Accept-Language, then the explicit switch, which wins', async (t) => {
    const english = await app.inject({
      url: '/',
      headers: { host: host(), 'accept-language': 'en-GB,en;q=0.9' },
    })
    t.equal(html(english.body).querySelector('html')?.getAttribute('lang'), 'en')
    t.equal(html(english.body).querySelector('h1 .lead')?.text, 'Families and pupils portal')

    const french = await app.inject({
      url: '/',
      headers: { host: host(), 'accept-language': 'de-DE,fr;q=0.5' },
    })
    t.equal(html(french.body).querySelector('html')?.getAttribute('lang'), 'fr')

    const switched = await app.inject({
      url: '/langue?lang=fr&retour=/accessibilite',
      headers: { host: host() },
    })
    t.equal(switched.statusCode, 303)
    t.equal(switched.headers.location, '/accessibilite')
    const cookie = switched.cookies.find((c) => c.name === 'lang')
    t.equal(cookie?.value, 'fr')
    t.equal(cookie?.httpOnly, true)
    const chosen = await app.inject({
      url: '/accessibilite',
      headers: { host: host(), 'accept-language': 'en', cookie: 'lang=fr' },
    })
    t.equal(html(chosen.body).querySelector('h1')?.text, 'Déclaration d’accessibilité')
    t.equal(html(chosen.body).querySelector('a.lang-switch')?.text, 'English')
  })

  t.test('the language switch never redirects off the site', async (t) => {
    for (const retour of ['//evil.example/', 'https://evil.example/', '/\\evil.example']) {
      const res = await app.inject({
        url: `/langue?lang=en&retour=${encodeURIComponent(retour)}`,
        headers: { host: host() },
      })
      t.equal(res.headers.location, '/', retour)
    }
    const bad = await app.inject({ url: '/langue?lang=de', headers: { host: host() } })
    t.equal(bad.statusCode, 400)
    t.equal(html(bad.body).querySelector('h1')?.text, 'Requête invalide')
  })
})

t.test(
  'draining for a shutdown: not ready at once, pages still served, each closing its connection',
  async (t) => {
    const { app, host } = await build(t)
    const before = await app.inject({ url: '/', headers: { host: host() } })
    t.not(before.headers.connection, 'close', 'connections are kept alive before')

    app.drain()
    const ready = await app.inject({ url: '/readyz', headers: { host: 'localhost' } })
    t.equal(ready.statusCode, 503)
    t.same(ready.json(), { status: 'stopping' })
    t.equal(
      (await app.inject({ url: '/healthz', headers: { host: 'localhost' } })).statusCode,
      200,
      'still alive',
    )
    const home = await app.inject({ url: '/', headers: { host: host() } })
    t.equal(home.statusCode, 200)
    t.equal(home.headers.connection, 'close')
  },
)
