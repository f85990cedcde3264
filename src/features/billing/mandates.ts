import { LockMode } from '@mikro-orm/core'
import { staffAccess } from '../../platform/auth/roles.ts'
import { audit } from '../../platform/audit/audit.ts'
import type { Em } from '../../platform/db/orm.ts'
import { type Checked, type FieldErrors, refusals } from '../../platform/forms.ts'
import { Forbidden, NotFound } from '../../platform/http/errors.ts'
import type { Translate } from '../../platform/views/i18n.ts'
import { Family } from '../family/entities.ts'
import { MandateState, SepaMandate } from './entities.ts'
import { checkIban, isBic, maskIban, normaliseBic } from './iban.ts'
import { sealIban } from './iban-vault.ts'
import type { BillingContext } from './invoices.ts'
import { addressee } from './invoices.ts'
import { Sequence, takeCount } from './numbering.ts'

export interface MandateValues {
  holder: string
  iban: string
  bic: string
  signedOn: string
}

/** The mandate form: the holder, an IBAN that passes its checks, a BIC, a signature date not to come. */
export function checkMandate(
  input: Record<string, string | undefined>,
  t: Translate,
  today: string,
): Checked<MandateValues> {
  const errors: FieldErrors = {}
  const holder = (input.holder ?? '').trim().replace(/\s+/g, ' ')
  if (!holder || holder.length > 70) errors.holder = t('billing.sepa.error.holder')
  const checked = checkIban(input.iban ?? '')
  if ('problem' in checked) {
    if (checked.problem === 'missing') errors.iban = t('billing.sepa.error.ibanMissing')
    else if (checked.problem === 'format') errors.iban = t('billing.sepa.error.ibanFormat')
    else if (checked.problem === 'country')
      errors.iban = t('billing.sepa.error.ibanCountry', { country: checked.country })
    else if (checked.problem === 'length')
      errors.iban = t('billing.sepa.error.ibanLength', {
        country: checked.country,
        expected: checked.expected,
        actual: checked.actual,
      })
    else errors.iban = t('billing.sepa.error.ibanChecksum')
  }
  const bic = normaliseBic(input.bic ?? '')
  if (!isBic(bic)) errors.bic = t('billing.sepa.error.bic')
  const signedOn = input.signedOn?.trim() ?? ''
  if (!/^\d{4}-\d{2}-\d{2}$/.test(signedOn) || Number.isNaN(Date.parse(signedOn)) || signedOn > today)
    errors.signedOn = t('billing.sepa.error.signedOn')
  return {
    values: { holder, iban: 'iban' in checked ? checked.iban : '', bic, signedOn },
    errors: refusals(errors),
  }
}

function requireRole(ctx: BillingContext, roles: readonly string[]) {
  if (!roles.includes(ctx.account.role)) throw new Forbidden()
}

/** "LIM": the tenant's first three letters, before each mandate's number. */
const referencePrefix = (slug: string) =>
  slug
    .replace(/[^a-z]/g, '')
    .slice(0, 3)
    .toUpperCase()

/** A family's mandates (the active one first, then the revoked ones, newest first) and its addressee. */
export async function familyMandates(ctx: BillingContext, familyId: number) {
  requireRole(ctx, staffAccess.read)
  const family = await ctx.em.findOne(Family, familyId, { fields: ['id'] })
  if (!family) throw new NotFound()
  const [mandates, guardian] = await Promise.all([
    ctx.em.find(SepaMandate, { family: familyId }, { orderBy: { id: 'desc' } }),
    addressee(ctx.em, familyId),
  ])
  return {
    guardian,
    active: mandates.find((m) => m.state === MandateState.active),
    revoked: mandates.filter((m) => m.state === MandateState.revoked),
  }
}

/**
 * Records a signed mandate for a family with its new RUM; the family's active mandate, if any, is
 * revoked by it. The IBAN is stored encrypted, and masked in the audit trail.
 */
export async function saveMandate(
  ctx: BillingContext,
  familyId: number,
  values: MandateValues,
  key: Buffer,
  now = new Date(),
): Promise<{ reference: string }> {
  requireRole(ctx, staffAccess.records)
  return ctx.em.fork().transactional(async (tx) => {
    // one writer per family at a time: never two active mandates
    const family = await tx.findOne(Family, familyId, { lockMode: LockMode.PESSIMISTIC_WRITE })
    if (!family) throw new NotFound()
    const replaced = await tx.find(SepaMandate, { family, state: MandateState.active })
    for (const old of replaced) Object.assign(old, { state: MandateState.revoked, revokedAt: now })
    const n = await takeCount(tx, Sequence.mandate, 0, 1)
    const mandate = tx.create(SepaMandate, {
      family,
      reference: `${referencePrefix(ctx.config.slug)}-${String(n).padStart(6, '0')}`,
      signedOn: values.signedOn,
      holder: values.holder,
      ...sealIban(key, values.iban),
      ibanMasked: maskIban(values.iban),
      bic: values.bic,
      recordedBy: ctx.account.id,
    })
    await tx.flush()
    audit(tx, ctx.account, {
      action: 'mandate.save',
      subject: { type: 'family', id: familyId },
      details: {
        reference: mandate.reference,
        iban: mandate.ibanMasked,
        replaces: replaced.map((m) => m.reference),
      },
    })
    return { reference: mandate.reference }
  })
}

/** Revokes a family's active mandate: its instalments are no longer debited. */
export async function revokeMandate(ctx: BillingContext, familyId: number, now = new Date()) {
  requireRole(ctx, staffAccess.records)
  return ctx.em.fork().transactional(async (tx) => {
    const mandate = await tx.findOne(
      SepaMandate,
      { family: familyId, state: MandateState.active },
      { lockMode: LockMode.PESSIMISTIC_WRITE },
    )
    if (!mandate) throw new NotFound()
    Object.assign(mandate, { state: MandateState.revoked, revokedAt: now })
    audit(tx, ctx.account, {
      action: 'mandate.revoke',
      subject: { type: 'family', id: familyId },
      details: { reference: mandate.reference },
    })
    return { reference: mandate.reference }
  })
}

/**
 * Erasing a family's personal data (end of retention): its mandates keep their RUM and dates, lose
 * the holder and the account, and none stays active.
 */
export async function eraseMandates(em: Em, familyId: number, now: Date) {
  await em.nativeUpdate(
    SepaMandate,
    { family: familyId, state: MandateState.active },
    { state: MandateState.revoked, revokedAt: now },
  )
  await em.nativeUpdate(
    SepaMandate,
    { family: familyId },
    { holder: `Famille ${familyId}`, ibanCiphertext: '', ibanIv: '', ibanTag: '', ibanMasked: '—', bic: '' },
  )
}
