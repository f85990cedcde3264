import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse as parseYaml, stringify } from 'yaml'
import { DocumentSubmission, StoredFile } from '../../src/features/documents/entities.ts'
import { Family, Guardian } from '../../src/features/family/entities.ts'
import { Preregistration } from '../../src/features/preregistration/entities.ts'
import { offeredDisciplines } from '../../src/features/preregistration/form.ts'
import { Pupil } from '../../src/features/pupils/entities.ts'
import { Reenrolment } from '../../src/features/reenrolment/entities.ts'
import { ChangeRequest } from '../../src/features/sas/entities.ts'
import { Course, Enrolment, SchoolYear } from '../../src/features/teaching/entities.ts'
import { Account } from '../../src/platform/auth/entities.ts'
import { hashPassword } from '../../src/platform/auth/passwords.ts'
import type { Orm } from '../../src/platform/db/orm.ts'
import { schemaFor } from '../../src/platform/tenancy/registry.ts'
import type { TenantConfig } from '../../src/platform/tenancy/tenant-config.ts'
import { root } from './common.ts'
import { pdfOf } from './family-client.ts'

/** The surname of every seeded family, numbered: what the staff queues of the big tenant must list. */
export const bigSurname = 'Banc'

/**
 * Limonest's own YAML (six-step re-enrolment, documents, pré-inscription period) under another slug
 * and name, without Limonest's custom host, which would otherwise answer for both.
 */
export function writeBigTenantFile(dir: string, slug: string): void {
  const yaml = parseYaml(readFileSync(join(root, 'tenants/limonest.yaml'), 'utf8'))
  yaml.slug = slug
  yaml.name = 'Conservatoire de banc'
  yaml.shortName = 'Conservatoire de banc'
  delete yaml.hosts
  if (!yaml.periods?.preregistration || !yaml.preregistration)
    throw new Error('tenants/limonest.yaml no longer has a pré-inscription: the big tenant needs one')
  writeFileSync(join(dir, `${slug}.yaml`), stringify(yaml))
}

export interface BigSeed {
  families: number
  pupils: number
  enrolments: number
  /** Items of each staff queue: pending changes, pending documents, submitted re-enrolments, dossiers. */
  queue: number
  courses: number
}

const batchSize = 250

/**
 * Adds `families` families to a tenant the demo seed has filled (its school years and courses):
 * one guardian with an account each, one pupil in even families and two in odd ones (1.5 per
 * family), each pupil in two of this year's courses. The first `queue` families also fill the staff
 * queues: a pending change of responsable 1's mobile phone, a pending "responsabilité civile" (a
 * 2 KiB PDF) and a submitted re-enrolment of their first pupil; and `queue` confirmed pré-inscription
 * dossiers. Through the app's entities, in batches of a few hundred families.
 */
/**
 * A birth date spread over nine years from `firstYear`, as a conservatoire's pupils are: one shared
 * date would make every dossier a possible duplicate of every other, which no real tenant sees.
 */
function birthDateOf(n: number, firstYear: number): string {
  const pad = (x: number) => String(x).padStart(2, '0')
  return `${firstYear + (n % 9)}-${pad(1 + (n % 12))}-${pad(1 + (Math.floor(n / 12) % 28))}`
}

export async function seedBigTenant(
  orm: Orm,
  config: TenantConfig,
  families: number,
  queue: number,
): Promise<BigSeed> {
  const schoolYear = config.periods?.reenrolment?.schoolYear
  if (!schoolYear) throw new Error(`${config.slug}: no re-enrolment period`)
  const em = orm.em.fork({ schema: schemaFor(config.slug) })
  const year = await em.findOneOrFail(SchoolYear, { current: true })
  const courseIds = (await em.find(Course, { schoolYear: year }, { orderBy: { id: 'asc' } })).map((c) => c.id)
  if (courseIds.length < 2) throw new Error(`${config.slug}: the demo seed made fewer than two courses`)
  const disciplines = offeredDisciplines(config).map((d) => d.code)
  // one hash for every account: nobody signs in as these families
  const passwordHash = await hashPassword('une phrase de passe que personne ne tape')
  const file = pdfOf(2048)
  const fileSha256 = createHash('sha256').update(file).digest('hex')
  const counts = { families: 0, pupils: 0, enrolments: 0 }
  const queued: { n: number; family: Family; guardian: Guardian; account: Account; pupil: Pupil }[] = []

  for (let start = 0; start < families; start += batchSize) {
    const batch = em.fork()
    for (let i = start; i < Math.min(families, start + batchSize); i++) {
      const n = i + 1
      const lastName = `${bigSurname}-${n}`
      const identifiant = `banc-${String(n).padStart(5, '0')}`
      const account = batch.create(Account, {
        identifiant,
        role: 'family',
        email: `${identifiant}@example.org`,
        displayName: `Camille ${lastName}`,
        passwordHash,
      })
      const family = batch.create(Family, { resident: true, paymentMode: 'payfip' })
      const guardian = batch.create(Guardian, {
        family,
        rank: 1,
        civility: 'Madame',
        lastName,
        firstName: 'Camille',
        address: '1 place du Marché',
        postalCode: '69760',
        city: 'Limonest',
        phoneMobile: '06 12 34 56 78',
        email: `${identifiant}@example.org`,
        extraPhones: [],
        account,
      })
      const pupils = Array.from({ length: 1 + (i % 2) }, (_, k) =>
        batch.create(Pupil, {
          family,
          civility: k === 0 ? 'Madame' : 'Monsieur',
          lastName,
          firstName: k === 0 ? 'Léa' : 'Jules',
          birthDate: birthDateOf(n * 2 + k, 2008),
          schoolLevel: 'CM2',
          school: 'École élémentaire du Centre',
          imageRights: true,
          exitAuthorization: true,
        }),
      )
      for (const pupil of pupils) {
        const first = counts.pupils++ % courseIds.length
        for (const c of [first, (first + 1) % courseIds.length]) {
          batch.create(Enrolment, { pupil, course: batch.getReference(Course, courseIds[c]!) })
          counts.enrolments++
        }
      }
      counts.families++
      if (i < queue) queued.push({ n, family, guardian, account, pupil: pupils[0]! })
    }
    // flushed first: a change request names responsable 1 by id
    await batch.flush()
    for (const { n, family, guardian, account, pupil } of queued.splice(0)) {
      batch.create(ChangeRequest, {
        family,
        subjectType: 'guardian',
        subjectId: guardian.id,
        proposedBy: account,
        changes: {
          phoneMobile: {
            before: guardian.phoneMobile,
            after: `07 00 00 ${String(n % 100).padStart(2, '0')} 00`,
          },
        },
      })
      batch.create(DocumentSubmission, {
        family,
        pupil,
        documentId: 'responsabilite-civile',
        file: batch.create(StoredFile, {
          fileName: 'assurance.pdf',
          contentType: 'application/pdf',
          size: file.length,
          sha256: fileSha256,
          content: file,
        }),
        uploadedBy: account,
      })
      batch.create(Reenrolment, {
        family,
        pupil,
        schoolYear,
        status: 'submitted',
        step: 'finalize',
        answers: { paymentMode: 'payfip', imageRights: true, exitAuthorization: true, accepted: true },
        updatedBy: account,
        submittedAt: new Date(),
      })
      batch.create(Preregistration, {
        tokenHash: createHash('sha256').update(`${config.slug}/bench/${n}`).digest('hex'),
        status: 'confirmed',
        email: `dossier-${n}@example.org`,
        guardians: [
          {
            civility: 'Madame',
            lastName: `${bigSurname}-dossier-${n}`,
            firstName: 'Alice',
            address: '2 rue des Écoles',
            postalCode: '69760',
            city: 'Limonest',
            phoneMobile: '06 98 76 54 32',
            email: `dossier-${n}@example.org`,
          },
        ],
        applicants: [
          {
            fromGuardian: false,
            values: {
              useGuardianAddress: 'true',
              civility: 'Monsieur',
              lastName: `${bigSurname}-dossier-${n}`,
              firstName: 'Paul',
              birthDate: birthDateOf(n, 2012),
            },
            choices: disciplines.length ? [disciplines[n % disciplines.length]!] : [],
            freeText: null,
          },
        ],
        confirmedAt: new Date(),
      })
    }
    await batch.flush()
  }
  return { ...counts, queue: Math.min(queue, families), courses: courseIds.length }
}
