import fc from 'fast-check'
import type { LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { Preregistration } from '../../../src/features/preregistration/entities.ts'
import { applicantFields, applicantGuardianFields } from '../../../src/features/preregistration/form.ts'
import { sha256 } from '../../../src/platform/auth/sessions.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser, createAccount, goodPassword } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { dossierLink, filledForm, nthMail, postForm } from '../../helpers/preregistration.ts'
import { demoTenant } from '../../helpers/reenrolment.ts'
import { startInbox } from '../../helpers/smtp.ts'

/** Replay a failure with FUZZ_SEED=<the seed fast-check printed>. */
const seed = Number(process.env.FUZZ_SEED ?? 7_2026)

/** The form's real field names: both guardians, the nine applicant blocks the parser could read, the rest. */
const guardianNames = applicantGuardianFields.map((f) => f.name)
const applicantNames = [
  ...applicantFields({}).map((f) => f.name),
  'fromGuardian',
  'choice1',
  'choice2',
  'choice3',
  'freeText',
]
const fieldNames = [
  ...['g1-', 'g2-', 'g3-'].flatMap((prefix) => guardianNames.map((name) => `${prefix}${name}`)),
  ...Array.from({ length: 9 }, (_, i) => applicantNames.map((name) => `p${i}-${name}`)).flat(),
  'applicants',
  'secondGuardian',
  'action',
  'confirmed',
  'confirmEmail',
  'antiSpam',
  'homepage',
]
const oddNames = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'p0-__proto__',
  'g1-constructor',
  'p-1-lastName',
  'p10-lastName',
  'p01-lastName',
  'g0-lastName',
  '',
  'p0-',
  'é',
]

const actions = [
  'save',
  'confirm',
  'addGuardian',
  'removeGuardian',
  'addApplicant',
  'guardianApplicant',
  ...Array.from({ length: 10 }, (_, i) => `removeApplicant-${i}`),
  'removeApplicant--1',
  'removeApplicant-10',
  'removeApplicant-',
  'SAVE',
  '',
]

/** The values a person, a robot or a broken client might send. */
const value = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 60 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      'true',
      'false',
      'on',
      '0',
      '1',
      '2',
      '8',
      '9',
      '-1',
      '1e309',
      'NaN',
      '99999999999999999999',
      '26',
      ' 26 ',
      'vingt-six',
      '2015-04-04',
      '2099-12-31',
      '1900-01-01',
      '0000-00-00',
      '31/02/2020',
      '2020-02-30',
      'piano',
      'violon',
      'cornemuse',
      'claire.durand@example.fr',
      'CLAIRE.DURAND@EXAMPLE.FR',
      'a@b',
      '0612345678',
      '+33 6 12 34 56 78',
      '87000',
      'Madame',
      '<script>alert(1)</script>',
      '{{ 7*7 }}',
      '#{7*7}',
      '<%= 7*7 %>',
      '=HYPERLINK("http://evil.example")',
      '\u0000',
      '\uFEFF',
      '\u202E',
      '💥👨‍👩‍👧',
      'é'.repeat(300),
      'x'.repeat(1000),
      'x'.repeat(2000),
      'x'.repeat(2001),
      '../../etc/passwd',
      '__proto__',
      'constructor',
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom(...actions) },
)

const name = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...fieldNames) },
  { weight: 2, arbitrary: fc.constantFrom(...oddNames) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
)

/** A value `yes` times in `yes + no`, null otherwise. */
const sometimes = <T>(arbitrary: fc.Arbitrary<T>, yes: number, no: number) =>
  fc.oneof({ weight: yes, arbitrary }, { weight: no, arbitrary: fc.constant(null) })

/**
 * A body: nothing or the whole valid form to start from, some of its fields dropped, random
 * fields set, sometimes a field sent twice (an array the schema refuses), and an action.
 */
const body = fc
  .record({
    start: fc.constantFrom('empty', 'valid', 'valid'),
    dropped: fc.subarray(Object.keys(filledForm()), { maxLength: 4 }),
    set: fc.array(fc.tuple(name, value), { maxLength: 12 }),
    // a repeated key (an array) in one body of ten, an action in two of three
    repeated: sometimes(fc.tuple(fc.constantFrom(...fieldNames), value, value), 1, 9),
    action: sometimes(fc.constantFrom(...actions), 2, 1),
    confirmed: sometimes(fc.constantFrom('true', 'false', ''), 1, 1),
  })
  .map(({ start, dropped, set, repeated, action, confirmed }) => {
    const fields: Record<string, string> = start === 'valid' ? filledForm() : {}
    for (const key of dropped) delete fields[key]
    const pairs: [string, string][] = Object.entries(fields)
    for (const pair of set) {
      const at = pairs.findIndex(([k]) => k === pair[0])
      if (at >= 0) pairs[at] = pair
      else pairs.push(pair)
    }
    if (repeated) pairs.push([repeated[0], repeated[1]], [repeated[0], repeated[2]])
    if (action !== null) {
      const at = pairs.findIndex(([k]) => k === 'action')
      if (at >= 0) pairs.splice(at, 1)
      pairs.push(['action', action])
    }
    if (confirmed !== null && !pairs.some(([k]) => k === 'confirmed')) pairs.push(['confirmed', confirmed])
    return pairs
  })

/** Each run from its own address, so that the per-address limits do not hide the handler. */
let address = 0
const nextAddress = () => {
  address += 1
  return `10.${(address >> 16) & 255}.${(address >> 8) & 255}.${address & 255}`
}

const statusCount = (statuses: Map<string, number>, key: string) =>
  statuses.set(key, (statuses.get(key) ?? 0) + 1)

/** A response of the handler (the form, its errors, a redirect), not of the schema or a limit. */
const reachedHandler = (res: LightMyRequestResponse) =>
  res.statusCode === 303 ||
  res.statusCode === 409 ||
  ((res.statusCode === 200 || res.statusCode === 400) &&
    html(res.body).querySelector('form.prereg-form') !== null)

t.test('random form bodies on the public form and on a draft’s link never get a 500', async (t) => {
  const inbox = await startInbox(t)
  const built = await build(t, { tenants: [demoTenant('limoges')], env: { SMTP_URL: inbox.url } })
  const { app } = built
  const em = () => app.orm.em.fork({ schema: schemaFor(built.tenants[0]!.slug) })
  const browser = new Browser(app, built.host())
  await postForm(browser, '/preinscription', filledForm())
  const { path, token } = dossierLink(await nthMail(inbox, /dossier enregistré/))
  const draft = await em().findOneOrFail(Preregistration, { tokenHash: sha256(token) })
  const snapshot = (row: Preregistration) =>
    JSON.stringify([row.status, row.email, row.guardians, row.applicants, row.revision, row.confirmedAt])
  const original = snapshot(draft)
  const csrf = html((await browser.get('/preinscription')).body)
    .querySelector('form.prereg-form input[name="_csrf"]')!
    .getAttribute('value')!

  const post = (url: string, pairs: [string, string][]) =>
    app.inject({
      method: 'POST',
      url,
      remoteAddress: nextAddress(),
      headers: {
        host: browser.host,
        cookie: browser.cookieHeader(),
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: new URLSearchParams([['_csrf', csrf], ...pairs]).toString(),
    })
  const describe = (url: string, res: LightMyRequestResponse, pairs: [string, string][]) =>
    `${url} answered ${res.statusCode} (${res.headers.location ?? ''}) to ${JSON.stringify(pairs).slice(0, 600)}`

  const publicStatuses = new Map<string, number>()
  let reached = 0
  let saved = 0
  await fc.assert(
    fc.asyncProperty(body, async (pairs) => {
      const before = await em().count(Preregistration, {})
      const res = await post('/preinscription', pairs)
      const after = await em().count(Preregistration, {})
      statusCount(publicStatuses, String(res.statusCode))
      if (reachedHandler(res)) reached += 1
      if (![200, 303, 400, 429].includes(res.statusCode))
        throw new Error(describe('/preinscription', res, pairs))
      if (res.statusCode === 303) {
        saved += 1
        if (res.headers.location !== '/preinscription/enregistree' || after !== before + 1)
          throw new Error(`a save without its dossier: ${describe('/preinscription', res, pairs)}`)
      } else if (after !== before) {
        throw new Error(`a refused body saved a dossier: ${describe('/preinscription', res, pairs)}`)
      }
    }),
    { numRuns: 130, seed },
  )
  const publicRuns = [...publicStatuses.values()].reduce((a, b) => a + b, 0)
  t.pass(`POST /preinscription: ${JSON.stringify(Object.fromEntries(publicStatuses))}, ${saved} saved`)
  t.ok(reached / publicRuns > 0.6, `most bodies reach the handler (${reached} of ${publicRuns})`)
  t.ok(saved > 0, 'some random bodies are valid and saved')
  t.ok((publicStatuses.get('200') ?? 0) > 0, 'some are block round trips')

  const linkStatuses = new Map<string, number>()
  let linkReached = 0
  let changed = 0
  await fc.assert(
    fc.asyncProperty(body, async (pairs) => {
      const res = await post(path, pairs)
      statusCount(linkStatuses, String(res.statusCode))
      if (reachedHandler(res)) linkReached += 1
      if (![200, 303, 400, 409, 429].includes(res.statusCode)) throw new Error(describe(path, res, pairs))
      const row = await em().findOneOrFail(Preregistration, draft.id)
      if (res.statusCode !== 303) {
        if (snapshot(row) !== original)
          throw new Error(`a refused body changed the dossier: ${describe(path, res, pairs)}`)
        return
      }
      changed += 1
      const confirmed = res.headers.location === `${path}?confirme=1`
      const savedAgain = res.headers.location === `${path}?enregistre=1`
      if (
        !(confirmed && row.status === 'confirmed') &&
        !(savedAgain && row.status === 'draft' && row.revision === draft.revision + 1)
      )
        throw new Error(`an accepted body did something else: ${describe(path, res, pairs)}`)
      // back to the draft, for the next body
      await em().nativeUpdate(
        Preregistration,
        { id: draft.id },
        {
          status: 'draft',
          confirmedAt: null,
          email: draft.email,
          guardians: draft.guardians,
          applicants: draft.applicants,
          revision: draft.revision,
        },
      )
      if (snapshot(await em().findOneOrFail(Preregistration, draft.id)) !== original)
        throw new Error('the draft was not restored')
    }),
    { numRuns: 130, seed: seed + 1 },
  )
  const linkRuns = [...linkStatuses.values()].reduce((a, b) => a + b, 0)
  t.pass(`POST ${'/preinscription/dossier/…'}: ${JSON.stringify(Object.fromEntries(linkStatuses))}`)
  t.ok(linkReached / linkRuns > 0.6, `most bodies reach the handler (${linkReached} of ${linkRuns})`)
  t.ok(changed > 0, 'some bodies save or confirm the draft')

  // a confirmed dossier: every body is refused with 409, or by the schema, and changes nothing
  await em().nativeUpdate(Preregistration, { id: draft.id }, { status: 'confirmed', confirmedAt: new Date() })
  const locked = snapshot(await em().findOneOrFail(Preregistration, draft.id))
  await fc.assert(
    fc.asyncProperty(body, async (pairs) => {
      const res = await post(path, pairs)
      if (![400, 409, 429].includes(res.statusCode)) throw new Error(describe(path, res, pairs))
      if (snapshot(await em().findOneOrFail(Preregistration, draft.id)) !== locked)
        throw new Error(`a body changed a confirmed dossier: ${describe(path, res, pairs)}`)
    }),
    { numRuns: 40, seed: seed + 2 },
  )
})

/** A path segment or a query value as typed, pasted or mangled: raw, encoded, or broken escapes. */
const segment = fc
  .array(
    fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 20 }).map(encodeURIComponent),
      fc.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      fc.stringMatching(/^[A-Za-z0-9_-]{1,80}$/),
      fc.constantFrom(
        '%',
        '%zz',
        '%00',
        '%2F',
        '%2e%2e',
        '%C0%AF',
        '%E9',
        '%FF%FE',
        '..',
        '.',
        ';',
        '~',
        "'",
        '!',
        '*',
        '(',
        ')',
        '$',
        ',',
      ),
    ),
    { minLength: 1, maxLength: 4 },
  )
  .map((parts) => parts.join(''))

const query = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom(
          'etat',
          'enregistre',
          'confirme',
          'fait',
          'jeton',
          'retour',
          '__proto__',
          'constructor',
        ),
        segment,
      ),
      fc.oneof(fc.constantFrom('1', '0', '', 'tous', 'draft', 'confirmed', 'refused', '11'), segment),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}` : ''))

t.test('random paths and query strings on the GET routes never get a 500', async (t) => {
  const inbox = await startInbox(t)
  const built = await build(t, { tenants: [demoTenant('limoges')], env: { SMTP_URL: inbox.url } })
  const { app, host, tenants } = built
  const family = new Browser(app, host())
  await postForm(family, '/preinscription', filledForm())
  const { path } = dossierLink(await nthMail(inbox, /dossier enregistré/))
  await createAccount(app, tenants[0]!.slug, { identifiant: 'secretariat', role: 'secretariat' })
  const office = new Browser(app, host())
  await office.submit('/admin/connexion', '/admin/connexion', {
    identifiant: 'secretariat',
    password: goodPassword,
  })

  const target = fc.oneof(
    fc.tuple(
      fc.constant('public'),
      fc.constantFrom('/preinscription', '/preinscription/enregistree', path),
      query,
    ),
    fc.tuple(
      fc.constant('public'),
      segment.map((s) => `/preinscription/dossier/${s}`),
      query,
    ),
    fc.tuple(
      fc.constant('public'),
      segment.map((s) => `/preinscription/${s}`),
      query,
    ),
    fc.tuple(
      fc.constant('staff'),
      fc.constantFrom('/admin/preinscriptions', '/admin/preinscriptions/export.csv'),
      query,
    ),
    fc.tuple(
      fc.constant('staff'),
      segment.map((s) => `/admin/preinscriptions/${s}`),
      query,
    ),
  )
  const statuses = new Map<string, number>()
  await fc.assert(
    fc.asyncProperty(target, async ([who, url, search]) => {
      const browser = who === 'staff' ? office : family
      const res = await browser.get(url + search)
      statusCount(statuses, String(res.statusCode))
      if (![200, 301, 302, 303, 400, 404].includes(res.statusCode))
        throw new Error(`GET ${url}${search} answered ${res.statusCode}`)
    }),
    { numRuns: 200, seed: seed + 3 },
  )
  t.pass(`GET: ${JSON.stringify(Object.fromEntries(statuses))}`)
  t.ok((statuses.get('200') ?? 0) > 10, 'many reach a page')
  t.ok((statuses.get('404') ?? 0) > 10, 'unknown tokens and ids are 404')
})
