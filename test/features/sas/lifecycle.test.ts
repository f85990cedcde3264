import t from 'tap'
import { Guardian } from '../../../src/features/family/entities.ts'
import { ChangeRequest } from '../../../src/features/sas/entities.ts'
import { proposeChanges } from '../../../src/features/sas/service.ts'
import { AuditEvent } from '../../../src/platform/audit/entities.ts'
import { Account } from '../../../src/platform/auth/entities.ts'
import { actorOf } from '../../../src/platform/auth/sessions.ts'
import { translator } from '../../../src/platform/views/i18n.ts'
import { NotFound } from '../../../src/platform/http/errors.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser, createAccount, goodPassword } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { createFamily } from '../../helpers/families.ts'
import { formValues } from '../../helpers/forms.ts'
import { startInbox } from '../../helpers/smtp.ts'

const text = (value: string | undefined) => (value ?? '').replace(/\s+/g, ' ').trim()

t.test('the sas: propose, replace, approve, reject with a reason, conflict — and the mails', async (t) => {
  const inbox = await startInbox(t)
  const { app, host, tenants } = await build(t, { env: { SMTP_URL: inbox.url } })
  const slug = tenants[0]!.slug
  const { guardian } = await createFamily(app, slug, 'famille-martin')
  const staff = await createAccount(app, slug, {
    identifiant: 'secretariat',
    role: 'secretariat',
    displayName: 'Secrétariat',
  })
  const em = () => app.orm.em.fork({ schema: schemaFor(slug) })
  const family = new Browser(app, host())
  await family.submit('/connexion', '/connexion', { identifiant: 'famille-martin', password: goodPassword })
  const office = new Browser(app, host())
  await office.submit('/admin/connexion', '/admin/connexion', {
    identifiant: 'secretariat',
    password: goodPassword,
  })
  const action = `/famille/responsables/${guardian.id}`
  const edit = async (changes: Record<string, string>) => {
    const page = await family.get(action)
    return family.submit(action, action, { ...formValues(page.body, action), ...changes })
  }
  const mailsTo = (template: string) =>
    inbox.messages.filter((m) => m.to.includes('famille-martin@example.fr') && m.subject.includes(template))

  await t.test('saving proposes the change; the validated record is untouched', async (t) => {
    const res = await edit({ city: 'Lyon', postalCode: '69001', profession: 'Luthière' })
    t.equal(res.statusCode, 303)
    t.equal(res.headers.location, `${action}?enregistre=proposed`)
    const page = html((await family.get(res.headers.location as string)).body)
    t.match(page.querySelector('[role="status"]')?.text, 'en attente de validation')
    t.match(page.querySelector('#pending-note')?.text, 'en attente de validation')
    t.equal(page.querySelector('#city')?.getAttribute('value'), 'Lyon', 'the page shows the proposed value')
    t.same(
      page
        .querySelectorAll('.field--modified input, .field--modified select')
        .map((i) => i.getAttribute('id')),
      ['postalCode', 'city', 'profession'],
    )
    t.match(page.querySelector('label[for="city"]')?.text, '✓')
    t.equal(page.querySelector('#city-validated')?.text, 'Valeur validée : Limonest')
    t.notMatch(page.querySelector('label[for="address"]')?.text, '✓')
    t.equal((await em().findOneOrFail(Guardian, guardian.id)).city, 'Limonest')

    const mail = await inbox.waitFor((m) => m.subject.includes('bien reçue'))
    t.equal(mail.to, 'famille-martin@example.fr')
    t.match(mail.text, 'Responsable Camille Martin')
    t.match(mail.text, 'Ville : Limonest → Lyon')
    t.match(mail.text, 'Profession : (vide) → Luthière')
    t.match(mail.text, 'en attente de validation')

    const home = html((await family.get('/accueil')).body)
    const box = home.querySelector('[aria-labelledby="pending-title"]')
    t.equal(box?.querySelector('h2')?.text, 'En attente de validation')
    t.match(text(box?.text), 'Responsable Camille Martin')
    t.match(text(box?.text), '✓ Code postal, Ville, Profession')
  })

  await t.test('saving the same values again sends nothing', async (t) => {
    const res = await edit({})
    t.equal(res.headers.location, `${action}?enregistre=unchanged`)
    await new Promise((resolve) => setTimeout(resolve, 300))
    t.equal(mailsTo('bien reçue').length, 1)
  })

  await t.test('a later edit replaces the pending request instead of stacking another', async (t) => {
    const res = await edit({ city: 'Limonest', postalCode: '69760', phoneHome: '04 78 00 00 01' })
    t.equal(res.headers.location, `${action}?enregistre=replaced`)
    const requests = await em().find(ChangeRequest, {})
    t.equal(requests.length, 1)
    t.same(requests[0]!.changes, {
      phoneHome: { before: null, after: '04 78 00 00 01' },
      profession: { before: null, after: 'Luthière' },
    })
    await inbox.waitFor(() => mailsTo('bien reçue').length === 2)
    t.match(mailsTo('bien reçue')[1]!.text, 'Tél. domicile : (vide) → 04 78 00 00 01')
  })

  await t.test('staff see the queue and the before/after table', async (t) => {
    const queue = html((await office.get('/admin/changements')).body)
    const rows = queue.querySelectorAll('tbody tr')
    t.equal(rows.length, 1)
    t.equal(rows[0]!.querySelector('a')?.text, 'Responsable Camille Martin')
    t.equal(text(rows[0]!.querySelectorAll('td')[2]?.text), 'Camille Martin')
    const request = await em().findOneOrFail(ChangeRequest, { subjectId: guardian.id })
    const review = html((await office.get(`/admin/changements/${request.id}`)).body)
    t.same(
      review
        .querySelectorAll('tbody tr')
        .map((r) => [
          text(r.querySelector('th')?.text),
          text(r.querySelectorAll('td')[0]?.text),
          text(r.querySelectorAll('td')[1]?.text),
        ]),
      [
        ['Tél. domicile', '(vide)', '04 78 00 00 01'],
        ['Profession', '(vide)', 'Luthière'],
      ],
    )
    t.notOk(review.querySelector('.conflict'))
    const dashboard = html((await office.get('/admin')).body)
    const card = dashboard
      .querySelectorAll('.card')
      .find((c) => c.querySelector('.card__label')?.text === 'Modifications en attente')
    t.equal(card?.querySelector('.stat')?.text, '1')
    t.equal(card?.getAttribute('href'), '/admin/changements')
  })

  await t.test(
    'a refusal needs a reason; then validated fields apply in one go, refused ones do not',
    async (t) => {
      const request = await em().findOneOrFail(ChangeRequest, { subjectId: guardian.id })
      const url = `/admin/changements/${request.id}`
      const missing = await office.submit(url, url, {
        action: 'fields',
        'decision-phoneHome': 'validated',
        'decision-profession': 'refused',
        'reason-profession': '',
      })
      t.equal(missing.statusCode, 400)
      const page = html(missing.body)
      t.equal(
        page.querySelector('#reason-profession-error')?.text,
        'Indiquez le motif du refus : il sera envoyé à la famille.',
      )
      t.ok(
        page.querySelector('input[name="decision-phoneHome"][value="validated"][checked]'),
        'the choices are kept',
      )
      t.equal((await em().findOneOrFail(ChangeRequest, request.id)).status, 'pending')

      const undecided = await office.submit(url, url, { action: 'fields', 'decision-phoneHome': 'validated' })
      const refused = html(undecided.body)
      t.equal(refused.querySelector('#decision-profession-error')?.text, 'Choisissez Valider ou Refuser.')
      // the message is read with the radios it is about, which say they are invalid
      const group = refused.querySelector('fieldset#decision-profession')
      t.equal(group?.getAttribute('aria-describedby'), 'decision-profession-error')
      t.same(
        group?.querySelectorAll('input[type="radio"]').map((r) => r.getAttribute('aria-invalid')),
        ['true', 'true'],
      )
      const answered = refused.querySelector('fieldset#decision-phoneHome')
      t.equal(answered?.getAttribute('aria-describedby'), undefined, 'not on a field without an error')
      t.same(
        answered?.querySelectorAll('input[type="radio"]').map((r) => r.getAttribute('aria-invalid')),
        [undefined, undefined],
      )
      t.same(
        refused.querySelectorAll('.error-summary a').map((a) => [a.getAttribute('href'), text(a.text)]),
        [['#decision-profession', 'Profession : choisissez Valider ou Refuser.']],
        'the summary names the field and links to its choices',
      )

      const res = await office.submit(url, url, {
        action: 'fields',
        'decision-phoneHome': 'validated',
        'decision-profession': 'refused',
        'reason-profession': 'Merci de nous envoyer un justificatif.',
      })
      t.equal(res.statusCode, 303)
      const stored = await em().findOneOrFail(Guardian, guardian.id)
      t.equal(stored.phoneHome, '04 78 00 00 01', 'the validated value is applied')
      t.equal(stored.profession, null, 'the refused one is not')
      const decided = await em().findOneOrFail(ChangeRequest, request.id, { populate: ['decidedBy'] })
      t.equal(decided.status, 'decided')
      t.equal(decided.decidedBy?.id, staff.id)
      t.same(decided.changes.profession, {
        before: null,
        after: 'Luthière',
        decision: 'refused',
        reason: 'Merci de nous envoyer un justificatif.',
      })
      const events = await em().find(AuditEvent, { action: 'change.decided' }, { populate: ['actor'] })
      t.equal(events.length, 1)
      t.equal(events[0]!.actor?.id, staff.id)
      t.equal(events[0]!.subjectType, 'guardian')
      t.same(events[0]!.details.request, request.id)

      const mail = await inbox.waitFor((m) => m.subject.includes('a été traitée'))
      t.equal(mail.to, 'famille-martin@example.fr')
      t.match(mail.text, 'Modifications validées')
      t.match(mail.text, 'Tél. domicile : 04 78 00 00 01')
      t.match(mail.text, 'Profession (Luthière) — motif : Merci de nous envoyer un justificatif.')

      const after = html((await office.get(url)).body)
      t.notOk(after.querySelector('input[type="radio"]'), 'a decided request offers no more choices')
      t.same(
        after.querySelectorAll('.decision-result').map((p) => text(p.text)),
        ['Validé', 'Refusé — Merci de nous envoyer un justificatif.'],
      )
      const again = await office.post(url, { _csrf: 'x', action: 'validate-all' })
      t.equal(again.statusCode, 403, 'no form, no token: nothing to post twice')
      t.equal(html((await office.get('/admin/changements')).body).querySelectorAll('tbody tr').length, 0)
      const familyPage = html((await family.get(action)).body)
      t.notOk(familyPage.querySelector('.field--modified'), 'nothing pending any more')
      t.equal(familyPage.querySelector('#phoneHome')?.getAttribute('value'), '04 78 00 00 01')
    },
  )

  await t.test(
    'a field whose validated value changed since the proposal is a conflict, never overwritten',
    async (t) => {
      await edit({ city: 'Lyon', address: '10 quai Saint-Vincent' })
      const request = await em().findOneOrFail(ChangeRequest, { status: 'pending' })
      // staff correct the address directly in the meantime
      const direct = em()
      const record = await direct.findOneOrFail(Guardian, guardian.id)
      record.address = '3 bis rue des Lilas'
      await direct.flush()

      const url = `/admin/changements/${request.id}`
      const review = html((await office.get(url)).body)
      t.ok(review.querySelector('#row-address .conflict'), 'the conflict is shown before deciding')
      t.match(review.querySelector('#row-address .conflict')?.text, '3 bis rue des Lilas')
      t.notOk(review.querySelector('#row-city .conflict'))

      await office.submit(url, url, { action: 'validate-all' })
      const stored = await em().findOneOrFail(Guardian, guardian.id)
      t.equal(stored.address, '3 bis rue des Lilas', 'the newer validated value is kept')
      t.equal(stored.city, 'Lyon')
      const decided = await em().findOneOrFail(ChangeRequest, request.id)
      t.equal(decided.changes.address?.decision, 'conflict')
      t.equal(decided.changes.city?.decision, 'validated')
      const mail = await inbox
        .waitFor(() => mailsTo('a été traitée').length === 2)
        .then(() => mailsTo('a été traitée')[1]!)
      t.match(mail.text, 'non appliquées')
      t.match(mail.text, 'Adresse (10 quai Saint-Vincent)')
      t.match(
        text(html((await office.get(url)).body).querySelector('#row-address')?.text),
        'Non appliqué (conflit)',
      )
    },
  )

  await t.test('“tout refuser” needs a reason and mails it', async (t) => {
    await edit({ profession: 'Luthière' })
    const request = await em().findOneOrFail(ChangeRequest, { status: 'pending' })
    const url = `/admin/changements/${request.id}`
    const missing = await office.submit(url, url, { action: 'refuse-all', reason: ' ' })
    t.equal(
      html(missing.body).querySelector('#reason-error')?.text,
      'Indiquez le motif du refus : il sera envoyé à la famille.',
    )
    await office.submit(url, url, { action: 'refuse-all', reason: 'Profession déjà connue.' })
    t.equal((await em().findOneOrFail(Guardian, guardian.id)).profession, null)
    const mail = await inbox
      .waitFor(() => mailsTo('a été traitée').length === 3)
      .then(() => mailsTo('a été traitée')[2]!)
    t.match(mail.text, 'Profession (Luthière) — motif : Profession déjà connue.')
    t.notMatch(mail.text, 'Modifications validées')
  })

  await t.test('going back to the validated values withdraws the pending request', async (t) => {
    await edit({ profession: 'Altiste' })
    t.equal(await em().count(ChangeRequest, { status: 'pending' }), 1)
    const res = await edit({ profession: '' })
    t.equal(res.headers.location, `${action}?enregistre=withdrawn`)
    t.equal(await em().count(ChangeRequest, { status: 'pending' }), 0)
    t.equal(await em().count(AuditEvent, { action: 'change.withdrawn' }), 1)
  })
})

t.test('the service refuses a proposal for another family’s guardian or pupil', async (t) => {
  const { app, tenants } = await build(t)
  const slug = tenants[0]!.slug
  const mine = await createFamily(app, slug, 'famille-martin')
  const theirs = await createFamily(app, slug, 'famille-durand', 'Durand')
  const em = app.orm.em.fork({ schema: schemaFor(slug) })
  const account = await em.findOneOrFail(Account, mine.account.id)
  const ctx = {
    tenant: app.registry.get(slug)!,
    config: tenants[0]!,
    db: em,
    em,
    locale: 'fr' as const,
    t: translator('fr'),
    baseUrl: 'http://x',
    account: actorOf(account),
  }
  const familyId = mine.guardian.family.id
  for (const ref of [
    { type: 'guardian' as const, id: theirs.guardian.id },
    { type: 'pupil' as const, id: theirs.pupil.id },
  ]) {
    const proposal = {
      ref,
      values: { lastName: 'X' },
      seen: { values: { lastName: 'Durand' }, pending: undefined },
    }
    const error = await proposeChanges(ctx, familyId, [proposal]).catch((e: unknown) => e)
    t.ok(error instanceof NotFound, `another family’s ${ref.type} is not found`)
  }
  const [outcome] = await proposeChanges(ctx, familyId, [
    {
      ref: { type: 'pupil', id: mine.pupil.id },
      values: { schoolLevel: 'CM2' },
      seen: { values: { schoolLevel: null }, pending: undefined },
    },
  ])
  t.equal(outcome, 'proposed')
  const [request] = await em.fork().find(ChangeRequest, {})
  t.same(request?.changes, { schoolLevel: { before: null, after: 'CM2' } })
  t.equal(await em.fork().count(ChangeRequest), 1)
})
