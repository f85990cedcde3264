import { randomUUID } from 'node:crypto'
import t from 'tap'
import { AuditEvent } from '../../../src/platform/audit/entities.ts'
import type { Account } from '../../../src/platform/auth/entities.ts'
import { MailStatus, OutboxMail } from '../../../src/platform/mail/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser, createAccount, signedInBrowser } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { createFamily } from '../../helpers/families.ts'
import { startInbox } from '../../helpers/smtp.ts'

const hour = 3_600_000

/** The journal's rows as a person reads them: date, who, what, on what, details. */
function journalRows(body: string) {
  return html(body)
    .querySelectorAll('table.journal tbody tr')
    .map((tr) =>
      [...tr.querySelectorAll('th, td')].map((cell) => {
        const lines = cell.querySelectorAll('li')
        const text = lines.length ? lines.map((li) => li.text).join(' | ') : cell.text
        return text.trim().replace(/\s+/g, ' ')
      }),
    )
}

const whatOf = (body: string) => journalRows(body).map((row) => row[2])

t.test('Administration: the journal of actions and the mails, for admins only', async (t) => {
  const inbox = await startInbox(t)
  const { app, host, tenants } = await build(t, { tenants: [{}, {}], env: { SMTP_URL: inbox.url } })
  const slug = tenants[0]!.slug
  const em = () => app.orm.em.fork({ schema: schemaFor(slug) })

  const admin = await createAccount(app, slug, {
    identifiant: 'admin-a',
    role: 'admin',
    displayName: 'Anne Admin',
  })
  const office = await createAccount(app, slug, {
    identifiant: 'secr-a',
    role: 'secretariat',
    displayName: 'Sophie Secrétaire',
  })
  for (const role of ['direction', 'teacher'] as const)
    await createAccount(app, slug, { identifiant: `${role}-a`, role })
  const { family, guardian } = await createFamily(app, slug, 'famille-a')
  const familyAccount = guardian.account as Account

  // the trail: staff's work, a family's proposal, a kept name without account, an unknown action
  const now = Date.now()
  const event = (
    actor: Account | null,
    action: string,
    subject: [string, number],
    at: Date,
    details: Record<string, unknown> = {},
  ) =>
    em().create(AuditEvent, {
      actor: actor?.id ?? null,
      actorName: actor ? `${actor.displayName} (${actor.identifiant})` : 'Ancien Agent (ancien)',
      action,
      subjectType: subject[0],
      subjectId: subject[1],
      details,
      createdAt: at,
    })
  const writer = em()
  const add = (...args: Parameters<typeof event>) => writer.persist(event(...args))
  add(office, 'guardian.edited', ['guardian', guardian.id], new Date(now - 1 * hour), {
    family: family.id,
    changes: { phoneMobile: { before: '06 00 00 00 01', after: '06 12 34 56 78' } },
  })
  add(admin, 'account.roleChanged', ['account', office.id], new Date(now - 2 * hour), {
    from: 'direction',
    to: 'secretariat',
  })
  add(familyAccount, 'change.proposed', ['guardian', guardian.id], new Date(now - 3 * hour), {
    changes: { city: { before: 'Limonest', after: 'Lyon' } },
  })
  add(null, 'family.archived', ['family', family.id], new Date(now - 4 * hour), { reason: 'Déménagement' })
  add(office, 'legacy.imported', ['family', family.id], new Date(now - 5 * hour))
  add(admin, 'config.published', ['config', 3], new Date(now - 6 * hour), {
    comment: 'Dates de réinscription',
  })
  // around midnight in Paris (UTC+1 in March): the 15th begins at 23:00 UTC on the 14th
  add(office, 'course.closed', ['course', 4242], new Date('2026-03-14T23:30:00Z'), { name: 'Violon 1C1' })
  add(office, 'course.reopened', ['course', 4242], new Date('2026-03-14T22:30:00Z'), { name: 'Violon 1C1' })
  await writer.flush()

  // the outbox: one sent, one pending after a refusal (its next attempt later), one failed
  const mail = (recipient: string, subject: string, fields: Partial<OutboxMail>) =>
    em().create(OutboxMail, {
      uuid: randomUUID(),
      recipient,
      subject,
      text: `Bonjour,\n${subject}\nhttps://${host()}/famille\n`,
      html: `<p>${subject}</p>`,
      template: 'change-received',
      status: MailStatus.pending,
      attempts: 0,
      nextAttemptAt: new Date(now + hour),
      ...fields,
    })
  const mails = em()
  const sent = mail('sent@example.fr', 'Déjà parti', {
    status: MailStatus.sent,
    attempts: 1,
    text: '',
    html: '',
    sentAt: new Date(now - hour),
    createdAt: new Date(now - 2 * hour),
  })
  const pending = mail('attente@example.fr', 'En attente de relais', {
    attempts: 3,
    lastError: '421 4.7.0 try again later',
    createdAt: new Date(now - hour),
  })
  const failed = mail('camille.typo@exemple.fr', 'Tombé en échec', {
    status: MailStatus.failed,
    attempts: 8,
    template: 'invitation',
    lastError: '550 5.1.1 <camille.typo@exemple.fr>: Recipient address rejected',
    createdAt: new Date(now - 30 * 60_000),
  })
  mails.persist([sent, pending, failed])
  await mails.flush()

  const browser = await signedInBrowser(app, host(), 'admin-a', '/admin/connexion')

  t.test('the Administration page: the menu’s one entry, a card for each part', async (t) => {
    const res = await browser.get('/admin/administration')
    t.equal(res.statusCode, 200)
    const page = html(res.body)
    t.equal(page.querySelector('h1')?.text, 'Administration')
    const nav = page.querySelector('nav.site-nav')!
    t.ok(nav.querySelector('a[href="/admin/administration"][aria-current="page"]'), 'in the menu, current')
    t.notOk(nav.querySelector('a[href="/admin/comptes"]'), 'Comptes moved into the administration')
    t.same(
      page.querySelectorAll('main .card h2 a').map((a) => a.getAttribute('href')),
      [
        '/admin/configuration',
        '/admin/configuration/versions',
        '/admin/comptes',
        '/admin/journal',
        '/admin/courriels',
      ],
    )
    t.equal(page.querySelector('#outbox-summary')?.text, '1 en échec, 1 en attente.')
    t.ok(
      page.querySelector('main a[href="/admin/courriels?etat=failed"]'),
      'the failed mails, one click away',
    )
  })

  t.test('the journal: the staff’s actions by default, newest first, in plain French', async (t) => {
    const res = await browser.get('/admin/journal')
    t.equal(res.statusCode, 200)
    const rows = journalRows(res.body)
    t.same(
      rows.map((r) => [r[1], r[2]]),
      [
        ['Sophie Secrétaire (secr-a)', 'Responsable modifié'],
        ['Anne Admin (admin-a)', 'Rôle changé'],
        ['Ancien Agent (ancien)', 'Famille archivée'],
        ['Sophie Secrétaire (secr-a)', 'legacy.imported'],
        ['Anne Admin (admin-a)', 'Configuration publiée'],
        ['Sophie Secrétaire (secr-a)', 'Cours fermé'],
        ['Sophie Secrétaire (secr-a)', 'Cours rouvert'],
      ],
      'the family’s own proposal is not among the staff’s',
    )
    t.match(rows[0]![0], /^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}$/, 'date and time')
    t.equal(rows[0]![3], 'Responsable : Camille Martin')
    t.equal(rows[0]![4], 'Mobile : 06 00 00 00 01 → 06 12 34 56 78')
    t.equal(rows[1]![4], 'Avant : Direction | Après : Secrétariat', 'roles named, not coded')
    t.equal(rows[2]![4], 'Motif : Déménagement')
    const page = html(res.body)
    t.equal(
      page.querySelector('table.journal tbody tr td a')?.getAttribute('href'),
      `/admin/familles/${family.id}`,
      'a guardian’s event links to the family',
    )
    t.same(
      page.querySelectorAll('#qui option').map((o) => o.text.trim()),
      [
        'Toute l’équipe',
        'Les familles',
        'Tout le monde',
        'Anne Admin (admin-a)',
        'Sophie Secrétaire (secr-a)',
        'Ancien Agent (ancien)',
      ],
      'the people who acted, and the name kept without an account',
    )
  })

  t.test('the journal filtered by person, kind and days', async (t) => {
    t.same(whatOf((await browser.get('/admin/journal?qui=familles')).body), ['Modification proposée'])
    t.same(whatOf((await browser.get(`/admin/journal?qui=${admin.id}`)).body), [
      'Rôle changé',
      'Configuration publiée',
    ])
    const config = journalRows((await browser.get('/admin/journal?type=config')).body)
    t.same(config, [
      [
        config[0]![0],
        'Anne Admin (admin-a)',
        'Configuration publiée',
        'Version 3 de la configuration',
        'Commentaire : Dates de réinscription',
      ],
    ])
    t.same(
      whatOf(
        (await browser.get(`/admin/journal?qui=${encodeURIComponent('nom:Ancien Agent (ancien)')}`)).body,
      ),
      ['Famille archivée'],
    )
    t.equal(journalRows((await browser.get('/admin/journal?qui=tous')).body).length, 8)
    t.same(whatOf((await browser.get('/admin/journal?type=account')).body), ['Rôle changé'])
    t.same(whatOf((await browser.get('/admin/journal?qui=tous&type=change')).body), ['Modification proposée'])
    const day = await browser.get('/admin/journal?du=2026-03-15&au=15/03/2026')
    t.equal(day.statusCode, 200)
    t.same(whatOf(day.body), ['Cours fermé'], 'the 15th in the tenant’s timezone, typed either way')
    t.same(whatOf((await browser.get('/admin/journal?au=2026-03-14')).body), ['Cours rouvert'])
    const selected = html((await browser.get(`/admin/journal?qui=${office.id}&type=course`)).body)
    t.equal(selected.querySelector('#qui option[selected]')?.text.trim(), 'Sophie Secrétaire (secr-a)')
    t.equal(selected.querySelector('#type option[selected]')?.text.trim(), 'Cours')
  })

  t.test('bad filters: a message beside the field, what was typed kept, 400', async (t) => {
    const bad = await browser.get('/admin/journal?du=31/02/2026&au=2026-03-01&type=course')
    t.equal(bad.statusCode, 400)
    let page = html(bad.body)
    t.equal(page.querySelector('#du-error')?.text, 'Date invalide : écrivez-la comme 15/03/2026.')
    t.equal(page.querySelector('#du')?.getAttribute('value'), '31/02/2026')
    t.equal(page.querySelector('#du')?.getAttribute('type'), 'text', 'shown as typed')
    t.equal(page.querySelector('#au')?.getAttribute('value'), '2026-03-01')
    t.equal(page.querySelector('#type option[selected]')?.text.trim(), 'Cours')
    t.notOk(page.querySelector('table.journal'), 'no list it did not ask for')
    t.match(page.querySelector('title')?.text, /^Erreur/)

    const order = await browser.get('/admin/journal?du=2026-03-15&au=2026-03-01')
    t.equal(order.statusCode, 400)
    page = html(order.body)
    t.equal(page.querySelector('#au-error')?.text, 'La date de fin doit être le jour de début ou après.')
    t.notOk(page.querySelector('#du-error'))

    for (const query of ['qui=quelqu-un', 'type=inconnu', 'du=hier']) {
      const res = await browser.get(`/admin/journal?${query}`)
      t.equal(res.statusCode, 400, query)
    }
    t.equal((await browser.get('/admin/journal?page=0')).statusCode, 400, 'a page out of range')
  })

  t.test('the journal is paginated by 50, its links keeping the filters', async (t) => {
    const more = em()
    for (let i = 0; i < 55; i++)
      more.persist(
        event(office, 'course.updated', ['course', 4242], new Date(now - (10 + i) * hour), {
          before: { room: 'Salle 3' },
          after: { room: 'Salle 12' },
        }),
      )
    await more.flush()
    const first = await browser.get('/admin/journal?type=course')
    t.equal(journalRows(first.body).length, 50)
    t.equal(journalRows(first.body)[0]![4], 'room : Salle 3 → Salle 12')
    const next = html(first.body).querySelector('a[rel="next"]')?.getAttribute('href')
    t.equal(next, '/admin/journal?type=course&page=2')
    t.equal(journalRows((await browser.get(next!)).body).length, 7)
    await em().nativeDelete(AuditEvent, { action: 'course.updated' })
  })

  t.test('the mails: newest first, their state, the last error, filtered', async (t) => {
    const res = await browser.get('/admin/courriels')
    t.equal(res.statusCode, 200)
    const rows = html(res.body)
      .querySelectorAll('table.outbox tbody tr')
      .map((tr) => [...tr.querySelectorAll('th, td')].map((c) => c.text.trim().replace(/\s+/g, ' ')))
    t.same(
      rows.map((r) => [r[0], r[1], r[2]]),
      [
        ['Tombé en échec', 'camille.typo@exemple.fr', 'Invitation'],
        ['En attente de relais', 'attente@example.fr', 'Modification reçue'],
        ['Déjà parti', 'sent@example.fr', 'Modification reçue'],
      ],
    )
    t.match(rows[0]![4], /^En échec Dernière erreur : 550 5\.1\.1/)
    t.match(
      rows[1]![4],
      /^En attente 3 tentatives, prochaine le \d{2}\/\d{2}\/\d{4} \d{2}:\d{2} Dernière erreur : 421/,
    )
    t.match(rows[2]![4], /^Envoyé le /)
    const only = async (query: string) =>
      html((await browser.get(`/admin/courriels?${query}`)).body)
        .querySelectorAll('table.outbox tbody th')
        .map((th) => th.text.trim())
    t.same(await only('etat=failed'), ['Tombé en échec'])
    t.same(await only('etat=pending'), ['En attente de relais'])
    t.same(await only('q=ATTENTE'), ['En attente de relais'], 'part of the address, any case')
    t.same(await only('q=%25'), [], 'a % typed is a %')
    t.equal((await browser.get('/admin/courriels?etat=perdu')).statusCode, 400)
  })

  t.test('a mail’s page: its text; a sent one has none left and no Renvoyer', async (t) => {
    let page = html((await browser.get(`/admin/courriels/${pending.id}`)).body)
    t.match(page.querySelector('pre.mail-text')?.text, 'En attente de relais')
    t.equal(page.querySelector('#last-error')?.text, '421 4.7.0 try again later')
    t.ok(page.querySelector(`form[action="/admin/courriels/${pending.id}/renvoyer"]`))
    page = html((await browser.get(`/admin/courriels/${sent.id}`)).body)
    t.notOk(page.querySelector('pre.mail-text'))
    t.notOk(page.querySelector('form[action$="/renvoyer"]'))
    t.match(page.querySelector('main')?.text, 'n’est plus conservé')
    t.equal((await browser.get('/admin/courriels/999999')).statusCode, 404)
  })

  t.test('Renvoyer: a failed mail and a pending one go out through the SMTP server, audited', async (t) => {
    const res = await browser.submit(
      `/admin/courriels/${failed.id}`,
      `/admin/courriels/${failed.id}/renvoyer`,
      {},
    )
    t.equal(res.statusCode, 303)
    t.equal(res.headers.location, `/admin/courriels/${failed.id}?fait=renvoi`)
    const arrived = await inbox.waitFor((m) => m.to.includes('camille.typo@exemple.fr'))
    t.equal(arrived.subject, 'Tombé en échec')
    const done = html((await browser.get(res.headers.location as string)).body)
    t.equal(done.querySelector('[role="status"]')?.text, 'Le courriel est remis dans la file d’envoi.')
    t.match(done.querySelector('.history')?.text, 'Anne Admin (admin-a)')

    await browser.submit(`/admin/courriels/${pending.id}`, `/admin/courriels/${pending.id}/renvoyer`, {})
    await inbox.waitFor((m) => m.to.includes('attente@example.fr'))
    // the worker marks the row once the server has taken the mail
    let row = await em().findOneOrFail(OutboxMail, { id: pending.id })
    for (let i = 0; i < 100 && row.status !== MailStatus.sent; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      row = await em().findOneOrFail(OutboxMail, { id: pending.id })
    }
    t.equal(row.status, MailStatus.sent, 'sent without waiting for its next attempt')
    const events = await em().find(AuditEvent, { action: 'mail.resent' }, { orderBy: { id: 'asc' } })
    t.same(
      events.map((e) => [e.subjectId, e.details]),
      [
        [failed.id, { template: 'invitation', status: 'failed', attempts: 8 }],
        [pending.id, { template: 'change-received', status: 'pending', attempts: 3 }],
      ],
    )
    const journal = journalRows((await browser.get('/admin/journal?type=mail')).body)
    t.same(
      journal.map((r) => r[2]),
      ['Courriel renvoyé', 'Courriel renvoyé'],
    )
    t.equal(journal[1]![3], 'Courriel : Tombé en échec')
    t.equal(journal[1]![4], 'Modèle : invitation | État avant : En échec | Tentatives : 8')
  })

  t.test('Renvoyer a sent mail is refused beside the button (400), nothing queued', async (t) => {
    // a page opened before the mail went out still had the button
    const page = html((await browser.get(`/admin/courriels/${failed.id}`)).body)
    const token = page.querySelector('input[name="_csrf"]')!.getAttribute('value')!
    const res = await browser.post(`/admin/courriels/${failed.id}/renvoyer`, { _csrf: token })
    t.equal(res.statusCode, 400)
    t.match(html(res.body).querySelector('.error-summary')?.text, 'déjà envoyé')
    t.equal(await em().count(AuditEvent, { action: 'mail.resent' }), 2)
    t.equal(await em().count(OutboxMail, {}), 3)
  })

  t.test('another conservatoire’s admin sees nothing of this one', async (t) => {
    const other = tenants[1]!.slug
    await createAccount(app, other, { identifiant: 'admin-b', role: 'admin' })
    const b = await signedInBrowser(app, host(1), 'admin-b', '/admin/connexion')
    t.equal(journalRows((await b.get('/admin/journal?qui=tous')).body).length, 0)
    t.equal(html((await b.get('/admin/courriels')).body).querySelectorAll('table.outbox tbody tr').length, 0)
    t.equal((await b.get(`/admin/courriels/${failed.id}`)).statusCode, 404)
    const page = await b.get('/admin/courriels')
    const token = html(page.body).querySelector('input[name="_csrf"]')!.getAttribute('value')!
    t.equal((await b.post(`/admin/courriels/${pending.id}/renvoyer`, { _csrf: token })).statusCode, 404)
    // this tenant's session is not a session on the other's host
    const stray = new Browser(app, host(1))
    stray.cookies = new Map(browser.cookies)
    t.equal((await stray.get('/admin/journal')).statusCode, 303)
    t.equal((await app.inject({ url: '/admin/journal', headers: { host: 'localhost' } })).statusCode, 404)
  })

  t.test(
    'secretariat, direction, teacher and family are refused; a visitor is sent to sign in',
    async (t) => {
      const urls = [
        '/admin/administration',
        '/admin/journal',
        '/admin/courriels',
        `/admin/courriels/${pending.id}`,
      ]
      for (const [identifiant, path] of [
        ['secr-a', '/admin/connexion'],
        ['direction-a', '/admin/connexion'],
        ['teacher-a', '/enseignant/connexion'],
        ['famille-a', '/connexion'],
      ] as const) {
        const someone = await signedInBrowser(app, host(), identifiant, path)
        for (const url of urls) t.equal((await someone.get(url)).statusCode, 403, `${identifiant} ${url}`)
        const token = html((await someone.get('/mot-de-passe')).body)
          .querySelector('input[name="_csrf"]')!
          .getAttribute('value')!
        t.equal(
          (await someone.post(`/admin/courriels/${pending.id}/renvoyer`, { _csrf: token })).statusCode,
          403,
          `${identifiant} Renvoyer`,
        )
        if (identifiant === 'secr-a')
          t.notOk(
            html((await someone.get('/admin')).body).querySelector(
              'nav.site-nav a[href="/admin/administration"]',
            ),
            'not in the secretariat’s menu',
          )
      }
      for (const url of urls) {
        const res = await app.inject({ url, headers: { host: host() } })
        t.equal(res.statusCode, 303, `visitor ${url}`)
        t.match(res.headers.location, /^\/admin\/connexion\?retour=/)
      }
    },
  )
})
