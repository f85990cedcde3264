import t from 'tap'
import { Invoice } from '../../../src/features/billing/entities.ts'
import { Family } from '../../../src/features/family/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser, createAccount, signedInBrowser } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { createFamily } from '../../helpers/families.ts'
import { demoTenant, enrolIn } from '../../helpers/reenrolment.ts'

const text = (value: string | undefined) => (value ?? '').replace(/\s+/g, ' ').trim()

/**
 * Limonest's tariffs: the Martin family (Q3, direct debit) has Léa in clarinet, formation musicale
 * and orchestra (one cursus complet, 255 €, plus the 15 € adhesion); the Durand family proved no QF
 * and chose no payment mode (theatre at the fallback Q7, 330 €, plus 15 €).
 */
async function setUp(t: Parameters<typeof build>[0]) {
  const built = await build(t, { tenants: [demoTenant('limonest'), demoTenant('limonest')] })
  const { app, tenants } = built
  const slug = tenants[0]!.slug
  const site = tenants[0]!.establishments[0]!.code
  const em = app.orm.em.fork({ schema: schemaFor(slug) })
  const martin = await createFamily(app, slug, 'famille-martin', 'Martin')
  const durand = await createFamily(app, slug, 'famille-durand', 'Durand')
  await em.nativeUpdate(
    Family,
    { id: martin.family.id },
    { quotientBracket: 'Q3', paymentMode: 'prelevement' },
  )
  await em.nativeUpdate(Family, { id: durand.family.id }, { quotientBracket: null, paymentMode: null })
  await enrolIn(app, slug, martin.pupil, ['clarinette', 'formation-musicale', 'orchestre'], site)
  await enrolIn(app, slug, durand.pupil, ['theatre'], site)
  for (const [identifiant, role] of [
    ['secretariat', 'secretariat'],
    ['direction', 'direction'],
  ] as const)
    await createAccount(app, slug, { identifiant, role })
  return { ...built, slug, em, martin, durand }
}

t.test('the year’s invoices previewed from tariffs and enrolments, then issued in one action', async (t) => {
  const { app, host, em, martin, durand } = await setUp(t)
  const secretariat = await signedInBrowser(app, host(), 'secretariat', '/admin/connexion')
  const list = html((await secretariat.get('/admin/facturation')).body)
  t.ok(list.querySelector('a[href="/admin/facturation/generer"]'), 'reached from Facturation')
  const preview = html((await secretariat.get('/admin/facturation/generer')).body)
  t.match(text(preview.querySelector('h1')?.text), 'Factures de l’année 2026-2027')
  t.match(
    text(preview.querySelector('main')?.text),
    '2 familles n’ont pas encore sa facture de cotisation : 615,00 € en tout',
  )
  const rows = preview.querySelectorAll('tbody tr').map((r) => text(r.text))
  t.equal(rows.length, 2)
  t.match(rows[0], /Durand .* 345,00 € 1 QF non justifié : Q7 — .* appliquée Mode de paiement non choisi/)
  t.match(rows[1], /Martin .* 270,00 € 9 —/)
  t.match(text(preview.querySelector('.alert--pending')?.text), '2 points sont à vérifier')

  const direction = await signedInBrowser(app, host(), 'direction', '/admin/connexion')
  const seen = html((await direction.get('/admin/facturation/generer')).body)
  t.equal(seen.querySelectorAll('tbody tr').length, 2, 'the direction sees the preview')
  t.notOk(seen.querySelector('form[action="/admin/facturation/generer"]'), 'but cannot issue')
  const token = seen.querySelector('input[name=_csrf]')?.getAttribute('value') ?? ''
  t.equal((await direction.post('/admin/facturation/generer', { _csrf: token })).statusCode, 403)
  t.equal(await em.count(Invoice, {}), 0, 'nothing issued by the direction')

  const issued = await secretariat.submit('/admin/facturation/generer', '/admin/facturation/generer', {})
  t.equal(issued.statusCode, 303)
  t.equal(issued.headers.location, '/admin/facturation/generer?emises=2')
  const invoices = await em
    .fork()
    .find(Invoice, {}, { populate: ['lines', 'instalments'], orderBy: { number: 'asc' } })
  t.same(
    invoices.map((i) => [i.number?.replace(/\d{4}-/, 'YYYY-'), i.family.id, i.total, i.instalments.length]),
    [
      ['FYYYY-000001', durand.family.id, 34500, 1],
      ['FYYYY-000002', martin.family.id, 27000, 9],
    ],
    'numbered in one sequence, in the order of the families',
  )
  t.same(
    invoices[1]!.lines.getItems().map((l) => [l.label, l.amount]),
    [
      ['Léa Martin — Cursus complet (instrument, formation musicale et pratique collective)', 25500],
      ['Adhésion annuelle', 1500],
    ],
  )
  t.equal(invoices[1]!.lines[0]!.pupil?.id, martin.pupil.id)
  const after = html((await secretariat.get(issued.headers.location as string)).body)
  t.match(text(after.querySelector('[role=status]')?.text), '2 factures émises.')
  t.match(
    text(after.querySelector('main')?.text),
    'Toutes les familles inscrites cette année ont leur facture de cotisation (2 familles).',
  )
  const again = await secretariat.post('/admin/facturation/generer', {
    _csrf: after.querySelector('input[name=_csrf]')?.getAttribute('value') ?? '',
  })
  t.equal(again.headers.location, '/admin/facturation/generer?emises=0')
  t.equal(await em.fork().count(Invoice, {}), 2, 'a second run bills nobody twice')

  const family = await signedInBrowser(app, host(), 'famille-martin')
  t.match(text((await family.get('/facturation')).body), /F\d{4}-000002/)
})

t.test(
  'isolation: another conservatoire’s staff see only their own families; visitors and families are refused',
  async (t) => {
    const { app, host, tenants } = await setUp(t)
    await createAccount(app, tenants[1]!.slug, { identifiant: 'secretariat-b', role: 'secretariat' })
    const other = await signedInBrowser(app, host(1), 'secretariat-b', '/admin/connexion')
    const page = html((await other.get('/admin/facturation/generer')).body)
    t.equal(page.querySelectorAll('tbody tr').length, 0)
    t.notMatch(page.text, 'Martin')
    const visitor = await new Browser(app, host()).get('/admin/facturation/generer')
    t.equal(visitor.statusCode, 303)
    const family = await signedInBrowser(app, host(), 'famille-martin')
    t.equal((await family.get('/admin/facturation/generer')).statusCode, 403)
  },
)
