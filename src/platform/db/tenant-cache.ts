import type { Reader } from './reads.ts'

interface Entry<T> {
  value: Promise<T>
  expires: number
}

/**
 * A value each tenant rarely changes (the current school year), read once and kept per ORM and
 * schema. The feature that changes it calls `invalidate` once its change is flushed; `ttlMs` bounds
 * how long another process (a pod, the CLI) may keep an older value.
 */
export class TenantCache<T> {
  readonly #entries = new WeakMap<object, Map<string, Entry<T>>>()
  readonly #load: (db: Reader) => Promise<T>
  readonly #ttlMs: number

  constructor(load: (db: Reader) => Promise<T>, ttlMs = 60_000) {
    this.#load = load
    this.#ttlMs = ttlMs
  }

  // one cache per ORM: two apps in one process (tests) never share values
  #of(em: Pick<Reader, 'config'>): Map<string, Entry<T>> {
    let entries = this.#entries.get(em.config)
    if (!entries) {
      entries = new Map()
      this.#entries.set(em.config, entries)
    }
    return entries
  }

  get(em: Reader): Promise<T> {
    const schema = em.schema ?? ''
    const entries = this.#of(em)
    const found = entries.get(schema)
    if (found && found.expires > Date.now()) return found.value
    const value = this.#load(em)
    entries.set(schema, { value, expires: Date.now() + this.#ttlMs })
    // a failed read is not kept
    value.catch(() => entries.delete(schema))
    return value
  }

  invalidate(em: Pick<Reader, 'config' | 'schema'>): void {
    this.#of(em).delete(em.schema ?? '')
  }
}
