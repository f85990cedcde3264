import { defineEntity, type InferEntity, type Opt, p } from '@mikro-orm/core'
import { TenantEntity } from '../../platform/db/base-entity.ts'
import { foldSql } from '../../platform/text.ts'
import { Family } from '../family/entities.ts'

/** A column folded by Postgres as fold() folds text, kept with the row (see foldSql). */
function folded(column: string): string {
  return `(${foldSql(column)}) stored`
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
    // kept by Postgres for the staff's families list, as the guardian's
    searchText: p
      .text()
      .generated(
        `(${foldSql("coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' || coalesce(email, '')")}) stored`,
      )
      .nullable()
      .lazy(),
    searchPhones: p
      .text()
      .generated(
        "(regexp_replace(coalesce(phone_home, '') || '|' || coalesce(phone_mobile, ''), '[^0-9|]', '', 'g')) stored",
      )
      .nullable()
      .lazy(),
    /**
     * The names folded by Postgres, kept with the row: staff's list searches and sorts thousands of
     * pupils, and folding them at each request cost more than the rest of its query.
     */
    foldedLastName: p.text().$type<Opt<string>>().generated(folded('last_name')).hidden().lazy(),
    foldedFirstName: p.text().$type<Opt<string>>().generated(folded('first_name')).hidden().lazy(),
  },
})
export type Pupil = InferEntity<typeof Pupil>
