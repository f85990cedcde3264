/**
 * Preloaded into the benchmarked server (`--import`): counts the statements sent to Postgres (every
 * `pg` client query: selects, writes, begin and commit) by the HTTP request that sent them, and
 * writes the counts to BENCH_QUERY_COUNT when the process exits. Requests are keyed as
 * harness/request-key.ts says (method, path with numbers replaced by `:id`, a `page` parameter).
 * Run with --experimental-async-context-frame, so that the AsyncLocalStorage it needs does not cost
 * the server a promise hook on every await.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { writeFileSync } from 'node:fs'
import { type IncomingMessage, Server } from 'node:http'
import pg from 'pg'
import { requestKey } from './request-key.ts'

export interface QueryCounts {
  /** Requests and statements by request key; statements outside any request under "(no request)". */
  byRequest: Record<string, { requests: number; queries: number }>
}

const out = process.env.BENCH_QUERY_COUNT
if (out) {
  const current = new AsyncLocalStorage<{ requests: number; queries: number }>()
  const byRequest: QueryCounts['byRequest'] = {}
  const entry = (key: string) => {
    byRequest[key] ??= { requests: 0, queries: 0 }
    return byRequest[key]
  }
  const outside = entry('(no request)')

  const query = pg.Client.prototype.query
  pg.Client.prototype.query = function (this: unknown, ...args: unknown[]) {
    ;(current.getStore() ?? outside).queries++
    return query.apply(this, args)
  }

  const emit = Server.prototype.emit
  Server.prototype.emit = function (this: Server, event: string | symbol, ...args: unknown[]) {
    if (event !== 'request') return emit.apply(this, [event, ...args] as never)
    const request = args[0] as IncomingMessage
    const counts = entry(requestKey(request.method ?? '', request.url ?? ''))
    counts.requests++
    return current.run(counts, () => emit.apply(this, [event, ...args] as never))
  }

  process.on('exit', () => writeFileSync(out, JSON.stringify({ byRequest } satisfies QueryCounts)))
}
