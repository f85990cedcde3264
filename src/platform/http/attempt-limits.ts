import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import { RateLimiterRes } from 'rate-limiter-flexible'
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
 * exceeded one answers 429 with Retry-After. `name` names the counters, shared by every process
 * through Redis when there is one: each call needs its own. These count every request: for
 * sign-in, which must count failures only, see sign-in-limits.ts.
 */
export function attemptLimits(
  app: FastifyInstance,
  name: string,
  limits: AttemptLimit[],
): preHandlerAsyncHookHandler {
  const checkers = limits.map((limit, i) => ({
    limiter: app.limiter({
      name: `${name}:${i}`,
      points: limit.max,
      durationSeconds: Math.ceil(limit.timeWindowMs / 1000),
    }),
    key: limit.key ?? ((request: FastifyRequest) => request.ip),
  }))
  return async (request, reply) => {
    for (const { limiter, key } of checkers) {
      try {
        await limiter.consume(`${tenantOf(request)}|${key(request)}`)
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw error
        reply.header('retry-after', Math.max(1, Math.ceil(error.msBeforeNext / 1000)))
        throw new TooManyAttempts()
      }
    }
  }
}
