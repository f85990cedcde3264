import type { FastifyInstance } from 'fastify'
import { signedInContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import { pageOf, pageParam } from '../../platform/http/pagination.ts'
import { idParams } from '../../platform/http/schemas.ts'
import { archivedFamilies, eraseFamily, erasureCandidate } from './service.ts'
import { auditExport, familyData, zipStream } from './export.ts'

const tenantOnly = { site: 'tenant' }
const csrfOnly = {
  body: { type: 'object', properties: { _csrf: { type: 'string', maxLength: 200 } } },
} as const

/**
 * Families' rights: a family downloads all its data (`/famille/mes-donnees`), staff erase the
 * families past the tenant's retention period (`/admin/rgpd`).
 */
export default async function personalData(app: FastifyInstance) {
  const familyOnly = { constraints: tenantOnly, preHandler: app.requireRole('family') }

  app.get('/famille/mes-donnees', familyOnly, async (request, reply) => {
    const { t } = signedInContext(request)
    return reply.view('personal-data/family', { title: t('personalData.title') })
  })

  // a POST, not a link: the download is recorded in the family's history, so it is a form with its token
  app.post('/famille/mes-donnees.zip', { ...familyOnly, schema: csrfOnly }, async (request, reply) => {
    const ctx = signedInContext(request)
    const exported = await familyData(ctx)
    const summary = await reply.viewAsync('personal-data/summary', {
      title: ctx.t('personalData.summaryTitle', { tenant: ctx.config.name }),
      data: exported.data,
    })
    await auditExport(ctx, exported)
    const day = exported.data.exporteLe.slice(0, 10)
    return reply
      .type('application/zip')
      .header('content-disposition', `attachment; filename="mes-donnees-${ctx.tenant.slug}-${day}.zip"`)
      .header('cache-control', 'private, no-store')
      .send(zipStream(ctx, exported, summary))
  })

  app.get<{ Querystring: { page?: number; fait?: string } }>(
    '/admin/rgpd',
    {
      constraints: tenantOnly,
      preHandler: app.requireRole(...staffAccess.read),
      schema: {
        querystring: {
          type: 'object',
          properties: { ...pageParam, fait: { type: 'string', maxLength: 20 } },
        },
      },
    },
    async (request, reply) => {
      const { db, config, t, account } = signedInContext(request)
      const number = request.query.page ?? 1
      const list = await archivedFamilies(db, config, number)
      return reply.view('personal-data/staff-list', {
        title: t('personalData.staffTitle'),
        list,
        page: pageOf(list.total, number, '/admin/rgpd'),
        mayErase: (staffAccess.records as readonly string[]).includes(account.role),
        erased: request.query.fait === 'efface',
      })
    },
  )

  const confirmPage = async (request: Parameters<typeof signedInContext>[0], id: number) => {
    const ctx = signedInContext(request)
    const candidate = await erasureCandidate(ctx, id)
    return { title: ctx.t('personalData.eraseTitle', { id }), candidate }
  }

  app.get<{ Params: { id: number } }>(
    '/admin/rgpd/familles/:id/effacer',
    {
      constraints: tenantOnly,
      preHandler: app.requireRole(...staffAccess.records),
      schema: { params: idParams },
    },
    async (request, reply) => {
      const view = await confirmPage(request, request.params.id)
      return reply.code(view.candidate.state === 'due' ? 200 : 409).view('personal-data/erase', view)
    },
  )

  app.post<{ Params: { id: number } }>(
    '/admin/rgpd/familles/:id/effacer',
    {
      constraints: tenantOnly,
      preHandler: app.requireRole(...staffAccess.records),
      schema: { params: idParams, ...csrfOnly },
    },
    async (request, reply) => {
      const outcome = await eraseFamily(signedInContext(request), request.params.id)
      if (outcome === 'done') return reply.redirect('/admin/rgpd?fait=efface', 303)
      return reply.code(409).view('personal-data/erase', await confirmPage(request, request.params.id))
    },
  )
}
