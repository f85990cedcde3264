import { OnlinePayment } from '../features/billing/entities.ts'
import { type BillingContext, createDraftInvoice, issueInvoices } from '../features/billing/invoices.ts'
import { PayfipResult, refdetOf } from '../features/billing/payfip.ts'
import { Guardian } from '../features/family/entities.ts'
import { tenantToday } from '../features/family/service.ts'
import { SchoolYear } from '../features/teaching/entities.ts'
import { Account } from '../platform/auth/entities.ts'
import type { Orm } from '../platform/db/orm.ts'
import { schemaFor } from '../platform/tenancy/registry.ts'
import type { TenantConfig } from '../platform/tenancy/tenant-config.ts'
import { translator } from '../platform/views/i18n.ts'

/** `days` days before `today`, as YYYY-MM-DD. */
function daysBefore(today: string, days: number): string {
  return new Date(Date.parse(`${today}T12:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10)
}

/**
 * The demo's online payment, for each demo conservatoire with PayFiP: demo-famille rented the
 * rehearsal room and paid it on PayFiP two days ago; the treasury has not confirmed it yet, so the
 * Locations tab shows "Paiement en cours de confirmation" until staff import the sample statement
 * (demo/tresor/) or confirm it by hand. Its cotisation still shows "Payer en ligne". Idempotent: a
 * tenant with an online payment is left as is. Runs after seedDemoBilling.
 */
export async function seedDemoPayfip(orm: Orm, configs: TenantConfig[], now = new Date()): Promise<void> {
  for (const config of configs) {
    if (!config.billing?.payfip) continue
    const em = orm.em.fork({ schema: schemaFor(config.slug) })
    if (await em.count(OnlinePayment)) continue
    const [year, secretariat, family] = await Promise.all([
      em.findOne(SchoolYear, { current: true }),
      em.findOne(Account, { identifiant: 'demo-secretariat' }),
      em.findOne(Guardian, { account: { identifiant: 'demo-famille' } }, { populate: ['account'] }),
    ])
    if (!year || !secretariat || !family?.account) continue
    const ctx: BillingContext = {
      em,
      config,
      t: translator('fr'),
      account: {
        id: secretariat.id,
        role: secretariat.role,
        identifiant: secretariat.identifiant,
        email: secretariat.email,
        displayName: secretariat.displayName,
      },
    }
    const today = tenantToday(config, now)
    const startYear = Number(year.label.slice(0, 4))
    const issuedOn = `${startYear}-10-01` < today ? `${startYear}-10-01` : today
    const rental = createDraftInvoice(em, {
      familyId: family.family.id,
      kind: 'location',
      schoolYear: year.label,
      paymentMode: config.paymentModes?.find((m) => m.kind === 'payfip')?.id ?? null,
      lines: [
        {
          label: 'Salle de répétition (1 h par semaine)',
          detail: 'Salle 2, le jeudi de 18 h à 19 h',
          amount: 6000,
          kind: 'rental',
        },
      ],
      instalments: [{ dueOn: issuedOn, amount: 6000 }],
    })
    await em.flush()
    const [issued] = await issueInvoices(ctx, [rental.id], new Date(`${issuedOn}T08:00:00Z`))
    const paidOn = [daysBefore(today, 2), issuedOn].sort().at(-1)!
    const paidAt = new Date(`${paidOn}T17:42:00Z`)
    em.create(OnlinePayment, {
      invoice: rental.id,
      amount: 6000,
      refdet: refdetOf(issued!.number, 1),
      startedAt: paidAt,
      startedBy: family.account.id,
      result: PayfipResult.paid,
      returnedAt: paidAt,
      authorisation: '354817',
      transactionAt: `${paidOn.slice(8, 10)}${paidOn.slice(5, 7)}${paidOn.slice(0, 4)} 1843`,
    })
    await em.flush()
  }
}
