import type { Pupil } from './entities.ts'

/** The pupil's identity fields the sas compares and applies; yes/no answers are 'true' or 'false'. */
export const pupilFieldNames = [
  'civility',
  'lastName',
  'firstName',
  'birthDate',
  'birthPlace',
  'birthDepartment',
  'useGuardianAddress',
  'address',
  'postalCode',
  'city',
  'phoneHome',
  'phoneMobile',
  'email',
  'schoolLevel',
  'school',
  'imageRights',
  'exitAuthorization',
  'emergencyContact',
  'emergencyPhone',
] as const

const yesNo = new Set(['useGuardianAddress', 'imageRights', 'exitAuthorization'])

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
  if (!(pupilFieldNames as readonly string[]).includes(name)) throw new Error(`unknown pupil field ${name}`)
  const record = pupil as unknown as Record<string, string | boolean | null>
  record[name] = yesNo.has(name) ? (value === null ? null : value === 'true') : value
}
