import type { Em } from './orm.ts'

const memos = new WeakMap<Em, Map<string, Promise<unknown>>>()

/**
 * Reads a value once per EntityManager, that is once per request (each request has its own fork):
 * for what several parts of a page ask again (the family of the signed-in account, the current
 * school year) and what the request does not change. A transaction's own fork reads afresh.
 */
export function oncePerEm<T>(em: Em, key: string, read: () => Promise<T>): Promise<T> {
  let memo = memos.get(em)
  if (!memo) {
    memo = new Map()
    memos.set(em, memo)
  }
  let value = memo.get(key) as Promise<T> | undefined
  if (!value) {
    value = read()
    memo.set(key, value)
    // a failed read is not remembered
    value.catch(() => memo.delete(key))
  }
  return value
}
