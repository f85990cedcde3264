import { LockMode } from '@mikro-orm/core'
import { audit } from '../../platform/audit/audit.ts'
import { AuditEvent } from '../../platform/audit/entities.ts'
import type { SignedInContext } from '../../platform/auth/context.ts'
import { Account } from '../../platform/auth/entities.ts'
import { closeAccountSessions } from '../../platform/auth/sessions.ts'
import type { Em } from '../../platform/db/orm.ts'
import { type Checked, type FieldErrors, refusals } from '../../platform/forms.ts'
import { NotFound } from '../../platform/http/errors.ts'
import type { TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import type { Translate } from '../../platform/views/i18n.ts'
import { Family, Guardian } from '../family/entities.ts'
import {
  checkGuardianForm,
  guardianFields,
  guardianValues,
  mandatoryFields,
  setGuardianValue,
  tenantToday,
} from '../family/service.ts'
import { checkIdentity } from '../family/identity.ts'
import { Pupil } from '../pupils/entities.ts'
import { checkPupil, pupilValues, setPupilValue } from '../pupils/service.ts'
import type { FieldChange } from '../sas/entities.ts'
import { familyGuardians, familyPupil } from './reads.ts'

type Input = Record<string, string | undefined>
type Values = Record<string, string | null>

/** The fields a staff edit changed, each with its value before and after (what the audit keeps). */
function differences(before: Values, after: Values): Record<string, FieldChange> {
  const changes: Record<string, FieldChange> = {}
  for (const [name, value] of Object.entries(after)) {
    if ((before[name] ?? null) !== value) changes[name] = { before: before[name] ?? null, after: value }
  }
  return changes
}

/** What a staff edit did: saved with its changes, or nothing to save. */
export type EditOutcome = 'saved' | 'unchanged'

/**
 * A staff edit of one of the family's guardians or pupils, once checked: the row locked and read
 * again, only the fields that differ written, and one audit event with their before and after.
 */
async function saveEdit<E extends typeof Guardian | typeof Pupil>(
  ctx: SignedInContext,
  familyId: number,
  edit: {
    entity: E
    id: number
    values: (row: InstanceType<E['class']>) => Values
    set: (row: InstanceType<E['class']>, name: string, value: string | null) => void
    after: Values
  },
): Promise<EditOutcome> {
  const type = edit.entity === Guardian ? 'guardian' : 'pupil'
  return ctx.em.transactional(async (tx) => {
    const row = (await tx.findOne(
      edit.entity as typeof Guardian,
      { id: edit.id, family: familyId },
      { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
    )) as InstanceType<E['class']> | null
    if (!row) throw new NotFound()
    const changes = differences(edit.values(row), edit.after)
    if (Object.keys(changes).length === 0) return 'unchanged'
    for (const [name, change] of Object.entries(changes)) edit.set(row, name, change.after)
    audit(tx, ctx.account, {
      action: `${type}.edited`,
      subject: { type, id: edit.id },
      details: { family: familyId, changes },
    })
    return 'saved'
  })
}

// an erased family keeps only statistics: nothing of it can be edited any more
const editable = (family: { erasedAt: string | null } | null | undefined) =>
  Boolean(family && !family.erasedAt)

/** A guardian of the family, for its edit page; another family's guardian is a 404. */
export async function guardianForEdit(ctx: SignedInContext, familyId: number, guardianId: number) {
  const found = await familyGuardians(ctx.db, familyId)
  const guardian = found.guardians.find((g) => g.id === guardianId)
  if (!editable(found.family) || !guardian) throw new NotFound()
  const pending = found.changes.find((c) => c.subjectType === 'guardian' && c.subjectId === guardianId)
  return { family: found.family!, guardian, guardians: found.guardians, pending }
}

/**
 * Staff's direct edit of a guardian (no sas): the families' own checks and messages, then one
 * transaction writing the record and an audit event with the changed fields only.
 */
export async function saveGuardian(
  ctx: SignedInContext,
  familyId: number,
  guardianId: number,
  input: Input,
): Promise<Checked<EditOutcome | undefined>> {
  const page = await guardianForEdit(ctx, familyId, guardianId)
  const checked = checkGuardianForm(page.guardian, input, ctx)
  if (checked.errors) return { values: undefined, errors: checked.errors }
  const outcome = await saveEdit(ctx, familyId, {
    entity: Guardian,
    id: guardianId,
    values: guardianValues,
    set: setGuardianValue,
    after: checked.values,
  })
  return { values: outcome, errors: undefined }
}

/** A pupil of the family, for its edit page; another family's pupil is a 404. */
export async function pupilForEdit(ctx: SignedInContext, familyId: number, pupilId: number) {
  const found = await familyPupil(ctx.db, familyId, pupilId)
  if (!editable(found.family) || !found.pupil) throw new NotFound()
  const pending = found.changes.find((c) => c.subjectType === 'pupil' && c.subjectId === pupilId)
  const [guardian] = found.guardians
  return {
    family: found.family!,
    pupil: found.pupil,
    pending,
    guardianAddress:
      guardian && [guardian.address, guardian.postalCode, guardian.city].filter(Boolean).join(', '),
  }
}

/** Staff's direct edit of a pupil: the Identité tab's checks, one transaction, audited. */
export async function savePupil(
  ctx: SignedInContext,
  familyId: number,
  pupilId: number,
  input: Input,
): Promise<Checked<EditOutcome | undefined>> {
  const page = await pupilForEdit(ctx, familyId, pupilId)
  const checked = checkPupil(input, {
    tenant: ctx.config,
    current: pupilValues(page.pupil),
    today: tenantToday(ctx.config),
    t: ctx.t,
  })
  if (checked.errors) return { values: undefined, errors: checked.errors }
  const outcome = await saveEdit(ctx, familyId, {
    entity: Pupil,
    id: pupilId,
    values: pupilValues,
    set: setPupilValue,
    after: checked.values,
  })
  return { values: outcome, errors: undefined }
}

/** The family's own fields, as its form names them. */
export const familyFieldNames = ['resident', 'quotientBracket', 'paymentMode'] as const

export type FamilyFieldValues = {
  resident: string
  quotientBracket: string | null
  paymentMode: string | null
}

/**
 * Checks the family's own fields: resident (Oui/Non, required), the quotient familial bracket (one of
 * the tenant's, or none: not proven) and the payment mode (one of the tenant's, or none). A value the
 * tenant no longer lists is kept when it is the current one, as the identity forms do.
 */
export function checkFamilyFields(
  config: TenantConfig,
  input: Input,
  current: Partial<FamilyFieldValues>,
  t: Translate,
): Checked<FamilyFieldValues> {
  const errors: FieldErrors = {}
  const resident = input.resident ?? ''
  if (resident !== 'true' && resident !== 'false')
    errors.resident = t(resident ? 'identity.error.choice' : 'form.required')
  const pick = (name: 'quotientBracket' | 'paymentMode', listed: readonly string[]) => {
    const value = (input[name] ?? '').trim()
    if (!value) return null
    if (listed.includes(value) || value === current[name]) return value
    errors[name] = t('identity.error.choice')
    return null
  }
  const values = {
    resident,
    quotientBracket: pick('quotientBracket', config.quotientFamilial?.brackets.map((b) => b.code) ?? []),
    paymentMode: pick('paymentMode', config.paymentModes?.map((m) => m.id) ?? []),
  }
  return { values, errors: refusals(errors) }
}

const familyValues = (family: Family): Values => ({
  resident: String(family.resident),
  quotientBracket: family.quotientBracket ?? null,
  paymentMode: family.paymentMode ?? null,
})

/** Staff's edit of the family's own fields, audited with what changed. */
export async function saveFamilyFields(
  ctx: SignedInContext,
  familyId: number,
  input: Input,
): Promise<Checked<EditOutcome | undefined>> {
  return ctx.em.transactional(async (tx) => {
    const family = await tx.findOne(
      Family,
      { id: familyId, erasedAt: null },
      { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
    )
    if (!family) throw new NotFound()
    const current = familyValues(family)
    const checked = checkFamilyFields(ctx.config, input, current, ctx.t)
    if (checked.errors) return { values: undefined, errors: checked.errors }
    const changes = differences(current, { ...checked.values })
    if (Object.keys(changes).length === 0) return { values: 'unchanged' as const, errors: undefined }
    family.resident = checked.values.resident === 'true'
    family.quotientBracket = checked.values.quotientBracket
    family.paymentMode = checked.values.paymentMode
    audit(tx, ctx.account, {
      action: 'family.edited',
      subject: { type: 'family', id: familyId },
      details: { changes },
    })
    return { values: 'saved' as const, errors: undefined }
  })
}

/** The fields of a block of a form whose names take a prefix (`g1-lastName`), without it. */
function block(input: Input, prefix: string): Input {
  const values: Input = {}
  for (const [name, value] of Object.entries(input))
    if (name.startsWith(prefix)) values[name.slice(prefix.length)] = value
  return values
}

const prefixed = (errors: FieldErrors | undefined, prefix: string): FieldErrors =>
  Object.fromEntries(Object.entries(errors ?? {}).map(([name, message]) => [prefix + name, message]))

// an untouched block of the form: nothing typed (a checkbox sends its own default)
const blank = (values: Input, ignored: readonly string[] = []) =>
  Object.entries(values).every(([name, value]) => ignored.includes(name) || !value?.trim())

function checkNewGuardian(ctx: SignedInContext, input: Input): Checked<Values> {
  return checkIdentity(guardianFields, input, {
    mandatory: mandatoryFields(ctx.config.fields.guardian),
    current: {},
    today: tenantToday(ctx.config),
    t: ctx.t,
  })
}

function checkNewPupil(ctx: SignedInContext, input: Input): Checked<Values> {
  return checkPupil(input, { tenant: ctx.config, current: {}, today: tenantToday(ctx.config), t: ctx.t })
}

function newGuardian(tx: Em, family: Family, rank: number, values: Values): Guardian {
  const guardian = tx.create(Guardian, { family, rank, lastName: '', firstName: '', extraPhones: [] })
  for (const [name, value] of Object.entries(values)) setGuardianValue(guardian, name, value)
  return guardian
}

function newPupil(tx: Em, family: Family | number, values: Values): Pupil {
  const pupil = tx.create(Pupil, { family, lastName: '', firstName: '' })
  for (const [name, value] of Object.entries(values)) setPupilValue(pupil, name, value)
  return pupil
}

const filled = (values: Values) => Object.fromEntries(Object.entries(values).filter(([, v]) => v !== null))

/**
 * A family typed at the desk: responsable 1 (the tenant's mandatory fields), and when anything of
 * them is typed, responsable 2 and a first pupil; the family's own fields. Answers the new family's id.
 */
export async function createFamily(ctx: SignedInContext, input: Input): Promise<Checked<number | undefined>> {
  const first = checkNewGuardian(ctx, block(input, 'g1-'))
  const secondInput = block(input, 'g2-')
  const second = blank(secondInput) ? undefined : checkNewGuardian(ctx, secondInput)
  const pupilInput = block(input, 'p-')
  const pupil = blank(pupilInput, ['useGuardianAddress']) ? undefined : checkNewPupil(ctx, pupilInput)
  const own = checkFamilyFields(ctx.config, input, {}, ctx.t)
  const errors = refusals({
    ...prefixed(first.errors, 'g1-'),
    ...prefixed(second?.errors, 'g2-'),
    ...prefixed(pupil?.errors, 'p-'),
    ...own.errors,
  })
  if (errors) return { values: undefined, errors }
  const id = await ctx.em.transactional(async (tx) => {
    const family = tx.create(Family, {
      resident: own.values.resident === 'true',
      quotientBracket: own.values.quotientBracket,
      paymentMode: own.values.paymentMode,
    })
    const guardians = [newGuardian(tx, family, 1, first.values)]
    if (second) guardians.push(newGuardian(tx, family, 2, second.values))
    const pupils = pupil ? [newPupil(tx, family, pupil.values)] : []
    await tx.flush()
    audit(tx, ctx.account, {
      action: 'family.created',
      subject: { type: 'family', id: family.id },
      details: {
        family: { resident: own.values.resident, ...filled(own.values) },
        guardians: guardians.map((g) => g.id),
        pupils: pupils.map((p) => p.id),
      },
    })
    return family.id
  })
  return { values: id, errors: undefined }
}

/** The family a pupil is added to; an unknown or erased one is a 404. */
export async function familyForNewPupil(ctx: SignedInContext, familyId: number) {
  const found = await familyGuardians(ctx.db, familyId)
  if (!editable(found.family)) throw new NotFound()
  const [guardian] = found.guardians
  return {
    family: found.family!,
    guardian,
    guardianAddress:
      guardian && [guardian.address, guardian.postalCode, guardian.city].filter(Boolean).join(', '),
  }
}

/** A pupil added to a family by staff, audited with the values typed. Answers the pupil's id. */
export async function addPupil(
  ctx: SignedInContext,
  familyId: number,
  input: Input,
): Promise<Checked<number | undefined>> {
  await familyForNewPupil(ctx, familyId)
  const checked = checkNewPupil(ctx, input)
  if (checked.errors) return { values: undefined, errors: checked.errors }
  const id = await ctx.em.transactional(async (tx) => {
    const pupil = newPupil(tx, tx.getReference(Family, familyId) as unknown as Family, checked.values)
    await tx.flush()
    audit(tx, ctx.account, {
      action: 'pupil.created',
      subject: { type: 'pupil', id: pupil.id },
      details: { family: familyId, values: filled(checked.values) },
    })
    return pupil.id
  })
  return { values: id, errors: undefined }
}

export const reasonMax = 500

/**
 * A family that left: archived (hidden from the lists, kept for the retention period) and its
 * guardians' accounts disabled, their sessions closed. The accounts it disabled are named in the
 * audit event, so that reactivating gives back exactly those (not one an administrator disabled).
 */
export async function archiveFamily(
  ctx: SignedInContext,
  familyId: number,
  reason: string,
): Promise<Checked<undefined>> {
  const trimmed = reason.trim()
  if (trimmed.length > reasonMax)
    return { values: undefined, errors: { reason: ctx.t('identity.error.tooLong', { max: reasonMax }) } }
  await ctx.em.transactional(async (tx) => {
    const family = await tx.findOne(
      Family,
      { id: familyId, erasedAt: null },
      { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
    )
    if (!family) throw new NotFound()
    if (family.archivedAt) return
    family.archivedAt = new Date()
    const guardians = await tx.find(
      Guardian,
      { family: familyId, account: { $ne: null } },
      { populate: ['account'] },
    )
    const disabled: number[] = []
    for (const guardian of guardians) {
      const account = guardian.account
      if (!account || account.disabled) continue
      account.disabled = true
      disabled.push(account.id)
      await closeAccountSessions(tx, account.id)
    }
    audit(tx, ctx.account, {
      action: 'family.archived',
      subject: { type: 'family', id: familyId },
      details: { reason: trimmed || null, accounts: disabled },
    })
  })
  return { values: undefined, errors: undefined }
}

/** Undoes an archive: the family is listed again, and the accounts the archive disabled sign in again. */
export async function reactivateFamily(ctx: SignedInContext, familyId: number): Promise<void> {
  await ctx.em.transactional(async (tx) => {
    const family = await tx.findOne(
      Family,
      { id: familyId, erasedAt: null },
      { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
    )
    if (!family) throw new NotFound()
    if (!family.archivedAt) return
    family.archivedAt = null
    const archived = await tx.findOne(
      AuditEvent,
      { subjectType: 'family', subjectId: familyId, action: 'family.archived' },
      { orderBy: { id: 'desc' } },
    )
    const ids = ((archived?.details.accounts ?? []) as unknown[]).filter(
      (id): id is number => typeof id === 'number',
    )
    // only accounts still a guardian's of this family
    const accounts = ids.length ? await tx.find(Account, { id: { $in: ids }, disabled: true }) : []
    const owned = new Set(
      (await tx.find(Guardian, { family: familyId, account: { $in: accounts.map((a) => a.id) } })).map(
        (g) => g.account?.id,
      ),
    )
    const enabled: number[] = []
    for (const account of accounts) {
      if (!owned.has(account.id)) continue
      account.disabled = false
      enabled.push(account.id)
    }
    audit(tx, ctx.account, {
      action: 'family.reactivated',
      subject: { type: 'family', id: familyId },
      details: { accounts: enabled },
    })
  })
}
