import type { FastifyInstance, FastifyReply } from 'fastify'
import { type SignedInContext, signedInContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import type { FieldErrors } from '../../platform/forms.ts'
import { idParams } from '../../platform/http/schemas.ts'
import { formatDate } from '../../platform/views/dates.ts'
import { formatEuros } from '../../platform/views/money.ts'
import { fullName, tenantToday } from '../family/service.ts'
import {
  checkRejection,
  debitFile,
  debitMonth,
  debitMonths,
  exportDebits,
  monthLabel,
  rejectDebit,
  rejectionReasons,
} from './debits.ts'
import { checkMandate, familyMandates, revokeMandate, saveMandate } from './mandates.ts'

type FormBody = Record<string, string | undefined>

const formBody = (names: string[]) => ({
  type: 'object',
  properties: Object.fromEntries(names.map((name) => [name, { type: 'string', maxLength: 1000 }])),
})

const monthPattern = '^[0-9]{4}-(0[1-9]|1[0-2])$'

const monthQuery = {
  type: 'object',
  properties: {
    mois: { type: 'string', pattern: monthPattern },
    exporte: { type: 'string', enum: ['1'] },
    rejet: { type: 'integer', minimum: 1, maximum: 2147483647 },
  },
} as const

const mandateQuery = {
  type: 'object',
  properties: { enregistre: { type: 'string', enum: ['1'] }, revoque: { type: 'string', enum: ['1'] } },
} as const

const canWrite = (ctx: SignedInContext) =>
  (staffAccess.records as readonly string[]).includes(ctx.account.role)

/**
 * Direct debits for staff: a family's SEPA mandate (recorded, replaced, revoked), the month's debits
 * with the pain.008 export that collects them, the files kept for download, and rejections.
 */
export default async function staffDebits(app: FastifyInstance) {
  const reads = { constraints: { site: 'tenant' }, preHandler: app.requireRole(...staffAccess.read) }
  // the role is checked before the body is validated: a family posting nothing is refused, not told its form is wrong
  const writes = { constraints: { site: 'tenant' }, preValidation: app.requireRole(...staffAccess.records) }
  const key = app.config.billingKey

  const renderMandate = async (
    reply: FastifyReply,
    ctx: SignedInContext,
    familyId: number,
    submitted?: { input: FormBody; errors: FieldErrors },
    notice = '',
  ) => {
    const { guardian, active, revoked } = await familyMandates(ctx, familyId)
    const name = guardian ? fullName(guardian) : ''
    return reply.view('billing/mandate', {
      title: ctx.t('billing.sepa.mandate.title', { name }),
      familyId,
      familyName: name,
      active,
      revoked,
      canWrite: canWrite(ctx),
      // the IBAN typed is shown again only when refused, to be corrected; never once saved
      values: submitted?.input ?? { holder: name, signedOn: tenantToday(ctx.config) },
      errors: submitted?.errors,
      labels: {
        holder: ctx.t('billing.sepa.mandate.holder'),
        iban: ctx.t('billing.sepa.mandate.iban'),
        bic: ctx.t('billing.sepa.mandate.bic'),
        signedOn: ctx.t('billing.sepa.mandate.signedOn'),
      },
      notice,
    })
  }

  app.get<{ Params: { id: number }; Querystring: { enregistre?: string; revoque?: string } }>(
    '/admin/facturation/familles/:id/mandat',
    { ...reads, schema: { params: idParams, querystring: mandateQuery } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { id } = request.params
      if (request.query.enregistre || request.query.revoque) {
        const { active, revoked } = await familyMandates(ctx, id)
        const notice = request.query.enregistre
          ? active && ctx.t('billing.sepa.mandate.saved', { reference: active.reference })
          : revoked[0] && ctx.t('billing.sepa.mandate.revoked', { reference: revoked[0].reference })
        return renderMandate(reply, ctx, id, undefined, notice || '')
      }
      return renderMandate(reply, ctx, id)
    },
  )

  app.post<{ Params: { id: number }; Body: FormBody }>(
    '/admin/facturation/familles/:id/mandat',
    {
      ...writes,
      schema: { params: idParams, body: formBody(['_csrf', 'holder', 'iban', 'bic', 'signedOn']) },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { id } = request.params
      const checked = checkMandate(request.body, ctx.t, tenantToday(ctx.config))
      if (checked.errors)
        return renderMandate(reply.code(400), ctx, id, { input: request.body, errors: checked.errors })
      await saveMandate(ctx, id, checked.values, key)
      return reply.redirect(`/admin/facturation/familles/${id}/mandat?enregistre=1`, 303)
    },
  )

  app.post<{ Params: { id: number } }>(
    '/admin/facturation/familles/:id/mandat/revocation',
    { ...writes, schema: { params: idParams, body: formBody(['_csrf']) } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      await revokeMandate(ctx, request.params.id)
      return reply.redirect(`/admin/facturation/familles/${request.params.id}/mandat?revoque=1`, 303)
    },
  )

  const renderMonth = async (
    reply: FastifyReply,
    ctx: SignedInContext,
    month: string,
    options: {
      exportErrors?: FieldErrors
      rejection?: { id: number; input: FormBody; errors: FieldErrors }
      notice?: string
    } = {},
  ) => {
    const euros = (cents: number) => formatEuros(cents, ctx.locale)
    const label = monthLabel(month, ctx.locale)
    const [page, months] = await Promise.all([debitMonth(ctx, month), debitMonths(ctx, month)])
    const { batch } = page
    return reply.view('billing/debits', {
      title: ctx.t('billing.sepa.debits.title'),
      month,
      monthText: label,
      months: months.map((m) => ({ value: m, label: monthLabel(m, ctx.locale) })),
      canWrite: canWrite(ctx),
      creditor: Boolean(ctx.config.sepa),
      batch: batch && {
        id: batch.id,
        exported: ctx.t('billing.sepa.debits.exported', {
          month: label,
          date: formatDate(batch.createdAt, ctx.config.timezone),
          name: batch.exportedBy?.displayName ?? '—',
          count: batch.count,
          total: euros(batch.total),
        }),
      },
      batches: page.batches.map((b) => ({
        month: b.month,
        label: monthLabel(b.month, ctx.locale),
        count: b.count,
        total: euros(b.total),
      })),
      debits: page.debits.map((d) => ({
        id: d.id,
        familyId: d.payment.family.id,
        familyName: page.names.get(d.payment.family.id) ?? '',
        invoiceId: d.payment.invoice.id,
        invoiceNumber: d.payment.invoice.number,
        endToEndId: d.endToEndId,
        collectedOn: d.collectedOn,
        amount: euros(d.payment.amount),
        mandate: d.mandate.reference,
        iban: d.mandate.ibanMasked,
        sequenceType: d.sequenceType,
        rejectedOn: d.payment.rejectedOn,
        rejectionReason: d.payment.rejectionReason,
      })),
      due: page.due.map((d) => ({
        familyId: d.familyId,
        familyName: d.familyName,
        invoiceId: d.invoice.id,
        invoiceNumber: d.invoice.number,
        dueOn: d.dueOn,
        amount: euros(d.amount),
        mandate: d.mandate?.reference,
        iban: d.mandate?.ibanMasked,
        sequenceType: d.sequenceType,
      })),
      dueTotal: euros(page.due.reduce((sum, d) => sum + d.amount, 0)),
      dueCount: page.due.length,
      anomalies: page.anomalies.map((d) => ({
        familyId: d.familyId,
        familyName: d.familyName,
        invoiceId: d.invoice.id,
        invoiceNumber: d.invoice.number,
        dueOn: d.dueOn,
        amount: euros(d.amount),
      })),
      reasons: rejectionReasons,
      today: tenantToday(ctx.config),
      exportErrors: options.exportErrors,
      rejection: options.rejection,
      notice: options.notice ?? '',
    })
  }

  const currentMonth = (ctx: SignedInContext) => tenantToday(ctx.config).slice(0, 7)

  app.get<{ Querystring: { mois?: string; exporte?: string; rejet?: number } }>(
    '/admin/facturation/prelevements',
    { ...reads, schema: { querystring: monthQuery } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const month = request.query.mois ?? currentMonth(ctx)
      const notice = request.query.exporte
        ? ctx.t('billing.sepa.debits.exportedNotice', { month: monthLabel(month, ctx.locale) })
        : request.query.rejet
          ? ctx.t('billing.sepa.reject.saved', { id: request.query.rejet })
          : ''
      return renderMonth(reply, ctx, month, { notice })
    },
  )

  app.post<{ Body: FormBody }>(
    '/admin/facturation/prelevements',
    {
      ...writes,
      schema: {
        body: {
          type: 'object',
          required: ['mois'],
          properties: {
            _csrf: { type: 'string', maxLength: 1000 },
            mois: { type: 'string', pattern: monthPattern },
          },
        },
      },
    },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const month = request.body.mois!
      const exported = await exportDebits(ctx, month, key)
      if (exported.errors) return renderMonth(reply.code(400), ctx, month, { exportErrors: exported.errors })
      return reply.redirect(`/admin/facturation/prelevements?mois=${month}&exporte=1`, 303)
    },
  )

  app.get<{ Params: { id: number } }>(
    '/admin/facturation/prelevements/:id/fichier',
    { ...reads, schema: { params: idParams } },
    async (request, reply) => {
      const batch = await debitFile(signedInContext(request), request.params.id, key)
      return reply
        .header('content-type', 'application/xml; charset=utf-8')
        .header('content-disposition', `attachment; filename="prelevements-${batch.month}.xml"`)
        .header('x-content-type-options', 'nosniff')
        .send(batch.xml)
    },
  )

  app.post<{ Params: { id: number }; Body: FormBody }>(
    '/admin/facturation/prelevements/operations/:id/rejet',
    { ...writes, schema: { params: idParams, body: formBody(['_csrf', 'mois', 'reason', 'rejectedOn']) } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { id } = request.params
      const checked = checkRejection(request.body, ctx.t, tenantToday(ctx.config))
      const rejected = checked.errors ? checked : await rejectDebit(ctx, id, checked.values)
      if (rejected.errors) {
        const month = /^\d{4}-\d{2}$/.test(request.body.mois ?? '') ? request.body.mois! : currentMonth(ctx)
        return renderMonth(reply.code(400), ctx, month, {
          rejection: { id, input: request.body, errors: rejected.errors },
        })
      }
      const month = 'month' in rejected ? rejected.month : currentMonth(ctx)
      return reply.redirect(`/admin/facturation/prelevements?mois=${month}&rejet=${id}`, 303)
    },
  )
}
