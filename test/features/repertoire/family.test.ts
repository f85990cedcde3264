import t from 'tap'
import { RepertoirePiece } from '../../../src/features/repertoire/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { signedInBrowser } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { createClasses, tenant, text } from './setup.ts'

t.test('the family’s Répertoire tab shows the pieces worked, then the performances', async (t) => {
  const { app, host, tenants } = await build(t, { tenants: [tenant, tenant] })
  const slug = tenants[0]!.slug
  const { piano, violin, lea, hugo, helene, marc } = await createClasses(app, slug)
  const em = app.orm.em.fork({ schema: schemaFor(slug) })
  em.create(RepertoirePiece, {
    pupil: lea.id,
    course: piano.id,
    addedBy: helene.id,
    title: 'Menuet en sol majeur',
    composer: 'Christian Petzold',
    period: 'baroque',
    startedOn: '2026-09-09',
    state: 'performed',
    performedOn: '2026-10-14',
  })
  em.create(RepertoirePiece, {
    pupil: lea.id,
    course: piano.id,
    addedBy: helene.id,
    title: 'Gymnopédie n° 1',
    composer: 'Erik Satie',
    period: 'xxe',
    startedOn: '2026-10-21',
  })
  em.create(RepertoirePiece, {
    pupil: lea.id,
    course: violin.id,
    addedBy: marc.id,
    title: 'Le Cygne',
    startedOn: '2026-09-15',
  })
  em.create(RepertoirePiece, {
    pupil: hugo.id,
    course: violin.id,
    addedBy: marc.id,
    title: 'Hugo’s piece',
    startedOn: '2026-09-15',
  })
  await em.flush()

  const family = await signedInBrowser(app, host(), 'famille-martin')
  const res = await family.get(`/eleves/${lea.id}/repertoire`)
  t.equal(res.statusCode, 200)
  const page = html(res.body)
  const panels = page.querySelectorAll('main .panel')
  t.equal(panels[0]?.querySelector('h2')?.text, 'Pièces travaillées', 'the pieces come first')
  t.equal(panels[1]?.querySelector('h2')?.text, 'Événements et pièces jouées', 'then the performances')
  t.same(
    panels[0]!.querySelectorAll('h3').map((h) => h.text),
    ['En cours de travail', 'Pièces jouées'],
  )
  t.same(
    panels[0]!.querySelectorAll('.piece').map((p) => text(p.text)),
    [
      'Gymnopédie n° 1, Erik Satie XXe siècle · Travaillée depuis le 21/10/2026 · Piano 1C2 · Hélène Rivière',
      'Le Cygne Travaillée depuis le 15/09/2026 · Violon 1C1 · Marc Durand',
      'Menuet en sol majeur, Christian Petzold Baroque · Jouée le 14/10/2026 · Piano 1C2 · Hélène Rivière',
    ],
  )
  t.notOk(page.querySelector('.piece__actions'), 'families only read')
  t.notMatch(res.body, /Hugo’s piece/, 'another pupil’s pieces are not shown')

  t.equal((await family.get(`/eleves/${hugo.id}/repertoire`)).statusCode, 404, 'another family’s pupil')
  const elsewhere = await signedInBrowser(app, host(1), 'famille-martin').catch(() => undefined)
  t.notOk(elsewhere, 'the family has no account on another tenant')
  const stranger = await app.inject({ url: `/eleves/${lea.id}/repertoire`, headers: { host: host(1) } })
  t.equal(stranger.statusCode, 303, 'another tenant’s host sends to its own sign-in')

  const durand = await signedInBrowser(app, host(), 'famille-durand')
  const theirs = html((await durand.get(`/eleves/${hugo.id}/repertoire`)).body)
  t.same(
    theirs.querySelectorAll('.piece__title').map((p) => text(p.text)),
    ['Hugo’s piece'],
  )
})

t.test('a pupil without pieces is told so', async (t) => {
  const { app, host, tenants } = await build(t, { tenants: [tenant] })
  const { lea } = await createClasses(app, tenants[0]!.slug)
  const family = await signedInBrowser(app, host(), 'famille-martin')
  const page = html((await family.get(`/eleves/${lea.id}/repertoire`)).body)
  t.equal(
    text(page.querySelector('main .panel p')?.text),
    'Aucune pièce pour le moment : les enseignants les ajoutent au fil des cours.',
  )
})
