import t from 'tap'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser, goodPassword } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { demoTenant, enrolIn, reenrollingFamily, wizardValues } from '../../helpers/reenrolment.ts'

/** A small seeded generator, so that a failing body can be replayed. */
function random(seed: number) {
  let state = seed
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648
    return state / 2147483648
  }
  const values = [
    '',
    ' ',
    'true',
    'false',
    '0',
    '-1',
    '1e309',
    '2099-01-01',
    '31/02/2020',
    '<script>',
    'é'.repeat(300),
    'x'.repeat(6000),
    '\u0000',
    '💥',
    '../../etc',
    '=1+1',
  ]
  return {
    pick: <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!,
    chance: (p: number) => next() < p,
    value: () => values[Math.floor(next() * values.length)]!,
  }
}

t.test('random form bodies on the family’s forms never get a 500', async (t) => {
  const built = await build(t, { tenants: [demoTenant('limonest')] })
  const tenant = built.tenants[0]!
  const _em = () => built.app.orm.em.fork({ schema: schemaFor(tenant.slug) })
  const family = await reenrollingFamily(built.app, tenant.slug)
  await enrolIn(
    built.app,
    tenant.slug,
    family.pupil,
    ['clarinette', 'formation-musicale'],
    tenant.establishments[0]!.code,
  )
  const browser = new Browser(built.app, built.host())
  await browser.submit('/connexion', '/connexion', { identifiant: 'famille-martin', password: goodPassword })
  const base = `/eleves/${family.pupil.id}/reinscription`
  const choice = html((await browser.get(base)).body)
  await browser.post(`${base}/commencer`, {
    _csrf: choice.querySelector('input[name="_csrf"]')!.getAttribute('value')!,
  })

  const forms = [
    `/eleves/${family.pupil.id}`,
    `/famille/responsables/${family.guardian.id}`,
    ...['coordonnees', 'autorisations', 'documents', 'cours', 'recapitulatif', 'finalisation'].map(
      (s) => `${base}/${s}`,
    ),
  ]
  const rng = random(20261122)
  const statuses = new Map<number, number>()
  for (const url of forms) {
    const page = await browser.get(url)
    const names = Object.keys(page.statusCode === 200 ? wizardOrForm(page.body) : {})
    const token = html(page.body).querySelector('input[name="_csrf"]')?.getAttribute('value') ?? ''
    for (let i = 0; i < 25; i++) {
      const pairs: [string, string][] = [['_csrf', token]]
      for (const name of names) if (rng.chance(0.7)) pairs.push([name, rng.value()])
      if (rng.chance(0.3)) pairs.push([rng.pick(names.length ? names : ['x']), rng.value()])
      if (rng.chance(0.2)) pairs.push([`keep-${rng.value()}`, rng.value()])
      pairs.push(['action', rng.pick(['next', 'previous', 'submit', '', 'autre'])])
      const res = await browser.app.inject({
        method: 'POST',
        url,
        headers: {
          host: browser.host,
          cookie: browser.cookieHeader(),
          'content-type': 'application/x-www-form-urlencoded',
        },
        payload: new URLSearchParams(pairs).toString(),
      })
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
      if (res.statusCode >= 500)
        t.fail(`${url} answered ${res.statusCode} to ${JSON.stringify(pairs).slice(0, 400)}`)
    }
  }
  t.notOk(statuses.has(500), `statuses: ${JSON.stringify(Object.fromEntries(statuses))}`)
})

/** The fields of the page's main form, whichever kind it is. */
function wizardOrForm(body: string): Record<string, string> {
  try {
    return wizardValues(body)
  } catch {
    const form = html(body).querySelector('main form[method="post"]:not([action="/deconnexion"])')
    return Object.fromEntries(
      form ? form.querySelectorAll('[name]').map((i) => [i.getAttribute('name')!, '']) : [],
    )
  }
}
