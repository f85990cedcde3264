import { Invoice, InvoiceKind, type PaymentMethod } from '../features/billing/entities.ts'
import { generateAndIssue } from '../features/billing/generation.ts'
import { creditNote, recordPayment } from '../features/billing/invoices.ts'
import { createRental, endRental, type RentalValues } from '../features/billing/rentals.ts'
import { Family } from '../features/family/entities.ts'
import { tenantToday } from '../features/family/service.ts'
import { Pupil } from '../features/pupils/entities.ts'
import { SchoolYear } from '../features/teaching/entities.ts'
import type { SignedInContext } from '../platform/auth/context.ts'
import { Account } from '../platform/auth/entities.ts'
import type { Em, Orm } from '../platform/db/orm.ts'
import { schemaReader } from '../platform/db/reads.ts'
import { TenantStatus } from '../platform/tenancy/entities.ts'
import { schemaFor } from '../platform/tenancy/registry.ts'
import type { TenantConfig } from '../platform/tenancy/tenant-config.ts'
import { translator } from '../platform/views/i18n.ts'

/*
 * The demo's invoices, made the way staff make them: demo rentals lent through the rentals service,
 * then the year's generation from the enrolments and the tariffs (preview, then issue), acting as
 * demo-secretariat on the 1st of October. Then payments, receipts and a credit note so that every
 * state shows: demo-famille's cotisation partly paid and its rental paid, the second family paid in
 * full, the third a quarter paid (late once its first date has passed), the fourth corrected by a
 * credit note, the others paid as their instalments fell due.
 */

// a payment mode's kind as the method its money comes by
const methodOf: Record<string, PaymentMethod> = {
  directDebit: 'directDebit',
  payfip: 'payfip',
  holidayVouchers: 'holidayVouchers',
  localPass: 'culturePass',
  cash: 'cash',
  card: 'card',
  transfer: 'transfer',
}

const day = (value: Date | string) =>
  typeof value === 'string' ? value.slice(0, 10) : value.toISOString().slice(0, 10)

/** What a demo tenant's secretariat acts with: the request context a signed-in page would have. */
async function secretariatContext(em: Em, config: TenantConfig): Promise<SignedInContext | undefined> {
  const secretariat = await em.findOne(Account, { identifiant: 'demo-secretariat' })
  if (!secretariat) return undefined
  const schema = schemaFor(config.slug)
  return {
    tenant: {
      slug: config.slug,
      schema,
      config,
      status: TenantStatus.active,
      baseUrl: '',
      configVersion: null,
    },
    config,
    db: schemaReader(em, schema),
    em,
    locale: 'fr',
    t: translator('fr'),
    baseUrl: '',
    account: {
      id: secretariat.id,
      role: secretariat.role,
      identifiant: secretariat.identifiant,
      email: secretariat.email,
      displayName: secretariat.displayName,
    },
  }
}

/**
 * The demo's rentals of September, lent before the year's invoices are generated. Limonest lends
 * clarinets, each with its inventory number (one of them back from last year with its deposit
 * returned), and its rehearsal room to a family; the other conservatoires lend their first rental
 * item to demo-famille's first child. Answers how to lend a clarinet during the year, after the
 * invoices were issued, for a second generation that bills it prorated from its start.
 */
async function lendDemoItems(
  ctx: SignedInContext,
  startYear: number,
  today: string,
  now: Date,
): Promise<(() => Promise<unknown>) | undefined> {
  const rentals = ctx.config.tariffs?.rentals ?? []
  if (!rentals.length) return undefined
  const families = await ctx.em.find(Family, { archivedAt: null }, { orderBy: { id: 'asc' }, limit: 7 })
  const pupils = await ctx.em.find(
    Pupil,
    { family: { $in: families.map((f) => f.id) } },
    { orderBy: { family: 'asc', birthDate: 'asc', id: 'asc' } },
  )
  const pupilOf = (n: number) => pupils.find((p) => p.family.id === families[n]?.id)
  const lend = async (holder: RentalValues['holder'], code: string, reference: string, startOn: string) => {
    if (!holder.id) return undefined
    const lent = await createRental(ctx, { holder, code, reference, startOn })
    return 'rental' in lent ? lent.rental.id : undefined
  }
  const pupil = (n: number) => ({ kind: 'pupil' as const, id: pupilOf(n)?.id ?? 0 })
  if (!rentals.some((r) => r.code === 'clarinette')) {
    const first = rentals[0]!
    await lend(pupil(0), first.code, `${first.code.slice(0, 3).toUpperCase()}-034`, `${startYear}-09-12`)
    return undefined
  }
  // last year's clarinet, back at the end of June with its deposit returned
  const returned = await lend(pupil(4), 'clarinette', 'CLA-011', `${startYear - 1}-09-10`)
  if (returned) await endRental(ctx, returned, { returnedOn: `${startYear}-06-27`, deposit: 'returned' }, now)
  await lend(pupil(0), 'clarinette', 'CLA-012', `${startYear}-09-12`)
  await lend(pupil(1), 'clarinette', 'CLA-013', `${startYear}-09-19`)
  if (rentals.some((r) => r.code === 'salle-repetition'))
    await lend(
      { kind: 'family', id: families[2]?.id ?? 0 },
      'salle-repetition',
      'SALLE-B',
      `${startYear}-09-05`,
    )
  // in January, or today earlier in the year
  const january = `${startYear + 1}-01-08`
  return () => lend(pupil(5), 'clarinette', 'CLA-014', january < today ? january : today)
}

/**
 * Gives the demo tenants their rentals and the year's invoices (idempotent: a tenant that has
 * invoices is left as is), through the billing services, acting as demo-secretariat.
 */
export async function seedDemoBilling(orm: Orm, configs: TenantConfig[], now = new Date()): Promise<void> {
  for (const config of configs) {
    const em = orm.em.fork({ schema: schemaFor(config.slug) })
    if (await em.count(Invoice)) continue
    const [year, ctx] = await Promise.all([
      em.findOne(SchoolYear, { current: true }),
      secretariatContext(em, config),
    ])
    if (!year || !ctx || !config.tariffs) continue
    const today = tenantToday(config, now)
    const startYear = Number(year.label.slice(0, 4))
    // issued at the start of October, or today early in September
    const issuedOn = `${startYear}-10-01` < today ? `${startYear}-10-01` : today
    const issuedAt = new Date(`${issuedOn}T08:00:00Z`)
    const lendLater = await lendDemoItems(ctx, startYear, today, now)
    await generateAndIssue(ctx, issuedAt)
    if (lendLater) {
      await lendLater()
      await generateAndIssue(ctx, now)
    }

    const invoices = await em.find(
      Invoice,
      { kind: { $in: [InvoiceKind.cotisation, InvoiceKind.location] } },
      { populate: ['lines', 'instalments'], orderBy: { family: 'asc', id: 'asc' } },
    )
    const pay = (invoice: Invoice, amount: number, method: PaymentMethod, on: string, reference?: string) =>
      recordPayment(
        ctx,
        { invoiceId: invoice.id, amount, method, receivedOn: on, reference },
        new Date(`${on}T12:00:00Z`),
      )
    /** What fell due is paid the way the family chose (never the last instalment: the year is not over). */
    const dues = (invoice: Invoice) =>
      invoice.instalments
        .getItems()
        .slice(0, -1)
        .filter((i) => day(i.dueOn) <= today)
    const modeKind = (invoice: Invoice) =>
      config.paymentModes?.find((m) => m.id === invoice.paymentMode)?.kind ?? ''
    const modeMethod = (invoice: Invoice) => methodOf[modeKind(invoice)] ?? 'cheque'
    const cotisations = invoices.filter((i) => i.kind === InvoiceKind.cotisation)
    const [mine, paid, late, corrected] = cotisations
    // the payments of the day of issue first, so that receipts are numbered in the order of their dates
    if (paid) await pay(paid, paid.total, 'cheque', issuedOn, 'Chèque n° 0001893')
    const first = late?.instalments.getItems()[0]
    // half its first instalment paid with holiday vouchers: late (to remind) once that date has passed
    if (late && first) await pay(late, Math.round(first.amount / 2), 'holidayVouchers', issuedOn, 'ANCV')
    const rental = invoices.find((i) => i.kind === InvoiceKind.location && i.family.id === mine?.family.id)
    // where the tenant has PayFiP, demo-famille pays its rental online instead (demo/payfip.ts)
    if (rental && !config.billing?.payfip)
      await pay(rental, rental.total, 'cheque', issuedOn, 'Chèque n° 0004128')
    const adhesion = mine?.lines.getItems().find((l) => l.kind === 'fee')
    const instalments: { invoice: Invoice; dueOn: string; amount: number }[] = []
    for (const invoice of invoices) {
      if (invoice === paid || invoice === late || invoice === rental) continue
      if (invoice === mine && !dues(invoice).length && adhesion) {
        await pay(invoice, adhesion.amount, 'cheque', issuedOn, 'Chèque n° 0004127')
        continue
      }
      // where the tenant names a SEPA creditor, direct debits are collected by the month's debit files
      // (demo/debits.ts), not at the desk
      if (config.sepa && modeKind(invoice) === 'directDebit') continue
      for (const i of dues(invoice)) instalments.push({ invoice, dueOn: day(i.dueOn), amount: i.amount })
    }
    instalments.sort((a, b) => a.dueOn.localeCompare(b.dueOn) || a.invoice.id - b.invoice.id)
    for (const i of instalments) await pay(i.invoice, i.amount, modeMethod(i.invoice), i.dueOn)
    const offered = corrected?.lines.getItems().find((l) => l.kind === 'fee')
    if (corrected && offered)
      await creditNote(
        ctx,
        corrected.id,
        [
          {
            label: offered.label,
            detail: 'Famille accueillie en cours d’année',
            amount: offered.amount,
            kind: 'fee',
          },
        ],
        'Adhésion offerte : arrivée en cours d’année',
        issuedAt,
      )
  }
}
