import { defineEntity, type InferEntity, p } from '@mikro-orm/core'
import { Account } from '../../platform/auth/entities.ts'
import { TenantEntity } from '../../platform/db/base-entity.ts'
import { foldSql } from '../../platform/text.ts'

/** A household: one or two guardians (responsables légaux) and its pupils. */
export const Family = defineEntity({
  name: 'Family',
  schema: '*',
  extends: TenantEntity,
  properties: {
    /** Lives on the conservatoire's territory (tariffs, documents such as the proof of address). */
    resident: p.boolean().default(true),
    /** Bracket code from the tenant's quotient familial grid; null until proven (fallback bracket). */
    quotientBracket: p.string().nullable(),
    /** Id of one of the tenant's payment modes. */
    paymentMode: p.string().nullable(),
    /** Set when the family left: kept for the tenant's retention period, hidden from lists. */
    archivedAt: p.datetime().nullable(),
    /** Set when its personal data was erased after the retention period; the row keeps the statistics. */
    erasedAt: p.datetime().nullable(),
    guardians: () => p.oneToMany(Guardian).mappedBy('family'),
  },
})
export type Family = InferEntity<typeof Family>

export const Guardian = defineEntity({
  name: 'Guardian',
  schema: '*',
  extends: TenantEntity,
  uniques: [{ properties: ['family', 'rank'] }],
  // the families list walks responsables 1 in this order and stops at its page
  indexes: [{ properties: ['sortName', 'family'] }],
  properties: {
    family: () => p.manyToOne(Family),
    /** 1 for the family's main guardian (responsable 1), 2 for the second. */
    rank: p.smallint(),
    civility: p.string().nullable(),
    lastName: p.string(),
    firstName: p.string(),
    birthDate: p.date().nullable(),
    birthPlace: p.string().nullable(),
    birthDepartment: p.string().nullable(),
    address: p.string().nullable(),
    postalCode: p.string().nullable(),
    city: p.string().nullable(),
    phoneHome: p.string().nullable(),
    phoneMobile: p.string().nullable(),
    phoneWork: p.string().nullable(),
    email: p.string().nullable(),
    familySituation: p.string().nullable(),
    socioProfessionalCategory: p.string().nullable(),
    profession: p.string().nullable(),
    // defaultRaw, not default: MikroORM would assign the string '[]' itself to new entities
    extraPhones: p
      .json<string[]>()
      .defaultRaw("'[]'")
      .onCreate(() => []),
    /** The guardian's sign-in to the family portal, if they have one. */
    account: () => p.oneToOne(Account).nullable().owner(),
    // kept by Postgres for the staff's families list: searched and sorted without folding each row
    /** Names and e-mail folded (no accents, lowercase): what the families search reads. */
    searchText: p
      .text()
      .generated(
        `(${foldSql("coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' || coalesce(email, '')")}) stored`,
      )
      .nullable()
      .lazy(),
    /** Every phone cut to its digits, "|" between two: "0612345678|0478…". */
    searchPhones: p
      .text()
      .generated(
        "(regexp_replace(coalesce(phone_home, '') || '|' || coalesce(phone_mobile, '') || '|' || coalesce(phone_work, '') || '|' || extra_phones::text, '[^0-9|,]', '', 'g')) stored",
      )
      .nullable()
      .lazy(),
    /** "martin camille": the order of the families list. */
    sortName: p
      .text()
      .generated(`(${foldSql("last_name || ' ' || first_name")}) stored`)
      .nullable()
      .lazy(),
  },
})
export type Guardian = InferEntity<typeof Guardian>
