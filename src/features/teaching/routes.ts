import type { FastifyInstance } from 'fastify'
import { signedInContext } from '../../platform/auth/context.ts'
import { ChangeSetType, type EventSubscriber, type FlushEventArgs } from '@mikro-orm/core'
import { SchoolYear } from './entities.ts'
import { coursesOfTeacher, schoolYears } from './service.ts'

/** Forgets a tenant's cached current school year once a change to its school years is flushed. */
class ForgetSchoolYear implements EventSubscriber {
  afterFlush({ em, uow }: FlushEventArgs): void {
    const changed = uow
      .getChangeSets()
      .some((cs) => cs.meta.className === SchoolYear.meta.className && cs.type !== ChangeSetType.DELETE_EARLY)
    if (changed) schoolYears.invalidate(em)
  }
}

/** The teachers' portal: their courses of the year with their headcount. */
export default async function teaching(app: FastifyInstance) {
  app.orm.em.getEventManager().registerSubscriber(new ForgetSchoolYear())

  app.get(
    '/enseignant',
    { constraints: { site: 'tenant' }, preHandler: app.requireRole('teacher') },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { year, courses } = await coursesOfTeacher(ctx.db, ctx.account)
      const establishments = new Map(ctx.config.establishments.map((e) => [e.code, e.name]))
      return reply.view('teaching/courses', {
        title: ctx.t('teacher.title', { year: year?.label ?? '' }),
        showSite: establishments.size > 1,
        courses: courses.map((course) => ({
          name: course.name,
          cycle: course.cycle,
          site: establishments.get(course.establishment) ?? course.establishment,
          slot: course.slot,
          pupils: course.pupils,
        })),
      })
    },
  )
}
