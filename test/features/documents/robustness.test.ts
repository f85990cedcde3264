import t from 'tap'
import { StoredFile } from '../../../src/features/documents/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser, goodPassword } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { documentsTenant } from '../../helpers/documents.ts'
import { createFamily } from '../../helpers/families.ts'
import { multipartBody, samples } from '../../helpers/multipart.ts'

t.test('malformed uploads get a French page, never a 500, and store nothing', async (t) => {
  const { app, host, tenants } = await build(t, { tenants: [documentsTenant] })
  const slug = tenants[0]!.slug
  await createFamily(app, slug, 'famille-martin')
  const browser = new Browser(app, host())
  await browser.submit('/connexion', '/connexion', { identifiant: 'famille-martin', password: goodPassword })
  const token = html((await browser.get('/famille/pieces')).body)
    .querySelector('form[enctype="multipart/form-data"] input[name="_csrf"]')!
    .getAttribute('value')!
  const file = { name: 'file', fileName: 'a.pdf', contentType: 'application/pdf', content: samples.pdf() }
  const post = (payload: string | Buffer, contentType: string) =>
    app.inject({
      method: 'POST',
      url: '/famille/pieces',
      headers: { host: host(), cookie: browser.cookieHeader(), 'content-type': contentType },
      payload,
    })

  const cases: [string, Promise<Awaited<ReturnType<typeof post>>>][] = [
    [
      'a plain form instead of a multipart one',
      post(`_csrf=${token}&document=sepa`, 'application/x-www-form-urlencoded'),
    ],
    [
      'two files',
      (() => {
        const one = multipartBody({ _csrf: token, document: 'sepa' }, file)
        const boundary = one.contentType.split('boundary=')[1]!
        const second = Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="b.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\r\n--${boundary}--\r\n`,
        )
        return post(
          Buffer.concat([one.body.subarray(0, one.body.length - `--${boundary}--\r\n`.length), second]),
          one.contentType,
        )
      })(),
    ],
    [
      'a body cut before its end',
      (() => {
        // a document the page asks for: its row's form opens again with the message
        const { body, contentType } = multipartBody({ _csrf: token, document: 'domicile' }, file)
        return post(body.subarray(0, body.length - 20), contentType)
      })(),
    ],
    ['a multipart body without a boundary', post('garbage', 'multipart/form-data')],
  ]
  for (const [label, pending] of cases) {
    const res = await pending
    t.ok(res.statusCode >= 400 && res.statusCode < 500, `${label}: ${res.statusCode}`)
    t.match(res.headers['content-type'], 'text/html', `${label}: a page`)
    t.match(html(res.body).querySelector('html')?.getAttribute('lang'), 'fr')
    if (label === 'a body cut before its end')
      t.match(
        html(res.body).querySelector('#file-error')?.text,
        'n’a pas été reçu en entier',
        'the page says why',
      )
  }
  t.equal(await app.orm.em.fork({ schema: schemaFor(slug) }).count(StoredFile), 0)
})
