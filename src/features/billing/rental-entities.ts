import { defineEntity, type InferEntity, p } from '@mikro-orm/core'
import { TenantEntity } from '../../platform/db/base-entity.ts'
import { Family } from '../family/entities.ts'
import { Pupil } from '../pupils/entities.ts'

/**
 * One item of the tenant's rental stock: an instrument, a room, a piece of equipment, under one of
 * the rental codes of the tariffs (`tariffs.rentals`), known by its own reference (the instrument's
 * serial or inventory number, "CLA-014").
 */
export const RentalItem = defineEntity({
  name: 'RentalItem',
  schema: '*',
  tableName: 'rental_item',
  extends: TenantEntity,
  properties: {
    code: p.string().length(60),
    reference: p.string().length(40).unique(),
  },
})
export type RentalItem = InferEntity<typeof RentalItem>

/** What became of a rental's deposit once the item came back. */
export const DepositOutcome = { returned: 'returned', kept: 'kept' } as const
export type DepositOutcome = (typeof DepositOutcome)[keyof typeof DepositOutcome]

/**
 * An item lent to a family (for one of its pupils, or to the family itself for a room) from a day,
 * until it comes back. The deposit is the tariffs' at the time of the assignment, in cents; its
 * outcome is recorded at the return (docs/decisions.md, "Rentals").
 */
export const Rental = defineEntity({
  name: 'Rental',
  schema: '*',
  tableName: 'rental',
  extends: TenantEntity,
  indexes: [{ properties: ['family'] }, { properties: ['item'] }],
  properties: {
    item: () => p.manyToOne(RentalItem),
    family: () => p.manyToOne(Family),
    pupil: () => p.manyToOne(Pupil).nullable().deleteRule('set null'),
    startOn: p.date(),
    endOn: p.date().nullable(),
    deposit: p.integer(),
    depositOutcome: p.enum(Object.values(DepositOutcome)).nullable(),
  },
})
export type Rental = InferEntity<typeof Rental>
