import t from 'tap'
import { OfferItem, PlaceRequest } from '../../../src/features/places/entities.ts'
import { tokenHashOf } from '../../../src/features/places/service.ts'
import { Preregistration } from '../../../src/features/preregistration/entities.ts'
import { Pupil } from '../../../src/features/pupils/entities.ts'
import { Course, Enrolment, SchoolYear } from '../../../src/features/teaching/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser, createAccount, goodPassword } from '../../helpers/accounts.ts'
import { build, html } from '../../helpers/build.ts'
import { dossierLink, fieldValue, filledForm, postForm } from '../../helpers/preregistration.ts'
import { demoTenant } from '../../helpers/reenrolment.ts'
import { startInbox } from '../../helpers/smtp.ts'

const text = (value: string | undefined) => (value ?? '').replace(/\s+/g, ' ').trim()
const day = 24 * 60 * 60 * 1000

t.test(
  'pré-inscription: choices among the offer, requests on confirmation, the answer link, the decision',
  async (t) => {
    const inbox = await startInbox(t)
    const built = await build(t, {
      tenants: [demoTenant('limoges'), demoTenant('limoges')],
      env: { SMTP_URL: inbox.url },
    })
    const { app } = built
    const slug = built.tenants[0]!.slug
    const em = () => app.orm.em.fork({ schema: schemaFor(slug) })

    const setup = em()
    setup.create(SchoolYear, {
      label: '2026-2027',
      startsOn: '2026-09-01',
      endsOn: '2027-08-31',
      current: true,
    })
    const next = setup.create(SchoolYear, {
      label: '2027-2028',
      startsOn: '2027-09-01',
      endsOn: '2028-08-31',
    })
    const pianoCourse = setup.create(Course, {
      schoolYear: next,
      discipline: 'piano',
      establishment: built.tenants[0]!.establishments[0]!.code,
      name: 'Piano 1C1',
    })
    await setup.flush()
    const item = (label: string, discipline: string, extra: Record<string, unknown> = {}) =>
      setup.create(OfferItem, {
        schoolYear: next,
        label,
        discipline,
        seats: 1,
        publishedAt: new Date(),
        ...extra,
      } as OfferItem)
    const piano = item('Piano — débutant', 'piano', { minAge: 7, maxAge: 12, courseIds: [pianoCourse.id] })
    const violin = item('Violon — débutant', 'violon')
    item('Cor — 2e cycle', 'cor', { accepts: 'reenrolment' })
    item('Harpe', 'harpe', { publishedAt: null })
    await setup.flush()

    const family = new Browser(app, built.host())
    const form = html((await family.get('/preinscription')).body)
    t.same(
      form.querySelectorAll('#p0-choice1 option').map((o) => text(o.text)),
      ['Choisir…', 'Piano — débutant', 'Violon — débutant'],
      'the published items open to pré-inscriptions, instead of the disciplines',
    )

    const tooYoung = await postForm(
      family,
      '/preinscription',
      filledForm({
        'p0-choice1': String(piano.id),
        'p0-choice2': String(violin.id),
        'p1-birthDate': '2022-01-01',
        'p1-choice1': String(piano.id),
      }),
    )
    t.equal(tooYoung.statusCode, 400)
    t.equal(
      text(html(tooYoung.body).querySelector('#p1-choice1-error')?.text),
      'Ce cours n’est pas proposé pour cette date de naissance : choisissez-en un dans la liste.',
    )
    t.equal(fieldValue(tooYoung.body, 'p1-choice1'), String(piano.id), 'what was chosen is kept')
    const twice = await postForm(
      family,
      '/preinscription',
      filledForm({
        'p0-choice1': String(violin.id),
        'p0-choice2': String(violin.id),
        'p1-choice1': String(violin.id),
      }),
    )
    t.equal(twice.statusCode, 400)
    t.ok(html(twice.body).querySelector('#p0-choice2-error'), 'a choice made twice')

    const saved = await postForm(
      family,
      '/preinscription',
      filledForm({
        'p0-choice1': String(piano.id),
        'p0-choice2': String(violin.id),
        'p1-choice1': String(violin.id),
      }),
    )
    t.equal(saved.statusCode, 303)
    const dossier = await em().findOneOrFail(Preregistration, { email: 'claire.durand@example.fr' })
    t.same(
      dossier.applicants.map((a) => [a.offerChoices, a.choices]),
      [
        [
          [piano.id, violin.id],
          ['piano', 'violon'],
        ],
        [[violin.id], ['violon']],
      ],
      'the items, and their disciplines for the staff’s lists',
    )
    t.equal(await em().count(PlaceRequest), 0, 'nothing asked before the confirmation')

    const ack = await inbox.waitFor((m) =>
      m.subject.endsWith(`Pré-inscription n° ${dossier.id} : dossier enregistré`),
    )
    const { path } = dossierLink(ack)
    t.equal(
      fieldValue((await family.get(path)).body, 'p0-choice2'),
      String(violin.id),
      'the link shows the items',
    )
    t.equal((await family.submit(path, path, { action: 'confirm', confirmed: 'true' })).statusCode, 303)
    const confirmed = await em().findOneOrFail(Preregistration, dossier.id)
    const requests = await em().find(PlaceRequest, {}, { orderBy: { applicant: 'asc', rank: 'asc' } })
    t.same(
      requests.map((r) => [r.source, r.preregistration?.id, r.applicant, r.name, r.item.id, r.rank, r.state]),
      [
        ['preregistration', dossier.id, 0, 'Léa Durand', piano.id, 1, 'waiting'],
        ['preregistration', dossier.id, 0, 'Léa Durand', violin.id, 2, 'waiting'],
        ['preregistration', dossier.id, 1, 'Hugo Durand', violin.id, 1, 'waiting'],
      ],
    )
    t.equal(requests[0]!.requestedAt.getTime(), confirmed.confirmedAt!.getTime())

    // seats offered: the links of the offer mails
    const [leaPiano, leaViolin, hugoViolin] = requests
    const answerBy = new Date(Date.now() + 5 * day)
    await em().nativeUpdate(
      PlaceRequest,
      { id: leaPiano!.id },
      { state: 'proposed', answerBy, offeredAt: new Date(), tokenHash: tokenHashOf('jeton-lea-piano') },
    )
    await em().nativeUpdate(
      PlaceRequest,
      { id: hugoViolin!.id },
      { state: 'proposed', answerBy, offeredAt: new Date(), tokenHash: tokenHashOf('jeton-hugo-violon') },
    )
    const stranger = new Browser(app, built.host())
    const offerPage = await stranger.get('/places/reponse/jeton-lea-piano')
    t.equal(offerPage.statusCode, 200)
    const offer = html(offerPage.body)
    t.equal(text(offer.querySelector('h1')?.childNodes[0]?.text), 'Une place vous est proposée')
    t.match(text(offer.querySelector('.panel')?.text), /Léa Durand — Piano — débutant/)
    t.match(text(offer.querySelector('.panel')?.text), /à accepter avant le \d{2}\/\d{2}\/\d{4}/)
    t.equal((await stranger.get('/places/reponse/jeton-inconnu')).statusCode, 404)
    t.equal(
      (await new Browser(app, built.host(1)).get('/places/reponse/jeton-lea-piano')).statusCode,
      404,
      'another tenant’s host',
    )

    const accepted = await stranger.submit(
      '/places/reponse/jeton-lea-piano',
      '/places/reponse/jeton-lea-piano/accepter',
      {},
    )
    t.equal(accepted.statusCode, 200)
    t.match(text(html(accepted.body).querySelector('.alert--success')?.text), 'Place acceptée')
    t.equal((await em().findOneOrFail(PlaceRequest, leaPiano!.id)).state, 'accepted')
    t.equal(
      (await em().findOneOrFail(PlaceRequest, leaViolin!.id)).state,
      'closed',
      'her second choice not needed',
    )
    const again = await stranger.get('/places/reponse/jeton-lea-piano')
    t.notOk(html(again.body).querySelector('form[action$="/accepter"]'), 'answered once')
    t.match(text(html(again.body).querySelector('.state')?.text), 'acceptée')

    const declined = await stranger.submit(
      '/places/reponse/jeton-hugo-violon',
      '/places/reponse/jeton-hugo-violon/refuser',
      {},
    )
    t.equal(declined.statusCode, 200)
    t.equal((await em().findOneOrFail(PlaceRequest, hugoViolin!.id)).state, 'declined')
    const late = await stranger.post('/places/reponse/jeton-hugo-violon/accepter', {
      _csrf: offer.querySelector('input[name="_csrf"]')!.getAttribute('value')!,
    })
    t.equal(late.statusCode, 409, 'a declined seat cannot be accepted')

    // the dossier's page: each applicant's requests, their states
    const dossierPage = html((await family.get(path)).body)
    t.same(
      dossierPage.querySelectorAll('.place-request').map((li) => text(li.text)),
      [
        'Choix 1 — Piano — débutant : acceptée',
        'Choix 2 — Violon — débutant : non nécessaire',
        'Choix 1 — Violon — débutant : refusée',
      ],
    )

    // staff accept the dossier: the requests follow the pupils, the seat accepted enrols Léa
    await createAccount(app, slug, { identifiant: 'secretariat', role: 'secretariat' })
    const office = new Browser(app, built.host())
    await office.submit('/admin/connexion', '/admin/connexion', {
      identifiant: 'secretariat',
      password: goodPassword,
    })
    const url = `/admin/preinscriptions/${dossier.id}`
    t.equal((await office.submit(url, url, { decision: 'accepted' })).statusCode, 303)
    const lea = await em().findOneOrFail(Pupil, { firstName: 'Léa', lastName: 'Durand' })
    const linked = await em().findOneOrFail(PlaceRequest, leaPiano!.id)
    t.equal(linked.pupil?.id, lea.id)
    t.equal(linked.family?.id, lea.family.id)
    t.ok(
      await em().findOne(Enrolment, { pupil: lea.id, course: pianoCourse.id, active: true }),
      'Léa enrolled',
    )

    // a refused dossier withdraws its requests
    const other = new Browser(app, built.host())
    const second = await postForm(
      other,
      '/preinscription',
      filledForm({
        'g1-email': 'anne.roux@example.fr',
        confirmEmail: 'anne.roux@example.fr',
        'g1-lastName': 'Roux',
        'p0-lastName': 'Roux',
        'p1-lastName': 'Roux',
        'p0-choice1': String(violin.id),
        'p0-choice2': '',
        'p1-choice1': String(violin.id),
      }),
    )
    t.equal(second.statusCode, 303)
    const roux = await em().findOneOrFail(Preregistration, { email: 'anne.roux@example.fr' })
    const rouxAck = await inbox.waitFor((m) =>
      m.subject.endsWith(`Pré-inscription n° ${roux.id} : dossier enregistré`),
    )
    const rouxPath = dossierLink(rouxAck).path
    t.equal(
      (await other.submit(rouxPath, rouxPath, { action: 'confirm', confirmed: 'true' })).statusCode,
      303,
    )
    t.equal(await em().count(PlaceRequest, { preregistration: roux.id, state: 'waiting' }), 2)
    const rouxUrl = `/admin/preinscriptions/${roux.id}`
    t.equal(
      (await office.submit(rouxUrl, rouxUrl, { decision: 'refused', reason: 'Hors secteur.' })).statusCode,
      303,
    )
    t.same(
      (await em().find(PlaceRequest, { preregistration: roux.id })).map((r) => r.state),
      ['withdrawn', 'withdrawn'],
    )
  },
)
