import { Instalment, Invoice } from '../features/billing/entities.ts'
import type { PaymentMethod } from '../features/billing/entities.ts'
import {
  type BillingContext,
  createDraftInvoice,
  creditNote,
  type DraftInvoice,
  issueInvoices,
  type PricedLine,
  recordPayment,
} from '../features/billing/invoices.ts'
import { Family } from '../features/family/entities.ts'
import { tenantToday } from '../features/family/service.ts'
import { Pupil } from '../features/pupils/entities.ts'
import { SchoolYear } from '../features/teaching/entities.ts'
import type { Actor } from '../platform/auth/context.ts'
import { Account } from '../platform/auth/entities.ts'
import type { Orm } from '../platform/db/orm.ts'
import { schemaFor } from '../platform/tenancy/registry.ts'
import type { TenantConfig } from '../platform/tenancy/tenant-config.ts'
import { translator } from '../platform/views/i18n.ts'

/*
 * The demo's invoices, priced by hand until the tariffs engine prices them: a yearly cotisation per
 * family in its payment mode's instalments (nine direct debits from November at Limonest), a rental
 * with its deposit for demo-famille, and payments, receipts and a credit note so that every state
 * shows: demo-famille's cotisation partly paid and its rental paid, the second family paid in full,
 * the third late, the fourth corrected by a credit note.
 */

const tuition = 45000
const adhesion = 1500
const families = 4

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

/** `count` monthly due dates from 5 November of the school year (or one at the end of October). */
function schedule(total: number, count: number, startYear: number) {
  if (count <= 1) return [{ dueOn: `${startYear}-10-31`, amount: total }]
  const base = Math.floor(total / count)
  return Array.from({ length: count }, (_, i) => {
    const month = ((10 + i) % 12) + 1
    const year = month >= 9 ? startYear : startYear + 1
    return {
      dueOn: `${year}-${String(month).padStart(2, '0')}-05`,
      amount: i === 0 ? total - base * (count - 1) : base,
    }
  })
}

/**
 * Gives the demo tenants' first families their invoices (idempotent: a tenant that has invoices is
 * left as is), through the billing services, acting as demo-secretariat.
 */
export async function seedDemoBilling(orm: Orm, configs: TenantConfig[], now = new Date()): Promise<void> {
  for (const config of configs) {
    const em = orm.em.fork({ schema: schemaFor(config.slug) })
    if (await em.count(Invoice)) continue
    const [year, secretariat] = await Promise.all([
      em.findOne(SchoolYear, { current: true }),
      em.findOne(Account, { identifiant: 'demo-secretariat' }),
    ])
    if (!year || !secretariat) continue
    const account: Actor = {
      id: secretariat.id,
      role: secretariat.role,
      identifiant: secretariat.identifiant,
      email: secretariat.email,
      displayName: secretariat.displayName,
    }
    const ctx: BillingContext = { em, config, t: translator('fr'), account }
    const today = tenantToday(config, now)
    const startYear = Number(year.label.slice(0, 4))
    // issued at the start of October, or today early in September
    const issuedOn = `${startYear}-10-01` < today ? `${startYear}-10-01` : today
    const issuedAt = new Date(`${issuedOn}T08:00:00Z`)
    const chosen = await em.find(Family, { archivedAt: null }, { orderBy: { id: 'asc' }, limit: families })
    const pupils = await em.find(
      Pupil,
      { family: { $in: chosen.map((f) => f.id) } },
      { orderBy: { birthDate: 'asc' } },
    )
    const drafts: DraftInvoice[] = chosen.map((family) => {
      const mode = config.paymentModes?.find((m) => m.id === family.paymentMode)
      const bracket = family.quotientBracket ?? config.quotientFamilial?.fallback
      const lines: PricedLine[] = [
        { label: 'Adhésion', detail: 'Par famille', amount: adhesion, kind: 'fee' },
      ]
      pupils
        .filter((p) => p.family.id === family.id)
        .forEach((pupil, rank) => {
          lines.push({
            pupilId: pupil.id,
            label: 'Cursus complet',
            detail: bracket ? `Cursus complet — ${bracket}` : 'Cursus complet',
            amount: tuition,
            kind: 'tuition',
          })
          if (rank > 0)
            lines.push({
              pupilId: pupil.id,
              label: 'Réduction deuxième enfant (10 %)',
              amount: -tuition / 10,
              kind: 'reduction',
            })
        })
      const total = lines.reduce((sum, l) => sum + l.amount, 0)
      return {
        familyId: family.id,
        kind: 'cotisation',
        schoolYear: year.label,
        paymentMode: family.paymentMode,
        lines,
        instalments: schedule(total, mode?.instalments ?? 1, startYear),
      }
    })
    const first = chosen[0]
    if (first) {
      const violin = pupils.find((p) => p.family.id === first.id)
      drafts.push({
        familyId: first.id,
        kind: 'location',
        schoolYear: year.label,
        paymentMode: first.paymentMode,
        lines: [
          {
            pupilId: violin?.id ?? null,
            label: 'Location violon 3/4',
            detail: 'Instrument n° VL-034',
            amount: 12000,
            kind: 'rental',
          },
          { label: 'Caution', detail: 'Rendue au retour de l’instrument', amount: 15000, kind: 'deposit' },
        ],
        instalments: [{ dueOn: issuedOn, amount: 27000 }],
      })
    }
    const invoices = drafts.map((draft) => createDraftInvoice(em, draft))
    await em.flush()
    await issueInvoices(
      ctx,
      invoices.map((i) => i.id),
      issuedAt,
    )
    const pay = async (
      invoice: Invoice,
      amount: number,
      method: PaymentMethod,
      on: string,
      reference?: string,
    ) =>
      recordPayment(
        ctx,
        { invoiceId: invoice.id, amount, method, receivedOn: on, reference },
        new Date(`${on}T12:00:00Z`),
      )
    const [mine, paid, late, corrected, rental] = invoices
    if (paid) await pay(paid, paid.total, 'cheque', issuedOn, 'Chèque n° 0001893')
    if (late && late.total > 0) {
      // a quarter paid with holiday vouchers, the rest overdue once its first date has passed
      await pay(late, Math.round(late.total / 4), 'holidayVouchers', issuedOn, 'ANCV')
    }
    if (rental) await pay(rental, rental.total, 'cheque', issuedOn, 'Chèque n° 0004128')
    // after the payments of the day of issue, so that receipts are numbered in the order of their dates
    if (mine) {
      // what fell due is paid the way the family chose; nothing due yet: the adhésion was paid by cheque
      const mode = config.paymentModes?.find((m) => m.id === mine.paymentMode)
      const all = await em.find(Instalment, { invoice: mine }, { orderBy: { dueOn: 'asc' } })
      // never the last one: the cotisation stays partly paid all year, July included
      const instalments = all.slice(0, -1).filter((i) => String(i.dueOn).slice(0, 10) <= today)
      // direct debits are collected by the month's debit files (demo/debits.ts), not at the desk
      const desk = mode?.kind === 'directDebit' ? [] : instalments
      for (const i of desk)
        await pay(mine, i.amount, methodOf[mode?.kind ?? ''] ?? 'cheque', String(i.dueOn).slice(0, 10))
      if (!instalments.length) await pay(mine, adhesion, 'cheque', issuedOn, 'Chèque n° 0004127')
    }
    if (corrected) {
      await creditNote(
        ctx,
        corrected.id,
        [
          {
            label: 'Adhésion offerte',
            detail: 'Famille accueillie en cours d’année',
            amount: adhesion,
            kind: 'fee',
          },
        ],
        'Adhésion offerte : arrivée en cours d’année',
        issuedAt,
      )
    }
  }
}
