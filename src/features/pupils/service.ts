import type { Em } from '../../platform/db/orm.ts'
import { NotFound } from '../../platform/http/errors.ts'
import type { Family } from '../family/entities.ts'
import { Pupil } from './entities.ts'
import { pupilFieldNames } from './identity.ts'

export {
  checkPupil,
  isMinor,
  pupilFieldNames,
  pupilFields,
  schoolLevels,
  schoolSpecials,
} from './identity.ts'

const yesNo = new Set(['useGuardianAddress', 'imageRights', 'exitAuthorization'])

/** The pupil's validated values, one string (or null) per field; yes/no answers are 'true' or 'false'. */
export function pupilValues(pupil: Pupil): Record<string, string | null> {
  const record = pupil as unknown as Record<string, string | boolean | null | undefined>
  const values: Record<string, string | null> = {}
  for (const name of pupilFieldNames) {
    const value = record[name]
    values[name] = value === null || value === undefined || value === '' ? null : String(value)
  }
  return values
}

export function setPupilValue(pupil: Pupil, name: string, value: string | null): void {
  if (!pupilFieldNames.includes(name)) throw new Error(`unknown pupil field ${name}`)
  const record = pupil as unknown as Record<string, string | boolean | null>
  record[name] = yesNo.has(name) ? (value === null ? null : value === 'true') : value
}

/** One of the family's pupils; another family's id is as unknown as a missing one. */
export async function familyPupil(em: Em, family: Family, id: number): Promise<Pupil> {
  const pupil = await em.findOne(Pupil, { id, family })
  if (!pupil) throw new NotFound()
  return pupil
}
