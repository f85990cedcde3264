import { createHash } from 'node:crypto'
import t from 'tap'
import { SepaMandate } from '../../../src/features/billing/entities.ts'
import { sealIban } from '../../../src/features/billing/iban-vault.ts'
import { DocumentSubmission, StoredFile } from '../../../src/features/documents/entities.ts'
import { Family, Guardian } from '../../../src/features/family/entities.ts'
import { Pupil } from '../../../src/features/pupils/entities.ts'
import { ChangeRequest } from '../../../src/features/sas/entities.ts'
import { Enrolment, Evaluation } from '../../../src/features/teaching/entities.ts'
import { AuditEvent } from '../../../src/platform/audit/entities.ts'
import { Account, Session } from '../../../src/platform/auth/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser, createAccount, goodPassword, signedInBrowser } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { createFamily } from '../../helpers/families.ts'
import { createSchooling } from '../../helpers/teaching.ts'

const yearsAgo = (years: number, days = 0) => {
  const date = new Date()
  date.setUTCFullYear(date.getUTCFullYear() - years)
  date.setUTCDate(date.getUTCDate() - days)
  return date
}

t.test('staff erase the families past the retention period, and only those', async (t) => {
  const { app, host, tenants } = await build(t, { tenants: [{ retention: { years: 2 } }, {}] })
  const slug = tenants[0]!.slug
  const em = () => app.orm.em.fork({ schema: schemaFor(slug) })
  const gone = await createFamily(app, slug, 'famille-partie', 'Lefèvre')
  const recent = await createFamily(app, slug, 'famille-recente', 'Roux')
  const present = await createFamily(app, slug, 'famille-presente', 'Garnier')
  await createSchooling(app, slug, gone.pupil)
  const setup = em()
  await setup.nativeUpdate(Family, { id: gone.family.id }, { archivedAt: yearsAgo(2, 1) })
  await setup.nativeUpdate(Family, { id: recent.family.id }, { archivedAt: yearsAgo(1) })
  const content = Buffer.from('%PDF-1.4\n%%EOF\n')
  const file = setup.create(StoredFile, {
    fileName: 'assurance.pdf',
    contentType: 'application/pdf',
    size: content.length,
    sha256: createHash('sha256').update(content).digest('hex'),
    content,
  })
  setup.create(DocumentSubmission, { family: gone.family.id, documentId: 'assurance', file })
  setup.create(ChangeRequest, {
    family: gone.family.id,
    subjectType: 'guardian',
    subjectId: gone.guardian.id,
    changes: { city: { before: 'Limonest', after: 'Lyon' } },
  })
  setup.create(AuditEvent, {
    actorName: 'Camille Lefèvre (famille-partie)',
    actor: gone.account.id,
    action: 'change.proposed',
    subjectType: 'guardian',
    subjectId: gone.guardian.id,
    details: { city: { before: 'Limonest', after: 'Lyon' } },
  })
  setup.create(SepaMandate, {
    family: gone.family.id,
    reference: 'TST-000001',
    signedOn: '2020-09-01',
    holder: 'Camille Lefèvre',
    ...sealIban(app.config.billingKey, 'FR7630006000011234567890189'),
    ibanMasked: 'FR76 **** **** **** **** ***0 189',
    bic: 'AGRIFRPP882',
  })
  await setup.flush()
  // a session of the family that left, to be closed
  await signedInBrowser(app, host(), 'famille-partie')
  await createAccount(app, slug, { identifiant: 'secretariat', role: 'secretariat' })
  await createAccount(app, slug, { identifiant: 'direction', role: 'direction' })
  const staff = await signedInBrowser(app, host(), 'secretariat', '/admin/connexion')

  const dashboard = html((await staff.get('/admin')).body)
  t.match(
    dashboard.querySelector('a[href="/admin/rgpd"]')?.text,
    /1\s+Familles à effacer/,
    'the dashboard counts them',
  )

  const list = await staff.get('/admin/rgpd')
  t.equal(list.statusCode, 200)
  const rows = html(list.body).querySelectorAll('tbody tr')
  t.equal(rows.length, 2, 'archived families only')
  t.match(rows[0]!.text, /Lefèvre[\s\S]*À effacer depuis le/)
  t.ok(rows[0]!.querySelector(`a[href="/admin/rgpd/familles/${gone.family.id}/effacer"]`))
  t.match(rows[1]!.text, /Roux[\s\S]*Conservée jusqu'au/)
  t.notOk(rows[1]!.querySelector('a'), 'no Effacer before the end of the period')
  t.notMatch(list.body, /Garnier/, 'a present family is not listed')

  t.test('a family archived recently is refused with the date it may go', async (t) => {
    const confirm = await staff.get(`/admin/rgpd/familles/${recent.family.id}/effacer`)
    t.equal(confirm.statusCode, 409)
    t.match(
      html(confirm.body).querySelector('[role="alert"]')?.text,
      /archivée depuis le .* conservées 2 ans et ne peuvent pas être effacées avant le/,
    )
    t.notOk(html(confirm.body).querySelector('form[action$="/effacer"]'))
    const forced = await staff.post(`/admin/rgpd/familles/${recent.family.id}/effacer`, {
      _csrf:
        html((await staff.get('/admin/rgpd')).body)
          .querySelector('input[name="_csrf"]')
          ?.getAttribute('value') ?? '',
    })
    t.equal(forced.statusCode, 409)
    t.equal((await em().findOneOrFail(Guardian, { family: recent.family.id, rank: 1 })).lastName, 'Roux')
    const present409 = await staff.get(`/admin/rgpd/familles/${present.family.id}/effacer`)
    t.match(html(present409.body).querySelector('[role="alert"]')?.text, /n'est pas archivée/)
  })

  t.test('direction sees the list but cannot erase', async (t) => {
    const direction = await signedInBrowser(app, host(), 'direction', '/admin/connexion')
    const page = await direction.get('/admin/rgpd')
    t.equal(page.statusCode, 200)
    t.notOk(html(page.body).querySelector('a[href$="/effacer"]'))
    t.equal((await direction.get(`/admin/rgpd/familles/${gone.family.id}/effacer`)).statusCode, 403)
  })

  t.test('another tenant’s host does not know the family', async (t) => {
    await createAccount(app, tenants[1]!.slug, { identifiant: 'secretariat', role: 'secretariat' })
    const other = await signedInBrowser(app, host(1), 'secretariat', '/admin/connexion')
    t.equal((await other.get(`/admin/rgpd/familles/${gone.family.id}/effacer`)).statusCode, 404)
  })

  t.test('erasing removes the personal data and files, keeps the statistics, and is audited', async (t) => {
    const res = await staff.submit(
      `/admin/rgpd/familles/${gone.family.id}/effacer`,
      `/admin/rgpd/familles/${gone.family.id}/effacer`,
      {},
    )
    t.equal(res.statusCode, 303)
    t.equal(res.headers.location, '/admin/rgpd?fait=efface')
    const after = html((await staff.get('/admin/rgpd?fait=efface')).body)
    t.match(after.querySelector('[role="status"]')?.text, 'sont effacées')
    t.notMatch(after.text, /Lefèvre/)

    const check = em()
    const family = await check.findOneOrFail(Family, { id: gone.family.id })
    t.ok(family.erasedAt)
    const [mandate] = await check.find(SepaMandate, { family }, { populate: ['ibanCiphertext'] })
    t.match(mandate, {
      reference: 'TST-000001',
      holder: `Famille ${family.id}`,
      ibanCiphertext: '',
      ibanMasked: '—',
      state: 'revoked',
    })
    const guardians = await check.find(Guardian, { family }, { orderBy: { rank: 'asc' } })
    t.match(guardians[0], {
      lastName: `Famille ${family.id}`,
      firstName: 'Responsable 1',
      civility: null,
      birthDate: null,
      address: null,
      city: null,
      phoneMobile: null,
      email: null,
      familySituation: null,
      postalCode: '69760',
    })
    const pupil = await check.findOneOrFail(Pupil, { family })
    t.match(pupil, { firstName: 'Élève 1', lastName: `Famille ${family.id}`, birthDate: '2014-01-01' })
    t.equal(await check.count(DocumentSubmission, { family }), 0)
    t.equal(await check.count(StoredFile, { id: file.id }), 0, 'the stored file is deleted')
    t.same((await check.findOneOrFail(ChangeRequest, { family })).changes, {})
    t.equal(await check.count(Enrolment, { pupil }), 2, 'enrolments are kept')
    t.same(
      (await check.find(Evaluation, { enrolment: { pupil } })).map((e) => e.appreciation),
      ['', ''],
      'appreciations are removed',
    )
    const account = await check.findOneOrFail(
      Account,
      { id: gone.account.id },
      { populate: ['passwordHash'] },
    )
    t.match(account, { identifiant: `efface-${account.id}`, disabled: true, passwordHash: null })
    t.notMatch(account.email, /partie/)
    t.equal(await check.count(Session, { account }), 0, 'sessions are closed')
    const trail = await check.findOneOrFail(AuditEvent, {
      action: 'change.proposed',
      subjectId: gone.guardian.id,
    })
    t.same(trail.details, { erased: true })
    t.notMatch(trail.actorName, /Lefèvre/)
    const erased = await check.findOneOrFail(AuditEvent, { action: 'family.erased', subjectId: family.id })
    t.match(erased.actorName, /secretariat/)
    t.notMatch(JSON.stringify(erased.details), /Lefèvre|Camille|Léa|famille-partie|Limonest/)
    t.match(erased.details, { pupils: 1, files: 1, accounts: 1 })

    const signIn = await new Browser(app, host()).submit('/connexion', '/connexion', {
      identifiant: 'famille-partie',
      password: goodPassword,
    })
    t.equal(signIn.statusCode, 401, 'the account no longer opens')
    const again = await staff.get(`/admin/rgpd/familles/${family.id}/effacer`)
    t.equal(again.statusCode, 409)
    t.match(html(again.body).querySelector('[role="alert"]')?.text, /déjà été effacées/)
    t.notMatch(again.body, /Lefèvre/)
  })
})
