import type { FastifyInstance } from 'fastify'
import { AbsenceNotice, Attendance, Lesson } from '../../src/features/lessons/entities.ts'
import type { Pupil } from '../../src/features/pupils/entities.ts'
import { RepertoireEntry, SchoolEvent } from '../../src/features/repertoire/entities.ts'
import { Course, Enrolment, Evaluation, SchoolYear, Teacher } from '../../src/features/teaching/entities.ts'
import { schemaFor } from '../../src/platform/tenancy/registry.ts'

/**
 * A pupil's schooling: this year's clarinet lesson with a published report and an absence, last year's
 * formation musicale, and a concert where the pupil played.
 */
export async function createSchooling(app: FastifyInstance, slug: string, pupil: Pupil) {
  const em = app.orm.em.fork({ schema: schemaFor(slug) })
  const [current, past] = await Promise.all([
    em.findOne(SchoolYear, { current: true }),
    em.findOne(SchoolYear, { label: '2025-2026' }),
  ])
  const year =
    current ??
    em.create(SchoolYear, { label: '2026-2027', startsOn: '2026-09-01', endsOn: '2027-08-31', current: true })
  const lastYear =
    past ??
    em.create(SchoolYear, {
      label: '2025-2026',
      startsOn: '2025-09-01',
      endsOn: '2026-08-31',
      current: false,
    })
  const teacher = em.create(Teacher, { firstName: 'Hélène', lastName: 'Rivière' })
  const clarinet = em.create(Course, {
    schoolYear: year,
    discipline: 'clarinette',
    establishment: 'centre',
    name: 'Clarinette 1C2',
    cycle: '1C2',
    teacher,
    slot: 'Mercredi 14h00 – 14h30',
  })
  const fm = em.create(Course, {
    schoolYear: lastYear,
    discipline: 'formation-musicale',
    establishment: 'centre',
    name: 'FM 1C1',
    cycle: '1C1',
    teacher,
    slot: 'Mercredi 11h00 – 12h00',
  })
  const enrolment = em.create(Enrolment, { pupil, course: clarinet })
  const pastEnrolment = em.create(Enrolment, { pupil, course: fm })
  em.create(Evaluation, {
    enrolment,
    period: 'T1',
    term: '1er trimestre',
    givenOn: '2026-11-20',
    status: 'published',
    publishedAt: new Date('2026-11-20T17:00:00Z'),
    appreciation: 'Beau son, travail régulier.',
    grade: 'A',
  })
  // the roll call of 7 October recorded the absence the family had announced
  const lesson = em.create(Lesson, {
    course: clarinet,
    on: '2026-10-07',
    slot: 0,
    calledAt: new Date('2026-10-07T13:00:00Z'),
  })
  em.create(Attendance, { lesson, enrolment, status: 'excused' })
  em.create(AbsenceNotice, { lesson, enrolment, reason: 'Maladie' })
  em.create(Evaluation, {
    enrolment: pastEnrolment,
    period: 'T3',
    term: '3e trimestre',
    givenOn: '2026-06-19',
    status: 'published',
    publishedAt: new Date('2026-06-19T17:00:00Z'),
    appreciation: 'Lecture de notes solide.',
    grade: 'B',
  })
  const concert = em.create(SchoolEvent, {
    schoolYear: lastYear,
    title: 'Concert de printemps',
    heldOn: '2026-04-03',
    place: 'Auditorium',
  })
  em.create(RepertoireEntry, {
    event: concert,
    pupil,
    piece: 'Berceuse',
    author: 'Gabriel Fauré',
    part: 'Clarinette',
  })
  await em.flush()
  return { year, lastYear, enrolment, pastEnrolment, concert }
}
