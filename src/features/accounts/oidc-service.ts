import { audit } from '../../platform/audit/audit.ts'
import type { TenantContext } from '../../platform/auth/context.ts'
import { Account, type Role } from '../../platform/auth/entities.ts'
import type { IdClaims, OidcProvider } from '../../platform/auth/oidc.ts'
import { staffRoles } from '../../platform/auth/roles.ts'
import { actorOf } from '../../platform/auth/sessions.ts'
import { emailPattern, freeIdentifiant } from './service.ts'

/** Why an identity the provider vouched for opens no account here; logged, never told apart on the page. */
export type Refusal = 'no-email' | 'email-unverified' | 'no-role' | 'unknown' | 'disabled' | 'ambiguous'

export type StaffIdentity = { account: Account; provisioned: boolean } | { refused: Refusal }

/** Highest first: a person in several mapped groups takes the strongest role. */
const roleRank = ['admin', 'direction', 'secretariat'] as const

const text = (value: unknown) => (typeof value === 'string' ? value.trim() : '')

/** The role the person's groups give, when the tenant maps groups to roles; null when none of them is mapped. */
function mappedRole(provider: OidcProvider, claims: IdClaims): Role | null | undefined {
  if (!provider.roles || !provider.groupsClaim) return undefined
  const claim = claims[provider.groupsClaim]
  const groups = new Set(Array.isArray(claim) ? claim.map(text) : [text(claim)])
  const given = new Set<Role>(provider.roles.filter((r) => groups.has(r.group)).map((r) => r.role))
  return roleRank.find((role) => given.has(role)) ?? null
}

/**
 * The staff account of this tenant an identity vouched for by the tenant's provider opens: the one
 * enabled staff account with that e-mail (without case), its role brought in line with the
 * provider's groups when the tenant maps them; or, with provisioning on, a new one. Never a family's
 * or a teacher's account, never a disabled one, never one of two accounts sharing the address.
 */
export async function staffForIdentity(
  ctx: TenantContext,
  provider: OidcProvider,
  claims: IdClaims,
): Promise<StaffIdentity> {
  const email = text(claims[provider.emailClaim]).toLowerCase()
  if (!email || !emailPattern.test(email)) return { refused: 'no-email' }
  // an address the provider has not checked could be anyone's, typed at the provider by its user
  if (claims.email_verified !== true) return { refused: 'email-unverified' }
  const role = mappedRole(provider, claims)
  if (role === null) return { refused: 'no-role' }

  return ctx.em.transactional(async (tx) => {
    // staff accounts are a few dozen per conservatoire: compared here, without case, as people type them
    const staff = await tx.find(Account, { role: { $in: [...staffRoles] } }, { orderBy: { id: 'asc' } })
    const same = staff.filter((a) => a.email.trim().toLowerCase() === email)
    const enabled = same.filter((a) => !a.disabled)
    if (enabled.length > 1) return { refused: 'ambiguous' }
    const now = new Date()
    const account = enabled[0]
    if (account) {
      if (role && role !== account.role) {
        const from = account.role
        account.role = role
        audit(tx, actorOf(account), {
          action: 'account.roleChanged',
          subject: { type: 'account', id: account.id },
          details: { from, to: role, by: 'oidc', issuer: provider.issuer },
        })
      }
      account.lastSignInAt = now
      await tx.flush()
      return { account, provisioned: false }
    }
    // a disabled account is a decision of the conservatoire's: provisioning must not undo it
    if (same.length) return { refused: 'disabled' }
    const defaultRole = role ?? provider.provisioning.defaultRole
    if (!provider.provisioning.enabled || !defaultRole) return { refused: 'unknown' }

    const firstName = text(claims.given_name)
    const lastName = text(claims.family_name)
    const created = tx.create(Account, {
      // "prenom.nom" as for an invitation; the address's local part when the provider gives no name
      identifiant: await freeIdentifiant(tx, { firstName: firstName || email.split('@')[0], lastName }),
      role: defaultRole,
      email,
      displayName: text(claims.name) || [firstName, lastName].filter(Boolean).join(' ') || email,
      lastSignInAt: now,
    })
    await tx.flush()
    audit(tx, actorOf(created), {
      action: 'account.provisioned',
      subject: { type: 'account', id: created.id },
      details: { identifiant: created.identifiant, role: created.role, email, issuer: provider.issuer },
    })
    await tx.flush()
    return { account: created, provisioned: true }
  })
}
