import { staffSignInProblems } from '../auth/staff-sign-in-rules.ts'
import { resolveBound } from './periods.ts'
import { isMonthDay, schoolOrder } from './evaluation-periods.ts'
import { tariffProblems } from './tariff-rules.ts'
import type { Condition, TenantConfig } from './tenant-config-types.ts'
import type { ProblemCode } from './config-problems.ts'

export interface RuleProblem {
  path: (string | number)[]
  /** A `configProblem.*` message of the catalogue, and its parameters. */
  code: ProblemCode
  params?: Record<string, string | number>
}

/** Rules that need the whole file, which JSON Schema cannot express; documented in config/README.md. */
export function crossCheck(config: TenantConfig, now = new Date()): RuleProblem[] {
  const problems: RuleProblem[] = []
  const unique = <T>(list: T[] | undefined, key: keyof T & string, path: string) => {
    const seen = new Set<unknown>()
    for (const [i, item] of (list ?? []).entries()) {
      if (seen.has(item[key]))
        problems.push({
          path: [path, i, key],
          code: 'usedTwice',
          params: { value: String(item[key]), list: path },
        })
      seen.add(item[key])
    }
  }
  unique(config.establishments, 'code', 'establishments')
  unique(config.disciplines, 'code', 'disciplines')
  unique(config.documents, 'id', 'documents')
  unique(config.paymentModes, 'id', 'paymentModes')
  unique(config.quotientFamilial?.brackets, 'code', 'quotientFamilial.brackets')

  const disciplineCodes = new Set((config.disciplines ?? []).map((d) => d.code))
  const paymentModeIds = new Set((config.paymentModes ?? []).map((m) => m.id))
  const questionIds = new Set((config.reenrolment.questions ?? []).map((q) => q.id))

  const qf = config.quotientFamilial
  if (qf) {
    if (!qf.brackets.some((b) => b.code === qf.fallback)) {
      problems.push({
        path: ['quotientFamilial', 'fallback'],
        code: 'notABracket',
        params: { value: qf.fallback },
      })
    }
    let previous = -Infinity
    for (const [i, bracket] of qf.brackets.entries()) {
      const last = i === qf.brackets.length - 1
      if (bracket.max === undefined && !last) {
        problems.push({
          path: ['quotientFamilial', 'brackets', i],
          code: 'onlyLastWithoutMax',
        })
      } else if (bracket.max !== undefined && bracket.max <= previous) {
        problems.push({
          path: ['quotientFamilial', 'brackets', i, 'max'],
          code: 'greaterThanPrevious',
        })
      }
      previous = bracket.max ?? previous
    }
  }

  for (const [i, code] of (config.preregistration?.disciplines ?? []).entries()) {
    if (!disciplineCodes.has(code)) {
      problems.push({
        path: ['preregistration', 'disciplines', i],
        code: 'notADiscipline',
        params: { value: code },
      })
    }
  }

  for (const [i, code] of (config.reenrolment.mandatoryDisciplines ?? []).entries()) {
    if (!disciplineCodes.has(code)) {
      problems.push({
        path: ['reenrolment', 'mandatoryDisciplines', i],
        code: 'notADiscipline',
        params: { value: code },
      })
    }
  }

  if (config.reenrolment.steps.at(-1) !== 'finalize') {
    problems.push({ path: ['reenrolment', 'steps'], code: 'finalizeLast' })
  }

  const checkCondition = (condition: Condition, path: (string | number)[]) => {
    if ('all' in condition) {
      for (const [i, c] of condition.all.entries()) checkCondition(c, [...path, 'all', i])
    } else if ('any' in condition) {
      for (const [i, c] of condition.any.entries()) checkCondition(c, [...path, 'any', i])
    } else if ('not' in condition) checkCondition(condition.not, [...path, 'not'])
    else {
      const values =
        'equals' in condition ? [condition.equals] : 'in' in condition ? condition.in : condition.includesAny
      const known =
        condition.fact === 'pupil.disciplines'
          ? disciplineCodes
          : condition.fact === 'family.paymentMode'
            ? paymentModeIds
            : undefined
      for (const value of values) {
        if (known && !known.has(String(value))) {
          problems.push({
            path,
            code: condition.fact === 'pupil.disciplines' ? 'notADiscipline' : 'notAPaymentMode',
            params: { value: String(value) },
          })
        }
      }
      if (
        condition.fact.startsWith('pupil.answers.') &&
        !questionIds.has(condition.fact.slice('pupil.answers.'.length))
      ) {
        problems.push({ path, code: 'unknownQuestion', params: { fact: condition.fact } })
      }
    }
  }
  for (const [i, document] of (config.documents ?? []).entries()) {
    if (document.when) checkCondition(document.when, ['documents', i, 'when'])
  }

  for (const name of ['preregistration', 'reenrolment'] as const) {
    const period = config.periods?.[name]
    if (!period) continue
    const opens = resolveBound(period.opens, 'opens', config.timezone, now)
    const closes = resolveBound(period.closes, 'closes', config.timezone, now)
    if (opens >= closes) problems.push({ path: ['periods', name, 'closes'], code: 'closesAfterOpens' })
  }
  problems.push(...staffSignInProblems(config))
  problems.push(...tariffProblems(config))
  for (const [i, holiday] of (config.calendar?.holidays ?? []).entries())
    if (holiday.to < holiday.from)
      problems.push({ path: ['calendar', 'holidays', i, 'to'], code: 'endsBeforeStart' })
  problems.push(...evaluationProblems(config))
  return problems
}

/** The evaluation periods: codes used once, real days, each after the one before and not overlapping it. */
function evaluationProblems(config: TenantConfig): RuleProblem[] {
  const problems: RuleProblem[] = []
  const periods = config.evaluations?.periods ?? []
  const codes = new Set<string>()
  let previousEnd = -Infinity
  for (const [i, period] of periods.entries()) {
    const path = ['evaluations', 'periods', i]
    if (codes.has(period.code))
      problems.push({
        path: [...path, 'code'],
        code: 'usedTwice',
        params: { value: period.code, list: 'evaluations.periods' },
      })
    codes.add(period.code)
    const days = (['from', 'to'] as const).filter((key) => !isMonthDay(period[key]))
    for (const key of days) problems.push({ path: [...path, key], code: 'notAMonthDay' })
    if (days.length) continue
    const from = schoolOrder(period.from)
    const to = schoolOrder(period.to)
    if (to < from) problems.push({ path: [...path, 'to'], code: 'endsBeforeStart' })
    else if (from <= previousEnd) problems.push({ path: [...path, 'from'], code: 'periodsOverlap' })
    previousEnd = Math.max(previousEnd, to)
  }
  return problems
}
