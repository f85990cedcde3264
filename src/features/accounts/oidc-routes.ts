import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { type TenantContext, tenantContext } from '../../platform/auth/context.ts'
import { OidcClients, type PendingSignIn, pendingLifetimeMs } from '../../platform/auth/oidc.ts'
import { signInPaths } from '../../platform/auth/plugin.ts'
import { attemptLimits } from '../../platform/http/attempt-limits.ts'
import { NotFound } from '../../platform/http/errors.ts'
import { localPath } from '../portal/service.ts'
import { staffForIdentity } from './oidc-service.ts'

export const oidcStartPath = `${signInPaths.admin}/oidc`
export const oidcReturnPath = `${signInPaths.admin}/oidc/retour`

/** What /admin/connexion says after a sign-in through the provider did not open a session. */
export const oidcProblems = {
  echec: 'signIn.oidc.failed',
  indisponible: 'signIn.oidc.unavailable',
  refuse: 'signIn.oidc.refused',
} as const
type Problem = keyof typeof oidcProblems

/** The redirect URI registered at the provider: the tenant's canonical origin, never the request's Host. */
const redirectUri = (ctx: TenantContext) => `${ctx.baseUrl}${oidcReturnPath}`

const fifteenMinutes = 15 * 60_000

const isPending = (value: unknown): value is PendingSignIn => {
  const v = value as Record<string, unknown> | null
  return (
    typeof v === 'object' &&
    v !== null &&
    ['tenant', 'issuer', 'clientId', 'verifier', 'state', 'nonce', 'retour'].every(
      (key) => typeof v[key] === 'string',
    ) &&
    typeof v.expires === 'number'
  )
}

/**
 * Staff sign-in through the tenant's OpenID Connect provider: the start sends the browser to the
 * provider, the return opens a session for the staff account the provider's ID token vouches for.
 * The tenant's configuration is read on every request: it may change while the process runs.
 */
export default async function staffOidc(app: FastifyInstance) {
  const production = app.config.env === 'production'
  const clients = new OidcClients({ allowHttp: !production })

  // what the return is checked against travels with the browser, signed: nothing is stored for a
  // sign-in that is never finished. __Host- (production) makes it host-only, Secure, Path=/.
  const cookieName = production ? '__Host-tutti_oidc' : 'tutti_oidc'
  const cookieOptions = { path: '/', httpOnly: true, sameSite: 'lax', secure: production } as const

  const back = (reply: FastifyReply, problem: Problem) =>
    reply.redirect(`${signInPaths.admin}?oidc=${problem}`, 303)

  /** The pending sign-in of the browser's cookie, spent: a second return with it finds nothing. */
  const takePending = (request: FastifyRequest, reply: FastifyReply): PendingSignIn | undefined => {
    const raw = request.cookies[cookieName]
    if (!raw) return undefined
    reply.clearCookie(cookieName, cookieOptions)
    const unsigned = request.unsignCookie(raw)
    if (!unsigned.valid || !unsigned.value) return undefined
    try {
      const value: unknown = JSON.parse(unsigned.value)
      return isPending(value) ? value : undefined
    } catch {
      return undefined
    }
  }

  app.get<{ Querystring: { retour?: string } }>(
    oidcStartPath,
    {
      constraints: { site: 'tenant' },
      schema: {
        querystring: { type: 'object', properties: { retour: { type: 'string', maxLength: 2000 } } },
      },
      preHandler: attemptLimits(app, 'oidc-start', [{ max: 30, timeWindowMs: fifteenMinutes }]),
    },
    async (request, reply) => {
      const ctx = tenantContext(request)
      const provider = ctx.config.staffSignIn.oidc
      if (!provider) throw new NotFound()
      // the provider sends the browser back to the canonical host: the pending sign-in and the
      // session must live there, so a sign-in started on another of the tenant's hosts moves first
      if (request.host.toLowerCase() !== new URL(ctx.baseUrl).host) {
        return reply.redirect(`${ctx.baseUrl}${request.url}`, 303)
      }
      let started: Awaited<ReturnType<OidcClients['start']>>
      try {
        started = await clients.start(
          provider,
          redirectUri(ctx),
          ctx.tenant.slug,
          localPath(request.query.retour),
        )
      } catch (err) {
        request.log.warn({ err, issuer: provider.issuer }, 'identity provider unavailable')
        return back(reply, 'indisponible')
      }
      reply.setCookie(cookieName, JSON.stringify(started.pending), {
        ...cookieOptions,
        signed: true,
        maxAge: pendingLifetimeMs / 1000,
      })
      return reply.redirect(started.url.href, 303)
    },
  )

  app.get(
    oidcReturnPath,
    {
      constraints: { site: 'tenant' },
      schema: {
        querystring: {
          type: 'object',
          properties: Object.fromEntries(
            ['code', 'state', 'iss', 'error', 'error_description', 'session_state'].map((name) => [
              name,
              { type: 'string', maxLength: 4000 },
            ]),
          ),
        },
      },
      preHandler: attemptLimits(app, 'oidc-return', [{ max: 30, timeWindowMs: fifteenMinutes }]),
    },
    async (request, reply) => {
      const ctx = tenantContext(request)
      const provider = ctx.config.staffSignIn.oidc
      const pending = takePending(request, reply)
      // started elsewhere (another conservatoire, another provider since the configuration changed),
      // too long ago, or never: the provider is not even asked
      if (
        !provider ||
        !pending ||
        pending.tenant !== ctx.tenant.slug ||
        pending.issuer !== provider.issuer ||
        pending.clientId !== provider.clientId ||
        pending.expires < Date.now()
      ) {
        request.log.info('OIDC return without a matching sign-in in progress')
        return back(reply, 'echec')
      }
      let claims: Awaited<ReturnType<OidcClients['finish']>>
      try {
        // the URL the provider sent the browser to, on the canonical origin the redirect URI names
        claims = await clients.finish(provider, pending, new URL(request.url, ctx.baseUrl))
      } catch (err) {
        request.log.warn({ err, issuer: provider.issuer }, 'OIDC sign-in failed')
        return back(reply, 'echec')
      }
      const identity = await staffForIdentity(ctx, provider, claims)
      if ('refused' in identity) {
        request.log.info({ refusal: identity.refused, issuer: provider.issuer }, 'OIDC identity refused')
        return back(reply, 'refuse')
      }
      await app.signIn(request, reply, identity.account)
      return reply.redirect(pending.retour !== '/' ? pending.retour : '/admin', 303)
    },
  )
}
