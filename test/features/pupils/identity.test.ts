import t from 'tap'
import { Pupil } from '../../../src/features/pupils/entities.ts'
import { ChangeRequest } from '../../../src/features/sas/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser, createAccount, goodPassword } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { createFamily } from '../../helpers/families.ts'
import { formValues } from '../../helpers/forms.ts'
import { startInbox } from '../../helpers/smtp.ts'

const text = (value: string | undefined) => (value ?? '').replace(/\s+/g, ' ').trim()

const tenant = {
  fields: {
    pupil: [
      'civility',
      'lastName',
      'firstName',
      'birthDate',
      'address',
      'postalCode',
      'city',
      'schoolLevel',
      'school',
    ],
  },
  schools: ['École élémentaire du Bourg', "Collège des Monts d'Or"],
  texts: { exitAuthorization: 'En cochant oui, j’autorise l’élève mineur à quitter seul le Conservatoire.' },
}

async function setUp(t: Parameters<typeof build>[0], env: NodeJS.ProcessEnv = {}) {
  const built = await build(t, { tenants: [tenant], env })
  const slug = built.tenants[0]!.slug
  const family = await createFamily(built.app, slug, 'famille-martin')
  const em = () => built.app.orm.em.fork({ schema: schemaFor(slug) })
  // what the office recorded at enrolment; the autorisation de sortie is still unanswered
  await em().nativeUpdate(
    Pupil,
    { id: family.pupil.id },
    { civility: 'Madame', schoolLevel: 'CM1', school: 'École élémentaire du Bourg' },
  )
  const browser = new Browser(built.app, built.host())
  await browser.submit('/connexion', '/connexion', { identifiant: 'famille-martin', password: goodPassword })
  const action = `/eleves/${family.pupil.id}`
  /** The Identité form as the page shows it, with some fields changed. */
  const edit = async (changes: Record<string, string | undefined>) => {
    const page = await browser.get(action)
    const values: Record<string, string | undefined> = { ...formValues(page.body, action), ...changes }
    for (const [name, value] of Object.entries(values)) if (value === undefined) delete values[name]
    return browser.submit(action, action, values as Record<string, string>)
  }
  return { ...built, slug, family, em, browser, action, edit }
}

t.test('the Élèves menu opens the pupil’s Identité tab with the YAML’s mandatory fields', async (t) => {
  const { app, slug, family, browser } = await setUp(t)
  const em = app.orm.em.fork({ schema: schemaFor(slug) })
  const brother = em.create(Pupil, {
    family: family.family.id,
    lastName: 'Martin',
    firstName: 'Hugo',
    birthDate: '2017-01-05',
  })
  await em.flush()

  const home = html((await browser.get('/accueil')).body)
  t.same(
    home.querySelectorAll('header nav a').map((a) => a.text),
    ['Accueil', 'Famille', 'Élèves', 'Facturation', 'Accessibilité', 'Mot de passe', 'English'],
  )
  t.same(
    home.querySelectorAll('main .card h2 a').map((a) => a.text),
    ['Léa Martin', 'Hugo Martin'],
    'a box per pupil',
  )

  const list = await browser.get('/eleves')
  t.equal(list.statusCode, 303)
  t.equal(list.headers.location, `/eleves/${family.pupil.id}`, 'the eldest pupil first')
  const chosen = await browser.get(`/eleves?eleve=${brother.id}`)
  t.equal(chosen.headers.location, `/eleves/${brother.id}`, 'the chooser works without script')

  const page = html((await browser.get(`/eleves/${family.pupil.id}`)).body)
  t.equal(page.querySelector('h1')?.text, 'Léa Martin')
  t.equal(page.querySelector('header nav a[aria-current="page"]')?.text, 'Élèves')
  t.same(
    page.querySelectorAll('form[action="/eleves"] option').map((o) => [o.text, o.hasAttribute('selected')]),
    [
      ['Léa Martin', true],
      ['Hugo Martin', false],
    ],
  )
  t.same(
    page.querySelectorAll('.tabs a').map((a) => [a.text, a.getAttribute('aria-current') ?? '']),
    [
      ['Identité', 'page'],
      ['Cours', ''],
      ['Historique', ''],
      ['Répertoire', ''],
      ['Pièces à fournir', ''],
    ],
  )
  for (const name of tenant.fields.pupil) {
    const field = page.querySelector(`#${name}`)!.parentNode!
    t.match(field.querySelector('label')?.text, '(obligatoire)', `${name} says it is mandatory`)
    t.match(field.getAttribute('class'), 'field--required', `${name} is styled as mandatory`)
  }
  t.notMatch(page.querySelector('label[for="emergencyContact"]')?.text, 'obligatoire')
  t.equal(page.querySelector('#birthDate')?.getAttribute('value'), '2014-09-01')
  t.ok(
    page.querySelector('#useGuardianAddress')?.hasAttribute('checked'),
    'the guardian’s address by default',
  )
  t.match(text(page.querySelector('.guardian-address')?.text), '3 rue des Lilas, 69760, Limonest')
  t.same(
    page
      .querySelectorAll('#schoolLevel option')
      .map((o) => o.text)
      .slice(0, 3),
    ['Choisir…', 'Non scolarisé', 'Petite section'],
  )
  t.same(
    page.querySelectorAll('#school-list option').map((o) => o.getAttribute('value')),
    [
      'Non scolarisé·e',
      'Établissement non-répertorié',
      'École élémentaire du Bourg',
      "Collège des Monts d'Or",
    ],
    'the school is searched among the YAML’s list and the two iMuse answers',
  )
  t.equal(page.querySelector('#school')?.getAttribute('list'), 'school-list')
  const exit = page.querySelector('fieldset#exitAuthorization')!
  t.match(
    exit.querySelector('legend')?.text,
    '(obligatoire)',
    'a minor must answer the autorisation de sortie',
  )
  t.match(exit.text, 'quitter seul le Conservatoire', 'with the conservatoire’s text')
  t.same(
    exit.querySelectorAll('input[type="radio"]').map((i) => i.getAttribute('value')),
    ['true', 'false'],
  )
})

t.test('saving the pupil goes through the sas; staff approve it and the family is mailed', async (t) => {
  const inbox = await startInbox(t)
  const { app, slug, family, em, browser, action, edit, host } = await setUp(t, { SMTP_URL: inbox.url })
  await createAccount(app, slug, {
    identifiant: 'secretariat',
    role: 'secretariat',
    displayName: 'Secrétariat',
  })

  const res = await edit({
    exitAuthorization: 'true',
    imageRights: 'false',
    schoolLevel: 'CM2',
    school: "collège des monts d'or",
    emergencyPhone: '0698765432',
  })
  t.equal(res.statusCode, 303)
  t.equal(res.headers.location, `${action}?enregistre=proposed`)
  const page = html((await browser.get(res.headers.location as string)).body)
  t.match(page.querySelector('#pending-note')?.text, 'en attente de validation')
  t.equal(
    page.querySelector('#school')?.getAttribute('value'),
    "Collège des Monts d'Or",
    'the listed spelling',
  )
  t.equal(page.querySelector('#emergencyPhone')?.getAttribute('value'), '06 98 76 54 32')
  t.ok(page.querySelector('#exitAuthorization input[value="true"]')?.hasAttribute('checked'))
  t.match(page.querySelector('#exitAuthorization legend')?.text, '✓')
  t.equal(page.querySelector('#imageRights-validated')?.text, 'Valeur validée : (vide)')
  t.same(
    page
      .querySelectorAll('.field--modified')
      .map((f) => f.getAttribute('id') ?? f.querySelector('input, select')?.getAttribute('id')),
    ['schoolLevel', 'school', 'imageRights', 'exitAuthorization', 'emergencyPhone'],
  )
  const pupil = await em().findOneOrFail(Pupil, family.pupil.id)
  t.equal(pupil.school, 'École élémentaire du Bourg', 'the validated record is untouched')
  t.equal(pupil.exitAuthorization, null)

  const home = html((await browser.get('/accueil')).body)
  const pending = home.querySelector('[aria-labelledby="pending-title"] li')
  t.equal(pending?.querySelector('a')?.getAttribute('href'), action, 'the pending box leads to the pupil')
  t.match(text(pending?.text), 'Élève Léa Martin')

  await inbox.waitFor((m) => m.subject.includes('reçue'))
  const ack = inbox.messages.find((m) => m.to.includes('famille-martin@example.fr'))!
  t.match(ack.text, 'Établissement scolaire')
  t.match(ack.text, `${action}`)

  const office = new Browser(app, host())
  await office.submit('/admin/connexion', '/admin/connexion', {
    identifiant: 'secretariat',
    password: goodPassword,
  })
  const queue = html((await office.get('/admin/changements')).body)
  t.match(text(queue.querySelector('tbody tr')?.text), 'Élève Léa Martin')
  const request = await em().findOneOrFail(ChangeRequest, {
    subjectType: 'pupil',
    subjectId: family.pupil.id,
  })
  const review = html((await office.get(`/admin/changements/${request.id}`)).body)
  const rows = review.querySelectorAll('tbody tr').map((r) => text(r.querySelector('th')?.text))
  t.same(rows, [
    'Niveau scolaire',
    'Établissement scolaire',
    'Droit à l’image',
    'Autorisation de sortie',
    'Tél. urgence',
  ])
  t.match(text(review.text), 'CM2')
  const url = `/admin/changements/${request.id}`
  const decided = await office.submit(url, url, { action: 'validate-all' })
  t.equal(decided.statusCode, 303)
  const approved = await em().findOneOrFail(Pupil, family.pupil.id)
  t.equal(approved.school, "Collège des Monts d'Or")
  t.equal(approved.exitAuthorization, true)
  t.equal(approved.imageRights, false)
  t.equal(approved.emergencyPhone, '06 98 76 54 32')
  await inbox.waitFor((m) => m.subject.includes('traitée') || m.subject.includes('validée'))
  const after = html((await browser.get(action)).body)
  t.notOk(after.querySelector('#pending-note'), 'nothing pending any more')
  t.notOk(after.querySelector('.field--modified'))
})

t.test('bad input: a French message beside each field, what was typed kept, nothing saved', async (t) => {
  const { family, em, edit } = await setUp(t)
  const cases: [string, Record<string, string | undefined>, string, string][] = [
    ['phone', { phoneMobile: '06 12' }, 'phoneMobile', 'numéro de téléphone français'],
    [
      'postcode',
      { useGuardianAddress: undefined, address: '1 rue Neuve', postalCode: '6976', city: 'Lyon' },
      'postalCode',
      '5 chiffres',
    ],
    ['e-mail', { email: 'lea@' }, 'email', 'adresse e-mail valide'],
    ['birth date in the future', { birthDate: '2099-01-01' }, 'birthDate', 'ne peut pas être dans le futur'],
    ['missing mandatory field', { firstName: '' }, 'firstName', 'Ce champ est obligatoire'],
    ['school not in the list', { school: 'Lycée imaginaire' }, 'school', 'Établissement non-répertorié'],
    [
      'own address missing',
      { useGuardianAddress: undefined, address: '', postalCode: '', city: '' },
      'address',
      'Ce champ est obligatoire',
    ],
  ]
  for (const [label, changes, field, message] of cases) {
    const res = await edit({ exitAuthorization: 'false', emergencyContact: 'Mamie Jeanne', ...changes })
    t.equal(res.statusCode, 400, label)
    const page = html(res.body)
    t.match(page.querySelector(`#${field}-error`)?.text, message, `${label}: the message is beside the field`)
    t.equal(page.querySelector(`#${field}`)?.getAttribute('aria-invalid'), 'true')
    // the summary names the field as its label or legend does ("Prénom (obligatoire)")
    const shown =
      page.querySelector(`label[for="${field}"]`) ?? page.querySelector(`fieldset#${field} legend`)
    t.match(
      page.querySelector(`.error-summary a[href="#${field}"]`)?.text,
      `${shown?.childNodes[0]?.text.trim()} : `,
      `${label}: the summary links to the field and names it`,
    )
    t.equal(
      page.querySelector('#emergencyContact')?.getAttribute('value'),
      'Mamie Jeanne',
      `${label}: typing kept`,
    )
    for (const [name, value] of Object.entries(changes)) {
      if (value === undefined)
        t.notOk(page.querySelector(`#${name}`)?.hasAttribute('checked'), `${label}: ${name} kept unticked`)
      else
        t.equal(
          page.querySelector(`#${name}`)?.getAttribute('value') ??
            page.querySelector(`#${name} option[selected]`)?.getAttribute('value'),
          value,
          `${label}: ${name} kept`,
        )
    }
  }
  t.equal(await em().count(ChangeRequest), 0, 'nothing was proposed')
  const pupil = await em().findOneOrFail(Pupil, family.pupil.id)
  t.equal(pupil.firstName, 'Léa', 'nothing saved was lost')
  t.equal(pupil.emergencyContact, null)
})

t.test('a minor without an autorisation de sortie is refused; an adult is not asked', async (t) => {
  const { family, em, browser, edit, action } = await setUp(t)
  const refused = await edit({ emergencyContact: 'Mamie Jeanne', school: 'Non scolarisé·e' })
  t.equal(refused.statusCode, 400)
  const page = html(refused.body)
  t.equal(
    page.querySelector('#exitAuthorization-error')?.text,
    'L’élève a moins de 18 ans : répondez Oui ou Non à l’autorisation de sortie.',
  )
  t.equal(page.querySelector('#school')?.getAttribute('value'), 'Non scolarisé·e')
  t.equal(await em().count(ChangeRequest), 0)

  const answered = await edit({
    emergencyContact: 'Mamie Jeanne',
    exitAuthorization: 'false',
    school: 'Non scolarisé·e',
  })
  t.equal(answered.statusCode, 303, '“Non” is an answer')

  const adult = em()
  const pupil = await adult.findOneOrFail(Pupil, family.pupil.id)
  pupil.birthDate = '1990-05-05'
  await adult.flush()
  await adult.nativeDelete(ChangeRequest, {})
  const form = html((await browser.get(action)).body)
  t.notMatch(
    form.querySelector('#exitAuthorization legend')?.text,
    'obligatoire',
    'an adult is not required to answer',
  )
  const res = await edit({ exitAuthorization: undefined, school: 'Établissement non-répertorié' })
  t.equal(res.statusCode, 303)
})

t.test(
  'ticking “utiliser les coordonnées du responsable” leaves the pupil’s own address as it was',
  async (t) => {
    const { family, em, edit } = await setUp(t)
    const res = await edit({ exitAuthorization: 'true', address: '', postalCode: 'nonsense', city: '' })
    t.equal(res.statusCode, 303, 'the hidden address fields are ignored')
    const request = await em().findOneOrFail(ChangeRequest, { subjectId: family.pupil.id })
    t.same(Object.keys(request.changes), ['exitAuthorization'])

    const own = await edit({
      useGuardianAddress: undefined,
      address: '8 place Neuve',
      postalCode: '69001',
      city: 'Lyon',
    })
    t.equal(own.statusCode, 303)
    const replaced = await em().findOneOrFail(ChangeRequest, { subjectId: family.pupil.id })
    t.same(replaced.changes.useGuardianAddress, { before: 'true', after: 'false' })
    t.same(replaced.changes.city, { before: null, after: 'Lyon' })
    t.equal(await em().count(ChangeRequest), 1, 'the later edit replaced the pending proposal')
  },
)
