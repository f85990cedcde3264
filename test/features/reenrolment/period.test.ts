import t from 'tap'
import { Reenrolment } from '../../../src/features/reenrolment/entities.ts'
import { campaignOf } from '../../../src/features/reenrolment/service.ts'
import type { TenantConfig } from '../../../src/platform/tenancy/tenant-config.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser, goodPassword } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { demoTenant, enrolIn, reenrollingFamily, wizardValues } from '../../helpers/reenrolment.ts'

const text = (value: string | undefined) => (value ?? '').replace(/\s+/g, ' ').trim()

const tenantWith = (opens: string, closes: string) =>
  ({
    slug: 'edge',
    timezone: 'Europe/Paris',
    periods: { reenrolment: { opens, closes, schoolYear: '2025-2026' } },
    reenrolment: { steps: ['finalize'], layout: 'wizard' },
  }) as unknown as TenantConfig

t.test('the deadline is 23:59:59 in Paris, summer time and winter time alike', async (t) => {
  const summer = tenantWith('2025-05-15', '2025-06-11')
  t.equal(campaignOf(summer, new Date('2025-06-11T21:59:59.000Z'))?.open, true, '23:59:59 in June (UTC+2)')
  t.equal(campaignOf(summer, new Date('2025-06-11T21:59:59.999Z'))?.open, true)
  t.equal(campaignOf(summer, new Date('2025-06-11T22:00:00.000Z'))?.open, false, 'midnight in June')
  t.equal(campaignOf(summer, new Date('2025-05-14T21:59:59.999Z'))?.open, false, 'before it opens')
  t.equal(campaignOf(summer, new Date('2025-05-14T22:00:00.000Z'))?.open, true, 'opens at 00:00 Paris time')
  const winter = tenantWith('2025-01-06', '2025-01-15')
  t.equal(campaignOf(winter, new Date('2025-01-15T22:59:59.999Z'))?.open, true, '23:59:59 in January (UTC+1)')
  t.equal(campaignOf(winter, new Date('2025-01-15T23:00:00.000Z'))?.open, false, 'midnight in January')
  // the night the clocks go back: 26 October 2025, 03:00 CEST becomes 02:00 CET
  const autumn = tenantWith('2025-10-01', '2025-10-26')
  t.equal(
    campaignOf(autumn, new Date('2025-10-26T22:59:59.999Z'))?.open,
    true,
    'after the change to winter time',
  )
  t.equal(campaignOf(autumn, new Date('2025-10-26T23:00:00.000Z'))?.open, false)
})

async function setUp(t: Parameters<typeof build>[0], periods: Record<string, string>) {
  const built = await build(t, {
    tenants: [demoTenant('limonest', { periods: { reenrolment: { schoolYear: '2027-2028', ...periods } } })],
  })
  const tenant = built.tenants[0]!
  const em = () => built.app.orm.em.fork({ schema: schemaFor(tenant.slug) })
  const family = await reenrollingFamily(built.app, tenant.slug)
  await enrolIn(built.app, tenant.slug, family.pupil, ['clarinette'], tenant.establishments[0]!.code)
  const browser = new Browser(built.app, built.host())
  await browser.submit('/connexion', '/connexion', { identifiant: 'famille-martin', password: goodPassword })
  return { ...built, tenant, em, family, browser, base: `/eleves/${family.pupil.id}/reinscription` }
}

t.test('outside the period: no tab, no home box, and the routes give the dates', async (t) => {
  const { browser, base, family } = await setUp(t, { opens: 'today-30', closes: 'today-1' })
  const identity = html((await browser.get(`/eleves/${family.pupil.id}`)).body)
  t.notOk(
    identity.querySelectorAll('.tabs a').some((a) => a.text === 'Réinscription'),
    'no Réinscription tab',
  )
  t.equal(html((await browser.get('/accueil')).body).querySelector('#reenrolment-title'), null, 'no home box')
  for (const url of [base, `${base}/coordonnees`, `${base}/refuser`]) {
    const res = await browser.get(url)
    t.equal(res.statusCode, 403, url)
    const page = html(res.body)
    t.equal(page.querySelector('h1')?.text, 'Réinscription fermée')
    t.match(
      text(page.querySelector('main .panel')?.text),
      /La réinscription était ouverte du \d{2}\/\d{2}\/\d{4} à 00:00 au \d{2}\/\d{2}\/\d{4} à 23:59/,
    )
  }
})

t.test('before the period: the page says when it opens', async (t) => {
  const { browser, base } = await setUp(t, { opens: 'today+3', closes: 'today+20' })
  const res = await browser.get(base)
  t.equal(res.statusCode, 403)
  t.match(
    text(html(res.body).querySelector('main .panel')?.text),
    /La réinscription ouvrira le \d{2}\/\d{2}\/\d{4} à 00:00/,
  )
})

t.test('a submit after the deadline is refused with the dates, and the draft is kept', async (t) => {
  const { tenant, em, family, browser, base } = await setUp(t, { opens: 'today-30', closes: 'today+1' })
  const choice = html((await browser.get(base)).body)
  await browser.post(`${base}/commencer`, {
    _csrf: choice.querySelector('form[action$="/commencer"] input[name="_csrf"]')!.getAttribute('value')!,
  })
  const page = await browser.get(`${base}/coordonnees`)
  const values: Record<string, string> = { ...wizardValues(page.body), paymentMode: 'payfip', action: 'next' }
  t.equal((await browser.post(`${base}/coordonnees`, values)).statusCode, 303)
  // the period ends while the family is filling in the form
  tenant.periods!.reenrolment!.closes = 'today-1'
  const late = await browser.post(`${base}/autorisations`, {
    _csrf: values._csrf as string,
    imageRights: 'true',
    exitAuthorization: 'true',
    action: 'next',
  })
  t.equal(late.statusCode, 403)
  t.match(text(html(late.body).querySelector('main .panel')?.text), 'ce que vous aviez commencé est conservé')
  const draft = await em().findOneOrFail(Reenrolment, { pupil: family.pupil.id })
  t.equal(draft.status, 'draft')
  t.equal(draft.answers.paymentMode, 'payfip', 'the draft is kept')
  t.equal(draft.answers.imageRights, undefined, 'nothing saved after the deadline')
})
