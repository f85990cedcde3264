import t from 'tap'
import { exportDebits } from '../../../src/features/billing/debits.ts'
import { Debit, Payment } from '../../../src/features/billing/entities.ts'
import { tenantToday } from '../../../src/features/family/service.ts'
import { AuditEvent } from '../../../src/platform/audit/entities.ts'
import { Browser, createAccount, goodPassword } from '../../helpers/accounts.ts'
import { html } from '../../helpers/build.ts'
import { debitSetUp as setUp, shownBalance, text } from '../../helpers/debits.ts'

t.test(
  'a rejected debit: recorded with its reason, the balance back up, “Prélèvement rejeté” for the family',
  async (t) => {
    const { app, host, mandate, past, staff, key, em, issuedAt, signIn, tuition } = await setUp(t)
    await mandate()
    await exportDebits(staff, past, key, issuedAt)
    const [debit] = await em().find(Debit, {})
    const family = new Browser(app, host())
    await family.submit('/connexion', '/connexion', { identifiant: 'famille-martin', password: goodPassword })
    const before = html((await family.get('/facturation')).body)
    t.match(shownBalance(before), { Payé: '100,00 €', 'Reste à payer': '200,00 €' })

    const browser = await signIn('secretariat')
    const path = `/admin/facturation/prelevements?mois=${past}`
    const action = `/admin/facturation/prelevements/operations/${debit!.id}/rejet`
    const refused = await browser.submit(path, action, { mois: past, reason: '', rejectedOn: '2999-01-01' })
    t.equal(refused.statusCode, 400)
    const form = html(refused.body)
    t.equal(
      text(form.querySelector(`#reason-${debit!.id}-error`)?.text),
      'Choisissez le motif du rejet donné par la banque.',
    )
    t.equal(
      text(form.querySelector(`#rejectedOn-${debit!.id}-error`)?.text),
      'Saisissez la date du rejet, entre la date du prélèvement et aujourd’hui.',
    )
    t.equal(
      form.querySelector(`#rejectedOn-${debit!.id}`)?.getAttribute('value'),
      '2999-01-01',
      'what was typed is kept',
    )
    t.ok(form.querySelector(`#debit-${debit!.id} details[open]`), 'its form open')
    const early = html(
      (await browser.submit(path, action, { mois: past, reason: 'AM04', rejectedOn: `${past}-01` })).body,
    )
    t.match(text(early.querySelector(`#rejectedOn-${debit!.id}-error`)?.text), 'entre la date du prélèvement')

    const done = await browser.submit(path, action, { mois: past, reason: 'AM04', rejectedOn: `${past}-08` })
    t.equal(done.statusCode, 303)
    const page = html((await browser.get(done.headers.location as string)).body)
    t.match(text(page.querySelector('[role="status"]')?.text), 'le montant est de nouveau dû')
    t.match(
      text(page.querySelector(`#debit-${debit!.id}`)?.text),
      /Rejeté le \d\d\/\d\d\/\d{4} : AM04 — provision insuffisante/,
    )
    t.equal(page.querySelector(`form[action="${action}"]`), null, 'rejected once')
    const payment = await em().findOneOrFail(Payment, debit!.payment.id)
    t.same(
      [
        payment.rejectedOn && String(payment.rejectedOn).slice(0, 10),
        payment.rejectionReason,
        payment.amount,
      ],
      [`${past}-08`, 'AM04', 10000],
      'kept, marked rejected',
    )
    t.equal(await em().count(AuditEvent, { action: 'debit.reject' }), 1)

    const invoice = html((await browser.get(`/admin/facturation/factures/${tuition}`)).body)
    t.match(shownBalance(invoice), { Payé: '0,00 €', 'Reste à payer': '300,00 €' })
    t.match(text(invoice.querySelector('.receipts')?.text), 'Prélèvement rejeté le 08/')

    const after = html((await family.get('/facturation')).body)
    t.match(shownBalance(after), { Payé: '0,00 €', 'Reste à payer': '300,00 €' }, 'the balance back up')
    t.match(text(after.querySelector('.instalments li')?.text), 'Prélèvement rejeté', 'on the instalment')
    t.match(text(after.querySelector('.receipts')?.text), 'Prélèvement rejeté le 08/')
    t.match(text(after.querySelector('.receipts')?.text), 'provision insuffisante. Ce montant reste dû.')
    const home = html((await family.get('/accueil')).body)
    t.match(
      text(home.querySelector('#billing-title')?.parentNode?.text),
      '300,00 €',
      'Accueil counts it due too',
    )
  },
)

t.test(
  'staff URLs refuse families and teachers; the direction reads only; another tenant’s ids are 404',
  async (t) => {
    const { app, host, tenants, mandate, next, staff, key, em, mine, signIn, contextOf } = await setUp(t)
    await mandate()
    await exportDebits(staff, next, key)
    const [debit] = await em().find(Debit, {}, { populate: ['batch'] })
    const batch = debit!.batch.id
    const reads = [
      `/admin/facturation/familles/${mine.family.id}/mandat`,
      `/admin/facturation/prelevements?mois=${next}`,
      `/admin/facturation/prelevements/${batch}/fichier`,
    ]
    const writes = [
      `/admin/facturation/familles/${mine.family.id}/mandat`,
      `/admin/facturation/familles/${mine.family.id}/mandat/revocation`,
      '/admin/facturation/prelevements',
      `/admin/facturation/prelevements/operations/${debit!.id}/rejet`,
    ]
    const family = new Browser(app, host())
    await family.submit('/connexion', '/connexion', { identifiant: 'famille-martin', password: goodPassword })
    await contextOf('teacher', 'professeur')
    // teachers sign in at their own page
    const teacher = new Browser(app, host())
    await teacher.submit('/enseignant/connexion', '/enseignant/connexion', {
      identifiant: 'professeur',
      password: goodPassword,
    })
    for (const [who, browser] of [
      ['family', family],
      ['teacher', teacher],
    ] as const) {
      for (const url of reads) t.equal((await browser.get(url)).statusCode, 403, `${who} GET ${url}`)
      for (const url of writes)
        t.equal((await browser.post(url, { _csrf: 'x', mois: next })).statusCode, 403, `${who} POST ${url}`)
    }
    const visitor = new Browser(app, host())
    t.equal((await visitor.get(reads[1]!)).statusCode, 303, 'a visitor signs in first')

    const direction = await signIn('direction')
    for (const url of reads) t.equal((await direction.get(url)).statusCode, 200, `direction GET ${url}`)
    const shown = html((await direction.get(reads[1]!)).body)
    t.equal(
      shown.querySelector('form[method="post"][action^="/admin/facturation/prelevements"]'),
      null,
      'no form for the direction',
    )
    const page = await direction.get(`/admin/facturation/familles/${mine.family.id}/mandat`)
    const csrf = html((await direction.get('/admin/facturation')).body)
      .querySelector('input[name="_csrf"]')
      ?.getAttribute('value')
    for (const url of writes)
      t.equal(
        (await direction.post(url, { _csrf: csrf ?? '', mois: next })).statusCode,
        403,
        `direction POST ${url}`,
      )
    t.equal(page.statusCode, 200)

    // the second tenant's secretariat: the first tenant's family, file and debit do not exist there
    await createAccount(app, tenants[1]!.slug, { identifiant: 'secretariat-web', role: 'secretariat' })
    const elsewhere = await signIn('secretariat', host(1))
    t.equal((await elsewhere.get(`/admin/facturation/familles/${mine.family.id}/mandat`)).statusCode, 404)
    t.equal((await elsewhere.get(`/admin/facturation/prelevements/${batch}/fichier`)).statusCode, 404)
    const month = html((await elsewhere.get('/admin/facturation/prelevements')).body)
    t.match(text(month.querySelector('main')?.text), 'Aucune échéance à prélever')
    const otherToken = month.querySelector('input[name="_csrf"]')?.getAttribute('value')
    t.equal(
      (
        await elsewhere.post(`/admin/facturation/prelevements/operations/${debit!.id}/rejet`, {
          _csrf: otherToken ?? '',
          mois: next,
          reason: 'AM04',
          rejectedOn: tenantToday(staff.config),
        })
      ).statusCode,
      404,
    )
    t.equal((await elsewhere.get(`/admin/facturation/prelevements?mois=${next}`)).statusCode, 200)
    t.equal((await new Browser(app, 'inconnu.localhost').get(reads[1]!)).statusCode, 404, 'an unknown host')
    t.equal((await elsewhere.get('/admin/facturation/prelevements/999999/fichier')).statusCode, 404)
  },
)
