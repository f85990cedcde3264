import { setTimeout as sleep } from 'node:timers/promises'
import type { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible'
import { type LimiterFactory, memoryLimiters } from './limiters.ts'

/** Who is trying: the tenant, the identifiant typed (normalized) and the client's address. */
export interface Attempt {
  tenant: string
  identifiant: string
  address: string
}

export interface SignInLimitSettings {
  /** Failed sign-ins of one identifiant from one address before that pair waits. */
  perIdentifiantAndAddress: number
  /** Failed sign-ins from one address, whatever the identifiant, before the address waits. */
  perAddress: number
  /** Failed sign-ins of one identifiant from anywhere before each further try is slowed down. */
  perIdentifiant: number
  windowSeconds: number
  /** Added wait per failure past `perIdentifiant`, up to `maxDelayMs`. */
  delayStepMs: number
  maxDelayMs: number
}

const defaults: SignInLimitSettings = {
  perIdentifiantAndAddress: 10,
  perAddress: 30,
  perIdentifiant: 50,
  windowSeconds: 15 * 60,
  delayStepMs: 500,
  maxDelayMs: 5_000,
}

/**
 * Sign-in limits that count failures only, so a right password is never what trips them, and
 * that a stranger cannot turn against an owner: the blocking limits are per address (with the
 * identifiant, or alone), so failures from elsewhere never block the owner's own device. What
 * spans addresses, the per-identifiant ceiling, slows tries down instead of refusing them
 * (docs/decisions.md, "Rate limits"). Every key carries the tenant: one conservatoire's limits
 * never touch another's. The counters are the app's (`app.limiter`): in Redis, shared by every
 * process, when REDIS_URL is set.
 */
export class SignInLimits {
  readonly #settings: SignInLimitSettings
  readonly #pair: RateLimiterAbstract
  readonly #address: RateLimiterAbstract
  readonly #identifiant: RateLimiterAbstract

  constructor(limiter: LimiterFactory = memoryLimiters, settings: Partial<SignInLimitSettings> = {}) {
    this.#settings = { ...defaults, ...settings }
    const { windowSeconds: durationSeconds } = this.#settings
    const points = (name: string, points: number) =>
      limiter({ name: `sign-in:${name}`, points, durationSeconds })
    this.#pair = points('pair', this.#settings.perIdentifiantAndAddress)
    this.#address = points('address', this.#settings.perAddress)
    this.#identifiant = points('identifiant', this.#settings.perIdentifiant)
  }

  /**
   * Before the password is checked: the seconds to wait when this address, or this identifiant
   * from this address, failed too often; otherwise nothing, after the slow-down the
   * identifiant's failures from everywhere call for.
   */
  async admit(attempt: Attempt): Promise<{ retryAfterSeconds: number } | undefined> {
    const keys = keysOf(attempt)
    const [pair, address, identifiant] = await Promise.all([
      this.#pair.get(keys.pair),
      this.#address.get(keys.address),
      this.#identifiant.get(keys.identifiant),
    ])
    const blocked = [
      exhausted(pair, this.#settings.perIdentifiantAndAddress),
      exhausted(address, this.#settings.perAddress),
    ].filter((seconds) => seconds !== undefined)
    if (blocked.length > 0) return { retryAfterSeconds: Math.max(...blocked) }
    const over = (identifiant?.consumedPoints ?? 0) - this.#settings.perIdentifiant
    if (over >= 0) {
      await sleep(Math.min(this.#settings.maxDelayMs, (over + 1) * this.#settings.delayStepMs))
    }
    return undefined
  }

  async failed(attempt: Attempt): Promise<void> {
    const keys = keysOf(attempt)
    await Promise.all([
      this.#pair.penalty(keys.pair),
      this.#address.penalty(keys.address),
      this.#identifiant.penalty(keys.identifiant),
    ])
  }

  /** The owner proved who they are: their own address starts afresh for this identifiant. */
  async succeeded(attempt: Attempt): Promise<void> {
    await this.#pair.delete(keysOf(attempt).pair)
  }
}

function keysOf({ tenant, identifiant, address }: Attempt) {
  return {
    pair: `${tenant}|${identifiant}|${address}`,
    address: `${tenant}|${address}`,
    identifiant: `${tenant}|${identifiant}`,
  }
}

function exhausted(result: RateLimiterRes | null, points: number): number | undefined {
  if (!result || result.consumedPoints < points) return undefined
  return Math.max(1, Math.ceil(result.msBeforeNext / 1000))
}
