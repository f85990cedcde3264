import t from 'tap'
import type { OutboxMail } from '../../src/platform/mail/entities.ts'
import { queueMail } from '../../src/platform/mail/outbox.ts'
import { linkParts } from '../../src/platform/mail/outbox-page.ts'
import { schemaFor } from '../../src/platform/tenancy/registry.ts'
import { build, html } from '../helpers/build.ts'

const link = 'http://demo.localhost:3000/mot-de-passe/nouveau?jeton=abc'

t.test('the text part’s links are cut out, without the punctuation that ends a sentence', async (t) => {
  t.same(linkParts(`Ouvrez ${link}.\nOu voyez (https://example.fr/aide).`), [
    { text: 'Ouvrez ' },
    { href: link },
    { text: '.\nOu voyez (' },
    { href: 'https://example.fr/aide' },
    { text: ').' },
  ])
  t.same(linkParts('javascript:alert(1) et rien d’autre'), [{ text: 'javascript:alert(1) et rien d’autre' }])
})

t.test('without SMTP_URL, /_outbox on the platform host shows every tenant’s mail', async (t) => {
  const { app, tenants, host } = await build(t, { tenants: [{}, {}] })
  const queued: OutboxMail[] = []
  for (const tenant of tenants) {
    const em = app.orm.em.fork({ schema: schemaFor(tenant.slug) })
    queued.push(
      queueMail(em, tenant, 'fr', {
        to: `famille@${tenant.slug}.example.fr`,
        template: 'invitation',
        data: {
          displayName: 'Léa <Durand>',
          identifiant: 'lea.durand',
          link,
          expiresAt: '29/11/2026 à 10:00',
        },
      }),
    )
    await em.flush()
  }

  const list = await app.inject({ url: '/_outbox', headers: { host: 'localhost' } })
  t.equal(list.statusCode, 200)
  t.match(list.headers['content-type'], /text\/html/)
  const rows = html(list.body).querySelectorAll('table.data tbody tr')
  t.equal(rows.length, 2)
  for (const [i, tenant] of tenants.entries()) {
    const row = rows.find((r) => r.text.includes(tenant.name))
    t.ok(row, `${tenant.name} listed`)
    t.match(row?.text, `famille@${tenant.slug}.example.fr`)
    t.match(row?.text, 'en attente')
    const subject = row?.querySelector('a')
    t.equal(subject?.text, `[${tenant.name}] Votre accès au portail`)
    t.equal(subject?.getAttribute('href'), `/_outbox/${tenant.slug}/${queued[i]!.uuid}`)
  }

  const tenant = tenants[0]!
  const detail = await app.inject({
    url: `/_outbox/${tenant.slug}/${queued[0]!.uuid}`,
    headers: { host: 'localhost' },
  })
  t.equal(detail.statusCode, 200)
  // node-html-parser keeps a <pre>'s content as raw text unless told otherwise
  const page = html(detail.body, { blockTextElements: { script: true, style: true } })
  t.equal(page.querySelector('h1')?.text, `[${tenant.name}] Votre accès au portail`)
  t.match(page.querySelector('dl')?.text, `"${tenant.name}" <no-reply@localhost>`)
  t.match(page.querySelector('dl')?.text, tenant.contact.email)
  const text = page.querySelector('pre.mail-text')
  t.match(text?.text, 'Bonjour Léa <Durand>,')
  t.equal(text?.querySelector('a')?.getAttribute('href'), link, 'the link in the text can be followed')
  t.notOk(page.querySelector('pre.mail-text b, pre.mail-text durand'), 'no markup from the data')
  t.match(
    page.querySelector('details code')?.text,
    '<p>Bonjour Léa &lt;Durand&gt;,</p>',
    'HTML shown as source',
  )

  const rendered = await app.inject({
    url: `/_outbox/${tenant.slug}/${queued[0]!.uuid}/html`,
    headers: { host: 'localhost' },
  })
  t.equal(rendered.statusCode, 200)
  t.match(rendered.headers['content-security-policy'], /^sandbox; default-src 'none'/)
  t.equal(rendered.body, queued[0]!.html)

  t.test('an unknown mail or tenant is a 404', async (t) => {
    const unknownMail = await app.inject({
      url: `/_outbox/${tenant.slug}/00000000-0000-4000-8000-000000000000`,
      headers: { host: 'localhost' },
    })
    t.equal(unknownMail.statusCode, 404)
    const otherTenant = await app.inject({
      url: `/_outbox/inconnu/${queued[0]!.uuid}`,
      headers: { host: 'localhost' },
    })
    t.equal(otherTenant.statusCode, 404)
  })

  t.test('a tenant host has no outbox page', async (t) => {
    for (const url of ['/_outbox', `/_outbox/${tenant.slug}/${queued[0]!.uuid}`]) {
      const res = await app.inject({ url, headers: { host: host() } })
      t.equal(res.statusCode, 404, url)
    }
  })
})

t.test('/_outbox does not exist in production', async (t) => {
  const { app } = await build(t, { env: { NODE_ENV: 'production' } })
  const res = await app.inject({ url: '/_outbox', headers: { host: 'localhost' } })
  t.equal(res.statusCode, 404)
})

t.test('/_outbox does not exist when mail is really sent (SMTP_URL)', async (t) => {
  const { app } = await build(t, { env: { SMTP_URL: 'smtp://127.0.0.1:9' } })
  const res = await app.inject({ url: '/_outbox', headers: { host: 'localhost' } })
  t.equal(res.statusCode, 404)
})
