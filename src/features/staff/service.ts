import type { Kysely } from 'kysely'
import type { TenantDb } from '../../entities.ts'
import { prepare, type Reader } from '../../platform/db/reads.ts'
import type { TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import { pendingDocumentCount } from '../documents/service.ts'
import { dueForErasureCount, retentionCutoff } from '../personal-data/service.ts'
import { confirmedCount } from '../preregistration/service.ts'
import { submittedCount } from '../reenrolment/service.ts'
import { pendingCount } from '../sas/service.ts'
import { currentSchoolYear } from '../teaching/service.ts'

const countsRead = prepare((db: Kysely<TenantDb>, p: { yearId: number; cutoff: string }) =>
  db.selectNoFrom((eb) => [
    eb
      .selectFrom('family')
      .select(eb.cast<number>(eb.fn.countAll(), 'integer').as('n'))
      .$asScalar()
      .as('families'),
    eb
      .selectFrom('pupil')
      .select(eb.cast<number>(eb.fn.countAll(), 'integer').as('n'))
      .$asScalar()
      .as('pupils'),
    eb
      .selectFrom('course')
      .select(eb.cast<number>(eb.fn.countAll(), 'integer').as('n'))
      .where('school_year_id', '=', p.yearId)
      .$asScalar()
      .as('courses'),
    eb
      .selectFrom('account')
      .select(eb.cast<number>(eb.fn.countAll(), 'integer').as('n'))
      .where('disabled', '=', false)
      .where('password_hash', 'is not', null)
      .$asScalar()
      .as('accounts'),
    pendingCount().as('changes'),
    pendingDocumentCount().as('documents'),
    submittedCount().as('reenrolments'),
    confirmedCount().as('preregistrations'),
    dueForErasureCount(p.cutoff).as('erasure'),
  ]),
)

/** The counts on the staff dashboard, in one statement. */
export async function dashboardCounts(db: Reader, config: TenantConfig) {
  const year = await currentSchoolYear(db)
  const cutoff = retentionCutoff(config).toISOString()
  const counts = await countsRead.first(db, { yearId: year?.id ?? 0, cutoff })
  return { year: year?.label ?? '', ...counts! }
}
