import { createHash } from 'node:crypto'
import { LockMode } from '@mikro-orm/core'
import { CompiledQuery, type Transaction } from 'kysely'
import { audit } from '../../platform/audit/audit.ts'
import type { Account } from '../../platform/auth/entities.ts'
import { oncePerEm } from '../../platform/db/memo.ts'
import type { Em } from '../../platform/db/orm.ts'
import { selectEntities, tableOf } from '../../platform/db/rows.ts'
import { NotFound, ValidationFailed } from '../../platform/http/errors.ts'
import { queueMail } from '../../platform/mail/outbox.ts'
import type { TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import type { DocumentType, RequiredDocument } from '../../platform/tenancy/tenant-config-types.ts'
import type { Translate } from '../../platform/views/i18n.ts'
import type { Family } from '../family/entities.ts'
import { Guardian } from '../family/entities.ts'
import { fullName, tenantToday } from '../family/service.ts'
import type { Pupil } from '../pupils/entities.ts'
import { isMinor } from '../pupils/service.ts'
import { Reenrolment, ReenrolmentStatus } from '../reenrolment/entities.ts'
import { checkDecision } from '../staff/decision.ts'
import { currentEnrolments, currentSchoolYear } from '../teaching/service.ts'
import { type Facts, holds } from './conditions.ts'
import { DocumentState, DocumentSubmission, StoredFile } from './entities.ts'

/** 1 Mo as families' computers count it in French: 1024 × 1024 bytes. */
export const megabyte = 1024 * 1024

/** A size in Mo as the tables show it, "0,54"; a few kilobytes read "< 0,01" rather than "0,00". */
export function sizeInMb(bytes: number): string {
  const mb = bytes / megabyte
  const format = (n: number) =>
    n.toLocaleString('fr-FR', { minimumFractionDigits: 2, maximumFractionDigits: 2 })
  return bytes > 0 && mb < 0.005 ? `< ${format(0.01)}` : format(mb)
}

export const contentTypes: Record<DocumentType, string> = {
  pdf: 'application/pdf',
  jpeg: 'image/jpeg',
  png: 'image/png',
}

/** Where a required document is asked: for the family, or for one of its pupils. */
export interface Holder {
  family: Family
  pupil?: Pupil
}

export type RequirementState = 'missing' | DocumentState

/** A line of a "Pièces à fournir" table: a document asked for, and the submission that decides its state. */
export interface Requirement {
  document: RequiredDocument
  state: RequirementState
  submission?: DocumentSubmission
}

/**
 * What conditions test. A pupil's disciplines are those of this year's courses. While a family
 * re-enrols, its answers count as soon as they are saved: the payment mode chosen for next year
 * (choosing direct debit asks for the SEPA mandate) and the pupil's answers to the questions.
 */
export async function factsOf(em: Em, tenant: TenantConfig, holder: Holder): Promise<Facts> {
  // the family's and then the pupil's documents are usually asked for in the same request; plain
  // SQL, see db/rows.ts
  const reenrolments = await oncePerEm(em, `reenrolmentsInProgress:${holder.family.id}`, () =>
    selectEntities(
      em,
      Reenrolment,
      'r',
      'where r.family_id = $1 and r.status = any($2) order by r.school_year desc, r.updated_at desc',
      [holder.family.id, [ReenrolmentStatus.draft, ReenrolmentStatus.submitted]],
    ),
  )
  const coming = reenrolments.filter((r) => r.schoolYear === reenrolments[0]?.schoolYear)
  const chosenMode = coming.find((r) => r.answers.paymentMode)?.answers.paymentMode
  const family = {
    resident: holder.family.resident,
    paymentMode: chosenMode ?? holder.family.paymentMode ?? null,
  }
  const { pupil } = holder
  if (!pupil) return { family }
  const enrolments = await currentEnrolments(em, pupil)
  return {
    family,
    pupil: {
      minor: Boolean(pupil.birthDate && isMinor(pupil.birthDate, tenantToday(tenant))),
      disciplines: [...new Set(enrolments.map((e) => e.course.discipline))],
      answers: coming.find((r) => r.pupil.id === pupil.id)?.answers.questions ?? {},
    },
  }
}

/** The documents the tenant asks of this family (or pupil), as their conditions decide. */
export function documentsAsked(tenant: TenantConfig, facts: Facts): RequiredDocument[] {
  const level = facts.pupil ? 'pupil' : 'family'
  return (tenant.documents ?? []).filter((d) => d.level === level && (!d.when || holds(d.when, facts)))
}

const stillValid = (submission: DocumentSubmission, today: string) =>
  submission.state === DocumentState.validated && (!submission.validUntil || submission.validUntil >= today)

/**
 * The holder's "Pièces à fournir": each document asked, with its state. A document validated
 * earlier that is still valid counts (a SEPA mandate given once, an insurance valid until a date);
 * otherwise the latest upload decides (en attente, refusé), and without one the document is "à fournir".
 */
export async function requirementsOf(em: Em, tenant: TenantConfig, holder: Holder): Promise<Requirement[]> {
  const [requirements] = await requirementsOfHolders(em, tenant, [holder])
  return requirements
}

/** requirementsOf for each of several holders of one family, their submissions read in one query. */
export async function requirementsOfHolders<H extends Holder[]>(
  em: Em,
  tenant: TenantConfig,
  holders: [...H],
): Promise<{ [K in keyof H]: Requirement[] }> {
  const asked: RequiredDocument[][] = []
  for (const holder of holders) asked.push(documentsAsked(tenant, await factsOf(em, tenant, holder)))
  // one condition per holder asked for documents: its pupil (or none) and the documents' ids
  const params: unknown[] = []
  const conditions = holders.flatMap((holder, i) => {
    if (asked[i]!.length === 0) return []
    params.push(
      holder.family.id,
      asked[i]!.map((d) => d.id),
    )
    const family = `d.family_id = $${params.length - 1} and d.document_id = any($${params.length})`
    if (!holder.pupil) return [`(${family} and d.pupil_id is null)`]
    params.push(holder.pupil.id)
    return [`(${family} and d.pupil_id = $${params.length})`]
  })
  // plain SQL, see db/rows.ts
  const submissions = conditions.length
    ? await selectEntities(
        em,
        DocumentSubmission,
        'd',
        `join ${tableOf(em, StoredFile)} f on f.id = d.file_id
         where ${conditions.join(' or ')} order by d.created_at desc, d.id desc`,
        params,
        [{ entity: StoredFile, alias: 'f' }],
      )
    : []
  const today = tenantToday(tenant)
  return holders.map((holder: Holder, i) =>
    asked[i]!.map((document) => {
      const own = submissions.filter(
        (s) =>
          s.documentId === document.id &&
          s.family.id === holder.family.id &&
          (s.pupil?.id ?? null) === (holder.pupil?.id ?? null),
      )
      const valid = own.find((s) => stillValid(s, today))
      if (valid) return { document, state: DocumentState.validated, submission: valid }
      const latest = own.find((s) => s.state !== DocumentState.validated)
      return latest ? { document, state: latest.state, submission: latest } : { document, state: 'missing' }
    }),
  ) as { [K in keyof H]: Requirement[] }
}

export interface Upload {
  fileName: string
  content: Buffer
  contentType: string
}

/**
 * Stores a family's file for a document it is asked for, in one transaction with its audit event.
 * An upload replaces a pending one for the same document (the family corrects its choice before
 * review); a refused one stays, for the history staff see. A validated document cannot be replaced.
 */
export async function submitDocument(
  em: Em,
  tenant: TenantConfig,
  account: Account,
  holder: Holder,
  documentId: string,
  upload: Upload,
  t: Translate,
): Promise<DocumentSubmission> {
  return em.transactional(async (tx) => {
    const requirement = (await requirementsOf(tx, tenant, holder)).find((r) => r.document.id === documentId)
    if (!requirement) throw new ValidationFailed({ document: t('documents.error.noDocument') })
    if (requirement.state === DocumentState.validated)
      throw new ValidationFailed({ document: t('documents.error.alreadyValidated') })
    if (requirement.state === DocumentState.pending && requirement.submission) {
      await discard(tx, account, requirement.submission, 'document.replaced')
    }
    const sha256 = createHash('sha256').update(upload.content).digest('hex')
    const fileId = await insertFile(tx, upload, sha256)
    const submission = tx.create(DocumentSubmission, {
      family: holder.family,
      pupil: holder.pupil ?? null,
      documentId,
      file: tx.getReference(StoredFile, fileId),
      uploadedBy: account,
    })
    await tx.flush()
    audit(tx, account, {
      action: 'document.uploaded',
      subject: subjectOf(submission),
      details: {
        submission: submission.id,
        document: documentId,
        file: upload.fileName,
        sha256,
      },
    })
    return submission
  })
}

/**
 * Writes the bytes with a bound parameter, sent to Postgres as binary. MikroORM's queries write
 * their parameters into the SQL text: a 2 MB file would become a 4 MB hex literal, built, sent
 * and parsed again at every upload.
 */
async function insertFile(tx: Em, upload: Upload, sha256: string): Promise<number> {
  const table = `"${tx.schema}"."${tx.getMetadata(StoredFile).tableName}"`
  const query = CompiledQuery.raw(
    `insert into ${table} (created_at, updated_at, file_name, content_type, size, sha256, content)
     values (now(), now(), $1, $2, $3, $4, $5) returning id`,
    [upload.fileName, upload.contentType, upload.content.length, sha256, upload.content],
  )
  const connection = tx.getTransactionContext<Transaction<unknown>>() ?? tx.getConnection().getClient()
  const { rows } = await connection.executeQuery<{ id: number }>(query)
  return rows[0]!.id
}

function subjectOf(submission: DocumentSubmission) {
  return { type: 'document', id: submission.id }
}

async function discard(tx: Em, account: Account, submission: DocumentSubmission, action: string) {
  audit(tx, account, {
    action,
    subject: subjectOf(submission),
    details: { submission: submission.id, document: submission.documentId, file: submission.file.fileName },
  })
  tx.remove(submission)
  tx.remove(submission.file)
  await tx.flush()
}

/** One of the family's submissions; another family's id is as unknown as a missing one. */
export async function familySubmission(em: Em, family: Family, id: number): Promise<DocumentSubmission> {
  const submission = await em.findOne(DocumentSubmission, { id, family }, { populate: ['file', 'pupil'] })
  if (!submission) throw new NotFound()
  return submission
}

/** A family withdraws a file not validated yet (pending, or refused); a validated one stays. */
export async function deleteSubmission(em: Em, account: Account, family: Family, id: number, t: Translate) {
  return em.transactional(async (tx) => {
    const submission = await tx.findOne(
      DocumentSubmission,
      { id, family },
      { populate: ['file', 'pupil'], lockMode: LockMode.PESSIMISTIC_WRITE },
    )
    if (!submission) throw new NotFound()
    if (submission.state === DocumentState.validated)
      throw new ValidationFailed({ document: t('documents.error.deleteValidated') })
    await discard(tx, account, submission, 'document.deleted')
    return submission
  })
}

/** The bytes of a stored file, read only when someone downloads it. */
export async function fileContent(em: Em, submission: DocumentSubmission): Promise<Buffer> {
  const { content } = await em.findOneOrFail(StoredFile, submission.file.id, { populate: ['content'] })
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
  em: Em,
  context: { tenant: TenantConfig; baseUrl: string; t: Translate },
  staff: Account,
  id: number,
  input: { decision?: string; reason?: string },
): Promise<DocumentSubmission> {
  const { tenant, t } = context
  const { decision, reason } = checkDecision(input, { accept: 'validated', refuse: 'refused' }, t)
  return em.transactional(async (tx) => {
    const submission = await tx.findOne(
      DocumentSubmission,
      { id },
      { populate: ['file', 'pupil', 'uploadedBy'], lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
    )
    if (!submission) throw new NotFound()
    if (submission.state !== DocumentState.pending)
      throw new ValidationFailed({ decision: t('documents.review.alreadyDecided') })
    const document = tenant.documents?.find((d) => d.id === submission.documentId)
    submission.state = decision
    submission.reason = reason
    submission.validUntil = decision === 'validated' ? await validUntil(tx, tenant, document) : null
    submission.decidedBy = staff
    submission.decidedAt = new Date()
    audit(tx, staff, {
      action: `document.${decision}`,
      subject: subjectOf(submission),
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
          link: `${context.baseUrl}${pupil ? `/eleves/${pupil.id}/pieces` : '/famille/pieces'}`,
        },
      })
    }
    return submission
  })
}

export interface QueueFilters {
  document?: string
  state?: DocumentState
  pupil?: string
}

/** The staff queue: submissions, oldest first, filtered by document, state and pupil's name. */
export async function documentQueue(em: Em, filters: QueueFilters) {
  const name = filters.pupil?.trim()
  const like = name ? `%${name.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : undefined
  const submissions = await em.find(
    DocumentSubmission,
    {
      ...(filters.state ? { state: filters.state } : {}),
      ...(filters.document ? { documentId: filters.document } : {}),
      ...(like ? { pupil: { $or: [{ lastName: { $ilike: like } }, { firstName: { $ilike: like } }] } } : {}),
    },
    { populate: ['file', 'pupil', 'uploadedBy'], orderBy: { createdAt: 'asc', id: 'asc' }, limit: 500 },
  )
  const families = [...new Set(submissions.map((s) => s.family.id))]
  const guardians = families.length ? await em.find(Guardian, { family: { $in: families }, rank: 1 }) : []
  const familyNames = new Map(guardians.map((g) => [g.family.id, fullName(g)]))
  return submissions.map((submission) => ({
    submission,
    familyName: familyNames.get(submission.family.id) ?? '',
  }))
}

export async function pendingDocumentCount(em: Em): Promise<number> {
  return em.count(DocumentSubmission, { state: DocumentState.pending })
}

/** A submission as staff review it, with the family's main guardian. */
export async function submissionForReview(em: Em, id: number) {
  const submission = await em.findOne(
    DocumentSubmission,
    { id },
    { populate: ['file', 'pupil', 'uploadedBy', 'decidedBy'] },
  )
  if (!submission) throw new NotFound()
  const guardian = await em.findOne(Guardian, { family: submission.family, rank: 1 })
  return { submission, familyName: guardian ? fullName(guardian) : '' }
}
