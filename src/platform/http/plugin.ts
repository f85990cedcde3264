import { fileURLToPath } from 'node:url'
import fastifyCookie from '@fastify/cookie'
import fastifyFormbody from '@fastify/formbody'
import fastifyStatic from '@fastify/static'
import fp from 'fastify-plugin'
import helmet from 'helmet'
import { type LimiterFactory, memoryLimiters, redisLimiters } from './limiters.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** The first step of a shutdown (see `shutdown` in app.ts): /readyz answers 503, connections close after their response. */
    drain(): void
    /** The counters of attempt limits: shared through Redis when REDIS_URL is set (limiters.ts). */
    limiter: LimiterFactory
  }
}

const assetsDir = fileURLToPath(new URL('../../../templates/assets/', import.meta.url))

/**
 * The headers helmet sets, computed once. @fastify/helmet builds a new helmet, and parses the
 * whole policy again, on every request: a fifth of a small page's CPU (docs/decisions.md).
 */
function securityHeaders(options: Parameters<typeof helmet>[0]): Record<string, string> {
  const headers: Record<string, string> = {}
  const response = {
    setHeader: (name: string, value: string) => {
      headers[name.toLowerCase()] = value
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()]
    },
  }
  helmet(options)({} as never, response as never, (error?: unknown) => {
    if (error) throw error
  })
  return headers
}

/** Cross-cutting HTTP: cookies, form bodies, security headers, attempt limits' counters, static assets, health. */
export default fp(
  async (app) => {
    const production = app.config.env === 'production'
    let draining = false
    app.decorate('drain', () => {
      draining = true
    })
    await app.register(fastifyCookie, { secret: app.config.sessionSecret })
    await app.register(fastifyFormbody)
    const headers = securityHeaders({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:', 'https:'],
          fontSrc: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'self'"],
          frameAncestors: ["'none'"],
          // the Site selector's form redirects to a tenant host, and form-action applies to redirects
          formAction: ["'self'", `*.${app.config.platformDomain}:*`],
          upgradeInsecureRequests: production ? [] : null,
        },
      },
      hsts: production ? { maxAge: 31536000, includeSubDomains: true } : false,
      crossOriginEmbedderPolicy: false,
    })
    app.addHook('onRequest', (_request, reply, done) => {
      reply.headers(headers)
      // a keep-alive connection would bring this server traffic past the grace: the client's next
      // request opens a new one, which the load balancer sends to a server that is ready
      if (draining) reply.header('connection', 'close')
      done()
    })
    // limits are declared per route (sign-in, reset, 404…), never globally
    if (app.config.redisUrl) {
      const redis = redisLimiters(app.config.redisUrl, app.log)
      app.decorate('limiter', redis.limiter)
      // the first requests count in Redis when it answers; when it does not, the server starts anyway
      await redis.connected
      // onClose hooks run once the requests in flight are answered: nothing counts any more
      app.addHook('onClose', () => redis.close())
    } else {
      app.decorate('limiter', memoryLimiters)
    }
    await app.register(fastifyStatic, {
      root: assetsDir,
      prefix: '/assets/',
      maxAge: production ? '7d' : 0,
      etag: true,
      lastModified: true,
      index: false,
    })

    app.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok' }))
    app.get('/readyz', { logLevel: 'warn' }, async (request, reply) => {
      if (draining) return reply.code(503).send({ status: 'stopping' })
      try {
        await app.orm.em.fork().execute('select 1')
        return { status: 'ok', database: 'reachable' }
      } catch (error) {
        request.log.error({ err: error }, 'database unreachable')
        return reply.code(503).send({ status: 'unavailable', database: 'unreachable' })
      }
    })
  },
  { name: 'http', dependencies: ['db'] },
)
