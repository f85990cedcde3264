import type { RuleProblem } from '../tenancy/tenant-config-rules.ts'
import type { TenantConfig } from '../tenancy/tenant-config-types.ts'

/** The rules of `staffSignIn` that need more than one key (config/README.md lists them). */
export function staffSignInProblems(config: TenantConfig): RuleProblem[] {
  const problems: RuleProblem[] = []
  const { password, oidc } = config.staffSignIn
  if (!password && !oidc) {
    problems.push({
      path: ['staffSignIn', 'password'],
      code: 'passwordNeedsOidc',
    })
  }
  if (!oidc) return problems
  if (oidc.roles && !oidc.groupsClaim) {
    problems.push({ path: ['staffSignIn', 'oidc', 'roles'], code: 'rolesNeedGroupsClaim' })
  }
  const groups = new Set<string>()
  for (const [i, mapping] of (oidc.roles ?? []).entries()) {
    if (groups.has(mapping.group)) {
      problems.push({
        path: ['staffSignIn', 'oidc', 'roles', i, 'group'],
        code: 'usedTwice',
        params: { value: mapping.group, list: 'staffSignIn.oidc.roles' },
      })
    }
    groups.add(mapping.group)
  }
  if (oidc.provisioning.enabled && !oidc.provisioning.defaultRole && !oidc.roles) {
    problems.push({
      path: ['staffSignIn', 'oidc', 'provisioning', 'defaultRole'],
      code: 'defaultRoleRequired',
    })
  }
  return problems
}
