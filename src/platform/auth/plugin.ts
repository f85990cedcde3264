import fastifyCsrf from '@fastify/csrf-protection'
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { Forbidden } from '../http/errors.ts'
import { type Actor, tenantContext } from './context.ts'
import type { Account, Role } from './entities.ts'
import { actorOf, closeSession, openSession, resumeSession } from './sessions.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in account, on a tenant host; undefined for visitors. */
    account: Actor | undefined
  }
  interface FastifyInstance {
    /** Opens a session for the account; `establishment` is the site chosen in the sign-in form. */
    signIn(
      request: FastifyRequest,
      reply: FastifyReply,
      account: Account,
      establishment?: string,
    ): Promise<void>
    signOut(request: FastifyRequest, reply: FastifyReply): Promise<void>
    /** The raw session id of the request's cookie, to tell this session from the account's others. */
    sessionId(request: FastifyRequest): string | undefined
    /** A preHandler admitting only the given roles: visitors go to sign in, others get a 403 page. */
    requireRole(...roles: Role[]): preHandlerAsyncHookHandler
    /** Every route behind a role guard, with the roles it admits (walked by the roles test). */
    guardedRoutes: GuardedRoute[]
  }
  interface FastifyContextConfig {
    /**
     * 'in-handler': the route checks the CSRF token itself, as a multipart upload does once it has
     * read the token from the stream (the global hook runs before the body is read).
     */
    csrf?: 'in-handler'
  }
}

/** Where each kind of account signs in. */
export const signInPaths: Record<Role, string> = {
  family: '/connexion',
  teacher: '/enseignant/connexion',
  secretariat: '/admin/connexion',
  direction: '/admin/connexion',
  admin: '/admin/connexion',
}

export interface GuardedRoute {
  method: string
  url: string
  roles: readonly Role[]
}

/** Marks the preHandlers made by `requireRole` with the roles they admit. */
const admitted = Symbol('admitted roles')
type Guard = preHandlerAsyncHookHandler & { [admitted]?: readonly Role[] }

const unsafeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/** Sessions (server-side, in the tenant's schema), CSRF on every state-changing request, role guards. */
export default fp(
  async (app) => {
    const production = app.config.env === 'production'
    // __Host- makes browsers refuse the cookie unless host-only, Secure and Path=/ (https only)
    const cookieName = production ? '__Host-tutti_session' : 'tutti_session'
    const cookieOptions = { path: '/', httpOnly: true, sameSite: 'lax', secure: production } as const

    const csrfCookie = production ? '__Host-tutti_csrf' : 'tutti_csrf'
    // a token is good on the tenant whose page carried it, never on another tenant's host
    const tokenOwner = (request: FastifyRequest) => request.tenant?.slug ?? ''
    await app.register(fastifyCsrf, {
      sessionPlugin: '@fastify/cookie',
      cookieKey: csrfCookie,
      cookieOpts: { ...cookieOptions, signed: true },
      getUserInfo: tokenOwner,
      csrfOpts: { hmacKey: app.config.sessionSecret },
    })

    /*
     * A token stays valid as long as its secret cookie: one is made per secret and tenant, and kept
     * (a bounded map) so that each page does not pay again for unsigning the cookie and hashing.
     */
    const tokens = new Map<string, string>()
    const csrfToken = (request: FastifyRequest, reply: FastifyReply) => {
      const secret = request.cookies[csrfCookie]
      if (!secret) return reply.generateCsrf({ userInfo: tokenOwner(request) })
      const key = `${tokenOwner(request)} ${secret}`
      let token = tokens.get(key)
      if (!token) {
        token = reply.generateCsrf({ userInfo: tokenOwner(request) })
        if (tokens.size >= 10_000) tokens.delete(tokens.keys().next().value!)
        tokens.set(key, token)
      }
      return token
    }

    app.decorateRequest('account', undefined)
    app.decorateRequest('ctx', undefined)

    app.addHook('onRequest', async (request) => {
      const id = request.cookies[cookieName]
      if (!id || !request.tenant) return
      request.account = await resumeSession(request.db, () => request.em, request.tenant.config, id)
    })

    // what every page needs to show the signed-in header and to post forms, and what every handler
    // of a tenant's host works with
    app.addHook('preHandler', async (request, reply) => {
      // one token per response: a page without the cookie yet would otherwise get a new secret per
      // form, and only the last form's token would match the cookie it sets
      let token: string | undefined
      const csrf = () => (token ??= csrfToken(request, reply))
      reply.locals = { ...reply.locals, account: request.account, csrf }
      const tenant = request.tenant
      if (!tenant) return
      request.ctx = {
        tenant,
        config: tenant.config,
        db: request.db,
        get em() {
          return request.em
        },
        locale: request.locale,
        t: request.t,
        baseUrl: tenant.baseUrl,
        account: request.account,
      }
    })

    // on refusal the plugin sends its error, which the error handler turns into a French page
    app.addHook('preHandler', (request, reply, done) => {
      if (!unsafeMethods.has(request.method) || request.routeOptions.config.csrf === 'in-handler')
        return done()
      app.csrfProtection(request, reply, done)
    })

    app.decorate(
      'signIn',
      async (request: FastifyRequest, reply: FastifyReply, account: Account, establishment?: string) => {
        const previous = request.cookies[cookieName]
        // a new id at every sign-in: an id planted before sign-in is worth nothing after it
        if (previous) await closeSession(request.em, previous)
        const { config } = tenantContext(request)
        const id = await openSession(
          request.em,
          config,
          account,
          request.headers['user-agent'],
          establishment,
        )
        reply.setCookie(cookieName, id, cookieOptions)
        request.account = { ...actorOf(account), establishment: establishment ?? null }
      },
    )

    app.decorate('signOut', async (request: FastifyRequest, reply: FastifyReply) => {
      const id = request.cookies[cookieName]
      if (id) await closeSession(request.em, id)
      reply.clearCookie(cookieName, cookieOptions)
      request.account = undefined
    })

    app.decorate('sessionId', (request: FastifyRequest) => request.cookies[cookieName])

    app.decorate('requireRole', (...roles: Role[]): preHandlerAsyncHookHandler => {
      const guard: Guard = async (request, reply) => {
        if (!request.account) {
          const target = signInPaths[roles[0] ?? 'family']
          return reply.redirect(`${target}?retour=${encodeURIComponent(request.url)}`, 303)
        }
        if (!roles.includes(request.account.role)) throw new Forbidden()
      }
      guard[admitted] = roles
      return guard
    })

    const guardedRoutes: GuardedRoute[] = []
    app.decorate('guardedRoutes', guardedRoutes)
    app.addHook('onRoute', (route) => {
      // a guard may run before validation (routes with a required body), or after it
      const handlers = [route.preHandler, route.preValidation].flat() as Guard[]
      const roles = handlers.find((h) => h?.[admitted])?.[admitted]
      if (!roles) return
      for (const method of [route.method].flat()) {
        if (method !== 'HEAD') guardedRoutes.push({ method, url: route.url, roles })
      }
    })
  },
  { name: 'auth', dependencies: ['tenancy', 'http'] },
)
