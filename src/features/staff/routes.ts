import type { FastifyInstance } from 'fastify'
import { signedInContext } from '../../platform/auth/context.ts'
import { dashboardCounts } from './service.ts'

/** The staff dashboard: the pending work, counted. */
export default async function staff(app: FastifyInstance) {
  app.get(
    '/admin',
    { constraints: { site: 'tenant' }, preHandler: app.requireRole('staff', 'admin') },
    async (request, reply) => {
      const { db, t } = signedInContext(request)
      return reply.view('staff/dashboard', { title: t('staff.title'), counts: await dashboardCounts(db) })
    },
  )
}
