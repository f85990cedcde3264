import type { Role } from './entities.ts'

/**
 * Who may do what on the staff side. Every staff route's guard names one of these sets, so that the
 * roles' rights are read in one place (and walked route by route by test/platform/roles.test.ts).
 */
export const staffAccess = {
  /** Pages that only show: lists, records, queues, exports. */
  read: ['admin', 'secretariat', 'direction'],
  /** Decisions on families' requests (changes, pièces, re-enrolments, pré-inscriptions). */
  decide: ['admin', 'secretariat', 'direction'],
  /** Writing records: families, pupils, courses, enrolments, the school year. */
  records: ['admin', 'secretariat'],
  /** Accounts and the tenant's configuration. */
  admin: ['admin'],
} as const satisfies Record<string, readonly Role[]>

/** Every role that signs in at /admin/connexion. */
export const staffRoles: readonly Role[] = staffAccess.read

export function isStaff(role: Role): boolean {
  return staffRoles.includes(role)
}
