import t from 'tap'
import { sha256 } from '../../../src/platform/auth/sessions.ts'
import { Browser } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import {
  dossierLink,
  dossiers,
  fieldValue,
  filledForm,
  nthMail,
  postForm,
  shownValues,
} from '../../helpers/preregistration.ts'
import { demoTenant } from '../../helpers/reenrolment.ts'
import { startInbox } from '../../helpers/smtp.ts'

const text = (value: string | undefined) => (value ?? '').replace(/\s+/g, ' ').trim()
t.test(
  'a family applies, gets the link by mail, modifies, confirms; the dossier is then locked',
  async (t) => {
    const inbox = await startInbox(t)
    const { app, host, tenants } = await build(t, {
      tenants: [demoTenant('limoges')],
      env: { SMTP_URL: inbox.url },
    })
    const slug = tenants[0]!.slug
    const family = new Browser(app, host())

    const home = html((await family.get('/')).body)
    t.ok(home.querySelector('a[href="/preinscription"].button'), 'the home page offers the pré-inscription')

    const form = await family.get('/preinscription')
    t.equal(form.statusCode, 200)
    const page = html(form.body)
    t.equal(text(page.querySelector('h1')?.childNodes[0]?.text), 'Pré-inscription en ligne')
    t.match(text(page.querySelector('.prose')?.text), /Bienvenue sur le téléservice de pré-inscription/)
    t.match(
      text(page.querySelector('.prose')?.text),
      /Vous pouvez vous pré-inscrire jusqu’au \d\d\/\d\d\/\d{4} à 23:59 inclus/,
    )
    t.match(text(page.querySelector('#eleve-1')?.text), /Veuillez sélectionner 2 choix par ordre de priorité/)
    t.match(text(page.querySelector('label[for="g1-lastName"]')?.text), /Nom \(obligatoire\)/)
    t.match(
      text(page.querySelector('label[for="p0-freeText"]')?.text),
      /si vous provenez d'un autre établissement/,
    )
    t.same(
      page
        .querySelectorAll('#p0-choice1 option')
        .map((o) => o.text)
        .slice(0, 3),
      ['Choisir…', 'Piano', 'Violon'],
      'the tenant’s disciplines',
    )

    // the blocks are added by round trips that keep what was typed
    const typed = {
      ...shownValues(form.body, '/preinscription'),
      'g1-lastName': 'Durand',
      'p0-firstName': 'Léa',
    }
    const withSecond = await postForm(family, '/preinscription', { ...typed, action: 'addGuardian' })
    t.equal(withSecond.statusCode, 200)
    t.ok(
      html(withSecond.body).querySelector('#responsable-2 input[name="g2-lastName"]'),
      'a second guardian block',
    )
    t.equal(fieldValue(withSecond.body, 'g1-lastName'), 'Durand', 'what was typed is kept')
    const withTwo = await postForm(family, '/preinscription', {
      ...shownValues(withSecond.body, '/preinscription'),
      action: 'addApplicant',
    })
    t.ok(html(withTwo.body).querySelector('#eleve-2 input[name="p1-lastName"]'), 'a second pupil block')
    t.equal(fieldValue(withTwo.body, 'p0-firstName'), 'Léa')
    t.equal(fieldValue(withTwo.body, 'secondGuardian'), 'true', 'the second guardian stays')
    t.equal((await dossiers(app, slug)).length, 0, 'a round trip saves nothing')

    const saved = await postForm(family, '/preinscription', filledForm())
    t.equal(saved.statusCode, 303)
    t.equal(saved.headers.location, '/preinscription/enregistree')
    const thanks = html((await family.get('/preinscription/enregistree')).body)
    t.match(text(thanks.text), /Un accusé de réception vient d’être envoyé/)

    const [row] = await dossiers(app, slug)
    t.equal(row?.status, 'draft')
    t.match(text(thanks.text), `Votre dossier porte le numéro ${row?.id}.`, 'the page names the dossier')
    t.match(
      text(thanks.text),
      'Un accusé de réception vient d’être envoyé à claire.durand@example.fr.',
      'and the address its link went to',
    )
    t.match(
      text(thanks.querySelector('.alert--pending')?.text),
      /^Le conservatoire n’examine votre dossier qu’une fois confirmé, avec le lien reçu à cette adresse\. Confirmez-le avant le \d\d\/\d\d\/\d{4} à 23:59\.$/,
    )
    const elsewhere = html((await new Browser(app, host()).get('/preinscription/enregistree')).body)
    t.notMatch(text(elsewhere.text), 'claire.durand', 'another browser is not told the address')
    t.equal(row?.email, 'claire.durand@example.fr')
    t.equal(row?.guardians.length, 2)
    t.same(
      row?.applicants.map((a) => [a.values.firstName, a.values.birthDate, a.choices]),
      [
        ['Léa', '2015-04-04', ['piano', 'violon']],
        ['Hugo', '2018-09-20', ['eveil-musical']],
      ],
    )
    t.equal(row?.guardians[0]?.phoneMobile, '06 12 34 56 78', 'normalized as on the Famille page')

    const ack = await nthMail(inbox, /Pré-inscription n° \d+ : dossier enregistré/)
    t.equal(ack.to, 'claire.durand@example.fr')
    t.match(ack.text, /Léa Durand : Piano, Violon/)
    const { token, path } = dossierLink(ack)
    t.equal(token.length, 43, '256 random bits, base64url')
    t.equal(row?.tokenHash, sha256(token), 'only the hash is stored')
    t.not(row?.tokenHash, token)

    // the link opens the dossier, prefilled
    const stranger = new Browser(app, host())
    const reopened = await stranger.get(path)
    t.equal(reopened.statusCode, 200)
    t.equal(reopened.headers['cache-control'], 'private, no-store')
    t.equal(fieldValue(reopened.body, 'g2-firstName'), 'Paul')
    t.equal(fieldValue(reopened.body, 'p0-choice2'), 'violon')
    t.equal(fieldValue(reopened.body, 'confirmEmail'), '', 'the e-mail is typed again at each save')
    t.equal(
      text(html(reopened.body).querySelector('title')?.text),
      `Dossier de pré-inscription n° ${row?.id} — Conservatoire de Limoges`,
      'not the blank form’s title',
    )

    const modified = await postForm(
      stranger,
      path,
      filledForm({ 'p1-choice1': 'trompette', 'p1-choice2': 'piano' }),
    )
    t.equal(modified.statusCode, 303)
    t.equal(modified.headers.location, `${path}?enregistre=1`)
    const notice = html((await stranger.get(`${path}?enregistre=1`)).body)
    t.match(text(notice.querySelector('.alert--success')?.text), /Vos modifications sont enregistrées/)
    const second = await nthMail(inbox, /Pré-inscription n° \d+ : modification enregistrée/)
    t.match(second.text, /Hugo Durand : Trompette, Piano/)
    t.equal(dossierLink(second).token, token, 'the same link')
    t.equal((await dossiers(app, slug))[0]?.revision, 2)

    const unticked = await stranger.submit(path, path, { action: 'confirm' })
    t.equal(unticked.statusCode, 400)
    t.equal(
      text(html(unticked.body).querySelector('#confirmed-error')?.text),
      'Cochez la case pour confirmer votre dossier.',
    )
    t.equal((await dossiers(app, slug))[0]?.status, 'draft')

    const confirmed = await stranger.submit(path, path, { action: 'confirm', confirmed: 'true' })
    t.equal(confirmed.statusCode, 303)
    const locked = html((await stranger.get(`${path}?confirme=1`)).body)
    t.equal(text(locked.querySelector('.alert--success')?.text), 'Votre dossier est confirmé.')
    t.notOk(locked.querySelector('input[name="g1-lastName"]'), 'read-only once confirmed')
    t.match(text(locked.text), /Hugo Durand/)
    t.match(text(locked.text), /Trompette/)
    await nthMail(inbox, /Pré-inscription n° \d+ : dossier confirmé/)
    const after = (await dossiers(app, slug))[0]!
    t.equal(after.status, 'confirmed')
    t.ok(after.confirmedAt)

    // a modification posted after the confirmation (an old tab) changes nothing
    const csrf = html((await stranger.get('/preinscription')).body)
      .querySelector('form.prereg-form input[name="_csrf"]')!
      .getAttribute('value')!
    const late = await stranger.post(path, { _csrf: csrf, ...filledForm({ 'p0-firstName': 'Zoé' }) })
    t.equal(late.statusCode, 409)
    t.match(text(html(late.body).text), /Confirmé/)
    t.equal(
      text(html(late.body).querySelector('.alert--error')?.text),
      'Ce dossier est confirmé : il ne peut plus être modifié.',
    )
    t.equal((await dossiers(app, slug))[0]?.applicants[0]?.values.firstName, 'Léa', 'nothing changed')
    t.equal((await dossiers(app, slug))[0]?.revision, 2)
    const again = await stranger.post(path, { _csrf: csrf, action: 'confirm', confirmed: 'true' })
    t.equal(again.statusCode, 409, 'confirming twice does nothing')
    t.equal(
      inbox.messages.filter((m) => /dossier confirmé/.test(m.subject)).length,
      1,
      'one confirmation mail',
    )
  },
)

t.test(
  'an empty form: the summary names each field by its block and links to it, the page opens on it and its title says Erreur',
  async (t) => {
    const { app, host } = await build(t, { tenants: [demoTenant('limoges')] })
    const refused = await postForm(new Browser(app, host()), '/preinscription', {
      applicants: '1',
      action: 'save',
    })
    t.equal(refused.statusCode, 400)
    const page = html(refused.body)
    t.match(text(page.querySelector('title')?.text), /^Erreur : Pré-inscription en ligne — /)
    const summary = page.querySelector('.error-summary')
    t.ok(summary?.hasAttribute('autofocus'), 'the summary takes the focus, without a script')
    t.equal(summary?.getAttribute('tabindex'), '-1')
    const lines = (summary?.querySelectorAll('li a') ?? []).map((a) => ({
      href: a.getAttribute('href'),
      text: text(a.text),
    }))
    t.ok(lines.length > 5, `${lines.length} errors`)
    t.same(
      lines.filter((line) => !line.text.includes(' : ')),
      [],
      'every line names its field (not "Ce champ est obligatoire." again and again)',
    )
    t.equal(new Set(lines.map((line) => line.text)).size, lines.length, 'no two lines alike')
    t.same(
      lines.find((line) => line.href === '#g1-lastName')?.text,
      'Responsable 1 — Nom : ce champ est obligatoire.',
    )
    t.same(
      lines.find((line) => line.href === '#p0-lastName')?.text,
      'Élève 1 — Nom : ce champ est obligatoire.',
    )
    t.match(lines.find((line) => line.href === '#p0-choice1')?.text, /^Élève 1 — Choix 1 : choisissez/)
    t.equal(
      lines.find((line) => line.href === '#confirmEmail')?.text,
      'Veuillez ressaisir l’e-mail du responsable 1 : ce champ est obligatoire.',
    )
    for (const line of lines) t.ok(page.querySelector(line.href ?? ''), `${line.href} is on the page`)
  },
)

t.test('bad input is refused beside its field, everything typed kept, nothing saved', async (t) => {
  const { app, host, tenants } = await build(t, { tenants: [demoTenant('limoges')] })
  const slug = tenants[0]!.slug
  const family = new Browser(app, host())
  const refused = await postForm(
    family,
    '/preinscription',
    filledForm({
      confirmEmail: 'claire.dupont@example.fr',
      antiSpam: '25',
      'p0-choice2': 'piano',
      'g1-postalCode': '870',
    }),
  )
  t.equal(refused.statusCode, 400)
  const page = html(refused.body)
  t.equal(
    text(page.querySelector('#confirmEmail-error')?.text),
    'Cette adresse ne correspond pas à l’e-mail du responsable 1.',
  )
  t.match(text(page.querySelector('#antiSpam-error')?.text), /^Réponse incorrecte/)
  t.match(text(page.querySelector('#p0-choice2-error')?.text), /déjà choisie/)
  t.match(text(page.querySelector('#g1-postalCode-error')?.text), /5 chiffres/)
  t.ok(page.querySelector('.error-summary a[href="#confirmEmail"]'), 'the summary links to each field')
  t.equal(fieldValue(refused.body, 'confirmEmail'), 'claire.dupont@example.fr', 'kept as typed')
  t.equal(fieldValue(refused.body, 'antiSpam'), '25')
  t.equal(fieldValue(refused.body, 'g1-postalCode'), '870')
  t.equal(fieldValue(refused.body, 'p1-firstName'), 'Hugo')
  t.equal(page.querySelector('#p0-freeText')?.text, 'Deux ans de piano à l’école de musique de Panazol.')
  t.equal((await dossiers(app, slug)).length, 0)

  const choices = await postForm(
    family,
    '/preinscription',
    filledForm({ 'p0-choice1': '', 'p0-choice2': 'piano', 'p1-choice1': 'cornemuse' }),
  )
  const errors = html(choices.body)
  t.equal(
    text(errors.querySelector('#p0-choice1-error')?.text),
    'Choisissez au moins une discipline (choix 1).',
  )
  t.match(text(errors.querySelector('#p0-choice2-error')?.text), /dans l’ordre/)
  t.equal(text(errors.querySelector('#p1-choice1-error')?.text), 'Choisissez une discipline de la liste.')

  const robot = await postForm(family, '/preinscription', filledForm({ homepage: 'http://spam.example' }))
  t.equal(robot.statusCode, 400)
  const trap = html(robot.body)
  t.match(text(trap.querySelector('#homepage-error')?.text), /doit rester vide/)
  t.equal(fieldValue(robot.body, 'homepage'), 'http://spam.example', 'shown, so a person can empty it')
  t.equal((await dossiers(app, slug)).length, 0, 'the honeypot saves nothing')

  const fresh = html((await family.get('/preinscription')).body)
  const hidden = fresh.querySelector('.trap')
  t.equal(hidden?.getAttribute('aria-hidden'), 'true', 'the honeypot is out of the accessibility tree')
  t.equal(hidden?.querySelector('input')?.getAttribute('tabindex'), '-1', 'and out of the tab order')
})

t.test('"le responsable est aussi élève" makes responsable 1 an applicant', async (t) => {
  const { app, host, tenants } = await build(t, { tenants: [demoTenant('limoges')] })
  const family = new Browser(app, host())
  const adult = {
    applicants: '1',
    'g1-civility': 'Monsieur',
    'g1-lastName': 'Bernard',
    'g1-firstName': 'Marc',
    'g1-address': '1 place de la République',
    'g1-postalCode': '87000',
    'g1-city': 'Limoges',
    'g1-email': 'marc.bernard@example.fr',
    'p0-useGuardianAddress': 'true',
  }
  const page = await postForm(family, '/preinscription', { ...adult, action: 'guardianApplicant' })
  const view = html(page.body)
  t.equal(fieldValue(page.body, 'p0-fromGuardian'), 'true', 'the empty first block becomes the responsable’s')
  t.match(text(view.querySelector('#eleve-1')?.text), /celles du responsable 1 \(Marc Bernard\)/)
  t.notOk(view.querySelector('input[name="p0-lastName"]'), 'no identity to type again')
  t.notOk(view.querySelector('button[value="guardianApplicant"]'), 'offered once')
  const saved = await postForm(family, '/preinscription', {
    ...adult,
    'p0-fromGuardian': 'true',
    'p0-birthDate': '1975-02-11',
    'p0-choice1': 'guitare',
    confirmEmail: 'marc.bernard@example.fr',
    antiSpam: '26',
    action: 'save',
  })
  t.equal(saved.statusCode, 303)
  const [row] = await dossiers(app, tenants[0]!.slug)
  t.same(row?.applicants[0], {
    fromGuardian: true,
    values: {
      civility: 'Monsieur',
      lastName: 'Bernard',
      firstName: 'Marc',
      birthDate: '1975-02-11',
      birthPlace: null,
      useGuardianAddress: 'true',
      address: null,
      postalCode: null,
      city: null,
      phoneHome: null,
      phoneMobile: null,
      email: 'marc.bernard@example.fr',
    },
    choices: ['guitare'],
    freeText: null,
  })
})

t.test(
  'opened from the mail in a fresh browser, every form of the dossier page is accepted at once',
  async (t) => {
    const inbox = await startInbox(t)
    const { app, host } = await build(t, { tenants: [demoTenant('limoges')], env: { SMTP_URL: inbox.url } })
    await postForm(new Browser(app, host()), '/preinscription', filledForm())
    const { path } = dossierLink(await nthMail(inbox, /dossier enregistré/))
    const tokensOf = (body: string) =>
      html(body)
        .querySelectorAll('form input[name="_csrf"]')
        .map((input) => input.getAttribute('value')!)
    for (const which of ['first', 'last'] as const) {
      const fresh = new Browser(app, host())
      const tokens = tokensOf((await fresh.get(path)).body)
      t.ok(tokens.length >= 2, 'the page carries several forms')
      const token = which === 'first' ? tokens[0]! : tokens.at(-1)!
      const saved = await fresh.post(path, { _csrf: token, ...filledForm({ 'p1-choice1': 'trompette' }) })
      t.equal(saved.statusCode, 303, `the save is accepted with the ${which} form's token`)
    }
  },
)

t.test('links: malformed, unknown and another tenant’s tokens are 404', async (t) => {
  const inbox = await startInbox(t)
  const { app, host } = await build(t, {
    tenants: [demoTenant('limoges'), demoTenant('limoges')],
    env: { SMTP_URL: inbox.url },
  })
  const family = new Browser(app, host(0))
  await postForm(family, '/preinscription', filledForm())
  const { path } = dossierLink(await nthMail(inbox, /dossier enregistré/))
  t.equal((await family.get(path)).statusCode, 200)
  t.equal((await family.get('/preinscription/dossier/abc')).statusCode, 404)
  t.equal((await family.get(`/preinscription/dossier/${'A'.repeat(43)}`)).statusCode, 404)
  const other = new Browser(app, host(1))
  // the "enregistrée" page's signed cookie, carried to the other conservatoire, names nothing there
  other.cookies = new Map(family.cookies)
  const thanks = await other.get('/preinscription/enregistree')
  t.equal(thanks.statusCode, 200)
  t.notMatch(thanks.body, /claire\.durand/, 'no address from another conservatoire')
  t.match(
    (await family.get('/preinscription/enregistree')).body,
    /claire\.durand@example\.fr/,
    'its own host does',
  )
  const foreign = await other.get(path)
  t.equal(foreign.statusCode, 404, 'the other tenant’s host does not know the link')
  t.notMatch(foreign.body, /Durand/)
})

t.test('outside the period: dates instead of the form, links read-only; no period, no pages', async (t) => {
  const closed = demoTenant('limoges', {
    periods: { preregistration: { opens: 'today-60', closes: 'today-1' } },
  })
  const upcoming = demoTenant('limoges', {
    periods: { preregistration: { opens: 'today+3', closes: 'today+30' } },
  })
  const none = demoTenant('limoges', { periods: {} })
  const { app, host } = await build(t, { tenants: [closed, upcoming, none] })
  const past = new Browser(app, host(0))
  const page = await past.get('/preinscription')
  t.equal(page.statusCode, 200)
  t.equal(text(html(page.body).querySelector('h1')?.text), 'Pré-inscription fermée')
  t.match(text(html(page.body).text), /était ouverte jusqu’au \d\d\/\d\d\/\d{4} à 23:59/)
  t.notOk(html(page.body).querySelector('form.prereg-form'))
  t.notOk(
    html((await past.get('/')).body).querySelector('a[href="/preinscription"]'),
    'not offered on the home page',
  )
  const token = html((await past.get('/connexion')).body)
    .querySelector('input[name="_csrf"]')!
    .getAttribute('value')!
  const posted = await past.post('/preinscription', { _csrf: token, ...filledForm() })
  t.equal(posted.statusCode, 403, 'a post after the closing is refused')
  t.match(text(html(posted.body).text), /Elle est maintenant fermée/)

  const later = await new Browser(app, host(1)).get('/preinscription')
  t.match(text(html(later.body).text), /ouvrira le \d\d\/\d\d\/\d{4} à 00:00/)
  t.equal((await new Browser(app, host(2)).get('/preinscription')).statusCode, 404)
})
