import { hash, verify } from '@node-rs/argon2'
import { performance } from 'node:perf_hooks'
import { memoryOf } from './server.ts'
import { round, type Summary, summarize } from './stats.ts'

/** argon2id parameters as @node-rs/argon2 takes them: memory in KiB, passes, lanes. */
export interface Argon2Setting {
  label: string
  memoryCost: number
  timeCost: number
  parallelism: number
}

export const describeSetting = (x: Argon2Setting) =>
  `m=${x.memoryCost} KiB (${round(x.memoryCost / 1024, 1)} MiB), t=${x.timeCost}, p=${x.parallelism}`

export interface TimedOps {
  count: number
  /** Wall time of the loop. */
  seconds: number
  perSecond: number
  /** Wall time of each call. */
  ms: Summary
  /** CPU time of the whole process (all threads) per call: about ms.mean when one core does the work. */
  cpuMsPerOp: number
}

export interface Argon2Figures {
  setting: Argon2Setting
  hashLength: number
  verify: TimedOps
  hash: TimedOps
}

/**
 * Calls fn one after the other, never two at once, until `seconds` have passed: the cost of one
 * call on one core, since @node-rs/argon2 runs each call on one thread of libuv's pool.
 */
async function sequential(seconds: number, fn: () => Promise<void>): Promise<TimedOps> {
  const times: number[] = []
  const cpuBefore = process.cpuUsage()
  const start = performance.now()
  const deadline = start + seconds * 1000
  while (performance.now() < deadline) {
    const t0 = performance.now()
    await fn()
    times.push(performance.now() - t0)
  }
  const wallS = (performance.now() - start) / 1000
  const cpu = process.cpuUsage(cpuBefore)
  return {
    count: times.length,
    seconds: round(wallS, 3),
    perSecond: round(times.length / wallS, 1),
    ms: summarize(times),
    cpuMsPerOp: round((cpu.user + cpu.system) / 1000 / times.length, 2),
  }
}

/** verify of the right password for `verifySeconds`, then hash for `hashSeconds`, each call after the other. */
export async function timeArgon2(
  setting: Argon2Setting,
  password: string,
  verifySeconds: number,
  hashSeconds: number,
): Promise<Argon2Figures> {
  const options = {
    memoryCost: setting.memoryCost,
    timeCost: setting.timeCost,
    parallelism: setting.parallelism,
  }
  const stored = await hash(password, options)
  // one call outside the measure: the first one pays for page faults the next ones do not
  if (!(await verify(stored, password)))
    throw new Error(`${setting.label}: verify refused the right password`)
  const verifyOps = await sequential(verifySeconds, async () => {
    if (!(await verify(stored, password)))
      throw new Error(`${setting.label}: verify refused the right password`)
  })
  const hashOps = await sequential(hashSeconds, async () => {
    await hash(password, options)
  })
  return { setting, hashLength: stored.length, verify: verifyOps, hash: hashOps }
}

export interface ConcurrentFigures {
  calls: number
  /** UV_THREADPOOL_SIZE as this process sees it (4 when unset). */
  threadpool: number
  wallMs: number
  /** Growth of this process' peak RSS (VmHWM) over the calls. */
  peakGrowthBytes: number
}

/**
 * `calls` verifications started at once in this process, as 20 sign-ins arriving together would
 * start them in the server: how long until all are done, and how much the peak RSS grows. Only
 * UV_THREADPOOL_SIZE of them run at a time; the others wait in libuv's queue without their memory.
 */
export async function concurrentVerify(
  setting: Argon2Setting,
  password: string,
  calls: number,
): Promise<ConcurrentFigures> {
  const options = {
    memoryCost: setting.memoryCost,
    timeCost: setting.timeCost,
    parallelism: setting.parallelism,
  }
  // the peak before any argon2 call of this setting: the hash below counts, as one of the pool's threads
  const before = memoryOf(process.pid).peak
  const stored = await hash(password, options)
  const start = performance.now()
  const results = await Promise.all(Array.from({ length: calls }, () => verify(stored, password)))
  const wallMs = performance.now() - start
  if (!results.every(Boolean)) throw new Error(`${setting.label}: verify refused the right password`)
  return {
    calls,
    threadpool: Number(process.env.UV_THREADPOOL_SIZE) || 4,
    wallMs: round(wallMs, 1),
    peakGrowthBytes: memoryOf(process.pid).peak - before,
  }
}
