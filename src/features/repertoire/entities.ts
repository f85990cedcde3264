import { defineEntity, type InferEntity, p } from '@mikro-orm/core'
import { TenantEntity } from '../../platform/db/base-entity.ts'
import { Pupil } from '../pupils/entities.ts'
import { Course, SchoolYear, Teacher } from '../teaching/entities.ts'

/** A concert, audition, gala or performance that pupils take part in. */
export const SchoolEvent = defineEntity({
  name: 'SchoolEvent',
  schema: '*',
  tableName: 'school_event',
  extends: TenantEntity,
  indexes: [{ properties: 'schoolYear' }],
  properties: {
    schoolYear: () => p.manyToOne(SchoolYear),
    title: p.string(),
    heldOn: p.date(),
    place: p.string().nullable(),
  },
})
export type SchoolEvent = InferEntity<typeof SchoolEvent>

/** What a pupil performed at an event: the Répertoire tab of the pupil's file. */
export const RepertoireEntry = defineEntity({
  name: 'RepertoireEntry',
  schema: '*',
  tableName: 'repertoire_entry',
  extends: TenantEntity,
  indexes: [{ properties: 'pupil' }],
  properties: {
    event: () => p.manyToOne(SchoolEvent).deleteRule('cascade'),
    pupil: () => p.manyToOne(Pupil).deleteRule('cascade'),
    /** The piece, choreography or play, e.g. "Sonatine" or "Le Petit Prince (extraits)". */
    piece: p.string(),
    /** Composer, choreographer or author. */
    author: p.string().nullable(),
    /** The pupil's part: instrument, ensemble or role. */
    part: p.string().nullable(),
  },
})
export type RepertoireEntry = InferEntity<typeof RepertoireEntry>

/** The musical periods a teacher files a piece under (docs/decisions.md, "Répertoire: pieces"). */
export const piecePeriods = [
  'medieval-renaissance',
  'baroque',
  'classique',
  'romantique',
  'xxe',
  'contemporain',
  'jazz',
  'musiques-actuelles',
  'traditionnel',
] as const
export type PiecePeriod = (typeof piecePeriods)[number]

export const pieceStates = ['in_progress', 'performed'] as const
export type PieceState = (typeof pieceStates)[number]

/**
 * A piece a pupil works with a teacher: the Répertoire tab's "Pièces travaillées". The teacher who
 * added it changes it; it stays with the pupil when the course ends or the teacher leaves.
 */
export const RepertoirePiece = defineEntity({
  name: 'RepertoirePiece',
  schema: '*',
  tableName: 'repertoire_piece',
  extends: TenantEntity,
  indexes: [{ properties: 'pupil' }],
  properties: {
    pupil: () => p.manyToOne(Pupil).deleteRule('cascade'),
    /** The course the piece is worked in; null once that course is deleted. */
    course: () => p.manyToOne(Course).nullable().deleteRule('set null'),
    addedBy: () => p.manyToOne(Teacher).nullable().deleteRule('set null'),
    title: p.string().length(200),
    composer: p.string().length(150).nullable(),
    period: p.string().length(30).nullable(),
    startedOn: p.date(),
    state: p.enum([...pieceStates]).default('in_progress'),
    performedOn: p.date().nullable(),
  },
})
export type RepertoirePiece = InferEntity<typeof RepertoirePiece>
