import { defineEntity, type InferEntity, p } from '@mikro-orm/core'
import { Account } from '../../platform/auth/entities.ts'
import { TenantEntity } from '../../platform/db/base-entity.ts'
import { Pupil } from '../pupils/entities.ts'

/** A school year such as 2026-2027; exactly one is current. */
export const SchoolYear = defineEntity({
  name: 'SchoolYear',
  schema: '*',
  extends: TenantEntity,
  properties: {
    label: p.string().length(9).unique(),
    startsOn: p.date(),
    endsOn: p.date(),
    current: p.boolean().default(false),
  },
})
export type SchoolYear = InferEntity<typeof SchoolYear>

export const Teacher = defineEntity({
  name: 'Teacher',
  schema: '*',
  extends: TenantEntity,
  properties: {
    lastName: p.string(),
    firstName: p.string(),
    email: p.string().nullable(),
    account: () => p.oneToOne(Account).nullable().owner(),
  },
})
export type Teacher = InferEntity<typeof Teacher>

/** One weekly slot of a course. */
export interface CourseSlot {
  /** 1 for Monday … 7 for Sunday. */
  day: number
  /** "17:00" */
  start: string
  end: string
}

/**
 * A course of one school year; its `cycle` is the level staff filter by ("Cycle 1", "FM 1C2").
 * Disciplines and establishments are part of the tenant's configuration (its YAML), so a course
 * refers to them by code.
 */
export const Course = defineEntity({
  name: 'Course',
  indexes: [{ properties: 'schoolYear' }, { properties: 'teacher' }],
  schema: '*',
  extends: TenantEntity,
  properties: {
    schoolYear: () => p.manyToOne(SchoolYear),
    discipline: p.string(),
    establishment: p.string(),
    /** The cursus shown to families, e.g. "Clarinette" or "FM 1C2". */
    name: p.string(),
    cycle: p.string().nullable(),
    teacher: () => p.manyToOne(Teacher).nullable(),
    /**
     * What families read, such as "Jeudi 17h00 – 18h00": written from `slots` when staff set them,
     * free text for courses imported before.
     */
    slot: p.string().nullable(),
    /** The weekly slots: day 1 (Monday) … 7, times as "HH:MM". */
    slots: p
      .json<CourseSlot[]>()
      .defaultRaw("'[]'")
      .onCreate(() => []),
    room: p.string().length(100).nullable(),
    /** Seats; null when the course takes everyone. */
    capacity: p.integer().nullable(),
    /** Set when staff close the course: it takes no more pupils and leaves the catalogue. */
    closedAt: p.datetime().nullable(),
    /**
     * The course of the year before that this one was copied from when staff prepared the year: a
     * course is copied once, and a re-enrolment's kept course (an id of that year) finds its copy.
     * An id rather than a relation: a self-reference defeats the inferred table types of the reads.
     */
    copiedFromId: p.integer().nullable().unique(),
  },
})
export type Course = InferEntity<typeof Course>

export const Enrolment = defineEntity({
  name: 'Enrolment',
  indexes: [{ properties: 'course' }],
  schema: '*',
  extends: TenantEntity,
  uniques: [{ properties: ['pupil', 'course'] }],
  properties: {
    pupil: () => p.manyToOne(Pupil),
    course: () => p.manyToOne(Course),
    active: p.boolean().default(true),
  },
})
export type Enrolment = InferEntity<typeof Enrolment>

/** Where an evaluation is: the teacher's draft, or published to the family. */
export const EvaluationStatus = { draft: 'draft', published: 'published' } as const
export type EvaluationStatus = (typeof EvaluationStatus)[keyof typeof EvaluationStatus]

/** How a criterion of the tenant's scale is rated. */
export const CriterionResult = {
  acquired: 'acquired',
  inProgress: 'inProgress',
  notAcquired: 'notAcquired',
} as const
export type CriterionResult = (typeof CriterionResult)[keyof typeof CriterionResult]

/** A criterion's rating, under the criterion's label as the tenant's scale named it then. */
export interface CriterionRating {
  criterion: string
  result: CriterionResult
}

/**
 * A teacher's evaluation of a pupil in a course for one period of the tenant's YAML: one per
 * enrolment and period. Written as a draft, then published to the family; staff may ask for a
 * correction, which sends it back to draft.
 */
export const Evaluation = defineEntity({
  name: 'Evaluation',
  indexes: [{ properties: 'enrolment' }, { properties: ['period', 'status'] }],
  uniques: [{ properties: ['enrolment', 'period'] }],
  schema: '*',
  extends: TenantEntity,
  properties: {
    enrolment: () => p.manyToOne(Enrolment),
    /**
     * The code of the period in the tenant's YAML (evaluations.periods); null only for evaluations
     * written before periods existed whose term matched none.
     */
    period: p.string().length(12).nullable(),
    /** The period's label when it was written, such as "1er trimestre": what families read. */
    term: p.string(),
    /** The day it was last saved or published. */
    givenOn: p.date(),
    appreciation: p.text(),
    /** A mark of evaluations written before the scale existed; the scale's `level` replaced it. */
    grade: p.string().nullable(),
    status: p.enum(Object.values(EvaluationStatus)).default(EvaluationStatus.draft),
    publishedAt: p.datetime().nullable(),
    /** The teacher's account that wrote it last. */
    author: () => p.manyToOne(Account).nullable(),
    /** One of the scale's levels, as labelled then. */
    level: p.string().length(40).nullable(),
    criteria: p
      .json<CriterionRating[]>()
      .defaultRaw("'[]'")
      .onCreate(() => []),
    /** What staff asked the teacher to correct, and who asked when; cleared when it is published again. */
    correction: p.text().nullable(),
    correctionRequestedAt: p.datetime().nullable(),
    correctionRequestedBy: () => p.manyToOne(Account).nullable(),
  },
})
export type Evaluation = InferEntity<typeof Evaluation>
