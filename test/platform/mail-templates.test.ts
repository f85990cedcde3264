import { readdirSync } from 'node:fs'
import t from 'tap'
import { stringify } from 'yaml'
import { MailStatus, OutboxMail } from '../../src/platform/mail/entities.ts'
import { queueMail, renderMail } from '../../src/platform/mail/outbox.ts'
import { schemaFor } from '../../src/platform/tenancy/registry.ts'
import { parseTenantConfig } from '../../src/platform/tenancy/tenant-config.ts'
import { templatesDir } from '../../src/platform/views/plugin.ts'
import { build, html } from '../helpers/build.ts'

// the tenant as the loader gives it, the schema's defaults filled in
const tenant = parseTenantConfig(
  'limonest.yaml',
  stringify({
    slug: 'limonest',
    name: 'Conservatoire Municipal de Limonest',
    contact: { email: 'conservatoire@limonest.fr', phone: '04 78 35 00 00' },
    establishments: [{ code: 'limonest', name: 'Limonest' }],
  }),
).config!

const link = 'https://limonest.tutti.example/mot-de-passe/nouveau?jeton=abc&retour=1'
const account = { displayName: 'Zoé Martin', identifiant: 'zoe.martin' }
const samples = {
  'password-reset': {
    data: { ...account, link, expiresAt: '22/11/2026 à 14:30' },
    subject: 'Réinitialisation de votre mot de passe',
    says: [
      'valable 30 minutes, jusqu’au 22/11/2026 à 14:30',
      'ne sert qu’une fois',
      'continue de fonctionner',
    ],
  },
  invitation: {
    data: { ...account, link, expiresAt: '29/11/2026 à 14:30' },
    subject: 'Votre accès au portail',
    says: ['Votre identifiant : zoe.martin', 'valable 7 jours, jusqu’au 29/11/2026 à 14:30'],
  },
  'password-changed': {
    data: { ...account, changedAt: '22/11/2026 à 14:30' },
    subject: 'Votre mot de passe a été modifié',
    says: ['modifié le 22/11/2026 à 14:30', 'Si ce n’est pas vous, contactez sans attendre le conservatoire'],
  },
}

t.test(
  'each mail: French subject with the tenant’s name, text and HTML, contact in the footer',
  async (t) => {
    for (const [template, sample] of Object.entries(samples)) {
      const mail = renderMail(template, 'fr', tenant, sample.data)
      t.equal(mail.subject, `[${tenant.name}] ${sample.subject}`, template)
      t.match(mail.text, 'Bonjour Zoé Martin,')
      for (const sentence of sample.says) t.match(mail.text, sentence, `${template}: ${sentence}`)
      t.match(mail.text, `-- \n${tenant.name}\nconservatoire@limonest.fr · 04 78 35 00 00\n`)
      t.notMatch(mail.text, /undefined|<\/?[a-z]/, 'plain text')
      const page = html(mail.html)
      t.equal(page.querySelector('html')?.getAttribute('lang'), 'fr')
      t.match(page.text, tenant.name)
      t.ok(page.querySelector('a[href="mailto:conservatoire@limonest.fr"]'))
      t.match(page.text, '04 78 35 00 00')
      if ('link' in sample.data) {
        t.match(mail.text, `\n${link}\n`, 'the link alone on its line')
        t.ok(page.querySelector(`a[href="${link}"]`), 'a button to the link')
      }
    }
  },
)

t.test('English when asked for and written', async (t) => {
  const mail = renderMail('password-reset', 'en', tenant, samples['password-reset'].data)
  t.equal(mail.subject, `[${tenant.name}] Resetting your password`)
  t.match(mail.text, 'Hello Zoé Martin,')
  t.match(mail.text, 'To write to us, simply reply to it.')
  t.equal(html(mail.html).querySelector('html')?.getAttribute('lang'), 'en')
})

t.test('what people typed is escaped in the HTML part and left as is in the text part', async (t) => {
  const data = { ...samples['password-changed'].data, displayName: 'Zoé <b>Martin</b> & fils' }
  const mail = renderMail('password-changed', 'fr', tenant, data)
  t.match(mail.text, 'Bonjour Zoé <b>Martin</b> & fils,')
  t.match(mail.html, 'Bonjour Zoé &lt;b&gt;Martin&lt;/b&gt; &amp; fils,')
  t.notOk(html(mail.html).querySelector('b'))
})

// every branch of every mail: each decision, with and without the optional parts
const applicants = [
  { name: 'Léa Martin', choices: ['Piano', 'Violon'] },
  { name: 'Tom Martin', choices: [] },
]
const document = { document: 'Attestation de quotient familial', fileName: 'qf.pdf', link }
const reenrolment = { pupil: 'Léa Martin', schoolYear: '2026-2027', link }
const lesson = { pupil: 'Léa Martin', course: 'Clarinette 1C2', was: 'mercredi 14/10/2026, 14:00 – 14:30' }
const change = { label: 'Téléphone', before: '04 78 00 00 00', after: '06 12 34 56 78' }
const variants: Record<string, Record<string, unknown>[]> = {
  'absence-unexcused': [
    {
      ...account,
      pupil: 'Léa Martin',
      course: 'Clarinette 1C2',
      date: '02/12/2026',
      start: '14:00',
      end: '14:30',
    },
  ],
  'change-decided': [
    {
      ...account,
      subject: 'Famille Martin',
      link,
      validated: [change],
      refused: [{ ...change, reason: 'Numéro incomplet' }],
      conflicts: [change],
    },
    { ...account, subject: 'Famille Martin', link, validated: [], refused: [], conflicts: [] },
  ],
  'change-received': [{ ...account, subject: 'Famille Martin', link, changes: [change] }],
  'document-decided': [
    { ...account, ...document, pupil: 'Léa Martin', validated: true, reason: null },
    { ...account, ...document, pupil: '', validated: true, reason: null },
    { ...account, ...document, pupil: 'Léa Martin', validated: false, reason: 'Illisible' },
    { ...account, ...document, pupil: '', validated: false, reason: 'Illisible' },
  ],
  'evaluation-correction': [
    {
      ...account,
      pupil: 'Léa Martin',
      course: 'Piano 1C2',
      period: '1er trimestre',
      message: 'Merci de préciser les pièces travaillées.\nEt l’objectif de l’audition.',
      link: 'https://limonest.tutti.example/enseignant/cours/12/evaluations?periode=T1#eleve-34',
    },
  ],
  'evaluation-published': [
    {
      ...account,
      pupil: 'Léa Martin',
      course: 'Piano 1C2',
      period: '1er trimestre',
      link: 'https://limonest.tutti.example/eleves/3/cours/34',
    },
  ],
  'place-offered': [
    {
      ...account,
      pupil: 'Léa Martin',
      course: 'Piano — débutant',
      deadline: '05/07/2027',
      link: 'https://limonest.tutti.example/eleves/3/reinscription',
    },
  ],
  identifiants: [
    {
      ...account,
      accounts: [
        {
          identifiant: 'zoe.martin',
          displayName: 'Zoé Martin',
          link: 'https://limonest.tutti.example/connexion',
        },
        {
          identifiant: 'paul.martin',
          displayName: 'Paul Martin',
          link: 'https://limonest.tutti.example/connexion',
        },
      ],
      lostLink: 'https://limonest.tutti.example/mot-de-passe-perdu',
    },
  ],
  invitation: [samples.invitation.data],
  'invoice-reminder': [
    {
      ...account,
      number: 'F2026-000012',
      issuedOn: '01/10/2026',
      lateAmount: '96,72 €',
      since: '05/11/2026',
      remaining: '773,28 €',
      link: 'https://limonest.tutti.example/facturation',
    },
  ],
  'lesson-changed': [
    { ...account, ...lesson, change: 'cancelled', now: '', room: '', reason: 'Professeur malade' },
    {
      ...account,
      ...lesson,
      change: 'moved',
      now: 'jeudi 15/10/2026, 17:00 – 17:30',
      room: 'Salle 12',
      reason: '',
    },
    { ...account, ...lesson, change: 'moved', now: 'jeudi 15/10/2026, 17:00 – 17:30', room: '', reason: '' },
    {
      ...account,
      ...lesson,
      change: 'restored',
      now: 'mercredi 14/10/2026, 14:00 – 14:30',
      room: 'Salle 3',
      reason: '',
    },
  ],
  'password-changed': [samples['password-changed'].data],
  'password-reset': [samples['password-reset'].data],
  'preregistration-confirmed': [{ ...account, number: 12, link, applicants }],
  'preregistration-decided': [
    { ...account, number: 12, decision: 'accepted', reason: null, applicants },
    { ...account, number: 12, decision: 'waitlisted', reason: 'Classe complète', applicants },
    { ...account, number: 12, decision: 'refused', reason: '', applicants },
  ],
  'preregistration-saved': [
    { ...account, number: 12, created: true, link, applicants, closes: '11/06/2026 à 23:59' },
    { ...account, number: 12, created: false, link, applicants, closes: '' },
  ],
  'reenrolment-decided': [
    { ...account, ...reenrolment, validated: true, reason: null },
    { ...account, ...reenrolment, validated: false, reason: 'Dossier incomplet' },
  ],
  'reenrolment-submitted': [{ ...account, ...reenrolment, lines: [{ label: 'Paiement', value: 'Chèque' }] }],
}
const withoutPhone = { ...tenant, contact: { email: tenant.contact.email } }

t.test('every mail, in French and in English, says each of its sentences from the catalogue', async (t) => {
  const mails = readdirSync(`${templatesDir}/mail`)
    .filter((file) => file.endsWith('.njk') && file !== 'macros.njk')
    .map((file) => file.replace(/\.njk$/, ''))
  t.same(Object.keys(variants).sort(), mails.sort(), 'every template has its samples here')
  for (const [template, list] of Object.entries(variants)) {
    for (const [i, data] of list.entries()) {
      for (const config of [tenant, withoutPhone]) {
        const fr = renderMail(template, 'fr', config, data)
        const en = renderMail(template, 'en', config, data)
        for (const [locale, mail] of Object.entries({ fr, en })) {
          for (const [part, body] of Object.entries(mail)) {
            const what = `${template} #${i} ${locale} ${part}`
            // a key missing from the catalogue comes back as the key; a parameter not passed, as {name}
            t.notMatch(body, /\bmail\.[a-z]/, `${what}: no raw key`)
            t.notMatch(body, /\{\w+(\|[^}]*)?\}/, `${what}: no parameter left`)
            t.notMatch(body, /\b(undefined|null)\b/, `${what}: no missing value`)
          }
        }
        t.match(en.text, 'Hello Zoé Martin,', `${template} #${i}: English`)
        for (const part of ['subject', 'text', 'html'] as const) {
          t.not(en[part], fr[part], `${template} #${i} ${part}: translated`)
        }
      }
    }
  }
})

t.test('typed values in a catalogue message are escaped in HTML only, and need no markup', async (t) => {
  const typed = 'Pièce <i>floue</i> & "illisible"'
  const data = { ...variants['document-decided']![2], document: typed, reason: typed }
  for (const locale of ['fr', 'en'] as const) {
    const mail = renderMail('document-decided', locale, tenant, data)
    t.match(mail.subject, typed, 'the subject is not HTML')
    t.match(mail.text, typed)
    t.notMatch(mail.html, typed)
    t.match(mail.html, 'Pièce &lt;i&gt;floue&lt;/i&gt; &amp; &quot;illisible&quot;')
    t.notOk(html(mail.html).querySelector('i'))
    t.equal(
      html(mail.html)
        .querySelectorAll('p')
        .filter((p) => p.text.includes(typed)).length,
      2,
      'document and reason',
    )
  }
})

t.test('queueMail adds a pending mail to the caller’s unit of work, committed by its flush', async (t) => {
  const { app, tenants } = await build(t)
  const config = tenants[0]!
  const em = app.orm.em.fork({ schema: schemaFor(config.slug) })
  const mail = queueMail(em, config, 'fr', {
    to: ' famille@example.fr ',
    template: 'password-reset',
    data: samples['password-reset'].data,
  })
  t.equal(await app.orm.em.fork({ schema: schemaFor(config.slug) }).count(OutboxMail, {}), 0, 'not yet')
  await em.flush()
  const stored = await app.orm.em.fork({ schema: schemaFor(config.slug) }).findOneOrFail(OutboxMail, {
    uuid: mail.uuid,
  })
  t.equal(stored.recipient, 'famille@example.fr')
  t.equal(stored.status, MailStatus.pending)
  t.equal(stored.attempts, 0)
  t.equal(stored.template, 'password-reset')
  t.equal(stored.subject, `[${config.name}] Réinitialisation de votre mot de passe`)
  t.ok(stored.nextAttemptAt.getTime() <= Date.now())

  t.test('a recipient that is not one address is refused', async (t) => {
    for (const to of ['a@example.fr, b@example.fr', 'a@example.fr\nBcc: b@example.fr', 'personne', '']) {
      t.throws(() => queueMail(em, config, 'fr', { to, template: 'invitation', data: {} }), /recipient/, to)
    }
  })

  t.test('a template name cannot leave templates/mail', async (t) => {
    t.throws(
      () => queueMail(em, config, 'fr', { to: 'a@example.fr', template: '../layout', data: {} }),
      /template name/,
    )
  })
})
