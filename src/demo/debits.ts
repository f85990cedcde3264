import { exportDebits, rejectDebit } from '../features/billing/debits.ts'
import { Debit, InvoiceKind, Instalment, Invoice, SepaMandate } from '../features/billing/entities.ts'
import { ibanOf } from '../features/billing/iban.ts'
import type { BillingContext } from '../features/billing/invoices.ts'
import { saveMandate } from '../features/billing/mandates.ts'
import { Family, Guardian } from '../features/family/entities.ts'
import { fullName, tenantToday } from '../features/family/service.ts'
import { Account } from '../platform/auth/entities.ts'
import type { Orm } from '../platform/db/orm.ts'
import { schemaFor } from '../platform/tenancy/registry.ts'
import type { TenantConfig } from '../platform/tenancy/tenant-config.ts'
import { translator } from '../platform/views/i18n.ts'

/*
 * The demo's direct debits: a signed mandate for each family paying by direct debit (fictional
 * accounts whose IBAN check digits are right), every past month's debit file exported as staff
 * would have on the 1st, and the latest collection returned by the bank for lack of funds, so that
 * staff see the months, the file, the rejection, and demo-famille sees "Prélèvement rejeté".
 */

const banks = [
  { code: '30004', bic: 'BNPAFRPPXXX' },
  { code: '30002', bic: 'CRLYFRPPXXX' },
  { code: '13906', bic: 'AGRIFRPP839' },
  { code: '10096', bic: 'CMCIFRPPXXX' },
  { code: '20041', bic: 'PSSTFRPPLYO' },
] as const

/** A French account of the family: bank, branch, account number and its RIB key, as an IBAN. */
function demoIban(familyId: number) {
  const bank = banks[familyId % banks.length]!
  const branch = String(10000 + ((familyId * 7919) % 89999)).padStart(5, '0')
  const account = String(familyId * 104729 + 10000000000).slice(-11)
  const key = 97 - ((89 * Number(bank.code) + 15 * Number(branch) + 3 * Number(account)) % 97)
  return {
    iban: ibanOf('FR', `${bank.code}${branch}${account}${String(key).padStart(2, '0')}`),
    bic: bank.bic,
  }
}

const addDays = (day: string, n: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10)

/**
 * Mandates, past debit files and one rejection for the demo tenants that name a SEPA creditor
 * (idempotent: a tenant that has mandates is left as is). Run after seedDemoBilling.
 */
export async function seedDemoDebits(orm: Orm, configs: TenantConfig[], key: Buffer, now = new Date()) {
  for (const config of configs) {
    const modes = (config.paymentModes ?? []).filter((m) => m.kind === 'directDebit').map((m) => m.id)
    if (!config.sepa || !modes.length) continue
    const em = orm.em.fork({ schema: schemaFor(config.slug) })
    if (await em.count(SepaMandate)) continue
    const secretariat = await em.findOne(Account, { identifiant: 'demo-secretariat' })
    if (!secretariat) continue
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
    const families = await em.find(
      Family,
      { paymentMode: { $in: modes }, archivedAt: null },
      { orderBy: { id: 'asc' } },
    )
    const guardians = await em.find(Guardian, { family: { $in: families.map((f) => f.id) }, rank: 1 })
    const first = await em.findOne(
      Instalment,
      { invoice: { paymentMode: { $in: modes } } },
      { orderBy: { dueOn: 'asc' } },
    )
    // signed in September, before the first debit
    const september = first ? `${String(first.dueOn).slice(0, 4)}-09-15` : today
    const signedOn = [september, today].sort()[0]!
    for (const family of families) {
      const guardian = guardians.find((g) => g.family.id === family.id)
      if (!guardian) continue
      await saveMandate(
        ctx,
        family.id,
        {
          holder: fullName(guardian),
          ...demoIban(family.id),
          signedOn,
        },
        key,
        new Date(`${signedOn}T09:00:00Z`),
      )
    }
    const invoices = await em.find(Invoice, { paymentMode: { $in: modes } }, { populate: ['instalments'] })
    const months = [
      ...new Set(
        invoices.flatMap((i) =>
          i.instalments
            .getItems()
            .map((s) => String(s.dueOn).slice(0, 10))
            .filter((d) => d <= today)
            .map((d) => d.slice(0, 7)),
        ),
      ),
    ].sort()
    for (const month of months) await exportDebits(ctx, month, key, new Date(`${month}-01T08:00:00Z`))
    // demo-famille's latest debit comes back, so that the family sees it
    const demoFamily = await em.findOne(Guardian, { account: { identifiant: 'demo-famille' } })
    const [latest] = await em.find(
      Debit,
      demoFamily ? { payment: { family: demoFamily.family, invoice: { kind: InvoiceKind.cotisation } } } : {},
      {
        orderBy: { id: 'desc' },
        limit: 1,
      },
    )
    if (latest) {
      const collected = String(latest.collectedOn).slice(0, 10)
      const rejectedOn = addDays(collected, 3) <= today ? addDays(collected, 3) : collected
      if (rejectedOn <= today) await rejectDebit(ctx, latest.id, { reason: 'AM04', rejectedOn })
    }
  }
}
