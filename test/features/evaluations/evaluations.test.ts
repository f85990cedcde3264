import t from 'tap'
import { extractText, getDocumentProxy } from 'unpdf'
import { Evaluation } from '../../../src/features/teaching/entities.ts'
import { AuditEvent } from '../../../src/platform/audit/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { type Browser, createAccount, signedInBrowser } from '../../helpers/accounts.ts'
import { createFamily } from '../../helpers/families.ts'
import { html } from '../../helpers/build.ts'
import { evaluationSite, pageOf } from './setup.ts'

const text = (value: string | undefined) => (value ?? '').replace(/\s+/g, ' ').trim()

/** The teacher's form of one pupil on the page, posted as the teacher fills it in. */
async function fill(browser: Browser, courseId: number, enrolmentId: number, fields: Record<string, string>) {
  return browser.submit(pageOf(courseId), `/enseignant/cours/${courseId}/evaluations/${enrolmentId}`, {
    periode: 'T1',
    ...fields,
  })
}

async function pdfText(body: Buffer) {
  const { text: pages } = await extractText(await getDocumentProxy(new Uint8Array(body)), {
    mergePages: true,
  })
  return pages.replace(/\s+/g, ' ')
}

t.test(
  'a draft stays with the teacher and staff; published, the family reads it and is mailed',
  async (t) => {
    const site = await evaluationSite(t)
    const { browsers, piano, lea } = site

    const page = html((await browsers.prof.get(pageOf(piano.id))).body)
    t.match(page.querySelector('h1')?.text, 'Évaluations — Piano 1C2')
    t.same(
      page.querySelectorAll('.evaluation-form h2').map((h) => text(h.text)),
      ['Léa Dupont À écrire', 'Léa Martin À écrire'],
      'every pupil of the course, by name',
    )
    const form = page.querySelector(`#eleve-${lea.id} form`)!
    t.same(
      form.querySelectorAll('select option').map((o) => o.text),
      ['Pas de niveau', 'Très bien', 'Bien', 'À consolider'],
      'the levels of the tenant’s scale',
    )
    t.same(
      form.querySelectorAll('fieldset legend').map((l) => l.text),
      ['Justesse', 'Rythme'],
      'a choice per criterion',
    )
    t.same(
      form.querySelectorAll('button').map((b) => b.text),
      ['Enregistrer le brouillon', 'Publier'],
    )

    const draft = await fill(browsers.prof, piano.id, lea.id, {
      appreciation: 'Beau son, travail régulier.',
      level: 'Bien',
      'criterion-0': 'acquired',
      'criterion-1': 'inProgress',
      action: 'draft',
    })
    t.equal(draft.statusCode, 303)
    t.match(draft.headers.location, `enregistre=draft&eleve=${lea.id}#eleve-${lea.id}`)
    const saved = html((await browsers.prof.get(draft.headers.location as string)).body)
    const card = saved.querySelector(`#eleve-${lea.id}`)!
    t.match(text(card.text), 'Brouillon enregistré.')
    t.equal(card.querySelector('textarea')?.text, 'Beau son, travail régulier.')
    t.equal(card.querySelector('option[selected]')?.text, 'Bien')
    t.equal(card.querySelector('input[name="criterion-0"][checked]')?.getAttribute('value'), 'acquired')

    // the family sees nothing yet, and has no mail
    const before = html((await browsers.martin.get(`/eleves/${site.martin.pupil.id}/cours`)).body)
    t.match(text(before.querySelector('tbody')?.text), '0 évaluation', 'a draft is not counted')
    t.notOk(before.querySelector('.bulletins'), 'no bulletin yet')
    const course = html((await browsers.martin.get(`/eleves/${site.martin.pupil.id}/cours/${lea.id}`)).body)
    t.match(
      text(course.querySelector('.evaluations')?.text ?? course.querySelector('main')?.text),
      'Aucune évaluation',
    )
    t.equal((await site.outbox('evaluation-published')).length, 0)

    // staff see the draft
    const list = html((await browsers.staff.get('/admin/evaluations?etat=draft')).body)
    t.same(
      list.querySelectorAll('tbody tr').map((row) => text(row.querySelector('[data-label="État"]')?.text)),
      ['Brouillon'],
    )

    const published = await fill(browsers.prof, piano.id, lea.id, {
      appreciation: 'Beau son, travail régulier.',
      level: 'Bien',
      'criterion-0': 'acquired',
      'criterion-1': 'inProgress',
      action: 'publish',
    })
    t.equal(published.statusCode, 303)
    const after = html((await browsers.prof.get(published.headers.location as string)).body)
    const publishedCard = after.querySelector(`#eleve-${lea.id}`)!
    t.match(text(publishedCard.text), 'Évaluation publiée : la famille a été prévenue.')
    t.same(
      publishedCard.querySelectorAll('button').map((b) => b.text),
      ['Enregistrer les modifications'],
      'a published evaluation is changed in place',
    )
    t.match(text(publishedCard.text), 'vos modifications sont lues aussitôt par la famille')

    const mails = await site.outbox('evaluation-published')
    t.same(
      mails.map((m) => m.recipient).sort(),
      ['famille-martin@example.fr', 'thomas.martin@example.fr'],
      'each guardian with an address is mailed',
    )
    t.match(mails[0]!.subject, 'Nouvelle évaluation de Léa Martin : 1er trimestre')
    t.match(mails[0]!.text, 'L’évaluation du 1er trimestre de Léa Martin en Piano 1C2 est disponible')
    t.match(mails[0]!.text, `/eleves/${site.martin.pupil.id}/cours/${lea.id}`)

    const familyCourse = html(
      (await browsers.martin.get(`/eleves/${site.martin.pupil.id}/cours/${lea.id}`)).body,
    )
    const evaluations = text(familyCourse.querySelector('.evaluations')?.text)
    t.match(evaluations, '1er trimestre')
    t.match(evaluations, 'Niveau : Bien')
    t.match(evaluations, 'Justesse — acquis')
    t.match(evaluations, 'Rythme — en cours d’acquisition')
    t.match(evaluations, 'Beau son, travail régulier.')
    const courses = html((await browsers.martin.get(`/eleves/${site.martin.pupil.id}/cours`)).body)
    t.equal(
      courses.querySelector('.bulletins a')?.getAttribute('href'),
      `/eleves/${site.martin.pupil.id}/bulletins/T1.pdf`,
      'the bulletin of the period is offered',
    )

    // changed after publishing: still published, no second mail
    const changed = await fill(browsers.prof, piano.id, lea.id, {
      appreciation: 'Beau son, travail régulier. Bravo pour l’audition.',
      level: 'Très bien',
      action: 'publish',
    })
    t.match(changed.headers.location, 'enregistre=updated')
    t.equal((await site.outbox('evaluation-published')).length, 2, 'no new mail for a change')
    const reread = html((await browsers.martin.get(`/eleves/${site.martin.pupil.id}/cours/${lea.id}`)).body)
    t.match(text(reread.querySelector('.evaluations')?.text), 'Bravo pour l’audition.')
    const audit = await site.app.orm.em
      .fork({ schema: schemaFor(site.slug) })
      .find(AuditEvent, { action: { $like: 'evaluation.%' } }, { orderBy: { id: 'asc' } })
    t.same(
      audit.map((a) => a.action),
      ['evaluation.published', 'evaluation.changed'],
    )
  },
)

t.test(
  'staff ask for a correction: the teacher is mailed, sees it, and the family no longer reads it',
  async (t) => {
    const site = await evaluationSite(t)
    const { browsers, piano, lea, other } = site
    await fill(browsers.prof, piano.id, lea.id, { appreciation: 'Bon trimestre.', action: 'publish' })
    await fill(browsers.prof, piano.id, other.id, { appreciation: 'Premier jet.', action: 'draft' })

    const list = html((await browsers.staff.get('/admin/evaluations')).body)
    t.same(
      list
        .querySelectorAll('tbody tr')
        .map((row) => [
          text(row.querySelector('th')?.text),
          text(row.querySelector('[data-label="État"]')?.text),
        ]),
      [
        ['Léa Dupont', 'Brouillon'],
        ['Léa Martin', 'Publiée'],
      ],
      'drafts included',
    )
    for (const [query, expected] of [
      ['etat=published', ['Léa Martin']],
      ['etat=draft', ['Léa Dupont']],
      ['periode=T2', []],
      [`cours=${site.violin.id}`, []],
      [`cours=${piano.id}&periode=T1`, ['Léa Dupont', 'Léa Martin']],
    ] as const) {
      const filtered = html((await browsers.staff.get(`/admin/evaluations?${query}`)).body)
      t.same(
        filtered.querySelectorAll('tbody tr th').map((th) => text(th.text)),
        expected,
        query,
      )
    }
    const teachers = html((await browsers.staff.get('/admin/evaluations')).body)
      .querySelectorAll('#enseignant option')
      .map((o) => o.text)
    t.same(teachers, ['Tous les enseignants', 'Marc Petit', 'Hélène Rivière'], 'the year’s teachers, by name')

    const em = site.app.orm.em.fork({ schema: schemaFor(site.slug) })
    const evaluation = await em.findOneOrFail(Evaluation, { enrolment: lea.id })
    const url = `/admin/evaluations/${evaluation.id}`
    const one = html((await browsers.staff.get(url)).body)
    t.match(text(one.querySelector('main')?.text), 'Bon trimestre.')
    t.match(text(one.querySelector('main')?.text), 'Hélène Rivière')

    // a request without its message is answered beside the field
    const empty = await browsers.staff.submit(url, `${url}/correction`, { message: '  ' })
    t.equal(empty.statusCode, 400)
    t.equal(
      html(empty.body).querySelector('#message-error')?.text,
      'Écrivez ce que l’enseignant doit corriger.',
    )

    const asked = await browsers.staff.submit(url, `${url}/correction`, {
      message: 'Merci de préciser les pièces travaillées.',
    })
    t.equal(asked.statusCode, 303)
    t.match(
      text(
        html((await browsers.staff.get(asked.headers.location as string)).body).querySelector('main')?.text,
      ),
      'Correction demandée : l’enseignant a été prévenu.',
    )

    const [mail] = await site.outbox('evaluation-correction')
    t.equal(mail?.recipient, 'prof@example.fr')
    t.match(mail?.text, 'Merci de préciser les pièces travaillées.')
    t.match(mail?.text, `/enseignant/cours/${piano.id}/evaluations?periode=T1#eleve-${lea.id}`)

    await em.refresh(evaluation)
    t.equal(evaluation.status, 'draft', 'back to draft')
    const requested = html((await browsers.staff.get('/admin/evaluations?etat=correction')).body)
    t.same(
      requested.querySelectorAll('tbody tr th').map((th) => text(th.text)),
      ['Léa Martin'],
    )
    const audit = await em.find(AuditEvent, { action: 'evaluation.correctionRequested' })
    t.equal(audit.length, 1, 'audited')

    const family = html((await browsers.martin.get(`/eleves/${site.martin.pupil.id}/cours/${lea.id}`)).body)
    t.notMatch(
      text(family.querySelector('.evaluations')?.text),
      'Bon trimestre.',
      'the family no longer reads it',
    )

    const teacher = html((await browsers.prof.get(pageOf(piano.id))).body)
    const card = teacher.querySelector(`#eleve-${lea.id}`)!
    t.match(
      text(card.querySelector('.correction-request')?.text),
      'Merci de préciser les pièces travaillées.',
    )
    t.match(text(card.querySelector('h2')?.text), 'Brouillon')
    t.same(
      card.querySelectorAll('button').map((b) => b.text),
      ['Enregistrer le brouillon', 'Publier'],
    )

    // published again, the request is answered
    await fill(browsers.prof, piano.id, lea.id, {
      appreciation: 'Bon trimestre : Clementi, Bartók.',
      action: 'publish',
    })
    const again = html((await browsers.prof.get(pageOf(piano.id))).body)
    t.notOk(again.querySelector(`#eleve-${lea.id} .correction-request`), 'the request is gone')
  },
)

t.test('bad input is answered beside the field, with what was typed', async (t) => {
  const site = await evaluationSite(t)
  const { browsers, piano, lea } = site
  const long = 'a'.repeat(2001)
  const tooLong = await fill(browsers.prof, piano.id, lea.id, { appreciation: long, action: 'draft' })
  t.equal(tooLong.statusCode, 400)
  let card = html(tooLong.body).querySelector(`#eleve-${lea.id}`)!
  t.equal(
    card.querySelector(`#e${lea.id}-appreciation-error`)?.text,
    'Le texte fait 2001 caractères : 2000 au plus.',
  )
  t.equal(card.querySelector('textarea')?.text, long, 'the text typed is kept')

  const unknown = await fill(browsers.prof, piano.id, lea.id, {
    appreciation: 'Bien.',
    level: 'Excellentissime',
    'criterion-1': 'parfait',
    action: 'publish',
  })
  t.equal(unknown.statusCode, 400)
  card = html(unknown.body).querySelector(`#eleve-${lea.id}`)!
  t.equal(card.querySelector(`#e${lea.id}-level-error`)?.text, 'Choisissez un des niveaux de la liste.')
  t.match(
    text(card.querySelectorAll('fieldset')[1]?.querySelector('.field__error')?.text),
    'Choisissez acquis, en cours d’acquisition, non acquis ou non évalué.',
  )
  t.equal(card.querySelector('textarea')?.text, 'Bien.')

  const empty = await fill(browsers.prof, piano.id, lea.id, { appreciation: '', action: 'publish' })
  t.equal(empty.statusCode, 400)
  t.equal(
    html(empty.body).querySelector(`#e${lea.id}-appreciation-error`)?.text,
    'Écrivez l’appréciation avant de publier.',
  )

  const period = await fill(browsers.prof, piano.id, lea.id, {
    periode: 'T9',
    appreciation: 'Bien.',
    action: 'draft',
  })
  t.equal(period.statusCode, 400)
  card = html(period.body).querySelector(`#eleve-${lea.id}`)!
  t.match(text(card.text), 'Cette période n’existe pas : choisissez-en une dans la liste.')
  t.equal(card.querySelector('textarea')?.text, 'Bien.')

  t.equal(await site.app.orm.em.fork({ schema: schemaFor(site.slug) }).count(Evaluation), 0, 'nothing saved')
  t.equal((await browsers.prof.get(pageOf(piano.id, 'T9'))).statusCode, 404, 'an unknown period’s page')
})

t.test('the bulletin lists the period’s published evaluations', async (t) => {
  const site = await evaluationSite(t)
  const { browsers, piano, lea } = site
  await fill(browsers.prof, piano.id, lea.id, {
    appreciation: 'Beau son, travail régulier.',
    level: 'Très bien',
    'criterion-0': 'acquired',
    'criterion-1': 'notAcquired',
    action: 'publish',
  })
  const res = await browsers.martin.get(`/eleves/${site.martin.pupil.id}/bulletins/T1.pdf`)
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'application/pdf')
  t.match(res.headers['content-disposition'], 'attachment; filename=bulletin-T1-2026-2027-martin-lea.pdf')
  const content = await pdfText(res.rawPayload)
  for (const expected of [
    'Bulletin — 1er trimestre',
    'Élève : Léa Martin',
    'Période : 1er trimestre, année scolaire 2026-2027',
    'Piano 1C2',
    'Enseignant : Hélène Rivière',
    'Niveau : Très bien',
    'Justesse : acquis',
    'Rythme : non acquis',
    'Beau son, travail régulier.',
    'Madame Camille Martin',
  ])
    t.match(content, expected)

  // a draft of the Duponts' Léa is on no bulletin
  await fill(browsers.prof, piano.id, site.other.id, { appreciation: 'Brouillon secret.', action: 'draft' })
  const familyPage = html((await browsers.staff.get(`/admin/familles/${site.dupont.family.id}`)).body)
  t.same(
    familyPage.querySelectorAll('.bulletins a').map((a) => a.getAttribute('href')),
    ['T1', 'T2', 'T3'].map((code) => `/admin/eleves/${site.dupont.pupil.id}/bulletins/${code}.pdf`),
    'staff reach the bulletins from the family’s page',
  )
  const staff = await browsers.staff.get(`/admin/eleves/${site.dupont.pupil.id}/bulletins/T1.pdf`)
  t.equal(staff.statusCode, 200, 'staff download any pupil’s')
  const dupont = await pdfText(staff.rawPayload)
  t.notMatch(dupont, 'Brouillon secret.')
  t.match(dupont, 'Aucune évaluation publiée pour cette période.')
})

t.test('isolation: other tenants, other teachers, other families, other roles', async (t) => {
  const site = await evaluationSite(t)
  const { app, browsers, piano, violin, lea, violinLesson } = site
  await fill(browsers.prof, piano.id, lea.id, { appreciation: 'Bon trimestre.', action: 'publish' })
  const evaluation = await app.orm.em
    .fork({ schema: schemaFor(site.slug) })
    .findOneOrFail(Evaluation, { enrolment: lea.id })

  // another teacher's course, or a pupil of another course, is unknown
  t.equal((await browsers.prof.get(pageOf(violin.id))).statusCode, 404)
  t.equal((await browsers.prof2.get(pageOf(piano.id))).statusCode, 404)
  const token = html((await browsers.prof.get(pageOf(piano.id))).body)
    .querySelector('input[name="_csrf"]')!
    .getAttribute('value')!
  const foreign = await browsers.prof.post(`/enseignant/cours/${violin.id}/evaluations/${violinLesson.id}`, {
    _csrf: token,
    periode: 'T1',
    appreciation: 'Intrus.',
    action: 'publish',
  })
  t.equal(foreign.statusCode, 404, 'another teacher’s course')
  const otherPupil = await browsers.prof.post(
    `/enseignant/cours/${piano.id}/evaluations/${violinLesson.id}`,
    {
      _csrf: token,
      periode: 'T1',
      appreciation: 'Intrus.',
      action: 'publish',
    },
  )
  t.equal(otherPupil.statusCode, 404, 'a pupil not in the course')

  // another family's pupil's bulletin
  t.equal((await browsers.dupont.get(`/eleves/${site.martin.pupil.id}/bulletins/T1.pdf`)).statusCode, 404)
  t.equal((await browsers.martin.get(`/eleves/${site.martin.pupil.id}/bulletins/T9.pdf`)).statusCode, 404)

  // families and teachers on the staff pages
  for (const who of ['martin', 'prof'] as const) {
    t.equal((await browsers[who].get('/admin/evaluations')).statusCode, 403, `${who} on the list`)
    t.equal((await browsers[who].get(`/admin/evaluations/${evaluation.id}`)).statusCode, 403)
    t.equal(
      (await browsers[who].get(`/admin/eleves/${site.martin.pupil.id}/bulletins/T1.pdf`)).statusCode,
      403,
    )
    t.equal(
      (
        await browsers[who].post(`/admin/evaluations/${evaluation.id}/correction`, {
          _csrf: token,
          message: 'x',
        })
      ).statusCode,
      403,
    )
  }
  t.equal((await browsers.staff.get(pageOf(piano.id))).statusCode, 403, 'staff on the teacher’s page')

  // the same addresses on another tenant's host, by its own teacher, family and staff, know none of it
  const elsewhere = site.tenants[1]!
  await createAccount(app, elsewhere, { identifiant: 'prof', role: 'teacher' })
  await createAccount(app, elsewhere, { identifiant: 'secretariat', role: 'secretariat' })
  // a family first, so that the Martins of there have no pupil of the id the Martins of here have
  await createFamily(app, elsewhere, 'famille-premiere', 'Premier')
  const there = await createFamily(app, elsewhere, 'famille-martin', 'Martin')
  t.not(there.pupil.id, site.martin.pupil.id)
  for (const [who, path, url] of [
    ['prof', '/enseignant/connexion', pageOf(piano.id)],
    ['famille-martin', '/connexion', `/eleves/${site.martin.pupil.id}/bulletins/T1.pdf`],
    ['secretariat', '/admin/connexion', `/admin/evaluations/${evaluation.id}`],
  ] as const) {
    const browser = await signedInBrowser(app, site.host(1), who, path)
    t.equal((await browser.get(url)).statusCode, 404, `${who} ${url} on another tenant`)
  }
})
