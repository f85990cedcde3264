import t from 'tap'
import { tenantToday } from '../../../src/features/family/service.ts'
import { RepertoirePiece } from '../../../src/features/repertoire/entities.ts'
import { CourseReplacement } from '../../../src/features/lessons/entities.ts'
import { Enrolment, Teacher } from '../../../src/features/teaching/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { createAccount, signedInBrowser } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { formValues } from '../../helpers/forms.ts'
import { createClasses, tenant, text } from './setup.ts'

const today = () => tenantToday({ timezone: 'Europe/Paris' })

t.test('a teacher adds a piece, changes it, marks it performed and deletes it', async (t) => {
  const { app, host, tenants } = await build(t, { tenants: [tenant] })
  const slug = tenants[0]!.slug
  const { piano, lea } = await createClasses(app, slug)
  const teacher = await signedInBrowser(app, host(), 'prof-helene', '/enseignant/connexion')
  const path = `/enseignant/cours/${piano.id}/eleves/${lea.id}/repertoire`

  const empty = html((await teacher.get(path)).body)
  t.equal(empty.querySelector('h1')?.text, 'Répertoire de Léa Martin')
  t.equal(empty.querySelector('main p a')?.getAttribute('href'), `/enseignant/cours/${piano.id}`)
  t.equal(formValues((await teacher.get(path)).body, path).startedOn, today(), 'started today by default')

  const added = await teacher.submit(path, path, {
    title: 'Sonatine en sol',
    composer: 'Ludwig van Beethoven',
    period: 'classique',
    startedOn: '2026-09-16',
    state: 'in_progress',
    performedOn: '',
  })
  t.equal(added.statusCode, 303)
  t.equal(added.headers.location, `${path}?enregistre=ajoute`)
  const list = html((await teacher.get(added.headers.location!)).body)
  t.equal(list.querySelector('.alert--success')?.text, 'Pièce ajoutée.')
  const item = list.querySelector('[aria-labelledby="in-progress-title"] .piece')!
  t.equal(text(item.querySelector('.piece__title')?.text), 'Sonatine en sol, Ludwig van Beethoven')
  t.equal(
    text(item.querySelector('.piece__meta')?.text),
    'Classique · Travaillée depuis le 16/09/2026 · Piano 1C2 · Hélène Rivière',
  )

  const em = app.orm.em.fork({ schema: schemaFor(slug) })
  const piece = await em.findOneOrFail(
    RepertoirePiece,
    { title: 'Sonatine en sol' },
    { populate: ['addedBy'] },
  )
  t.equal(piece.addedBy?.lastName, 'Rivière', 'the teacher who added it')
  t.equal(piece.course?.id, piano.id)
  const edit = `${path}/${piece.id}`
  t.equal(item.querySelector('a')?.getAttribute('href'), edit)
  t.same(formValues((await teacher.get(edit)).body, edit), {
    _csrf: formValues((await teacher.get(edit)).body, edit)._csrf,
    title: 'Sonatine en sol',
    composer: 'Ludwig van Beethoven',
    period: 'classique',
    startedOn: '2026-09-16',
    state: 'in_progress',
    performedOn: '',
  })

  const changed = await teacher.submit(edit, edit, {
    title: 'Sonatine en sol majeur',
    composer: 'Ludwig van Beethoven',
    period: 'classique',
    startedOn: '2026-09-16',
    state: 'in_progress',
    performedOn: '',
  })
  t.equal(changed.headers.location, `${path}?enregistre=modifie`)
  const performed = await teacher.submit(path, `${edit}/jouee`, {})
  t.equal(performed.headers.location, `${path}?enregistre=joue`)
  const after = html((await teacher.get(path)).body)
  t.equal(
    text(after.querySelector('[aria-labelledby="in-progress-title"]')?.text),
    'En cours de travail Aucune pièce.',
  )
  const done = after.querySelector('[aria-labelledby="performed-title"] .piece')!
  t.match(text(done.text), 'Sonatine en sol majeur, Ludwig van Beethoven')
  t.match(text(done.text), `Jouée le ${today().split('-').reverse().join('/')}`)
  t.notOk(done.querySelector(`form[action="${edit}/jouee"]`), 'no second "performed" button')

  // performed on a given day, through the form
  const dated = await teacher.submit(edit, edit, {
    title: 'Sonatine en sol majeur',
    composer: '',
    period: '',
    startedOn: '16/09/2026',
    state: 'performed',
    performedOn: '2026-10-02',
  })
  t.equal(dated.statusCode, 303)
  await em.refresh(piece)
  t.same(
    [piece.composer, piece.period, piece.startedOn, piece.state, piece.performedOn],
    [null, null, '2026-09-16', 'performed', '2026-10-02'],
  )

  const deleted = await teacher.submit(edit, `${edit}/suppression`, {})
  t.equal(deleted.headers.location, `${path}?enregistre=supprime`)
  t.equal(await em.fork().count(RepertoirePiece, {}), 0)
  t.equal((await teacher.get(edit)).statusCode, 404, 'a deleted piece is gone')
})

t.test('bad input is told beside the field, and what was typed is kept', async (t) => {
  const { app, host, tenants } = await build(t, { tenants: [tenant] })
  const slug = tenants[0]!.slug
  const { piano, lea } = await createClasses(app, slug)
  const teacher = await signedInBrowser(app, host(), 'prof-helene', '/enseignant/connexion')
  const path = `/enseignant/cours/${piano.id}/eleves/${lea.id}/repertoire`
  const nextYear = String(Number(today().slice(0, 4)) + 1)

  const cases: [Record<string, string>, string, string][] = [
    [{ title: '  ' }, 'title', 'Indiquez le titre de la pièce.'],
    [{ title: 'x'.repeat(201) }, 'title', 'Ce texte est trop long : 200 caractères au plus.'],
    [{ composer: 'y'.repeat(151) }, 'composer', 'Ce texte est trop long : 150 caractères au plus.'],
    [{ startedOn: 'hier' }, 'startedOn', 'Date invalide : écrivez-la comme 15/09/2026.'],
    [{ startedOn: '31/02/2026' }, 'startedOn', 'Date invalide : écrivez-la comme 15/09/2026.'],
    [{ startedOn: '' }, 'startedOn', 'Indiquez la date, par exemple 15/09/2026.'],
    [
      { startedOn: `${nextYear}-01-10` },
      'startedOn',
      'Cette date est à venir : indiquez aujourd’hui ou un jour passé.',
    ],
    [{ period: 'rococo' }, 'period', 'Choisissez une période de la liste.'],
    [{ state: 'performed', performedOn: '' }, 'performedOn', 'Indiquez la date, par exemple 15/09/2026.'],
    [
      { state: 'performed', performedOn: '2026-09-01' },
      'performedOn',
      'La pièce ne peut pas être jouée avant d’avoir été commencée.',
    ],
  ]
  for (const [change, field, message] of cases) {
    const fields = {
      title: 'Gymnopédie n° 1',
      composer: 'Erik Satie',
      period: 'xxe',
      startedOn: '2026-09-16',
      state: 'in_progress',
      performedOn: '',
      ...change,
    }
    const res = await teacher.submit(path, path, fields)
    t.equal(res.statusCode, 400, `${field}: ${message}`)
    const page = html(res.body)
    t.equal(page.querySelector(`#${field}-error`)?.text, message)
    t.equal(page.querySelector(`#${field}`)?.getAttribute('aria-invalid'), 'true')
    const kept = formValues(res.body, path)
    for (const name of ['title', 'composer', 'startedOn', 'performedOn'] as const)
      t.equal(kept[name], fields[name], `${name} kept`)
    t.match(page.querySelector('.error-summary')?.text, message.slice(1, 20))
  }
  const em = app.orm.em.fork({ schema: schemaFor(slug) })
  t.equal(await em.count(RepertoirePiece, {}), 0, 'nothing saved')
  const typed = html(
    (await teacher.submit(path, path, { title: 'A', startedOn: 'hier', state: 'in_progress' })).body,
  )
  t.equal(
    typed.querySelector('#startedOn')?.getAttribute('type'),
    'text',
    'a date not understood stays as typed',
  )

  // an edit refused keeps the piece as it was
  const piece = em.create(RepertoirePiece, {
    pupil: lea.id,
    course: piano.id,
    addedBy: (
      await em.findOneOrFail(Enrolment, { pupil: lea.id, course: piano.id }, { populate: ['course.teacher'] })
    ).course.teacher,
    title: 'Berceuse',
    startedOn: '2026-09-10',
  })
  await em.flush()
  const edit = `${path}/${piece.id}`
  const refused = await teacher.submit(edit, edit, {
    title: '',
    startedOn: '2026-09-10',
    state: 'in_progress',
  })
  t.equal(refused.statusCode, 400)
  t.equal(html(refused.body).querySelector('#title-error')?.text, 'Indiquez le titre de la pièce.')
  await em.refresh(piece)
  t.equal(piece.title, 'Berceuse', 'nothing lost')
})

t.test('teachers see only their courses’ pupils, and change only the pieces they added', async (t) => {
  const { app, host, tenants } = await build(t, { tenants: [tenant, tenant] })
  const [slug, otherSlug] = tenants.map((x) => x.slug) as [string, string]
  const { piano, violin, lea, hugo, helene, marc } = await createClasses(app, slug)
  // the other tenant has a teacher of the same identifiant, and no course
  await createAccount(app, otherSlug, { identifiant: 'prof-helene', role: 'teacher' })
  const em = app.orm.em.fork({ schema: schemaFor(slug) })
  const hers = em.create(RepertoirePiece, {
    pupil: lea.id,
    course: piano.id,
    addedBy: helene.id,
    title: 'Menuet en sol majeur',
    composer: 'Christian Petzold',
    period: 'baroque',
    startedOn: '2026-09-09',
  })
  const his = em.create(RepertoirePiece, {
    pupil: lea.id,
    course: violin.id,
    addedBy: marc.id,
    title: 'Le Cygne',
    startedOn: '2026-09-15',
  })
  await em.flush()
  const helen = await signedInBrowser(app, host(), 'prof-helene', '/enseignant/connexion')
  const mine = `/enseignant/cours/${piano.id}/eleves/${lea.id}/repertoire`

  const page = html((await helen.get(mine)).body)
  const titles = page.querySelectorAll('.piece__title').map((p) => text(p.text))
  t.same(
    titles,
    ['Le Cygne', 'Menuet en sol majeur, Christian Petzold'],
    'every course’s pieces, latest first',
  )
  t.equal(page.querySelectorAll('.piece__actions').length, 1, 'only her own piece has actions')
  t.match(text(page.text), 'Violon 1C1 · Marc Durand')

  const csrf = formValues((await helen.get(mine)).body, mine)._csrf!
  const refused: [string, string][] = [
    [`/enseignant/cours/${violin.id}/eleves/${lea.id}/repertoire`, 'another teacher’s course'],
    [`/enseignant/cours/${piano.id}/eleves/${hugo.id}/repertoire`, 'a pupil not in the course'],
    [`/enseignant/cours/999999/eleves/${lea.id}/repertoire`, 'a course that does not exist'],
    [`${mine}/${his.id}`, 'a piece another teacher added'],
    [`${mine}/999999`, 'a piece that does not exist'],
  ]
  for (const [url, what] of refused) {
    t.equal((await helen.get(url)).statusCode, 404, `GET ${what}`)
    t.equal(
      (await helen.post(url, { _csrf: csrf, title: 'X', startedOn: '2026-09-01' })).statusCode,
      404,
      `POST ${what}`,
    )
  }
  for (const action of ['jouee', 'suppression']) {
    t.equal(
      (await helen.post(`${mine}/${his.id}/${action}`, { _csrf: csrf })).statusCode,
      404,
      `${action} of his piece`,
    )
    t.equal(
      (
        await helen.post(`/enseignant/cours/${violin.id}/eleves/${lea.id}/repertoire/${hers.id}/${action}`, {
          _csrf: csrf,
        })
      ).statusCode,
      404,
      `${action} through another teacher’s course`,
    )
  }
  await em.refresh(his)
  t.equal(his.state, 'in_progress', 'his piece untouched')

  // a pupil taken off the course is no longer hers
  await em.nativeUpdate(Enrolment, { pupil: lea.id, course: piano.id }, { active: false })
  t.equal((await helen.get(mine)).statusCode, 404, 'a pupil taken off the course')
  await em.nativeUpdate(Enrolment, { pupil: lea.id, course: piano.id }, { active: true })

  // another tenant's host knows none of these
  const elsewhere = await signedInBrowser(app, host(1), 'prof-helene', '/enseignant/connexion')
  t.equal((await elsewhere.get(mine)).statusCode, 404, 'another tenant’s host')

  // a replacement teacher may open the course's pupils
  const sub = await createAccount(app, slug, { identifiant: 'prof-sub', role: 'teacher' })
  const subTeacher = em.create(Teacher, { firstName: 'Paul', lastName: 'Remplaçant', account: sub.id })
  em.create(CourseReplacement, {
    course: piano.id,
    teacher: subTeacher,
    startsOn: '2026-11-02',
    endsOn: '2026-11-30',
  })
  await em.flush()
  const replacing = await signedInBrowser(app, host(), 'prof-sub', '/enseignant/connexion')
  t.equal((await replacing.get(mine)).statusCode, 200, 'a replacement teacher')

  // families and staff are not teachers
  const family = await signedInBrowser(app, host(), 'famille-martin')
  t.equal((await family.get(mine)).statusCode, 403, 'a family')
  t.equal((await family.post(mine, { _csrf: csrf })).statusCode, 403, 'a family posting')
  await createAccount(app, slug, { identifiant: 'secretariat', role: 'secretariat' })
  const staff = await signedInBrowser(app, host(), 'secretariat', '/admin/connexion')
  t.equal((await staff.get(mine)).statusCode, 403, 'staff')
  const visitor = await app.inject({ url: mine, headers: { host: host() } })
  t.equal(visitor.statusCode, 303, 'a visitor is sent to sign in')
})
