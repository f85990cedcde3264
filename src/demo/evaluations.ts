import { Account } from '../platform/auth/entities.ts'
import { Guardian } from '../features/family/entities.ts'
import { tenantToday } from '../features/family/service.ts'
import { Enrolment, Evaluation, EvaluationStatus, SchoolYear } from '../features/teaching/entities.ts'
import type { Orm } from '../platform/db/orm.ts'
import { currentPeriod, periodSpan } from '../platform/tenancy/evaluation-periods.ts'
import { schemaFor } from '../platform/tenancy/registry.ts'
import type { TenantConfig } from '../platform/tenancy/tenant-config.ts'
import { appreciations } from './appreciations.ts'

/** `days` days before `today`, as YYYY-MM-DD. */
function daysBefore(today: string, days: number): string {
  return new Date(Date.parse(`${today}T12:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10)
}

/**
 * The register's side of the demo evaluations (seedDemo wrote the published reports of the periods
 * over): each report's author is its course's teacher account, and the teachers have started on the
 * current period: demo-famille's pupils have theirs published already, every other pupil of demo-prof's
 * courses and one in three of the others' a draft (staff see them in Évaluations), a few more of
 * demo-prof's are published, and demo-prof's first draft carries a correction request from the
 * secretariat. Idempotent: a tenant with a draft is left as is. Runs after seedDemoAccounts.
 */
export async function seedDemoEvaluations(orm: Orm, configs: TenantConfig[], now = new Date()) {
  for (const config of configs) {
    const em = orm.em.fork({ schema: schemaFor(config.slug) })
    if (await em.count(Evaluation, { status: EvaluationStatus.draft })) continue
    const year = await em.findOne(SchoolYear, { current: true })
    if (!year) continue
    const today = tenantToday(config, now)
    const period = currentPeriod(config, year.startsOn, today)
    const { from, to } = periodSpan(period, year.startsOn)
    // a draft is written after the period's first week, never in the future
    const writtenOn = [daysBefore(today, 3), to].sort()[0]!
    if (writtenOn < daysBefore(from, -7)) continue
    await em.getConnection().execute(
      `update ${em.schema}.evaluation v set author_id = t.account_id
         from ${em.schema}.enrolment e join ${em.schema}.course c on c.id = e.course_id
         join ${em.schema}.teacher t on t.id = c.teacher_id
         where e.id = v.enrolment_id and v.author_id is null`,
    )
    const secretariat = await em.findOne(Account, { identifiant: 'demo-secretariat' })
    const enrolments = await em.find(
      Enrolment,
      { course: { schoolYear: year }, active: true },
      { populate: ['course.teacher.account', 'pupil'], orderBy: { course: { id: 'asc' }, id: 'asc' } },
    )
    const written = new Set(
      (await em.find(Evaluation, { period: period.code, enrolment: { $in: enrolments } })).map(
        (e) => e.enrolment.id,
      ),
    )
    const family = await em.findOne(Guardian, { account: { identifiant: 'demo-famille' } })
    let corrected = false
    for (const [i, enrolment] of enrolments.entries()) {
      if (written.has(enrolment.id)) continue
      const account = enrolment.course.teacher?.account ?? null
      const demoProf = account?.identifiant === 'demo-prof'
      // demo-famille reads this period's evaluations already, the others wait for theirs
      const status =
        enrolment.pupil.family.id === family?.family.id || (demoProf && i % 4 === 1)
          ? EvaluationStatus.published
          : i % (demoProf ? 2 : 3) === 0
            ? EvaluationStatus.draft
            : undefined
      if (!status) continue
      const pool = appreciations.instrument.good
      const evaluation = em.create(Evaluation, {
        enrolment,
        period: period.code,
        term: period.label,
        givenOn: writtenOn,
        appreciation: pool[i % pool.length]!,
        status,
        publishedAt: status === EvaluationStatus.published ? new Date(`${writtenOn}T18:00:00Z`) : null,
        author: account,
      })
      if (status === EvaluationStatus.draft && demoProf && !corrected && secretariat) {
        corrected = true
        evaluation.correction =
          'Merci de préciser les pièces travaillées pendant la période et les objectifs pour l’audition.'
        evaluation.correctionRequestedAt = new Date(`${writtenOn}T16:30:00Z`)
        evaluation.correctionRequestedBy = secretariat
      }
    }
    await em.flush()
  }
}
