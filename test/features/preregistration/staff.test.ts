import t from 'tap'
import { Account } from '../../../src/platform/auth/entities.ts'
import { Family, Guardian } from '../../../src/features/family/entities.ts'
import { Preregistration } from '../../../src/features/preregistration/entities.ts'
import { Pupil } from '../../../src/features/pupils/entities.ts'
import { AuditEvent } from '../../../src/platform/audit/entities.ts'
import { sha256 } from '../../../src/platform/auth/sessions.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser, createAccount, goodPassword } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { createFamily } from '../../helpers/families.ts'
import { dossierLink, dossiers, filledForm, nthMail, postForm } from '../../helpers/preregistration.ts'
import { demoTenant } from '../../helpers/reenrolment.ts'
import { type Inbox, linkIn, startInbox } from '../../helpers/smtp.ts'

const text = (value: string | undefined) => (value ?? '').replace(/\s+/g, ' ').trim()

type Built = Awaited<ReturnType<typeof build>>

/** A staff member of the i-th tenant, signed in on the staff portal. */
async function staffOf(built: Built, i = 0, identifiant = `secretariat${i}`) {
  await createAccount(built.app, built.tenants[i]!.slug, {
    identifiant,
    role: 'secretariat',
    displayName: 'Secrétariat',
  })
  const office = new Browser(built.app, built.host(i))
  const signedIn = await office.submit('/admin/connexion', '/admin/connexion', {
    identifiant,
    password: goodPassword,
  })
  if (signedIn.statusCode !== 303) throw new Error(`staff sign-in answered ${signedIn.statusCode}`)
  return office
}

/**
 * A family applying on the i-th tenant's public form; `confirm` follows the mailed link and
 * confirms. Returns the dossier's id and its private link.
 */
async function apply(
  built: Built,
  inbox: Inbox,
  overrides: Record<string, string>,
  options: { confirm?: boolean; tenant?: number } = {},
) {
  const i = options.tenant ?? 0
  const slug = built.tenants[i]!.slug
  const family = new Browser(built.app, built.host(i))
  const saved = await postForm(family, '/preinscription', filledForm(overrides))
  if (saved.statusCode !== 303) {
    const errors = html(saved.body)
      .querySelectorAll('.field__error')
      .map((e) => text(e.text))
    throw new Error(`the dossier was not saved (${saved.statusCode}): ${errors.join(' | ')}`)
  }
  const row = (await dossiers(built.app, slug)).at(-1)!
  const ack = await inbox.waitFor(
    (m) =>
      m.subject.endsWith(`Pré-inscription n° ${row.id} : dossier enregistré`) && dossierOf(m, row.tokenHash),
  )
  const { path } = dossierLink(ack)
  if (options.confirm !== false) {
    const confirmed = await family.submit(path, path, { action: 'confirm', confirmed: 'true' })
    if (confirmed.statusCode !== 303) throw new Error(`confirmation answered ${confirmed.statusCode}`)
  }
  return { id: row.id, path, family }
}

const dossierOf = (mail: Parameters<typeof dossierLink>[0], tokenHash: string) => {
  try {
    return sha256(dossierLink(mail).token) === tokenHash
  } catch {
    return false
  }
}

/** Each row of the queue: number, applicants with their choices, state and duplicates, as read. */
function queueRows(body: string) {
  return html(body)
    .querySelectorAll('tbody tr')
    .map((tr) => {
      const cells = tr.querySelectorAll('td')
      return {
        number: text(tr.querySelector('th')?.text),
        guardian: text(cells[0]?.text),
        applicants: cells[1]!.querySelectorAll('li').map((li) => text(li.text)),
        state: text(cells[2]?.text),
        duplicates: cells[5]!.querySelectorAll('li').map((li) => text(li.text).replace(/^⚠ /, '')),
      }
    })
}

/** A CSRF token of the signed-in browser, from a page that always has a form. */
async function csrfOf(browser: Browser) {
  const token = html((await browser.get('/mot-de-passe')).body)
    .querySelector('input[name="_csrf"]')
    ?.getAttribute('value')
  if (!token) throw new Error('no CSRF token')
  return token
}

/** A second family of the Limoges form: one guardian, one applicant. */
const single = (g1: Record<string, string>, p0: Record<string, string>, choices: string[]) => ({
  secondGuardian: 'false',
  applicants: '1',
  ...Object.fromEntries(Object.entries(g1).map(([k, v]) => [`g1-${k}`, v])),
  ...Object.fromEntries(Object.entries(p0).map(([k, v]) => [`p0-${k}`, v])),
  'p0-choice1': choices[0] ?? '',
  'p0-choice2': choices[1] ?? '',
  'p0-freeText': '',
  confirmEmail: g1.email!,
})

t.test('the queue: dossiers by state, each pupil’s choices in order, duplicates flagged', async (t) => {
  const inbox = await startInbox(t)
  const built = await build(t, { tenants: [demoTenant('limoges')], env: { SMTP_URL: inbox.url } })
  const slug = built.tenants[0]!.slug
  const known = await createFamily(built.app, slug, 'famille-martin')
  t.equal(known.pupil.birthDate, '2014-09-01', 'the known family’s pupil, as the helper makes it')

  const durand = await apply(built, inbox, {})
  const sameEmail = await apply(
    built,
    inbox,
    single(
      { lastName: 'Durand', firstName: 'Claire', email: 'CLAIRE.DURAND@example.fr' },
      { lastName: 'Durand', firstName: 'Jeanne', birthDate: '2012-01-15', civility: 'Madame' },
      ['violoncelle'],
    ),
  )
  // the same pupil typed differently, still a draft
  const samePupil = await apply(
    built,
    inbox,
    single(
      { lastName: 'Roux', firstName: 'Anne', email: 'anne.roux@example.fr' },
      { lastName: 'DURAND', firstName: 'Lea', birthDate: '2015-04-04', civility: 'Madame' },
      ['guitare', 'piano'],
    ),
    { confirm: false },
  )
  const knownEmail = await apply(
    built,
    inbox,
    single(
      { lastName: 'Martin', firstName: 'Camille', email: 'Famille-Martin@example.fr' },
      { lastName: 'Martin', firstName: 'Louis', birthDate: '2017-03-02', civility: 'Monsieur' },
      ['trompette'],
    ),
  )
  const knownPupil = await apply(
    built,
    inbox,
    single(
      { lastName: 'Martin', firstName: 'Thomas', email: 'thomas.martin@example.fr' },
      { lastName: 'Martin', firstName: 'LÉA', birthDate: '2014-09-01', civility: 'Madame' },
      ['danse-classique'],
    ),
  )
  const clean = await apply(
    built,
    inbox,
    single(
      { lastName: 'Bernard', firstName: 'Sophie', email: 'sophie.bernard@example.fr' },
      // same name as Léa Durand, another birth date: not a duplicate
      { lastName: 'Durand', firstName: 'Léa', birthDate: '2016-04-04', civility: 'Madame' },
      ['flute-traversiere', 'formation-musicale'],
    ),
  )

  const office = await staffOf(built)
  const page = await office.get('/admin/preinscriptions')
  t.equal(page.statusCode, 200)
  const view = html(page.body)
  t.equal(text(view.querySelector('h1')?.text), 'Pré-inscriptions')
  t.equal(
    view.querySelector('#etat option[selected]')?.getAttribute('value'),
    'confirmed',
    'confirmed by default',
  )
  t.same(
    view.querySelectorAll('#etat option').map((o) => text(o.text)),
    [
      'Confirmé (5)',
      'Enregistré, non confirmé (1)',
      'Liste d’attente (0)',
      'Accepté (0)',
      'Refusé (0)',
      'Tous',
    ],
    'each state with its count',
  )
  const rows = queueRows(page.body)
  t.same(
    rows.map((r) => r.number),
    [durand, sameEmail, knownEmail, knownPupil, clean].map((d) => `Dossier n° ${d.id}`),
    'the confirmed dossiers, oldest first',
  )
  t.same(rows[0]?.applicants, ['Léa Durand — 1. Piano, 2. Violon', 'Hugo Durand — 1. Éveil musical'])
  t.equal(rows[0]?.guardian, 'Claire Durand claire.durand@example.fr')
  t.equal(rows[0]?.state, 'Confirmé')
  t.same(rows[4]?.applicants, ['Léa Durand — 1. Flûte traversière, 2. Formation musicale'])
  t.ok(view.querySelector(`a[href="/admin/preinscriptions/${durand.id}"]`), 'each dossier links to its page')

  t.same(rows[0]?.duplicates, [
    `Même e-mail que le dossier n° ${sameEmail.id}`,
    `Léa Durand : même élève (nom et date de naissance) que le dossier n° ${samePupil.id}`,
  ])
  t.same(
    rows[1]?.duplicates,
    [`Même e-mail que le dossier n° ${durand.id}`],
    'the e-mail’s case does not matter',
  )
  t.same(rows[2]?.duplicates, ['Une famille connue a déjà l’e-mail famille-martin@example.fr'])
  t.same(rows[3]?.duplicates, ['LÉA Martin : un élève du même nom, né le même jour, est déjà inscrit'])
  t.same(rows[4]?.duplicates, [], 'same name, another birth date: no duplicate')
  const noDuplicate = view.querySelectorAll('tbody tr')[4]?.querySelectorAll('td')[5]
  t.equal(text(noDuplicate?.text), '—')
  t.ok(noDuplicate?.classList.contains('cell--empty'), 'an empty cell is no line of a phone’s card')

  const drafts = queueRows((await office.get('/admin/preinscriptions?etat=draft')).body)
  t.same(
    drafts.map((r) => [r.number, r.state, r.applicants, r.duplicates]),
    [
      [
        `Dossier n° ${samePupil.id}`,
        'Enregistré, non confirmé',
        ['Lea DURAND — 1. Guitare, 2. Piano'],
        [`Lea DURAND : même élève (nom et date de naissance) que le dossier n° ${durand.id}`],
      ],
    ],
    'accents and case folded',
  )
  t.equal(queueRows((await office.get('/admin/preinscriptions?etat=tous')).body).length, 6)
  const none = html((await office.get('/admin/preinscriptions?etat=refused')).body)
  t.equal(none.querySelectorAll('tbody tr').length, 0)
  t.equal(text(none.querySelector('main p:last-of-type')?.text), 'Aucun dossier dans cet état.')
  t.equal((await office.get('/admin/preinscriptions?etat=perdu')).statusCode, 400, 'an unknown state')

  // the dossier's page repeats the flags, with everything typed
  const review = html((await office.get(`/admin/preinscriptions/${durand.id}`)).body)
  t.equal(text(review.querySelector('h1')?.text), `Dossier de pré-inscription n° ${durand.id}`)
  t.same(
    review.querySelectorAll('.alert--pending li').map((li) => text(li.text)),
    rows[0]?.duplicates,
  )
  t.match(text(review.querySelector('#applicant-1')?.text), 'Élève 1 : Léa Durand')
  t.same(
    review.querySelectorAll('section[aria-labelledby="applicant-1"] ol li').map((li) => text(li.text)),
    ['Piano', 'Violon'],
  )
  t.match(text(review.text), 'Deux ans de piano à l’école de musique de Panazol.')
  t.match(text(review.querySelector('section[aria-labelledby="guardian-2"]')?.text), 'Paul')
})

t.test(
  'decisions: reason required to refuse, waiting list and refusal mailed, no second decision',
  async (t) => {
    const inbox = await startInbox(t)
    const built = await build(t, { tenants: [demoTenant('limoges')], env: { SMTP_URL: inbox.url } })
    const slug = built.tenants[0]!.slug
    const em = () => built.app.orm.em.fork({ schema: schemaFor(slug) })
    const dossier = await apply(built, inbox, {})
    const draft = await apply(
      built,
      inbox,
      single(
        { lastName: 'Roux', firstName: 'Anne', email: 'anne.roux@example.fr' },
        { lastName: 'Roux', firstName: 'Jules', birthDate: '2016-06-06', civility: 'Monsieur' },
        ['guitare'],
      ),
      { confirm: false },
    )
    const office = await staffOf(built)
    const url = `/admin/preinscriptions/${dossier.id}`
    const stored = () => em().findOneOrFail(Preregistration, dossier.id)
    const decided = () =>
      inbox.messages.filter((m) => /Pré-inscription n° \d+ : (demande|liste|réponse)/.test(m.subject))

    const page = html((await office.get(url)).body)
    t.same(
      page.querySelectorAll('input[name="decision"]').map((i) => i.getAttribute('value')),
      ['accepted', 'waitlisted', 'refused'],
    )
    t.match(text(page.querySelector('label[for="reason"]')?.text), 'obligatoire pour un refus')

    const nothing = await office.submit(url, url, { reason: 'Bonjour' })
    t.equal(nothing.statusCode, 400)
    t.equal(
      text(html(nothing.body).querySelector('#decision .field__error')?.text),
      'Choisissez Accepter, Liste d’attente ou Refuser.',
    )
    t.equal(html(nothing.body).querySelector('#decision')?.getAttribute('aria-describedby'), 'decision-error')
    t.ok(
      html(nothing.body)
        .querySelectorAll('input[name="decision"]')
        .every((r) => r.getAttribute('aria-invalid') === 'true'),
      'each radio is marked invalid',
    )
    t.equal(fieldText(nothing.body), 'Bonjour', 'the message typed is kept')

    const noReason = await office.submit(url, url, { decision: 'refused', reason: '   ' })
    t.equal(noReason.statusCode, 400)
    const refusedPage = html(noReason.body)
    t.equal(
      text(refusedPage.querySelector('#reason-error')?.text),
      'Indiquez le motif du refus : il sera envoyé à la famille.',
    )
    t.equal(refusedPage.querySelector('#reason')?.getAttribute('aria-invalid'), 'true')
    t.ok(refusedPage.querySelector('input[name="decision"][value="refused"][checked]'), 'the choice is kept')
    t.equal((await stored()).status, 'confirmed', 'nothing changed')
    t.equal(await em().count(AuditEvent, { action: { $like: 'preregistration.%' } }), 0)

    const waitlisted = await office.submit(url, url, {
      decision: 'waitlisted',
      reason: 'Le cours de piano est complet ; nous vous écrirons en septembre.',
    })
    t.equal(waitlisted.statusCode, 303)
    t.equal(waitlisted.headers.location, `${url}?fait=1`)
    const after = html((await office.get(`${url}?fait=1`)).body)
    t.equal(
      text(after.querySelector('.alert--success')?.text),
      'Décision enregistrée. La famille en est informée par e-mail.',
    )
    t.match(text(after.text), 'Liste d’attente')
    t.match(text(after.text), /Décidé le \d\d\/\d\d\/\d{4} \d\d:\d\d par Secrétariat/)
    const waitMail = await nthMail(inbox, new RegExp(`n° ${dossier.id} : liste d'attente`))
    t.equal(waitMail.to, 'claire.durand@example.fr')
    t.match(waitMail.text, "est inscrite sur liste d'attente")
    t.match(
      waitMail.text,
      'Message du conservatoire : Le cours de piano est complet ; nous vous écrirons en septembre.',
    )
    t.match(waitMail.text, '- Léa Durand : Piano, Violon')
    let row = await stored()
    t.equal(row.status, 'waitlisted')
    t.equal(row.reason, 'Le cours de piano est complet ; nous vous écrirons en septembre.')
    t.ok(await em().findOne(AuditEvent, { action: 'preregistration.waitlisted', subjectId: dossier.id }))
    t.same(
      after.querySelectorAll('input[name="decision"]').map((i) => i.getAttribute('value')),
      ['accepted', 'refused'],
      'a waitlisted dossier can still be accepted or refused',
    )
    t.equal(
      queueRows((await office.get('/admin/preinscriptions?etat=waitlisted')).body)[0]?.number,
      `Dossier n° ${dossier.id}`,
    )

    const twice = await office.submit(url, url, { decision: 'waitlisted' })
    t.equal(twice.statusCode, 400, 'waitlisting twice is refused')

    const refused = await office.submit(url, url, {
      decision: 'refused',
      reason: 'Aucune place cette année.',
    })
    t.equal(refused.statusCode, 303)
    const refuseMail = await nthMail(inbox, new RegExp(`n° ${dossier.id} : réponse du conservatoire`))
    t.match(refuseMail.text, 'Nous sommes au regret de ne pas pouvoir retenir')
    t.match(refuseMail.text, 'Message du conservatoire : Aucune place cette année.')
    row = await stored()
    t.equal(row.status, 'refused')
    t.equal(row.reason, 'Aucune place cette année.')
    t.ok(row.decidedAt)
    const audit = await em().findOneOrFail(AuditEvent, { action: 'preregistration.refused' })
    t.same(
      [audit.subjectType, audit.subjectId, audit.actorName],
      ['preregistration', dossier.id, 'Secrétariat (secretariat0)'],
    )
    t.same(audit.details, { reason: 'Aucune place cette année.', family: null })

    const closed = html((await office.get(url)).body)
    t.notOk(closed.querySelector('input[name="decision"]'), 'no decision form once refused')
    t.match(text(closed.querySelector('.state-reason')?.text), 'Motif : Aucune place cette année.')
    const again = await office.post(url, { _csrf: await csrfOf(office), decision: 'accepted' })
    t.equal(again.statusCode, 400)
    t.equal(
      text(html(again.body).querySelector('.error-summary li')?.text),
      'Décision : ce dossier ne peut pas ou plus être traité : il est en cours de saisie par la famille, ou déjà accepté ou refusé.',
    )
    t.equal((await stored()).status, 'refused', 'a refused dossier is not accepted afterwards')
    t.equal(await em().count(Family, {}), 0, 'no family created')

    // a draft is the family's while the period lasts
    const draftUrl = `/admin/preinscriptions/${draft.id}`
    const draftPage = html((await office.get(draftUrl)).body)
    t.notOk(draftPage.querySelector('input[name="decision"]'))
    t.equal(
      text(draftPage.querySelector('.review-layout .panel:last-child p')?.text),
      'La famille n’a pas encore confirmé ce dossier ; il pourra être traité une fois confirmé ou la période terminée.',
    )
    const early = await office.post(draftUrl, {
      _csrf: await csrfOf(office),
      decision: 'refused',
      reason: 'Trop tôt',
    })
    t.equal(early.statusCode, 400)
    t.match(text(html(early.body).querySelector('.error-summary')?.text), 'en cours de saisie par la famille')
    t.equal((await em().findOneOrFail(Preregistration, draft.id)).status, 'draft')
    t.same(
      decided().map((m) => m.subject.replace(/^\[[^\]]+\] /, '')),
      [
        `Pré-inscription n° ${dossier.id} : liste d'attente`,
        `Pré-inscription n° ${dossier.id} : réponse du conservatoire`,
      ],
      'one mail per decision taken, none for the refused attempts',
    )
    t.equal((await office.get('/admin/preinscriptions/999999')).statusCode, 404)
    t.equal(
      (
        await office.post('/admin/preinscriptions/999999', {
          _csrf: await csrfOf(office),
          decision: 'waitlisted',
        })
      ).statusCode,
      404,
    )
  },
)

const fieldText = (body: string) => html(body).querySelector('#reason')?.text

t.test('once the period is over, a dossier left unconfirmed can be decided', async (t) => {
  const built = await build(t, {
    tenants: [
      demoTenant('limoges', { periods: { preregistration: { opens: 'today-60', closes: 'today-1' } } }),
    ],
  })
  const em = built.app.orm.em.fork({ schema: schemaFor(built.tenants[0]!.slug) })
  const row = em.create(Preregistration, {
    tokenHash: sha256('x'.repeat(43)),
    email: 'anne.roux@example.fr',
    guardians: [{ lastName: 'Roux', firstName: 'Anne', email: 'anne.roux@example.fr' }],
    applicants: [
      {
        fromGuardian: false,
        values: { lastName: 'Roux', firstName: 'Jules', birthDate: '2016-06-06' },
        choices: ['guitare'],
        freeText: null,
      },
    ],
  })
  await em.flush()
  const office = await staffOf(built)
  const url = `/admin/preinscriptions/${row.id}`
  t.ok(html((await office.get(url)).body).querySelector('input[name="decision"][value="waitlisted"]'))
  t.equal((await office.submit(url, url, { decision: 'waitlisted' })).statusCode, 303)
  t.equal((await em.fork().findOneOrFail(Preregistration, row.id)).status, 'waitlisted')
})

t.test('Accepter creates the family and its account; the invitee signs in and sees the pupils', async (t) => {
  const inbox = await startInbox(t)
  const built = await build(t, { tenants: [demoTenant('limoges')], env: { SMTP_URL: inbox.url } })
  const slug = built.tenants[0]!.slug
  const em = () => built.app.orm.em.fork({ schema: schemaFor(slug) })
  const dossier = await apply(built, inbox, {
    'g1-phoneMobile': '06.12.34.56.78',
    'p1-useGuardianAddress': 'false',
    'p1-address': '4 allée des Érables',
    'p1-postalCode': '87100',
    'p1-city': 'Limoges',
  })
  // a namesake applies too: the next account gets another identifiant
  const namesake = await apply(built, inbox, {
    'g1-email': 'claire.durand@example.com',
    confirmEmail: 'claire.durand@example.com',
    secondGuardian: 'false',
    applicants: '1',
    'p0-firstName': 'Zoé',
    'p0-birthDate': '2013-02-02',
  })
  // registered on a March morning, decided today
  await em().nativeUpdate(Preregistration, { id: dossier.id }, { savedAt: new Date('2026-03-02T08:15:00Z') })
  const office = await staffOf(built)
  const url = `/admin/preinscriptions/${dossier.id}`
  // a message typed with an acceptance is not kept
  const accepted = await office.submit(url, url, { decision: 'accepted', reason: 'Bienvenue !' })
  t.equal(accepted.statusCode, 303)

  const row = await em().findOneOrFail(Preregistration, dossier.id, { populate: ['family'] })
  t.equal(row.status, 'accepted')
  t.equal(row.reason, null)
  const listed = html((await office.get('/admin/preinscriptions?etat=accepted')).body)
  const cells = listed.querySelectorAll('tbody tr td').map((td) => text(td.text))
  t.equal(cells[3], '02/03/2026 09:15', 'the queue keeps the date the family registered the dossier')
  t.match(cells[4], /^\d\d\/\d\d\/\d{4} \d\d:\d\d$/, 'and shows the decision’s date in its own column')
  t.not(cells[4], cells[3])
  t.equal(text(listed.querySelectorAll('thead th')[5]?.text), 'Décidé le')
  t.match(
    text(html((await office.get(url)).body).text),
    'Enregistré 1 fois par la famille, dernière fois le 02/03/2026 09:15.',
    'the dossier too',
  )
  t.ok(row.family, 'the dossier keeps its family')
  const familyId = row.family!.id
  const guardians = await em().find(
    Guardian,
    { family: familyId },
    { orderBy: { rank: 'asc' }, populate: ['account'] },
  )
  t.same(
    guardians.map((g) => [
      g.rank,
      g.civility,
      g.firstName,
      g.lastName,
      g.email,
      g.phoneMobile,
      g.address,
      g.postalCode,
      g.city,
    ]),
    [
      [
        1,
        'Madame',
        'Claire',
        'Durand',
        'claire.durand@example.fr',
        '06 12 34 56 78',
        '12 rue des Tanneurs',
        '87000',
        'Limoges',
      ],
      [
        2,
        'Monsieur',
        'Paul',
        'Durand',
        'paul.durand@example.fr',
        null,
        '12 rue des Tanneurs',
        '87000',
        'Limoges',
      ],
    ],
    'the guardians as typed, responsable 1 first',
  )
  const pupils = await em().find(Pupil, { family: familyId }, { orderBy: { id: 'asc' } })
  t.same(
    pupils.map((p) => [p.civility, p.firstName, p.lastName, p.birthDate, p.useGuardianAddress, p.address]),
    [
      ['Madame', 'Léa', 'Durand', '2015-04-04', true, null],
      ['Monsieur', 'Hugo', 'Durand', '2018-09-20', false, '4 allée des Érables'],
    ],
    'the pupils as typed',
  )
  const account = guardians[0]!.account!
  t.ok(account, 'responsable 1 has the account')
  t.same(
    [account.identifiant, account.role, account.email, account.displayName, account.passwordHash],
    ['claire.durand', 'family', 'claire.durand@example.fr', 'Claire Durand', null],
  )
  t.equal(guardians[1]!.account, null, 'responsable 2 has none')
  const audit = await em().findOneOrFail(AuditEvent, { action: 'preregistration.accepted' })
  t.same([audit.subjectId, audit.details], [dossier.id, { reason: null, family: familyId }])

  const decision = await nthMail(inbox, new RegExp(`n° ${dossier.id} : demande acceptée`))
  t.equal(decision.to, 'claire.durand@example.fr')
  t.match(decision.text, 'Votre espace famille est créé')
  t.notMatch(decision.text, 'Bienvenue !')
  const invitation = await nthMail(inbox, /Votre accès au portail/)
  t.equal(invitation.to, 'claire.durand@example.fr')
  t.match(invitation.text, 'Votre identifiant : claire.durand')
  const review = html((await office.get(url)).body)
  t.match(text(review.text), 'Famille créée : claire.durand (invitation envoyée à claire.durand@example.fr).')
  t.notOk(review.querySelector('input[name="decision"]'), 'decided for good')
  t.ok(
    review.querySelector('.site-nav a[href="/admin/preinscriptions"]') &&
      !review.querySelector('.site-nav a[href="/famille"]'),
    'the page is still the staff member’s, not the invited family’s',
  )
  t.same(
    review.querySelectorAll('.alert--pending li').map((li) => text(li.text)),
    [],
    'its own family and pupils are no duplicates of the dossier that created them',
  )
  const again = await office.post(url, { _csrf: await csrfOf(office), decision: 'accepted' })
  t.equal(again.statusCode, 400, 'accepting twice is refused')
  t.equal(await em().count(Family, {}), 1, 'one family')

  // the invitee chooses a password, then signs in with the identifiant of the mail
  const link = linkIn(invitation, '/mot-de-passe/nouveau')
  t.equal(link.host, built.host(), 'the link is for the tenant’s host')
  const invitee = new Browser(built.app, built.host())
  const choose = await invitee.get(link.pathname + link.search)
  t.equal(choose.statusCode, 200)
  const set = await invitee.submit(link.pathname + link.search, '/mot-de-passe/nouveau', {
    jeton: link.searchParams.get('jeton')!,
    password: 'la famille Durand au conservatoire',
    confirmation: 'la famille Durand au conservatoire',
  })
  t.equal(set.statusCode, 200)
  t.match(text(html(set.body).querySelector('[role="status"]')?.text), 'Votre mot de passe est enregistré')
  const signedIn = await invitee.submit('/connexion', '/connexion', {
    identifiant: 'claire.durand',
    password: 'la famille Durand au conservatoire',
  })
  t.equal(signedIn.statusCode, 303)
  t.equal(signedIn.headers.location, '/accueil')
  const home = html((await invitee.get('/accueil')).body)
  t.same(
    home.querySelectorAll('h2[id^="pupil-"]').map((h) => text(h.text)),
    ['Léa Durand', 'Hugo Durand'],
    'the new family sees its pupils',
  )
  const pupilsPage = await invitee.get('/eleves')
  t.equal(pupilsPage.statusCode, 303)
  t.equal(pupilsPage.headers.location, `/eleves/${pupils[0]!.id}`)
  const famille = html((await invitee.get('/famille')).body)
  t.equal(
    famille.querySelector('#lastName')?.getAttribute('value'),
    'Durand',
    'the Famille page shows what was typed',
  )
  t.same(
    ['extraPhone1', 'extraPhone2', 'extraPhone3'].map((id) =>
      famille.querySelector(`#${id}`)?.getAttribute('value'),
    ),
    ['', '', ''],
    'and no stray characters in the other phones',
  )

  // the same family applying again is flagged against the family now known, the accepted dossier is not
  const later = await apply(
    built,
    inbox,
    single(
      { lastName: 'Durand', firstName: 'Claire', email: 'claire.durand@example.fr' },
      { lastName: 'Durand', firstName: 'Léa', birthDate: '2015-04-04', civility: 'Madame' },
      ['guitare'],
    ),
  )
  const flags = async (id: number) =>
    html((await office.get(`/admin/preinscriptions/${id}`)).body)
      .querySelectorAll('.alert--pending li')
      .map((li) => text(li.text))
  t.same(await flags(later.id), [
    `Même e-mail que le dossier n° ${dossier.id}`,
    `Léa Durand : même élève (nom et date de naissance) que le dossier n° ${dossier.id}`,
    'Léa Durand : un élève du même nom, né le même jour, est déjà inscrit',
    'Une famille connue a déjà l’e-mail claire.durand@example.fr',
  ])
  t.same(await flags(dossier.id), [
    `Même e-mail que le dossier n° ${later.id}`,
    `Léa Durand : même élève (nom et date de naissance) que le dossier n° ${later.id}`,
  ])

  // the namesake gets an identifiant of its own
  const url2 = `/admin/preinscriptions/${namesake.id}`
  t.equal((await office.submit(url2, url2, { decision: 'accepted' })).statusCode, 303)
  const second = await em().findOneOrFail(Account, { email: 'claire.durand@example.com' })
  t.equal(second.identifiant, 'claire.durand2', 'the identifiant taken is numbered')
  const secondInvitation = await nthMail(inbox, /Votre accès au portail/, 2)
  t.match(secondInvitation.text, 'Votre identifiant : claire.durand2')
})

t.test('the CSV export: one line per applicant, choices in columns, for a French spreadsheet', async (t) => {
  const inbox = await startInbox(t)
  const built = await build(t, { tenants: [demoTenant('limoges')], env: { SMTP_URL: inbox.url } })
  const durand = await apply(built, inbox, { 'p0-freeText': '=HYPERLINK("http://evil.example";"Piano")' })
  const again = await apply(
    built,
    inbox,
    single(
      { lastName: 'Durand', firstName: 'Claire', email: 'claire.durand@example.fr' },
      { lastName: 'Durand', firstName: 'Jeanne', birthDate: '2012-01-15', civility: 'Madame' },
      ['violoncelle'],
    ),
    { confirm: false },
  )
  const office = await staffOf(built)
  const queue = html((await office.get('/admin/preinscriptions')).body)
  t.equal(
    queue.querySelector('a[href="/admin/preinscriptions/export.csv"]')?.text,
    'Exporter tous les dossiers (CSV)',
  )
  const res = await office.get('/admin/preinscriptions/export.csv')
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'text/csv; charset=utf-8')
  t.equal(res.headers['content-disposition'], 'attachment; filename="preinscriptions.csv"')
  t.equal(res.headers['cache-control'], 'private, no-store')
  t.equal(res.rawPayload.subarray(0, 3).toString('hex'), 'efbbbf', 'UTF-8 with a BOM')
  const lines = res.body.replace(/^\uFEFF/, '').split('\r\n')
  t.equal(lines.pop(), '', 'CRLF after each line')
  t.equal(
    lines[0],
    "Dossier;État;Enregistré le;Confirmé le;Décidé le;Responsable 1;E-mail;Mobile;Tél. domicile;Adresse;Code postal;Ville;Responsable 2;E-mail du responsable 2;Nom de l’élève;Prénom de l’élève;Date de naissance;Choix 1;Choix 2;Précisez ci-dessous si vous provenez d'un autre établissement et votre niveau d'étude.;Doublon possible",
  )
  const rows = lines.slice(1).map((l) => l.split(';'))
  t.equal(rows.length, 3, 'Léa and Hugo, then Jeanne: one line per applicant')
  t.same(
    rows.map((r) => [r[0], r[1], r[14], r[15], r[16], r[17], r[18]]),
    [
      [String(durand.id), 'Confirmé', 'Durand', 'Léa', '04/04/2015', 'Piano', 'Violon'],
      [String(durand.id), 'Confirmé', 'Durand', 'Hugo', '20/09/2018', 'Éveil musical', ''],
      [String(again.id), 'Enregistré, non confirmé', 'Durand', 'Jeanne', '15/01/2012', 'Violoncelle', ''],
    ],
  )
  t.match(rows[0]![2], /^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}$/, 'saved at')
  t.match(rows[0]![3], /^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}$/, 'confirmed at')
  t.equal(rows[2]![3], '', 'not confirmed')
  t.equal(rows[0]![4], '', 'not decided')
  t.same(rows[0]!.slice(5, 14), [
    'Durand Claire',
    'claire.durand@example.fr',
    '06 12 34 56 78',
    '',
    '12 rue des Tanneurs',
    '87000',
    'Limoges',
    'Durand Paul',
    'paul.durand@example.fr',
  ])
  t.match(
    lines[1],
    `;"'=HYPERLINK(""http://evil.example"";""Piano"")";`,
    'a formula typed by a family stays text',
  )
  t.match(lines[1], new RegExp(`;Même e-mail que le dossier n° ${again.id}$`), 'the duplicates column')
  t.match(lines[3], new RegExp(`;Même e-mail que le dossier n° ${durand.id}$`))
  t.match(lines[2], /;Éveil musical;;;Même e-mail/, 'an empty choice and free text stay empty columns')
})

t.test('visitors sign in; families and teachers get a 403; other tenants know nothing', async (t) => {
  const inbox = await startInbox(t)
  const built = await build(t, {
    tenants: [demoTenant('limoges'), demoTenant('limoges'), demoTenant('limoges', { periods: {} })],
    env: { SMTP_URL: inbox.url },
  })
  const { app, host, tenants } = built
  const dossier = await apply(built, inbox, {})
  const em = () => app.orm.em.fork({ schema: schemaFor(tenants[0]!.slug) })
  const urls = [
    '/admin/preinscriptions',
    '/admin/preinscriptions?etat=tous',
    `/admin/preinscriptions/${dossier.id}`,
    '/admin/preinscriptions/export.csv',
  ]

  const visitor = new Browser(app, host())
  for (const url of urls) {
    const res = await visitor.get(url)
    t.equal(res.statusCode, 303, url)
    t.equal(res.headers.location, `/admin/connexion?retour=${encodeURIComponent(url)}`)
  }
  const visitorCsrf = html((await visitor.get('/admin/connexion')).body)
    .querySelector('input[name="_csrf"]')!
    .getAttribute('value')!
  const anonymous = await visitor.post(`/admin/preinscriptions/${dossier.id}`, {
    _csrf: visitorCsrf,
    decision: 'accepted',
  })
  t.equal(anonymous.statusCode, 303)
  t.match(anonymous.headers.location, /^\/admin\/connexion\?retour=/)

  await createFamily(app, tenants[0]!.slug, 'famille-martin')
  const family = new Browser(app, host())
  await family.submit('/connexion', '/connexion', { identifiant: 'famille-martin', password: goodPassword })
  await createAccount(app, tenants[0]!.slug, { identifiant: 'prof', role: 'teacher' })
  const teacher = new Browser(app, host())
  await teacher.submit('/enseignant/connexion', '/enseignant/connexion', {
    identifiant: 'prof',
    password: goodPassword,
  })
  for (const [who, browser] of [
    ['family', family],
    ['teacher', teacher],
  ] as const) {
    for (const url of urls) {
      const res = await browser.get(url)
      t.equal(res.statusCode, 403, `${who} on ${url}`)
      t.equal(text(html(res.body).querySelector('h1')?.text), 'Accès refusé')
      t.notMatch(res.body, 'Claire Durand')
    }
    const posted = await browser.post(`/admin/preinscriptions/${dossier.id}`, {
      _csrf: await csrfOf(browser),
      decision: 'accepted',
    })
    t.equal(posted.statusCode, 403, `${who} cannot decide`)
  }
  t.equal((await em().findOneOrFail(Preregistration, dossier.id)).status, 'confirmed', 'nothing decided')

  const staffB = await staffOf(built, 1)
  const foreign = await staffB.get(`/admin/preinscriptions/${dossier.id}`)
  t.equal(foreign.statusCode, 404, 'tenant A’s dossier id on B')
  t.notMatch(foreign.body, 'Durand')
  const foreignPost = await staffB.post(`/admin/preinscriptions/${dossier.id}`, {
    _csrf: await csrfOf(staffB),
    decision: 'refused',
    reason: 'Pas chez nous',
  })
  t.equal(foreignPost.statusCode, 404)
  t.equal((await em().findOneOrFail(Preregistration, dossier.id)).status, 'confirmed')
  const queueB = html((await staffB.get('/admin/preinscriptions?etat=tous')).body)
  t.equal(queueB.querySelectorAll('tbody tr').length, 0, 'B’s queue lists none of A’s dossiers')
  t.match(text(queueB.querySelector('#etat option')?.text), 'Confirmé (0)')
  const csvB = await staffB.get('/admin/preinscriptions/export.csv')
  t.equal(csvB.statusCode, 200)
  t.notMatch(csvB.body, 'Durand', 'B’s export has none of A’s dossiers')
  // A's staff session is no session on B
  const staffA = await staffOf(built, 0)
  const crossHost = await app.inject({
    url: '/admin/preinscriptions',
    headers: { host: host(1), cookie: staffA.cookieHeader() },
  })
  t.equal(crossHost.statusCode, 303, 'A’s cookie signs nobody in on B')

  const staffC = await staffOf(built, 2)
  for (const url of urls) t.equal((await staffC.get(url)).statusCode, 404, `no period, no ${url}`)
  t.equal(
    (
      await staffC.post(`/admin/preinscriptions/${dossier.id}`, {
        _csrf: await csrfOf(staffC),
        decision: 'accepted',
      })
    ).statusCode,
    404,
  )
})
