import { defineEntity, type InferEntity, p } from '@mikro-orm/core'

export const TenantStatus = { active: 'active', disabled: 'disabled' } as const

/** A provisioned conservatoire: its row in the platform schema; its data lives in schema `tenant_<slug>`. */
export const TenantRow = defineEntity({
  name: 'TenantRow',
  schema: 'platform',
  tableName: 'tenant',
  properties: {
    slug: p.string().length(40).primary(),
    name: p.string(),
    status: p.enum(Object.values(TenantStatus)).default(TenantStatus.active),
    createdAt: p.datetime().onCreate(() => new Date()),
    disabledAt: p.datetime().nullable(),
  },
})
export type TenantRow = InferEntity<typeof TenantRow>
