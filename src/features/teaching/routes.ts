import type { FastifyInstance } from 'fastify'
import { signedInContext } from '../../platform/auth/context.ts'
import { ChangeSetType, type EventSubscriber, type FlushEventArgs } from '@mikro-orm/core'
import { SchoolYear } from './entities.ts'
import { teacherWeek } from '../lessons/register.ts'
import { schoolYears } from './service.ts'

/** Forgets a tenant's cached current school year once a change to its school years is flushed. */
class ForgetSchoolYear implements EventSubscriber {
  afterFlush({ em, uow }: FlushEventArgs): void {
    const changed = uow
      .getChangeSets()
      .some((cs) => cs.meta.className === SchoolYear.meta.className && cs.type !== ChangeSetType.DELETE_EARLY)
    if (changed) schoolYears.invalidate(em)
  }
}

/** The teachers' portal, "Mes cours": the week's lessons, then the courses of the year with their headcount. */
export default async function teaching(app: FastifyInstance) {
  app.orm.em.getEventManager().registerSubscriber(new ForgetSchoolYear())

  app.get<{ Querystring: { semaine?: string } }>(
    '/enseignant',
    { constraints: { site: 'tenant' }, preHandler: app.requireRole('teacher') },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const week = await teacherWeek(ctx, request.query.semaine)
      return reply.view('teaching/courses', {
        title: ctx.t('teacher.title', { year: week.year?.label ?? '' }),
        ...week,
      })
    },
  )
}
