import type { Condition, Fact } from '../../platform/tenancy/tenant-config-types.ts'

/** What a condition can test about a family, and about one of its pupils for pupil-level documents. */
export interface Facts {
  family: { resident: boolean; paymentMode: string | null }
  pupil?: { minor: boolean; disciplines: string[]; answers: Record<string, boolean> }
}

/** The value of a fact; undefined when it is not known (no pupil, a question not answered). */
function factValue(fact: Fact, facts: Facts): string | boolean | string[] | null | undefined {
  switch (fact) {
    case 'family.resident':
      return facts.family.resident
    case 'family.paymentMode':
      return facts.family.paymentMode
    case 'pupil.minor':
      return facts.pupil?.minor
    case 'pupil.disciplines':
      return facts.pupil?.disciplines
    default:
      return facts.pupil?.answers[fact.slice('pupil.answers.'.length)]
  }
}

/**
 * Evaluates a condition of the tenant's YAML (config/README.md, "Conditions"). The schema has
 * already checked its shape; here a test on a value not known yet is false, so a document that
 * depends on an unanswered question is not asked for.
 */
export function holds(condition: Condition, facts: Facts): boolean {
  if ('all' in condition) return condition.all.every((c) => holds(c, facts))
  if ('any' in condition) return condition.any.some((c) => holds(c, facts))
  if ('not' in condition) return !holds(condition.not, facts)
  const value = factValue(condition.fact, facts)
  if (value === undefined || value === null) return false
  if ('equals' in condition) return value === condition.equals
  if ('in' in condition) return typeof value === 'string' && condition.in.includes(value)
  return Array.isArray(value) && condition.includesAny.some((code) => value.includes(code))
}
