import { type Kysely, sql } from 'kysely'
import type { TenantDb } from '../../entities.ts'
import type { SignedInContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import { prepare } from '../../platform/db/reads.ts'
import { Forbidden } from '../../platform/http/errors.ts'
import { fullName } from '../family/service.ts'
import { currentSchoolYear } from '../teaching/service.ts'
import { InvoiceKind, LineKind } from './entities.ts'
import { type DraftInvoice, insertDraftInvoices, issueInvoices, type PricedLine } from './invoices.ts'
import { rentalPreview, stillUnbilled } from './rental-generation.ts'
import { quoteTuition, type TuitionQuote } from './tariffs.ts'

/** Each pupil enrolled this year with the disciplines of their active courses, and their family's facts. */
const enrolledRead = prepare((db: Kysely<TenantDb>, _: Record<string, never>) =>
  db
    .selectFrom('enrolment as e')
    .innerJoin('course as c', 'c.id', 'e.course_id')
    .innerJoin('school_year as y', 'y.id', 'c.school_year_id')
    .innerJoin('pupil as p', 'p.id', 'e.pupil_id')
    .innerJoin('family as f', 'f.id', 'p.family_id')
    .innerJoin('guardian as g', (join) => join.onRef('g.family_id', '=', 'f.id').on('g.rank', '=', 1))
    .where('y.current', '=', true)
    .where('e.active', '=', true)
    .where('f.archived_at', 'is', null)
    .select([
      'f.id as familyId',
      'f.resident',
      'f.quotient_bracket as quotientBracket',
      'f.payment_mode as paymentMode',
      'g.first_name as guardianFirstName',
      'g.last_name as guardianLastName',
      'p.id as pupilId',
      'p.first_name as firstName',
      'p.last_name as lastName',
      sql<string[]>`array_agg(distinct c.discipline order by c.discipline)`.as('disciplines'),
    ])
    .groupBy(['f.id', 'g.id', 'p.id'])
    .orderBy('g.sort_name')
    .orderBy('f.id')
    .orderBy('p.birth_date')
    .orderBy('p.id'),
)

/** Families that already have this year's tuition invoice (a draft or issued): never billed twice. */
const billedRead = prepare((db: Kysely<TenantDb>, params: { schoolYear: string }) =>
  db
    .selectFrom('invoice')
    .where('kind', '=', InvoiceKind.cotisation)
    .where('school_year', '=', params.schoolYear)
    .select('family_id as familyId')
    .distinct(),
)

export type AnomalyKind =
  | 'fallbackBracket'
  | 'noPaymentMode'
  | 'unknownPaymentMode'
  | 'unpriced'
  | 'unknownRental'

export interface GeneratedInvoice {
  familyId: number
  family: string
  pupils: string[]
  draft: DraftInvoice
  total: number
  instalments: number
  anomalies: { kind: AnomalyKind; detail?: string }[]
}

export interface GenerationPreview {
  schoolYear: string | undefined
  /** Whether the tenant has tariffs at all: without them nothing can be priced. */
  priced: boolean
  invoices: GeneratedInvoice[]
  total: number
  /** Families left out because their invoice of the year exists already. */
  alreadyBilled: number
  /** The location invoices of the rentals the year does not bill yet (rental-generation.ts). */
  rentals: GeneratedInvoice[]
}

/** A quote as an invoice's lines: each pupil's categories, reduction and fees, then the family's fees. */
function linesOf(quote: TuitionQuote, pupilIds: number[], pupilNames: string[]): PricedLine[] {
  const column =
    quote.column.kind === 'bracket'
      ? quote.column.label
      : quote.column.kind === 'nonResident'
        ? 'Non-résident'
        : 'Résident'
  const lines: PricedLine[] = []
  for (const pupil of quote.pupils) {
    const pupilId = pupilIds[pupil.index]
    const name = pupilNames[pupil.index] ?? ''
    for (const line of pupil.lines) {
      lines.push({
        pupilId,
        label: `${name} — ${line.label}`,
        detail: `${column}${quote.proration ? ` — ${quote.proration.charged}/${quote.proration.of}` : ''}`,
        amount: line.amount,
        kind: LineKind.tuition,
      })
    }
    if (pupil.reduction?.amount) {
      lines.push({
        pupilId,
        label: `${name} — réduction ${pupil.reduction.rank}e élève (${pupil.reduction.percent} %)`,
        amount: -pupil.reduction.amount,
        kind: LineKind.reduction,
      })
    }
    for (const fee of pupil.fees) {
      lines.push({ pupilId, label: `${name} — ${fee.label}`, amount: fee.amount, kind: LineKind.fee })
    }
  }
  for (const fee of quote.familyFees) lines.push({ label: fee.label, amount: fee.amount, kind: LineKind.fee })
  return lines
}

/**
 * The year's tuition invoices as the tariffs price them, from the active enrolments of the current
 * school year: one per family not billed yet, with what staff should look at (a resident without a
 * proven QF billed at the fallback bracket, no payment mode, disciplines no category prices).
 */
export async function generationPreview(ctx: SignedInContext): Promise<GenerationPreview> {
  if (!(staffAccess.read as readonly string[]).includes(ctx.account.role)) throw new Forbidden()
  const year = await currentSchoolYear(ctx.db)
  const tariffs = ctx.config.tariffs
  if (!year || !tariffs)
    return {
      schoolYear: year?.label,
      priced: Boolean(tariffs),
      invoices: [],
      total: 0,
      alreadyBilled: 0,
      rentals: [],
    }
  const [rows, billed, rentals] = await Promise.all([
    enrolledRead.all(ctx.db, {}),
    billedRead.all(ctx.db, { schoolYear: year.label }),
    rentalPreview(ctx, year),
  ])
  const done = new Set(billed.map((b) => b.familyId))
  const modes = new Set((ctx.config.paymentModes ?? []).map((m) => m.id))
  const byFamily = new Map<number, typeof rows>()
  for (const row of rows) {
    if (done.has(row.familyId)) continue
    byFamily.set(row.familyId, [...(byFamily.get(row.familyId) ?? []), row])
  }
  const invoices: GeneratedInvoice[] = []
  for (const [familyId, pupils] of byFamily) {
    const first = pupils[0]!
    const paymentMode = first.paymentMode && modes.has(first.paymentMode) ? first.paymentMode : null
    const quote = quoteTuition(ctx.config, tariffs, {
      schoolYear: year.label,
      family: { resident: first.resident, quotientBracket: first.quotientBracket, paymentMode },
      pupils: pupils.map((p) => ({ disciplines: p.disciplines })),
    })
    const names = pupils.map((p) => fullName(p))
    const anomalies: GeneratedInvoice['anomalies'] = []
    if (quote.column.kind === 'bracket' && quote.column.fallback)
      anomalies.push({ kind: 'fallbackBracket', detail: quote.column.label })
    if (!first.paymentMode) anomalies.push({ kind: 'noPaymentMode' })
    else if (!paymentMode) anomalies.push({ kind: 'unknownPaymentMode', detail: first.paymentMode })
    for (const pupil of quote.pupils) {
      if (pupil.unpriced.length > 0)
        anomalies.push({ kind: 'unpriced', detail: `${names[pupil.index]} : ${pupil.unpriced.join(', ')}` })
    }
    const lines = linesOf(
      quote,
      pupils.map((p) => p.pupilId),
      names,
    )
    if (lines.length === 0) continue
    invoices.push({
      familyId,
      family: fullName({ firstName: first.guardianFirstName, lastName: first.guardianLastName }),
      pupils: names,
      draft: {
        familyId,
        kind: InvoiceKind.cotisation,
        schoolYear: year.label,
        paymentMode,
        lines,
        instalments: quote.schedule.map((i) => ({ dueOn: i.due, amount: i.amount })),
      },
      total: quote.total,
      instalments: quote.schedule.length,
      anomalies,
    })
  }
  return {
    schoolYear: year.label,
    priced: true,
    invoices,
    total: invoices.reduce((sum, i) => sum + i.total, 0),
    alreadyBilled: done.size,
    rentals,
  }
}

/** This year's tuition and rental drafts: those a generation wrote and did not get to issue (a crash between). */
const leftoverRead = prepare((db: Kysely<TenantDb>, params: { schoolYear: string }) =>
  db
    .selectFrom('invoice')
    .where('kind', 'in', [InvoiceKind.cotisation, InvoiceKind.location])
    .where('school_year', '=', params.schoolYear)
    .where('state', '=', 'draft')
    .select('id'),
)

/**
 * Generates the previewed invoices and issues them in one action: the drafts are written in one
 * transaction holding the tenant's generation lock, with the families billed meanwhile (by another
 * staff member) left out, then numbered in one continuous sequence (issueInvoices). Drafts a previous
 * run wrote but did not issue are issued with them.
 */
export async function generateAndIssue(
  ctx: SignedInContext,
  now = new Date(),
): Promise<{ issued: number; total: number }> {
  if (!(staffAccess.records as readonly string[]).includes(ctx.account.role)) throw new Forbidden()
  const preview = await generationPreview(ctx)
  const schoolYear = preview.schoolYear
  if (!schoolYear) return { issued: 0, total: 0 }
  const { ids, total } = await ctx.em.fork().transactional(async (tx) => {
    await tx.execute('select pg_advisory_xact_lock(hashtext(?))', [`${ctx.tenant.schema} billing generation`])
    const billed = new Set((await billedRead.all(tx, { schoolYear })).map((b) => b.familyId))
    const fresh = [
      ...preview.invoices.filter((i) => !billed.has(i.familyId)),
      ...(await stillUnbilled(tx, schoolYear, preview.rentals)),
    ]
    await insertDraftInvoices(
      tx,
      fresh.map((i) => i.draft),
    )
    const leftovers = (await leftoverRead.all(tx, { schoolYear })).map((r) => r.id)
    return { ids: leftovers, total: fresh.reduce((sum, i) => sum + i.total, 0) }
  })
  if (ids.length === 0) return { issued: 0, total: 0 }
  const issued = await issueInvoices(ctx, ids, now)
  return { issued: issued.length, total }
}
