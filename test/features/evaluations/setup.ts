import { Guardian } from '../../../src/features/family/entities.ts'
import { Course, Enrolment, SchoolYear, Teacher } from '../../../src/features/teaching/entities.ts'
import { OutboxMail } from '../../../src/platform/mail/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { createAccount, signedInBrowser } from '../../helpers/accounts.ts'
import { build } from '../../helpers/build.ts'
import { createFamily } from '../../helpers/families.ts'

/** A tenant's scale with levels and criteria, the default three terms. */
export const scaled = {
  evaluations: {
    periods: [
      { code: 'T1', label: '1er trimestre', from: '09-01', to: '12-31' },
      { code: 'T2', label: '2e trimestre', from: '01-01', to: '03-31' },
      { code: 'T3', label: '3e trimestre', from: '04-01', to: '08-31' },
    ],
    scale: { levels: ['Très bien', 'Bien', 'À consolider'], criteria: ['Justesse', 'Rythme'] },
  },
}

/**
 * Two tenants; in the first, the current year, Hélène Rivière (account "prof") teaching Piano to
 * the Martins' Léa and the Duponts' Léa, Marc Petit (account "prof2") teaching Violon to the
 * Duponts' Léa, and the secretariat ("secretariat"), with a signed-in browser each.
 */
export async function evaluationSite(t: { teardown(fn: () => unknown): void }) {
  const { app, host, tenants } = await build(t, { tenants: [scaled, {}] })
  const slug = tenants[0]!.slug
  const prof = await createAccount(app, slug, {
    identifiant: 'prof',
    role: 'teacher',
    displayName: 'Hélène Rivière',
  })
  const prof2 = await createAccount(app, slug, {
    identifiant: 'prof2',
    role: 'teacher',
    displayName: 'Marc Petit',
  })
  await createAccount(app, slug, {
    identifiant: 'secretariat',
    role: 'secretariat',
    displayName: 'Secrétariat',
  })
  const martin = await createFamily(app, slug, 'famille-martin', 'Martin')
  const dupont = await createFamily(app, slug, 'famille-dupont', 'Dupont')
  const em = app.orm.em.fork({ schema: schemaFor(slug) })
  const year = em.create(SchoolYear, {
    label: '2026-2027',
    startsOn: '2026-09-01',
    endsOn: '2027-08-31',
    current: true,
  })
  const teacher = em.create(Teacher, { firstName: 'Hélène', lastName: 'Rivière', account: prof.id })
  const teacher2 = em.create(Teacher, { firstName: 'Marc', lastName: 'Petit', account: prof2.id })
  const piano = em.create(Course, {
    schoolYear: year,
    discipline: 'piano',
    establishment: 'centre',
    name: 'Piano 1C2',
    teacher,
  })
  const violin = em.create(Course, {
    schoolYear: year,
    discipline: 'violon',
    establishment: 'centre',
    name: 'Violon 1C1',
    teacher: teacher2,
  })
  const lea = em.create(Enrolment, { pupil: martin.pupil.id, course: piano })
  const other = em.create(Enrolment, { pupil: dupont.pupil.id, course: piano })
  const violinLesson = em.create(Enrolment, { pupil: dupont.pupil.id, course: violin })
  await em.flush()
  // the Martins' second guardian has an address too: both are told of a new evaluation
  await em.nativeUpdate(Guardian, { id: martin.second.id }, { email: 'thomas.martin@example.fr' })
  const browsers = {
    prof: await signedInBrowser(app, host(), 'prof', '/enseignant/connexion'),
    prof2: await signedInBrowser(app, host(), 'prof2', '/enseignant/connexion'),
    staff: await signedInBrowser(app, host(), 'secretariat', '/admin/connexion'),
    martin: await signedInBrowser(app, host(), 'famille-martin'),
    dupont: await signedInBrowser(app, host(), 'famille-dupont'),
  }
  const outbox = async (template: string) =>
    app.orm.em.fork({ schema: schemaFor(slug) }).find(OutboxMail, { template }, { orderBy: { id: 'asc' } })
  return {
    app,
    host,
    slug,
    tenants: tenants.map((c) => c.slug),
    martin,
    dupont,
    piano,
    violin,
    lea,
    other,
    violinLesson,
    browsers,
    outbox,
  }
}

export type EvaluationSite = Awaited<ReturnType<typeof evaluationSite>>

/** The URL of the teacher's page of a course for a period. */
export const pageOf = (courseId: number, period = 'T1') =>
  `/enseignant/cours/${courseId}/evaluations?periode=${period}`
