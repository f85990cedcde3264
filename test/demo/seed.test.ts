import { AbsenceNotice, Attendance } from '../../src/features/lessons/entities.ts'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { type SchoolYearSpan, schoolYears, termsDone } from '../../src/demo/calendar.ts'
import { demoData } from '../../src/demo/data.ts'
import { seedDemo } from '../../src/demo/seed.ts'
import { allEntities, tenantEntities } from '../../src/entities.ts'
import { Family, Guardian } from '../../src/features/family/entities.ts'
import { Pupil } from '../../src/features/pupils/entities.ts'
import { schoolLevels, schoolSpecials } from '../../src/features/pupils/identity.ts'
import { RepertoireEntry, SchoolEvent } from '../../src/features/repertoire/entities.ts'
import { Course, Enrolment, Evaluation, SchoolYear, Teacher } from '../../src/features/teaching/entities.ts'
import { openOrm } from '../../src/platform/db/orm.ts'
import { createTenant, migratePlatform } from '../../src/platform/tenancy/provisioning.ts'
import { schemaFor } from '../../src/platform/tenancy/registry.ts'
import { loadTenantConfigs } from '../../src/platform/tenancy/tenant-config.ts'

const configs = loadTenantConfigs(fileURLToPath(new URL('../../tenants', import.meta.url)))
const manualsDir = fileURLToPath(new URL('../../../shared/reference/imuse-manuals', import.meta.url))
const tables = tenantEntities.filter((entity) => !entity.meta.abstract)

/** Today where the conservatoires are, computed here rather than with the code under test. */
const today = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/Paris',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
}).format(new Date())
const [year, month] = today.split('-').map(Number) as [number, number]
const currentStart = month >= 9 ? year : year - 1

/** Lowercase without accents, so that "Fauré" and "FAURE" compare equal. */
function plain(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
}

t.test('the demo seed', async (t) => {
  const orm = await openOrm({ kind: 'pglite', dataDir: 'memory://' }, { entities: allEntities })
  t.teardown(() => orm.close())
  await migratePlatform(orm)
  for (const config of configs) await createTenant(orm, config)
  const fork = (slug: string) => orm.em.fork({ schema: schemaFor(slug) })
  const counts = async () => {
    const all: Record<string, Record<string, number>> = {}
    for (const config of configs) {
      const em = fork(config.slug)
      const rows: Record<string, number> = {}
      for (const table of tables) rows[table.meta.className] = await em.count(table)
      all[config.slug] = rows
    }
    return all
  }

  t.same(
    await seedDemo(orm, configs),
    configs.map((c) => ({ slug: c.slug, seeded: true })),
    'every demo tenant is seeded',
  )
  t.ok(
    ['limonest', 'grand-angouleme', 'plessis-pate', 'limoges', 'porte-oceane'].every((slug) =>
      configs.some((c) => c.slug === slug),
    ),
    'the five demo conservatoires are in tenants/',
  )

  t.test('every tenant has the current school year and the two before it', async (t) => {
    for (const config of configs) {
      const years = await fork(config.slug).find(SchoolYear, {}, { orderBy: { startsOn: 'desc' } })
      t.same(
        years.map((y) => [y.label, y.current]),
        [
          [`${currentStart}-${currentStart + 1}`, true],
          [`${currentStart - 1}-${currentStart}`, false],
          [`${currentStart - 2}-${currentStart - 1}`, false],
        ],
        config.slug,
      )
      t.equal(years[0]?.startsOn, `${currentStart}-09-01`)
      t.equal(years[0]?.endsOn, `${currentStart + 1}-08-31`)
    }
  })

  t.test('the Limonest demo family: Camille Martin and two pupils in this year’s courses', async (t) => {
    const em = fork('limonest')
    const guardian = await em.findOneOrFail(Guardian, { email: 'demo-famille@example.fr' })
    t.equal(`${guardian.firstName} ${guardian.lastName}`, 'Camille Martin')
    t.equal(guardian.rank, 1)
    const [firstFamily] = await em.find(Family, {}, { orderBy: { id: 'asc' }, limit: 1 })
    t.equal(firstFamily?.id, guardian.family.id, 'it is the first family created')
    const pupils = await em.find(Pupil, { family: guardian.family })
    t.equal(pupils.length, 2)
    const enrolments = await em.find(
      Enrolment,
      { pupil: { family: guardian.family }, course: { schoolYear: { current: true } }, active: true },
      { populate: ['course', 'pupil'] },
    )
    for (const pupil of pupils) {
      t.ok(
        enrolments.some((e) => e.pupil.id === pupil.id),
        `${pupil.firstName} is enrolled this year`,
      )
    }
    const names = enrolments.map((e) => e.course.name)
    t.ok(
      names.some((n) => /clarinette/i.test(n)),
      'one course is the clarinet',
    )
    t.ok(names.includes('Formation musicale 1C2') && names.includes("Choeur Domin'ut"), 'as in the manual')
  })

  t.test('pupils have evaluations, absences and a history', async (t) => {
    for (const config of configs) {
      const em = fork(config.slug)
      t.ok((await em.count(Evaluation)) > 0, `${config.slug}: evaluations`)
      t.ok(
        (await em.count(Attendance, { status: 'excused' })) > 0 && (await em.count(AbsenceNotice)) > 0,
        `${config.slug}: excused absences, with the family's reason`,
      )
      t.ok(
        (await em.count(Enrolment, { course: { schoolYear: { current: false } } })) > 0,
        `${config.slug}: past-year enrolments`,
      )
      t.equal(
        await em.count(Evaluation, { givenOn: { $gte: today } }),
        0,
        `${config.slug}: no report for a term not over yet`,
      )
      t.ok((await em.count(Attendance, { status: 'absent' })) > 0, `${config.slug}: unexcused absences`)
      t.equal(
        await em.count(Attendance, { lesson: { on: { $gte: today } } }),
        0,
        `${config.slug}: no future absence`,
      )
      t.ok((await em.count(Pupil, { schoolLevel: 'Non scolarisé' })) > 0, `${config.slug}: an adult pupil`)
      t.ok((await em.count(Guardian, { rank: 2 })) > 0, `${config.slug}: second guardians`)
      t.ok((await em.count(RepertoireEntry)) > 0, `${config.slug}: pupils have a repertoire`)
      t.equal(await em.count(SchoolEvent, { heldOn: { $gte: today } }), 0, `${config.slug}: no future event`)
    }
  })

  t.test('pupils’ school levels and schools are offered by the Identité form', async (t) => {
    const levels = new Set(schoolLevels.map((c) => c.value))
    for (const config of configs) {
      const schools = new Set([...schoolSpecials.map((c) => c.value), ...(config.schools ?? [])])
      const pupils = await fork(config.slug).find(Pupil, {})
      t.same(
        pupils.filter((p) => p.schoolLevel && !levels.has(p.schoolLevel)).map((p) => p.schoolLevel),
        [],
        `${config.slug}: levels`,
      )
      t.same(
        pupils.filter((p) => p.school && !schools.has(p.school)).map((p) => p.school),
        [],
        `${config.slug}: schools are in the YAML's list`,
      )
    }
  })

  t.test('courses and families use the codes of the tenant’s YAML', async (t) => {
    for (const config of configs) {
      const em = fork(config.slug)
      const disciplines = new Set((config.disciplines ?? []).map((d) => d.code))
      const establishments = new Set(config.establishments.map((e) => e.code))
      // seed.ts falls back to another discipline rather than stop the start-up: here it is an error
      for (const code of new Set(demoData[config.slug]?.courses.map((spec) => spec.discipline))) {
        t.ok(disciplines.has(code), `${config.slug}: discipline ${code} of the demo data is in the YAML`)
      }
      const courses = await em.find(Course, {})
      t.ok(
        courses.every((c) => disciplines.has(c.discipline) && establishments.has(c.establishment)),
        `${config.slug}: courses`,
      )
      if (establishments.size > 1) {
        t.equal(
          new Set(courses.map((c) => c.establishment)).size,
          establishments.size,
          'every site has courses',
        )
      }
      const brackets = new Set((config.quotientFamilial?.brackets ?? []).map((b) => b.code))
      const modes = new Set((config.paymentModes ?? []).map((m) => m.id))
      const families = await em.find(Family, {})
      t.ok(families.length >= 4, `${config.slug}: at least four families`)
      t.ok(
        families.every((f) => !f.quotientBracket || brackets.has(f.quotientBracket)),
        `${config.slug}: brackets`,
      )
      t.ok(
        families.every((f) => !f.paymentMode === (modes.size === 0)),
        `${config.slug}: payment modes`,
      )
      t.ok(families.every((f) => !f.paymentMode || modes.has(f.paymentMode)))
      if (brackets.size > 0)
        t.ok(
          families.some((f) => Boolean(f.quotientBracket)),
          `${config.slug}: some QF`,
        )
    }
  })

  const noManuals = !existsSync(manualsDir) && `${manualsDir} is not there`
  t.test('nobody bears a surname printed in the iMuse manuals', { skip: noManuals }, async (t) => {
    const manuals = plain(
      readdirSync(manualsDir)
        .map((file) => readFileSync(`${manualsDir}/${file}`, 'utf8'))
        .join('\n'),
    )
    const surnames = new Set<string>()
    for (const config of configs) {
      const em = fork(config.slug)
      const people = [
        ...(await em.find(Guardian, {})),
        ...(await em.find(Pupil, {})),
        ...(await em.find(Teacher, {})),
      ]
      for (const person of people) surnames.add(person.lastName)
    }
    t.ok(surnames.size > 20, 'surnames were collected')
    const printed = [...surnames].filter((name) =>
      new RegExp(`(^|[^a-z])${plain(name)}([^a-z]|$)`).test(manuals),
    )
    t.same(printed, [])
  })

  t.test('on another day of the year the people are the same and the terms over have reports', async (t) => {
    const people = async (em: ReturnType<typeof fork>) =>
      [
        ...(await em.find(Guardian, {}, { orderBy: { id: 'asc' } })),
        ...(await em.find(Pupil, {}, { orderBy: { id: 'asc' } })),
      ].map((p) => `${p.firstName} ${p.lastName} ${p.birthDate}`)
    const limonest = configs.filter((c) => c.slug === 'limonest')
    const other = await openOrm({ kind: 'pglite', dataDir: 'memory://' }, { entities: allEntities })
    t.teardown(() => other.close())
    await migratePlatform(other)
    await createTenant(other, limonest[0]!)
    await seedDemo(other, limonest, new Date(`${currentStart + 1}-02-10T12:00:00Z`))
    const em = other.em.fork({ schema: schemaFor('limonest') })
    t.same(await people(em), await people(fork('limonest')))
    const thisYear = { enrolment: { course: { schoolYear: { current: true } } } }
    t.ok(
      (await em.count(Evaluation, { ...thisYear, term: '1er trimestre' })) > 0,
      'the first term is reported',
    )
    t.equal(await em.count(Evaluation, { ...thisYear, term: '2e trimestre' }), 0, 'the second is not over')
  })

  t.test('a second run reports every tenant as already seeded and changes nothing', async (t) => {
    const before = await counts()
    t.same(
      await seedDemo(orm, configs),
      configs.map((c) => ({ slug: c.slug, seeded: false })),
    )
    t.same(await counts(), before)
  })
})

t.test('term reports are written only for the terms already over', async (t) => {
  const [current, last] = schoolYears('2027-02-10', 1) as [SchoolYearSpan, SchoolYearSpan]
  t.equal(current.label, '2026-2027')
  t.same(
    termsDone(current, '2026-11-22').map((term) => term.label),
    [],
  )
  t.same(
    termsDone(current, '2027-02-10').map((term) => term.label),
    ['1er trimestre'],
  )
  t.same(
    termsDone(last, '2027-02-10').map((term) => term.label),
    ['1er trimestre', '2e trimestre', '3e trimestre'],
  )
  t.equal(schoolYears('2026-08-31', 0)[0]?.label, '2025-2026', 'the year changes on 1 September')
  t.equal(schoolYears('2026-09-01', 0)[0]?.label, '2026-2027')
})

t.test('a course is spelt one way in every demo conservatoire', async (t) => {
  const musicTheory = Object.entries(demoData).flatMap(([slug, demo]) =>
    demo.courses.filter((c) => c.discipline === 'formation-musicale').map((c) => `${slug}: ${c.name}`),
  )
  t.ok(musicTheory.length > 10)
  t.same(
    musicTheory.filter((line) => !/: Formation musicale [1-3]C[1-4]$/.test(line)),
    [],
    'formation musicale is neither "FM 1C2" here nor "2C2" there',
  )
  const notes = configs.flatMap((c) => c.reenrolment?.courseNotes ?? []).join('\n')
  t.notMatch(notes, /\bFM ?\dC\d/, 'nor in the notes that name the courses')
})
