import type { Orm } from '../platform/db/orm.ts'
import type { TenantConfig } from '../platform/tenancy/tenant-config.ts'

export async function seedDemo(
  _orm: Orm,
  _configs: TenantConfig[],
): Promise<{ slug: string; seeded: boolean }[]> {
  return []
}
