import type { FastifyInstance } from 'fastify'
import { dashboardCounts } from './service.ts'

export default async function staff(app: FastifyInstance) {
  app.get(
    '/admin',
    { constraints: { site: 'tenant' }, preHandler: app.requireRole('staff', 'admin') },
    async (request, reply) =>
      reply.view('staff/dashboard', {
        title: request.t('staff.title'),
        counts: await dashboardCounts(request.em),
      }),
  )
}
