import fc from 'fast-check'
import t from 'tap'
import { TenantConfigDraft } from '../../../src/platform/tenancy/entities.ts'
import { parseTenantConfig } from '../../../src/platform/tenancy/tenant-config.ts'
import { createAccount, signedInBrowser } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { demoTenant } from '../../helpers/reenrolment.ts'

/** Replay a failure with FUZZ_SEED=<the seed fast-check printed>. */
const seed = Number(process.env.FUZZ_SEED ?? 16_2026)

/** Pieces that break YAML or the schema in the ways people do: indentation, tabs, quotes, brackets, keys. */
const breakers = [
  '\t',
  '  ',
  ':',
  ': ',
  '- ',
  '[',
  ']',
  '{',
  '}',
  '"',
  "'",
  '#',
  '&a',
  '*a',
  '!!str ',
  '---\n',
  '\n',
  '\u0000',
  '😀',
  'é',
  'today+',
  '2026-02-30',
  '-1',
  'null',
  '~',
  '|',
  '>',
  '? ',
]

// what a form gives back of a text: line ends as HTML forms send them, NUL as the parser leaves it
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what the form transport drops
const kept = (text: string) => text.replace(/\r\n?/g, '\n').replace(/[\u0000\uFFFD]/g, '')

t.test('random and broken YAML never publishes and never answers 500', async (t) => {
  const { app, tenants, host } = await build(t, { tenants: [demoTenant('limonest')] })
  const slug = tenants[0]!.slug
  await createAccount(app, slug, { identifiant: 'admin', role: 'admin' })
  const admin = await signedInBrowser(app, host(), 'admin', '/admin/connexion')
  const page = html((await admin.get('/admin/configuration/yaml')).body)
  const source = page.querySelector('textarea#source')!.text
  const token = page.querySelector('input[name=_csrf]')!.getAttribute('value')!
  t.ok(parseTenantConfig(`${slug}.yaml`, source).config, 'the served text is valid')

  const mutation = fc
    .tuple(fc.nat(source.length), fc.nat(40), fc.array(fc.constantFrom(...breakers), { maxLength: 4 }))
    .map(([at, cut, inserted]) => source.slice(0, at) + inserted.join('') + source.slice(at + cut))
  const anything = fc.oneof(
    mutation,
    mutation,
    fc.string({ maxLength: 300 }),
    fc.string({ unit: 'binary', maxLength: 300 }),
  )

  let accepted = 0
  let refused = 0
  await fc.assert(
    fc.asyncProperty(anything, async (text) => {
      const res = await admin.post('/admin/configuration/yaml', { _csrf: token, source: text })
      if (res.statusCode === 303) {
        // a text that passes becomes a draft only: valid as the boot checks it
        accepted++
        return parseTenantConfig(`${slug}.yaml`, kept(text)).config !== undefined
      }
      refused++
      const shown = html(res.body)
      return (
        res.statusCode === 400 &&
        shown.querySelectorAll('.error-summary li').length > 0 &&
        kept(shown.querySelector('textarea#source')?.text ?? '') === kept(text)
      )
    }),
    { seed, numRuns: 150 },
  )
  t.ok(refused > 100, `${refused} texts refused, ${accepted} accepted as drafts`)
  t.equal(app.registry.get(slug)!.configVersion, 1, 'nothing was published')
  // each accepted text replaced the admin's draft: one draft at most
  t.equal(await app.orm.em.fork().count(TenantConfigDraft, { tenant: slug }), accepted > 0 ? 1 : 0)
})
