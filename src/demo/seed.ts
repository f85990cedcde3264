import { createHash } from 'node:crypto'
import { DocumentSubmission, StoredFile } from '../features/documents/entities.ts'
import { Family, Guardian } from '../features/family/entities.ts'
import { Preregistration } from '../features/preregistration/entities.ts'
import { choiceCount, offeredDisciplines } from '../features/preregistration/form.ts'
import { Pupil } from '../features/pupils/entities.ts'
import { Reenrolment } from '../features/reenrolment/entities.ts'
import { ChangeRequest } from '../features/sas/entities.ts'
import { schoolLevels } from '../features/pupils/identity.ts'
import { RepertoireEntry, SchoolEvent } from '../features/repertoire/entities.ts'
import { AbsenceNotice, Attendance, Lesson } from '../features/lessons/entities.ts'
import { closureOn, weekday as isoWeekday } from '../features/lessons/calendar.ts'
import {
  Course,
  CriterionResult,
  Enrolment,
  Evaluation,
  EvaluationStatus,
  SchoolYear,
  Teacher,
} from '../features/teaching/entities.ts'
import { AuditEvent } from '../platform/audit/entities.ts'
import { sha256 } from '../platform/auth/sessions.ts'
import type { Em, Orm } from '../platform/db/orm.ts'
import { schemaFor } from '../platform/tenancy/registry.ts'
import type { TenantConfig } from '../platform/tenancy/tenant-config.ts'
import { absenceReasons, appreciations, type CourseKind, grades } from './appreciations.ts'
import {
  lessonDate,
  localDate,
  type SchoolYearSpan,
  schoolYears,
  slotWeekday,
  periodsDone,
} from './calendar.ts'
import { slotsOfText } from '../features/backoffice-courses/slots.ts'
import { type CourseSpec, demoData, genericDemo, type TenantDemo, type Town, type Track } from './data.ts'
import {
  birthPlaces,
  type Civility,
  firstNames,
  grandparents,
  type HouseholdTemplate,
  households,
  professions,
  surnames,
} from './people.ts'
import { type Random, random } from './random.ts'
import { events as eventTemplates, pieces } from './repertoire.ts'

export interface SeedReport {
  slug: string
  /** False when the tenant already had data: it was left untouched. */
  seeded: boolean
}

/** School years before the current one that get courses, so that pupils have a history. */
const pastYears = 2

/**
 * Weeks of lessons, counted from the second week of September, that stay clear of the school holidays
 * and of the bank holidays (11 November, Easter Monday) whatever the year.
 */
const schoolWeeks = [2, 3, 4, 5, 11, 12, 13, 14, 18, 19, 20, 21, 26, 27, 28]

// by age from 3: petite section … terminale, after "Non scolarisé"
const levelsByAge = schoolLevels.slice(1, -1).map((level) => level.value)

const kindOfDomain: Record<'music' | 'dance' | 'theatre', CourseKind> = {
  music: 'instrument',
  dance: 'dance',
  theatre: 'theatre',
}

/**
 * Fills each tenant that has no school year yet with the demo: school years around `now`, teachers,
 * courses, families, pupils, enrolments with their evaluations and absences. Content depends only on
 * the tenant and the date, so the demo is the same on every machine.
 */
export async function seedDemo(orm: Orm, configs: TenantConfig[], now = new Date()): Promise<SeedReport[]> {
  const reports: SeedReport[] = []
  for (const config of configs) {
    // one fork per tenant and no other query meanwhile: the embedded PGlite is a single session
    const em = orm.em.fork({ schema: schemaFor(config.slug) })
    const seeded = (await em.count(SchoolYear)) === 0
    if (seeded) {
      // one transaction: a failed seed leaves nothing behind and the next start retries it
      await em.transactional(async (tx) => {
        populate(tx, config, localDate(now, config.timezone))
        // the requests staff review name what they change by id: known once the rest is written
        await tx.flush()
        await addWaitingWork(tx, config, now)
        await addArchivedFamily(tx, config, now)
        addDepartedFamily(tx, config, now)
      })
    }
    reports.push({ slug: config.slug, seeded })
  }
  return reports
}

interface Year {
  span: SchoolYearSpan
  courses: Map<string, { course: Course; kind: CourseKind }>
  /** The year's events already held, by the kind of course that performs there. */
  events: Map<CourseKind, SchoolEvent[]>
}

interface Context {
  em: Em
  config: TenantConfig
  demo: TenantDemo
  /** Draws who people are. */
  rng: Random
  /** Draws reports and absences: their number depends on the date, and must not change the people. */
  lessons: Random
  /** Draws what pupils performed, for the same reason. */
  stage: Random
  today: string
  current: SchoolYearSpan
  surname: () => string
  firstName: (age: 'adult' | 'child', civility: Civility) => string
  profession: () => (typeof professions)[number]
  absences: number
  /** The lesson rows absences were recorded on, per course and "date/slot": one row per lesson. */
  lessonRows: Map<Course, Map<string, Lesson>>
  /** Pupils enrolled in each course of the current year, to make one full and close another. */
  seats: Map<Course, number>
}

function populate(em: Em, config: TenantConfig, today: string): void {
  const demo = demoData[config.slug] ?? genericDemo(config.disciplines ?? [])
  const rng = random(config.slug)
  const lessons = random(`${config.slug}/lessons`)
  const spans = schoolYears(today, pastYears)
  const decks = {
    adult: { Madame: rng.deck(firstNames.adult.Madame), Monsieur: rng.deck(firstNames.adult.Monsieur) },
    child: { Madame: rng.deck(firstNames.child.Madame), Monsieur: rng.deck(firstNames.child.Monsieur) },
  }
  const ctx: Context = {
    em,
    config,
    demo,
    rng,
    lessons,
    stage: random(`${config.slug}/repertoire`),
    today,
    current: spans[0]!,
    surname: rng.deck(surnames),
    firstName: (age, civility) => decks[age][civility](),
    profession: rng.deck(professions),
    absences: 0,
    lessonRows: new Map(),
    seats: new Map(),
  }

  const teachers = Array.from({ length: Math.max(-1, ...demo.courses.map((c) => c.teacher)) + 1 }, () =>
    createTeacher(ctx),
  )
  const years = spans.map((span, i): Year => {
    const schoolYear = em.create(SchoolYear, {
      label: span.label,
      startsOn: span.startsOn,
      endsOn: span.endsOn,
      current: i === 0,
    })
    return {
      span,
      courses: new Map(demo.courses.map((spec) => [spec.key, createCourse(ctx, spec, schoolYear, teachers)])),
      events: createEvents(ctx, span, schoolYear),
    }
  })

  // children take the tracks in turn: the demo family's come first and get the manual's courses
  let child = 0
  const nextTrack = () => demo.children[child++ % demo.children.length]!
  let pupilIndex = 0
  for (const [index, household] of households.entries()) {
    for (const { pupil, track } of createHousehold(ctx, household, index, nextTrack)) {
      enrol(ctx, pupil, track, years, pupilIndex++)
    }
  }
  fillAndClose(ctx, years[0]!)
  if (config.periods?.preregistration) createDossiers(ctx)
}

/**
 * Pré-inscription dossiers for the staff queue: two confirmed (one of them an adult, "le
 * responsable est aussi élève"), one still a draft, and one typed again by the same family, which
 * the queue flags. Their links were never mailed: only a hash of a token nobody holds is stored.
 */
function createDossiers(ctx: Context): void {
  const { em, config, demo, rng, current } = ctx
  const disciplines = offeredDisciplines(config).map((d) => d.code)
  const choices = () => {
    const deck = rng.deck(disciplines)
    return Array.from({ length: Math.min(choiceCount(config), disciplines.length) }, deck)
  }
  const person = (age: 'adult' | 'child', civility: Civility, lastName: string) => ({
    civility,
    lastName,
    firstName: ctx.firstName(age, civility),
  })
  const dossier = (status: 'draft' | 'confirmed', adult: boolean) => {
    const town = demo.towns[rng.int(0, demo.towns.length - 1)]!
    const surname = ctx.surname()
    const guardian = { ...person('adult', 'Madame', surname), ...address(rng, town) }
    const contact = {
      ...guardian,
      familySituation: 'Marié(e)',
      phoneMobile: phone(rng, '06'),
      email: email(guardian.firstName, guardian.lastName),
    }
    const applicant = (values: Record<string, string | null>, fromGuardian = false) => ({
      fromGuardian,
      values: { useGuardianAddress: 'true', ...values },
      choices: choices(),
      freeText: null,
    })
    const applicants = adult
      ? [
          applicant(
            {
              ...pick(contact, 'civility', 'lastName', 'firstName', 'phoneMobile', 'email'),
              birthDate: dateIn(rng, current.start - 41),
            },
            true,
          ),
        ]
      : [
          applicant({ ...person('child', 'Monsieur', surname), birthDate: dateIn(rng, current.start - 8) }),
          applicant({ ...person('child', 'Madame', surname), birthDate: dateIn(rng, current.start - 6) }),
        ]
    return em.create(Preregistration, {
      tokenHash: sha256(`${config.slug}/demo/${rng.next()}`),
      status,
      email: contact.email,
      guardians: [contact],
      applicants,
      confirmedAt: status === 'confirmed' ? new Date(`${ctx.today}T09:00:00Z`) : null,
    })
  }
  const first = dossier('confirmed', false)
  dossier('confirmed', true)
  dossier('draft', false)
  em.create(Preregistration, {
    ...pick(first, 'email', 'guardians', 'applicants'),
    tokenHash: sha256(`${config.slug}/demo/again`),
    status: 'confirmed',
    confirmedAt: first.confirmedAt,
  })
}

/**
 * What staff find waiting when they open the demo, from two families other than demo-famille's (so
 * demo-famille can try every flow from the start): a new phone number and address in the sas, a
 * document to validate, and a submitted re-enrolment when the tenant has a re-enrolment period.
 */
async function addWaitingWork(em: Em, config: TenantConfig, now: Date): Promise<void> {
  const families = await em.find(Family, {}, { orderBy: { id: 'asc' }, limit: 3, populate: ['guardians'] })
  const [, second, third] = families
  if (!second || !third) return
  const guardian = second.guardians.getItems().find((g) => g.rank === 1)!
  em.create(ChangeRequest, {
    family: second,
    subjectType: 'guardian',
    subjectId: guardian.id,
    changes: {
      phoneMobile: { before: guardian.phoneMobile ?? null, after: '06 48 27 19 53' },
      address: { before: guardian.address ?? null, after: '14 allée des Tilleuls' },
    },
  })
  const document = (config.documents ?? []).find((d) => d.accept.includes('pdf'))
  const pupil = await em.findOne(Pupil, { family: third }, { orderBy: { id: 'asc' } })
  if (document && pupil) {
    const content = demoPdf(document.label)
    em.create(DocumentSubmission, {
      family: third,
      pupil: document.level === 'pupil' ? pupil : null,
      documentId: document.id,
      file: em.create(StoredFile, {
        fileName: `${document.id}.pdf`,
        contentType: 'application/pdf',
        size: content.length,
        sha256: createHash('sha256').update(content).digest('hex'),
        content,
      }),
    })
  }
  const period = config.periods?.reenrolment
  if (period && pupil) {
    em.create(Reenrolment, {
      family: third,
      pupil,
      schoolYear: period.schoolYear,
      status: 'submitted',
      step: 'finalize',
      answers: {
        ...(config.paymentModes?.[0] ? { paymentMode: config.paymentModes[0].id } : {}),
        imageRights: true,
        exitAuthorization: true,
        accepted: true,
      },
      submittedAt: now,
    })
    await addValidatedReenrolments(em, config, period.schoolYear, now)
  }
  if (config.periods?.preregistration) addAcceptedDossier(em, config, now)
}

/**
 * Re-enrolments staff already validated, so that the school year page has next year's work to show:
 * every other one keeps all its courses, one drops a course, two ask for a new discipline.
 */
async function addValidatedReenrolments(
  em: Em,
  config: TenantConfig,
  schoolYear: string,
  now: Date,
): Promise<void> {
  // the families after those of addWaitingWork
  const families = await em.find(Family, {}, { orderBy: { id: 'asc' }, offset: 3, limit: 8 })
  const current = await em.findOneOrFail(SchoolYear, { current: true })
  const mandatory = new Set(config.reenrolment.mandatoryDisciplines ?? [])
  const disciplines = config.disciplines ?? []
  let n = 0
  for (const family of families) {
    const pupil = await em.findOne(Pupil, { family }, { orderBy: { id: 'asc' } })
    if (!pupil) continue
    const enrolments = await em.find(
      Enrolment,
      { pupil, active: true, course: { schoolYear: current } },
      { populate: ['course'], orderBy: { id: 'asc' } },
    )
    if (enrolments.length === 0) continue
    const dropped = n === 2 ? enrolments.find((e) => !mandatory.has(e.course.discipline)) : undefined
    const followed = new Set(enrolments.map((e) => e.course.discipline))
    const wanted = n % 3 === 1 ? disciplines.find((d) => !followed.has(d.code)) : undefined
    em.create(Reenrolment, {
      family,
      pupil,
      schoolYear,
      status: 'validated',
      step: 'finalize',
      answers: {
        ...(config.paymentModes?.[0] ? { paymentMode: config.paymentModes[0].id } : {}),
        imageRights: true,
        exitAuthorization: true,
        keep: Object.fromEntries(enrolments.map((e) => [String(e.course.id), e !== dropped])),
        ...(wanted ? { newDisciplines: `${wanted.name}, si une place se libère` } : {}),
        accepted: true,
      },
      submittedAt: now,
      decidedAt: now,
    })
    n++
  }
}

/**
 * A pré-inscription staff accepted this year: its family and pupil exist, waiting for a seat next
 * year on the school year's placement page. No account is made: its invitation would never be read.
 */
function addAcceptedDossier(em: Em, config: TenantConfig, now: Date): void {
  const rng = random(`${config.slug}/accepted`)
  const choices = offeredDisciplines(config)
    .map((d) => d.code)
    .slice(0, Math.max(1, Math.min(choiceCount(config), 2)))
  const guardian = { civility: 'Madame', lastName: 'Lemoine', firstName: 'Sandrine' }
  const child = {
    civility: 'Monsieur',
    lastName: 'Lemoine',
    firstName: 'Jules',
    birthDate: dateIn(rng, 2017),
  }
  // the demo's checks want every family with a payment mode once the tenant has some
  const family = em.create(Family, {
    quotientBracket: null,
    paymentMode: config.paymentModes?.[0]?.id ?? null,
  })
  em.create(Guardian, { family, rank: 1, ...guardian, email: 'sandrine.lemoine@example.fr', extraPhones: [] })
  em.create(Pupil, { family, ...child })
  em.create(Preregistration, {
    tokenHash: sha256(`${config.slug}/demo/accepted`),
    status: 'accepted',
    email: 'sandrine.lemoine@example.fr',
    guardians: [{ ...guardian, email: 'sandrine.lemoine@example.fr' }],
    applicants: [
      { fromGuardian: false, values: { ...child, useGuardianAddress: 'true' }, choices, freeText: null },
    ],
    confirmedAt: now,
    decidedAt: now,
    family,
  })
}

/**
 * A family that left last school year, archived by the secretariat: the families list shows it
 * under "Archivées" only. Written last, so that it changes nothing drawn for the other families.
 */
async function addArchivedFamily(em: Em, config: TenantConfig, now: Date): Promise<void> {
  const demo = demoData[config.slug] ?? genericDemo(config.disciplines ?? [])
  const town = demo.towns[0]!
  const archivedAt = new Date(now.getTime() - 45 * 24 * 3_600_000)
  const family = em.create(Family, {
    resident: true,
    quotientBracket: config.quotientFamilial?.fallback ?? null,
    paymentMode: config.paymentModes?.[0]?.id ?? null,
    archivedAt,
  })
  em.create(Guardian, {
    family,
    rank: 1,
    civility: 'Madame',
    lastName: 'Roussel',
    firstName: 'Isabelle',
    address: `7 ${town.streets[0]}`,
    postalCode: town.postalCode,
    city: town.city,
    phoneMobile: '06 31 52 74 96',
    email: 'isabelle.roussel@example.fr',
    extraPhones: [],
  })
  em.create(Pupil, {
    family,
    civility: 'Monsieur',
    lastName: 'Roussel',
    firstName: 'Mathéo',
    // the same person whatever the day of the school year the demo is seeded
    birthDate: `${schoolYears(localDate(now, config.timezone), 0)[0]!.start - 12}-03-14`,
    useGuardianAddress: true,
    imageRights: true,
    exitAuthorization: true,
  })
  await em.flush()
  em.create(AuditEvent, {
    actorName: 'Secrétariat (démonstration)',
    action: 'family.archived',
    subjectType: 'family',
    subjectId: family.id,
    details: { reason: 'Déménagement hors de la commune', accounts: [] },
    createdAt: archivedAt,
  })
}

/**
 * A family that left the conservatoire longer ago than the tenant's retention period, so that the
 * staff page of families to erase (/admin/rgpd) lists someone. Archived on 10 July, the end of a
 * school year, the retention period before this school year began (so the same on every day of the
 * year); its courses were in years before the demo's.
 */
function addDepartedFamily(em: Em, config: TenantConfig, now: Date): void {
  const demo = demoData[config.slug] ?? genericDemo(config.disciplines ?? [])
  const town = demo.towns[0]!
  const start = schoolYears(localDate(now, config.timezone), 0)[0]!.start
  const archivedAt = new Date(Date.UTC(start - config.retention.years, 6, 10, 9))
  const family = em.create(Family, {
    resident: true,
    paymentMode: config.paymentModes?.[0]?.id ?? null,
    archivedAt,
  })
  const home = { address: `7 ${town.streets[0]}`, postalCode: town.postalCode, city: town.city }
  em.create(Guardian, {
    family,
    rank: 1,
    civility: 'Madame',
    lastName: 'Vasseur',
    firstName: 'Nathalie',
    ...home,
    phoneMobile: '06 51 72 40 18',
    email: 'nathalie.vasseur@exemple.fr',
    extraPhones: [],
  })
  em.create(Pupil, {
    family,
    civility: 'Monsieur',
    lastName: 'Vasseur',
    firstName: 'Hugo',
    birthDate: `${archivedAt.getUTCFullYear() - 17}-03-14`,
    useGuardianAddress: true,
    schoolLevel: 'Terminale',
  })
}

/** A one-page PDF saying what it stands for, as a family's scan would be. */
function demoPdf(title: string): Buffer {
  const text = `(${title.replace(/[()\\]/g, '')} - document de demonstration)`
  const stream = `BT /F1 14 Tf 60 760 Td ${text} Tj ET`
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>',
    `<< /Length ${Buffer.byteLength(stream, 'latin1')} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ]
  let pdf = '%PDF-1.4\n'
  const offsets = objects.map((object, i) => {
    const offset = Buffer.byteLength(pdf, 'latin1')
    pdf += `${i + 1} 0 obj\n${object}\nendobj\n`
    return offset
  })
  const xref = Buffer.byteLength(pdf, 'latin1')
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`
  for (const offset of offsets) pdf += `${String(offset).padStart(10, '0')} 00000 n \n`
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`
  return Buffer.from(pdf, 'latin1')
}

function pick<T extends object, K extends keyof T>(from: T, ...keys: K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((key) => [key, from[key]])) as Pick<T, K>
}

function createTeacher(ctx: Context): Teacher {
  const civility: Civility = ctx.rng.next() < 0.5 ? 'Madame' : 'Monsieur'
  const firstName = ctx.firstName('adult', civility)
  const lastName = ctx.surname()
  return ctx.em.create(Teacher, { firstName, lastName, email: email(firstName, lastName) })
}

function createCourse(
  ctx: Context,
  spec: CourseSpec,
  schoolYear: SchoolYear,
  teachers: Teacher[],
): { course: Course; kind: CourseKind } {
  const { establishments, disciplines = [] } = ctx.config
  // the YAML is the authority: a code it no longer has falls back to its first discipline rather
  // than stopping `npm start` (the demo's test reports such a mismatch)
  const discipline = disciplines.find((d) => d.code === spec.discipline) ?? disciplines[0]
  const course = ctx.em.create(Course, {
    schoolYear,
    discipline: discipline?.code ?? spec.discipline,
    establishment: establishments[(spec.site ?? 0) % establishments.length]!.code,
    name: spec.name,
    cycle: spec.cycle ?? null,
    teacher: teachers[spec.teacher] ?? null,
    slot: spec.slot,
    slots: slotsOfText(spec.slot),
  })
  const kind = spec.kind ?? kindOfDomain[discipline?.domain ?? 'music']
  course.room = rooms[kind]
  course.capacity = capacities[kind]
  return { course, kind }
}

/** Where each kind of course is held, and how many it takes (individual lessons: no limit set). */
const rooms: Record<CourseKind, string> = {
  instrument: 'Salle 12',
  fm: 'Salle 4',
  ensemble: 'Auditorium',
  eveil: 'Salle des petits',
  dance: 'Studio de danse',
  theatre: 'Salle de théâtre',
}
const capacities: Record<CourseKind, number | null> = {
  instrument: null,
  fm: 15,
  ensemble: 30,
  eveil: 12,
  dance: 16,
  theatre: 14,
}

/**
 * This year's busiest group course is made full (its capacity, its pupils), so that the back-office
 * refuses one more unless forced; the emptiest other course is closed.
 */
function fillAndClose(ctx: Context, year: Year): void {
  const courses = [...year.courses.values()]
  const group = courses.filter((c) => c.course.capacity !== null)
  const count = (c: { course: Course }) => ctx.seats.get(c.course) ?? 0
  const busiest = group.reduce<(typeof courses)[number] | undefined>(
    (best, c) => (!best || count(c) > count(best) ? c : best),
    undefined,
  )
  if (busiest && count(busiest) > 0) busiest.course.capacity = count(busiest)
  const emptiest = courses
    .filter((c) => c !== busiest)
    .reduce<(typeof courses)[number] | undefined>(
      (low, c) => (!low || count(c) < count(low) ? c : low),
      undefined,
    )
  if (emptiest) emptiest.course.closedAt = new Date(`${ctx.today}T08:00:00Z`)
}

/** Creates a family, its guardians and its pupils; returns the pupils with the track each follows. */
function createHousehold(
  ctx: Context,
  household: HouseholdTemplate,
  index: number,
  nextTrack: () => Track,
): { pupil: Pupil; track: Track }[] {
  const { em, config, demo, rng, current } = ctx
  const paymentModes = config.paymentModes ?? []
  const family = em.create(Family, {
    resident: household.resident,
    quotientBracket: bracketOf(config, household),
    paymentMode: paymentModes[index % paymentModes.length]?.id ?? null,
  })
  const town = household.resident ? demo.towns[index % demo.towns.length]! : demo.elsewhere
  const home = address(rng, town)
  const surname = household.surname ?? ctx.surname()

  const guardians = household.guardians.map((template, i) => {
    const rank = i + 1
    const lastName = template.ownSurname ? ctx.surname() : surname
    const firstName = template.firstName ?? ctx.firstName('adult', template.civility)
    const age = household.adultPupil && rank === 1 ? demo.adult.age : rng.int(35, 49)
    const birth = rng.pick(birthPlaces)
    const job = ctx.profession()
    return em.create(Guardian, {
      family,
      rank,
      civility: template.civility,
      lastName,
      firstName,
      birthDate: dateIn(rng, current.start - age),
      birthPlace: birth.city,
      birthDepartment: birth.department,
      ...(template.ownAddress ? address(rng, town) : home),
      phoneHome: rank === 1 && rng.next() < 0.5 ? phone(rng, demo.landline) : null,
      phoneMobile: phone(rng, rng.pick(['06', '07'])),
      phoneWork: rng.next() < 0.3 ? phone(rng, demo.landline) : null,
      email: (rank === 1 ? household.email : undefined) ?? email(firstName, lastName),
      familySituation: template.situation,
      socioProfessionalCategory: job.category,
      profession: job[template.civility],
      extraPhones: [],
    })
  })

  const tracks = household.children.map(() => nextTrack())
  const eldest = Math.max(...tracks.map((track) => track.age))
  const pupils = household.children.map((template, i) => {
    const track = tracks[i]!
    const age = track.age
    const firstName = template.firstName ?? ctx.firstName('child', template.civility)
    const grandparent = rng.pick(grandparents)
    const pupil = em.create(Pupil, {
      family,
      civility: template.civility,
      lastName: surname,
      firstName,
      // the eldest born early in the year and the others late, so that siblings are months apart
      birthDate: dateIn(rng, current.start - age, age === eldest ? [1, 5] : [7, 12]),
      birthPlace: demo.maternity.city,
      birthDepartment: demo.maternity.department,
      useGuardianAddress: true,
      phoneMobile: age >= 13 ? phone(rng, '07') : null,
      email: age >= 15 ? email(firstName, surname) : null,
      schoolLevel: levelsByAge[age - 3] ?? 'Études supérieures',
      school: schoolOf(demo, age, index),
      imageRights: rng.next() < 0.85,
      exitAuthorization: age >= 10,
      emergencyContact: `${grandparent.firstName} ${surname} (${grandparent.relation})`,
      emergencyPhone: phone(rng, rng.pick(['06', '07'])),
    })
    return { pupil, track }
  })

  const adult = guardians[0]
  if (household.adultPupil && adult) {
    // "le responsable est aussi élève": the pupil's identity is the guardian's
    const pupil = em.create(Pupil, {
      family,
      civility: adult.civility,
      lastName: adult.lastName,
      firstName: adult.firstName,
      birthDate: adult.birthDate,
      birthPlace: adult.birthPlace,
      birthDepartment: adult.birthDepartment,
      useGuardianAddress: true,
      phoneMobile: adult.phoneMobile,
      email: adult.email,
      schoolLevel: 'Non scolarisé',
      imageRights: true,
      // adults tick it too, to validate their enrolment
      exitAuthorization: true,
    })
    pupils.push({ pupil, track: demo.adult })
  }
  return pupils
}

/** A level of the tenant's scale for a report of that tone: one of the two best for a good one. */
function demoLevel(levels: string[], tone: 'good' | 'fair', turn: number): string {
  const index = tone === 'good' ? turn % 2 : 2 + (turn % 2)
  return levels[Math.min(index, levels.length - 1)]!
}

/** A criterion's rating for a report of that tone: mostly acquired for a good one, in progress for a fair one. */
function demoResult(tone: 'good' | 'fair', turn: number): CriterionResult {
  if (tone === 'good') return turn % 4 === 3 ? CriterionResult.inProgress : CriterionResult.acquired
  return turn % 3 === 2 ? CriterionResult.notAcquired : CriterionResult.inProgress
}

/** Enrolments of each year of the track, their period reports, and now and then an absence. */
function enrol(ctx: Context, pupil: Pupil, track: Track, years: Year[], pupilIndex: number): void {
  const { em, lessons: rng, today } = ctx
  const diligence = 0.4 + 0.5 * rng.next()
  for (const [y, year] of years.entries()) {
    const enrolled = (track.years[y] ?? []).map((key) => {
      const found = year.courses.get(key)
      if (!found) throw new Error(`demo data of ${ctx.config.slug}: a track names an unknown course "${key}"`)
      const enrolment = em.create(Enrolment, { pupil, course: found.course, active: true })
      if (y === 0) ctx.seats.set(found.course, (ctx.seats.get(found.course) ?? 0) + 1)
      // a different sentence each term, as a teacher would write
      const sentence = rng.int(0, 10)
      for (const [i, period] of periodsDone(ctx.config.evaluations.periods, year.span, today).entries()) {
        const tone = rng.next() < diligence ? 'good' : 'fair'
        const pool = appreciations[found.kind][tone]
        const scale = ctx.config.evaluations.scale
        em.create(Evaluation, {
          enrolment,
          period: period.code,
          term: period.label,
          givenOn: period.givenOn,
          appreciation: pool[(sentence + i) % pool.length]!,
          // a tenant with a scale of its own rates with it; the others keep the demo's old marks
          grade: scale.levels || scale.criteria ? null : (grades[found.kind]?.[tone] ?? null),
          level: scale.levels ? demoLevel(scale.levels, tone, sentence + i) : null,
          criteria: (scale.criteria ?? []).map((criterion, c) => ({
            criterion,
            result: demoResult(tone, sentence + i + c),
          })),
          status: EvaluationStatus.published,
          publishedAt: new Date(`${period.givenOn}T18:00:00Z`),
        })
      }
      return { enrolment, course: found.course }
    })
    for (const { enrolment, course } of enrolled) perform(ctx, year, enrolment.pupil, course)
    const absent = y === 0 ? pupilIndex % 3 !== 2 : y === 1 && pupilIndex % 2 === 0
    if (absent && enrolled.length > 0) recordAbsence(ctx, year, rng.pick(enrolled))
  }
}

/** The year's concerts, auditions and galas held before today, at the conservatoire's main site. */
function createEvents(
  ctx: Context,
  span: SchoolYearSpan,
  schoolYear: SchoolYear,
): Map<CourseKind, SchoolEvent[]> {
  const place = ctx.config.establishments[0]!.name
  const byKind = new Map<CourseKind, SchoolEvent[]>()
  for (const template of eventTemplates) {
    const heldOn = template.date(span)
    if (heldOn >= ctx.today) continue
    const event = ctx.em.create(SchoolEvent, { schoolYear, title: template.title, heldOn, place })
    for (const kind of template.kinds) byKind.set(kind, [...(byKind.get(kind) ?? []), event])
  }
  return byKind
}

/** What the pupil played or danced at one of the year's events for that course, if any was held. */
function perform(ctx: Context, year: Year, pupil: Pupil, course: Course): void {
  const kind = [...year.courses.values()].find((c) => c.course === course)?.kind
  const repertoire = kind && pieces[kind]
  const held = kind && year.events.get(kind)
  if (!repertoire || !held?.length) return
  const { piece, author } = ctx.stage.pick(repertoire)
  ctx.em.create(RepertoireEntry, { event: ctx.stage.pick(held), pupil, piece, author, part: course.name })
}

function recordAbsence(
  ctx: Context,
  year: Year,
  { enrolment, course }: { enrolment: Enrolment; course: Course },
) {
  const { em, lessons: rng, today } = ctx
  const weekday = slotWeekday(course.slot)
  // never an absence in the future (early in the school year there may be none yet), nor on a holiday
  const dates = schoolWeeks
    .map((week) => lessonDate(year.span, weekday, week))
    .filter((date) => date < today && closureOn(ctx.config, date) === undefined)
  if (dates.length === 0) return
  const excused = ctx.absences++ % 3 !== 1
  const on = rng.pick(dates)
  const reason = excused ? rng.pick(absenceReasons) : null
  // the roll call of that lesson recorded it, and an excused absence is one the family announced
  const index = course.slots.findIndex((s) => s.day === isoWeekday(on))
  const slot = Math.max(0, index)
  const rows = ctx.lessonRows.get(course) ?? new Map<string, Lesson>()
  ctx.lessonRows.set(course, rows)
  const lesson =
    rows.get(`${on}/${slot}`) ??
    em.create(Lesson, {
      course,
      on,
      slot,
      calledAt: new Date(`${on}T${course.slots[slot]?.end ?? '18:00'}:00Z`),
    })
  rows.set(`${on}/${slot}`, lesson)
  em.create(Attendance, { lesson, enrolment, status: excused ? 'excused' : 'absent' })
  if (reason) em.create(AbsenceNotice, { lesson, enrolment, reason })
}

function bracketOf(config: TenantConfig, household: HouseholdTemplate): string | null {
  const grid = config.quotientFamilial
  if (!grid || household.bracket === null || (grid.residentsOnly && !household.resident)) return null
  // the fallback bracket is what applies without proof, never a proven one
  const proven = grid.brackets.filter((b) => b.code !== grid.fallback)
  const at = { low: 0, middle: Math.floor((proven.length - 1) / 2), high: proven.length - 1 }[
    household.bracket
  ]
  return proven[at]?.code ?? null
}

function schoolOf(demo: TenantDemo, age: number, household: number): string {
  if (age <= 10) return demo.schools.primary[household % demo.schools.primary.length]!
  return age <= 14 ? demo.schools.middle : demo.schools.high
}

function address(rng: Random, town: Town): { address: string; postalCode: string; city: string } {
  return {
    address: `${rng.int(1, 58)} ${rng.pick(town.streets)}`,
    postalCode: town.postalCode,
    city: town.city,
  }
}

/** A ten-digit number written in pairs, starting with `prefix` ("06", or "05 55" for a landline). */
function phone(rng: Random, prefix: string): string {
  const pairs = Array.from({ length: 5 - prefix.split(' ').length }, () =>
    String(rng.int(0, 99)).padStart(2, '0'),
  )
  return [prefix, ...pairs].join(' ')
}

function dateIn(rng: Random, year: number, [first, last] = [1, 12]): string {
  return `${year}-${String(rng.int(first, last)).padStart(2, '0')}-${String(rng.int(1, 28)).padStart(2, '0')}`
}

function email(firstName: string, lastName: string): string {
  const ascii = (name: string) =>
    name
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
  return `${ascii(firstName)}.${ascii(lastName)}@example.fr`
}
