import t, { type Test } from 'tap'
import { Family, Guardian } from '../../../src/features/family/entities.ts'
import { Pupil } from '../../../src/features/pupils/entities.ts'
import { AuditEvent } from '../../../src/platform/audit/entities.ts'
import { Account, Session } from '../../../src/platform/auth/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser, createAccount, goodPassword, signedInBrowser } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { createFamily } from '../../helpers/families.ts'
import { formValues } from '../../helpers/forms.ts'

const tenant = {
  paymentModes: [
    { id: 'prelevement', label: 'Prélèvement en 9 fois', kind: 'directDebit', instalments: 9 },
    { id: 'cheque', label: 'Chèque', kind: 'cheque' },
  ],
  quotientFamilial: {
    brackets: [
      { code: 'Q1', label: 'Q1 — QF jusqu’à 600 €', max: 600 },
      { code: 'Q2', label: 'Q2 — QF au-delà de 600 € ou non justifié' },
    ],
    fallback: 'Q2',
  },
}

async function setup(t: Test) {
  const built = await build(t, { tenants: [tenant, {}] })
  const slug = built.tenants[0]!.slug
  await createAccount(built.app, slug, { identifiant: 'secretariat', role: 'secretariat' })
  await createAccount(built.app, slug, { identifiant: 'direction', role: 'direction' })
  const martin = await createFamily(built.app, slug, 'famille-martin', 'Martin')
  const other = await createFamily(built.app, slug, 'famille-durand', 'Durand')
  const staff = await signedInBrowser(built.app, built.host(), 'secretariat', '/admin/connexion')
  const em = () => built.app.orm.em.fork({ schema: schemaFor(slug) })
  return { ...built, slug, martin, other, staff, em }
}

t.test('a family’s page shows its guardians, account, pupils, pending changes and history', async (t) => {
  const { app, host, martin, staff } = await setup(t)
  const res = await staff.get(`/admin/familles/${martin.family.id}`)
  t.equal(res.statusCode, 200)
  const page = html(res.body)
  t.equal(page.querySelector('h1')?.text, 'Camille Martin')
  t.match(page.text, 'Responsable 1 — Camille Martin')
  t.match(page.text, 'Responsable 2 — Thomas Martin')
  t.match(page.text, '3 rue des Lilas', 'every identity field')
  t.ok(page.querySelector(`a[href="/admin/comptes/${martin.account.id}"]`), 'the account links to its page')
  t.match(page.text, 'famille-martin')
  t.match(page.text, 'Actif')
  t.ok(
    page.querySelector(`a[href="/admin/comptes/nouveau?responsable=${martin.second.id}"]`),
    'a guardian without an account can be invited',
  )
  t.ok(page.querySelector(`a[href="/admin/familles/${martin.family.id}/eleves/${martin.pupil.id}"]`))
  t.match(page.text, 'Aucun événement enregistré.')

  // the family proposes a change through the sas: the page lists it and its history says so
  const family = await signedInBrowser(app, host(), 'famille-martin')
  const action = `/famille/responsables/${martin.guardian.id}`
  await family.submit(action, action, {
    ...formValues((await family.get(action)).body, action),
    city: 'Lyon',
  })
  const after = html((await staff.get(`/admin/familles/${martin.family.id}`)).body)
  const pending = after.querySelector('a[href^="/admin/changements/"]')
  t.equal(pending?.text, 'Responsable Camille Martin')
  t.match(after.text, 'Ville : Limonest → Lyon')
  t.match(after.querySelector('.history')?.text, 'Modification proposée par la famille')
})

t.test('staff correct a guardian directly: one audited change with before and after', async (t) => {
  const { martin, staff, em } = await setup(t)
  const url = `/admin/familles/${martin.family.id}/responsables/${martin.guardian.id}`
  const form = await staff.get(url)
  t.equal(form.statusCode, 200)
  const values = formValues(form.body, url)
  t.equal(values.phoneMobile, '06 12 34 56 78')

  await t.test(
    'bad input: 400, the messages beside the fields, what was typed kept, nothing saved',
    async (t) => {
      const res = await staff.submit(url, url, { ...values, phoneMobile: '12', lastName: '', city: 'Écully' })
      t.equal(res.statusCode, 400)
      const page = html(res.body)
      t.match(page.querySelector('#phoneMobile-error')?.text, 'numéro')
      t.match(page.querySelector('#lastName-error')?.text, 'obligatoire')
      t.equal(page.querySelector('#city')?.getAttribute('value'), 'Écully')
      t.equal(page.querySelector('#phoneMobile')?.getAttribute('value'), '12')
      t.ok(page.querySelector('.error-summary'))
      const guardian = await em().findOneOrFail(Guardian, martin.guardian.id)
      t.equal(guardian.phoneMobile, '06 12 34 56 78')
      t.equal(await em().count(AuditEvent, { action: 'guardian.edited' }), 0)
    },
  )

  const res = await staff.submit(url, url, { ...values, phoneMobile: '0798765432' })
  t.equal(res.statusCode, 303)
  t.equal(res.headers.location, `/admin/familles/${martin.family.id}?enregistre=saved`)
  const guardian = await em().findOneOrFail(Guardian, martin.guardian.id)
  t.equal(guardian.phoneMobile, '07 98 76 54 32', 'normalized as the families’ form does')
  const events = await em().find(AuditEvent, { action: 'guardian.edited' })
  t.equal(events.length, 1)
  t.same(events[0]!.details, {
    family: martin.family.id,
    changes: { phoneMobile: { before: '06 12 34 56 78', after: '07 98 76 54 32' } },
  })
  t.equal(events[0]!.subjectType, 'guardian')
  t.match(events[0]!.actorName, 'secretariat')

  const page = html((await staff.get(`/admin/familles/${martin.family.id}?enregistre=saved`)).body)
  t.match(page.querySelector('[role="status"]')?.text, 'Modification enregistrée')
  const history = page.querySelector('.history')!.text
  t.match(history, 'Responsable modifié par le secrétariat')
  t.match(history, 'Mobile : 06 12 34 56 78 → 07 98 76 54 32')

  const again = await staff.submit(url, url, formValues((await staff.get(url)).body, url))
  t.equal(again.headers.location, `/admin/familles/${martin.family.id}?enregistre=unchanged`)
  t.equal(await em().count(AuditEvent, { action: 'guardian.edited' }), 1, 'no change, no event')
})

t.test('staff correct a pupil and the family’s own fields', async (t) => {
  const { martin, staff, em } = await setup(t)
  const url = `/admin/familles/${martin.family.id}/eleves/${martin.pupil.id}`
  const values = { ...formValues((await staff.get(url)).body, url), civility: 'Madame' }
  const refused = await staff.submit(url, url, { ...values, birthDate: '2090-01-01' })
  t.equal(refused.statusCode, 400)
  t.match(html(refused.body).querySelector('#birthDate-error')?.text, 'futur')
  const minor = await staff.submit(url, url, { ...values, exitAuthorization: '' })
  t.equal(minor.statusCode, 400, 'a minor’s exit authorization is required, as for families')
  const saved = await staff.submit(url, url, { ...values, firstName: 'Léa-Rose', exitAuthorization: 'true' })
  t.equal(saved.statusCode, 303)
  t.equal((await em().findOneOrFail(Pupil, martin.pupil.id)).firstName, 'Léa-Rose')
  const event = await em().findOneOrFail(AuditEvent, { action: 'pupil.edited' })
  t.same(Object.keys(event.details.changes as object).sort(), ['civility', 'exitAuthorization', 'firstName'])

  const fields = `/admin/familles/${martin.family.id}/modifier`
  const form = await staff.get(fields)
  t.equal(form.statusCode, 200)
  t.ok(html(form.body).querySelector('option[value="Q1"]'), 'the tenant’s QF grid')
  const bad = await staff.submit(fields, fields, {
    resident: 'true',
    quotientBracket: 'Q9',
    paymentMode: 'cheque',
  })
  t.equal(bad.statusCode, 400)
  t.ok(html(bad.body).querySelector('#quotientBracket-error'))
  t.equal(html(bad.body).querySelector('#paymentMode option[selected]')?.getAttribute('value'), 'cheque')
  const ok = await staff.submit(fields, fields, {
    resident: 'false',
    quotientBracket: 'Q1',
    paymentMode: 'cheque',
  })
  t.equal(ok.statusCode, 303)
  const family = await em().findOneOrFail(Family, martin.family.id)
  t.same([family.resident, family.quotientBracket, family.paymentMode], [false, 'Q1', 'cheque'])
  const edited = await em().findOneOrFail(AuditEvent, { action: 'family.edited' })
  t.same(edited.details.changes, {
    resident: { before: 'true', after: 'false' },
    quotientBracket: { before: null, after: 'Q1' },
    paymentMode: { before: null, after: 'cheque' },
  })
  const page = html((await staff.get(`/admin/familles/${martin.family.id}`)).body)
  t.match(page.querySelector('.history')?.text, 'Mode de règlement : (vide) → Chèque')
})

t.test('a family typed at the desk, then a pupil added to it', async (t) => {
  const { staff, em } = await setup(t)
  const url = '/admin/familles/nouvelle'
  const empty = await staff.submit(url, url, { resident: 'true' })
  t.equal(empty.statusCode, 400)
  const summary = html(empty.body).querySelector('.error-summary')?.text
  t.match(summary, 'Responsable 1 — Nom')
  const typed = {
    'g1-civility': 'Madame',
    'g1-lastName': 'Nguyen',
    'g1-firstName': 'Linh',
    'g1-phoneMobile': '0611223344',
    'g1-address': '2 chemin des Vignes',
    'g1-postalCode': '69760',
    'g1-city': 'Limonest',
    'g1-email': 'linh.nguyen@example.fr',
    'g2-firstName': 'Minh',
    'p-civility': 'Madame',
    'p-firstName': 'Chloé',
    'p-lastName': 'Nguyen',
    'p-birthDate': '2016-05-04',
    'p-useGuardianAddress': 'true',
    resident: 'true',
  }
  const partial = await staff.submit(url, url, typed)
  t.equal(partial.statusCode, 400, 'a responsable 2 begun must be complete')
  const page = html(partial.body)
  t.match(page.querySelector('[id="g2-lastName-error"]')?.text, 'obligatoire')
  t.equal(page.querySelector('[id="g1-lastName"]')?.getAttribute('value'), 'Nguyen', 'what was typed is kept')
  t.match(page.querySelector('[id="p-exitAuthorization-error"]')?.text ?? '', /sortie|mineur|Oui/i)
  t.equal(await em().count(Guardian, { lastName: 'Nguyen' }), 0)

  const created = await staff.submit(url, url, {
    ...typed,
    'g2-civility': 'Monsieur',
    'g2-lastName': 'Nguyen',
    'g2-address': '2 chemin des Vignes',
    'g2-postalCode': '69760',
    'g2-city': 'Limonest',
    'g2-email': 'minh.nguyen@example.fr',
    'p-exitAuthorization': 'false',
  })
  t.equal(created.statusCode, 303)
  const id = Number(/\/admin\/familles\/(\d+)/.exec(String(created.headers.location))![1])
  const guardians = await em().find(Guardian, { family: id }, { orderBy: { rank: 'asc' } })
  t.same(
    guardians.map((g) => [g.rank, g.firstName, g.phoneMobile]),
    [
      [1, 'Linh', '06 11 22 33 44'],
      [2, 'Minh', null],
    ],
  )
  t.equal((await em().findOneOrFail(Pupil, { family: id })).firstName, 'Chloé')
  t.ok(await em().findOne(AuditEvent, { action: 'family.created', subjectId: id }))

  const add = `/admin/familles/${id}/eleves/nouveau`
  const form = html((await staff.get(add)).body)
  t.equal(form.querySelector('#lastName')?.getAttribute('value'), 'Nguyen', 'the family’s name by default')
  const added = await staff.submit(add, add, {
    civility: 'Monsieur',
    lastName: 'Nguyen',
    firstName: 'Bảo',
    birthDate: '2019-02-03',
    useGuardianAddress: 'true',
    exitAuthorization: 'false',
  })
  t.equal(added.statusCode, 303)
  t.equal(await em().count(Pupil, { family: id }), 2)
  const list = html((await staff.get('/admin/familles?q=chloe')).body)
  t.match(list.querySelector('tbody tr')?.text, 'Chloé, Bảo')
})

t.test(
  'an archived family leaves the lists, and its accounts can no longer sign in until reactivated',
  async (t) => {
    const { app, host, martin, staff, em } = await setup(t)
    const family = await signedInBrowser(app, host(), 'famille-martin')
    const url = `/admin/familles/${martin.family.id}/archiver`
    const confirm = html((await staff.get(url)).body)
    t.match(confirm.text, 'famille-martin', 'the page names the accounts it disables')
    const tooLong = await staff.submit(url, url, { reason: 'x'.repeat(501) })
    t.equal(tooLong.statusCode, 400)
    t.notOk((await em().findOneOrFail(Family, martin.family.id)).archivedAt)

    const res = await staff.submit(url, url, { reason: 'Déménagement à Lille' })
    t.equal(res.statusCode, 303)
    t.ok((await em().findOneOrFail(Family, martin.family.id)).archivedAt)
    t.ok((await em().findOneOrFail(Account, martin.account.id)).disabled)
    t.equal(await em().count(Session, { account: martin.account.id }), 0, 'its sessions are closed')
    t.equal((await family.get('/famille')).statusCode, 303, 'the open session is gone')
    const signIn = await new Browser(app, host()).submit('/connexion', '/connexion', {
      identifiant: 'famille-martin',
      password: goodPassword,
    })
    t.not(signIn.statusCode, 303, 'sign-in refused')

    const names = async (query: string) =>
      html((await staff.get(`/admin/familles${query}`)).body)
        .querySelectorAll('tbody th')
        .map((th) => th.text.trim())
    t.same(await names(''), ['Camille Durand'])
    t.same(await names('?etat=archived'), ['Camille Martin'])
    t.same(await names('?etat=all'), ['Camille Durand', 'Camille Martin'])
    const page = html((await staff.get(`/admin/familles/${martin.family.id}`)).body)
    t.match(page.text, 'Famille archivée le')
    t.match(page.querySelector('.history')?.text, 'Motif : Déménagement à Lille')

    const reactivate = await staff.submit(
      `/admin/familles/${martin.family.id}`,
      `/admin/familles/${martin.family.id}/reactiver`,
      {},
    )
    t.equal(reactivate.statusCode, 303)
    t.notOk((await em().findOneOrFail(Family, martin.family.id)).archivedAt)
    t.notOk((await em().findOneOrFail(Account, martin.account.id)).disabled)
    await signedInBrowser(app, host(), 'famille-martin')
    t.same(await names(''), ['Camille Durand', 'Camille Martin'])
  },
)

t.test('another tenant’s ids, another family’s pupil or guardian, and read-only roles', async (t) => {
  const { app, host, tenants, martin, other, staff } = await setup(t)
  await createAccount(app, tenants[1]!.slug, { identifiant: 'secretariat-b', role: 'secretariat' })
  const elsewhere = await signedInBrowser(app, host(1), 'secretariat-b', '/admin/connexion')
  const f = martin.family.id
  for (const url of [
    `/admin/familles/${f}`,
    `/admin/familles/${f}/responsables/${martin.guardian.id}`,
    `/admin/familles/${f}/eleves/${martin.pupil.id}`,
    `/admin/familles/${f}/modifier`,
    `/admin/familles/${f}/archiver`,
  ])
    t.equal((await elsewhere.get(url)).statusCode, 404, `another tenant: ${url}`)
  t.equal(
    (await staff.get(`/admin/familles/${f}/eleves/${other.pupil.id}`)).statusCode,
    404,
    'another family’s pupil',
  )
  t.equal(
    (await staff.get(`/admin/familles/${f}/responsables/${other.guardian.id}`)).statusCode,
    404,
    'another family’s guardian',
  )
  const url = `/admin/familles/${f}/eleves/${martin.pupil.id}`
  const values = formValues((await staff.get(url)).body, url)
  const token = values._csrf!
  const post = await staff.post(`/admin/familles/${f}/eleves/${other.pupil.id}`, {
    ...values,
    _csrf: token,
    firstName: 'X',
  })
  t.equal(post.statusCode, 404)
  t.equal((await staff.get(`/admin/familles/${other.family.id}`)).statusCode, 200)

  const direction = await signedInBrowser(app, host(), 'direction', '/admin/connexion')
  const page = html((await direction.get(`/admin/familles/${f}`)).body)
  t.notOk(page.querySelector(`a[href="/admin/familles/${f}/archiver"]`), 'the direction sees no edit button')
  t.equal((await direction.get(`/admin/familles/${f}/modifier`)).statusCode, 403)
  t.equal((await direction.get('/admin/familles/nouvelle')).statusCode, 403)
})
