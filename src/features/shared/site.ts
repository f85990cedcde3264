import type { TenantContext } from '../../platform/auth/context.ts'

/*
 * The site (establishment) a person chose in the sign-in form of a tenant with several sites. It is
 * kept with the session (`Actor.establishment`), and the pages that list courses or sites put that
 * site's first: a family of Rochechouart reads Rochechouart's courses and address before
 * Saint-Junien's. Nothing is hidden: the other sites follow.
 */

/** The site chosen at sign-in, as the tenant's configuration describes it; undefined when none was. */
export function chosenSite(ctx: Pick<TenantContext, 'config' | 'account'>) {
  const code = ctx.account?.establishment
  return code ? ctx.config.establishments.find((e) => e.code === code) : undefined
}

/**
 * A comparator for sort(): items of the chosen site first, then `then` (the list's own order).
 * Without a chosen site it is `then` alone.
 */
export function siteFirst<T>(
  site: string | null | undefined,
  establishmentOf: (item: T) => string,
  then: (a: T, b: T) => number,
): (a: T, b: T) => number {
  if (!site) return then
  const rank = (item: T) => (establishmentOf(item) === site ? 0 : 1)
  return (a, b) => rank(a) - rank(b) || then(a, b)
}
