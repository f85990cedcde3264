import type { FastifyInstance } from 'fastify'
import { tenantToday } from '../../src/features/family/service.ts'
import { addDays, closureOn, mondayOf } from '../../src/features/lessons/calendar.ts'
import { CourseReplacement } from '../../src/features/lessons/entities.ts'
import { Course, Enrolment, SchoolYear, Teacher } from '../../src/features/teaching/entities.ts'
import { schemaFor } from '../../src/platform/tenancy/registry.ts'
import type { TenantConfig } from '../../src/platform/tenancy/tenant-config.ts'
import { createAccount, signedInBrowser } from './accounts.ts'
import { build, html } from './build.ts'
import { createFamily } from './families.ts'
import { startInbox } from './smtp.ts'

export const text = (value: string | undefined) => (value ?? '').replace(/\s+/g, ' ').trim()
const everyDay = [1, 2, 3, 4, 5, 6, 7].map((day) => ({ day, start: '17:00', end: '17:30' }))
export const key = (courseId: number, on: string) =>
  `${courseId}-${on}-${(new Date(`${on}T00:00:00Z`).getUTCDay() + 6) % 7}`

/*
 * The world of the register's tests (test/features/lessons): three tenants, the first with a week of
 * school holidays, the second with its ids shifted and no contacts for teachers, the third without
 * absence mails and with e-mail contacts only.
 */

/**
 * A week with no public holiday, at least a week before today: the week the tests cancel, move and
 * call lessons in (the school holidays of the test tenant are the week before it).
 */
function quietWeek(config: Pick<TenantConfig, 'calendar'>, today: string): string {
  let monday = addDays(mondayOf(today), -7)
  while ([0, 1, 2, 3, 4, 5, 6].some((i) => closureOn(config, addDays(monday, i))))
    monday = addDays(monday, -7)
  return monday
}

/** A course's teacher (prof), another teacher (autre) and a replacement, with two families in prof's course. */
async function seed(app: FastifyInstance, config: TenantConfig, options: { shift?: boolean } = {}) {
  const slug = config.slug
  const em = app.orm.em.fork({ schema: schemaFor(slug) })
  const today = tenantToday(config)
  const ref = quietWeek({ calendar: { holidays: [] } }, today)
  const year = em.create(SchoolYear, {
    label: '2026-2027',
    startsOn: addDays(today, -200),
    endsOn: addDays(today, 150),
    current: true,
  })
  const accounts = {
    prof: await createAccount(app, slug, {
      identifiant: 'prof',
      role: 'teacher',
      displayName: 'Hélène Rivière',
    }),
    autre: await createAccount(app, slug, { identifiant: 'autre', role: 'teacher' }),
    remplacant: await createAccount(app, slug, { identifiant: 'remplacant', role: 'teacher' }),
    secretariat: await createAccount(app, slug, { identifiant: 'secretariat', role: 'secretariat' }),
  }
  const teacher = (account: (typeof accounts)['prof'], lastName: string) =>
    em.create(Teacher, { firstName: 'Prof', lastName, account: account.id })
  const prof = teacher(accounts.prof, 'Rivière')
  const autre = teacher(accounts.autre, 'Autre')
  const remplacant = teacher(accounts.remplacant, 'Remplaçant')
  const course = (name: string, by: Teacher) =>
    em.create(Course, {
      schoolYear: year,
      discipline: 'clarinette',
      establishment: 'centre',
      name,
      cycle: '1C2',
      teacher: by,
      slot: 'Tous les jours 17h00 – 17h30',
      slots: everyDay,
      room: 'Salle 12',
    })
  // another tenant's ids name other rows here
  if (options.shift) course('Orgue', autre)
  const clarinet = course('Clarinette 1C2', prof)
  const violin = course('Violon 1C1', autre)
  em.create(CourseReplacement, {
    course: violin,
    teacher: remplacant,
    startsOn: addDays(ref, 2),
    endsOn: addDays(ref, 3),
  })
  await em.flush()
  const martin = await createFamily(app, slug, 'famille', 'Martin')
  const durand = await createFamily(app, slug, 'durand', 'Durand')
  const other = await createFamily(app, slug, 'dupont', 'Dupont')
  const e1 = em.create(Enrolment, { pupil: martin.pupil.id, course: clarinet })
  const e2 = em.create(Enrolment, { pupil: durand.pupil.id, course: clarinet })
  const e3 = em.create(Enrolment, { pupil: other.pupil.id, course: violin })
  await em.flush()
  return { em, today, ref, year, accounts, clarinet, violin, e1, e2, e3, martin, durand }
}

export async function world(t: { teardown(fn: () => unknown): void }, count = 3) {
  const inbox = await startInbox(t)
  const holidays = (ref: string) => [
    { label: 'Vacances de test', from: addDays(ref, -7), to: addDays(ref, -1) },
  ]
  // the quiet week depends on today only: computed once, the same for each tenant
  const today = tenantToday({ timezone: 'Europe/Paris' } as TenantConfig)
  const ref = quietWeek({ calendar: { holidays: [] } }, today)
  const w = await build(t, {
    tenants: [
      { calendar: { zone: 'A', holidays: holidays(ref) } },
      // its ids are shifted by one: the first tenant's ids name other rows here
      { attendance: { teacherContacts: 'none' } },
      { attendance: { absenceMail: false, teacherContacts: 'email' } },
    ].slice(0, count),
    env: { SMTP_URL: inbox.url },
  })
  const data = await seed(w.app, w.tenants[0]!)
  const shifted = count > 1 ? await seed(w.app, w.tenants[1]!, { shift: true }) : undefined
  const mailOff = count > 2 ? await seed(w.app, w.tenants[2]!) : undefined
  const signIn = (identifiant: string, host = w.host(), path = '/enseignant/connexion') =>
    signedInBrowser(w.app, host, identifiant, path)
  return { ...w, inbox, data, shifted: shifted!, mailOff: mailOff!, signIn }
}

export const statusesOn = (body: string) =>
  Object.fromEntries(
    html(body)
      .querySelectorAll('fieldset')
      .map((f) => [
        text(f.querySelector('legend')?.text),
        f.querySelector('input:checked')?.getAttribute('value'),
      ]),
  )
