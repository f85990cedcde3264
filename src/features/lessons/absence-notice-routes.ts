import type { FastifyInstance, FastifyReply } from 'fastify'
import { type SignedInContext, signedInContext } from '../../platform/auth/context.ts'
import type { FieldErrors } from '../../platform/forms.ts'
import { NotFound } from '../../platform/http/errors.ts'
import { recordId } from '../../platform/http/schemas.ts'
import { coursePage } from '../pupils/pages.ts'
import { announceAbsence, type NoticeInput, noticesOf, withdrawAbsence } from './absence-notices.ts'

const text = (max: number) => ({ type: 'string', maxLength: max }) as const
const courseParams = {
  type: 'object',
  properties: { id: recordId, enrolment: recordId },
  required: ['id', 'enrolment'],
} as const

export const noticeOutcomes = ['signalee', 'retiree'] as const

/**
 * A pupil's course page in the Cours tab (`/eleves/:id/cours/:enrolment`), with, for a course of
 * the current year, the absences the family announced and the form to announce one.
 */
export async function renderCoursePage(
  ctx: SignedInContext,
  reply: FastifyReply,
  pupilId: number,
  enrolmentId: number,
  options: { outcome?: string; input?: NoticeInput; errors?: FieldErrors } = {},
) {
  const page = await coursePage(ctx, pupilId, enrolmentId)
  const notices = page.schedule ? await noticesOf(ctx, page.schedule) : undefined
  return reply.view('pupils/course', {
    ...page,
    notices,
    noticeForm: {
      action: `/eleves/${pupilId}/cours/${enrolmentId}/absences`,
      input: options.input ?? {},
      errors: options.errors,
      labels: { lesson: ctx.t('notices.lesson'), reason: ctx.t('notices.reason') },
      outcome: options.outcome
        ? ctx.t(`notices.outcome.${options.outcome}` as 'notices.outcome.signalee')
        : '',
    },
  })
}

/** Families announce an absence for a coming lesson, and withdraw it before the lesson starts. */
export default async function absenceNotices(app: FastifyInstance) {
  const familyOnly = { constraints: { site: 'tenant' }, preValidation: app.requireRole('family') }

  const current = async (ctx: SignedInContext, pupilId: number, enrolmentId: number) => {
    const page = await coursePage(ctx, pupilId, enrolmentId)
    // a past year's course takes no notice
    if (!page.schedule) throw new NotFound()
    return { schedule: page.schedule, notices: await noticesOf(ctx, page.schedule) }
  }

  app.post<{ Params: { id: number; enrolment: number }; Body: NoticeInput }>(
    '/eleves/:id/cours/:enrolment/absences',
    {
      ...familyOnly,
      schema: {
        params: courseParams,
        body: { type: 'object', properties: { _csrf: text(200), lesson: text(40), reason: text(2000) } },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { id, enrolment } = request.params
      const { schedule, notices } = await current(ctx, id, enrolment)
      const errors = await announceAbsence(ctx, schedule, notices, request.body)
      if (errors)
        return renderCoursePage(ctx, reply.code(400), id, enrolment, { input: request.body, errors })
      return reply.redirect(`/eleves/${id}/cours/${enrolment}?absence=signalee#absences-annoncees`, 303)
    },
  )

  app.post<{ Params: { id: number; enrolment: number; key: string } }>(
    '/eleves/:id/cours/:enrolment/absences/:key/retirer',
    {
      ...familyOnly,
      schema: {
        params: {
          type: 'object',
          properties: { id: recordId, enrolment: recordId, key: text(40) },
          required: ['id', 'enrolment', 'key'],
        },
        body: { type: 'object', properties: { _csrf: text(200) } },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { id, enrolment, key } = request.params
      const { schedule, notices } = await current(ctx, id, enrolment)
      const refused = await withdrawAbsence(ctx, schedule, notices, key)
      if (refused)
        return renderCoursePage(ctx, reply.code(400), id, enrolment, { errors: { withdraw: refused } })
      return reply.redirect(`/eleves/${id}/cours/${enrolment}?absence=retiree#absences-annoncees`, 303)
    },
  )
}
