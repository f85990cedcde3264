import type { Account } from '../../platform/auth/entities.ts'
import type { Em } from '../../platform/db/orm.ts'
import { Pupil } from '../pupils/entities.ts'
import { type Family, Guardian } from './entities.ts'

/** The guardian a family account belongs to, with their family; undefined if none is linked. */
export async function guardianOf(em: Em, account: Account): Promise<Guardian | undefined> {
  return (await em.findOne(Guardian, { account }, { populate: ['family'] })) ?? undefined
}

export async function pupilsOf(em: Em, family: Family): Promise<Pupil[]> {
  return em.find(Pupil, { family }, { orderBy: { birthDate: 'asc', firstName: 'asc' } })
}
