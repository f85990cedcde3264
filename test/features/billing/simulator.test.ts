import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import t from 'tap'
import { parse, stringify } from 'yaml'
import { simulatedYear } from '../../../src/features/billing/simulator.ts'
import { runCli } from '../../../src/cli/commands.ts'
import { Browser } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { demoTenant } from '../../helpers/reenrolment.ts'

/** Replay a failure with FUZZ_SEED=<the seed fast-check printed>. */
const seed = Number(process.env.FUZZ_SEED ?? 17_2027)
const page = '/tarifs/simulateur'
const nbsp = '\u00a0'
const thin = '\u202f'

/** Posts the simulator as a browser would, repeated keys for the ticked boxes. */
async function simulate(browser: Browser, fields: [string, string][]) {
  const shown = await browser.get(page)
  const token = html(shown.body).querySelector('form.simulator input[name="_csrf"]')?.getAttribute('value')
  if (!token) throw new Error(`no simulator (status ${shown.statusCode})`)
  const res = await browser.app.inject({
    method: 'POST',
    url: page,
    headers: {
      host: browser.host,
      cookie: browser.cookieHeader(),
      'content-type': 'application/x-www-form-urlencoded',
    },
    payload: new URLSearchParams([['_csrf', token], ...fields]).toString(),
  })
  return { res, page: html(res.body) }
}

const cells = (table: ReturnType<typeof html> | null) =>
  (table?.querySelectorAll('tbody tr') ?? []).map((row) =>
    row.querySelectorAll('td').map((c) => c.text.trim()),
  )

t.test('the home links to the simulator only where there are tariffs; elsewhere it is a 404', async (t) => {
  const { app, host } = await build(t, { tenants: [demoTenant('limonest'), {}] })
  const home = html((await app.inject({ url: '/', headers: { host: host(0) } })).body)
  t.ok(home.querySelector(`a[href="${page}"]`), 'Limonest has tariffs')
  const bare = html((await app.inject({ url: '/', headers: { host: host(1) } })).body)
  t.notOk(bare.querySelector(`a[href="${page}"]`), 'no tariffs, no link')
  t.equal((await app.inject({ url: page, headers: { host: host(1) } })).statusCode, 404)
  const browser = new Browser(app, host(1))
  const token = html((await browser.get('/connexion')).body)
    .querySelector('input[name="_csrf"]')
    ?.getAttribute('value')
  const post = await app.inject({
    method: 'POST',
    url: page,
    headers: {
      host: host(1),
      cookie: browser.cookieHeader(),
      'content-type': 'application/x-www-form-urlencoded',
    },
    payload: `_csrf=${token}&resident=oui`,
  })
  t.equal(post.statusCode, 404)
  t.equal((await app.inject({ url: page, headers: { host: 'localhost' } })).statusCode, 404, 'platform host')
})

t.test('Limonest: two pupils in Q3, the family reduction and nine direct debits from November', async (t) => {
  const { app, host } = await build(t, { tenants: [demoTenant('limonest')] })
  const browser = new Browser(app, host())
  const shown = html((await browser.get(page)).body)
  t.equal(shown.querySelector('h1')?.firstChild?.text, 'Simulateur de tarifs')
  t.match(shown.querySelector('main p')?.text, '2027-2028')
  t.same(
    shown.querySelectorAll('#qf option').map((o) => o.text),
    [
      'Je ne sais pas / non justifié',
      'Q1 — QF jusqu’à 500 €'.replace('’', "'"),
      'Q2 — QF de 501 à 750 €',
      'Q3 — QF de 751 à 1 000 €',
      'Q4 — QF de 1 001 à 1 300 €',
      'Q5 — QF de 1 301 à 1 700 €',
      'Q6 — QF de 1 701 à 2 200 €',
      'Q7 — QF supérieur à 2 200 € ou non justifié',
    ],
  )
  t.equal(shown.querySelectorAll('#p0 input[type="checkbox"]').length, 9, 'each discipline of the tenant')

  const { res, page: result } = await simulate(browser, [
    ['resident', 'oui'],
    ['qf', 'Q3'],
    ['paymentMode', 'prelevement'],
    ['pupils', '2'],
    ['p0', 'clarinette'],
    ['p0', 'formation-musicale'],
    ['p0', 'orchestre'],
    ['p1', 'danse-enfant'],
    ['action', 'calculate'],
  ])
  t.equal(res.statusCode, 200)
  const section = result.querySelector('#resultat')!
  t.match(section.text, 'Tarif appliqué : Q3 — QF de 751 à 1 000 €')
  const [first, second, fees] = section.querySelectorAll('table')
  t.same(cells(first!), [
    ['Cursus complet (instrument, formation musicale et pratique collective)', `255,00${nbsp}€`],
  ])
  t.same(cells(second!), [
    ['Danse', `180,00${nbsp}€`],
    ['Réduction famille (2e élève) −10 %', `−18,00${nbsp}€`],
  ])
  t.same(cells(fees!), [['Adhésion annuelle', `15,00${nbsp}€`]])
  t.equal(section.querySelector('.stat')?.text, `432,00${nbsp}€`)
  const schedule = cells(section.querySelectorAll('table').at(-1)!)
  t.equal(schedule.length, 9)
  t.same(schedule[0], ['1re échéance', '05/11/2027', `48,00${nbsp}€`])
  t.same(schedule[8], ['9e échéance', '05/07/2028', `48,00${nbsp}€`])
  t.ok(result.querySelector('#p0-clarinette')?.hasAttribute('checked'), 'the form keeps what was ticked')
  t.ok(result.querySelector('#qf option[value="Q3"]')?.hasAttribute('selected'))
})

t.test('without a QF the fallback bracket; outside the town the non-resident column', async (t) => {
  const { app, host } = await build(t, { tenants: [demoTenant('limonest')] })
  const browser = new Browser(app, host())
  const unknown = await simulate(browser, [
    ['resident', 'oui'],
    ['paymentMode', 'payfip'],
    ['p0', 'clarinette'],
    ['p0', 'formation-musicale'],
  ])
  t.match(
    unknown.page.querySelector('#resultat')?.text,
    'Tarif appliqué : Q7 — QF supérieur à 2 200 € ou non justifié (quotient familial non justifié)',
  )
  t.equal(unknown.page.querySelector('#resultat .stat')?.text, `480,00${nbsp}€`)
  t.same(cells(unknown.page.querySelectorAll('#resultat table').at(-1)!), [
    ['1re échéance', '05/11/2027', `480,00${nbsp}€`],
  ])
  const outside = await simulate(browser, [
    ['resident', 'non'],
    ['qf', 'Q1'],
    ['paymentMode', 'prelevement'],
    ['pupils', '3'],
    ['p0', 'clarinette'],
    ['p0', 'formation-musicale'],
    ['p1', 'clarinette'],
    ['p1', 'formation-musicale'],
    ['p2', 'clarinette'],
    ['p2', 'formation-musicale'],
  ])
  const text = outside.page.querySelector('#resultat')!.text
  t.match(text, 'Tarif appliqué : non-résidents')
  t.match(text, 'Réduction famille (3e élève) −20 %')
  // 3 × 690 − 69 − 138 + 15
  t.equal(outside.page.querySelector('#resultat .stat')?.text, `1${thin}878,00${nbsp}€`)
})

t.test('a start during the year pays the instalments still to come', async (t) => {
  const { app, host } = await build(t, { tenants: [demoTenant('limonest')] })
  const browser = new Browser(app, host())
  const shown = html((await browser.get(page)).body)
  t.same(
    shown.querySelectorAll('#start option').map((o) => o.text),
    [
      'Dès la rentrée',
      'novembre 2027',
      'décembre 2027',
      'janvier 2028',
      'février 2028',
      'mars 2028',
      'avril 2028',
      'mai 2028',
      'juin 2028',
      'juillet 2028',
    ],
  )
  const { page: result } = await simulate(browser, [
    ['resident', 'oui'],
    ['qf', 'Q7'],
    ['paymentMode', 'prelevement'],
    ['start', '2028-03'],
    ['p0', 'theatre'],
  ])
  const section = result.querySelector('#resultat')!
  t.match(section.text, 'Début en cours d’année : 5 échéances sur 9 sont dues.')
  // 330 € × 5/9 = 183,33 €
  t.same(cells(section.querySelector('table')), [[`Théâtre\nTarif annuel 330,00${nbsp}€`, `183,33${nbsp}€`]])
  const schedule = cells(section.querySelectorAll('table').at(-1)!)
  t.same(
    schedule.map((row) => row[1]),
    ['05/03/2028', '05/04/2028', '05/05/2028', '05/06/2028', '05/07/2028'],
  )
  t.same(
    schedule.map((row) => row[2]),
    [`39,69${nbsp}€`, `39,66${nbsp}€`, `39,66${nbsp}€`, `39,66${nbsp}€`, `39,66${nbsp}€`],
    '198,33 € in five, the remainder on the first',
  )
})

t.test('a conservatoire without QF nor payment modes: one price for residents, one payment', async (t) => {
  const { app, host } = await build(t, { tenants: [demoTenant('limoges')] })
  const browser = new Browser(app, host())
  const shown = html((await browser.get(page)).body)
  t.notOk(shown.querySelector('#qf'))
  t.notOk(shown.querySelector('#paymentMode'))
  const { page: result } = await simulate(browser, [
    ['resident', 'oui'],
    ['p0', 'piano'],
  ])
  t.match(result.querySelector('#resultat')?.text, 'Tarif appliqué : résidents')
  t.equal(result.querySelector('#resultat .stat')?.text, `380,00${nbsp}€`)
})

t.test('bad input is answered beside each field, what was typed kept', async (t) => {
  const { app, host } = await build(t, { tenants: [demoTenant('limonest')] })
  const browser = new Browser(app, host())
  const { res, page: result } = await simulate(browser, [
    ['qf', 'Q99'],
    ['paymentMode', ''],
    ['start', '2031-01'],
    ['pupils', '2'],
    ['p0', 'tuba'],
    ['p0', 'clarinette'],
    ['action', 'calculate'],
  ])
  t.equal(res.statusCode, 400)
  t.equal(result.querySelector('#resident-error')?.text, 'Choisissez une réponse.')
  t.equal(result.querySelector('#qf-error')?.text, 'Ce choix n’est pas proposé.')
  t.equal(result.querySelector('#paymentMode-error')?.text, 'Choisissez une réponse.')
  t.equal(result.querySelector('#start-error')?.text, 'Ce choix n’est pas proposé.')
  t.equal(result.querySelector('#p0-error')?.text, 'Ce choix n’est pas proposé.')
  t.equal(result.querySelector('#p1-error')?.text, 'Cochez au moins une discipline.')
  t.ok(result.querySelector('#p0-clarinette')?.hasAttribute('checked'))
  t.same(
    result.querySelectorAll('.error-summary a').map((a) => a.getAttribute('href')),
    ['#resident', '#qf', '#paymentMode', '#start', '#p0', '#p1'],
  )
  t.match(result.querySelector('.error-summary')?.text, 'Élève 2 : cochez au moins une discipline.')
  t.notOk(result.querySelector('#resultat'))
})

t.test('pupils are added and removed by round trips that keep the ticks', async (t) => {
  const { app, host } = await build(t, { tenants: [demoTenant('limonest')] })
  const browser = new Browser(app, host())
  const added = await simulate(browser, [
    ['resident', 'non'],
    ['p0', 'theatre'],
    ['action', 'add'],
  ])
  t.equal(added.res.statusCode, 200)
  t.ok(added.page.querySelector('#p1'))
  t.ok(added.page.querySelector('#p0-theatre')?.hasAttribute('checked'))
  t.ok(added.page.querySelector('#resident-non')?.hasAttribute('checked'))
  t.notOk(added.page.querySelector('.field__error'), 'no error for a block just added')
  const removed = await simulate(browser, [
    ['resident', 'non'],
    ['pupils', '2'],
    ['p0', 'theatre'],
    ['p1', 'danse-adulte'],
    ['action', 'remove-0'],
  ])
  t.notOk(removed.page.querySelector('#p1'))
  t.ok(removed.page.querySelector('#p0-danse-adulte')?.hasAttribute('checked'))
  const many = await simulate(browser, [
    ['pupils', '6'],
    ['action', 'add'],
  ])
  t.equal(many.page.querySelectorAll('fieldset[id^="p"]').length, 6, 'six pupils at most')
})

t.test('hostile bodies never make a 500', async (t) => {
  const { app, host } = await build(t, { tenants: [demoTenant('limonest')] })
  const browser = new Browser(app, host())
  const shown = await browser.get(page)
  const token = html(shown.body).querySelector('form.simulator input[name="_csrf"]')!.getAttribute('value')!
  const post = (payload: string, type = 'application/x-www-form-urlencoded') =>
    app.inject({
      method: 'POST',
      url: page,
      headers: { host: host(), cookie: browser.cookieHeader(), 'content-type': type },
      payload,
    })
  for (const [payload, type] of [
    [`_csrf=${token}&pupils=999999999999&p0=clarinette&resident=oui&paymentMode=payfip`, undefined],
    [`_csrf=${token}&pupils=-3&p0[]=x&resident[]=oui`, undefined],
    [`_csrf=${token}&action=remove-9&pupils=1`, undefined],
    [`_csrf=${token}&${'p0=clarinette&'.repeat(500)}resident=oui&paymentMode=payfip`, undefined],
    [
      JSON.stringify({ _csrf: token, resident: ['oui'], pupils: { a: 1 }, p0: [1, null, {}] }),
      'application/json',
    ],
    [JSON.stringify([1, 2]), 'application/json'],
    ['"just a string"', 'application/json'],
    ['not json', 'application/json'],
  ] as const) {
    const res = await post(payload, type)
    t.ok(res.statusCode < 500, `${res.statusCode} for ${payload.slice(0, 60)}`)
  }
  const keys = fc.constantFrom(
    'resident',
    'qf',
    'paymentMode',
    'start',
    'pupils',
    'p0',
    'p1',
    'p5',
    'action',
    'x',
  )
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(keys, fc.string({ maxLength: 30 })), { maxLength: 12 }),
      async (pairs) => {
        const res = await post(new URLSearchParams([['_csrf', token], ...pairs]).toString())
        return res.statusCode === 200 || res.statusCode === 400
      },
    ),
    { seed, numRuns: 150 },
  )
})

t.test('each tenant prices with its own tariffs', async (t) => {
  const { app, host } = await build(t, { tenants: [demoTenant('limonest'), demoTenant('plessis-pate')] })
  const limonest = await simulate(new Browser(app, host(0)), [
    ['resident', 'non'],
    ['paymentMode', 'payfip'],
    ['p0', 'theatre'],
  ])
  t.equal(limonest.page.querySelector('#resultat .stat')?.text, `485,00${nbsp}€`)
  const plessis = await simulate(new Browser(app, host(1)), [
    ['resident', 'non'],
    ['paymentMode', 'prelevement'],
    ['p0', 'theatre'],
  ])
  t.equal(plessis.res.statusCode, 400, 'Plessis-Pâté teaches no theatre')
  t.equal(plessis.page.querySelector('#p0-error')?.text, 'Ce choix n’est pas proposé.')
})

t.test(
  'a new version of the configuration reprices at once, and without tariffs the page goes',
  async (t) => {
    const { app, config, tenants, host } = await build(t, { tenants: [demoTenant('limonest')] })
    const slug = tenants[0]!.slug
    const dir = mkdtempSync(join(tmpdir(), 'tutti-tariffs-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const io = { out: () => {}, err: () => {} }
    const file = join(dir, 'config.yaml')
    t.equal(await runCli(['tenant', 'config', 'export', slug, '--out', file], config, io, app.orm), 0)
    const source = readFileSync(file, 'utf8')
    const theatre = [
      ['resident', 'non'],
      ['paymentMode', 'payfip'],
      ['p0', 'theatre'],
    ] as [string, string][]
    t.equal(
      (await simulate(new Browser(app, host()), theatre)).page.querySelector('.stat')?.text,
      `485,00${nbsp}€`,
    )

    const repriced = source.replace(/(code: theatre[\s\S]*?nonResident: )470/, '$1500')
    t.not(repriced, source)
    writeFileSync(file, repriced)
    t.equal(await runCli(['tenant', 'config', 'import', slug, file], config, io, app.orm), 0)
    // the running app notices at its next refresh (every 2 s)
    await new Promise((resolve) => setTimeout(resolve, 2_500))
    t.equal(
      (await simulate(new Browser(app, host()), theatre)).page.querySelector('.stat')?.text,
      `515,00${nbsp}€`,
    )

    const { tariffs: _, ...rest } = parse(repriced)
    writeFileSync(file, stringify(rest))
    t.equal(await runCli(['tenant', 'config', 'import', slug, file], config, io, app.orm), 0)
    await new Promise((resolve) => setTimeout(resolve, 2_500))
    t.equal((await app.inject({ url: page, headers: { host: host() } })).statusCode, 404)
    t.notOk(
      html((await app.inject({ url: '/', headers: { host: host() } })).body).querySelector(
        `a[href="${page}"]`,
      ),
    )
  },
)

t.test(
  'the year priced: the re-enrolment campaign’s, else the year under way, from June the coming one',
  async (t) => {
    const tenant = { timezone: 'Europe/Paris' } as Parameters<typeof simulatedYear>[0]
    t.equal(simulatedYear(tenant, new Date('2027-05-31T12:00:00Z')), '2026-2027')
    t.equal(simulatedYear(tenant, new Date('2027-05-31T22:30:00Z')), '2027-2028', 'already 1 June in Paris')
    t.equal(simulatedYear(tenant, new Date('2027-12-01T12:00:00Z')), '2027-2028')
    const campaign = { ...tenant, periods: { reenrolment: { schoolYear: '2028-2029' } } } as typeof tenant
    t.equal(simulatedYear(campaign, new Date('2027-12-01T12:00:00Z')), '2028-2029')
  },
)
