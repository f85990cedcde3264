import type { Orm } from '../platform/db/orm.ts'
import type { TenantConfig } from '../platform/tenancy/tenant-config.ts'
import { seedDemoAccounts } from './accounts.ts'
import { seedDemoAttendance } from './attendance.ts'
import { seedDemoBilling } from './billing.ts'
import { seedDemoConfigHistory } from './config-history.ts'
import { seedDemoDebits } from './debits.ts'
import { seedDemoEvaluations } from './evaluations.ts'
import { seedDemoPayfip } from './payfip.ts'
import { seedDemoPlaces } from './places.ts'
import { seedDemoRepertoirePieces } from './repertoire-pieces.ts'
import type { Config } from '../platform/config.ts'
import { tenantBaseUrl } from '../platform/tenancy/registry.ts'
import { seedDemo } from './seed.ts'

/**
 * Everything the demo holds, in the order each part needs the others (billing before the online
 * payment it shows, the online payment before the debit files, which leave it out): one list for
 * `npm start` and `tutti demo`, so that both give the same demo.
 */
export async function seedDemoTenants(
  orm: Orm,
  configs: TenantConfig[],
  platform: Pick<Config, 'billingKey' | 'platformDomain' | 'publicUrl'>,
) {
  const reports = await seedDemo(orm, configs)
  await seedDemoAccounts(orm, configs)
  await seedDemoConfigHistory(orm, configs)
  await seedDemoBilling(orm, configs)
  await seedDemoPayfip(orm, configs)
  await seedDemoDebits(orm, configs, platform.billingKey)
  // Issue 18: demo-prof teaches every weekday; the year's past lessons were called
  await seedDemoAttendance(orm, configs)
  await seedDemoRepertoirePieces(orm, configs)
  // issue 18: the register's evaluations, once demo-prof has an account
  await seedDemoEvaluations(orm, configs)
  // issue 19: next year's offer, its requests, an allocation confirmed and a proposal to confirm
  await seedDemoPlaces(orm, configs, (config) => tenantBaseUrl(platform, config))
  return reports
}
