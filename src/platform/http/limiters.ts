import type { FastifyBaseLogger } from 'fastify'
import { Redis } from 'ioredis'
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible'

export interface LimiterOptions {
  /** Names the counter in Redis: two limits must never share one. */
  name: string
  points: number
  durationSeconds: number
}

/** Makes the counters of one limit: in Redis when the app has one, else in this process's memory. */
export type LimiterFactory = (options: LimiterOptions) => RateLimiterAbstract

export const memoryLimiters: LimiterFactory = ({ points, durationSeconds }) =>
  new RateLimiterMemory({ points, duration: durationSeconds })

/**
 * Limiters counting in Redis, shared by every process, each insured by a counter in memory:
 * while Redis cannot answer, the limits count per process instead of refusing or stalling a
 * sign-in. Commands are never queued while Redis is away and time out quickly, so a dead Redis
 * costs a request at most `commandTimeout`. The outage is logged once, when it starts, and its end
 * once.
 */
export function redisLimiters(
  url: string,
  log: FastifyBaseLogger,
): { limiter: LimiterFactory; connected: Promise<void>; close(): void } {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 1_000,
    commandTimeout: 500,
    // keep trying, at most every 2 s, so the limits are shared again as soon as Redis is back
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  })
  let reachable: boolean | undefined
  let closing = false
  // settled by the first answer, either way
  const { promise: connected, resolve: settled } = Promise.withResolvers<void>()
  const lost = (error?: Error) => {
    settled()
    if (closing || reachable === false) return
    reachable = false
    log.warn(
      { err: error && { message: error.message } },
      'Redis unreachable: attempt limits count per process until it is back',
    )
  }
  client.on('ready', () => {
    settled()
    if (reachable === false) log.info('Redis reachable again: attempt limits are shared by every process')
    reachable = true
  })
  client.on('error', lost)
  client.on('close', () => lost())
  return {
    connected,
    limiter: ({ name, points, durationSeconds }) =>
      new RateLimiterRedis({
        storeClient: client,
        keyPrefix: `tutti:limits:${name}`,
        points,
        duration: durationSeconds,
        // while the connection is down, go straight to the insurance rather than wait for an error
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ points, duration: durationSeconds }),
      }),
    close() {
      closing = true
      client.disconnect()
    },
  }
}
