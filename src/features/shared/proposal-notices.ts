import type { MessageKey } from '../../platform/views/i18n.ts'
import type { ProposalOutcome } from '../sas/service.ts'

/** What the Famille and Identité pages say after a save, from `?enregistre=<outcome>`. */
export const proposalNotices = {
  proposed: 'famille.saved',
  replaced: 'famille.saved',
  unchanged: 'famille.unchanged',
  withdrawn: 'famille.withdrawn',
} as const satisfies Record<ProposalOutcome, MessageKey>

export const noticeQuery = {
  type: 'object',
  properties: { enregistre: { type: 'string', enum: Object.keys(proposalNotices) } },
} as const

/** The notice of a page reached after a save, or '' when there is none. */
export function proposalNotice(query: unknown, t: (key: MessageKey) => string): string {
  const outcome = (query as { enregistre?: ProposalOutcome }).enregistre
  return outcome ? t(proposalNotices[outcome]) : ''
}
