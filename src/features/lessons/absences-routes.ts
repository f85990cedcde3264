import type { FastifyInstance } from 'fastify'
import { signedInContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import { HttpError } from '../../platform/http/errors.ts'
import { pageOf, pageParam } from '../../platform/http/pagination.ts'
import { recordId } from '../../platform/http/schemas.ts'
import { type AbsencesQuery, absencesCsv, absencesRanking, checkAbsencesQuery } from './absences-list.ts'

const filterProperties = {
  du: { type: 'string', maxLength: 40 },
  au: { type: 'string', maxLength: 40 },
  site: { type: 'string', maxLength: 60 },
  cours: recordId,
  professeur: recordId,
} as const

/** An export asked with a period the list would refuse: there is no form to say it beside. */
class BadPeriod extends HttpError {
  constructor() {
    super(400, 'error.400.title', 'error.400.body')
  }
}

/** The filters as the links keep them (the page's and the export's), empty ones left out. */
function kept(input: { du: string; au: string }, query: AbsencesQuery) {
  return {
    du: input.du,
    au: input.au,
    site: query.site ?? '',
    cours: query.cours ? String(query.cours) : '',
    professeur: query.professeur ? String(query.professeur) : '',
  }
}

/** Absences: staff's ranking of pupils by unexcused absences over a period, 50 a page, and its CSV. */
export default async function absencesList(app: FastifyInstance) {
  const staffOnly = { constraints: { site: 'tenant' }, preHandler: app.requireRole(...staffAccess.read) }

  app.get<{ Querystring: AbsencesQuery }>(
    '/admin/absences',
    {
      ...staffOnly,
      schema: { querystring: { type: 'object', properties: { ...filterProperties, ...pageParam } } },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const page = request.query.page ?? 1
      const checked = await checkAbsencesQuery(ctx, request.query)
      const filters = kept(checked.input, request.query)
      const found = await absencesRanking(ctx, checked.values, page)
      const query = new URLSearchParams(Object.entries(filters).filter(([, v]) => v)).toString()
      const view = {
        title: ctx.t('absencesList.title'),
        filters,
        errors: checked.errors,
        choices: found.choices,
        establishments: ctx.config.establishments,
        // a date typed without a date picker stays as typed, in a text field
        dateType: (value: string) => (value === '' || /^\d{4}-\d{2}-\d{2}$/.test(value) ? 'date' : 'text'),
      }
      // a period refused shows the form with its messages, not a list it did not ask for
      if (checked.errors) return reply.code(400).view('lessons/absences-list', { ...view, rows: [] })
      return reply.view('lessons/absences-list', {
        ...view,
        rows: found.rows,
        period: checked.values,
        exportUrl: `/admin/absences/export.csv?${query}`,
        page: pageOf(found.total, page, '/admin/absences', filters),
      })
    },
  )

  app.get<{ Querystring: AbsencesQuery }>(
    '/admin/absences/export.csv',
    { ...staffOnly, schema: { querystring: { type: 'object', properties: filterProperties } } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const checked = await checkAbsencesQuery(ctx, request.query)
      if (checked.errors) throw new BadPeriod()
      const { from, to } = checked.values
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="absences-${from}-${to}.csv"`)
        .header('cache-control', 'private, no-store')
        .send(await absencesCsv(ctx, checked.values))
    },
  )
}
