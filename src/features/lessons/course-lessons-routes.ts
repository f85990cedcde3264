import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { type SignedInContext, signedInContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import type { FieldErrors } from '../../platform/forms.ts'
import { recordId } from '../../platform/http/schemas.ts'
import { tenantToday } from '../family/service.ts'
import {
  changeLesson,
  checkCancel,
  checkMove,
  closuresOf,
  courseLessons,
  type CourseLesson,
  lessonOr404,
  type MoveInput,
  type StaffCourse,
  staffCourse,
  timeline,
  whenText,
} from './course-lessons.ts'
import {
  addReplacement,
  checkReplacement,
  type ReplacementInput,
  removeReplacement,
  replacementChoices,
  replacementsOf,
} from './replacements.ts'

const text = (max: number) => ({ type: 'string', maxLength: max }) as const
const courseParams = { type: 'object', properties: { id: recordId }, required: ['id'] } as const
const lessonParams = {
  type: 'object',
  properties: { id: recordId, key: text(40) },
  required: ['id', 'key'],
} as const

const lessonNotices = ['annulee', 'deplacee', 'retablie'] as const
const replacementNotices = ['ajoute', 'retire'] as const

/**
 * The staff's lessons of a course (`/admin/cours/:id/seances`): the year's lessons and holidays,
 * one lesson cancelled, moved or restored (the families are mailed); and the course's replacement
 * teachers (`/admin/cours/:id/remplacements`). Reading is for every staff role, changing for those
 * who write records.
 */
export default async function courseLessonsRoutes(app: FastifyInstance) {
  const read = { constraints: { site: 'tenant' }, preHandler: app.requireRole(...staffAccess.read) }
  const records = { constraints: { site: 'tenant' }, preValidation: app.requireRole(...staffAccess.records) }
  const canWrite = (ctx: SignedInContext) =>
    (staffAccess.records as readonly string[]).includes(ctx.account.role)

  app.get<{ Params: { id: number }; Querystring: { fait?: string } }>(
    '/admin/cours/:id/seances',
    {
      ...read,
      schema: {
        params: courseParams,
        querystring: { type: 'object', properties: { fait: { type: 'string', enum: [...lessonNotices] } } },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const course = await staffCourse(ctx.db, request.params.id)
      const lessons = courseLessons(course, ctx.config, tenantToday(ctx.config))
      return reply.view('lessons/admin-course-lessons', {
        title: ctx.t('lessons.admin.title', { name: course.name }),
        course,
        items: timeline(lessons, closuresOf(course, ctx.config)),
        counts: {
          lessons: lessons.filter((l) => !l.cancelled).length,
          cancelled: lessons.filter((l) => l.cancelled).length,
        },
      })
    },
  )

  const renderLesson = (
    request: FastifyRequest,
    reply: FastifyReply,
    course: StaffCourse,
    lesson: CourseLesson,
    options: {
      notice?: string
      form?: 'cancel' | 'move'
      input?: Record<string, string | undefined>
      errors?: FieldErrors
    } = {},
  ) => {
    const ctx = signedInContext(request)
    const when = whenText(ctx.t, ctx.locale, lesson)
    const input = options.input ?? {}
    return reply.view('lessons/admin-course-lesson', {
      title: ctx.t('lessons.admin.lessonTitle', { name: course.name, when }),
      course,
      lesson,
      when,
      scheduledWhen: whenText(ctx.t, ctx.locale, { date: lesson.on, ...lesson.scheduled }),
      canWrite: canWrite(ctx),
      notice: options.notice ? ctx.t(`lessons.notice.${options.notice}` as 'lessons.notice.annulee') : '',
      form: options.form,
      errors: options.errors,
      labels: {
        reason: ctx.t('lessons.cancel.reason'),
        date: ctx.t('lessons.move.date'),
        start: ctx.t('lessons.move.start'),
        end: ctx.t('lessons.move.end'),
        room: ctx.t('lessons.move.room'),
      },
      cancel: { reason: options.form === 'cancel' ? (input.reason ?? '') : '' },
      move:
        options.form === 'move'
          ? { date: input.date ?? '', start: input.start ?? '', end: input.end ?? '', room: input.room ?? '' }
          : { date: lesson.date, start: lesson.start, end: lesson.end, room: lesson.room ?? '' },
    })
  }

  app.get<{ Params: { id: number; key: string }; Querystring: { fait?: string } }>(
    '/admin/cours/:id/seances/:key',
    {
      ...read,
      schema: {
        params: lessonParams,
        querystring: { type: 'object', properties: { fait: { type: 'string', enum: [...lessonNotices] } } },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const course = await staffCourse(ctx.db, request.params.id)
      const lesson = lessonOr404(course, ctx.config, request.params.key)
      return renderLesson(request, reply, course, lesson, { notice: request.query.fait })
    },
  )

  app.post<{ Params: { id: number; key: string }; Body: { reason?: string } }>(
    '/admin/cours/:id/seances/:key/annuler',
    {
      ...records,
      schema: {
        params: lessonParams,
        body: { type: 'object', properties: { _csrf: text(200), reason: text(2000) } },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const course = await staffCourse(ctx.db, request.params.id)
      const lesson = lessonOr404(course, ctx.config, request.params.key)
      const checked = checkCancel(ctx.t, request.body)
      if (checked.errors)
        return renderLesson(request, reply.code(400), course, lesson, {
          form: 'cancel',
          input: request.body,
          errors: checked.errors,
        })
      await changeLesson(ctx, course, lesson, { kind: 'cancelled', reason: checked.reason })
      return reply.redirect(`/admin/cours/${course.id}/seances/${lesson.key}?fait=annulee`, 303)
    },
  )

  app.post<{ Params: { id: number; key: string }; Body: MoveInput }>(
    '/admin/cours/:id/seances/:key/deplacer',
    {
      ...records,
      schema: {
        params: lessonParams,
        body: {
          type: 'object',
          properties: { _csrf: text(200), date: text(20), start: text(10), end: text(10), room: text(200) },
        },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const course = await staffCourse(ctx.db, request.params.id)
      const lesson = lessonOr404(course, ctx.config, request.params.key)
      const checked = checkMove(ctx.t, ctx.config, course, request.body)
      if (checked.errors)
        return renderLesson(request, reply.code(400), course, lesson, {
          form: 'move',
          input: request.body,
          errors: checked.errors,
        })
      await changeLesson(ctx, course, lesson, { kind: 'moved', to: checked.values })
      return reply.redirect(`/admin/cours/${course.id}/seances/${lesson.key}?fait=deplacee`, 303)
    },
  )

  app.post<{ Params: { id: number; key: string } }>(
    '/admin/cours/:id/seances/:key/retablir',
    {
      ...records,
      schema: { params: lessonParams, body: { type: 'object', properties: { _csrf: text(200) } } },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const course = await staffCourse(ctx.db, request.params.id)
      const lesson = lessonOr404(course, ctx.config, request.params.key)
      // restoring a lesson that is as scheduled changes nothing, and mails nobody
      if (lesson.cancelled || lesson.moved) await changeLesson(ctx, course, lesson, { kind: 'restored' })
      return reply.redirect(`/admin/cours/${course.id}/seances/${lesson.key}?fait=retablie`, 303)
    },
  )

  const renderReplacements = async (
    request: FastifyRequest,
    reply: FastifyReply,
    course: StaffCourse,
    options: { notice?: string; input?: ReplacementInput; errors?: FieldErrors } = {},
  ) => {
    const ctx = signedInContext(request)
    const [replacements, teachers] = await Promise.all([
      replacementsOf(ctx.db, course.id),
      replacementChoices(ctx.db, course),
    ])
    return reply.view('lessons/admin-replacements', {
      title: ctx.t('replacements.title', { name: course.name }),
      course,
      replacements,
      teachers,
      canWrite: canWrite(ctx),
      notice: options.notice
        ? ctx.t(`replacements.notice.${options.notice}` as 'replacements.notice.ajoute')
        : '',
      errors: options.errors,
      labels: {
        teacher: ctx.t('replacements.teacher'),
        from: ctx.t('replacements.from'),
        to: ctx.t('replacements.to'),
      },
      values: options.input ?? {},
    })
  }

  app.get<{ Params: { id: number }; Querystring: { fait?: string } }>(
    '/admin/cours/:id/remplacements',
    {
      ...read,
      schema: {
        params: courseParams,
        querystring: {
          type: 'object',
          properties: { fait: { type: 'string', enum: [...replacementNotices] } },
        },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      return renderReplacements(request, reply, await staffCourse(ctx.db, request.params.id), {
        notice: request.query.fait,
      })
    },
  )

  app.post<{ Params: { id: number }; Body: ReplacementInput }>(
    '/admin/cours/:id/remplacements',
    {
      ...records,
      schema: {
        params: courseParams,
        body: {
          type: 'object',
          properties: { _csrf: text(200), teacher: text(12), from: text(20), to: text(20) },
        },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const course = await staffCourse(ctx.db, request.params.id)
      const teachers = await replacementChoices(ctx.db, { teacherId: null })
      const checked = checkReplacement(ctx.t, course, teachers, request.body)
      if (checked.errors)
        return renderReplacements(request, reply.code(400), course, {
          input: request.body,
          errors: checked.errors,
        })
      await addReplacement(ctx, course, checked.values)
      return reply.redirect(`/admin/cours/${course.id}/remplacements?fait=ajoute`, 303)
    },
  )

  app.post<{ Params: { id: number; replacement: number } }>(
    '/admin/cours/:id/remplacements/:replacement/supprimer',
    {
      ...records,
      schema: {
        params: {
          type: 'object',
          properties: { id: recordId, replacement: recordId },
          required: ['id', 'replacement'],
        },
        body: { type: 'object', properties: { _csrf: text(200) } },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      await removeReplacement(ctx, request.params.id, request.params.replacement)
      return reply.redirect(`/admin/cours/${request.params.id}/remplacements?fait=retire`, 303)
    },
  )
}
