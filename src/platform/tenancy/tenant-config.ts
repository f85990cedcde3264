import { readdirSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import createError from '@fastify/error'
import { Ajv, type ErrorObject } from 'ajv'
import addFormats from 'ajv-formats'
import { isMap, LineCounter, type Node, parseDocument } from 'yaml'
import schema from '../../../config/tenant.schema.json' with { type: 'json' }
import { crossCheck } from './tenant-config-rules.ts'
import type { TenantConfig } from './tenant-config-types.ts'

export type { TenantConfig }

export const TenantConfigError = createError(
  'TUTTI_TENANT_CONFIG_INVALID',
  'Invalid tenant configuration:\n%s',
)

/** Slugs become host labels and schema names (`tenant_<slug>`); checked where they enter the system. */
export const slugPattern = /^[a-z][a-z0-9-]{1,39}$/

/** A period bound: a date, a local date-time, or a date relative to today (for demos). */
export const datetimePattern = /^(\d{4}-\d{2}-\d{2}(T\d{2}:\d{2})?|today([+-]\d{1,4})?)$/

function isValidDatetime(value: string): boolean {
  if (!datetimePattern.test(value)) return false
  if (value.startsWith('today')) return true
  const [datePart, timePart] = value.split('T') as [string, string | undefined]
  const [y, m, d] = datePart.split('-').map(Number) as [number, number, number]
  const date = new Date(Date.UTC(y, m - 1, d))
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return false
  if (!timePart) return true
  const [h, min] = timePart.split(':').map(Number) as [number, number]
  return h < 24 && min < 60
}

function isTimezone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value })
    return true
  } catch {
    return false
  }
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true })
addFormats.default(ajv, ['email', 'uri', 'date'])
ajv.addFormat('tutti-datetime', { type: 'string', validate: isValidDatetime })
ajv.addFormat('tutti-timezone', { type: 'string', validate: isTimezone })
const validate = ajv.compile<TenantConfig>(schema)

export interface ConfigProblem {
  file: string
  path: string
  line: number | undefined
  message: string
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.file}: ${p.path || '(root)'}${p.line ? ` (line ${p.line})` : ''}: ${p.message}`
}

function describe(error: ErrorObject): { segments: (string | number)[]; message: string } {
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s))
  switch (error.keyword) {
    case 'additionalProperties':
      return {
        segments: [...segments, error.params.additionalProperty as string],
        message: `unknown key "${error.params.additionalProperty}"`,
      }
    case 'required':
      return { segments, message: `missing required key "${error.params.missingProperty}"` }
    case 'enum':
      return {
        segments,
        message: `must be one of: ${(error.params.allowedValues as unknown[]).map(String).join(', ')}`,
      }
    case 'format':
      return {
        segments,
        message:
          error.params.format === 'tutti-datetime'
            ? 'must be a real date YYYY-MM-DD, a local date-time YYYY-MM-DDTHH:mm, or today, today+N, today-N'
            : error.params.format === 'tutti-timezone'
              ? 'must be an IANA timezone such as Europe/Paris'
              : `must be a valid ${error.params.format}`,
      }
    default:
      return { segments, message: error.message ?? 'is invalid' }
  }
}

/** Parses and validates one tenant file; every problem is reported with its YAML path and line. */
export function parseTenantConfig(
  file: string,
  text: string,
): { config?: TenantConfig; problems: ConfigProblem[] } {
  const name = basename(file)
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false })
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((e) => ({
        file: name,
        path: '',
        line: lineCounter.linePos(e.pos[0]).line,
        message: `YAML syntax error: ${e.message.split('\n')[0]}`,
      })),
    }
  }
  const lineOf = (segments: (string | number)[]): number | undefined => {
    // the key's line for an unknown key, the value's line otherwise; the nearest ancestor's when absent
    for (let n = segments.length; n >= 0; n--) {
      const parentPath = segments.slice(0, n - 1)
      const last = segments[n - 1]
      const parent = n === 0 ? doc.contents : doc.getIn(parentPath, true)
      let node: Node | undefined | null = n === 0 ? doc.contents : undefined
      if (n > 0 && isMap(parent)) {
        const pair = parent.items.find((item) => (item.key as { value?: unknown } | null)?.value === last)
        node = (pair?.key as Node | undefined) ?? undefined
      } else if (n > 0) {
        node = doc.getIn([...parentPath, last as string | number], true) as Node | undefined
      }
      if (node?.range) return lineCounter.linePos(node.range[0]).line
    }
    return undefined
  }
  const data = doc.toJS() as unknown
  const problems: ConfigProblem[] = []
  if (!validate(data)) {
    const seen = new Set<string>()
    for (const error of validate.errors ?? []) {
      // oneOf branches repeat each other's errors; one line per path and message is enough
      if (error.keyword === 'oneOf' || error.keyword === 'if') continue
      const { segments, message } = describe(error)
      const problem = { file: name, path: segments.join('.'), line: lineOf(segments), message }
      const key = formatProblem(problem)
      if (!seen.has(key)) {
        seen.add(key)
        problems.push(problem)
      }
    }
    return { problems }
  }
  const config = data as TenantConfig
  const expected = name.replace(/\.ya?ml$/, '')
  if (config.slug !== expected) {
    problems.push({
      file: name,
      path: 'slug',
      line: lineOf(['slug']),
      message: `must be "${expected}", the file's name`,
    })
  }
  for (const problem of crossCheck(config)) {
    problems.push({
      file: name,
      path: problem.path.join('.'),
      line: lineOf(problem.path),
      message: problem.message,
    })
  }
  // the minimum length's default depends on the rule, which JSON Schema defaults cannot say
  config.passwordPolicy.minLength ??= config.passwordPolicy.rule === 'imuse' ? 8 : 12
  const hostnames = new Set<string>()
  for (const [i, host] of config.hosts.entries()) {
    if (hostnames.has(host)) {
      problems.push({
        file: name,
        path: `hosts.${i}`,
        line: lineOf(['hosts', i]),
        message: 'is listed twice',
      })
    }
    hostnames.add(host)
  }
  return problems.length > 0 ? { problems } : { config, problems }
}

/** Loads every `*.yaml` of a directory; any problem in any file stops everything, all problems listed. */
export function loadTenantConfigs(dir: string): TenantConfig[] {
  let files: string[]
  try {
    files = readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()
  } catch (error) {
    throw new TenantConfigError(`${dir}: cannot read the tenants directory (${(error as Error).message})`)
  }
  const configs: TenantConfig[] = []
  const problems: ConfigProblem[] = []
  for (const file of files) {
    const result = parseTenantConfig(file, readFileSync(join(dir, file), 'utf8'))
    problems.push(...result.problems)
    if (result.config) configs.push(result.config)
  }
  const hostOwners = new Map<string, string>()
  for (const config of configs) {
    for (const host of config.hosts) {
      const owner = hostOwners.get(host)
      if (owner) {
        problems.push({
          file: `${config.slug}.yaml`,
          path: 'hosts',
          line: undefined,
          message: `host ${host} is already used by ${owner}`,
        })
      }
      hostOwners.set(host, config.slug)
    }
  }
  if (problems.length > 0) throw new TenantConfigError(problems.map(formatProblem).join('\n'))
  return configs
}
