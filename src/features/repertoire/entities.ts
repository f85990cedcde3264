import { defineEntity, type InferEntity, p } from '@mikro-orm/core'
import { TenantEntity } from '../../platform/db/base-entity.ts'
import { Pupil } from '../pupils/entities.ts'
import { SchoolYear } from '../teaching/entities.ts'

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
