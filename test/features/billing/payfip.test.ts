import t from 'tap'
import { OnlinePayment, Payment } from '../../../src/features/billing/entities.ts'
import { issueInvoices } from '../../../src/features/billing/invoices.ts'
import { payfipUrl, refdetOf } from '../../../src/features/billing/payfip.ts'
import { Browser, signedInBrowser } from '../../helpers/accounts.ts'
import { billingSetUp, cotisation } from '../../helpers/billing.ts'
import { html } from '../../helpers/build.ts'
import { createFamily } from '../../helpers/families.ts'

const text = (value: string | undefined) => (value ?? '').replace(/[\s\u00a0\u202f]+/g, ' ').trim()
const autumn = new Date('2026-10-15T10:00:00Z')
const payfip = { billing: { payfip: { clientNumber: '012345', mode: 'test' } } }

/** Two families' cotisations issued (F2026-000001 the Martins', F2026-000002 the Durands'), both unpaid. */
async function setUp(t: Parameters<typeof billingSetUp>[0], overrides: Record<string, unknown> = payfip) {
  const built = await billingSetUp(t, overrides)
  const { staff, mine, other, draft } = built
  const tuition = await draft(cotisation(mine.family.id, mine.pupil.id))
  const theirs = await draft(cotisation(other.family.id, other.pupil.id))
  await issueInvoices(staff, [tuition, theirs], autumn)
  const browser = await signedInBrowser(built.app, built.host(), 'famille-martin')
  /** Presses the invoice's "Payer en ligne" as the family does, from its Facturation page. */
  const pay = (who = browser, id = tuition) =>
    who.submit('/facturation', `/facturation/factures/${id}/payer-en-ligne`, {})
  return { ...built, tuition, theirs, browser, pay }
}

const card = (body: string, id: number) =>
  html(body).querySelector(`section[aria-labelledby="invoice-${id}"]`)

t.test(
  'the PayFiP address: client number, year, refdet, objet, amount in cents, e-mail, return, mode',
  async (t) => {
    t.equal(refdetOf('F2026-000123', 1), 'F2026000123P01')
    t.match(refdetOf('F2026-000123', 12), /^[A-Z0-9]{6,30}$/)
    const request = {
      refdet: 'F2026000123P01',
      year: 2026,
      objet: 'Conservatoire de Limonest — facture F2026-000123',
      amount: 123456,
      email: 'famille@example.fr',
      returnUrl: 'https://limonest.example.fr/facturation/paiement-en-ligne/retour',
    }
    const url = new URL(payfipUrl({ clientNumber: '012345', mode: 'test' }, request))
    t.equal(`${url.origin}${url.pathname}`, 'https://www.payfip.gouv.fr/tpa/paiement.web')
    t.same(Object.fromEntries(url.searchParams), {
      numcli: '012345',
      exer: '2026',
      refdet: 'F2026000123P01',
      objet: 'Conservatoire de Limonest facture F2026 000123',
      montant: '123456',
      mel: 'famille@example.fr',
      urlcl: 'https://limonest.example.fr/facturation/paiement-en-ligne/retour',
      saisie: 'T',
    })
    const live = new URL(payfipUrl({ clientNumber: '012345', mode: 'production' }, request))
    t.equal(live.searchParams.get('saisie'), 'W', 'production pays for real')
  },
)

t.test(
  'Payer en ligne records the attempt and sends the family to PayFiP; P → awaiting confirmation, not paid',
  async (t) => {
    const { browser, pay, tuition, em, host } = await setUp(t)
    const page = card((await browser.get('/facturation')).body, tuition)!
    t.equal(text(page.querySelector('form.payfip button')?.text), 'Payer en ligne')
    t.match(text(page.querySelector('form.payfip')?.text), 'Mode test : aucun paiement réel.')

    const sent = await pay()
    t.equal(sent.statusCode, 303)
    const url = new URL(sent.headers.location as string)
    t.equal(`${url.origin}${url.pathname}`, 'https://www.payfip.gouv.fr/tpa/paiement.web')
    t.same(
      Object.fromEntries(url.searchParams),
      {
        numcli: '012345',
        exer: '2026',
        refdet: 'F2026000001P01',
        objet: `Conservatoire ${host().split('.')[0]} facture F2026 000001`,
        montant: '56580',
        mel: 'famille-martin@example.fr',
        urlcl: `http://${host()}/facturation/paiement-en-ligne/retour`,
        saisie: 'T',
      },
      'what remains to pay, under the invoice’s reference, back to the tenant’s own host',
    )
    const attempt = await em().findOneOrFail(OnlinePayment, { refdet: 'F2026000001P01' })
    t.same(
      [attempt.state, attempt.amount, attempt.result, attempt.invoice.id],
      ['pending', 56580, null, tuition],
    )

    const back = await browser.get(
      '/facturation/paiement-en-ligne/retour?numcli=012345&exer=2026&refdet=F2026000001P01&montant=56580&resultrans=P&numauto=A12345&dattrans=15102026&heurtrans=1412',
    )
    t.equal(back.statusCode, 303)
    t.equal(back.headers.location, `/facturation?paiement=attente#invoice-${tuition}`)
    const after = html((await browser.get(back.headers.location as string)).body)
    t.match(
      text(after.querySelector('[role="status"]')?.text),
      'votre paiement en ligne est en cours de confirmation',
    )
    const shown = card(after.toString(), tuition)!
    t.match(text(shown.querySelector('.state--pending')?.text), 'Paiement en cours de confirmation')
    t.match(
      text(shown.querySelector('.payfip-awaiting')?.text),
      'Paiement en ligne de 565,80 € en cours de confirmation',
    )
    t.equal(shown.querySelector('form.payfip'), null, 'not offered twice while it awaits confirmation')
    t.equal(shown.querySelectorAll('.state').length, 1, 'awaiting confirmation in place of « À payer »')
    t.match(
      text(shown.querySelector('.invoice-balance')?.text),
      /Payé ?0,00 € Reste à payer ?565,80 €/,
      'not paid until the treasury says so',
    )
    t.equal(await em().count(Payment), 0, 'no money recorded')
    const kept = await em().findOneOrFail(OnlinePayment, { refdet: 'F2026000001P01' })
    t.same(
      [kept.state, kept.result, kept.authorisation, kept.transactionAt],
      ['pending', 'P', 'A12345', '15102026 1412'],
    )

    // a reload, or a forged second answer, changes nothing
    const again = await browser.get(
      '/facturation/paiement-en-ligne/retour?refdet=F2026000001P01&resultrans=R',
    )
    t.equal(again.headers.location, `/facturation?paiement=attente#invoice-${tuition}`, 'the answer kept')
    const still = await em().findOneOrFail(OnlinePayment, { refdet: 'F2026000001P01' })
    t.same([still.state, still.result], ['pending', 'P'])
    // pressing the button of a page left open does not start a second payment
    const token = html((await browser.get('/mot-de-passe')).body)
      .querySelector('input[name="_csrf"]')!
      .getAttribute('value')!
    const twice = await browser.post(`/facturation/factures/${tuition}/payer-en-ligne`, { _csrf: token })
    t.equal(twice.headers.location, `/facturation?paiement=deja#invoice-${tuition}`)
    t.equal(await em().count(OnlinePayment), 1)
  },
)

t.test(
  'refused or abandoned: a French message, and the family may try again under a new refdet',
  async (t) => {
    const { browser, pay, tuition, em } = await setUp(t)
    await pay()
    const refused = await browser.get(
      '/facturation/paiement-en-ligne/retour?refdet=F2026000001P01&resultrans=R',
    )
    t.equal(refused.headers.location, `/facturation?paiement=refuse#invoice-${tuition}`)
    const page = html((await browser.get(refused.headers.location as string)).body)
    t.equal(
      text(page.querySelector('[role="status"]')?.text),
      'Le paiement a été refusé par votre banque : rien n’a été débité. Vous pouvez réessayer avec « Payer en ligne ».',
    )
    t.ok(card(page.toString(), tuition)!.querySelector('form.payfip'), 'Payer en ligne again')
    t.equal((await em().findOneOrFail(OnlinePayment, { refdet: 'F2026000001P01' })).state, 'failed')

    const second = new URL((await pay()).headers.location as string)
    t.equal(second.searchParams.get('refdet'), 'F2026000001P02')
    const abandoned = await browser.get(
      '/facturation/paiement-en-ligne/retour?refdet=F2026000001P02&resultrans=A',
    )
    const notice = html((await browser.get(abandoned.headers.location as string)).body)
    t.match(text(notice.querySelector('[role="status"]')?.text), 'Le paiement en ligne a été abandonné')
    t.equal((await em().findOneOrFail(OnlinePayment, { refdet: 'F2026000001P02' })).state, 'cancelled')
    t.equal(await em().count(Payment), 0)
  },
)

t.test(
  'the return with an unknown refdet, another tenant’s, or a made-up answer changes nothing',
  async (t) => {
    const { app, browser, pay, host, em } = await setUp(t)
    await pay()
    const unknown = await browser.get(
      '/facturation/paiement-en-ligne/retour?refdet=F2026000099P01&resultrans=P',
    )
    t.equal(unknown.statusCode, 404)
    // the same refdet on the second tenant's host: that tenant never sent it
    const elsewhere = await new Browser(app, host(1)).get(
      '/facturation/paiement-en-ligne/retour?refdet=F2026000001P01&resultrans=R',
    )
    t.equal(elsewhere.statusCode, 404)
    for (const query of [
      'refdet=F2026000001P01&resultrans=Z',
      'refdet=F20;DROP&resultrans=P',
      'resultrans=P',
    ])
      t.equal((await browser.get(`/facturation/paiement-en-ligne/retour?${query}`)).statusCode, 400, query)
    const attempt = await em().findOneOrFail(OnlinePayment, { refdet: 'F2026000001P01' })
    t.same([attempt.state, attempt.result], ['pending', null], 'still waiting for its own return')
  },
)

t.test(
  'Payer en ligne: another family’s invoice is a 404; staff and other tenants are refused',
  async (t) => {
    const { app, browser, pay, theirs, tuition, host, tenants, contextOf, em } = await setUp(t)
    const token = html((await browser.get('/mot-de-passe')).body)
      .querySelector('input[name="_csrf"]')!
      .getAttribute('value')!
    const path = (id: number | string) => `/facturation/factures/${id}/payer-en-ligne`
    t.equal((await browser.post(path(theirs), { _csrf: token })).statusCode, 404, 'another family’s invoice')
    t.equal((await browser.post(path(999999), { _csrf: token })).statusCode, 404)
    t.equal((await browser.post(path('abc'), { _csrf: token })).statusCode, 400)
    t.equal((await browser.post(path(tuition), {})).statusCode, 403, 'no CSRF token')
    await contextOf('secretariat', 'secretaire')
    const staff = await signedInBrowser(app, host(), 'secretaire', '/admin/connexion')
    t.equal((await staff.post(path(tuition), { _csrf: token })).statusCode, 403)
    await createFamily(app, tenants[1]!.slug, 'famille-b')
    const onB = await signedInBrowser(app, host(1), 'famille-b')
    const tokenB = html((await onB.get('/mot-de-passe')).body)
      .querySelector('input[name="_csrf"]')!
      .getAttribute('value')!
    t.equal((await onB.post(path(tuition), { _csrf: tokenB })).statusCode, 404, 'another tenant’s invoice')
    t.equal(await em().count(OnlinePayment), 0)
    t.equal((await pay()).statusCode, 303, 'its own family pays')
  },
)

t.test('a tenant without PayFiP offers no online payment', async (t) => {
  const { browser, tuition } = await setUp(t, {})
  const page = card((await browser.get('/facturation')).body, tuition)!
  t.equal(page.querySelector('form.payfip'), null)
  const token = html((await browser.get('/mot-de-passe')).body)
    .querySelector('input[name="_csrf"]')!
    .getAttribute('value')!
  t.equal(
    (await browser.post(`/facturation/factures/${tuition}/payer-en-ligne`, { _csrf: token })).statusCode,
    404,
  )
})
