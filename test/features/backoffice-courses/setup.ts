/** What the back-office courses' tests share: a tenant with a year, a teacher, a course and staff. */
import type { FastifyInstance } from 'fastify'
import { Family } from '../../../src/features/family/entities.ts'
import { Pupil } from '../../../src/features/pupils/entities.ts'
import { Course, SchoolYear, Teacher } from '../../../src/features/teaching/entities.ts'
import { AuditEvent } from '../../../src/platform/audit/entities.ts'
import { schemaFor } from '../../../src/platform/tenancy/registry.ts'
import { Browser, createAccount, goodPassword } from '../../helpers/accounts.ts'
import { build } from '../../helpers/build.ts'

interface Teardown {
  teardown(fn: () => unknown): void
}

export const text = (value: string | undefined) => (value ?? '').replace(/\s+/g, ' ').trim()

export const tenant = {
  disciplines: [
    { code: 'piano', name: 'Piano', domain: 'music' },
    { code: 'violon', name: 'Violon', domain: 'music' },
  ],
  establishments: [
    { code: 'centre', name: 'Site du centre' },
    { code: 'nord', name: 'Antenne nord' },
  ],
}

/**
 * One app for a whole file (building one costs seconds): tenants with `tenant`'s disciplines and
 * sites, each with the years 2026-2027 (current) and 2027-2028, a teacher and a secretariat account.
 * Each test makes its own courses and pupils with `course` and `pupils`.
 */
export async function world(t: Teardown, tenantCount = 1) {
  const built = await build(t, { tenants: Array.from({ length: tenantCount }, () => tenant) })
  const { app, tenants } = built
  const slugs = tenants.map((x) => x.slug)
  const schools = []
  for (const slug of slugs) {
    const em = app.orm.em.fork({ schema: schemaFor(slug) })
    const year = em.create(SchoolYear, {
      label: '2026-2027',
      startsOn: '2026-09-01',
      endsOn: '2027-08-31',
      current: true,
    })
    const next = em.create(SchoolYear, { label: '2027-2028', startsOn: '2027-09-01', endsOn: '2028-08-31' })
    const teacher = em.create(Teacher, { firstName: 'Hélène', lastName: 'Rivière' })
    await em.flush()
    await createAccount(app, slug, { identifiant: 'secretariat', role: 'secretariat' })
    schools.push({ slug, year, next, teacher })
  }
  return { ...built, schools, ...schools[0]! }
}

/** A course of the current year, on Wednesdays, with `capacity` seats. */
export async function course(
  app: FastifyInstance,
  slug: string,
  capacity: number | null,
  fields: Partial<Pick<Course, 'name' | 'discipline' | 'establishment' | 'cycle'>> = {},
) {
  const em = app.orm.em.fork({ schema: schemaFor(slug) })
  const year = await em.findOneOrFail(SchoolYear, { current: true })
  const teacher = await em.findOneOrFail(Teacher, { lastName: 'Rivière' })
  const row = em.create(Course, {
    schoolYear: year,
    discipline: 'piano',
    establishment: 'centre',
    name: 'Piano 1C1',
    cycle: '1C1',
    teacher,
    slots: [{ day: 3, start: '14:00', end: '14:30' }],
    slot: 'Mercredi 14h00 – 14h30',
    capacity,
    ...fields,
  })
  await em.flush()
  return row
}

export async function pupils(app: FastifyInstance, slug: string, names: [string, string][]) {
  const em = app.orm.em.fork({ schema: schemaFor(slug) })
  const family = em.create(Family, {})
  const rows = names.map(([firstName, lastName]) => em.create(Pupil, { family, firstName, lastName }))
  await em.flush()
  return rows
}

/** Staff signed in at /admin/connexion, on the centre site (the tenant has two). */
export async function signedInBrowser(app: FastifyInstance, host: string, identifiant = 'secretariat') {
  const browser = new Browser(app, host)
  const res = await browser.submit('/admin/connexion', '/admin/connexion', {
    identifiant,
    password: goodPassword,
    site: 'centre',
  })
  if (res.statusCode !== 303) throw new Error(`sign-in of ${identifiant}: ${res.statusCode}`)
  return browser
}

/** The audit events of one action, on one subject when given, oldest first. */
export const audits = (
  app: FastifyInstance,
  slug: string,
  action: string,
  subject?: { type: string; id: number },
) =>
  app.orm.em
    .fork({ schema: schemaFor(slug) })
    .find(
      AuditEvent,
      { action, ...(subject ? { subjectType: subject.type, subjectId: subject.id } : {}) },
      { orderBy: { id: 'asc' } },
    )
