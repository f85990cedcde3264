import t from 'tap'
import { Guardian } from '../../../src/features/family/entities.ts'
import { ChangeRequest } from '../../../src/features/sas/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser, goodPassword } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { createFamily } from '../../helpers/families.ts'
import { formValues } from '../../helpers/forms.ts'

async function signIn(browser: Browser, identifiant: string) {
  const res = await browser.submit('/connexion', '/connexion', { identifiant, password: goodPassword })
  if (res.statusCode !== 303) throw new Error(`sign-in failed: ${res.statusCode}`)
  return browser
}

const mandatory = [
  'civility',
  'lastName',
  'firstName',
  'address',
  'postalCode',
  'city',
  'phoneMobile',
  'email',
]

t.test(
  'the Famille page shows the guardian’s validated identity, the second guardian and the pupils',
  async (t) => {
    const { app, host, tenants } = await build(t, { tenants: [{ fields: { guardian: mandatory } }] })
    const { guardian, second } = await createFamily(app, tenants[0]!.slug, 'famille-martin')
    const browser = await signIn(new Browser(app, host()), 'famille-martin')

    const res = await browser.get('/famille')
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], 'text/html')
    const page = html(res.body)
    t.equal(page.querySelector('h1')?.text, 'Famille')
    t.equal(page.querySelector('header nav a[aria-current="page"]')?.text, 'Famille')
    t.same(
      page.querySelectorAll('header nav a').map((a) => a.text),
      ['Accueil', 'Famille', 'Élèves', 'Facturation', 'Accessibilité', 'Mot de passe', 'English'],
    )
    t.equal(page.querySelector('#lastName')?.getAttribute('value'), 'Martin')
    t.equal(page.querySelector('#birthDate')?.getAttribute('value'), '1982-04-12')
    t.equal(page.querySelector('#phoneMobile')?.getAttribute('value'), '06 12 34 56 78')
    t.equal(page.querySelector('#familySituation option[selected]')?.text, 'Marié(e)')
    for (const name of mandatory) {
      const field = page.querySelector(`#${name}`)!.parentNode!
      t.match(field.querySelector('label')?.text, '(obligatoire)', `${name} says it is mandatory`)
      t.match(field.getAttribute('class'), 'field--required', `${name} is styled as mandatory`)
    }
    t.notMatch(page.querySelector('label[for="profession"]')?.text, 'obligatoire')
    t.same(
      page.querySelectorAll('.tabs a').map((a) => a.getAttribute('href')),
      [`/famille/responsables/${guardian.id}`, `/famille/responsables/${second.id}`],
    )
    t.equal(
      page.querySelector('[aria-labelledby="pupils-title"] li')?.text.trim(),
      'Léa Martin — né(e) le 01/09/2014',
    )

    const secondPage = html((await browser.get(`/famille/responsables/${second.id}`)).body)
    t.equal(secondPage.querySelector('#firstName')?.getAttribute('value'), 'Thomas')
    t.ok(secondPage.querySelector(`form[action="/famille/responsables/${second.id}"]`))
  },
)

t.test('a family sees and edits only its own guardians', async (t) => {
  const { app, host, tenants } = await build(t)
  const slug = tenants[0]!.slug
  await createFamily(app, slug, 'famille-martin')
  const other = await createFamily(app, slug, 'famille-durand', 'Durand')
  const browser = await signIn(new Browser(app, host()), 'famille-martin')

  const res = await browser.get(`/famille/responsables/${other.guardian.id}`)
  t.equal(res.statusCode, 404, 'another family’s guardian is not found')
  t.notMatch(res.body, 'Durand')
  t.equal((await browser.get('/famille/responsables/999999')).statusCode, 404)

  const own = await browser.get('/famille')
  const token = html(own.body).querySelector('input[name="_csrf"]')!.getAttribute('value')!
  const post = await browser.post(`/famille/responsables/${other.guardian.id}`, {
    _csrf: token,
    lastName: 'Piratée',
    firstName: 'Camille',
  })
  t.equal(post.statusCode, 404, 'posting for another family’s guardian is refused')
  const em = app.orm.em.fork({ schema: schemaFor(slug) })
  t.equal(await em.count(ChangeRequest), 0, 'nothing was proposed')
  t.equal((await em.findOneOrFail(Guardian, other.guardian.id)).lastName, 'Durand')
})

t.test('tenant B’s host never shows tenant A’s data', async (t) => {
  const { app, host, tenants } = await build(t, { tenants: [{}, {}] })
  const a = await createFamily(app, tenants[0]!.slug, 'famille-martin')
  await createFamily(app, tenants[1]!.slug, 'famille-durand', 'Durand')

  // tenant A's session cookie means nothing on tenant B's host
  const browserA = await signIn(new Browser(app, host(0)), 'famille-martin')
  const onB = await app.inject({
    url: '/famille',
    headers: { host: host(1), cookie: browserA.cookieHeader() },
  })
  t.equal(onB.statusCode, 303)
  t.match(onB.headers.location, /^\/connexion/)

  // ids repeat from one tenant to the next: on B's host, A's guardian id can only mean B's own records
  const browserB = await signIn(new Browser(app, host(1)), 'famille-durand')
  for (const url of [
    '/accueil',
    '/famille',
    `/famille/responsables/${a.guardian.id}`,
    `/famille/responsables/${a.second.id}`,
  ]) {
    const res = await browserB.get(url)
    t.notMatch(res.body, 'Martin', `${url} shows nothing of tenant A`)
  }
  t.equal(
    html((await browserB.get('/famille')).body)
      .querySelector('#lastName')
      ?.getAttribute('value'),
    'Durand',
  )
})

t.test('a visitor is sent to sign in', async (t) => {
  const { app, host } = await build(t)
  const res = await app.inject({ url: '/famille', headers: { host: host() } })
  t.equal(res.statusCode, 303)
  t.equal(res.headers.location, '/connexion?retour=%2Ffamille')
})

t.test(
  'bad input: a French message beside each field, everything typed kept, nothing saved lost',
  async (t) => {
    const { app, host, tenants } = await build(t, { tenants: [{ fields: { guardian: mandatory } }] })
    const slug = tenants[0]!.slug
    const { guardian } = await createFamily(app, slug, 'famille-martin')
    const browser = await signIn(new Browser(app, host()), 'famille-martin')
    const action = `/famille/responsables/${guardian.id}`

    // a pending proposal exists: a refused submission must not disturb it
    const first = await browser.get('/famille')
    await browser.submit('/famille', action, { ...formValues(first.body, action), city: 'Lyon' })
    const em = () => app.orm.em.fork({ schema: schemaFor(slug) })
    t.equal(
      (await em().findOneOrFail(ChangeRequest, { subjectType: 'guardian' })).changes.city?.after,
      'Lyon',
    )

    const page = await browser.get(action)
    const typed = {
      ...formValues(page.body, action),
      phoneMobile: '06 12 34',
      phoneHome: '04.78.35.12.00',
      postalCode: '6976',
      email: 'camille@',
      birthDate: '2999-01-01',
      address: '',
      profession: 'Luthière',
    }
    const res = await browser.submit(action, action, typed)
    t.equal(res.statusCode, 400)
    const bad = html(res.body)
    const message = (name: string) => bad.querySelector(`#${name}-error`)?.text
    t.equal(
      message('phoneMobile'),
      'Saisissez un numéro de téléphone français à 10 chiffres, par exemple 06 12 34 56 78.',
    )
    t.equal(message('postalCode'), 'Le code postal doit comporter 5 chiffres, par exemple 69760.')
    t.equal(message('email'), 'Saisissez une adresse e-mail valide, par exemple nom@exemple.fr.')
    t.equal(message('birthDate'), 'La date de naissance ne peut pas être dans le futur.')
    t.equal(message('address'), 'Ce champ est obligatoire.')
    t.notOk(message('phoneHome'), 'dots are allowed in a phone number')
    t.equal(bad.querySelector('#phoneMobile')?.getAttribute('aria-invalid'), 'true')
    t.same(
      bad.querySelectorAll('.error-summary a').map((a) => a.getAttribute('href')),
      ['#birthDate', '#address', '#postalCode', '#phoneMobile', '#email'],
    )
    t.equal(
      bad.querySelector('.error-summary a[href="#address"]')?.text,
      'Adresse : ce champ est obligatoire.',
      'the summary names the field',
    )
    for (const [name, value] of Object.entries({
      phoneMobile: '06 12 34',
      phoneHome: '04.78.35.12.00',
      postalCode: '6976',
      email: 'camille@',
      birthDate: '2999-01-01',
      profession: 'Luthière',
      city: 'Lyon',
    })) {
      t.equal(bad.querySelector(`#${name}`)?.getAttribute('value'), value, `${name} is kept as typed`)
    }

    const notADate = await browser.submit(action, action, {
      ...formValues(page.body, action),
      birthDate: '31/02/1980',
    })
    const notADatePage = html(notADate.body)
    t.equal(
      notADatePage.querySelector('#birthDate-error')?.text,
      'Saisissez une date valide, par exemple 15/03/1980.',
    )
    t.equal(
      notADatePage.querySelector('#birthDate')?.getAttribute('value'),
      '31/02/1980',
      'kept even when not a date',
    )
    t.equal(notADatePage.querySelector('#birthDate')?.getAttribute('type'), 'text')

    const requests = await em().find(ChangeRequest, {})
    t.equal(requests.length, 1, 'still one request')
    t.same(Object.keys(requests[0]!.changes), ['city'], 'the pending proposal is untouched')
    const stored = await em().findOneOrFail(Guardian, guardian.id)
    t.equal(stored.city, 'Limonest', 'the validated record is untouched')
    t.equal(stored.postalCode, '69760')
  },
)

t.test('phones are stored in one French format, whichever way they were typed', async (t) => {
  const { app, host, tenants } = await build(t)
  const slug = tenants[0]!.slug
  const { guardian } = await createFamily(app, slug, 'famille-martin')
  const browser = await signIn(new Browser(app, host()), 'famille-martin')
  const action = `/famille/responsables/${guardian.id}`
  const page = await browser.get(action)
  const res = await browser.submit(action, action, {
    ...formValues(page.body, action),
    phoneMobile: '0612345678',
    phoneHome: '+33 4 78 35 12 00',
    extraPhone2: '07-01-02-03-04',
  })
  t.equal(res.statusCode, 303)
  const request = await app.orm.em
    .fork({ schema: schemaFor(slug) })
    .findOneOrFail(ChangeRequest, { subjectType: 'guardian' })
  t.same(
    request.changes,
    {
      phoneHome: { before: null, after: '04 78 35 12 00' },
      extraPhone2: { before: null, after: '07 01 02 03 04' },
    },
    'the same mobile in another format is no change',
  )
})
