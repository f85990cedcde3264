import { readFileSync } from 'node:fs'
import { validateXML } from 'xmllint-wasm'
import { issueInvoices } from '../../src/features/billing/invoices.ts'
import { saveMandate } from '../../src/features/billing/mandates.ts'
import { tenantToday } from '../../src/features/family/service.ts'
import { Browser, goodPassword } from './accounts.ts'
import { billingSetUp, billingTenant } from './billing.ts'
import type { html } from './build.ts'

export const text = (value: string | undefined) => (value ?? '').replace(/[\s\u00a0\u202f]+/g, ' ').trim()
/** An invoice's balance as shown: { Total: '300,00 €', Payé: …, 'Reste à payer': … }. */
export const shownBalance = (page: ReturnType<typeof html>) =>
  Object.fromEntries(
    page
      .querySelectorAll('.invoice-balance div')
      .map((d) => [text(d.querySelector('dt')?.text), text(d.querySelector('dd')?.text)]),
  )
const schema = readFileSync(new URL('../fixtures/pain.008.001.02.xsd', import.meta.url), 'utf8')

/** What xmllint says of a document against the official pain.008.001.02 schema. */
export async function against(xml: string) {
  return validateXML({
    xml: [{ fileName: 'debits.xml', contents: xml }],
    schema: [{ fileName: 'pain.008.001.02.xsd', contents: schema }],
  })
}

/** A billing tenant that names its SEPA creditor. */
export const sepaTenant = {
  ...billingTenant,
  sepa: {
    name: 'Régie du conservatoire',
    creditorId: 'FR12ZZZ123456',
    iban: 'FR7630001007941234567890185',
    bic: 'BDFEFRPPCCT',
  },
}

// a family's account, fictional but with valid check digits
export const theirIban = 'FR7630006000011234567890189'

/** "2026-11" shifted by n months. */
export function monthFrom(month: string, n: number) {
  const [y, m] = month.split('-').map(Number) as [number, number]
  const index = y * 12 + (m - 1) + n
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`
}

/**
 * Two families billed by direct debit, 100 € on the 5th of three months: two months ago (already
 * past), next month and the one after; Martin has no mandate until `mandate()` records one.
 */
export async function debitSetUp(t: Parameters<typeof billingSetUp>[0]) {
  const built = await billingSetUp(t, sepaTenant)
  const { staff, mine, other, draft } = built
  const today = tenantToday(built.tenants[0]!)
  const thisMonth = today.slice(0, 7)
  const past = monthFrom(thisMonth, -2)
  const next = monthFrom(thisMonth, 1)
  const schedule = [past, next, monthFrom(thisMonth, 2)].map((m) => ({ dueOn: `${m}-05`, amount: 10000 }))
  const cotisation = (familyId: number, pupilId: number) => ({
    familyId,
    kind: 'cotisation' as const,
    schoolYear: '2026-2027',
    paymentMode: 'prelevement',
    lines: [{ pupilId, label: 'Cursus complet', amount: 30000, kind: 'tuition' as const }],
    instalments: schedule,
  })
  const tuition = await draft(cotisation(mine.family.id, mine.pupil.id))
  const theirs = await draft(cotisation(other.family.id, other.pupil.id))
  const issuedAt = new Date(`${past}-01T08:00:00Z`)
  await issueInvoices(staff, [tuition, theirs], issuedAt)
  const key = built.config.billingKey
  const signIn = async (role: 'secretariat' | 'direction' | 'teacher', host = built.host()) => {
    await built.contextOf(role, `${role}-web`).catch(() => undefined)
    const browser = new Browser(built.app, host)
    await browser.submit('/admin/connexion', '/admin/connexion', {
      identifiant: `${role}-web`,
      password: goodPassword,
    })
    return browser
  }
  /** Martin's mandate, signed before the first debit. */
  const mandate = () =>
    saveMandate(
      staff,
      mine.family.id,
      { holder: 'Camille Martin', iban: theirIban, bic: 'AGRIFRPP882', signedOn: `${past}-01` },
      key,
    )
  return { ...built, today, past, next, tuition, theirs, key, signIn, mandate, issuedAt }
}
