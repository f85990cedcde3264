import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import createError from '@fastify/error'
import { Ajv } from 'ajv'

export type Database =
  | { kind: 'postgres'; url: string }
  /** `from`: a dumped data directory (PGlite's `dumpDataDir`) to start from instead of an empty cluster. */
  | { kind: 'pglite'; dataDir: string; from?: Blob }

export interface Config {
  env: 'development' | 'production' | 'test'
  host: string
  port: number
  /** Port of `GET /metrics` (Prometheus), apart from the pages' port; 0 serves no metrics. */
  metricsPort: number
  platformDomain: string
  /** The platform's public origin (scheme, platform domain, port if not the scheme's): mailed links are built on it. */
  publicUrl: string
  dataDir: string
  tenantsDir: string
  database: Database
  sessionSecret: string
  /** AES-256 key that encrypts the IBANs of direct debit mandates at rest (32 bytes). */
  billingKey: Buffer
  smtpUrl: string | undefined
  /** Where the attempt limits are counted, shared by every process; unset: in each process's memory. */
  redisUrl: string | undefined
  logLevel: string
  /** Fastify's trustProxy: which proxies may set X-Forwarded-For (the client address of attempt limits). */
  trustProxy: boolean | number | string
  /**
   * After SIGTERM, how long the server keeps serving with /readyz answering 503, so that the load
   * balancer stops sending traffic before the server stops accepting it.
   */
  shutdownGraceMs: number
  /** How long an upload's body may send nothing before it is abandoned and its slot given back. */
  uploadIdleTimeoutMs: number
}

export const ConfigError = createError('TUTTI_CONFIG_INVALID', 'Invalid environment:\n%s')

const envSchema = {
  type: 'object',
  properties: {
    NODE_ENV: { enum: ['development', 'production', 'test'], default: 'development' },
    HOST: { type: 'string', minLength: 1, default: '0.0.0.0' },
    PORT: { type: 'integer', minimum: 1, maximum: 65535, default: 3000 },
    METRICS_PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 9464 },
    PLATFORM_DOMAIN: {
      type: 'string',
      pattern: '^(?=.{1,200}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$',
      default: 'localhost',
    },
    PUBLIC_URL: { type: 'string', pattern: '^https?://[^/?#@]+/?$' },
    DATA_DIR: { type: 'string', minLength: 1, default: './data' },
    TENANTS_DIR: { type: 'string', minLength: 1, default: './tenants' },
    DATABASE_URL: { type: 'string', pattern: '^postgres(ql)?://' },
    SESSION_SECRET: { type: 'string', minLength: 32 },
    BILLING_KEY: { type: 'string', pattern: '^([0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$' },
    SMTP_URL: { type: 'string', pattern: '^smtps?://' },
    REDIS_URL: { type: 'string', pattern: '^rediss?://' },
    LOG_LEVEL: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
    TRUST_PROXY: {
      type: 'string',
      pattern: '^(false|true|\\d{1,2}|[0-9a-fA-F.:/]+(,[0-9a-fA-F.:/]+)*)$',
      default: 'false',
    },
    SHUTDOWN_GRACE_SECONDS: { type: 'integer', minimum: 0, maximum: 120 },
    UPLOAD_IDLE_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 600_000, default: 10_000 },
  },
} as const

const expectations: Record<string, string> = {
  NODE_ENV: 'one of development, production, test',
  HOST: 'an interface address such as 0.0.0.0',
  PORT: 'an integer between 1 and 65535',
  METRICS_PORT: 'an integer between 0 (no metrics) and 65535',
  PLATFORM_DOMAIN: 'a lowercase domain name such as tutti.example.org',
  PUBLIC_URL: 'the platform’s public origin such as https://tutti.example.org, on PLATFORM_DOMAIN',
  DATA_DIR: 'a directory path',
  TENANTS_DIR: 'a directory path',
  DATABASE_URL: 'a postgres:// connection URL',
  SESSION_SECRET: 'at least 32 characters',
  BILLING_KEY: '32 bytes written as 64 hexadecimal digits or 44 characters of base64',
  SMTP_URL: 'an smtp:// or smtps:// URL',
  REDIS_URL: 'a redis:// or rediss:// URL',
  LOG_LEVEL: 'one of fatal, error, warn, info, debug, trace, silent',
  TRUST_PROXY: 'false, true, a number of proxy hops, or proxy addresses/CIDRs separated by commas',
  SHUTDOWN_GRACE_SECONDS: 'an integer number of seconds between 0 and 120',
  UPLOAD_IDLE_TIMEOUT_MS: 'an integer number of milliseconds between 100 and 600000',
}

const validateEnv = new Ajv({ allErrors: true, coerceTypes: true, useDefaults: true }).compile(envSchema)

/** Reads the environment once; a bad value stops the process with the variable's name and what is expected. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const values: Record<string, unknown> = {}
  for (const key of Object.keys(envSchema.properties)) {
    if (env[key] !== undefined && env[key] !== '') values[key] = env[key]
  }
  if (!validateEnv(values)) {
    const problems = [
      ...new Set(
        (validateEnv.errors ?? []).map((e) => {
          const name = e.instancePath.slice(1)
          return `  ${name} must be ${expectations[name]} (got ${JSON.stringify(env[name])})`
        }),
      ),
    ]
    throw new ConfigError(problems.join('\n'))
  }
  const nodeEnv = values.NODE_ENV as Config['env']
  const dataDir = resolve(values.DATA_DIR as string)
  if (nodeEnv === 'production' && !values.SESSION_SECRET) {
    throw new ConfigError('  SESSION_SECRET must be set in production (at least 32 characters)')
  }
  if (nodeEnv === 'production' && !values.BILLING_KEY) {
    throw new ConfigError('  BILLING_KEY must be set in production (32 bytes, e.g. openssl rand -base64 32)')
  }
  const platformDomain = values.PLATFORM_DOMAIN as string
  return {
    env: nodeEnv,
    host: values.HOST as string,
    port: values.PORT as number,
    metricsPort: values.METRICS_PORT as number,
    platformDomain,
    publicUrl: publicOrigin(
      values.PUBLIC_URL as string | undefined,
      nodeEnv,
      platformDomain,
      values.PORT as number,
    ),
    dataDir,
    tenantsDir: resolve(values.TENANTS_DIR as string),
    database: values.DATABASE_URL
      ? { kind: 'postgres', url: values.DATABASE_URL as string }
      : { kind: 'pglite', dataDir: join(dataDir, 'pglite') },
    sessionSecret: (values.SESSION_SECRET as string | undefined) ?? keptSecret(dataDir),
    billingKey: values.BILLING_KEY ? keyOf(values.BILLING_KEY as string) : keptKey(dataDir),
    smtpUrl: values.SMTP_URL as string | undefined,
    redisUrl: values.REDIS_URL as string | undefined,
    logLevel: values.LOG_LEVEL as string,
    trustProxy: parseTrustProxy(values.TRUST_PROXY as string),
    // nothing routes traffic through a load balancer outside production: stop at once there
    shutdownGraceMs:
      ((values.SHUTDOWN_GRACE_SECONDS as number | undefined) ?? (nodeEnv === 'production' ? 5 : 0)) * 1000,
    uploadIdleTimeoutMs: values.UPLOAD_IDLE_TIMEOUT_MS as number,
  }
}

/**
 * PUBLIC_URL's origin, on the platform domain itself (a link built on another domain would send
 * families elsewhere); by default https in production and the listening port otherwise.
 */
function publicOrigin(
  value: string | undefined,
  env: Config['env'],
  platformDomain: string,
  port: number,
): string {
  if (!value) return env === 'production' ? `https://${platformDomain}` : `http://${platformDomain}:${port}`
  const url = new URL(value)
  if (url.hostname !== platformDomain) {
    throw new ConfigError(
      `  PUBLIC_URL must be on PLATFORM_DOMAIN ${platformDomain} (got ${JSON.stringify(value)})`,
    )
  }
  return url.origin
}

/** Outside production a secret is generated once and kept in DATA_DIR so sessions survive restarts. */
function keptSecret(dataDir: string): string {
  const file = join(dataDir, 'session-secret')
  try {
    return readFileSync(file, 'utf8').trim()
  } catch {
    mkdirSync(dataDir, { recursive: true })
    const secret = randomBytes(32).toString('base64url')
    writeFileSync(file, secret, { mode: 0o600, flag: 'wx' })
    return secret
  }
}

const keyOf = (value: string) => Buffer.from(value, value.length === 64 ? 'hex' : 'base64')

/**
 * Outside production the billing key is generated once and kept in DATA_DIR, like the session
 * secret: the IBANs encrypted with it stay readable across restarts.
 */
function keptKey(dataDir: string): Buffer {
  const file = join(dataDir, 'billing-key')
  try {
    return keyOf(readFileSync(file, 'utf8').trim())
  } catch {
    mkdirSync(dataDir, { recursive: true })
    const key = randomBytes(32).toString('base64')
    writeFileSync(file, key, { mode: 0o600, flag: 'wx' })
    return keyOf(key)
  }
}

function parseTrustProxy(value: string): boolean | number | string {
  if (value === 'false') return false
  if (value === 'true') return true
  return /^\d+$/.test(value) ? Number(value) : value
}
