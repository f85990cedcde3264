import { dictionary } from '@zxcvbn-ts/language-common'
import type { TenantConfig } from '../tenancy/tenant-config.ts'
import type { Translate } from '../views/i18n.ts'

export type PasswordPolicy = TenantConfig['passwordPolicy']

/** ~49,000 passwords found most often in leaks, lowercased (zxcvbn-ts' common list). */
const common = new Set((dictionary['passwords-common'] as string[]).map((p) => p.toLowerCase()))

export type PasswordProblem =
  | { rule: 'tooShort'; min: number }
  | { rule: 'tooLong'; max: number }
  | { rule: 'needsUpper' }
  | { rule: 'needsLower' }
  | { rule: 'needsDigit' }
  | { rule: 'sameAsIdentifiant' }
  | { rule: 'common' }

function bounds(policy: PasswordPolicy): { min: number; max: number } {
  return { min: policy.minLength ?? (policy.rule === 'imuse' ? 8 : 12), max: policy.maxLength }
}

/** Every part of the rule the password fails, in the order the rule is written. */
export function checkPassword(
  password: string,
  identifiant: string,
  policy: PasswordPolicy,
): PasswordProblem[] {
  const problems: PasswordProblem[] = []
  // length in characters as people count them, not UTF-16 units
  const length = [...password].length
  const { min, max } = bounds(policy)
  if (length < min) problems.push({ rule: 'tooShort', min })
  if (length > max) problems.push({ rule: 'tooLong', max })
  if (policy.rule === 'imuse') {
    if (!/\p{Lu}/u.test(password)) problems.push({ rule: 'needsUpper' })
    if (!/\p{Ll}/u.test(password)) problems.push({ rule: 'needsLower' })
    if (!/\p{Nd}/u.test(password)) problems.push({ rule: 'needsDigit' })
  }
  if (password.trim().toLowerCase() === identifiant.trim().toLowerCase())
    problems.push({ rule: 'sameAsIdentifiant' })
  if (common.has(password.toLowerCase())) problems.push({ rule: 'common' })
  return problems
}

/** The rule written next to the field. */
export function describePolicy(policy: PasswordPolicy, t: Translate): string {
  const { min, max } = bounds(policy)
  return t(policy.rule === 'imuse' ? 'password.rule.imuse' : 'password.rule.default', { min, max })
}

export function describeProblem(problem: PasswordProblem, t: Translate): string {
  switch (problem.rule) {
    case 'tooShort':
      return t('password.tooShort', { min: problem.min })
    case 'tooLong':
      return t('password.tooLong', { max: problem.max })
    case 'needsUpper':
      return t('password.needsUpper')
    case 'needsLower':
      return t('password.needsLower')
    case 'needsDigit':
      return t('password.needsDigit')
    case 'sameAsIdentifiant':
      return t('password.sameAsIdentifiant')
    case 'common':
      return t('password.common')
  }
}
