import { UniqueConstraintViolationException } from '@mikro-orm/core'
import type { SignedInContext } from '../../platform/auth/context.ts'
import { Account } from '../../platform/auth/entities.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import { audit } from '../../platform/audit/audit.ts'
import { Forbidden } from '../../platform/http/errors.ts'
import { queueMail } from '../../platform/mail/outbox.ts'
import { formatDate } from '../../platform/views/dates.ts'
import { translator } from '../../platform/views/i18n.ts'
import { formatEuros } from '../../platform/views/money.ts'
import { Guardian } from '../family/entities.ts'
import { fullName, tenantToday } from '../family/service.ts'
import { InvoiceKind, InvoiceReminder, InvoiceState } from './entities.ts'
import { InvoiceStatus, staffInvoice } from './invoices.ts'
import { invoicePdf } from './pdf.ts'
import { pdfFrame } from './pdf-download.ts'

/** What became of each invoice staff asked to remind. */
export interface ReminderOutcome {
  sent: string[]
  /** Already reminded on this day: nothing sent twice by a second click. */
  alreadyToday: string[]
  /** Paid or not late any more: nothing to remind. */
  notLate: string[]
  /** No guardian of the family has an e-mail address. */
  noEmail: string[]
}

// one address as the outbox takes it: nothing a header could read as a list
const plainAddress = /^[^\s@,;<>"()]+@[^\s@,;<>"()]+$/

/**
 * Mails a reminder for each late invoice to its family's guardians, with the invoice's PDF, through
 * the outbox, and remembers it (day, who, to whom). An invoice is reminded once a day at most: the
 * unique (invoice, day) row makes a double click, or two staff at once, send one mail.
 */
export async function remindLate(ctx: SignedInContext, invoiceIds: number[], now = new Date()) {
  if (!(staffAccess.records as readonly string[]).includes(ctx.account.role)) throw new Forbidden()
  const today = tenantToday(ctx.config, now)
  const locale = ctx.config.locale ?? 'fr'
  const t = translator(locale)
  const dateLocale = locale === 'en' ? 'en-GB' : 'fr-FR'
  const outcome: ReminderOutcome = { sent: [], alreadyToday: [], notLate: [], noEmail: [] }
  for (const id of [...new Set(invoiceIds)]) {
    // everything read and drawn before the transaction: PGlite is one session
    const d = await staffInvoice(ctx, id, now)
    const { invoice, balance } = d
    const number = invoice.number ?? ''
    if (invoice.state !== InvoiceState.issued || invoice.kind === InvoiceKind.avoir) continue
    if (balance.status !== InvoiceStatus.late) {
      outcome.notLate.push(number)
      continue
    }
    if (await ctx.em.count(InvoiceReminder, { invoice: id, sentOn: today })) {
      outcome.alreadyToday.push(number)
      continue
    }
    const guardians = await ctx.em.find(Guardian, { family: invoice.family.id }, { orderBy: { rank: 'asc' } })
    const recipients = [
      ...new Set(guardians.map((g) => g.email?.trim() ?? '').filter((e) => plainAddress.test(e))),
    ]
    if (!recipients.length) {
      outcome.noEmail.push(number)
      continue
    }
    const pdf = await invoicePdf({ ...(await pdfFrame(ctx, invoice.family.id)), t }, d)
    const late = balance.schedule.filter((i) => i.late)
    const day = (value: Date | string) => formatDate(value, ctx.config.timezone, dateLocale)
    const data = {
      displayName: d.guardian ? fullName(d.guardian) : '',
      number,
      issuedOn: invoice.issuedAt ? day(invoice.issuedAt) : '',
      lateAmount: formatEuros(
        late.reduce((sum, i) => sum + i.left, 0),
        locale,
      ),
      since: late[0] ? day(late[0].dueOn) : '',
      remaining: formatEuros(Math.max(0, balance.remaining), locale),
      link: `${ctx.baseUrl}/facturation`,
    }
    const attachment = {
      fileName: `${t('billing.pdf.invoiceTitle', { number })}.pdf`,
      contentType: 'application/pdf',
      content: pdf,
    }
    try {
      await ctx.em.fork().transactional(async (tx) => {
        tx.create(InvoiceReminder, {
          invoice: id,
          sentOn: today,
          sentBy: tx.getReference(Account, ctx.account.id),
          recipients: recipients.join(', '),
        })
        for (const to of recipients)
          queueMail(tx, ctx.config, locale, {
            to,
            template: 'invoice-reminder',
            data,
            attachments: [attachment],
          })
        audit(tx, ctx.account, {
          action: 'invoice.reminder',
          subject: { type: 'invoice', id },
          details: { number, recipients: recipients.length },
        })
      })
      outcome.sent.push(number)
    } catch (error) {
      if (!(error instanceof UniqueConstraintViolationException)) throw error
      outcome.alreadyToday.push(number)
    }
  }
  return outcome
}

/** The reminders of an invoice, newest first, for its page. */
export async function remindersOf(ctx: SignedInContext, invoiceId: number) {
  const reminders = await ctx.em.find(
    InvoiceReminder,
    { invoice: invoiceId },
    { populate: ['sentBy'], orderBy: { sentOn: 'desc' } },
  )
  return reminders.map((r) => ({
    sentOn: r.sentOn,
    by: r.sentBy?.displayName ?? '',
    recipients: r.recipients,
  }))
}
