import { Account } from '../../platform/auth/entities.ts'
import type { Em } from '../../platform/db/orm.ts'
import { pendingDocumentCount } from '../documents/service.ts'
import { Family } from '../family/entities.ts'
import { Preregistration, PreregistrationStatus } from '../preregistration/entities.ts'
import { Pupil } from '../pupils/entities.ts'
import { Reenrolment, ReenrolmentStatus } from '../reenrolment/entities.ts'
import { pendingCount } from '../sas/service.ts'
import { Course } from '../teaching/entities.ts'
import { currentSchoolYear } from '../teaching/service.ts'

/** The counts on the staff dashboard. */
export async function dashboardCounts(em: Em) {
  const year = await currentSchoolYear(em)
  const [families, pupils, courses, accounts, changes, documents, reenrolments, preregistrations] =
    await Promise.all([
      em.count(Family),
      em.count(Pupil),
      year ? em.count(Course, { schoolYear: year }) : Promise.resolve(0),
      em.count(Account, { disabled: false, passwordHash: { $ne: null } }),
      pendingCount(em),
      pendingDocumentCount(em),
      em.count(Reenrolment, { status: ReenrolmentStatus.submitted }),
      em.count(Preregistration, { status: PreregistrationStatus.confirmed }),
    ])
  return {
    year: year?.label ?? '',
    families,
    pupils,
    courses,
    accounts,
    changes,
    documents,
    reenrolments,
    preregistrations,
  }
}
