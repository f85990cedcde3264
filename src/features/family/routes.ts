import type { FastifyInstance } from 'fastify'
import { guardianOf, pupilsOf } from './service.ts'

export default async function family(app: FastifyInstance) {
  app.get(
    '/accueil',
    { constraints: { site: 'tenant' }, preHandler: app.requireRole('family') },
    async (request, reply) => {
      const guardian = await guardianOf(request.em, request.account!)
      const pupils = guardian ? await pupilsOf(request.em, guardian.family) : []
      const name = guardian
        ? [guardian.civility, guardian.firstName, guardian.lastName].filter(Boolean).join(' ')
        : request.account!.displayName
      return reply.view('family/home', { title: request.t('nav.home'), name, pupils })
    },
  )
}
