import { defineEntity, type InferEntity, type Opt, p } from '@mikro-orm/core'
import { TenantEntity } from '../../platform/db/base-entity.ts'
import { Family } from '../family/entities.ts'

// the letters French names carry, and what they fold to; œ and æ are two letters, replaced first
const accented = 'ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖòóôõöÙÚÛÜùúûüÝŸýÿ'
const plain = 'AAAAAAaaaaaaCcEEEEeeeeIIIIiiiiNnOOOOOoooooUUUUuuuuYYyy'

/**
 * A column lowercased without accents, in SQL: translate() and lower() of ASCII letters behave alike
 * under any collation, on PGlite and Postgres, with no extension (unaccent is not on PGlite).
 * Folds like `fold()` of platform/text.ts, so a folded search finds it.
 */
function folded(column: string): string {
  return `(lower(translate(replace(replace(replace(replace(${column}, 'œ', 'oe'), 'Œ', 'oe'), 'æ', 'ae'), 'Æ', 'ae'), '${accented}', '${plain}'))) stored`
}

export const Pupil = defineEntity({
  name: 'Pupil',
  // staff's list of pupils, in order of the folded names (features/backoffice-pupils)
  indexes: [{ properties: 'family' }, { properties: ['foldedLastName', 'foldedFirstName', 'id'] }],
  schema: '*',
  extends: TenantEntity,
  properties: {
    family: () => p.manyToOne(Family),
    civility: p.string().nullable(),
    lastName: p.string(),
    firstName: p.string(),
    birthDate: p.date().nullable(),
    birthPlace: p.string().nullable(),
    birthDepartment: p.string().nullable(),
    useGuardianAddress: p.boolean().default(true),
    address: p.string().nullable(),
    postalCode: p.string().nullable(),
    city: p.string().nullable(),
    phoneHome: p.string().nullable(),
    phoneMobile: p.string().nullable(),
    email: p.string().nullable(),
    schoolLevel: p.string().nullable(),
    school: p.string().nullable(),
    imageRights: p.boolean().nullable(),
    exitAuthorization: p.boolean().nullable(),
    emergencyContact: p.string().nullable(),
    emergencyPhone: p.string().nullable(),
    /**
     * The names folded by Postgres, kept with the row: staff's list searches and sorts thousands of
     * pupils, and folding them at each request cost more than the rest of its query.
     */
    foldedLastName: p.text().$type<Opt<string>>().generated(folded('last_name')).hidden().lazy(),
    foldedFirstName: p.text().$type<Opt<string>>().generated(folded('first_name')).hidden().lazy(),
  },
})
export type Pupil = InferEntity<typeof Pupil>
