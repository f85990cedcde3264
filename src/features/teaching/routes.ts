import type { FastifyInstance } from 'fastify'
import { coursesOfTeacher } from './service.ts'

export default async function teaching(app: FastifyInstance) {
  app.get(
    '/enseignant',
    { constraints: { site: 'tenant' }, preHandler: app.requireRole('teacher') },
    async (request, reply) => {
      const { year, courses } = await coursesOfTeacher(request.em, request.account!)
      const establishments = new Map(request.tenant!.config.establishments.map((e) => [e.code, e.name]))
      return reply.view('teaching/courses', {
        title: request.t('teacher.title', { year: year?.label ?? '' }),
        showSite: establishments.size > 1,
        courses: courses.map(({ course, pupils }) => ({
          name: course.name,
          cycle: course.cycle,
          site: establishments.get(course.establishment) ?? course.establishment,
          slot: course.slot,
          pupils,
        })),
      })
    },
  )
}
