import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import { TooManyAttempts } from './errors.ts'

export interface AttemptLimit {
  max: number
  timeWindowMs: number
  /** What is counted, within the tenant: the client's address by default, or e.g. the identifiant typed. */
  key?: (request: FastifyRequest) => string
}

/** The tenant the request is for ('' on the platform's own host), so no tenant's count touches another's. */
const tenantOf = (request: FastifyRequest) => request.tenant?.slug ?? ''

/**
 * A preHandler enforcing several limits at once (e.g. per address and per identifiant); the first
 * exceeded one answers 429 with Retry-After. @fastify/rate-limit runs a single limit per request,
 * so its checkers are combined here. These count every request: for sign-in, which must count
 * failures only, see sign-in-limits.ts.
 */
export function attemptLimits(app: FastifyInstance, limits: AttemptLimit[]): preHandlerAsyncHookHandler {
  const checkers = limits.map((limit) =>
    app.createRateLimit({
      max: limit.max,
      timeWindow: limit.timeWindowMs,
      keyGenerator: (request: FastifyRequest) =>
        `${tenantOf(request)}|${(limit.key ?? ((r) => r.ip))(request)}`,
    }),
  )
  return async (request, reply) => {
    for (const check of checkers) {
      const result = await check(request)
      if (!result.isAllowed && result.isExceeded) {
        reply.header('retry-after', result.ttlInSeconds)
        throw new TooManyAttempts()
      }
    }
  }
}
