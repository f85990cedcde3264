import autocannon, { type Result } from 'autocannon'
import { parse } from 'node-html-parser'
import { type CpuShare, cpuWatch } from './common.ts'
import { type LoadRun, loadFigures } from './load.ts'
import { psql } from './postgres.ts'
import { get, send, threadCpuOf } from './server.ts'

/** The family sign-in page and where a family lands after it. */
export const signInPath = '/connexion'
export const familyLanding = '/accueil'

/** `famille-0001`…: the identifiants of the accounts the load signs in with. */
export function familyIdentifiants(count: number): string[] {
  const width = Math.max(4, String(count).length)
  return Array.from({ length: count }, (_, i) => `famille-${String(i + 1).padStart(width, '0')}`)
}

/**
 * Inserts one family account per identifiant straight into the tenant's schema, all with the same
 * password hash: one hash made once, since a verification costs the same whoever's hash it is.
 */
export function insertFamilies(
  serverUrl: string,
  database: string,
  schema: string,
  identifiants: string[],
  passwordHash: string,
): number {
  if (!/^tenant_[a-z0-9_]+$/.test(schema)) throw new Error(`refusing schema "${schema}"`)
  if (!/^\$argon2id\$[A-Za-z0-9$=,+/]+$/.test(passwordHash)) throw new Error('not an argon2id PHC string')
  if (!identifiants.every((i) => /^[a-z0-9-]+$/.test(i))) throw new Error('unexpected identifiant')
  const values = identifiants.map((i) => `('${i}')`).join(',')
  psql(
    serverUrl,
    `insert into "${schema}".account (created_at, updated_at, identifiant, role, email, display_name, password_hash)
     select now(), now(), v.identifiant, 'family', v.identifiant || '@example.org', 'Famille ' || v.identifiant, '${passwordHash}'
     from (values ${values}) as v(identifiant)`,
    database,
  )
  return Number(psql(serverUrl, `select count(*) from "${schema}".account where role = 'family'`, database))
}

export interface Csrf {
  /** The form's `_csrf` value. */
  token: string
  /** `name=value` of the signed secret cookie the token belongs to. */
  cookie: string
}

/**
 * GET the sign-in page as a browser would and keep its CSRF token and secret cookie. The token stays
 * valid for as long as that cookie is sent with it, so one pair serves every request of the load.
 */
export async function fetchCsrf(port: number, host: string): Promise<Csrf> {
  const page = await get(port, signInPath, host)
  if (page.status !== 200) throw new Error(`GET ${signInPath} on ${host}: status ${page.status}`)
  const token = parse(page.body)
    .querySelector(`form[action="${signInPath}"] input[name="_csrf"]`)
    ?.getAttribute('value')
  const setCookie = page.headers['set-cookie'] ?? []
  const cookie = setCookie.map((c) => c.split(';')[0]!).find((c) => /^(__Host-)?tutti_csrf=/.test(c))
  if (!token || !cookie)
    throw new Error(`GET ${signInPath} on ${host}: no CSRF token or no tutti_csrf cookie`)
  return { token, cookie }
}

/**
 * Hands out identifiants round-robin and a new client address per request. The sign-in route
 * counts 10 attempts per identifiant and 30 per address in 15 minutes, and both limits stay on:
 * the load looks like many families signing in from their own homes, each once or twice.
 */
export class Rotation {
  readonly identifiants: string[]
  readonly maxPerIdentifiant: number
  /** Identifiants handed out, including requests autocannon built but never sent. */
  handedOut = 0
  addresses = 0
  /** Unknown identifiants handed out (`inconnu-…`): they exist in no account. */
  unknown = 0

  constructor(identifiants: string[], maxPerIdentifiant: number) {
    this.identifiants = identifiants
    this.maxPerIdentifiant = maxPerIdentifiant
  }

  /** How many more identifiants may be handed out without any going past its limit. */
  get remaining(): number {
    return this.identifiants.length * this.maxPerIdentifiant - this.handedOut
  }

  /** The most attempts any one identifiant has been given so far. */
  get maxUses(): number {
    return Math.ceil(this.handedOut / this.identifiants.length)
  }

  get distinctUsed(): number {
    return Math.min(this.handedOut, this.identifiants.length)
  }

  identifiant(): string {
    if (this.remaining <= 0) throw new Error('every identifiant has had its attempts')
    return this.identifiants[this.handedOut++ % this.identifiants.length]!
  }

  unknownIdentifiant(): string {
    return `inconnu-${String(++this.unknown).padStart(6, '0')}`
  }

  /** 198.18.0.0/15, the range RFC 2544 sets aside for benchmarks: 131,072 addresses. */
  static readonly addressCount = 131_070

  get addressesLeft(): number {
    return Rotation.addressCount - this.addresses
  }

  address(): string {
    if (this.addressesLeft <= 0) throw new Error('no client address left')
    const n = ++this.addresses
    return `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`
  }
}

export type SignInKind = 'valid' | 'wrong-password' | 'unknown-identifiant'

export const signInKinds: Record<SignInKind, { expected: string; description: string }> = {
  valid: { expected: `303 to ${familyLanding}`, description: 'right password' },
  'wrong-password': { expected: '401', description: 'wrong password of an existing family' },
  'unknown-identifiant': { expected: '401', description: 'identifiant of no account' },
}

export interface SignInForm {
  host: string
  csrf: Csrf
  password: string
  kind: SignInKind
}

/** The form a browser posts, its headers and the response it must get. */
function attempt(form: SignInForm, rotation: Rotation) {
  const identifiant =
    form.kind === 'unknown-identifiant' ? rotation.unknownIdentifiant() : rotation.identifiant()
  const password = form.kind === 'wrong-password' ? `${form.password} ?` : form.password
  return {
    headers: {
      host: form.host,
      cookie: form.csrf.cookie,
      'content-type': 'application/x-www-form-urlencoded',
      'accept-language': 'fr',
      // the server trusts 127.0.0.1 as its proxy (TRUST_PROXY): this is the client address the limits count
      'x-forwarded-for': rotation.address(),
    },
    body: new URLSearchParams({ _csrf: form.csrf.token, retour: '/', identifiant, password }).toString(),
  }
}

/** Whether a response is the one expected of its kind: 303 to the landing page with a session cookie, or 401. */
export function expectedResponse(
  kind: SignInKind,
  status: number,
  headers: Record<string, string | string[] | undefined>,
): boolean {
  if (kind !== 'valid') return status === 401
  const cookies = ([] as string[]).concat(headers['set-cookie'] ?? [])
  return (
    status === 303 &&
    headers.location === familyLanding &&
    cookies.some((c) => /^(__Host-)?tutti_session=/.test(c))
  )
}

export interface SignInLoadOptions {
  port: number
  /** The server's process, whose CPU time is read before and after the run. */
  pid: number
  form: SignInForm
  rotation: Rotation
  connections: number
  durationS: number
}

export interface SignInRun extends LoadRun {
  kind: SignInKind
  /** Responses other than the expected one (wrong status, no redirect to the landing, no session cookie). */
  unexpected: number
  unexpectedSamples: string[]
  /** The run ended early because the identifiants or the addresses ran out: a harness failure. */
  stoppedEarly: boolean
  /** figures.serverCpuMs by thread: main (JS), pool (libuv, where argon2 runs), other (V8's GC…). */
  serverCpuSplitMs: { main: number; pool: number; other: number }
  /** The machine's CPU over the run: the server's share is figures.serverCpuMs, the rest is Postgres and others. */
  cpu: CpuShare
}

/**
 * One autocannon run posting sign-ins: every request a new identifiant (round-robin) and a new
 * client address, the same CSRF pair. Latencies are kept for the expected responses only; the
 * others are counted and a few described.
 */
export async function signInLoad(options: SignInLoadOptions): Promise<SignInRun> {
  const { form, rotation } = options
  // requests autocannon may build ahead of sending them, so the limits hold even then
  const reserve = options.connections * 2
  let stoppedEarly = false
  let unexpected = 0
  const unexpectedSamples: string[] = []
  let lastExpected = false
  const cpuBefore = threadCpuOf(options.pid)
  const watch = cpuWatch()
  const instance = autocannon({
    url: `http://127.0.0.1:${options.port}`,
    connections: options.connections,
    duration: options.durationS,
    pipelining: 1,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: signInPath,
        setupRequest: (request) => {
          if (!stoppedEarly && (rotation.remaining < reserve || rotation.addressesLeft < reserve)) {
            stoppedEarly = true
            setImmediate(() => instance.stop())
          }
          const { headers, body } = attempt(form, rotation)
          return { ...request, headers: { ...request.headers, ...headers }, body }
        },
        onResponse: (status, _body, _context, headers) => {
          lastExpected = expectedResponse(form.kind, status, headers)
          if (!lastExpected) {
            unexpected++
            if (unexpectedSamples.length < 5)
              unexpectedSamples.push(`status ${status}, location ${headers.location ?? '-'}`)
          }
        },
      },
    ],
  })
  const latencies: number[] = []
  // autocannon calls onResponse, then emits 'response' for the same response, synchronously
  instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTimeMs: number) => {
    if (lastExpected) latencies.push(responseTimeMs)
  })
  const result: Result = await instance
  const cpu = watch()
  const cpuAfter = threadCpuOf(options.pid)
  const serverCpuMs = cpuAfter.total - cpuBefore.total
  const main = cpuAfter.main - cpuBefore.main
  const pool = cpuAfter.pool - cpuBefore.pool
  return {
    kind: form.kind,
    figures: loadFigures(result, latencies, serverCpuMs, {
      connections: options.connections,
      hosts: 1,
      hostsHit: 1,
    }),
    latencies,
    hostsSent: new Set([form.host]),
    unexpected,
    unexpectedSamples,
    stoppedEarly,
    serverCpuSplitMs: { main, pool, other: serverCpuMs - main - pool },
    cpu,
  }
}

/** One sign-in posted with node:http, outside any load: its status and where it redirects. */
export async function signInOnce(
  port: number,
  form: SignInForm,
  rotation: Rotation,
  address?: string,
): Promise<{ status: number; location: string | undefined; expected: boolean }> {
  const { headers, body } = attempt(form, rotation)
  const res = await send(port, {
    method: 'POST',
    path: signInPath,
    host: form.host,
    headers: { ...headers, ...(address ? { 'x-forwarded-for': address } : {}) },
    body,
    timeoutMs: 30_000,
  })
  const location = typeof res.headers.location === 'string' ? res.headers.location : undefined
  return { status: res.status, location, expected: expectedResponse(form.kind, res.status, res.headers) }
}

export interface LimitCheck {
  limit: string
  /** Statuses of the attempts, in order, run-length encoded: "401 ×30, 429 ×1". */
  statuses: string
  /** The attempt after `max` answered 429, the ones before did not. */
  enforced: boolean
}

const runLength = (statuses: number[]) =>
  statuses
    .reduce<[number, number][]>((runs, s) => {
      const last = runs.at(-1)
      if (last && last[0] === s) last[1]++
      else runs.push([s, 1])
      return runs
    }, [])
    .map(([s, n]) => `${s} ×${n}`)
    .join(', ')

/**
 * The two sign-in limits are on: `max` + 1 wrong attempts from one address (each for another
 * identifiant), then `max` + 1 for one identifiant (each from another address).
 */
export async function checkLimits(
  port: number,
  form: SignInForm,
  rotation: Rotation,
  perAddress: number,
  perIdentifiant: number,
): Promise<LimitCheck[]> {
  const wrong = { ...form, kind: 'wrong-password' as const }
  const address = '192.0.2.1'
  const byAddress: number[] = []
  for (let i = 0; i <= perAddress; i++)
    byAddress.push((await signInOnce(port, wrong, rotation, address)).status)
  const one = new Rotation(['limite-identifiant'], perIdentifiant + 1)
  // the addresses continue after the load's, so none of them has been counted yet
  one.addresses = rotation.addresses
  const byIdentifiant: number[] = []
  for (let i = 0; i <= perIdentifiant; i++) byIdentifiant.push((await signInOnce(port, wrong, one)).status)
  rotation.addresses = one.addresses
  const enforced = (statuses: number[], max: number) =>
    statuses.slice(0, max).every((s) => s === 401) && statuses[max] === 429
  return [
    {
      limit: `${perAddress} per address`,
      statuses: runLength(byAddress),
      enforced: enforced(byAddress, perAddress),
    },
    {
      limit: `${perIdentifiant} per identifiant`,
      statuses: runLength(byIdentifiant),
      enforced: enforced(byIdentifiant, perIdentifiant),
    },
  ]
}
