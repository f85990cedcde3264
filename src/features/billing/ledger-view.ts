import type { SignedInContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import type { ReminderOutcome } from './reminders.ts'

/** Whether the signed-in staff member writes records (payments, reminders), not only reads them. */
export function writesRecords(ctx: SignedInContext): boolean {
  return (staffAccess.records as readonly string[]).includes(ctx.account.role)
}

const count = { type: 'integer', minimum: 0, maximum: 10_000 } as const

/** What "Relancer" did, carried by the redirect to the page it was pressed on. */
export const reminderNotice = {
  envoyees: count,
  deja: count,
  sansadresse: count,
  nonretard: count,
} as const

export interface ReminderNotice {
  envoyees?: number
  deja?: number
  sansadresse?: number
  nonretard?: number
}

// the pages "Relancer" is pressed on: the invoices list (with its filters) or an invoice's page
const returnPath = /^\/admin\/facturation(\/factures\/[0-9]{1,10})?(\?[A-Za-z0-9=&%+._-]*)?$/

/** Back where the reminders were asked, saying what was sent; anywhere else is the late invoices. */
export function afterReminders(retour: string | undefined, outcome: ReminderOutcome): string {
  const path = retour && returnPath.test(retour) ? retour : '/admin/facturation?etat=late'
  const url = new URL(path, 'http://tutti.invalid')
  for (const name of Object.keys(reminderNotice)) url.searchParams.delete(name)
  url.searchParams.set('envoyees', String(outcome.sent.length))
  const others: [string, string[]][] = [
    ['deja', outcome.alreadyToday],
    ['sansadresse', outcome.noEmail],
    ['nonretard', outcome.notLate],
  ]
  for (const [name, numbers] of others) if (numbers.length) url.searchParams.set(name, String(numbers.length))
  return `${url.pathname}${url.search}`
}

/** The sentences saying what "Relancer" did, empty when it was not pressed. */
export function reminderText(ctx: SignedInContext, notice: ReminderNotice): string[] {
  if (notice.envoyees === undefined) return []
  const lines = [ctx.t('billing.reminder.sent', { n: notice.envoyees })]
  if (notice.deja) lines.push(ctx.t('billing.reminder.alreadyToday', { n: notice.deja }))
  if (notice.sansadresse) lines.push(ctx.t('billing.reminder.noEmail', { n: notice.sansadresse }))
  if (notice.nonretard) lines.push(ctx.t('billing.reminder.notLate', { n: notice.nonretard }))
  return lines
}
