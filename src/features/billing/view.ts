import type { Locale } from '../../platform/views/i18n.ts'
import { formatEuros } from '../../platform/views/money.ts'
import { fullName } from '../family/service.ts'
import type { DescribedInvoice } from './invoices.ts'

/**
 * An invoice's amounts, lines and payments written in euros, as both the family's Facturation and
 * staff's invoice page show them; each page adds what is its own (schedule, actions).
 */
export function invoiceAmounts(locale: Locale, d: DescribedInvoice) {
  const euros = (cents: number) => formatEuros(cents, locale)
  const { invoice, balance } = d
  return {
    id: invoice.id,
    number: invoice.number,
    issuedAt: invoice.issuedAt,
    total: euros(invoice.total),
    credited: balance.credited ? euros(balance.credited) : '',
    paid: euros(balance.paid),
    remaining: euros(Math.max(0, balance.remaining)),
    status: balance.status,
    lines: d.lines.map((l) => ({
      label: l.pupil ? `${fullName(l.pupil)} — ${l.label}` : l.label,
      detail: l.detail,
      amount: euros(l.amount),
    })),
    payments: d.payments.map((p) => ({
      id: p.id,
      receiptNumber: p.receiptNumber,
      amount: euros(p.amount),
      receivedOn: p.receivedOn,
      method: p.method,
      reference: p.reference,
      rejectedOn: p.rejectedOn,
      rejectionReason: p.rejectionReason,
    })),
  }
}
