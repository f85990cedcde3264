import type { RuleProblem } from './tenant-config-rules.ts'
import type { TenantConfig } from './tenant-config-types.ts'

/**
 * The tariffs' rules that JSON Schema cannot say: every category priced in every column the
 * families can fall in (each QF bracket, or `resident`, and `nonResident`) and in no other, amounts
 * in whole cents, disciplines that exist, and a payment mode never split in more instalments than
 * the schedule has months.
 */
export function tariffProblems(config: TenantConfig): RuleProblem[] {
  const tariffs = config.tariffs
  if (!tariffs) return []
  const problems: RuleProblem[] = []
  const disciplines = new Set((config.disciplines ?? []).map((d) => d.code))
  const qf = config.quotientFamilial
  const columns = [...(qf ? qf.brackets.map((b) => b.code) : ['resident']), 'nonResident']
  const cents = (euros: number, path: (string | number)[]) => {
    if (Math.abs(euros * 100 - Math.round(euros * 100)) > 1e-6)
      problems.push({ path, code: 'tariffCents', params: { value: euros } })
  }
  const unique = (list: { code: string }[] | undefined, name: string) => {
    const seen = new Set<string>()
    for (const [i, item] of (list ?? []).entries()) {
      if (seen.has(item.code))
        problems.push({
          path: ['tariffs', name, i, 'code'],
          code: 'usedTwice',
          params: { value: item.code, list: `tariffs.${name}` },
        })
      seen.add(item.code)
    }
  }
  unique(tariffs.categories, 'categories')
  unique(tariffs.fees, 'fees')
  unique(tariffs.rentals, 'rentals')

  for (const [i, category] of tariffs.categories.entries()) {
    const path = ['tariffs', 'categories', i]
    if (!category.includesAll && !category.includesAny) problems.push({ path, code: 'tariffNoDisciplines' })
    for (const key of ['includesAll', 'includesAny', 'covers'] as const) {
      for (const [j, code] of (category[key] ?? []).entries()) {
        if (!disciplines.has(code))
          problems.push({ path: [...path, key, j], code: 'notADiscipline', params: { value: code } })
      }
    }
    for (const column of columns) {
      if (category.amounts[column] === undefined)
        problems.push({ path: [...path, 'amounts'], code: 'tariffMissingAmount', params: { column } })
    }
    for (const [column, euros] of Object.entries(category.amounts)) {
      if (!columns.includes(column))
        problems.push({
          path: [...path, 'amounts', column],
          code: 'tariffUnknownColumn',
          params: { column, columns: columns.join(', ') },
        })
      else cents(euros, [...path, 'amounts', column])
    }
  }
  for (const [i, fee] of (tariffs.fees ?? []).entries()) cents(fee.amount, ['tariffs', 'fees', i, 'amount'])
  for (const [i, item] of (tariffs.rentals ?? []).entries()) {
    cents(item.yearly, ['tariffs', 'rentals', i, 'yearly'])
    if (item.deposit !== undefined) cents(item.deposit, ['tariffs', 'rentals', i, 'deposit'])
  }
  const months = tariffs.schedule.months.length
  for (const [i, mode] of (config.paymentModes ?? []).entries()) {
    if ((mode.instalments ?? 1) > months)
      problems.push({
        path: ['paymentModes', i, 'instalments'],
        code: 'tariffTooManyInstalments',
        params: { months },
      })
  }
  return problems
}
