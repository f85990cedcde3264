import type { FastifyInstance } from 'fastify'
import { Pupil } from '../../../src/features/pupils/entities.ts'
import { Course, Enrolment, SchoolYear, Teacher } from '../../../src/features/teaching/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { createAccount } from '../../helpers/accounts.ts'
import { createFamily } from '../../helpers/families.ts'

export const tenant = {
  disciplines: [
    { code: 'piano', name: 'Piano', domain: 'music' },
    { code: 'violon', name: 'Violon', domain: 'music' },
  ],
}

export const text = (value: string | undefined) => (value ?? '').replace(/\s+/g, ' ').trim()

/**
 * A school year with two teachers, each with a course and an account: Hélène Rivière teaches piano to
 * Léa Martin, Marc Durand teaches violin to Hugo Durand (another family). Léa also follows the violin.
 */
export async function createClasses(app: FastifyInstance, slug: string) {
  const martin = await createFamily(app, slug, 'famille-martin')
  const durand = await createFamily(app, slug, 'famille-durand', 'Durand')
  const heleneAccount = await createAccount(app, slug, { identifiant: 'prof-helene', role: 'teacher' })
  const marcAccount = await createAccount(app, slug, { identifiant: 'prof-marc', role: 'teacher' })
  const em = app.orm.em.fork({ schema: schemaFor(slug) })
  const year = em.create(SchoolYear, {
    label: '2026-2027',
    startsOn: '2026-09-01',
    endsOn: '2027-08-31',
    current: true,
  })
  const helene = em.create(Teacher, { firstName: 'Hélène', lastName: 'Rivière', account: heleneAccount.id })
  const marc = em.create(Teacher, { firstName: 'Marc', lastName: 'Durand', account: marcAccount.id })
  const piano = em.create(Course, {
    schoolYear: year,
    discipline: 'piano',
    establishment: 'centre',
    name: 'Piano 1C2',
    cycle: '1C2',
    teacher: helene,
    slots: [{ day: 3, start: '14:00', end: '14:30' }],
  })
  const violin = em.create(Course, {
    schoolYear: year,
    discipline: 'violon',
    establishment: 'centre',
    name: 'Violon 1C1',
    cycle: '1C1',
    teacher: marc,
    slots: [{ day: 2, start: '17:00', end: '17:30' }],
  })
  const lea = martin.pupil
  const hugo = durand.pupil
  hugo.firstName = 'Hugo'
  await em.nativeUpdate(Pupil, { id: hugo.id }, { firstName: 'Hugo' })
  const leaPiano = em.create(Enrolment, { pupil: lea.id, course: piano })
  const leaViolin = em.create(Enrolment, { pupil: lea.id, course: violin })
  const hugoViolin = em.create(Enrolment, { pupil: hugo.id, course: violin })
  await em.flush()
  return { martin, durand, year, helene, marc, piano, violin, lea, hugo, leaPiano, leaViolin, hugoViolin }
}
