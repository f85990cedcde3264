import type { FastifyInstance, FastifyRequest } from 'fastify'
import { signedInContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import { pageOf, pageParam } from '../../platform/http/pagination.ts'
import { recordId } from '../../platform/http/schemas.ts'
import { type PupilFilters, PupilState, pupilLines, pupilList, pupilsCsv } from './service.ts'

/** The list's querystring, in French like the other staff pages' paths. */
interface Query {
  discipline?: string
  cours?: number
  professeur?: number
  niveau?: string
  site?: string
  etat?: PupilState
  q?: string
  page?: number
}

const filterProperties = {
  discipline: { type: 'string', maxLength: 60 },
  cours: recordId,
  professeur: recordId,
  niveau: { type: 'string', maxLength: 100 },
  site: { type: 'string', maxLength: 60 },
  etat: { type: 'string', enum: Object.values(PupilState) },
  q: { type: 'string', maxLength: 100 },
} as const

/** The filters as the service takes them (empty ones left out), and as the links keep them. */
function filtersOf(request: FastifyRequest<{ Querystring: Query }>) {
  const { discipline, cours, professeur, niveau, site, etat = PupilState.all, q } = request.query
  const filters: PupilFilters = {
    discipline: discipline || null,
    course: cours ?? null,
    teacher: professeur ?? null,
    level: niveau || null,
    site: site || null,
    state: etat,
    q: q?.trim() || null,
  }
  const kept = {
    discipline: filters.discipline ?? '',
    cours: cours ? String(cours) : '',
    professeur: professeur ? String(professeur) : '',
    niveau: filters.level ?? '',
    site: filters.site ?? '',
    etat: etat === PupilState.all ? '' : etat,
    q: filters.q ?? '',
  }
  return { filters, kept }
}

/**
 * Élèves, the staff's list of every pupil: filters on this year's courses (discipline, course,
 * teacher, level, site), the pupil's state and a search by name, 50 a page; and the same list as a
 * CSV for a French spreadsheet.
 */
export default async function backofficePupils(app: FastifyInstance) {
  const staffOnly = { constraints: { site: 'tenant' }, preHandler: app.requireRole(...staffAccess.read) }

  app.get<{ Querystring: Query }>(
    '/admin/eleves',
    {
      ...staffOnly,
      schema: { querystring: { type: 'object', properties: { ...filterProperties, ...pageParam } } },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { filters, kept } = filtersOf(request)
      const page = request.query.page ?? 1
      const { total, rows, choices, schoolYear } = await pupilList(ctx, filters, page)
      const query = new URLSearchParams(Object.entries(kept).filter(([, v]) => v)).toString()
      return reply.view('backoffice/pupils/list', {
        title: ctx.t('backofficePupils.title'),
        items: pupilLines(ctx, rows),
        filters: kept,
        choices,
        disciplines: ctx.config.disciplines ?? [],
        establishments: ctx.config.establishments,
        states: Object.values(PupilState),
        schoolYear,
        exportUrl: `/admin/eleves/export.csv${query ? `?${query}` : ''}`,
        page: pageOf(total, page, '/admin/eleves', kept),
      })
    },
  )

  app.get<{ Querystring: Query }>(
    '/admin/eleves/export.csv',
    { ...staffOnly, schema: { querystring: { type: 'object', properties: filterProperties } } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { csv, schoolYear } = await pupilsCsv(ctx, filtersOf(request).filters)
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="eleves-${schoolYear || 'liste'}.csv"`)
        .header('cache-control', 'private, no-store')
        .send(csv)
    },
  )
}
