import { jsonObjectFrom } from 'kysely/helpers/postgres'
import { tenantDb } from '../../entities.ts'
import type { JsonOf } from '../../platform/db/reads.ts'
import type { FamilyRef } from '../family/service.ts'
import type { Pupil } from './entities.ts'
import { pupilFieldNames } from './identity.ts'

export {
  checkPupil,
  isMinor,
  pupilFieldNames,
  pupilFields,
  schoolLevels,
  schoolSpecials,
} from './identity.ts'

/** One of the family's pupils, their whole record; null for another family's pupil. */
export function pupilRecordOf(pupilId: number, familyId: FamilyRef) {
  return jsonObjectFrom(
    tenantDb
      .selectFrom('pupil as p')
      .select([
        'p.id',
        'p.civility',
        'p.last_name as lastName',
        'p.first_name as firstName',
        'p.birth_date as birthDate',
        'p.birth_place as birthPlace',
        'p.birth_department as birthDepartment',
        'p.use_guardian_address as useGuardianAddress',
        'p.address',
        'p.postal_code as postalCode',
        'p.city',
        'p.phone_home as phoneHome',
        'p.phone_mobile as phoneMobile',
        'p.email',
        'p.school_level as schoolLevel',
        'p.school',
        'p.image_rights as imageRights',
        'p.exit_authorization as exitAuthorization',
        'p.emergency_contact as emergencyContact',
        'p.emergency_phone as emergencyPhone',
      ])
      .where('p.id', '=', pupilId)
      .where('p.family_id', '=', familyId),
  )
}

export type PupilRecord = JsonOf<typeof pupilRecordOf>

const yesNo = new Set(['useGuardianAddress', 'imageRights', 'exitAuthorization'])

/** The pupil's validated values, one string (or null) per field; yes/no answers are 'true' or 'false'. */
export function pupilValues(pupil: PupilRecord | Pupil): Record<string, string | null> {
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
