import type { EntitySchema } from '@mikro-orm/core'
import { DocumentSubmission, StoredFile } from './features/documents/entities.ts'
import { Family, Guardian } from './features/family/entities.ts'
import { Preregistration } from './features/preregistration/entities.ts'
import { Pupil } from './features/pupils/entities.ts'
import { Reenrolment } from './features/reenrolment/entities.ts'
import { RepertoireEntry, SchoolEvent } from './features/repertoire/entities.ts'
import { ChangeRequest } from './features/sas/entities.ts'
import { Absence, Course, Enrolment, Evaluation, SchoolYear, Teacher } from './features/teaching/entities.ts'
import { AuditEvent } from './platform/audit/entities.ts'
import { Account, PasswordToken, Session } from './platform/auth/entities.ts'
import { TenantEntity } from './platform/db/base-entity.ts'
import { OutboxMail } from './platform/mail/entities.ts'
import { TenantRow } from './platform/tenancy/entities.ts'

/** Tables of the `platform` schema. */
export const platformEntities: EntitySchema[] = [TenantRow] as never

/** Tables of every `tenant_<slug>` schema (`schema: '*'`). */
export const tenantEntities: EntitySchema[] = [
  TenantEntity,
  Account,
  Session,
  PasswordToken,
  OutboxMail,
  Family,
  Guardian,
  Pupil,
  SchoolYear,
  Teacher,
  Course,
  Enrolment,
  Evaluation,
  Absence,
  SchoolEvent,
  RepertoireEntry,
  ChangeRequest,
  StoredFile,
  DocumentSubmission,
  Reenrolment,
  Preregistration,
  AuditEvent,
] as never

export const allEntities = [...platformEntities, ...tenantEntities]
