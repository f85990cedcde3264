import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { changeRole, setDisabled } from '../../../src/features/accounts/staff-service.ts'
import { Guardian } from '../../../src/features/family/entities.ts'
import { Course, SchoolYear, Teacher } from '../../../src/features/teaching/entities.ts'
import { AuditEvent } from '../../../src/platform/audit/entities.ts'
import type { SignedInContext } from '../../../src/platform/auth/context.ts'
import { Account, PasswordToken, Session } from '../../../src/platform/auth/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { translator } from '../../../src/platform/views/i18n.ts'
import { Browser, createAccount, goodPassword, signedInBrowser } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { createFamily } from '../../helpers/families.ts'
import { type Inbox, linkIn, type ParsedMail, startInbox } from '../../helpers/smtp.ts'

const newPassword = 'ma toute première phrase'

/** The state badge and the cells of the list's row for an identifiant. */
function listRow(body: string, identifiant: string) {
  const row = html(body)
    .querySelectorAll('table.accounts tbody tr')
    .find((tr) => tr.querySelector('th')?.text.trim() === identifiant)
  return row && [...row.querySelectorAll('th, td')].map((cell) => cell.text.trim().replace(/\s+/g, ' '))
}

/** Follows a mailed link to choose a password; answers the status of the page that confirms it. */
async function activate(app: FastifyInstance, host: string, mail: ParsedMail, password = newPassword) {
  const link = linkIn(mail, '/mot-de-passe/nouveau')
  const browser = new Browser(app, host)
  const res = await browser.submit(link.pathname + link.search, '/mot-de-passe/nouveau', {
    jeton: link.searchParams.get('jeton')!,
    password,
    confirmation: password,
  })
  return res.statusCode
}

const mailTo = (inbox: Inbox, address: string, subject?: RegExp) =>
  inbox.waitFor((m) => m.to.includes(address) && (!subject || subject.test(m.subject)))

t.test('Comptes: the admins’ accounts back-office', async (t) => {
  const inbox = await startInbox(t)
  const { app, host, tenants } = await build(t, { tenants: [{}, {}], env: { SMTP_URL: inbox.url } })
  const slug = tenants[0]!.slug
  const em = () => app.orm.em.fork({ schema: schemaFor(slug) })
  const admin = await createAccount(app, slug, {
    identifiant: 'admin-one',
    role: 'admin',
    displayName: 'Anne Admin',
  })
  const browser = await signedInBrowser(app, host(), 'admin-one', '/admin/connexion')
  const audits = async (action: string) => (await em().find(AuditEvent, { action })).length

  const year = em().create(SchoolYear, {
    label: '2026-2027',
    startsOn: '2026-09-01',
    endsOn: '2027-08-31',
    current: true,
  })
  await em().persist(year).flush()

  t.test(
    'invite a new teacher: the mail, the tie to a Teacher row, /enseignant after activation',
    async (t) => {
      const form = html((await browser.get('/admin/comptes/nouveau')).body)
      t.equal(form.querySelector('h1')?.text, 'Inviter une personne')
      t.notOk(
        form.querySelectorAll('#role option').some((o) => o.getAttribute('value') === 'family'),
        'a family is invited from its guardian, not from here',
      )
      const res = await browser.submit('/admin/comptes/nouveau', '/admin/comptes/nouveau', {
        role: 'teacher',
        firstName: 'Hélène',
        lastName: 'Rivière',
        email: 'helene.riviere@example.fr',
        identifiant: '',
        teacher: 'nouveau',
      })
      t.equal(res.statusCode, 303)
      const account = await em().findOneOrFail(Account, { identifiant: 'helene.riviere' })
      t.equal(res.headers.location, `/admin/comptes/${account.id}?fait=invitation`)
      t.equal(account.role, 'teacher')
      const page = html((await browser.get(res.headers.location as string)).body)
      t.equal(
        page.querySelector('[role="status"]')?.text,
        'Invitation envoyée à helene.riviere@example.fr. Identifiant : helene.riviere.',
      )
      t.equal(page.querySelector('.state')?.text, 'Invité')
      t.match(page.querySelector('#invitation')?.text, /^envoyée le .*, valable jusqu’au /)

      const teacher = await em().findOneOrFail(Teacher, { account: account.id })
      t.same(
        [teacher.firstName, teacher.lastName, teacher.email],
        ['Hélène', 'Rivière', 'helene.riviere@example.fr'],
      )
      await em()
        .persist(
          em().create(Course, {
            schoolYear: year.id,
            discipline: 'violon',
            establishment: 'centre',
            name: 'Violon 1C1',
            teacher: teacher.id,
            slot: 'Lundi 17h00 – 17h30',
          }),
        )
        .flush()
      t.match(
        html((await browser.get(`/admin/comptes/${account.id}`)).body).querySelector('.teacher-courses')
          ?.text,
        'Violon 1C1 — Lundi 17h00 – 17h30',
        'the account’s page lists the courses it teaches this year',
      )

      const mail = await mailTo(inbox, 'helene.riviere@example.fr')
      t.match(mail.subject, 'Votre accès au portail')
      t.match(mail.text, 'helene.riviere')
      t.equal(linkIn(mail, '/mot-de-passe/nouveau').host, host(), 'the link is for the tenant’s host')
      t.equal(await activate(app, host(), mail), 200)
      const teacherBrowser = new Browser(app, host())
      const signIn = await teacherBrowser.submit('/enseignant/connexion', '/enseignant/connexion', {
        identifiant: 'helene.riviere',
        password: newPassword,
      })
      t.equal(signIn.headers.location, '/enseignant')
      t.match(
        html((await teacherBrowser.get('/enseignant')).body).text,
        'Violon 1C1',
        'the teacher sees their course',
      )
      t.equal(await audits('account.invited'), 1)
      const list = await browser.get('/admin/comptes?role=teacher')
      t.same(listRow(list.body, 'helene.riviere')?.slice(1, 4), ['Hélène Rivière', 'Enseignant', 'Actif'])
      t.equal(listRow(list.body, 'helene.riviere')?.[5], 'Hélène Rivière', 'tied to the teacher')
    },
  )

  t.test('invite an existing teacher chosen in the list: the row is tied, its names kept', async (t) => {
    const teacher = em().create(Teacher, { firstName: 'Marc', lastName: 'Ébrard', email: null })
    await em().persist(teacher).flush()
    const form = html((await browser.get(`/admin/comptes/nouveau?enseignant=${teacher.id}`)).body)
    t.equal(
      form.querySelector('#identifiant')?.getAttribute('value'),
      'marc.ebrard',
      'an identifiant is proposed',
    )
    t.equal(form.querySelector('#teacher option[selected]')?.getAttribute('value'), String(teacher.id))
    const res = await browser.submit('/admin/comptes/nouveau', '/admin/comptes/nouveau', {
      role: 'teacher',
      firstName: '',
      lastName: '',
      email: 'marc.ebrard@example.fr',
      identifiant: 'marc.ebrard',
      teacher: String(teacher.id),
    })
    t.equal(res.statusCode, 303)
    const tied = await em().findOneOrFail(Teacher, { id: teacher.id }, { populate: ['account'] })
    t.equal(tied.account?.identifiant, 'marc.ebrard')
    t.equal(tied.account?.displayName, 'Marc Ébrard')
    t.equal(tied.email, 'marc.ebrard@example.fr', 'a teacher without an e-mail gets the invitation’s')
    const again = await browser.get(`/admin/comptes/nouveau?enseignant=${teacher.id}`)
    t.equal(
      again.headers.location,
      `/admin/comptes/${tied.account!.id}`,
      'a second invitation shows the account',
    )
  })

  t.test('bad input: 400, a French message beside each field, what was typed kept', async (t) => {
    const before = await em().count(Account)
    const empty = await browser.submit('/admin/comptes/nouveau', '/admin/comptes/nouveau', {
      role: '',
      firstName: '',
      lastName: 'Durand',
      email: 'pas-un-email',
      identifiant: '',
    })
    t.equal(empty.statusCode, 400)
    let page = html(empty.body)
    t.equal(page.querySelector('#role-error')?.text, 'Ce champ est obligatoire.')
    t.equal(page.querySelector('#firstName-error')?.text, 'Ce champ est obligatoire.')
    t.equal(
      page.querySelector('#email-error')?.text,
      'Saisissez une adresse e-mail valide, par exemple nom@exemple.fr.',
    )
    t.equal(page.querySelector('#lastName')?.getAttribute('value'), 'Durand', 'kept')
    t.equal(page.querySelector('#email')?.getAttribute('value'), 'pas-un-email', 'kept')
    t.ok(page.querySelector('.error-summary a[href="#email"]'), 'the summary links to the field')

    const taken = await browser.submit('/admin/comptes/nouveau', '/admin/comptes/nouveau', {
      role: 'secretariat',
      firstName: 'Paul',
      lastName: 'Durand',
      email: 'paul.durand@example.fr',
      identifiant: 'Helene.Riviere',
    })
    t.equal(taken.statusCode, 400)
    page = html(taken.body)
    t.equal(
      page.querySelector('#identifiant-error')?.text,
      'Cet identifiant est déjà utilisé. Proposition : helene.riviere2.',
    )
    t.equal(page.querySelector('#identifiant')?.getAttribute('value'), 'Helene.Riviere')
    t.equal(page.querySelector('#role option[selected]')?.getAttribute('value'), 'secretariat')

    const badForm = await browser.submit('/admin/comptes/nouveau', '/admin/comptes/nouveau', {
      role: 'family',
      firstName: 'Paul',
      lastName: 'Durand',
      email: 'paul.durand@example.fr',
      identifiant: 'é!',
    })
    page = html(badForm.body)
    t.match(page.querySelector('#identifiant-error')?.text, /^De 3 à 100 caractères/)
    t.match(page.querySelector('#role-error')?.text, /depuis la fiche de la famille/)

    const unknownTeacher = await browser.submit('/admin/comptes/nouveau', '/admin/comptes/nouveau', {
      role: 'teacher',
      firstName: 'Paul',
      lastName: 'Durand',
      email: 'paul.durand@example.fr',
      teacher: '999999',
    })
    t.equal(
      html(unknownTeacher.body).querySelector('#teacher-error')?.text,
      'Choisissez une fiche enseignant, ou une nouvelle fiche.',
    )
    t.equal(await em().count(Account), before, 'nothing was created')
  })

  t.test('a guardian’s invitation ties the account to them; the family signs in', async (t) => {
    const { family, second } = await createFamily(app, slug, 'famille-durand', 'Durand')
    await em().nativeUpdate(
      Guardian,
      { id: second.id },
      { firstName: 'Éloïse', email: 'eloise.durand@example.fr' },
    )
    const form = html((await browser.get(`/admin/comptes/nouveau?responsable=${second.id}`)).body)
    t.equal(form.querySelector('#guardian')?.text, 'Compte famille de Éloïse Durand, responsable 2.')
    t.equal(form.querySelector('#identifiant')?.getAttribute('value'), 'eloise.durand')
    t.equal(form.querySelector('#email')?.getAttribute('value'), 'eloise.durand@example.fr')
    t.notOk(form.querySelector('#role'), 'the role is the family’s')
    const res = await browser.submit(
      `/admin/comptes/nouveau?responsable=${second.id}`,
      '/admin/comptes/nouveau',
      {
        guardian: String(second.id),
        firstName: 'Éloïse',
        lastName: 'Durand',
        email: 'eloise.durand@example.fr',
        identifiant: 'eloise.durand',
      },
    )
    t.equal(res.statusCode, 303)
    const guardian = await em().findOneOrFail(Guardian, { id: second.id }, { populate: ['account'] })
    t.equal(guardian.account?.identifiant, 'eloise.durand')
    t.equal(guardian.account?.role, 'family')
    const again = await browser.get(`/admin/comptes/nouveau?responsable=${second.id}`)
    t.equal(again.headers.location, `/admin/comptes/${guardian.account!.id}`)

    const list = await browser.get('/admin/comptes?q=ELOISE')
    t.same(
      listRow(list.body, 'eloise.durand')?.slice(1, 4),
      ['Éloïse Durand', 'Famille', 'Invité'],
      '"ELOISE" finds Éloïse',
    )
    t.equal(
      html(list.body).querySelector('table.accounts a[href^="/admin/familles/"]')?.getAttribute('href'),
      `/admin/familles/${family.id}`,
    )

    t.equal(await activate(app, host(), await mailTo(inbox, 'eloise.durand@example.fr')), 200)
    const familyBrowser = await new Browser(app, host())
    const signIn = await familyBrowser.submit('/connexion', '/connexion', {
      identifiant: 'eloise.durand',
      password: newPassword,
    })
    t.equal(signIn.headers.location, '/accueil')
    t.match(
      html((await familyBrowser.get('/accueil')).body).text,
      'Léa',
      'the family’s portal, with its pupil',
    )
  })

  t.test('resend the invitation: a new link, the old one spent', async (t) => {
    await browser.submit('/admin/comptes/nouveau', '/admin/comptes/nouveau', {
      role: 'direction',
      firstName: 'Jules',
      lastName: 'Ferry',
      email: 'jules.ferry@example.fr',
    })
    const account = await em().findOneOrFail(Account, { identifiant: 'jules.ferry' })
    const first = await mailTo(inbox, 'jules.ferry@example.fr')
    inbox.messages.length = 0
    const res = await browser.submit(
      `/admin/comptes/${account.id}`,
      `/admin/comptes/${account.id}/invitation`,
      {},
    )
    t.equal(res.headers.location, `/admin/comptes/${account.id}?fait=renvoi`)
    t.equal(
      html((await browser.get(res.headers.location as string)).body).querySelector('[role="status"]')?.text,
      'Nouvelle invitation envoyée à jules.ferry@example.fr.',
    )
    const second = await mailTo(inbox, 'jules.ferry@example.fr')
    const old = linkIn(first, '/mot-de-passe/nouveau')
    t.equal(
      (await new Browser(app, host()).get(old.pathname + old.search)).statusCode,
      410,
      'the old link is spent',
    )
    t.equal(await activate(app, host(), second), 200, 'the new one works')
    t.equal(await audits('account.invitationResent'), 1)
    const activePage = html((await browser.get(`/admin/comptes/${account.id}`)).body)
    t.ok(
      activePage.querySelector(`form[action="/admin/comptes/${account.id}/lien-mot-de-passe"]`),
      'now active: the password link',
    )
    t.notOk(
      activePage.querySelector(`form[action="/admin/comptes/${account.id}/invitation"]`),
      'and no invitation',
    )
    const resendActive = await browser.post(`/admin/comptes/${account.id}/invitation`, {
      _csrf: html((await browser.get(`/admin/comptes/${account.id}`)).body)
        .querySelector('input[name="_csrf"]')!
        .getAttribute('value')!,
    })
    t.equal(resendActive.statusCode, 400)
    t.match(html(resendActive.body).querySelector('.alert--error')?.text, 'a déjà un mot de passe')
  })

  t.test('send a password link: the reset mail; the password works until the link is used', async (t) => {
    const person = await createAccount(app, slug, {
      identifiant: 'sec-martin',
      role: 'secretariat',
      email: 'martin@example.fr',
    })
    const res = await browser.submit(
      `/admin/comptes/${person.id}`,
      `/admin/comptes/${person.id}/lien-mot-de-passe`,
      {},
    )
    t.equal(res.headers.location, `/admin/comptes/${person.id}?fait=lien`)
    const mail = await mailTo(inbox, 'martin@example.fr')
    t.match(mail.subject, 'mot de passe')
    t.match(mail.text, 'sec-martin')
    const token = await em().findOneOrFail(PasswordToken, { account: person.id })
    t.equal(token.purpose, 'reset')
    t.ok(token.expiresAt.getTime() - Date.now() <= 30 * 60_000, 'valid 30 minutes')
    await signedInBrowser(app, host(), 'sec-martin', '/admin/connexion')
    t.equal(await activate(app, host(), mail, 'une autre phrase de passe'), 200)
    t.equal(await audits('account.passwordLinkSent'), 1)
  })

  t.test(
    'disable: the open session is refused at the next request, sign-in refused; enable again',
    async (t) => {
      const person = await createAccount(app, slug, { identifiant: 'prof-dupuis', role: 'teacher' })
      const session = await signedInBrowser(app, host(), 'prof-dupuis', '/enseignant/connexion')
      t.equal((await session.get('/enseignant')).statusCode, 200)
      const res = await browser.submit(
        `/admin/comptes/${person.id}`,
        `/admin/comptes/${person.id}/desactiver`,
        {},
      )
      t.equal(res.headers.location, `/admin/comptes/${person.id}?fait=desactive`)
      t.equal(await em().count(Session, { account: person.id }), 0, 'every session closed')
      const next = await session.get('/enseignant')
      t.equal(next.statusCode, 303, 'the open session no longer opens anything')
      t.match(next.headers.location, /^\/enseignant\/connexion/)
      const signIn = await new Browser(app, host()).submit('/enseignant/connexion', '/enseignant/connexion', {
        identifiant: 'prof-dupuis',
        password: goodPassword,
      })
      t.equal(signIn.statusCode, 401, 'sign-in refused')
      t.same(
        listRow((await browser.get('/admin/comptes?etat=disabled')).body, 'prof-dupuis')?.[3],
        'Désactivé',
      )

      const enable = await browser.submit(
        `/admin/comptes/${person.id}`,
        `/admin/comptes/${person.id}/reactiver`,
        {},
      )
      t.equal(enable.headers.location, `/admin/comptes/${person.id}?fait=reactive`)
      await signedInBrowser(app, host(), 'prof-dupuis', '/enseignant/connexion')
      t.equal(await audits('account.disabled'), 1)
      t.equal(await audits('account.enabled'), 1)
      const history = html((await browser.get(`/admin/comptes/${person.id}`)).body).querySelectorAll(
        '.history li',
      )
      t.match(history[0]?.text, /Compte réactivé, par Anne Admin \(admin-one\)$/)
      t.match(history[1]?.text, /Compte désactivé, par Anne Admin/)
    },
  )

  t.test('roles: staff move between staff roles; nobody disables or demotes themselves', async (t) => {
    const other = await createAccount(app, slug, { identifiant: 'admin-two', role: 'admin' })
    const demote = await browser.submit(`/admin/comptes/${other.id}`, `/admin/comptes/${other.id}/role`, {
      role: 'direction',
    })
    t.equal(demote.headers.location, `/admin/comptes/${other.id}?fait=role`)
    t.equal((await em().findOneOrFail(Account, { id: other.id })).role, 'direction')
    const event = await em().findOneOrFail(AuditEvent, { action: 'account.roleChanged' })
    t.same(event.details, { from: 'admin', to: 'direction' })

    const own = html((await browser.get(`/admin/comptes/${admin.id}`)).body)
    t.equal(
      own.querySelector('#action + p, #action ~ p:last-child')?.text,
      'C’est votre compte : vous ne pouvez ni le désactiver ni changer son rôle.',
    )
    t.notOk(
      own.querySelector(`form[action="/admin/comptes/${admin.id}/desactiver"]`),
      'no button to disable oneself',
    )
    const token = own.querySelector('input[name="_csrf"]')?.getAttribute('value') ?? ''
    const selfDisable = await browser.post(`/admin/comptes/${admin.id}/desactiver`, { _csrf: token })
    t.equal(selfDisable.statusCode, 400)
    t.equal(
      html(selfDisable.body).querySelector('.alert--error')?.text,
      'Vous ne pouvez pas désactiver votre propre compte ni changer votre propre rôle.',
    )
    const selfDemote = await browser.post(`/admin/comptes/${admin.id}/role`, {
      _csrf: token,
      role: 'secretariat',
    })
    t.equal(selfDemote.statusCode, 400)
    t.equal((await em().findOneOrFail(Account, { id: admin.id })).role, 'admin')
    t.equal((await em().findOneOrFail(Account, { id: admin.id })).disabled, false)

    const teacher = await em().findOneOrFail(Account, { identifiant: 'helene.riviere' })
    const notStaff = await browser.post(`/admin/comptes/${teacher.id}/role`, { _csrf: token, role: 'admin' })
    t.equal(notStaff.statusCode, 400, 'a teacher’s account does not become staff')
    t.equal((await em().findOneOrFail(Account, { id: teacher.id })).role, 'teacher')
    const unknownRole = await browser.post(`/admin/comptes/${other.id}/role`, {
      _csrf: token,
      role: 'family',
    })
    t.equal(html(unknownRole.body).querySelector('#role-error')?.text, 'Choisissez un des rôles proposés.')
  })

  t.test('the last active admin is neither disabled nor demoted, whoever asks', async (t) => {
    const ctx = {
      em: em(),
      t: translator('fr'),
      config: tenants[0]!,
      account: {
        id: 0,
        role: 'admin',
        identifiant: 'operateur',
        email: 'op@example.fr',
        displayName: 'Opérateur',
      },
    } as unknown as SignedInContext
    t.same(await setDisabled(ctx, admin.id, true), {
      action: 'Il doit rester au moins un administrateur actif.',
    })
    t.same(await changeRole(ctx, admin.id, 'secretariat'), {
      role: 'Il doit rester au moins un administrateur actif.',
    })
    const account = await em().findOneOrFail(Account, { id: admin.id })
    t.same([account.role, account.disabled], ['admin', false])
  })

  t.test('the list: every state, filters by role and state, search without accents, pages', async (t) => {
    const db = em()
    const expired = db.create(Account, {
      identifiant: 'invitation-perimee',
      role: 'family',
      email: 'perimee@example.fr',
      displayName: 'Zoé Périmée',
      passwordHash: null,
    })
    db.create(PasswordToken, {
      tokenHash: 'f'.repeat(64),
      account: expired,
      purpose: 'invitation',
      expiresAt: new Date(Date.now() - 86_400_000),
    })
    for (let i = 0; i < 55; i++) {
      db.create(Account, {
        identifiant: `masse-${String(i).padStart(2, '0')}`,
        role: 'family',
        email: `masse${i}@example.fr`,
        displayName: `Famille Masse ${String(i).padStart(2, '0')}`,
        passwordHash: 'unused',
      })
    }
    await db.flush()
    const all = await browser.get('/admin/comptes')
    const page = html(all.body)
    t.match(page.querySelector('.pagination__summary')?.text, /^1 à 50 sur \d+/)
    t.equal(page.querySelector('a[rel="next"]')?.getAttribute('href'), '/admin/comptes?page=2')
    const second = await browser.get('/admin/comptes?page=2')
    t.same(listRow(second.body, 'invitation-perimee')?.slice(1, 5), [
      'Zoé Périmée',
      'Famille',
      'Invitation expirée',
      'Jamais',
    ])
    const expiredOnly = html((await browser.get('/admin/comptes?etat=expired')).body)
    t.same(
      expiredOnly.querySelectorAll('table.accounts tbody th').map((th) => th.text.trim()),
      ['invitation-perimee'],
    )
    const staff = html((await browser.get('/admin/comptes?role=admin')).body)
    t.same(
      staff.querySelectorAll('table.accounts tbody th').map((th) => th.text.trim()),
      ['admin-one'],
    )
    const search = html((await browser.get('/admin/comptes?q=perimee')).body)
    t.same(
      search.querySelectorAll('table.accounts tbody th').map((th) => th.text.trim()),
      ['invitation-perimee'],
    )
    const percent = html((await browser.get('/admin/comptes?q=%25')).body)
    t.equal(
      percent.querySelectorAll('table.accounts tbody tr').length,
      0,
      'a % is searched for, not a wildcard',
    )
    t.equal(percent.querySelector('main p:last-child')?.text, 'Aucun compte ne correspond à ces critères.')
    t.equal((await browser.get('/admin/comptes?role=chef')).statusCode, 400)
  })

  t.test('another tenant’s account ids are a 404; secretariat and direction get a 403', async (t) => {
    const otherSlug = tenants[1]!.slug
    await createAccount(app, otherSlug, { identifiant: 'admin-b', role: 'admin' })
    const otherAdmin = await signedInBrowser(app, host(1), 'admin-b', '/admin/connexion')
    const target = await em().findOneOrFail(Account, { identifiant: 'helene.riviere' })
    t.equal((await otherAdmin.get(`/admin/comptes/${target.id}`)).statusCode, 404)
    const token = html((await otherAdmin.get('/admin/comptes')).body).querySelector('input[name="_csrf"]')
    const csrf =
      token?.getAttribute('value') ??
      html((await otherAdmin.get('/mot-de-passe')).body)
        .querySelector('input[name="_csrf"]')!
        .getAttribute('value')!
    for (const path of ['desactiver', 'invitation', 'lien-mot-de-passe', 'role']) {
      const res = await otherAdmin.post(`/admin/comptes/${target.id}/${path}`, { _csrf: csrf, role: 'admin' })
      t.equal(res.statusCode, 404, `POST ${path}`)
    }
    t.equal((await em().findOneOrFail(Account, { id: target.id })).disabled, false)
    t.notOk(listRow((await otherAdmin.get('/admin/comptes')).body, 'helene.riviere'), 'not listed')

    for (const role of ['secretariat', 'direction'] as const) {
      await createAccount(app, slug, { identifiant: `staff-${role}`, role })
      const staff = await signedInBrowser(app, host(), `staff-${role}`, '/admin/connexion')
      t.equal((await staff.get('/admin/comptes')).statusCode, 403, `${role}: the list`)
      t.equal((await staff.get('/admin/comptes/nouveau')).statusCode, 403, `${role}: the form`)
      const page = html((await staff.get('/admin')).body)
      t.notOk(page.querySelector('a[href="/admin/comptes"]'), `${role}: no menu link`)
      const csrfToken = html((await staff.get('/mot-de-passe')).body)
        .querySelector('input[name="_csrf"]')!
        .getAttribute('value')!
      const res = await staff.post(`/admin/comptes/${target.id}/desactiver`, { _csrf: csrfToken })
      t.equal(res.statusCode, 403, `${role}: disabling`)
    }
    t.equal((await em().findOneOrFail(Account, { id: target.id })).disabled, false)
  })
})
