import type { TenantContext } from '../../platform/auth/context.ts'
import { fold } from '../../platform/text.ts'
import { formatDate, formatTime } from '../../platform/views/dates.ts'
import type { MessageKey } from '../../platform/views/i18n.ts'
import { DocumentState } from '../documents/entities.ts'
import { type Requirement, sizeInMb } from '../documents/service.ts'
import { acceptedTypes } from '../documents/upload.ts'

/*
 * The "Pièces à fournir" table (templates/shared/documents.njk), shown by the family's and the
 * pupils' pages and by the re-enrolment's documents step.
 */

export const stateLabels: Record<Requirement['state'], MessageKey> = {
  missing: 'documents.state.missing',
  pending: 'documents.state.pending',
  validated: 'documents.state.validated',
  refused: 'documents.state.refused',
}

/** The lines of a "Pièces à fournir" table, filtered by the Recherche words. */
export function documentRows(
  ctx: Pick<TenantContext, 't' | 'config'>,
  requirements: Requirement[],
  query: string,
) {
  const { t, config } = ctx
  const timeZone = config.timezone
  const wanted = fold(query.trim())
  return requirements
    .map(({ document, state, submission }) => ({
      document,
      formats: t('documents.formats', {
        types: acceptedTypes(document, t),
        max: String(document.maxSizeMb).replace('.', ','),
      }),
      state,
      stateLabel: t(stateLabels[state]),
      submission,
      fileName: submission?.fileName ?? '',
      date: submission ? formatDate(submission.createdAt, timeZone) : '',
      time: submission ? formatTime(submission.createdAt, timeZone) : '',
      size: submission ? sizeInMb(submission.size) : '',
      canDelete: Boolean(submission && state !== DocumentState.validated),
      // each row not yet validated carries its own Importer form
      uploadable: state !== DocumentState.validated,
    }))
    .filter((row) => !wanted || fold(`${row.document.label} ${row.fileName}`).includes(wanted))
}

/** The documents a family may still upload: every one asked except those validated. */
export function uploadable(requirements: Requirement[]) {
  return requirements.filter((r) => r.state !== DocumentState.validated).map((r) => r.document)
}
