import t from 'tap'
import { runCli } from '../../../src/cli/commands.ts'
import { Account, PasswordToken, Session } from '../../../src/platform/auth/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser, createAccount, goodPassword } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { linkIn, startInbox } from '../../helpers/smtp.ts'

t.test('mailed links use the canonical host and the public URL, never the Host of the request', async (t) => {
  const inbox = await startInbox(t)
  const { app, host, tenants } = await build(t, {
    tenants: [{}, { hosts: ['conservatoire.example.fr', 'musique.example.fr'] }],
    env: { SMTP_URL: inbox.url, PUBLIC_URL: 'https://localhost:8443' },
  })
  await createAccount(app, tenants[0]!.slug, { identifiant: 'famille-martin', email: 'martin@example.fr' })
  await createAccount(app, tenants[1]!.slug, { identifiant: 'famille-durand', email: 'durand@example.fr' })
  const oddHost = `${host(0).toUpperCase()}.:6666`
  const res = await new Browser(app, oddHost).submit('/mot-de-passe-perdu', '/mot-de-passe-perdu', {
    identifiant: 'famille-martin',
    email: 'martin@example.fr',
  })
  t.equal(res.statusCode, 200)
  const link = linkIn(await inbox.waitFor((m) => m.to.includes('martin@example.fr')), '/mot-de-passe/nouveau')
  t.equal(link.origin, `https://${host(0)}:8443`, 'the port and spelling of the request are not copied')
  await new Browser(app, 'musique.example.fr').submit('/mot-de-passe-perdu', '/mot-de-passe-perdu', {
    identifiant: 'famille-durand',
    email: 'durand@example.fr',
  })
  const custom = linkIn(
    await inbox.waitFor((m) => m.to.includes('durand@example.fr')),
    '/mot-de-passe/nouveau',
  )
  t.equal(custom.origin, 'https://conservatoire.example.fr:8443', 'a custom domain: its first host')
})

t.test('Mot de passe perdu, end to end through a real SMTP server', async (t) => {
  const inbox = await startInbox(t)
  const { app, host, tenants } = await build(t, { env: { SMTP_URL: inbox.url } })
  const slug = tenants[0]!.slug
  await createAccount(app, slug, { identifiant: 'famille-martin', email: 'camille.martin@example.fr' })
  const em = () => app.orm.em.fork({ schema: schemaFor(slug) })

  t.test('both fields are required; the other value is kept', async (t) => {
    const res = await new Browser(app, host()).submit('/mot-de-passe-perdu', '/mot-de-passe-perdu', {
      identifiant: 'famille-martin',
      email: '',
    })
    t.equal(res.statusCode, 400)
    const page = html(res.body)
    t.equal(page.querySelector('#email-error')?.text, 'Ce champ est obligatoire.')
    t.equal(page.querySelector('#identifiant')?.getAttribute('value'), 'famille-martin')
    const bad = await new Browser(app, host()).submit('/mot-de-passe-perdu', '/mot-de-passe-perdu', {
      identifiant: 'famille-martin',
      email: 'pas-un-email',
    })
    t.equal(
      html(bad.body).querySelector('#email-error')?.text,
      'Saisissez une adresse e-mail valide, par exemple nom@exemple.fr.',
    )
  })

  t.test('the answer is the same whether or not identifiant and e-mail match', async (t) => {
    const answers = []
    for (const [identifiant, email] of [
      ['famille-martin', 'autre@example.fr'],
      ['inconnu', 'camille.martin@example.fr'],
      ['famille-martin', 'Camille.Martin@example.fr'],
    ] as const) {
      const res = await new Browser(app, host()).submit('/mot-de-passe-perdu', '/mot-de-passe-perdu', {
        identifiant,
        email,
      })
      answers.push([res.statusCode, html(res.body).querySelector('[role="status"]')?.text])
    }
    t.equal(answers[0]![0], 200)
    t.match(
      answers[0]![1],
      /^Si l’identifiant et l’e-mail correspondent à un compte, un lien vient d’être envoyé/,
    )
    t.same(answers[1], answers[0])
    t.same(answers[2], answers[0])
    t.equal(await em().count(PasswordToken), 1, 'only the match made a link')
  })

  t.test('the mailed link works once; the old password works until it is used', async (t) => {
    const mail = await inbox.waitFor((m) => m.to.includes('camille.martin@example.fr'))
    t.match(mail.subject, 'mot de passe')
    t.match(mail.text, 'famille-martin')
    const link = linkIn(mail, '/mot-de-passe/nouveau')
    t.equal(link.host, host(), 'the link is for the tenant’s host')

    const signedIn = new Browser(app, host())
    await signedIn.submit('/connexion', '/connexion', {
      identifiant: 'famille-martin',
      password: goodPassword,
    })
    t.equal((await signedIn.get('/accueil')).statusCode, 200, 'the old password still works')

    const browser = new Browser(app, host())
    const page = html((await browser.get(link.pathname + link.search)).body)
    t.equal(page.querySelector('h1')?.text, 'Choisir un mot de passe')
    t.match(page.querySelector('#password-hint')?.text, 'De 12 à 128 caractères')

    const mismatch = await browser.submit(link.pathname + link.search, '/mot-de-passe/nouveau', {
      jeton: link.searchParams.get('jeton')!,
      password: 'un nouveau mot de passe',
      confirmation: 'un autre mot de passe',
    })
    t.equal(
      html(mismatch.body).querySelector('#confirmation-error')?.text,
      'Les deux mots de passe ne sont pas identiques.',
    )

    const done = await browser.submit(link.pathname + link.search, '/mot-de-passe/nouveau', {
      jeton: link.searchParams.get('jeton')!,
      password: 'un nouveau mot de passe',
      confirmation: 'un nouveau mot de passe',
    })
    t.equal(done.statusCode, 200)
    t.match(html(done.body).querySelector('[role="status"]')?.text, 'Votre mot de passe est enregistré')
    t.equal((await signedIn.get('/accueil')).statusCode, 303, 'using the link closed every session')
    t.equal(await em().count(Session), 0)

    const again = await new Browser(app, host()).get(link.pathname + link.search)
    t.equal(again.statusCode, 410, 'a second use is refused')
    t.equal(html(again.body).querySelector('h1')?.text, 'Ce lien n’est plus valable')

    const old = await new Browser(app, host()).submit('/connexion', '/connexion', {
      identifiant: 'famille-martin',
      password: goodPassword,
    })
    t.equal(old.statusCode, 401, 'the old password no longer works')
    const fresh = await new Browser(app, host()).submit('/connexion', '/connexion', {
      identifiant: 'famille-martin',
      password: 'un nouveau mot de passe',
    })
    t.equal(fresh.statusCode, 303)
  })

  t.test('a link works only on the host of the tenant that mailed it', async (t) => {
    const other = await build(t)
    // the same identifiant and e-mail on both tenants: only the mailing tenant knows the token
    await createAccount(app, slug, { identifiant: 'famille-dupont', email: 'dupont@example.fr' })
    await createAccount(other.app, other.tenants[0]!.slug, {
      identifiant: 'famille-dupont',
      email: 'dupont@example.fr',
    })
    inbox.messages.length = 0
    await new Browser(app, host()).submit('/mot-de-passe-perdu', '/mot-de-passe-perdu', {
      identifiant: 'famille-dupont',
      email: 'dupont@example.fr',
    })
    const link = linkIn(await inbox.waitFor(() => true), '/mot-de-passe/nouveau')
    const elsewhere = await new Browser(other.app, other.host()).get(link.pathname + link.search)
    t.equal(elsewhere.statusCode, 410, 'the same token means nothing to another tenant')
  })

  t.test('an expired link is refused', async (t) => {
    inbox.messages.length = 0
    await new Browser(app, host()).submit('/mot-de-passe-perdu', '/mot-de-passe-perdu', {
      identifiant: 'famille-martin',
      email: 'camille.martin@example.fr',
    })
    const link = linkIn(await inbox.waitFor(() => true), '/mot-de-passe/nouveau')
    await em().nativeUpdate(PasswordToken, { usedAt: null }, { expiresAt: new Date(Date.now() - 1000) })
    const res = await new Browser(app, host()).get(link.pathname + link.search)
    t.equal(res.statusCode, 410)
  })
})

t.test(
  'invitation: the CLI creates the account, the mail carries the identifiant and a 7-day link',
  async (t) => {
    const inbox = await startInbox(t)
    const { app, host, tenants, config } = await build(t, { env: { SMTP_URL: inbox.url } })
    const slug = tenants[0]!.slug
    const lines: string[] = []
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(`ERR ${l}`) }
    const code = await runCli(
      [
        'account',
        'invite',
        slug,
        '--role',
        'teacher',
        '--identifiant',
        'Prof-Leroy',
        '--email',
        'leroy@example.fr',
        '--name',
        'Sam Leroy',
      ],
      config,
      io,
      app.orm,
    )
    t.equal(code, 0, lines.join('\n'))
    t.match(lines[0], 'prof-leroy (teacher) invited')
    const mail = await inbox.waitFor((m) => m.to.includes('leroy@example.fr'))
    t.match(mail.text, 'prof-leroy')
    const link = linkIn(mail, '/mot-de-passe/nouveau')
    const token = await app.orm.em
      .fork({ schema: schemaFor(slug) })
      .findOneOrFail(PasswordToken, { purpose: 'invitation' })
    const days = (token.expiresAt.getTime() - Date.now()) / 86_400_000
    t.ok(days > 6.9 && days <= 7, 'valid 7 days')

    const browser = new Browser(app, host())
    const done = await browser.submit(link.pathname + link.search, '/mot-de-passe/nouveau', {
      jeton: link.searchParams.get('jeton')!,
      password: 'ma première phrase de passe',
      confirmation: 'ma première phrase de passe',
    })
    t.ok(html(done.body).querySelector(`a[href="/enseignant/connexion"]`), 'sent to the teacher sign-in')
    const signIn = await browser.submit('/enseignant/connexion', '/enseignant/connexion', {
      identifiant: 'prof-leroy',
      password: 'ma première phrase de passe',
    })
    t.equal(signIn.headers.location, '/enseignant')

    t.equal(
      await runCli(
        [
          'account',
          'invite',
          slug,
          '--role',
          'teacher',
          '--identifiant',
          'prof-leroy',
          '--email',
          'x@example.fr',
          '--name',
          'X',
        ],
        config,
        io,
        app.orm,
      ),
      1,
    )
    t.match(lines.at(-1), /--identifiant: Cet identifiant est déjà utilisé. Proposition : prof-leroy2./)
    t.equal(
      await runCli(
        [
          'account',
          'invite',
          slug,
          '--role',
          'chef',
          '--identifiant',
          'y',
          '--email',
          'x@example.fr',
          '--name',
          'X',
        ],
        config,
        io,
        app.orm,
      ),
      1,
    )
  },
)

t.test('the Mot de passe page: current, new, confirmation, and every rule of the policy', async (t) => {
  const inbox = await startInbox(t)
  const { app, host, tenants } = await build(t, {
    env: { SMTP_URL: inbox.url },
    tenants: [{}, { passwordPolicy: { rule: 'imuse', maxLength: 64 } }],
  })
  await createAccount(app, tenants[0]!.slug, { identifiant: 'famille-martin' })
  await createAccount(app, tenants[1]!.slug, { identifiant: 'famille-imuse', password: 'Ancien1mot' })

  const browser = new Browser(app, host())
  await browser.submit('/connexion', '/connexion', { identifiant: 'famille-martin', password: goodPassword })
  const other = new Browser(app, host())
  await other.submit('/connexion', '/connexion', { identifiant: 'famille-martin', password: goodPassword })
  const change = (current: string, password: string, confirmation = password) =>
    browser.submit('/mot-de-passe', '/mot-de-passe', { current, password, confirmation })
  const errorOf = async (res: Promise<{ body: string }>, field: string) =>
    html((await res).body).querySelector(`#${field}-error`)?.text

  t.equal(
    await errorOf(change('faux', 'un nouveau mot de passe'), 'current'),
    'Le mot de passe actuel est incorrect.',
  )
  t.equal(
    await errorOf(change(goodPassword, 'vxkqpztw'), 'password'),
    'Le mot de passe doit contenir au moins 12 caractères.',
  )
  t.equal(
    await errorOf(change(goodPassword, 'x'.repeat(129)), 'password'),
    'Le mot de passe doit contenir au plus 128 caractères.',
  )
  t.equal(
    await errorOf(change(goodPassword, 'famille-martin'), 'password'),
    'Le mot de passe ne doit pas être votre identifiant.',
  )
  t.equal(
    await errorOf(change(goodPassword, 'password1234'), 'password'),
    'Ce mot de passe fait partie des plus utilisés : choisissez-en un autre.',
  )
  t.equal(await errorOf(change(goodPassword, '', ''), 'password'), 'Ce champ est obligatoire.')
  const done = await change(goodPassword, 'un nouveau mot de passe')
  t.equal(done.statusCode, 200)
  t.match(html(done.body).querySelector('[role="status"]')?.text, 'Votre mot de passe a été changé')
  t.equal((await browser.get('/accueil')).statusCode, 200, 'this session stays open')
  t.equal((await other.get('/accueil')).statusCode, 303, 'the other sessions are closed')
  const mail = await inbox.waitFor((m) => m.to.includes('famille-martin@example.fr'))
  t.ok(mail.subject.length > 0, 'a notice is mailed')

  const imuse = new Browser(app, host(1))
  await imuse.submit('/connexion', '/connexion', { identifiant: 'famille-imuse', password: 'Ancien1mot' })
  const imuseChange = (password: string) =>
    imuse.submit('/mot-de-passe', '/mot-de-passe', {
      current: 'Ancien1mot',
      password,
      confirmation: password,
    })
  const page = html((await imuse.get('/mot-de-passe')).body)
  t.equal(
    page.querySelector('#password-hint')?.text,
    'De 8 à 64 caractères, avec au moins une majuscule, une minuscule et un chiffre.',
  )
  t.equal(
    await errorOf(imuseChange('sansmajuscule1'), 'password'),
    'Le mot de passe doit contenir au moins une lettre majuscule.',
  )
  t.equal(
    await errorOf(imuseChange('SANSMINUSCULE1'), 'password'),
    'Le mot de passe doit contenir au moins une lettre minuscule.',
  )
  t.equal(
    await errorOf(imuseChange('SansChiffre'), 'password'),
    'Le mot de passe doit contenir au moins un chiffre.',
  )
  t.equal(
    await errorOf(imuseChange('Vx3kqp'), 'password'),
    'Le mot de passe doit contenir au moins 8 caractères.',
  )
  t.equal((await imuseChange('Nouveau2mot')).statusCode, 200)
  t.ok(
    await app.orm.em
      .fork({ schema: schemaFor(tenants[1]!.slug) })
      .findOne(Account, { identifiant: 'famille-imuse' }),
  )
})
