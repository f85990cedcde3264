import { type Kysely, sql } from 'kysely'
import { jsonArrayFrom } from 'kysely/helpers/postgres'
import { type TenantDb, tenantDb } from '../../entities.ts'
import type { SignedInContext } from '../../platform/auth/context.ts'
import { prepare } from '../../platform/db/reads.ts'
import { NotFound } from '../../platform/http/errors.ts'
import { type Period, periodOf } from '../../platform/tenancy/evaluation-periods.ts'
import { formatDate } from '../../platform/views/dates.ts'
import { frameFor } from '../billing/pdf-download.ts'
import { type Block, documentPdf } from '../billing/pdf.ts'
import { familyIdOf, fullName } from '../family/service.ts'
import type { CriterionRating } from '../teaching/entities.ts'
import { currentSchoolYear, teacherName } from '../teaching/service.ts'

/*
 * The bulletin: a PDF per pupil and period of the current school year with every published
 * evaluation of that period, drawn like the invoices (billing/pdf.ts) and made out to responsable 1.
 */

function publishedOf(pupilId: number, yearId: number, period: string) {
  return jsonArrayFrom(
    tenantDb
      .selectFrom('evaluation as v')
      .innerJoin('enrolment as e', 'e.id', 'v.enrolment_id')
      .innerJoin('course as c', 'c.id', 'e.course_id')
      .leftJoin('teacher as t', 't.id', 'c.teacher_id')
      .select([
        'c.name as courseName',
        't.first_name as teacherFirstName',
        't.last_name as teacherLastName',
        'v.appreciation',
        'v.level',
        'v.grade',
        'v.criteria',
        'v.published_at as publishedAt',
      ])
      .where('e.pupil_id', '=', pupilId)
      .where('e.active', '=', true)
      .where('c.school_year_id', '=', yearId)
      .where('v.period', '=', period)
      .where('v.status', '=', 'published')
      .orderBy('c.name')
      .orderBy('v.id'),
  )
}

const bulletinRead = prepare(
  (
    db: Kysely<TenantDb>,
    p: { pupilId: number; yearId: number; period: string; familyAccountId: number | null },
  ) =>
    db
      .selectFrom('pupil as p')
      .leftJoin('guardian as g', (join) => join.onRef('g.family_id', '=', 'p.family_id').on('g.rank', '=', 1))
      .select([
        'p.id',
        'p.first_name as firstName',
        'p.last_name as lastName',
        'p.birth_date as birthDate',
        'g.civility',
        'g.first_name as guardianFirstName',
        'g.last_name as guardianLastName',
        'g.address',
        'g.postal_code as postalCode',
        'g.city',
      ])
      .select(publishedOf(p.pupilId, p.yearId, p.period).as('evaluations'))
      .where('p.id', '=', p.pupilId)
      // a family reads its own pupils' only; staff (null) any pupil's
      .where((eb) =>
        eb.or([
          sql<boolean>`${p.familyAccountId}::integer is null`,
          eb('p.family_id', '=', familyIdOf(p.familyAccountId as number)),
        ]),
      ),
)

const resultKeys = {
  acquired: 'evaluations.result.acquired',
  inProgress: 'evaluations.result.inProgress',
  notAcquired: 'evaluations.result.notAcquired',
} as const

/**
 * The bulletin of a pupil for a period, and its file name; another family's pupil (for a family)
 * or an unknown period is a 404. `asFamily` scopes the read to the signed-in family.
 */
export async function bulletin(
  ctx: SignedInContext,
  pupilId: number,
  periodCode: string,
  asFamily: boolean,
): Promise<{ pdf: Buffer; fileName: string }> {
  const { t, config } = ctx
  const period: Period | undefined = periodOf(config, periodCode)
  const year = await currentSchoolYear(ctx.db)
  if (!period || !year) throw new NotFound()
  const found = await bulletinRead.first(ctx.db, {
    pupilId,
    yearId: year.id,
    period: period.code,
    familyAccountId: asFamily ? ctx.account.id : null,
  })
  if (!found) throw new NotFound()
  const frame = frameFor(
    ctx,
    found.guardianFirstName
      ? {
          civility: found.civility,
          firstName: found.guardianFirstName,
          lastName: found.guardianLastName ?? '',
          address: found.address,
          postalCode: found.postalCode,
          city: found.city,
        }
      : undefined,
  )
  const pupil = fullName(found)
  const facts = [
    t('evaluations.pdf.pupil', { pupil }),
    t('evaluations.pdf.period', { period: period.label, year: year.label }),
  ]
  const body: Block[] = []
  for (const e of found.evaluations) {
    body.push({ rule: true }, { heading: e.courseName })
    const teacher = teacherName(e)
    if (teacher) body.push({ paragraph: t('evaluations.pdf.teacher', { teacher }), small: true })
    const level = e.level ?? e.grade
    if (level) body.push({ paragraph: t('evaluations.pdf.level', { level }), small: true })
    for (const rating of (e.criteria ?? []) as CriterionRating[])
      body.push({
        paragraph: `${rating.criterion} : ${t(resultKeys[rating.result])}`,
        small: true,
      })
    body.push({ paragraph: e.appreciation }, { space: true })
  }
  if (!body.length) body.push({ paragraph: t('evaluations.pdf.none') })
  const printedOn = formatDate(new Date(), config.timezone)
  const pdf = await documentPdf(
    frame,
    t('evaluations.pdf.title', { period: period.label }),
    facts,
    body,
    t('evaluations.pdf.closing', { date: printedOn }),
  )
  const slug = `${found.lastName}-${found.firstName}`
    .normalize('NFD')
    .replace(/[^A-Za-z0-9-]+/g, '')
    .toLowerCase()
  return { pdf, fileName: `bulletin-${period.code}-${year.label}-${slug}.pdf` }
}
