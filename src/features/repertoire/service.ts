import type { Em } from '../../platform/db/orm.ts'
import type { Pupil } from '../pupils/entities.ts'
import { RepertoireEntry, type SchoolEvent } from './entities.ts'

export interface RepertoireEvent {
  event: SchoolEvent
  entries: RepertoireEntry[]
}

/** The events the pupil took part in, newest first, each with what they performed there. */
export async function repertoireOf(em: Em, pupil: Pupil): Promise<RepertoireEvent[]> {
  const entries = await em.find(
    RepertoireEntry,
    { pupil },
    { populate: ['event'], orderBy: { event: { heldOn: 'desc', id: 'asc' }, id: 'asc' } },
  )
  const byEvent = new Map<number, RepertoireEvent>()
  for (const entry of entries) {
    const found = byEvent.get(entry.event.id) ?? { event: entry.event, entries: [] }
    found.entries.push(entry)
    byEvent.set(entry.event.id, found)
  }
  return [...byEvent.values()]
}
