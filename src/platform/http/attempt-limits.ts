import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import { TooManyAttempts } from './errors.ts'

export interface AttemptLimit {
  max: number
  timeWindowMs: number
  /** What is counted: the client's address by default, or e.g. the identifiant typed. */
  key?: (request: FastifyRequest) => string
}

/**
 * A preHandler enforcing several limits at once (e.g. per address and per identifiant); the first
 * exceeded one answers 429 with Retry-After. @fastify/rate-limit runs a single limit per request,
 * so its checkers are combined here. Limits are temporary windows: nobody can lock an owner out
 * for good by failing on their behalf.
 */
export function attemptLimits(app: FastifyInstance, limits: AttemptLimit[]): preHandlerAsyncHookHandler {
  const checkers = limits.map((limit) =>
    app.createRateLimit({
      max: limit.max,
      timeWindow: limit.timeWindowMs,
      ...(limit.key ? { keyGenerator: limit.key } : {}),
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
