import { ValidationFailed } from '../../platform/http/errors.ts'
import type { Translate } from '../../platform/views/i18n.ts'

/** The form staff answer a document or a re-enrolment with: a decision and, to refuse, a reason. */
export const decisionBody = {
  type: 'object',
  properties: {
    _csrf: { type: 'string', maxLength: 200 },
    decision: { type: 'string', maxLength: 20 },
    reason: { type: 'string', maxLength: 1000 },
  },
} as const

/**
 * Checks staff's answer: one of the two decisions, and a reason when refusing, since the family
 * reads it in the mail. The reason of an acceptance is dropped.
 */
export function checkDecision<Accept extends string, Refuse extends string>(
  input: { decision?: string; reason?: string },
  values: { accept: Accept; refuse: Refuse },
  t: Translate,
): { decision: Accept | Refuse; reason: string | null } {
  const reason = input.reason?.trim() ?? ''
  if (input.decision !== values.accept && input.decision !== values.refuse)
    throw new ValidationFailed({ decision: t('documents.review.decisionRequired') })
  if (input.decision === values.refuse && !reason)
    throw new ValidationFailed({ reason: t('documents.review.reasonRequired') })
  const decision = input.decision as Accept | Refuse
  return { decision, reason: decision === values.refuse ? reason : null }
}
