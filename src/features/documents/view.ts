import type { FastifyRequest } from 'fastify'
import { formatDate, formatTime } from '../../platform/views/dates.ts'
import { fold } from '../../platform/text.ts'
import type { MessageKey } from '../../platform/views/i18n.ts'
import { DocumentState } from './entities.ts'
import { type Requirement, sizeInMb } from './service.ts'
import { acceptedTypes } from './upload.ts'

export const stateLabels: Record<Requirement['state'], MessageKey> = {
  missing: 'documents.state.missing',
  pending: 'documents.state.pending',
  validated: 'documents.state.validated',
  refused: 'documents.state.refused',
}

/** The lines of a "Pièces à fournir" table, filtered by the Recherche words. */
export function documentRows(request: FastifyRequest, requirements: Requirement[], query: string) {
  const { t, tenant } = request
  const timeZone = tenant!.config.timezone
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
      fileName: submission?.file.fileName ?? '',
      date: submission ? formatDate(submission.createdAt, timeZone) : '',
      time: submission ? formatTime(submission.createdAt, timeZone) : '',
      size: submission ? sizeInMb(submission.file.size) : '',
      canDelete: Boolean(submission && state !== DocumentState.validated),
    }))
    .filter((row) => !wanted || fold(`${row.document.label} ${row.fileName}`).includes(wanted))
}
