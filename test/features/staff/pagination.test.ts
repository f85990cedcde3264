import { createHash, randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { DocumentSubmission, StoredFile } from '../../../src/features/documents/entities.ts'
import { Family, Guardian } from '../../../src/features/family/entities.ts'
import { Preregistration } from '../../../src/features/preregistration/entities.ts'
import { Pupil } from '../../../src/features/pupils/entities.ts'
import { Reenrolment } from '../../../src/features/reenrolment/entities.ts'
import { ChangeRequest } from '../../../src/features/sas/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser, createAccount, goodPassword, signedInBrowser } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'

const text = (value: string | undefined) => (value ?? '').replace(/\s+/g, ' ').trim()

const tenant = {
  periods: {
    reenrolment: { opens: 'today-10', closes: 'today+10', schoolYear: '2099-2100' },
    preregistration: { opens: 'today-10', closes: 'today+10' },
  },
  reenrolment: { steps: ['finalize'], layout: 'wizard' },
  documents: [{ id: 'assurance', label: 'Attestation d’assurance', level: 'pupil' }],
  disciplines: [{ code: 'piano', name: 'Piano', domain: 'music' }],
  preregistration: { choices: 1 },
}

/** `count` families, each with a pupil and one item in each staff queue, in the order of their number. */
async function seedQueues(app: FastifyInstance, slug: string, count: number, lastName: string) {
  const em = app.orm.em.fork({ schema: schemaFor(slug) })
  for (let i = 1; i <= count; i++) {
    const family = em.create(Family, {})
    const guardian = em.create(Guardian, {
      family,
      rank: 1,
      lastName: `${lastName}${i}`,
      firstName: 'Camille',
      extraPhones: [],
    })
    const pupil = em.create(Pupil, { family, lastName: `${lastName}${i}`, firstName: 'Léa' })
    await em.flush()
    // one second apart, so "oldest first" is the families' order
    const at = new Date(Date.UTC(2026, 9, 1, 8, 0, i))
    em.create(ChangeRequest, {
      family,
      subjectType: 'guardian',
      subjectId: guardian.id,
      changes: { city: { before: null, after: 'Lyon' } },
      createdAt: at,
      updatedAt: at,
    })
    const content = randomBytes(16)
    const file = em.create(StoredFile, {
      fileName: `assurance-${i}.pdf`,
      contentType: 'application/pdf',
      size: content.length,
      sha256: createHash('sha256').update(content).digest('hex'),
      content,
    })
    em.create(DocumentSubmission, {
      family,
      pupil,
      documentId: 'assurance',
      file,
      createdAt: at,
      updatedAt: at,
    })
    em.create(Reenrolment, {
      family,
      pupil,
      schoolYear: '2099-2100',
      status: 'submitted',
      submittedAt: at,
      createdAt: at,
      updatedAt: at,
    })
    em.create(Preregistration, {
      tokenHash: createHash('sha256').update(randomBytes(8)).digest('hex'),
      status: 'confirmed',
      email: `famille${i}@${lastName.toLowerCase()}.example.fr`,
      guardians: [{ lastName: `${lastName}${i}`, firstName: 'Camille' }],
      applicants: [
        {
          fromGuardian: false,
          values: { lastName: `${lastName}${i}`, firstName: 'Léa', birthDate: '2015-01-01' },
          choices: ['piano'],
          freeText: null,
        },
      ],
    })
    await em.flush()
  }
}

const queues = [
  { path: '/admin/changements', filters: '' },
  { path: '/admin/pieces', filters: 'etat=pending' },
  { path: '/admin/reinscriptions', filters: 'etat=submitted' },
  { path: '/admin/preinscriptions', filters: 'etat=confirmed' },
]

t.test(
  'every staff queue shows 50 rows a page with the total, oldest first, and only its tenant’s',
  async (t) => {
    const { app, tenants, host } = await build(t, { tenants: [tenant, tenant] })
    const [mine, other] = tenants.map((c) => c.slug) as [string, string]
    await seedQueues(app, mine, 53, 'Famille')
    await seedQueues(app, other, 4, 'Autre')
    await createAccount(app, mine, {
      identifiant: 'secretariat',
      role: 'secretariat',
      displayName: 'Secrétariat',
    })
    const office = new Browser(app, host(0))
    const signedIn = await office.submit('/admin/connexion', '/admin/connexion', {
      identifiant: 'secretariat',
      password: goodPassword,
    })
    t.equal(signedIn.statusCode, 303)

    for (const { path, filters } of queues) {
      await t.test(path, async (t) => {
        const query = (page?: number) =>
          [filters, page ? `page=${page}` : ''].filter(Boolean).join('&').replace(/^(.)/, '?$1')
        const first = await office.get(`${path}${query()}`)
        t.equal(first.statusCode, 200)
        const page1 = html(first.body)
        const rows = page1.querySelectorAll('tbody tr')
        t.equal(rows.length, 50, 'fifty rows on the first page')
        t.match(text(page1.querySelector('.pagination__summary')?.text), '1 à 50 sur 53')
        t.match(text(rows[0]?.text), /Famille1\b/, 'the oldest first')
        t.notMatch(first.body, /Autre\d/, 'nothing of the other tenant')
        const next = page1.querySelector('a[rel="next"]')?.getAttribute('href')
        t.equal(next, `${path}${query(2)}`, 'the next page keeps the filters')
        t.notOk(page1.querySelector('a[rel="prev"]'))

        const second = html((await office.get(next!)).body)
        t.equal(second.querySelectorAll('tbody tr').length, 3, 'the last three on page 2')
        t.match(text(second.querySelector('.pagination__summary')?.text), '51 à 53 sur 53')
        t.match(text(second.querySelector('tbody tr')?.text), /Famille51\b/)
        t.equal(second.querySelector('a[rel="prev"]')?.getAttribute('href'), `${path}${query()}`)
        t.notOk(second.querySelector('a[rel="next"]'))

        const beyond = await office.get(`${path}${query(9)}`)
        t.equal(beyond.statusCode, 200, 'a page past the end is a page without rows, not an error')
        t.equal(html(beyond.body).querySelectorAll('tbody tr').length, 0)

        t.equal((await office.get(`${path}?page=0`)).statusCode, 400, 'page 0 is refused')
        t.equal((await office.get(`${path}?page=abc`)).statusCode, 400)
      })
    }
  },
)

t.test('a filter narrows the count as well as the rows', async (t) => {
  const { app, tenants, host } = await build(t, { tenants: [tenant] })
  const slug = tenants[0]!.slug
  await seedQueues(app, slug, 3, 'Famille')
  await createAccount(app, slug, { identifiant: 'secretariat', role: 'secretariat' })
  const office = await signedInBrowser(app, host(), 'secretariat', '/admin/connexion')
  const byPupil = html((await office.get('/admin/pieces?etat=tous&eleve=famille2')).body)
  t.equal(byPupil.querySelectorAll('tbody tr').length, 1)
  t.match(text(byPupil.querySelector('.pagination__summary')?.text), '1 à 1 sur 1')
  const none = html((await office.get('/admin/reinscriptions?etat=validated')).body)
  t.equal(none.querySelectorAll('tbody tr').length, 0)
})

t.test('each tile of the dashboard links to the list it counts', async (t) => {
  const { app, tenants, host } = await build(t, { tenants: [tenant] })
  const slug = tenants[0]!.slug
  await seedQueues(app, slug, 3, 'Famille')
  await createAccount(app, slug, { identifiant: 'secretariat', role: 'secretariat' })
  const office = await signedInBrowser(app, host(), 'secretariat', '/admin/connexion')
  const dashboard = html((await office.get('/admin')).body)
  const tiles = dashboard.querySelectorAll('.cards .card')
  t.same(
    tiles.map((tile) => [text(tile.text), tile.tagName.toLowerCase(), tile.getAttribute('href')]),
    [
      ['3 Modifications en attente', 'a', '/admin/changements'],
      ['3 Pièces en attente de validation', 'a', '/admin/pieces?etat=pending'],
      ['3 Réinscriptions en attente de validation', 'a', '/admin/reinscriptions?etat=submitted'],
      ['3 Pré-inscriptions confirmées à examiner', 'a', '/admin/preinscriptions?etat=confirmed'],
      ['0 Familles à effacer (RGPD)', 'a', '/admin/rgpd'],
    ],
    'every tile is a link, named by its count and what it counts',
  )
  // a tile counting nothing (no family archived here) has an empty list: test/features/personal-data
  for (const tile of tiles.filter((tile) => text(tile.querySelector('.stat')?.text) !== '0')) {
    const list = html((await office.get(tile.getAttribute('href')!)).body)
    t.match(
      text(list.querySelector('.pagination__summary')?.text),
      'sur 3',
      `${tile.getAttribute('href')}: the list holds what the tile counts`,
    )
  }
  t.same(
    dashboard.querySelectorAll('.figures dt').map((dt) => text(dt.text)),
    ['Familles', 'Élèves', 'Cours', 'Comptes actifs'],
    'the year’s figures, which no list shows, are figures rather than tiles',
  )
})
