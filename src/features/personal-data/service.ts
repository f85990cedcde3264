import { randomBytes } from 'node:crypto'
import { LockMode } from '@mikro-orm/core'
import type { Kysely } from 'kysely'
import { jsonArrayFrom } from 'kysely/helpers/postgres'
import { type TenantDb, tenantDb } from '../../entities.ts'
import { audit } from '../../platform/audit/audit.ts'
import { AuditEvent } from '../../platform/audit/entities.ts'
import type { SignedInContext } from '../../platform/auth/context.ts'
import { PasswordToken, Session } from '../../platform/auth/entities.ts'
import { prepare, type Reader } from '../../platform/db/reads.ts'
import { sha256 } from '../../platform/auth/sessions.ts'
import { NotFound } from '../../platform/http/errors.ts'
import { offsetOf, pageSize } from '../../platform/http/pagination.ts'
import { OutboxMail } from '../../platform/mail/entities.ts'
import type { TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import { eraseMandates } from '../billing/mandates.ts'
import { DocumentSubmission, StoredFile } from '../documents/entities.ts'
import { Family, Guardian } from '../family/entities.ts'
import { Preregistration } from '../preregistration/entities.ts'
import { Pupil } from '../pupils/entities.ts'
import { Reenrolment } from '../reenrolment/entities.ts'
import { ChangeRequest } from '../sas/entities.ts'
import { AbsenceNotice } from '../lessons/entities.ts'
import { Evaluation } from '../teaching/entities.ts'

/** Years a family's data is kept after it was archived (the tenant's `retention.years`). */
export function retentionYears(config: TenantConfig): number {
  return config.retention.years
}

/** The day a family archived at `archivedAt` may be erased. */
export function erasableFrom(archivedAt: Date, years: number): Date {
  const date = new Date(archivedAt)
  date.setUTCFullYear(date.getUTCFullYear() + years)
  return date
}

/** Families archived on or before this instant are past their retention period. */
export function retentionCutoff(config: TenantConfig, now = new Date()): Date {
  const date = new Date(now)
  date.setUTCFullYear(date.getUTCFullYear() - retentionYears(config))
  return date
}

/** How many archived families are past the retention period: a fragment of the staff dashboard. */
export function dueForErasureCount(cutoff: string) {
  return tenantDb
    .selectFrom('family')
    .select((eb) => eb.cast<number>(eb.fn.countAll(), 'integer').as('n'))
    .where('archived_at', '<=', cutoff)
    .where('erased_at', 'is', null)
    .$asScalar()
}

const archivedRead = prepare((db: Kysely<TenantDb>, p: { cutoff: string; offset: number }) => {
  const archived = db
    .selectFrom('family as f')
    .where('f.archived_at', 'is not', null)
    .where('f.erased_at', 'is', null)
  return db.selectNoFrom((eb) => [
    eb
      .selectFrom(archived.select('f.id').as('q'))
      .select((inner) => inner.cast<number>(inner.fn.countAll(), 'integer').as('n'))
      .as('total'),
    eb
      .selectFrom(archived.select('f.id').where('f.archived_at', '<=', p.cutoff).as('q'))
      .select((inner) => inner.cast<number>(inner.fn.countAll(), 'integer').as('n'))
      .as('due'),
    eb
      .selectFrom('family')
      .select((inner) => inner.cast<number>(inner.fn.countAll(), 'integer').as('n'))
      .where('erased_at', 'is not', null)
      .as('erased'),
    jsonArrayFrom(
      archived
        .leftJoin('guardian as g', (join) => join.onRef('g.family_id', '=', 'f.id').on('g.rank', '=', 1))
        .select([
          'f.id',
          'f.archived_at as archivedAt',
          'g.first_name as firstName',
          'g.last_name as lastName',
          'g.city',
        ])
        .select((inner) =>
          inner
            .selectFrom('pupil as p')
            .select(inner.cast<number>(inner.fn.countAll(), 'integer').as('n'))
            .whereRef('p.family_id', '=', 'f.id')
            .as('pupils'),
        )
        .orderBy('f.archived_at')
        .orderBy('f.id')
        .limit(pageSize)
        .offset(p.offset),
    ).as('rows'),
  ])
})

/**
 * A page of the archived families that are not erased yet, longest archived first: those past the
 * retention period (erasable) come first, then those still kept, each with the day it may go.
 */
export async function archivedFamilies(db: Reader, config: TenantConfig, page: number, now = new Date()) {
  const found = await archivedRead.first(db, {
    cutoff: retentionCutoff(config, now).toISOString(),
    offset: offsetOf(page),
  })
  const years = retentionYears(config)
  return {
    total: found?.total ?? 0,
    due: found?.due ?? 0,
    erased: found?.erased ?? 0,
    years,
    rows: (found?.rows ?? []).map((row) => {
      const from = erasableFrom(new Date(row.archivedAt!), years)
      return { ...row, erasableFrom: from, due: from.getTime() <= now.getTime() }
    }),
  }
}

export type ErasureState = 'due' | 'kept' | 'notArchived' | 'erased'

/** What the confirmation page shows of a family before it is erased, and whether it may be. */
export async function erasureCandidate(ctx: SignedInContext, familyId: number, now = new Date()) {
  const family = await ctx.em.findOne(Family, { id: familyId })
  if (!family) throw new NotFound()
  const guardians = await ctx.em.find(Guardian, { family }, { orderBy: { rank: 'asc' } })
  const pupils = await ctx.em.count(Pupil, { family })
  const files = await ctx.em.count(DocumentSubmission, { family })
  const years = retentionYears(ctx.config)
  const from = family.archivedAt ? erasableFrom(family.archivedAt, years) : undefined
  const state: ErasureState = family.erasedAt
    ? 'erased'
    : !from
      ? 'notArchived'
      : from.getTime() <= now.getTime()
        ? 'due'
        : 'kept'
  return {
    family,
    // an erased family's guardians carry neutral values only: the page names the family by its number
    guardians: family.erasedAt ? [] : guardians.map((g) => `${g.firstName} ${g.lastName}`),
    pupils,
    files,
    years,
    erasableFrom: from,
    state,
  }
}

export type ErasureCandidate = Awaited<ReturnType<typeof erasureCandidate>>

/** Neutral values for a guardian or pupil: they name no one, and say which rank or child they were. */
const eraseContact = {
  birthPlace: null,
  birthDepartment: null,
  address: null,
  city: null,
  phoneHome: null,
  phoneMobile: null,
  email: null,
}

/**
 * Erases the personal data of a family past its retention period, in one transaction under a lock
 * of the family's row. Refused, with the reason, unless the family is due. What identifies or describes a person goes (names, birth places and dates,
 * addresses, phones, e-mails, situation and profession, school, emergency contact, appreciations,
 * free texts, the uploaded files, the direct debit mandates' holders and accounts, the proposals' values, the pré-inscription dossiers' contents, the
 * accounts' identifiants, sessions and links, the mails kept in the outbox, the values in the audit
 * trail); what the conservatoire counts stays (the family row with residence, quotient bracket and
 * payment mode; guardians' and pupils' postal codes, pupils' civility, birth year and school level; enrolments, courses and years;
 * absences' dates; decisions and their dates).
 */
export async function eraseFamily(
  ctx: SignedInContext,
  familyId: number,
  now = new Date(),
): Promise<ErasureState | 'done'> {
  return ctx.em.transactional(async (em) => {
    const family = await em.findOne(Family, { id: familyId }, { lockMode: LockMode.PESSIMISTIC_WRITE })
    if (!family) throw new NotFound()
    if (family.erasedAt) return 'erased'
    if (!family.archivedAt) return 'notArchived'
    if (erasableFrom(family.archivedAt, retentionYears(ctx.config)).getTime() > now.getTime()) return 'kept'

    const guardians = await em.find(Guardian, { family }, { populate: ['account'] })
    const pupils = await em.find(Pupil, { family }, { orderBy: { birthDate: 'asc', id: 'asc' } })
    const accounts = guardians.flatMap((g) => (g.account ? [g.account] : []))
    const dossiers = await em.find(Preregistration, { family })
    const addresses = [
      ...guardians.map((g) => g.email),
      ...pupils.map((p) => p.email),
      ...accounts.map((a) => a.email),
      ...dossiers.map((d) => d.email),
    ].flatMap((email) => (email ? [email, email.toLowerCase()] : []))

    for (const g of guardians) {
      em.assign(g, {
        ...eraseContact,
        civility: null,
        lastName: `Famille ${family.id}`,
        firstName: `Responsable ${g.rank}`,
        birthDate: null,
        phoneWork: null,
        familySituation: null,
        socioProfessionalCategory: null,
        profession: null,
        extraPhones: [],
      })
    }
    pupils.forEach((p, i) => {
      em.assign(p, {
        ...eraseContact,
        lastName: `Famille ${family.id}`,
        firstName: `Élève ${i + 1}`,
        // the birth year is kept for statistics by age, the day and month are not
        birthDate: p.birthDate ? `${String(p.birthDate).slice(0, 4)}-01-01` : null,
        school: null,
        imageRights: null,
        exitAuthorization: null,
        emergencyContact: null,
        emergencyPhone: null,
      })
    })
    for (const a of accounts) {
      em.assign(a, {
        identifiant: `efface-${a.id}`,
        email: `efface-${a.id}@invalid`,
        displayName: `Compte effacé ${a.id}`,
        passwordHash: null,
        disabled: true,
        lastSignInAt: null,
      })
    }
    for (const d of dossiers) {
      em.assign(d, {
        // a new random hash: the dossier's private link opens nothing any more
        tokenHash: sha256(randomBytes(32).toString('base64url')),
        email: `efface-${d.id}@invalid`,
        guardians: [],
        applicants: d.applicants.map((a) => ({
          fromGuardian: a.fromGuardian,
          values: {},
          choices: a.choices,
          freeText: null,
        })),
        reason: null,
      })
    }
    const reenrolments = await em.find(Reenrolment, { family })
    for (const r of reenrolments) {
      const { notes: _notes, newDisciplines: _new, ...kept } = r.answers
      em.assign(r, { answers: kept, reason: null })
    }
    await em.flush()

    const accountIds = accounts.map((a) => a.id)
    const guardianIds = guardians.map((g) => g.id)
    const pupilIds = pupils.map((p) => p.id)
    const submissions = await em.find(DocumentSubmission, { family }, { fields: ['id', 'file'] })
    const submissionIds = submissions.map((s) => s.id)
    await em.nativeDelete(DocumentSubmission, { id: { $in: submissionIds } })
    await em.nativeDelete(StoredFile, { id: { $in: submissions.map((s) => s.file.id) } })
    await em.nativeUpdate(ChangeRequest, { family }, { changes: {} })
    await eraseMandates(em, family.id, now)
    // the teacher's words and staff's correction request are free text about the pupil
    await em.nativeUpdate(
      Evaluation,
      { enrolment: { pupil: { $in: pupilIds } } },
      { appreciation: '', correction: null },
    )
    await em.nativeUpdate(AbsenceNotice, { enrolment: { pupil: { $in: pupilIds } } }, { reason: '' })
    await em.nativeDelete(Session, { account: { $in: accountIds } })
    await em.nativeDelete(PasswordToken, { account: { $in: accountIds } })
    await em.nativeDelete(OutboxMail, { recipient: { $in: addresses } })
    // the trail keeps who did what and when about this family, not the values it recorded
    await em.nativeUpdate(
      AuditEvent,
      {
        $or: [
          { subjectType: 'family', subjectId: family.id },
          { subjectType: 'guardian', subjectId: { $in: guardianIds } },
          { subjectType: 'pupil', subjectId: { $in: pupilIds } },
          { subjectType: 'document', subjectId: { $in: submissionIds } },
          { subjectType: 'preregistration', subjectId: { $in: dossiers.map((d) => d.id) } },
        ],
      },
      { details: { erased: true } },
    )
    for (const a of accounts) {
      await em.nativeUpdate(AuditEvent, { actor: a.id }, { actorName: `Compte effacé (efface-${a.id})` })
    }

    family.erasedAt = now
    audit(em, ctx.account, {
      action: 'family.erased',
      subject: { type: 'family', id: family.id },
      details: {
        retentionYears: retentionYears(ctx.config),
        archivedAt: family.archivedAt.toISOString(),
        guardians: guardians.length,
        pupils: pupils.length,
        accounts: accounts.length,
        files: submissionIds.length,
        dossiers: dossiers.length,
      },
    })
    await em.flush()
    return 'done'
  })
}
