import { Invoice, InvoiceKind, InvoiceState, OnlinePayment } from '../features/billing/entities.ts'
import { creditedOn, paidOn } from '../features/billing/invoices.ts'
import { PayfipResult, refdetOf } from '../features/billing/payfip.ts'
import { Guardian } from '../features/family/entities.ts'
import { tenantToday } from '../features/family/service.ts'
import { SchoolYear } from '../features/teaching/entities.ts'
import type { Orm } from '../platform/db/orm.ts'
import { schemaFor } from '../platform/tenancy/registry.ts'
import type { TenantConfig } from '../platform/tenancy/tenant-config.ts'

/** `days` days before `today`, as YYYY-MM-DD. */
function daysBefore(today: string, days: number): string {
  return new Date(Date.parse(`${today}T12:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10)
}

/**
 * The demo's online payment, for each demo conservatoire with PayFiP: demo-famille paid its rental
 * invoice (its clarinet and deposit, billed by the year's generation) on PayFiP two days ago; the treasury has not confirmed it yet, so the
 * Locations tab shows "Paiement en cours de confirmation" until staff import the sample statement
 * (demo/tresor/) or confirm it by hand. Its cotisation still shows "Payer en ligne". Idempotent: a
 * tenant with an online payment is left as is. Runs after seedDemoBilling.
 */
export async function seedDemoPayfip(orm: Orm, configs: TenantConfig[], now = new Date()): Promise<void> {
  for (const config of configs) {
    if (!config.billing?.payfip) continue
    const em = orm.em.fork({ schema: schemaFor(config.slug) })
    if (await em.count(OnlinePayment)) continue
    const [year, family] = await Promise.all([
      em.findOne(SchoolYear, { current: true }),
      em.findOne(Guardian, { account: { identifiant: 'demo-famille' } }, { populate: ['account'] }),
    ])
    if (!year || !family?.account) continue
    const today = tenantToday(config, now)
    const rental = await em.findOne(
      Invoice,
      {
        family: family.family,
        kind: InvoiceKind.location,
        schoolYear: year.label,
        state: InvoiceState.issued,
      },
      { orderBy: { id: 'asc' } },
    )
    if (!rental) continue
    const amount =
      rental.total -
      ((await paidOn(em, [rental.id])).get(rental.id) ?? 0) -
      ((await creditedOn(em, [rental.id])).get(rental.id) ?? 0)
    if (amount <= 0) continue
    const issuedOn = String(rental.issuedAt!.toISOString()).slice(0, 10)
    const day = [daysBefore(today, 2), issuedOn].sort().at(-1)!
    const paidAt = new Date(`${day}T17:42:00Z`)
    em.create(OnlinePayment, {
      invoice: rental.id,
      amount,
      refdet: refdetOf(rental.number!, 1),
      startedAt: paidAt,
      startedBy: family.account.id,
      result: PayfipResult.paid,
      returnedAt: paidAt,
      authorisation: '354817',
      transactionAt: `${day.slice(8, 10)}${day.slice(5, 7)}${day.slice(0, 4)} 1843`,
    })
    await em.flush()
  }
}
