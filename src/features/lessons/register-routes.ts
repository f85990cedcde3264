import type { FastifyInstance, FastifyReply } from 'fastify'
import { type SignedInContext, signedInContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import { NotFound } from '../../platform/http/errors.ts'
import { recordId } from '../../platform/http/schemas.ts'
import { prepare } from '../../platform/db/reads.ts'
import type { Kysely } from 'kysely'
import type { TenantDb } from '../../entities.ts'
import type { CourseSlot } from '../teaching/entities.ts'
import { taughtCourse, teachesOn } from './access.ts'
import { addDays, weekday } from './calendar.ts'
import { attendanceStatuses } from './entities.ts'
import {
  checkRollCall,
  LessonCancelled,
  lessonsOfCourse,
  type RollCallErrors,
  type RollCallLesson,
  rollCallLesson,
  rosterLines,
  rosterOf,
  saveRollCall,
  shownStatus,
} from './register.ts'

const courseParams = { type: 'object', properties: { courseId: recordId }, required: ['courseId'] } as const
const keyParams = {
  type: 'object',
  properties: { key: { type: 'string', maxLength: 40 } },
  required: ['key'],
} as const
const rollCallBody = {
  type: 'object',
  properties: { _csrf: { type: 'string', maxLength: 200 } },
  // one radio group per pupil: eleve-<enrolment id>
  patternProperties: { '^eleve-\\d{1,9}$': { type: 'string', maxLength: 20 } },
} as const

const courseOfYearRead = prepare((db: Kysely<TenantDb>, p: { courseId: number }) =>
  db
    .selectFrom('course as c')
    .innerJoin('school_year as y', 'y.id', 'c.school_year_id')
    .select([
      'c.id',
      'c.name',
      'c.room',
      'c.establishment',
      'c.slots',
      'y.starts_on as startsOn',
      'y.ends_on as endsOn',
    ])
    .where('c.id', '=', p.courseId),
)

/** Any course, for staff: the one the lesson key names, with its school year. */
async function anyCourse(ctx: SignedInContext, courseId: number) {
  const row = await courseOfYearRead.first(ctx.db, { courseId })
  if (!row) return undefined
  return {
    id: row.id,
    name: row.name,
    room: row.room,
    establishment: row.establishment,
    slots: row.slots as CourseSlot[],
    year: { from: String(row.startsOn), to: String(row.endsOn) },
  }
}

const dayName = (ctx: SignedInContext, date: string) =>
  ctx.t(`register.day.${weekday(date)}` as 'register.day.1')

/**
 * The teacher's course pages and the roll call ("Faire l'appel"), for the teacher, a replacement on
 * their dates, and staff, who open and correct any roll call at /admin/seances/….
 */
export default async function register(app: FastifyInstance) {
  const teacher = { constraints: { site: 'tenant' }, preHandler: app.requireRole('teacher') }

  app.get<{ Params: { courseId: number } }>(
    '/enseignant/cours/:courseId',
    { ...teacher, schema: { params: courseParams } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const course = await taughtCourse(ctx.db, ctx.account.id, request.params.courseId)
      if (!course) throw new NotFound()
      const [rows, lessons] = await Promise.all([rosterOf(ctx.db, course.id), lessonsOfCourse(ctx, course)])
      const sites = new Map(ctx.config.establishments.map((e) => [e.code, e.name]))
      return reply.view('teaching/course', {
        title: course.name,
        course,
        site: sites.size > 1 ? sites.get(course.establishment) : undefined,
        pupils: rosterLines(ctx, course, rows),
        contacts: ctx.config.attendance?.teacherContacts ?? 'phone-and-email',
        coming: lessons.coming.map((l) => ({ ...l, day: dayName(ctx, l.date) })),
        past: lessons.past.map((l) => ({ ...l, day: dayName(ctx, l.date) })),
      })
    },
  )

  const forTeacher = async (ctx: SignedInContext, key: string) => {
    const courseId = Number(/^\d{1,9}/.exec(key)?.[0])
    const course = Number.isFinite(courseId)
      ? await taughtCourse(ctx.db, ctx.account.id, courseId)
      : undefined
    if (!course) return undefined
    return rollCallLesson(
      ctx,
      key,
      async () => course,
      (date) => teachesOn(course, date),
    )
  }
  const forStaff = (ctx: SignedInContext, key: string) =>
    rollCallLesson(ctx, key, (courseId) => anyCourse(ctx, courseId))

  const canCorrect = (ctx: SignedInContext) =>
    (staffAccess.records as readonly string[]).includes(ctx.account.role)

  const show = (
    ctx: SignedInContext,
    reply: FastifyReply,
    lesson: RollCallLesson,
    staff: boolean,
    refused?: { errors: RollCallErrors; typed: Map<number, string> },
    saved = false,
  ) => {
    const sites = new Map(ctx.config.establishments.map((e) => [e.code, e.name]))
    const base = staff ? '/admin/seances' : '/enseignant/seances'
    return reply.view('teaching/roll-call', {
      title: ctx.t('register.rollCall.title', { course: lesson.course.name }),
      lesson: lesson.lesson,
      course: lesson.course,
      day: dayName(ctx, lesson.lesson.date),
      site: sites.size > 1 ? sites.get(lesson.course.establishment) : undefined,
      action: `${base}/${lesson.key}`,
      back: `${staff ? '/admin' : '/enseignant'}/cours/${lesson.course.id}`,
      week: staff
        ? undefined
        : `/enseignant?semaine=${addDays(lesson.lesson.date, 1 - weekday(lesson.lesson.date))}`,
      calledAt: lesson.calledAt,
      calledBy: lesson.calledBy,
      future: lesson.future,
      readOnly: staff && !canCorrect(ctx),
      saved,
      refused,
      statuses: attendanceStatuses,
      pupils: lesson.roster.map((r) => {
        const typed = refused?.typed.get(r.enrolmentId)
        return {
          field: `eleve-${r.enrolmentId}`,
          name: `${r.firstName} ${r.lastName}`,
          status:
            typed && (attendanceStatuses as readonly string[]).includes(typed)
              ? typed
              : shownStatus(lesson, r.enrolmentId),
          notice: lesson.notices.get(r.enrolmentId),
          error: refused?.errors[`eleve-${r.enrolmentId}`],
        }
      }),
    })
  }

  const submit = async (
    ctx: SignedInContext,
    reply: FastifyReply,
    lesson: RollCallLesson,
    body: Record<string, unknown>,
    staff: boolean,
  ) => {
    const checked = checkRollCall(ctx, lesson, body)
    if (checked.errors)
      return show(ctx, reply.code(400), lesson, staff, { errors: checked.errors, typed: checked.typed })
    try {
      await saveRollCall(ctx, lesson, checked.statuses, { staff })
    } catch (error) {
      if (!(error instanceof LessonCancelled)) throw error
      const errors = { form: ctx.t('register.error.cancelled') }
      return show(ctx, reply.code(409), lesson, staff, { errors, typed: checked.typed })
    }
    return reply.redirect(`${staff ? '/admin/seances' : '/enseignant/seances'}/${lesson.key}?fait=1`, 303)
  }

  const noLesson = () => new NotFound('register.error.noLesson')

  app.get<{ Params: { key: string }; Querystring: { fait?: string } }>(
    '/enseignant/seances/:key',
    { ...teacher, schema: { params: keyParams } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const lesson = await forTeacher(ctx, request.params.key)
      if (!lesson) throw noLesson()
      return show(ctx, reply, lesson, false, undefined, request.query.fait !== undefined)
    },
  )

  app.post<{ Params: { key: string }; Body: Record<string, unknown> }>(
    '/enseignant/seances/:key',
    {
      constraints: { site: 'tenant' },
      preValidation: app.requireRole('teacher'),
      schema: { params: keyParams, body: rollCallBody },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const lesson = await forTeacher(ctx, request.params.key)
      if (!lesson) throw noLesson()
      return submit(ctx, reply, lesson, request.body, false)
    },
  )

  app.get<{ Params: { key: string }; Querystring: { fait?: string } }>(
    '/admin/seances/:key',
    {
      constraints: { site: 'tenant' },
      preHandler: app.requireRole(...staffAccess.read),
      schema: { params: keyParams },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const lesson = await forStaff(ctx, request.params.key)
      if (!lesson) throw noLesson()
      return show(ctx, reply, lesson, true, undefined, request.query.fait !== undefined)
    },
  )

  app.post<{ Params: { key: string }; Body: Record<string, unknown> }>(
    '/admin/seances/:key',
    {
      constraints: { site: 'tenant' },
      preValidation: app.requireRole(...staffAccess.records),
      schema: { params: keyParams, body: rollCallBody },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const lesson = await forStaff(ctx, request.params.key)
      if (!lesson) throw noLesson()
      return submit(ctx, reply, lesson, request.body, true)
    },
  )
}
