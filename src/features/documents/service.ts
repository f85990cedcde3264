import { createHash } from 'node:crypto'
import { LockMode } from '@mikro-orm/core'
import { type Kysely, sql } from 'kysely'
import { jsonArrayFrom } from 'kysely/helpers/postgres'
import { type TenantDb, tenantDb } from '../../entities.ts'
import { audit } from '../../platform/audit/audit.ts'
import type { Actor, SignedInContext } from '../../platform/auth/context.ts'
import { Account } from '../../platform/auth/entities.ts'
import type { Em } from '../../platform/db/orm.ts'
import { type JsonOf, prepare, type Reader } from '../../platform/db/reads.ts'
import type { FieldErrors } from '../../platform/forms.ts'
import { NotFound } from '../../platform/http/errors.ts'
import { offsetOf, pageSize } from '../../platform/http/pagination.ts'
import { queueMail } from '../../platform/mail/outbox.ts'
import type { TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import type { DocumentType, RequiredDocument } from '../../platform/tenancy/tenant-config-types.ts'
import {
  type FamilyRef,
  familyIdOf,
  fullName,
  householdOf,
  householdOr404,
  householdPupil,
  tenantToday,
} from '../family/service.ts'
import { isMinor } from '../pupils/service.ts'
import { inProgress, type ReenrolmentInProgress, reenrolmentsOf } from '../reenrolment/service.ts'
import { checkDecision, type DecisionInput } from '../shared/decision.ts'
import { currentSchoolYear, enrolmentsOfFamily } from '../teaching/service.ts'
import { type Facts, holds } from './conditions.ts'
import { DocumentState, DocumentSubmission, StoredFile } from './entities.ts'

/** 1 Mo as families' computers count it in French: 1024 × 1024 bytes. */
export const megabyte = 1024 * 1024

/** A size in Mo as the tables show it, "0,54"; a few kilobytes read "< 0,01" rather than "0,00". */
const twoDecimals = new Intl.NumberFormat('fr-FR', { minimumFractionDigits: 2, maximumFractionDigits: 2 })

export function sizeInMb(bytes: number): string {
  const mb = bytes / megabyte
  const format = (n: number) => twoDecimals.format(n)
  return bytes > 0 && mb < 0.005 ? `< ${format(0.01)}` : format(mb)
}

export const contentTypes: Record<DocumentType, string> = {
  pdf: 'application/pdf',
  jpeg: 'image/jpeg',
  png: 'image/png',
}

/** The family's uploads with their file's name and size (never its bytes), newest first. */
export function submissionsOf(familyId: FamilyRef) {
  return jsonArrayFrom(
    tenantDb
      .selectFrom('document_submission as d')
      .innerJoin('stored_file as f', 'f.id', 'd.file_id')
      .select([
        'd.id',
        'd.pupil_id as pupilId',
        'd.document_id as documentId',
        'd.state',
        'd.reason',
        'd.valid_until as validUntil',
        'd.created_at as createdAt',
        'f.file_name as fileName',
        'f.size',
      ])
      .where('d.family_id', '=', familyId)
      .orderBy('d.created_at', 'desc')
      .orderBy('d.id', 'desc'),
  )
}

export type Submission = JsonOf<typeof submissionsOf>

/** What the documents' conditions look at, read with the family's page. */
export interface FamilyFacts {
  family: { resident: boolean; paymentMode: string | null }
  /** This school year's enrolments of the family's pupils. */
  enrolments: readonly { pupilId: number; active: boolean; discipline: string }[]
  /** The family's re-enrolments being prepared or submitted. */
  reenrolments: readonly ReenrolmentInProgress[]
}

/** A pupil whose documents are asked: who, and their age. */
export interface HolderPupil {
  id: number
  birthDate: string | null
}

/** A line of a "Pièces à fournir" table: a document asked for, and the upload that decides its state. */
export interface Requirement {
  document: RequiredDocument
  state: RequirementState
  submission?: Submission
}

export type RequirementState = 'missing' | DocumentState

/**
 * What conditions test. A pupil's disciplines are those of this year's active courses. While a
 * family re-enrols, its answers count as soon as they are saved: the payment mode chosen for next
 * year (choosing direct debit asks for the SEPA mandate) and the pupil's answers to the questions.
 */
export function factsOf(tenant: TenantConfig, facts: FamilyFacts, pupil?: HolderPupil): Facts {
  const inProgress = [...facts.reenrolments].sort(
    (a, b) => b.schoolYear.localeCompare(a.schoolYear) || b.updatedAt.localeCompare(a.updatedAt),
  )
  const coming = inProgress.filter((r) => r.schoolYear === inProgress[0]?.schoolYear)
  const chosenMode = coming.find((r) => r.answers.paymentMode)?.answers.paymentMode
  const family = {
    resident: facts.family.resident,
    paymentMode: chosenMode ?? facts.family.paymentMode ?? null,
  }
  if (!pupil) return { family }
  const disciplines = facts.enrolments
    .filter((e) => e.pupilId === pupil.id && e.active)
    .map((e) => e.discipline)
  return {
    family,
    pupil: {
      minor: Boolean(pupil.birthDate && isMinor(pupil.birthDate, tenantToday(tenant))),
      disciplines: [...new Set(disciplines)],
      answers: coming.find((r) => r.pupilId === pupil.id)?.answers.questions ?? {},
    },
  }
}

/** The documents the tenant asks of this family (or pupil), as their conditions decide. */
export function documentsAsked(tenant: TenantConfig, facts: Facts): RequiredDocument[] {
  const level = facts.pupil ? 'pupil' : 'family'
  return (tenant.documents ?? []).filter(
    (d) => !d.archived && d.level === level && (!d.when || holds(d.when, facts)),
  )
}

const stillValid = (submission: Submission, today: string) =>
  submission.state === DocumentState.validated && (!submission.validUntil || submission.validUntil >= today)

/**
 * The family's (or a pupil's) "Pièces à fournir": each document asked, with its state. A document
 * validated earlier that is still valid counts (a SEPA mandate given once, an insurance valid until
 * a date); otherwise the latest upload decides (en attente, refusé), and without one it is "à fournir".
 */
export function requirementsOf(
  tenant: TenantConfig,
  facts: FamilyFacts,
  submissions: readonly Submission[],
  pupil?: HolderPupil,
): Requirement[] {
  const today = tenantToday(tenant)
  const holderId = pupil?.id ?? null
  return documentsAsked(tenant, factsOf(tenant, facts, pupil)).map((document) => {
    const own = submissions.filter((s) => s.documentId === document.id && s.pupilId === holderId)
    const valid = own.find((s) => stillValid(s, today))
    if (valid) return { document, state: DocumentState.validated, submission: valid }
    const latest = own.find((s) => s.state !== DocumentState.validated)
    return latest ? { document, state: latest.state, submission: latest } : { document, state: 'missing' }
  })
}

/** How many documents are still to provide or to send again. */
export function toDoCount(requirements: readonly Requirement[]): number {
  return requirements.filter((r) => r.state === 'missing' || r.state === DocumentState.refused).length
}

export interface Upload {
  fileName: string
  content: Buffer
  contentType: string
}

/** Where an upload goes: the family, or one of its pupils. */
export interface UploadTarget {
  familyId: number
  pupilId: number | null
}

const holderSubmissionsRead = prepare(
  (db: Kysely<TenantDb>, p: { familyId: number; pupilId: number | null; documentId: string }) =>
    db
      .selectFrom('document_submission as d')
      .select(['d.id', 'd.state', 'd.valid_until as validUntil', 'd.file_id as fileId'])
      .where('d.family_id', '=', p.familyId)
      .where('d.document_id', '=', p.documentId)
      .where(sql<boolean>`d.pupil_id is not distinct from ${p.pupilId}::integer`)
      .orderBy('d.created_at', 'desc')
      .orderBy('d.id', 'desc')
      .forUpdate(),
)

/**
 * Stores a family's file for a document it is asked for (the caller checked that it is), in one
 * transaction with its audit event. An upload replaces a pending one for the same document (the
 * family corrects its choice before review); a refused one stays, for the history staff see. A
 * still-valid validated document cannot be replaced.
 */
export async function submitDocument(
  ctx: SignedInContext,
  target: UploadTarget,
  documentId: string,
  upload: Upload,
): Promise<FieldErrors | undefined> {
  const { t } = ctx
  const today = tenantToday(ctx.config)
  return ctx.em.transactional(async (tx) => {
    const earlier = await holderSubmissionsRead.all(tx, { ...target, documentId })
    if (earlier.some((s) => s.state === DocumentState.validated && (!s.validUntil || s.validUntil >= today)))
      return { document: t('documents.error.alreadyValidated') }
    const latest = earlier.find((s) => s.state !== DocumentState.validated)
    if (latest?.state === DocumentState.pending) {
      await discard(
        tx,
        ctx.account,
        { id: latest.id, fileId: latest.fileId, documentId },
        'document.replaced',
      )
    }
    const sha256 = createHash('sha256').update(upload.content).digest('hex')
    const fileId = await insertFile(tx, upload, sha256)
    const submission = tx.create(DocumentSubmission, {
      family: target.familyId,
      pupil: target.pupilId,
      documentId,
      file: tx.getReference(StoredFile, fileId),
      uploadedBy: tx.getReference(Account, ctx.account.id),
    })
    await tx.flush()
    audit(tx, ctx.account, {
      action: 'document.uploaded',
      subject: { type: 'document', id: submission.id },
      details: { submission: submission.id, document: documentId, file: upload.fileName, sha256 },
    })
    return undefined
  })
}

/**
 * Writes the bytes with a bound parameter, sent to Postgres as binary: MikroORM writes its
 * parameters into the SQL text, where a 2 MB file would become a 4 MB hex literal.
 */
async function insertFile(tx: Em, upload: Upload, sha256: string): Promise<number> {
  const now = new Date().toISOString()
  const { id } = await tx
    .getKysely<TenantDb>()
    .withSchema(tx.schema!)
    .insertInto('stored_file')
    .values({
      created_at: now,
      updated_at: now,
      file_name: upload.fileName,
      content_type: upload.contentType,
      size: upload.content.length,
      sha256,
      content: upload.content,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  return id
}

async function discard(
  tx: Em,
  account: Actor,
  submission: { id: number; fileId: number; documentId: string; fileName?: string },
  action: string,
) {
  audit(tx, account, {
    action,
    subject: { type: 'document', id: submission.id },
    details: { submission: submission.id, document: submission.documentId, file: submission.fileName },
  })
  await tx.nativeDelete(DocumentSubmission, { id: submission.id })
  await tx.nativeDelete(StoredFile, { id: submission.fileId })
}

const familySubmissionRead = prepare((db: Kysely<TenantDb>, p: { id: number; accountId: number }) =>
  db
    .selectFrom('document_submission as d')
    .innerJoin('stored_file as f', 'f.id', 'd.file_id')
    .innerJoin('guardian as g', 'g.family_id', 'd.family_id')
    .select([
      'd.id',
      'd.pupil_id as pupilId',
      'd.document_id as documentId',
      'd.state',
      'd.file_id as fileId',
      'f.file_name as fileName',
      'f.content_type as contentType',
    ])
    .where('d.id', '=', p.id)
    .where('g.account_id', '=', p.accountId),
)

/** One of the signed-in family's uploads; another family's id is as unknown as a missing one. */
export async function familySubmission(ctx: SignedInContext, id: number) {
  const found = await familySubmissionRead.first(ctx.db, { id, accountId: ctx.account.id })
  if (!found) throw new NotFound()
  return found
}

/** A family withdraws a file not validated yet (pending, or refused); a validated one stays. */
export async function deleteSubmission(ctx: SignedInContext, id: number): Promise<FieldErrors | undefined> {
  const { t } = ctx
  return ctx.em.transactional(async (tx) => {
    const found = await familySubmissionRead.first(tx, { id, accountId: ctx.account.id })
    if (!found) throw new NotFound()
    const locked = await tx.findOne(
      DocumentSubmission,
      { id },
      { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
    )
    if (!locked) throw new NotFound()
    if (locked.state === DocumentState.validated) return { document: t('documents.error.deleteValidated') }
    await discard(tx, ctx.account, found, 'document.deleted')
    return undefined
  })
}

const contentRead = prepare((db: Kysely<TenantDb>, p: { fileId: number }) =>
  db.selectFrom('stored_file').select('content').where('id', '=', p.fileId),
)

/** The bytes of a stored file, read only when someone downloads it. */
export async function fileContent(db: Reader, fileId: number): Promise<Buffer> {
  const found = await contentRead.first(db, { fileId })
  if (!found) throw new NotFound()
  const content = found.content as Uint8Array
  // PGlite gives a Uint8Array, node-postgres a Buffer: a view, not a copy
  return Buffer.from(content.buffer, content.byteOffset, content.byteLength)
}

/** The last day a document validated today counts, from its `validity` in the YAML. */
async function validUntil(em: Em, tenant: TenantConfig, document: RequiredDocument | undefined) {
  const validity = document?.validity ?? 'schoolYear'
  if (validity === 'forever') return null
  if (typeof validity === 'object') return validity.until
  const year = await currentSchoolYear(em)
  if (year) return year.endsOn
  const today = tenantToday(tenant)
  const september = Number(today.slice(5, 7)) >= 9
  return `${Number(today.slice(0, 4)) + (september ? 1 : 0)}-08-31`
}

/**
 * Staff validate or refuse a pending document; a refusal needs its reason, which the family reads.
 * The decision is audited and mailed to whoever uploaded the file, in the same transaction.
 */
export async function decideDocument(
  ctx: SignedInContext,
  id: number,
  input: DecisionInput,
): Promise<FieldErrors | undefined> {
  const { config: tenant, t } = ctx
  const checked = checkDecision(input, { accept: 'validated', refuse: 'refused' }, t)
  if (checked.errors) return checked.errors
  const { decision, reason } = checked.values
  return ctx.em.transactional(async (tx) => {
    const submission = await tx.findOne(
      DocumentSubmission,
      { id },
      { populate: ['file', 'pupil', 'uploadedBy'], lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
    )
    if (!submission) throw new NotFound()
    if (submission.state !== DocumentState.pending) return { decision: t('documents.review.alreadyDecided') }
    const document = tenant.documents?.find((d) => d.id === submission.documentId)
    submission.state = decision
    submission.reason = reason
    submission.validUntil = decision === 'validated' ? await validUntil(tx, tenant, document) : null
    submission.decidedBy = tx.getReference(Account, ctx.account.id)
    submission.decidedAt = new Date()
    audit(tx, ctx.account, {
      action: `document.${decision}`,
      subject: { type: 'document', id: submission.id },
      details: { submission: submission.id, document: submission.documentId, reason: submission.reason },
    })
    const family = submission.uploadedBy
    if (family && !family.disabled) {
      const locale = tenant.locale ?? 'fr'
      const pupil = submission.pupil
      queueMail(tx, tenant, locale, {
        to: family.email,
        template: 'document-decided',
        data: {
          displayName: family.displayName,
          document: document?.label ?? submission.documentId,
          fileName: submission.file.fileName,
          pupil: pupil ? fullName(pupil) : '',
          validated: decision === 'validated',
          reason: submission.reason,
          link: `${ctx.baseUrl}${pupil ? `/eleves/${pupil.id}/pieces` : '/famille/pieces'}`,
        },
      })
    }
    return undefined
  })
}

export interface QueueFilters {
  document: string | null
  state: DocumentState | null
  pupil: string | null
}

/** `%words%` for ILIKE, the wildcards typed by staff taken literally. */
export function containing(text: string | null): string | null {
  const words = text?.trim()
  return words ? `%${words.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null
}

const queueRead = prepare(
  (
    db: Kysely<TenantDb>,
    p: { state: string | null; document: string | null; pupil: string | null; offset: number },
  ) => {
    const matching = db
      .selectFrom('document_submission as d')
      .leftJoin('pupil as p', 'p.id', 'd.pupil_id')
      .where((eb) =>
        eb.and([
          eb.or([
            eb(eb.cast(eb.val(p.state), 'text'), 'is', null),
            eb('d.state', '=', eb.cast(eb.val(p.state), 'text') as never),
          ]),
          eb.or([
            eb(eb.cast(eb.val(p.document), 'text'), 'is', null),
            eb('d.document_id', '=', eb.cast<string>(eb.val(p.document), 'text')),
          ]),
          eb.or([
            eb(eb.cast(eb.val(p.pupil), 'text'), 'is', null),
            eb('p.last_name', 'ilike', eb.cast<string>(eb.val(p.pupil), 'text')),
            eb('p.first_name', 'ilike', eb.cast<string>(eb.val(p.pupil), 'text')),
          ]),
        ]),
      )
    return db.selectNoFrom((eb) => [
      eb
        .selectFrom(matching.select('d.id').as('q'))
        .select((inner) => inner.cast<number>(inner.fn.countAll(), 'integer').as('n'))
        .as('total'),
      jsonArrayFrom(
        matching
          .innerJoin('stored_file as f', 'f.id', 'd.file_id')
          .leftJoin('guardian as g', (join) =>
            join.onRef('g.family_id', '=', 'd.family_id').on('g.rank', '=', 1),
          )
          .select([
            'd.id',
            'd.document_id as documentId',
            'd.state',
            'd.reason',
            'd.created_at as createdAt',
            'p.first_name as pupilFirstName',
            'p.last_name as pupilLastName',
            'f.file_name as fileName',
            'f.content_type as contentType',
            'f.size',
            'g.first_name as guardianFirstName',
            'g.last_name as guardianLastName',
          ])
          .orderBy('d.created_at')
          .orderBy('d.id')
          .limit(pageSize)
          .offset(p.offset),
      ).as('rows'),
    ])
  },
)

export type QueueRow = NonNullable<Awaited<ReturnType<typeof queueRead.first>>>['rows'][number]

/** A page of the staff queue: uploads, oldest first, filtered by document, state and pupil's name. */
export async function documentQueue(db: Reader, filters: QueueFilters, page: number) {
  const found = await queueRead.first(db, {
    state: filters.state,
    document: filters.document,
    pupil: containing(filters.pupil),
    offset: offsetOf(page),
  })
  return { total: found?.total ?? 0, rows: found?.rows ?? [] }
}

/** How many uploads await a decision: a fragment of the staff dashboard. */
export function pendingDocumentCount() {
  return tenantDb
    .selectFrom('document_submission')
    .select((eb) => eb.cast<number>(eb.fn.countAll(), 'integer').as('count'))
    .where('state', '=', DocumentState.pending)
    .$asScalar()
}

const reviewRead = prepare((db: Kysely<TenantDb>, p: { id: number }) =>
  db
    .selectFrom('document_submission as d')
    .innerJoin('stored_file as f', 'f.id', 'd.file_id')
    .leftJoin('pupil as p', 'p.id', 'd.pupil_id')
    .leftJoin('account as u', 'u.id', 'd.decided_by_id')
    .leftJoin('guardian as g', (join) => join.onRef('g.family_id', '=', 'd.family_id').on('g.rank', '=', 1))
    .select([
      'd.id',
      'd.document_id as documentId',
      'd.state',
      'd.reason',
      'd.created_at as createdAt',
      'd.decided_at as decidedAt',
      'd.family_id as familyId',
      'd.pupil_id as pupilId',
      'd.file_id as fileId',
      'p.first_name as pupilFirstName',
      'p.last_name as pupilLastName',
      'f.file_name as fileName',
      'f.content_type as contentType',
      'f.size',
      'u.display_name as decidedBy',
      'g.first_name as guardianFirstName',
      'g.last_name as guardianLastName',
    ])
    .where('d.id', '=', p.id),
)

export type ReviewedSubmission = NonNullable<Awaited<ReturnType<typeof reviewRead.first>>>

/** An upload as staff review it, with the family's main guardian. */
export async function submissionForReview(db: Reader, id: number): Promise<ReviewedSubmission> {
  const found = await reviewRead.first(db, { id })
  if (!found) throw new NotFound()
  return found
}

const documentsRead = prepare((db: Kysely<TenantDb>, p: { accountId: number; yearId: number }) => {
  const family = familyIdOf(p.accountId)
  return db.selectNoFrom([
    householdOf(p.accountId).as('household'),
    enrolmentsOfFamily(family, p.yearId).as('enrolments'),
    reenrolmentsOf(family).as('reenrolments'),
    submissionsOf(family).as('submissions'),
  ])
})

/**
 * The "Pièces à fournir" of the signed-in family, or of one of its pupils (`pupilId`): each document
 * asked, with its state. Another family's pupil is a 404.
 */
export async function documentsPage(ctx: SignedInContext, pupilId?: number) {
  const year = await currentSchoolYear(ctx.db)
  const found = await documentsRead.first(ctx.db, { accountId: ctx.account.id, yearId: year?.id ?? 0 })
  const household = householdOr404(found?.household)
  const pupil = pupilId === undefined ? undefined : householdPupil(household, pupilId)
  const facts = {
    family: household,
    enrolments: found!.enrolments,
    reenrolments: inProgress(found!.reenrolments),
  }
  return {
    household,
    pupil,
    target: { familyId: household.familyId, pupilId: pupil?.id ?? null },
    requirements: requirementsOf(ctx.config, facts, found!.submissions, pupil),
  }
}
