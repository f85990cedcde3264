import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { signedInContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import type { FieldErrors } from '../../platform/forms.ts'
import { pageOf, pageParam } from '../../platform/http/pagination.ts'
import { idParams } from '../../platform/http/schemas.ts'
import { linkParts } from '../../platform/mail/outbox-page.ts'
import type { Translate } from '../../platform/views/i18n.ts'
import type { MessageKey } from '../../platform/views/messages/fr.ts'
import { actionGroups, checkJournalFilters, type JournalInput, journalRows } from './journal-view.ts'
import {
  administrationOverview,
  journal,
  type MailState,
  mailStates,
  outbox,
  outboxMail,
  resendMail,
} from './service.ts'

const text = (maxLength: number) => ({ type: 'string', maxLength }) as const

/** The mail templates named in the catalogue; another is shown by its file name. */
const mailTemplates = new Set([
  'change-decided',
  'change-received',
  'document-decided',
  'identifiants',
  'invitation',
  'invoice-reminder',
  'password-changed',
  'password-reset',
  'preregistration-confirmed',
  'preregistration-decided',
  'preregistration-saved',
  'reenrolment-decided',
  'reenrolment-submitted',
])

const templateLabel = (t: Translate, name: string) =>
  mailTemplates.has(name) ? t(`administration.template.${name}` as MessageKey) : name

/**
 * The admins' Administration: one page leading to the configuration, its versions, the accounts,
 * the journal of what was done (the audit trail, filtered by person, kind and days) and the
 * conservatoire's mails (their state, the last error, "Renvoyer"). Admins only.
 */
export default async function administration(app: FastifyInstance) {
  const adminOnly = { constraints: { site: 'tenant' }, preHandler: app.requireRole(...staffAccess.admin) }

  app.get('/admin/administration', adminOnly, async (request, reply) => {
    const ctx = signedInContext(request)
    return reply.view('administration/home', {
      title: ctx.t('administration.title'),
      overview: await administrationOverview(ctx),
    })
  })

  app.get<{ Querystring: Partial<JournalInput> & { page?: number } }>(
    '/admin/journal',
    {
      ...adminOnly,
      schema: {
        querystring: {
          type: 'object',
          properties: { qui: text(200), type: text(40), du: text(40), au: text(40), ...pageParam },
        },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { page = 1 } = request.query
      const input: JournalInput = {
        qui: request.query.qui ?? '',
        type: request.query.type ?? '',
        du: request.query.du ?? '',
        au: request.query.au ?? '',
      }
      const checked = checkJournalFilters(ctx, input)
      const found = await journal(ctx, checked.values, page)
      const view = {
        title: ctx.t('administration.journal.title'),
        input,
        errors: checked.errors,
        groups: actionGroups,
        people: found.people,
        keptNames: found.keptNames,
        // a date typed without a date picker stays as typed, in a text field
        dateType: (value: string) => (value === '' || /^\d{4}-\d{2}-\d{2}$/.test(value) ? 'date' : 'text'),
      }
      // a filter refused shows the form with its messages, not a list it did not ask for
      if (checked.errors) return reply.code(400).view('administration/journal', { ...view, rows: [] })
      return reply.view('administration/journal', {
        ...view,
        rows: journalRows(ctx, found.rows),
        page: pageOf(found.total, page, '/admin/journal', { ...input }),
      })
    },
  )

  app.get<{ Querystring: { etat?: MailState; q?: string; page?: number } }>(
    '/admin/courriels',
    {
      ...adminOnly,
      schema: {
        querystring: {
          type: 'object',
          properties: { etat: { type: 'string', enum: mailStates }, q: text(254), ...pageParam },
        },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { etat, q = '', page = 1 } = request.query
      const found = await outbox(ctx, { state: etat ?? null, query: q }, page)
      return reply.view('administration/outbox', {
        title: ctx.t('administration.outbox.title'),
        rows: found.rows.map((row) => ({ ...row, templateLabel: templateLabel(ctx.t, row.template) })),
        filters: { etat: etat ?? '', q },
        states: mailStates,
        page: pageOf(found.total, page, '/admin/courriels', { etat, q }),
      })
    },
  )

  const mailPage = async (request: FastifyRequest, reply: FastifyReply, id: number, errors?: FieldErrors) => {
    const ctx = signedInContext(request)
    const mail = await outboxMail(ctx, id)
    const done = (request.query as { fait?: string }).fait === 'renvoi' && !errors
    return reply.view('administration/mail', {
      title: ctx.t('administration.mail.title', { subject: mail.subject }),
      mail: { ...mail, templateLabel: templateLabel(ctx.t, mail.template) },
      parts: linkParts(mail.text),
      errors,
      notice: done ? ctx.t('administration.mail.done') : '',
    })
  }

  app.get<{ Params: { id: number }; Querystring: { fait?: 'renvoi' } }>(
    '/admin/courriels/:id',
    {
      ...adminOnly,
      schema: {
        params: idParams,
        querystring: { type: 'object', properties: { fait: { type: 'string', enum: ['renvoi'] } } },
      },
    },
    async (request, reply) => mailPage(request, reply, request.params.id),
  )

  app.post<{ Params: { id: number } }>(
    '/admin/courriels/:id/renvoyer',
    {
      ...adminOnly,
      schema: { params: idParams, body: { type: 'object', properties: { _csrf: text(200) } } },
    },
    async (request, reply) => {
      const id = request.params.id
      const errors = await resendMail(signedInContext(request), id)
      if (errors) return mailPage(request, reply.code(400), id, errors)
      return reply.redirect(`/admin/courriels/${id}?fait=renvoi`, 303)
    },
  )
}
