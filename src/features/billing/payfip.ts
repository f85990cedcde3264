import { LockMode } from '@mikro-orm/core'
import type { SignedInContext, TenantContext } from '../../platform/auth/context.ts'
import { staffAccess } from '../../platform/auth/roles.ts'
import { audit } from '../../platform/audit/audit.ts'
import { Forbidden, NotFound } from '../../platform/http/errors.ts'
import type { Payfip } from '../../platform/tenancy/tenant-config-types.ts'
import { zonedParts } from '../../platform/views/dates.ts'
import { Guardian } from '../family/entities.ts'
import { tenantToday } from '../family/service.ts'
import {
  Invoice,
  InvoiceKind,
  OnlinePayment,
  OnlinePaymentState,
  Payment,
  PaymentMethod,
} from './entities.ts'
import { type BillingContext, creditedOn, familyInvoiceDocument, paidOn } from './invoices.ts'
import { Sequence, takeNumbers } from './numbering.ts'

/** DGFiP's PayFiP entry point (formerly TIPI): the family pays there, by card or by bank transfer. */
export const payfipEndpoint = 'https://www.payfip.gouv.fr/tpa/paiement.web'

/** PayFiP's resultrans on the return: paid, refused, abandoned. */
export const PayfipResult = { paid: 'P', refused: 'R', abandoned: 'A' } as const
export type PayfipResult = (typeof PayfipResult)[keyof typeof PayfipResult]

/** A reference as the treasury writes it, or a family or staff types it: capitals and digits only. */
export function compactReference(reference: string): string {
  return reference.toUpperCase().replace(/[^A-Z0-9]/g, '')
}

/**
 * The refdet of an invoice's n-th online payment: "F2026-000123", 1 → "F2026000123P01". PayFiP
 * wants 6 to 30 letters and digits; one per attempt, so that a return names one attempt only, and
 * the invoice's number inside, so that the treasury's statement leads back to the invoice.
 */
export function refdetOf(invoiceNumber: string, attempt: number): string {
  return `${compactReference(invoiceNumber)}P${String(attempt).padStart(2, '0')}`
}

/** PayFiP's objet: 100 characters at most, without accents or signs it refuses. */
function objetOf(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9 ]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 100)
}

export interface PayfipRequest {
  refdet: string
  /** The exercise (year) the invoice belongs to. */
  year: number
  objet: string
  /** Cents. */
  amount: number
  email: string
  returnUrl: string
}

/** The address the family's browser is sent to, with PayFiP's parameters. */
export function payfipUrl(settings: Payfip, request: PayfipRequest): string {
  const params = new URLSearchParams({
    numcli: settings.clientNumber,
    exer: String(request.year),
    refdet: request.refdet,
    objet: objetOf(request.objet),
    montant: String(request.amount),
    mel: request.email,
    urlcl: request.returnUrl,
    saisie: settings.mode === 'production' ? 'W' : 'T',
  })
  return `${payfipEndpoint}?${params}`
}

/** PayFiP said "paid" and the treasury has not confirmed it yet. */
const awaiting = (p: { state: string; result?: string | null }) =>
  p.state === OnlinePaymentState.pending && p.result === PayfipResult.paid

/** The online payments of these invoices that wait for the treasury's confirmation, by invoice. */
export async function awaitingConfirmation(ctx: Pick<BillingContext, 'em'>, invoiceIds: number[]) {
  const pending = invoiceIds.length
    ? await ctx.em.find(
        OnlinePayment,
        { invoice: { $in: invoiceIds }, state: OnlinePaymentState.pending, result: PayfipResult.paid },
        { orderBy: { returnedAt: 'desc' } },
      )
    : []
  const byInvoice = new Map<number, OnlinePayment>()
  for (const p of pending) if (!byInvoice.has(p.invoice.id)) byInvoice.set(p.invoice.id, p)
  return byInvoice
}

/** Whether a family may pay this invoice online now. */
export function payableOnline(ctx: Pick<BillingContext, 'config'>, remaining: number, waiting: boolean) {
  return Boolean(ctx.config.billing?.payfip) && remaining > 0 && !waiting
}

export type OnlineStart = { url: string } | { refused: 'awaiting' | 'settled' }

/**
 * "Payer en ligne": records the attempt (what remains to pay, under a new refdet) and answers the
 * PayFiP address to send the family to. Another family's invoice, a draft or a credit note is a 404;
 * an invoice paid, or whose online payment waits for its confirmation, is not paid twice.
 */
export async function startOnlinePayment(
  ctx: BillingContext & Pick<SignedInContext, 'db' | 'baseUrl'>,
  invoiceId: number,
  now = new Date(),
): Promise<OnlineStart> {
  const settings = ctx.config.billing?.payfip
  const { id, document } = await familyInvoiceDocument(ctx, invoiceId, now)
  const { invoice, balance } = document
  if (!settings || invoice.kind === InvoiceKind.avoir) throw new NotFound()
  if (balance.remaining <= 0) return { refused: 'settled' }
  const guardian = await ctx.em.findOne(Guardian, { account: ctx.account.id }, { fields: ['email'] })
  return ctx.em.fork().transactional(async (tx) => {
    // one attempt at a time per invoice: the next refdet is counted under the invoice's lock
    await tx.findOneOrFail(Invoice, id, { lockMode: LockMode.PESSIMISTIC_WRITE })
    const attempts = await tx.find(OnlinePayment, { invoice: id }, { fields: ['state', 'result'] })
    if (attempts.some(awaiting)) return { refused: 'awaiting' as const }
    const refdet = refdetOf(invoice.number!, attempts.length + 1)
    tx.create(OnlinePayment, {
      invoice: id,
      amount: balance.remaining,
      refdet,
      startedAt: now,
      startedBy: ctx.account.id,
    })
    await tx.flush()
    return {
      url: payfipUrl(settings, {
        refdet,
        year: Number(invoice.number!.slice(1, 5)),
        objet: `${ctx.config.shortName ?? ctx.config.name} facture ${invoice.number}`,
        amount: balance.remaining,
        email: guardian?.email || ctx.account.email,
        returnUrl: `${ctx.baseUrl}/facturation/paiement-en-ligne/retour`,
      }),
    }
  })
}

export interface PayfipReturn {
  refdet: string
  resultrans: PayfipResult
  numauto?: string
  dattrans?: string
  heurtrans?: string
}

/**
 * Back from PayFiP: the attempt its refdet names, in this tenant only, takes PayFiP's answer once
 * (a reload, or a second call, changes nothing). "Paid" leaves it pending (the money is not received
 * until the treasury says so); refused or abandoned ends it, and the family may try again. Answers
 * the invoice's kind and the answer kept, or 404 for a refdet this tenant never sent.
 */
export async function returnFromPayfip(ctx: Pick<TenantContext, 'em'>, back: PayfipReturn, now = new Date()) {
  return ctx.em.fork().transactional(async (tx) => {
    const attempt = await tx.findOne(
      OnlinePayment,
      { refdet: compactReference(back.refdet) },
      { populate: ['invoice'], lockMode: LockMode.PESSIMISTIC_WRITE },
    )
    if (!attempt) throw new NotFound()
    if (attempt.state === OnlinePaymentState.pending && attempt.result === null) {
      attempt.result = back.resultrans
      attempt.returnedAt = now
      attempt.authorisation = back.numauto?.slice(0, 30) || null
      attempt.transactionAt = [back.dattrans, back.heurtrans].filter(Boolean).join(' ').slice(0, 30) || null
      if (back.resultrans === PayfipResult.refused) attempt.state = OnlinePaymentState.failed
      if (back.resultrans === PayfipResult.abandoned) attempt.state = OnlinePaymentState.cancelled
    }
    return {
      invoiceId: attempt.invoice.id,
      kind: attempt.invoice.kind,
      result: (attempt.result ?? back.resultrans) as PayfipResult,
    }
  })
}

/** An invoice's online payments for staff, newest first, each with whether staff may confirm it. */
export async function onlinePaymentsOf(ctx: Pick<BillingContext, 'em'>, invoiceId: number) {
  const attempts = await ctx.em.find(OnlinePayment, { invoice: invoiceId }, { orderBy: { id: 'desc' } })
  return attempts.map((a) => ({
    id: a.id,
    refdet: a.refdet,
    amount: a.amount,
    startedAt: a.startedAt,
    state: a.state,
    result: a.result,
    authorisation: a.authorisation,
    awaiting: awaiting(a),
  }))
}

/**
 * Staff confirm an online payment PayFiP said was paid (the treasury told them before its
 * statement came): it becomes a payment by PayFiP with its receipt, never above what remains.
 */
export async function confirmOnlinePayment(
  ctx: BillingContext,
  invoiceId: number,
  onlinePaymentId: number,
  now = new Date(),
): Promise<{ receiptNumber: string } | { refused: 'aboveRemaining' }> {
  if (!(staffAccess.records as readonly string[]).includes(ctx.account.role)) throw new Forbidden()
  return ctx.em.fork().transactional(async (tx) => {
    const invoice = await tx.findOne(Invoice, invoiceId, { lockMode: LockMode.PESSIMISTIC_WRITE })
    const attempt = await tx.findOne(OnlinePayment, { id: onlinePaymentId, invoice: invoiceId })
    if (!invoice || !attempt || !awaiting(attempt)) throw new NotFound()
    const remaining =
      invoice.total -
      ((await creditedOn(tx, [invoice.id])).get(invoice.id) ?? 0) -
      ((await paidOn(tx, [invoice.id])).get(invoice.id) ?? 0)
    if (attempt.amount > remaining) return { refused: 'aboveRemaining' as const }
    const [receiptNumber] = await takeNumbers(
      tx,
      Sequence.receipt,
      zonedParts(now, ctx.config.timezone).year,
      1,
    )
    const payment = tx.create(Payment, {
      family: invoice.family,
      invoice,
      amount: attempt.amount,
      method: PaymentMethod.payfip,
      receivedOn: tenantToday(ctx.config, now),
      reference: [attempt.refdet, attempt.authorisation].filter(Boolean).join(' — '),
      recordedBy: ctx.account.id,
      receiptNumber: receiptNumber!,
    })
    attempt.state = OnlinePaymentState.confirmed
    attempt.payment = payment
    await tx.flush()
    audit(tx, ctx.account, {
      action: 'invoice.payment',
      subject: { type: 'invoice', id: invoice.id },
      details: {
        receipt: receiptNumber,
        amount: attempt.amount,
        method: PaymentMethod.payfip,
        refdet: attempt.refdet,
      },
    })
    return { receiptNumber: receiptNumber! }
  })
}
