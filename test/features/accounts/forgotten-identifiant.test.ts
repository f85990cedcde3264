import t from 'tap'
import { Account } from '../../../src/platform/auth/entities.ts'
import { OutboxMail } from '../../../src/platform/mail/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser, createAccount } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { startInbox } from '../../helpers/smtp.ts'

t.test(
  'Identifiant oublié mails every identifiant of an address, and answers the same for any address',
  async (t) => {
    const inbox = await startInbox(t)
    const { app, host, tenants } = await build(t, { tenants: [{}, {}], env: { SMTP_URL: inbox.url } })
    const slug = tenants[0]!.slug
    await createAccount(app, slug, { identifiant: 'camille.martin', email: 'Famille.Martin@example.fr' })
    await createAccount(app, slug, { identifiant: 'thomas.martin', email: 'famille.martin@example.fr' })
    await createAccount(app, slug, { identifiant: 'ancien.martin', email: 'famille.martin@example.fr' })
    await createAccount(app, tenants[1]!.slug, {
      identifiant: 'voisin.martin',
      email: 'famille.martin@example.fr',
    })
    const em = () => app.orm.em.fork({ schema: schemaFor(slug) })
    await em().nativeUpdate(Account, { identifiant: 'ancien.martin' }, { disabled: true })

    const signIn = html((await new Browser(app, host()).get('/connexion')).body)
    t.ok(signIn.querySelector('a[href="/identifiant-oublie"]'), 'the sign-in page links to it')
    t.equal(signIn.querySelector('a[href="/identifiant-oublie"]')?.text, 'Identifiant oublié')

    const known = await new Browser(app, host()).submit('/identifiant-oublie', '/identifiant-oublie', {
      email: ' FAMILLE.martin@example.FR ',
    })
    t.equal(known.statusCode, 200)
    const mail = await inbox.waitFor((m) => m.subject.includes('Vos identifiants'))
    t.match(mail.text, /camille\.martin/)
    t.match(mail.text, /thomas\.martin/)
    t.notMatch(mail.text, /ancien\.martin/, 'a disabled account is not listed')
    t.notMatch(mail.text, /voisin\.martin/, "another conservatoire's account is not listed")
    t.match(mail.text, new RegExp(`http://${host().replace(/\./g, '\\.')}/connexion`))
    t.equal(await em().count(OutboxMail, { template: 'identifiants' }), 1, 'ONE mail for both identifiants')

    const unknown = await new Browser(app, host()).submit('/identifiant-oublie', '/identifiant-oublie', {
      email: 'personne@example.fr',
    })
    t.equal(unknown.statusCode, 200)
    const status = (body: string) => html(body).querySelector('[role="status"]')?.text
    t.equal(status(unknown.body), status(known.body), 'the same answer')
    t.match(status(unknown.body), /Si cette adresse correspond à un compte/)
    t.equal(await em().count(OutboxMail, { template: 'identifiants' }), 1, 'no mail for an unknown address')

    t.test('a missing or malformed address is refused beside the field', async (t) => {
      const empty = await new Browser(app, host()).submit('/identifiant-oublie', '/identifiant-oublie', {
        email: '',
      })
      t.equal(empty.statusCode, 400)
      t.equal(html(empty.body).querySelector('#email-error')?.text, 'Ce champ est obligatoire.')
      const bad = await new Browser(app, host()).submit('/identifiant-oublie', '/identifiant-oublie', {
        email: 'pas-un-email',
      })
      t.equal(bad.statusCode, 400)
      t.equal(html(bad.body).querySelector('#email')?.getAttribute('value'), 'pas-un-email')
    })

    t.test('limited per address and per e-mail, per conservatoire', async (t) => {
      const one = new Browser(app, host(), '192.0.2.77')
      for (let i = 0; i < 5; i++) {
        const res = await one.submit('/identifiant-oublie', '/identifiant-oublie', {
          email: 'cible@example.fr',
        })
        t.equal(res.statusCode, 200)
      }
      const sixth = await new Browser(app, host(), '192.0.2.78').submit(
        '/identifiant-oublie',
        '/identifiant-oublie',
        {
          email: 'Cible@example.fr',
        },
      )
      t.equal(sixth.statusCode, 429, 'the same e-mail from another address: 5 an hour')
      t.ok(sixth.headers['retry-after'])
      for (let i = 0; i < 5; i++)
        await one.submit('/identifiant-oublie', '/identifiant-oublie', { email: `autre${i}@example.fr` })
      const eleventh = await one.submit('/identifiant-oublie', '/identifiant-oublie', {
        email: 'nouveau@example.fr',
      })
      t.equal(eleventh.statusCode, 429, 'one address: 10 in 15 minutes')
      const elsewhere = await new Browser(app, host(1), '192.0.2.77').submit(
        '/identifiant-oublie',
        '/identifiant-oublie',
        {
          email: 'nouveau@example.fr',
        },
      )
      t.equal(elsewhere.statusCode, 200, 'counted per conservatoire')
    })
  },
)
