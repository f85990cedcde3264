import type { TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import type { Translate } from '../../platform/views/i18n.ts'
import { effectiveRules, type PriorityRule } from './allocate.ts'

/**
 * The tenant's priority rules in plain words, in order, as families and staff read them: what
 * decided the order of a waiting list. The final tie-break the allocation adds is listed too.
 */
export function rulesInWords(config: TenantConfig, t: Translate): string[] {
  return effectiveRules(config.places.rules as PriorityRule[]).map((rule) => t(`places.rule.${rule}`))
}
