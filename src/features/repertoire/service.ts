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
