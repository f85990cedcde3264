import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse as parseYaml, stringify } from 'yaml'
import { demoPassword } from '../../src/demo/accounts.ts'
import { allEntities } from '../../src/entities.ts'
import { Family, Guardian } from '../../src/features/family/entities.ts'
import { Pupil } from '../../src/features/pupils/entities.ts'
import { Course, Enrolment, SchoolYear, Teacher } from '../../src/features/teaching/entities.ts'
import { Account } from '../../src/platform/auth/entities.ts'
import { hashPassword } from '../../src/platform/auth/passwords.ts'
import type { Database } from '../../src/platform/config.ts'
import { openOrm, type Orm } from '../../src/platform/db/orm.ts'
import { createTenant, migratePlatform } from '../../src/platform/tenancy/provisioning.ts'
import { schemaFor } from '../../src/platform/tenancy/registry.ts'
import { loadTenantConfigs, type TenantConfig } from '../../src/platform/tenancy/tenant-config.ts'
import { root } from './common.ts'

/** The staff account that generates and issues the year's invoices (password: the demo's). */
export const billingStaff = 'banc-secretariat'

/** `banc-00001`…: the family accounts of the first families seeded with one. */
const familyIdentifiant = (n: number) => `banc-${String(n).padStart(5, '0')}`

/**
 * Limonest's own YAML, tariffs and payment modes included, under another slug and without its
 * custom host (which would answer for both).
 */
export function writeBillingTenantFile(dir: string, slug: string): void {
  const yaml = parseYaml(readFileSync(join(root, 'tenants/limonest.yaml'), 'utf8'))
  if (!yaml.tariffs || !yaml.paymentModes?.length)
    throw new Error(
      'tenants/limonest.yaml no longer has tariffs and payment modes: the billing bench needs them',
    )
  yaml.slug = slug
  delete yaml.hosts
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, `${slug}.yaml`), stringify(yaml))
}

/** The school year going on today ("2026-2027" from September 2026): the one staff invoice. */
export function currentSchoolYear(today = new Date()): string {
  const first = today.getUTCMonth() >= 8 ? today.getUTCFullYear() : today.getUTCFullYear() - 1
  return `${first}-${first + 1}`
}

/** What pupils take, as Limonest's tariffs see them: each of its categories, some pupils with two. */
const profiles = [
  ['clarinette', 'formation-musicale', 'orchestre'],
  ['clarinette'],
  ['decouverte-instrumentale', 'formation-musicale'],
  ['formation-musicale'],
  ['orchestre'],
  ['choeur-domin-ut'],
  ['eveil-artistique'],
  ['danse-enfant'],
  ['theatre'],
  ['clarinette', 'formation-musicale', 'choeur-domin-ut'],
  ['danse-adulte', 'theatre'],
  ['formation-musicale', 'danse-enfant'],
]

/** Payment modes in the mix: direct debit in 9 for half, one payment, holiday vouchers, none chosen. */
const modes = ['prelevement', 'prelevement', 'prelevement', 'payfip', 'cheques-vacances', null]
const brackets = ['Q1', 'Q2', 'Q3', 'Q4', 'Q5', 'Q6', 'Q7', null]

export interface BillingSeed {
  families: number
  pupils: number
  enrolments: number
  nonResidents: number
  noProvenQf: number
  noPaymentMode: number
}

/**
 * `families` families of a conservatoire's mix (half with one pupil, a third with two, the rest
 * with three; one in ten from outside the town; the seven QF brackets and no proven QF; direct
 * debit, one payment, holiday vouchers or no mode chosen), every pupil enrolled this school year in
 * one course per discipline of one of the profiles above. The first `accounts` families get a
 * family account signed in with the demo's password. Through the app's entities, in batches.
 */
export async function seedBillingFamilies(
  orm: Orm,
  config: TenantConfig,
  schoolYear: string,
  families: number,
  accounts: number,
): Promise<BillingSeed> {
  const em = orm.em.fork({ schema: schemaFor(config.slug) })
  const first = Number(schoolYear.slice(0, 4))
  const year = em.create(SchoolYear, {
    label: schoolYear,
    startsOn: `${first}-09-01`,
    endsOn: `${first + 1}-08-31`,
    current: true,
  })
  const teacher = em.create(Teacher, { firstName: 'Hélène', lastName: 'Rivière' })
  const disciplines = [...new Set(profiles.flat())]
  const courses = new Map(
    disciplines.map((discipline) => [
      discipline,
      em.create(Course, {
        schoolYear: year,
        discipline,
        establishment: config.establishments[0]!.code,
        name: discipline,
        teacher,
        slot: 'Mercredi 14h00',
      }),
    ]),
  )
  await em.flush()
  const passwordHash = await hashPassword(demoPassword)
  em.create(Account, {
    identifiant: billingStaff,
    role: 'secretariat',
    email: `${billingStaff}@example.org`,
    displayName: 'Secrétariat du banc',
    passwordHash,
  })
  await em.flush()
  const seed: BillingSeed = {
    families: 0,
    pupils: 0,
    enrolments: 0,
    nonResidents: 0,
    noProvenQf: 0,
    noPaymentMode: 0,
  }
  for (let start = 0; start < families; start += 500) {
    const batch = em.fork()
    for (let i = start; i < Math.min(families, start + 500); i++) {
      const n = i + 1
      const resident = i % 10 !== 9
      const quotientBracket = resident ? brackets[i % brackets.length]! : null
      const paymentMode = modes[i % modes.length]!
      const family = batch.create(Family, { resident, quotientBracket, paymentMode })
      const lastName = `Banc-${n}`
      const identifiant = familyIdentifiant(n)
      batch.create(Guardian, {
        family,
        rank: 1,
        civility: 'Madame',
        lastName,
        firstName: 'Camille',
        address: `${1 + (i % 40)} rue des Écoles`,
        postalCode: resident ? '69760' : '69009',
        city: resident ? 'Limonest' : 'Lyon',
        phoneMobile: '06 12 34 56 78',
        email: `${identifiant}@example.org`,
        extraPhones: [],
        account:
          i < accounts
            ? batch.create(Account, {
                identifiant,
                role: 'family',
                email: `${identifiant}@example.org`,
                displayName: `Camille ${lastName}`,
                passwordHash,
              })
            : null,
      })
      const pupils = i % 20 < 10 ? 1 : i % 20 < 17 ? 2 : 3
      for (let k = 0; k < pupils; k++) {
        const pupil = batch.create(Pupil, {
          family,
          civility: k % 2 ? 'Monsieur' : 'Madame',
          lastName,
          firstName: ['Léa', 'Jules', 'Inès'][k]!,
          birthDate: `${2008 + ((i + k * 3) % 12)}-0${1 + (k % 9)}-1${k}`,
          schoolLevel: 'CM2',
          school: 'École élémentaire du Bourg',
          imageRights: true,
          exitAuthorization: true,
        })
        for (const discipline of profiles[(i * 7 + k * 5) % profiles.length]!) {
          batch.create(Enrolment, { pupil, course: batch.getReference(Course, courses.get(discipline)!.id) })
          seed.enrolments++
        }
        seed.pupils++
      }
      seed.families++
      if (!resident) seed.nonResidents++
      else if (!quotientBracket) seed.noProvenQf++
      if (!paymentMode) seed.noPaymentMode++
    }
    await batch.flush()
  }
  return seed
}

/** A fresh tenant on `database` (migrated platform, created tenant) filled by seedBillingFamilies. */
export async function provisionBillingTenant(
  database: Database,
  tenantsDir: string,
  schoolYear: string,
  families: number,
  accounts: number,
): Promise<BillingSeed> {
  const [config] = loadTenantConfigs(tenantsDir)
  const orm = await openOrm(database, { entities: allEntities, poolSize: 4 })
  try {
    await migratePlatform(orm)
    await createTenant(orm, config!)
    const seed = await seedBillingFamilies(orm, config!, schoolYear, families, accounts)
    // the statistics autovacuum would gather after a bulk load: Postgres then plans for the data
    await orm.em.getConnection().execute('analyze')
    return seed
  } finally {
    await orm.close()
  }
}
