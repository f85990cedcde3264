import { type Checked, type FieldErrors, refusals } from '../../platform/forms.ts'
import type { Translate } from '../../platform/views/i18n.ts'
import type { PaymentMethod } from './entities.ts'

/** What staff record at the desk; direct debits, PayFiP and the treasury's payments come by their own flows. */
export const deskMethods = [
  'cheque',
  'cash',
  'holidayVouchers',
  'culturePass',
  'transfer',
  'card',
] as const satisfies readonly PaymentMethod[]

/**
 * An amount in euros as people type it: "120", "1 234,56", "1234.5", "45 €". Null when it is not
 * one (letters, three decimals, a sign).
 */
export function parseEuros(typed: string): number | null {
  const compact = typed.replace(/[\s\u00a0\u202f]/g, '').replace(/€$/, '')
  const match = /^(\d{1,7})(?:[.,](\d{1,2}))?$/.exec(compact)
  if (!match) return null
  return Number(match[1]) * 100 + Number((match[2] ?? '0').padEnd(2, '0'))
}

export interface PaymentValues {
  amount: number
  method: (typeof deskMethods)[number]
  receivedOn: string
  reference: string | null
}

/** The payment form: an amount in euros, how it was paid, the day it was received (not to come). */
export function checkPayment(
  input: Record<string, string | undefined>,
  t: Translate,
  today: string,
): Checked<PaymentValues> {
  const errors: FieldErrors = {}
  const amount = parseEuros(input.amount ?? '')
  if (!input.amount?.trim()) errors.amount = t('billing.error.amountMissing')
  else if (amount === null || amount <= 0) errors.amount = t('billing.error.amount')
  const method = deskMethods.find((m) => m === input.method)
  if (!method) errors.method = t('billing.error.method')
  const receivedOn = input.receivedOn?.trim() ?? ''
  if (!/^\d{4}-\d{2}-\d{2}$/.test(receivedOn) || Number.isNaN(Date.parse(receivedOn)))
    errors.receivedOn = t('billing.error.date')
  else if (receivedOn > today) errors.receivedOn = t('billing.error.future')
  const reference = input.reference?.trim() || null
  if (reference && reference.length > 100) errors.reference = t('billing.error.reference')
  return {
    values: { amount: amount ?? 0, method: method ?? 'cheque', receivedOn, reference },
    errors: refusals(errors),
  }
}
