/** What the lessons' tests share: tenants with a calendar, a year, teachers, a course on Wednesdays, families. */
import type { FastifyInstance } from 'fastify'
import { Guardian } from '../../../src/features/family/entities.ts'
import { Pupil } from '../../../src/features/pupils/entities.ts'
import { Course, Enrolment, SchoolYear, Teacher } from '../../../src/features/teaching/entities.ts'
import { AuditEvent } from '../../../src/platform/audit/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser, createAccount, goodPassword } from '../../helpers/accounts.ts'
import { build } from '../../helpers/build.ts'
import { createFamily } from '../../helpers/families.ts'

interface Teardown {
  teardown(fn: () => unknown): void
}

export const text = (value: string | undefined) => (value ?? '').replace(/\s+/g, ' ').trim()

export const tenant = {
  disciplines: [{ code: 'piano', name: 'Piano', domain: 'music' }],
  calendar: {
    zone: 'A',
    holidays: [{ label: 'Vacances de Noël', from: '2026-12-19', to: '2027-01-03' }],
  },
}

/**
 * One app for a file: tenants with a Christmas holiday, each with the years 2025-2026 and 2026-2027
 * (current), the teacher Hélène Rivière (account "prof") teaching "Piano 1C1" on Wednesdays from
 * 14:00 to 14:30 in "Salle 3", a second teacher, a secretariat account, and two families whose
 * pupils follow the course. The Durand family's second guardian has an e-mail address too.
 */
export async function lessonsWorld(t: Teardown, options: { tenants?: number; env?: NodeJS.ProcessEnv } = {}) {
  const built = await build(t, {
    tenants: Array.from({ length: options.tenants ?? 1 }, () => tenant),
    env: options.env,
  })
  const { app, tenants } = built
  const schools = []
  for (const { slug } of tenants) {
    const martin = await createFamily(app, slug, 'famille-martin', 'Martin')
    const durand = await createFamily(app, slug, 'famille-durand', 'Durand')
    const profAccount = await createAccount(app, slug, { identifiant: 'prof', role: 'teacher' })
    await createAccount(app, slug, { identifiant: 'secretariat', role: 'secretariat' })
    const em = app.orm.em.fork({ schema: schemaFor(slug) })
    const year = em.create(SchoolYear, {
      label: '2026-2027',
      startsOn: '2026-09-01',
      endsOn: '2027-07-03',
      current: true,
    })
    const lastYear = em.create(SchoolYear, {
      label: '2025-2026',
      startsOn: '2025-09-01',
      endsOn: '2026-07-04',
    })
    const teacher = em.create(Teacher, { firstName: 'Hélène', lastName: 'Rivière', account: profAccount })
    const other = em.create(Teacher, { firstName: 'Paul', lastName: 'Durand' })
    const course = em.create(Course, {
      schoolYear: year,
      discipline: 'piano',
      establishment: 'centre',
      name: 'Piano 1C1',
      teacher,
      slots: [{ day: 3, start: '14:00', end: '14:30' }],
      slot: 'Mercredi 14h00 – 14h30',
      room: 'Salle 3',
    })
    const pastCourse = em.create(Course, {
      schoolYear: lastYear,
      discipline: 'piano',
      establishment: 'centre',
      name: 'Piano éveil',
      teacher,
      slots: [{ day: 3, start: '14:00', end: '14:30' }],
    })
    const durandPupil = await em.findOneOrFail(Pupil, durand.pupil.id)
    durandPupil.firstName = 'Hugo'
    const second = await em.findOneOrFail(Guardian, durand.second.id)
    second.email = 'thomas.durand@example.fr'
    const enrolment = em.create(Enrolment, { pupil: martin.pupil.id, course })
    const durandEnrolment = em.create(Enrolment, { pupil: durand.pupil.id, course })
    const pastEnrolment = em.create(Enrolment, { pupil: martin.pupil.id, course: pastCourse })
    await em.flush()
    schools.push({
      slug,
      year,
      teacher,
      other,
      course,
      pastCourse,
      martin,
      durand,
      enrolment,
      durandEnrolment,
      pastEnrolment,
    })
  }
  return { ...built, schools, ...schools[0]! }
}

/** Staff signed in at /admin/connexion. */
export async function staffBrowser(app: FastifyInstance, host: string, identifiant = 'secretariat') {
  const browser = new Browser(app, host)
  const res = await browser.submit('/admin/connexion', '/admin/connexion', {
    identifiant,
    password: goodPassword,
    site: 'centre',
  })
  if (res.statusCode !== 303) throw new Error(`sign-in of ${identifiant}: ${res.statusCode}`)
  return browser
}

/** The audit events of one action, oldest first. */
export const audits = (app: FastifyInstance, slug: string, action: string) =>
  app.orm.em.fork({ schema: schemaFor(slug) }).find(AuditEvent, { action }, { orderBy: { id: 'asc' } })
