import t from 'tap'
import { SepaMandate } from '../../../src/features/billing/entities.ts'
import { checkIban, ibanOf, isBic, maskIban, normaliseIban } from '../../../src/features/billing/iban.ts'
import { openIban } from '../../../src/features/billing/iban-vault.ts'
import { checkMandate } from '../../../src/features/billing/mandates.ts'
import { AuditEvent } from '../../../src/platform/audit/entities.ts'
import { translator } from '../../../src/platform/views/i18n.ts'
import { html } from '../../helpers/build.ts'
import { debitSetUp as setUp, text, theirIban } from '../../helpers/debits.ts'

t.test('IBANs: normalised, checked by country length and mod-97, masked; BICs by their format', async (t) => {
  t.equal(normaliseIban(' fr76 3000-6000 0112 3456 7890 189 '), theirIban)
  t.same(checkIban('FR76 3000 6000 0112 3456 7890 189'), { iban: theirIban })
  t.same(checkIban('DE89 3704 0044 0532 0130 00'), { iban: 'DE89370400440532013000' })
  t.same(checkIban('FR76 3000 6000 0112 3456 7890 188'), { problem: 'checksum' }, 'one digit wrong')
  t.same(checkIban('FR67 3000 6000 0112 3456 7890 189'), { problem: 'checksum' }, 'check digits swapped')
  t.same(checkIban('FR76 3000 6000 0112 3456 7890 18'), {
    problem: 'length',
    country: 'FR',
    expected: 27,
    actual: 26,
  })
  t.same(checkIban('US12 3456 7890 1234'), { problem: 'country', country: 'US' })
  t.same(checkIban('12FR 3000'), { problem: 'format' })
  t.same(checkIban('   '), { problem: 'missing' })
  t.equal(ibanOf('FR', '30006000011234567890189'), theirIban, 'check digits computed for the demo')
  t.equal(maskIban(theirIban), 'FR76 **** **** **** **** ***0 189')
  t.equal(maskIban('DE89370400440532013000'), 'DE89 **** **** **** **30 00')
  t.ok(isBic('AGRIFRPP882'))
  t.ok(isBic('BNPAFRPP'))
  t.notOk(isBic('AGRIFRPP88'), 'ten characters')
  t.notOk(isBic('1GRIFRPP'), 'a bank code of letters')

  const t_ = translator('fr')
  const refused = checkMandate(
    { holder: '', iban: 'FR76 3000 6000 0112 3456 7890 188', bic: 'x', signedOn: '2999-01-01' },
    t_,
    '2026-11-27',
  )
  t.same(refused.errors, {
    holder: 'Saisissez le nom du titulaire du compte (70 caractères au plus).',
    iban: 'IBAN invalide : la clé de contrôle ne correspond pas.',
    bic: 'BIC invalide : 8 ou 11 caractères (banque, pays, ville, agence), par exemple AGRIFRPP882.',
    signedOn: 'Saisissez la date de signature du mandat, qui ne peut pas être dans le futur.',
  })
  t.equal(
    checkMandate({ iban: 'FR76 3000 6000 0112 3456 7890 18' }, t_, '2026-11-27').errors?.iban,
    'IBAN invalide : un IBAN FR compte 27 caractères, celui-ci en a 26.',
  )
})

t.test(
  'the secretariat records a mandate: errors beside the fields, then the IBAN encrypted and shown masked',
  async (t) => {
    const { signIn, mine, em, key } = await setUp(t)
    const browser = await signIn('secretariat')
    const path = `/admin/facturation/familles/${mine.family.id}/mandat`
    const page = html((await browser.get(path)).body)
    t.equal(text(page.querySelector('h1')?.text), 'Mandat de prélèvement SEPA — Camille Martin')
    t.match(text(page.querySelector('main')?.text), 'Aucun mandat actif')
    t.equal(page.querySelector('#holder')?.getAttribute('value'), 'Camille Martin', 'the addressee as holder')

    const typed = {
      holder: 'Camille Martin',
      iban: 'FR76 3000 6000 0112 3456 7890 188',
      bic: 'agrifrpp882',
      signedOn: '2026-09-01',
    }
    const refused = await browser.submit(path, path, typed)
    t.equal(refused.statusCode, 400)
    const form = html(refused.body)
    t.equal(
      text(form.querySelector('#iban-error')?.text),
      'IBAN invalide : la clé de contrôle ne correspond pas.',
    )
    t.equal(form.querySelector('#iban')?.getAttribute('value'), typed.iban, 'what was typed is kept')
    t.equal(form.querySelector('#bic')?.getAttribute('value'), 'agrifrpp882')
    t.match(text(form.querySelector('.error-summary')?.text), 'IBAN : IBAN invalide')
    const short = html(
      (await browser.submit(path, path, { ...typed, iban: 'FR76 3000 6000 0112 3456 7890 18', bic: 'AGRI' }))
        .body,
    )
    t.equal(
      text(short.querySelector('#iban-error')?.text),
      'IBAN invalide : un IBAN FR compte 27 caractères, celui-ci en a 26.',
    )
    t.match(text(short.querySelector('#bic-error')?.text), 'BIC invalide')
    t.equal(await em().count(SepaMandate), 0, 'nothing saved')

    const saved = await browser.submit(path, path, { ...typed, iban: 'fr76 3000 6000 0112 3456 7890 189' })
    t.equal(saved.statusCode, 303)
    const shown = await browser.get(saved.headers.location as string)
    const after = html(shown.body)
    t.match(
      text(after.querySelector('[role="status"]')?.text),
      /^Mandat [A-Z]{1,3}-000001 enregistré\.$/,
      'the tenant’s letters and a number',
    )
    t.equal(text(after.querySelector('.mandate .iban')?.text), 'FR76 **** **** **** **** ***0 189')
    t.notMatch(shown.body, '30006000011234567890189', 'the page never shows the IBAN')
    t.notMatch(shown.body, '3000 6000', 'not even grouped')
    t.equal(after.querySelector('#iban')?.getAttribute('value') ?? '', '', 'nor in the form')

    const [row] = await em().execute<Record<string, unknown>[]>(
      `select * from "${em().schema}"."sepa_mandate" where family_id = ?`,
      [mine.family.id],
    )
    const raw = JSON.stringify(row)
    t.notMatch(raw, '30006000011234567890189', 'the table does not hold the IBAN')
    t.notMatch(raw, '0112345678', 'nor a run of its digits')
    t.equal(row!.iban_masked, 'FR76 **** **** **** **** ***0 189')
    const mandate = await em().findOneOrFail(
      SepaMandate,
      { family: mine.family.id },
      { populate: ['ibanCiphertext', 'ibanIv', 'ibanTag'] },
    )
    t.equal(openIban(key, mandate), theirIban, 'BILLING_KEY opens it')
    t.throws(() => openIban(Buffer.alloc(32, 1), mandate), 'another key does not')
    t.throws(
      () =>
        openIban(key, {
          ...mandate,
          ibanCiphertext: Buffer.from(`x${mandate.ibanCiphertext}`, 'base64').toString('base64'),
        }),
      'altered bytes do not',
    )

    const replaced = await browser.submit(saved.headers.location as string, path, {
      holder: 'Dominique Martin',
      iban: 'DE89 3704 0044 0532 0130 00',
      bic: 'COBADEFFXXX',
      signedOn: '2026-10-01',
    })
    t.equal(replaced.statusCode, 303)
    const mandates = await em().find(SepaMandate, { family: mine.family.id }, { orderBy: { id: 'asc' } })
    t.same(
      mandates.map((m) => [m.state, m.reference.slice(-6)]),
      [
        ['revoked', '000001'],
        ['active', '000002'],
      ],
      'a new RUM, the old one revoked',
    )
    const revoked = await browser.submit(path, `${path}/revocation`, {})
    t.equal(revoked.statusCode, 303)
    const end = html((await browser.get(revoked.headers.location as string)).body)
    t.match(text(end.querySelector('[role="status"]')?.text), 'révoqué')
    t.match(text(end.querySelector('main')?.text), 'Aucun mandat actif')
    const events = await em().find(AuditEvent, { action: { $like: 'mandate.%' } }, { orderBy: { id: 'asc' } })
    t.same(
      events.map((e) => e.action),
      ['mandate.save', 'mandate.save', 'mandate.revoke'],
    )
    t.notMatch(
      JSON.stringify(events.map((e) => e.details)),
      '0112345678',
      'the audit trail holds masked IBANs only',
    )
    t.equal((await browser.get('/admin/facturation/familles/999999/mandat')).statusCode, 404)
  },
)
