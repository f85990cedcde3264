import type { SignedInContext } from '../../src/platform/auth/context.ts'
import type { Role } from '../../src/platform/auth/entities.ts'
import type { DraftInvoice } from '../../src/features/billing/invoices.ts'
import { createDraftInvoice } from '../../src/features/billing/invoices.ts'
import { schemaFor } from '../../src/platform/tenancy/registry.ts'
import { translator } from '../../src/platform/views/i18n.ts'
import { createAccount } from './accounts.ts'
import { build } from './build.ts'
import { createFamily } from './families.ts'

/** A tenant that bills: an office address, a direct debit in 9 instalments and cheques. */
export const billingTenant = {
  contact: {
    email: 'regie@example.fr',
    phone: '04 78 00 00 00',
    address: '1 place de la Mairie\n69760 Limonest',
  },
  timezone: 'Europe/Paris',
  paymentModes: [
    { id: 'prelevement', label: 'Prélèvement automatique en 9 fois', kind: 'directDebit', instalments: 9 },
    { id: 'cheque', label: 'Chèque', kind: 'cheque' },
  ],
}

/** Next calendar year: the fixtures' schedules lie ahead whatever day the tests run (never late by the clock). */
export const nextYear = new Date().getUTCFullYear() + 1

/** Nine instalments from November, the way Limonest collects direct debits. */
export function nineInstalments(total: number, firstYear = nextYear) {
  const base = Math.floor(total / 9)
  return Array.from({ length: 9 }, (_, i) => {
    const month = ((10 + i) % 12) + 1
    const year = month >= 11 ? firstYear : firstYear + 1
    return {
      dueOn: `${year}-${String(month).padStart(2, '0')}-05`,
      amount: i === 0 ? total - base * 8 : base,
    }
  })
}

/** A cotisation for a pupil: tuition, the adhésion, a reduction, in 9 instalments. */
export function cotisation(familyId: number, pupilId: number): DraftInvoice {
  const lines = [
    {
      pupilId,
      label: 'Cursus complet',
      detail: 'Cursus complet — Q3',
      amount: 61200,
      kind: 'tuition' as const,
    },
    { label: 'Adhésion', amount: 1500, kind: 'fee' as const },
    { pupilId, label: 'Réduction deuxième enfant', amount: -6120, kind: 'reduction' as const },
  ]
  const total = lines.reduce((sum, l) => sum + l.amount, 0)
  return {
    familyId,
    kind: 'cotisation',
    schoolYear: '2026-2027',
    paymentMode: 'prelevement',
    lines,
    instalments: nineInstalments(total),
  }
}

/** An app over two billing tenants, with a family and a staff account of each role on the first. */
export async function billingSetUp(
  t: Parameters<typeof build>[0],
  tenant: Record<string, unknown> = billingTenant,
) {
  const built = await build(t, { tenants: [tenant, tenant] })
  const slug = built.tenants[0]!.slug
  const em = () => built.app.orm.em.fork({ schema: schemaFor(slug) })
  const mine = await createFamily(built.app, slug, 'famille-martin')
  const other = await createFamily(built.app, slug, 'famille-durand', 'Durand')
  const contextOf = async (role: Role, identifiant = `compte-${role}`) => {
    const account = await createAccount(built.app, slug, { identifiant, role })
    return {
      em: em(),
      t: translator('fr'),
      config: built.tenants[0]!,
      account: { id: account.id, role, identifiant, email: account.email, displayName: account.displayName },
    } as unknown as SignedInContext
  }
  const staff = await contextOf('secretariat')
  /** Drafts a cotisation for a family and flushes it. */
  const draft = async (input: DraftInvoice) => {
    const db = em()
    const invoice = createDraftInvoice(db, input)
    await db.flush()
    return invoice.id
  }
  return { ...built, slug, em, mine, other, staff, contextOf, draft }
}
