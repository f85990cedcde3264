import type { EntitySchema } from '@mikro-orm/core'
import type { InferKyselyDB } from '@mikro-orm/sql'
import {
  BillingCounter,
  Debit,
  DebitBatch,
  Instalment,
  Invoice,
  InvoiceLine,
  InvoiceReminder,
  OnlinePayment,
  Payment,
  SepaMandate,
  TreasuryLine,
} from './features/billing/entities.ts'
import { Rental, RentalItem } from './features/billing/rental-entities.ts'
import { DocumentSubmission, StoredFile } from './features/documents/entities.ts'
import { Family, Guardian } from './features/family/entities.ts'
import { AbsenceNotice, Attendance, CourseReplacement, Lesson } from './features/lessons/entities.ts'
import { Allocation, OfferItem, PlaceRequest } from './features/places/entities.ts'
import { Preregistration } from './features/preregistration/entities.ts'
import { Pupil } from './features/pupils/entities.ts'
import { Reenrolment } from './features/reenrolment/entities.ts'
import { RepertoireEntry, RepertoirePiece, SchoolEvent } from './features/repertoire/entities.ts'
import { ChangeRequest } from './features/sas/entities.ts'
import { Course, Enrolment, Evaluation, SchoolYear, Teacher } from './features/teaching/entities.ts'
import { AuditEvent } from './platform/audit/entities.ts'
import { Account, PasswordToken, Session } from './platform/auth/entities.ts'
import { TenantEntity } from './platform/db/base-entity.ts'
import { fragmentBuilder, type ReadDb } from './platform/db/reads.ts'
import { OutboxAttachment, OutboxMail } from './platform/mail/entities.ts'
import { TenantConfigDraft, TenantConfigVersion, TenantRow } from './platform/tenancy/entities.ts'

/** Tables of the `platform` schema. */
export const platformEntities: EntitySchema[] = [TenantRow, TenantConfigVersion, TenantConfigDraft] as never

const tenantTables = [
  Account,
  Session,
  PasswordToken,
  OutboxMail,
  OutboxAttachment,
  Family,
  Guardian,
  Pupil,
  SchoolYear,
  Teacher,
  Course,
  Enrolment,
  Evaluation,
  SchoolEvent,
  RepertoireEntry,
  ChangeRequest,
  StoredFile,
  DocumentSubmission,
  Reenrolment,
  Preregistration,
  AuditEvent,
  Invoice,
  InvoiceLine,
  Instalment,
  Payment,
  BillingCounter,
  InvoiceReminder,
  RentalItem,
  Rental,
  OnlinePayment,
  TreasuryLine,
  SepaMandate,
  DebitBatch,
  Debit,
  Lesson,
  Attendance,
  AbsenceNotice,
  CourseReplacement,
  RepertoirePiece,
  OfferItem,
  PlaceRequest,
  Allocation,
] as const

/** Tables of every `tenant_<slug>` schema (`schema: '*'`). */
export const tenantEntities: EntitySchema[] = [TenantEntity, ...tenantTables] as never

/** The tables of a tenant's schema as Kysely reads them (see platform/db/reads.ts). */
export type TenantDb = ReadDb<InferKyselyDB<(typeof tenantTables)[number]>>

export const allEntities = [...platformEntities, ...tenantEntities]

/** Builds the subqueries of the tenant's tables that pages' reads share (see platform/db/reads.ts). */
export const tenantDb = fragmentBuilder<TenantDb>()
