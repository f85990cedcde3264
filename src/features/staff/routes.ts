import type { FastifyInstance } from 'fastify'
import { signedInContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import type { TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import type { Translate } from '../../platform/views/i18n.ts'
import { dashboardCounts } from './service.ts'

/** The pending work, each count with the queue that lists it, filtered as it is counted. */
function tiles(config: TenantConfig, counts: Awaited<ReturnType<typeof dashboardCounts>>, t: Translate) {
  return [
    { label: t('staff.changes'), count: counts.changes, href: '/admin/changements' },
    { label: t('staff.documents'), count: counts.documents, href: '/admin/pieces?etat=pending' },
    ...(config.periods?.reenrolment
      ? [
          {
            label: t('staff.reenrolments'),
            count: counts.reenrolments,
            href: '/admin/reinscriptions?etat=submitted',
          },
        ]
      : []),
    ...(config.periods?.preregistration
      ? [
          {
            label: t('staff.preregistrations'),
            count: counts.preregistrations,
            href: '/admin/preinscriptions?etat=confirmed',
          },
        ]
      : []),
    { label: t('staff.erasure'), count: counts.erasure, href: '/admin/rgpd' },
  ]
}

/** The staff dashboard: the pending work, counted. */
export default async function staff(app: FastifyInstance) {
  app.get(
    '/admin',
    { constraints: { site: 'tenant' }, preHandler: app.requireRole(...staffAccess.read) },
    async (request, reply) => {
      const { db, t, config } = signedInContext(request)
      const counts = await dashboardCounts(db, config)
      return reply.view('staff/dashboard', {
        title: t('staff.title'),
        counts,
        tiles: tiles(config, counts, t),
      })
    },
  )
}
