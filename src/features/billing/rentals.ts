import { LockMode } from '@mikro-orm/core'
import type { Kysely } from 'kysely'
import { sql } from 'kysely'
import type { TenantDb } from '../../entities.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import { audit } from '../../platform/audit/audit.ts'
import { prepare } from '../../platform/db/reads.ts'
import { type Checked, type FieldErrors, refusals } from '../../platform/forms.ts'
import { Forbidden, NotFound } from '../../platform/http/errors.ts'
import { type Translate, translator } from '../../platform/views/i18n.ts'
import { Family } from '../family/entities.ts'
import { tenantToday } from '../family/service.ts'
import { Pupil } from '../pupils/entities.ts'
import { InvoiceKind, InvoiceLine, InvoiceState, LineKind } from './entities.ts'
import { type BillingContext, BillingRefused, creditNote } from './invoices.ts'
import { DepositOutcome, Rental, RentalItem } from './rental-entities.ts'
import { toCents } from './tariffs.ts'

/*
 * Rentals (locations): the tenant's stock of rented items, each known by its own reference, and
 * their assignments to a pupil or a family from a day until the item comes back, with the deposit
 * (caution) recorded. The year's location invoices are generated from them (rental-generation.ts).
 */

type ReadContext = BillingContext & { db: Parameters<typeof rentalsRead.all>[0] }

function requireStaff(ctx: BillingContext, roles: readonly string[] = staffAccess.records) {
  if (!roles.includes(ctx.account.role)) throw new Forbidden()
}

/** The rental codes of the tariffs, with their labels and deposits in cents. */
export function rentalCodes(ctx: Pick<BillingContext, 'config'>) {
  return (ctx.config.tariffs?.rentals ?? []).map((r) => ({
    code: r.code,
    label: r.label,
    deposit: toCents(r.deposit ?? 0),
  }))
}

const rentalsRead = prepare((db: Kysely<TenantDb>, params: { id: number | null }) =>
  db
    .selectFrom('rental as r')
    .innerJoin('rental_item as i', 'i.id', 'r.item_id')
    .innerJoin('guardian as g', (join) => join.onRef('g.family_id', '=', 'r.family_id').on('g.rank', '=', 1))
    .leftJoin('pupil as p', 'p.id', 'r.pupil_id')
    .where((eb) => eb.or([eb(sql<number | null>`${params.id}::int`, 'is', null), eb('r.id', '=', params.id)]))
    .select([
      'r.id',
      'r.family_id as familyId',
      sql<string>`to_char(r.start_on, 'YYYY-MM-DD')`.as('startOn'),
      sql<string | null>`to_char(r.end_on, 'YYYY-MM-DD')`.as('endOn'),
      'r.deposit',
      'r.deposit_outcome as depositOutcome',
      'i.code',
      'i.reference',
      'p.first_name as pupilFirstName',
      'p.last_name as pupilLastName',
      'g.first_name as guardianFirstName',
      'g.last_name as guardianLastName',
    ])
    .orderBy(sql`r.end_on is not null`)
    .orderBy('r.start_on', 'desc')
    .orderBy('r.id', 'desc'),
)

export type RentalRow = Awaited<ReturnType<typeof rentalsRead.all>>[number]

/** Staff's list: the rentals running first, then those ended, newest first. */
export async function rentalList(ctx: ReadContext): Promise<RentalRow[]> {
  requireStaff(ctx, staffAccess.read)
  return rentalsRead.all(ctx.db, { id: null })
}

/** The lines of invoices (issued or not) that bill a rental: its years and its deposit. */
const billedLinesRead = prepare((db: Kysely<TenantDb>, params: { rentalId: number }) =>
  db
    .selectFrom('invoice_line as l')
    .innerJoin('invoice as v', 'v.id', 'l.invoice_id')
    .where('l.rental_id', '=', params.rentalId)
    .select(['v.id as invoiceId', 'v.number', 'v.school_year as schoolYear', 'l.kind', 'l.amount'])
    .orderBy('v.id'),
)

/** One rental for staff, with the invoices that bill it; another tenant's id is a 404. */
export async function staffRental(ctx: ReadContext, id: number) {
  requireStaff(ctx, staffAccess.read)
  const rental = await rentalsRead.first(ctx.db, { id })
  if (!rental) throw new NotFound()
  return { rental, billed: await billedLinesRead.all(ctx.db, { rentalId: id }) }
}

/** Who may rent: each family still here with its pupils, for the form's list. */
const holdersRead = prepare((db: Kysely<TenantDb>, _: Record<string, never>) =>
  db
    .selectFrom('family as f')
    .innerJoin('guardian as g', (join) => join.onRef('g.family_id', '=', 'f.id').on('g.rank', '=', 1))
    .leftJoin('pupil as p', 'p.family_id', 'f.id')
    .where('f.archived_at', 'is', null)
    .select([
      'f.id as familyId',
      'g.first_name as guardianFirstName',
      'g.last_name as guardianLastName',
      'p.id as pupilId',
      'p.first_name as pupilFirstName',
      'p.last_name as pupilLastName',
    ])
    .orderBy('g.sort_name')
    .orderBy('f.id')
    .orderBy('p.birth_date')
    .orderBy('p.id'),
)

/** The form's holders: one group per family, the family itself (a room) then each of its pupils. */
export async function rentalHolders(ctx: ReadContext) {
  requireStaff(ctx)
  const rows = await holdersRead.all(ctx.db, {})
  const families = new Map<
    number,
    { name: string; value: string; pupils: { value: string; name: string }[] }
  >()
  for (const row of rows) {
    let family = families.get(row.familyId)
    if (!family) {
      family = {
        name: `${row.guardianLastName} ${row.guardianFirstName}`,
        value: `famille-${row.familyId}`,
        pupils: [],
      }
      families.set(row.familyId, family)
    }
    if (row.pupilId)
      family.pupils.push({
        value: `eleve-${row.pupilId}`,
        name: `${row.pupilFirstName} ${row.pupilLastName}`,
      })
  }
  return [...families.values()]
}

export interface RentalValues {
  /** The pupil the item is lent to, or the family (a room). */
  holder: { kind: 'pupil' | 'family'; id: number }
  code: string
  reference: string
  startOn: string
}

const isDay = (value: string) => /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value))

/** "CLA-014", "Salle B", "VL 3/4-2": letters, digits, spaces and . _ / - */
const referencePattern = /^[\p{L}\p{N}][\p{L}\p{N} ._/-]{0,39}$/u

/** The "Nouvelle location" form: who, which rental code, the item's reference, from when. */
export function checkRental(
  input: Record<string, string | undefined>,
  t: Translate,
  codes: readonly string[],
): Checked<RentalValues> {
  const errors: FieldErrors = {}
  const holderMatch = /^(famille|eleve)-(\d{1,10})$/.exec(input.holder ?? '')
  const holderId = Number(holderMatch?.[2])
  if (!holderMatch || !Number.isSafeInteger(holderId) || holderId < 1)
    errors.holder = t('billing.rentals.error.holder')
  const code = codes.find((c) => c === input.code)
  if (!code) errors.code = t('billing.rentals.error.code')
  const reference = (input.reference ?? '').trim().replace(/\s+/g, ' ').toLocaleUpperCase('fr')
  if (!reference) errors.reference = t('billing.rentals.error.referenceMissing')
  else if (!referencePattern.test(reference)) errors.reference = t('billing.rentals.error.reference')
  const startOn = (input.startOn ?? '').trim()
  if (!isDay(startOn)) errors.startOn = t('billing.rentals.error.date')
  return {
    values: {
      holder: { kind: holderMatch?.[1] === 'eleve' ? 'pupil' : 'family', id: holderId || 0 },
      code: code ?? '',
      reference,
      startOn,
    },
    errors: refusals(errors),
  }
}

/**
 * Lends an item from the stock (registered under the rental code at its first rental) to a pupil
 * or a family from a day, with the tariffs' deposit. Refused beside the field: an unknown pupil or
 * family, a reference registered under another code, an item not back from its current rental.
 */
export async function createRental(
  ctx: BillingContext,
  values: RentalValues,
): Promise<{ errors: FieldErrors } | { errors: undefined; rental: { id: number } }> {
  requireStaff(ctx)
  const codes = rentalCodes(ctx)
  return ctx.em.fork().transactional(async (tx) => {
    // one assignment at a time per tenant: two desks cannot lend the same item on the same day
    await tx.execute('select pg_advisory_xact_lock(hashtext(?))', ['rental assignment'])
    const errors: FieldErrors = {}
    const { holder } = values
    const pupil =
      holder.kind === 'pupil'
        ? await tx.findOne(Pupil, { id: holder.id, family: { archivedAt: null } }, { fields: ['family'] })
        : null
    const family =
      holder.kind === 'family'
        ? await tx.findOne(Family, { id: holder.id, archivedAt: null }, { fields: ['id'] })
        : null
    const familyId = pupil?.family.id ?? family?.id
    if (!familyId) errors.holder = ctx.t('billing.rentals.error.holder')
    const tariff = codes.find((c) => c.code === values.code)
    if (!tariff) errors.code = ctx.t('billing.rentals.error.code')
    let item = await tx.findOne(RentalItem, { reference: values.reference })
    if (item && tariff && item.code !== tariff.code) {
      const other = codes.find((c) => c.code === item!.code)
      errors.reference = ctx.t('billing.rentals.error.otherCode', { label: other?.label ?? item.code })
    } else if (item) {
      const running = await tx.findOne(Rental, {
        item,
        $or: [{ endOn: null }, { endOn: { $gt: values.startOn } }],
      })
      if (running) errors.reference = ctx.t('billing.rentals.error.rented')
    }
    const failed = refusals(errors)
    if (failed) return { errors: failed }
    item ??= tx.create(RentalItem, { code: tariff!.code, reference: values.reference })
    const rental = tx.create(Rental, {
      item,
      family: tx.getReference(Family, familyId!),
      pupil: pupil ? tx.getReference(Pupil, holder.id) : null,
      startOn: values.startOn,
      deposit: tariff!.deposit,
    })
    await tx.flush()
    audit(tx, ctx.account, {
      action: 'rental.create',
      subject: { type: 'rental', id: rental.id },
      details: { reference: item.reference, code: item.code, family: familyId, startOn: values.startOn },
    })
    return { errors: undefined, rental: { id: rental.id } }
  })
}

export interface ReturnValues {
  returnedOn: string
  deposit: DepositOutcome | null
}

/** "Fin de location": the day the item came back, and whether its deposit is returned or kept. */
export function checkReturn(input: Record<string, string | undefined>, t: Translate): Checked<ReturnValues> {
  const errors: FieldErrors = {}
  const returnedOn = (input.returnedOn ?? '').trim()
  if (!isDay(returnedOn)) errors.returnedOn = t('billing.rentals.error.date')
  const deposit = Object.values(DepositOutcome).find((o) => o === input.deposit) ?? null
  if (input.deposit && !deposit) errors.deposit = t('billing.rentals.error.deposit')
  return { values: { returnedOn, deposit }, errors: refusals(errors) }
}

/**
 * Ends a running rental on the day the item came back (not before it left, not to come). A deposit
 * returned is credited on the invoice that asked for it (a credit note, the invoice never changes);
 * a deposit kept stays paid. Either is said for a rental that has one.
 */
export async function endRental(
  ctx: BillingContext,
  id: number,
  values: ReturnValues,
  now = new Date(),
): Promise<{ errors: FieldErrors | undefined }> {
  requireStaff(ctx)
  const today = tenantToday(ctx.config, now)
  const ended = await ctx.em.fork().transactional(async (tx) => {
    const rental = await tx.findOne(Rental, id, { populate: ['item'], lockMode: LockMode.PESSIMISTIC_WRITE })
    if (!rental) throw new NotFound()
    const errors: FieldErrors = {}
    const startOn = String(rental.startOn).slice(0, 10)
    if (rental.endOn) errors.returnedOn = ctx.t('billing.rentals.error.ended')
    else if (values.returnedOn < startOn)
      errors.returnedOn = ctx.t('billing.rentals.error.beforeStart', {
        date: startOn.split('-').reverse().join('/'),
      })
    else if (values.returnedOn > today) errors.returnedOn = ctx.t('billing.error.future')
    if (rental.deposit > 0 && !values.deposit) errors.deposit = ctx.t('billing.rentals.error.deposit')
    const failed = refusals(errors)
    if (failed) return { errors: failed }
    rental.endOn = values.returnedOn
    rental.depositOutcome = rental.deposit > 0 ? values.deposit : null
    audit(tx, ctx.account, {
      action: 'rental.end',
      subject: { type: 'rental', id: rental.id },
      details: {
        reference: rental.item.reference,
        returnedOn: values.returnedOn,
        deposit: rental.depositOutcome,
      },
    })
    await tx.flush()
    return { errors: undefined, rental }
  })
  if (ended.errors || !('rental' in ended) || ended.rental.depositOutcome !== DepositOutcome.returned)
    return { errors: ended.errors }
  const line = await ctx.em.fork().findOne(
    InvoiceLine,
    {
      rental: id,
      kind: LineKind.deposit,
      invoice: { state: InvoiceState.issued, kind: InvoiceKind.location },
    },
    { populate: ['invoice'] },
  )
  if (!line) return { errors: undefined }
  try {
    await creditNote(
      ctx,
      line.invoice.id,
      [
        {
          pupilId: line.pupil?.id ?? null,
          label: line.label,
          detail: line.detail,
          amount: line.amount,
          kind: LineKind.deposit,
        },
      ],
      translator(ctx.config.locale)('billing.rentals.depositReturned', {
        reference: ended.rental.item.reference,
      }),
      now,
    )
  } catch (error) {
    // an invoice already credited in full (cancelled by staff) has no deposit left to give back
    if (!(error instanceof BillingRefused)) throw error
  }
  return { errors: undefined }
}
