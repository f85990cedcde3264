import { sql } from 'kysely'
import { jsonArrayFrom } from 'kysely/helpers/postgres'
import { tenantDb } from '../../entities.ts'
import type { JsonOf } from '../../platform/db/reads.ts'

/** What the pupil performed, newest event first: a fragment of the Répertoire tab's read. */
export function repertoireOf(pupilId: number) {
  return jsonArrayFrom(
    tenantDb
      .selectFrom('repertoire_entry as r')
      .innerJoin('school_event as e', 'e.id', 'r.event_id')
      .select([
        'e.id as eventId',
        'e.title',
        'e.held_on as heldOn',
        'e.place',
        'r.piece',
        'r.author',
        'r.part',
      ])
      .where('r.pupil_id', '=', pupilId)
      .orderBy('e.held_on', 'desc')
      .orderBy('e.id')
      .orderBy('r.id'),
  )
}

type Performance = JsonOf<typeof repertoireOf>

/** The events the pupil took part in, each with what they performed there. */
export function byEvent(performances: readonly Performance[]) {
  const events = new Map<
    number,
    { event: Pick<Performance, 'title' | 'heldOn' | 'place'>; entries: Performance[] }
  >()
  for (const performance of performances) {
    const found = events.get(performance.eventId) ?? { event: performance, entries: [] }
    found.entries.push(performance)
    events.set(performance.eventId, found)
  }
  return [...events.values()]
}

/**
 * The pieces the pupil works or has performed, in every course: those in progress first (latest
 * started first), then those performed (latest first). A fragment of the Répertoire tabs' reads.
 */
export function piecesOf(pupilId: number) {
  return jsonArrayFrom(
    tenantDb
      .selectFrom('repertoire_piece as rp')
      .leftJoin('course as c', 'c.id', 'rp.course_id')
      .leftJoin('teacher as t', 't.id', 'rp.added_by_id')
      .select([
        'rp.id',
        'rp.title',
        'rp.composer',
        'rp.period',
        'rp.started_on as startedOn',
        'rp.state',
        'rp.performed_on as performedOn',
        'rp.added_by_id as addedById',
        'c.name as courseName',
        't.first_name as teacherFirstName',
        't.last_name as teacherLastName',
      ])
      .where('rp.pupil_id', '=', pupilId)
      .orderBy(sql`rp.state = 'performed'`)
      .orderBy(sql`coalesce(rp.performed_on, rp.started_on)`, 'desc')
      .orderBy('rp.id', 'desc'),
  )
}

export type WorkedPiece = JsonOf<typeof piecesOf>
