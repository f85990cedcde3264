import { type Checked, refusals } from '../../platform/forms.ts'
import type { TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import type { Translate } from '../../platform/views/i18n.ts'
import { CriterionResult, type CriterionRating } from '../teaching/entities.ts'

/** The longest appreciation a teacher may write: a bulletin holds a paragraph, not a letter. */
export const appreciationMax = 2000

export const criterionResults = Object.values(CriterionResult)

/** What a teacher's form sends for one pupil: the appreciation, the level, `criterion-<i>` per criterion. */
export type EvaluationInput = Record<string, string | undefined>

export interface EvaluationValues {
  appreciation: string
  level: string | null
  criteria: CriterionRating[]
}

/** The field name of the tenant's i-th criterion in the teacher's form. */
export const criterionField = (i: number) => `criterion-${i}`

/**
 * Reads a teacher's form against the tenant's scale: a level and ratings the scale has (or none),
 * an appreciation within the limit, which publishing requires.
 */
export function checkEvaluation(
  input: EvaluationInput,
  config: TenantConfig,
  t: Translate,
  publishing: boolean,
): Checked<EvaluationValues> {
  const errors: Record<string, string> = {}
  const appreciation = (input.appreciation ?? '').replace(/\r\n/g, '\n').trim()
  if (appreciation.length > appreciationMax)
    errors.appreciation = t('evaluations.error.tooLong', {
      max: appreciationMax,
      length: appreciation.length,
    })
  else if (publishing && !appreciation) errors.appreciation = t('evaluations.error.appreciationRequired')
  const levels = config.evaluations.scale.levels ?? []
  const level = input.level?.trim() || null
  if (level && !levels.includes(level)) errors.level = t('evaluations.error.unknownLevel')
  const criteria: CriterionRating[] = []
  for (const [i, criterion] of (config.evaluations.scale.criteria ?? []).entries()) {
    const result = input[criterionField(i)]?.trim()
    if (!result) continue
    if (criterionResults.includes(result as CriterionResult))
      criteria.push({ criterion, result: result as CriterionResult })
    else errors[criterionField(i)] = t('evaluations.error.unknownResult')
  }
  return { values: { appreciation, level, criteria }, errors: refusals(errors) }
}
