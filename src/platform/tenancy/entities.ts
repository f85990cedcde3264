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
    /** The number of the published configuration every server serves; polled by each process. */
    configVersion: p.integer().nullable(),
  },
})
export type TenantRow = InferEntity<typeof TenantRow>

/**
 * A published version of a tenant's YAML, kept whole as it was written (comments included). Rows are
 * only ever added: restoring an old version publishes its text again under the next number.
 */
export const TenantConfigVersion = defineEntity({
  name: 'TenantConfigVersion',
  schema: 'platform',
  tableName: 'tenant_config_version',
  uniques: [{ properties: ['tenant', 'number'] }],
  properties: {
    id: p.integer().primary(),
    tenant: () => p.manyToOne(TenantRow).deleteRule('cascade'),
    number: p.integer(),
    source: p.text(),
    comment: p.text(),
    /** The tenant account that published it; null for the operator (files, CLI import). */
    authorId: p.integer().nullable(),
    authorName: p.string(),
    /** The version this one was restored from, when it is a restoration. */
    restoredFrom: p.integer().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
})
export type TenantConfigVersion = InferEntity<typeof TenantConfigVersion>

/**
 * A change being prepared: a whole YAML text already checked, not served to anyone but the admin
 * previewing it. A draft never changes once written; editing it again writes a new one.
 */
export const TenantConfigDraft = defineEntity({
  name: 'TenantConfigDraft',
  schema: 'platform',
  tableName: 'tenant_config_draft',
  indexes: [{ properties: ['tenant', 'createdAt'] }],
  properties: {
    id: p.integer().primary(),
    tenant: () => p.manyToOne(TenantRow).deleteRule('cascade'),
    /** The published version it was made from: publishing refuses when another came in between. */
    baseNumber: p.integer(),
    source: p.text(),
    /** Which page made it: a form's name, `yaml`, or `restore`. */
    origin: p.string().length(40),
    restoredFrom: p.integer().nullable(),
    authorId: p.integer(),
    authorName: p.string(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
})
export type TenantConfigDraft = InferEntity<typeof TenantConfigDraft>
