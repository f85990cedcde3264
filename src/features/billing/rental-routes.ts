import type { FastifyInstance, FastifyReply } from 'fastify'
import { type SignedInContext, signedInContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import type { FieldErrors } from '../../platform/forms.ts'
import { idParams } from '../../platform/http/schemas.ts'
import { formatEuros } from '../../platform/views/money.ts'
import { fullName, tenantToday } from '../family/service.ts'
import { DepositOutcome } from './rental-entities.ts'
import {
  checkRental,
  checkReturn,
  createRental,
  endRental,
  type RentalRow,
  rentalCodes,
  rentalHolders,
  rentalList,
  staffRental,
} from './rentals.ts'

type FormBody = Record<string, string | undefined>

const formBody = (names: string[]) => ({
  type: 'object',
  properties: Object.fromEntries(names.map((name) => [name, { type: 'string', maxLength: 1000 }])),
})

/** The rental codes' labels, by code. */
const labelsOf = (ctx: SignedInContext) => new Map(rentalCodes(ctx).map((c) => [c.code, c.label]))

/** A rental as the staff pages show it: who has which item since when, and its deposit. */
function rentalView(ctx: SignedInContext, labels: Map<string, string>, row: RentalRow) {
  return {
    id: row.id,
    familyId: row.familyId,
    family: fullName({ firstName: row.guardianFirstName, lastName: row.guardianLastName }),
    pupil: row.pupilFirstName
      ? fullName({ firstName: row.pupilFirstName, lastName: row.pupilLastName ?? '' })
      : '',
    label: labels.get(row.code) ?? row.code,
    reference: row.reference,
    startOn: row.startOn,
    endOn: row.endOn,
    deposit: row.deposit ? formatEuros(row.deposit, ctx.locale) : '',
    depositState: row.deposit
      ? ctx.t(`billing.rentals.deposit.${row.depositOutcome ?? (row.endOn ? 'none' : 'held')}`)
      : '',
  }
}

/**
 * Staff's rentals (Facturation → Locations): the rentals running and ended, "Nouvelle location"
 * (an item of the stock lent to a pupil or a family from a day) and "Fin de location" (the item
 * back, its deposit returned or kept). Every staff role sees them; those who write records act.
 */
export default async function staffRentals(app: FastifyInstance) {
  const reads = { constraints: { site: 'tenant' }, preHandler: app.requireRole(...staffAccess.read) }
  const writes = { constraints: { site: 'tenant' }, preHandler: app.requireRole(...staffAccess.records) }
  const canWrite = (ctx: SignedInContext) =>
    (staffAccess.records as readonly string[]).includes(ctx.account.role)

  app.get('/admin/facturation/locations', reads, async (request, reply) => {
    const ctx = signedInContext(request)
    const rows = await rentalList(ctx)
    const labels = labelsOf(ctx)
    return reply.view('billing/staff-rentals', {
      title: ctx.t('billing.rentals.title'),
      rentals: rows.map((row) => rentalView(ctx, labels, row)),
      canWrite: canWrite(ctx),
      hasCodes: rentalCodes(ctx).length > 0,
    })
  })

  const renderNew = async (
    reply: FastifyReply,
    ctx: SignedInContext,
    submitted?: { input: FormBody; errors: FieldErrors },
  ) =>
    reply.view('billing/staff-rental-new', {
      title: ctx.t('billing.rentals.new'),
      holders: await rentalHolders(ctx),
      codes: rentalCodes(ctx).map((c) => ({
        ...c,
        deposit: c.deposit ? formatEuros(c.deposit, ctx.locale) : '',
      })),
      values: submitted?.input ?? { startOn: tenantToday(ctx.config) },
      errors: submitted?.errors,
      labels: {
        holder: ctx.t('billing.rentals.holder'),
        code: ctx.t('billing.rentals.code'),
        reference: ctx.t('billing.rentals.reference'),
        startOn: ctx.t('billing.rentals.startOn'),
      },
    })

  app.get('/admin/facturation/locations/nouvelle', writes, async (request, reply) =>
    renderNew(reply, signedInContext(request)),
  )

  app.post<{ Body: FormBody }>(
    '/admin/facturation/locations',
    { ...writes, schema: { body: formBody(['_csrf', 'holder', 'code', 'reference', 'startOn']) } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const checked = checkRental(
        request.body,
        ctx.t,
        rentalCodes(ctx).map((c) => c.code),
      )
      const created = checked.errors ? checked : await createRental(ctx, checked.values)
      if (created.errors)
        return renderNew(reply.code(400), ctx, { input: request.body, errors: created.errors })
      const id = 'rental' in created ? created.rental.id : 0
      return reply.redirect(`/admin/facturation/locations/${id}`, 303)
    },
  )

  const renderRental = async (
    reply: FastifyReply,
    ctx: SignedInContext,
    id: number,
    submitted?: { input: FormBody; errors: FieldErrors },
  ) => {
    const { rental, billed } = await staffRental(ctx, id)
    const shown = rentalView(ctx, labelsOf(ctx), rental)
    return reply.view('billing/staff-rental', {
      title: ctx.t('billing.rentals.rentalTitle', { label: shown.label, reference: shown.reference }),
      rental: shown,
      billed: billed.map((b) => ({
        ...b,
        kind: ctx.t(b.kind === 'deposit' ? 'billing.rentals.billed.deposit' : 'billing.rentals.billed.year', {
          year: b.schoolYear,
        }),
        amount: formatEuros(b.amount, ctx.locale),
      })),
      canEnd: !rental.endOn && canWrite(ctx),
      hasDeposit: rental.deposit > 0,
      outcomes: Object.values(DepositOutcome),
      values: submitted?.input ?? { returnedOn: tenantToday(ctx.config) },
      errors: submitted?.errors,
      labels: {
        returnedOn: ctx.t('billing.rentals.returnedOn'),
        deposit: ctx.t('billing.rentals.depositOutcome'),
      },
    })
  }

  app.get<{ Params: { id: number } }>(
    '/admin/facturation/locations/:id',
    { ...reads, schema: { params: idParams } },
    async (request, reply) => renderRental(reply, signedInContext(request), request.params.id),
  )

  app.post<{ Params: { id: number }; Body: FormBody }>(
    '/admin/facturation/locations/:id/fin',
    { ...writes, schema: { params: idParams, body: formBody(['_csrf', 'returnedOn', 'deposit']) } },
    async (request, reply) => {
      const ctx = signedInContext(request)
      const { id } = request.params
      const checked = checkReturn(request.body, ctx.t)
      const ended = checked.errors ? checked : await endRental(ctx, id, checked.values)
      if (ended.errors)
        return renderRental(reply.code(400), ctx, id, { input: request.body, errors: ended.errors })
      return reply.redirect(`/admin/facturation/locations/${id}`, 303)
    },
  )
}
