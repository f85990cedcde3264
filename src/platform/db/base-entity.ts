import { defineEntity, p } from '@mikro-orm/core'

/** Common columns of every tenant table; tenant entities are `schema: '*'`, resolved by the request's fork. */
export const TenantEntity = defineEntity({
  name: 'TenantEntity',
  abstract: true,
  properties: {
    id: p.integer().primary(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
})
