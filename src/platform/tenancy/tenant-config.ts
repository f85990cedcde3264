import { readdirSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import createError from '@fastify/error'
import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import { type Document, isMap, LineCounter, type Node, parseDocument } from 'yaml'
import schema from '../../../config/tenant.schema.json' with { type: 'json' }
import { describeSchemaError, describeSyntaxError, type ProblemCode, problemText } from './config-problems.ts'
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
  code: ProblemCode
  params?: Record<string, string | number>
  /** In English, for the boot, the CLI and the logs; pages show `problemText(problem, t)`. */
  message: string
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.file}: ${p.path || '(root)'}${p.line ? ` (line ${p.line})` : ''}: ${p.message}`
}

function problem(
  file: string,
  path: string,
  line: number | undefined,
  described: Pick<ConfigProblem, 'code' | 'params'>,
): ConfigProblem {
  return { file, path, line, ...described, message: problemText(described) }
}

// the text each configuration was read from, comments included: it seeds the first stored version
const sources = new WeakMap<TenantConfig, string>()

/** The YAML text a configuration was parsed from, if it was parsed from one. */
export function sourceOf(config: TenantConfig): string | undefined {
  return sources.get(config)
}

/** The line of a key of a parsed document: the key's line, or the nearest ancestor's when absent. */
function lineFinder(doc: Document, lineCounter: LineCounter) {
  return (segments: (string | number)[]): number | undefined => {
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
}

/** The line of a key in a YAML text (for problems found after parsing, such as data in use). */
export function lineOfPath(text: string, segments: (string | number)[]): number | undefined {
  const lineCounter = new LineCounter()
  return lineFinder(parseDocument(text, { lineCounter }), lineCounter)(segments)
}

/** Parses and validates one tenant file; every problem is reported with its YAML path and line. */
export function parseTenantConfig(
  file: string,
  text: string,
): { config?: TenantConfig; problems: ConfigProblem[] } {
  const name = basename(file)
  // YAML forbids them, the parser lets some through, and a page would print them
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
  const control = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/.exec(text)
  if (control) {
    const line = text.slice(0, control.index).split('\n').length
    return { problems: [problem(name, '', line, { code: 'controlCharacter' })] }
  }
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false })
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((e) =>
        problem(name, '', lineCounter.linePos(e.pos[0]).line, describeSyntaxError(e.code, e.message)),
      ),
    }
  }
  const lineOf = lineFinder(doc, lineCounter)
  let data: unknown
  try {
    data = doc.toJS()
  } catch {
    // the parser lets through an alias (*name) whose anchor (&name) is missing or comes after it
    return { problems: [problem(name, '', undefined, { code: 'yaml.alias' })] }
  }
  const problems: ConfigProblem[] = []
  if (!validate(data)) {
    const seen = new Set<string>()
    for (const error of validate.errors ?? []) {
      // oneOf branches repeat each other's errors; one line per path and message is enough
      if (error.keyword === 'oneOf' || error.keyword === 'if') continue
      const { segments, ...described } = describeSchemaError(error)
      const found = problem(name, segments.join('.'), lineOf(segments), described)
      const key = formatProblem(found)
      if (!seen.has(key)) {
        seen.add(key)
        problems.push(found)
      }
    }
    return { problems }
  }
  const config = data as TenantConfig
  const expected = name.replace(/\.ya?ml$/, '')
  if (config.slug !== expected) {
    problems.push(problem(name, 'slug', lineOf(['slug']), { code: 'fileName', params: { expected } }))
  }
  for (const { path, code, params } of crossCheck(config)) {
    problems.push(problem(name, path.join('.'), lineOf(path), { code, params }))
  }
  // the minimum length's default depends on the rule, which JSON Schema defaults cannot say
  config.passwordPolicy.minLength ??= config.passwordPolicy.rule === 'imuse' ? 8 : 12
  const hostnames = new Set<string>()
  for (const [i, host] of config.hosts.entries()) {
    if (hostnames.has(host)) {
      problems.push(problem(name, `hosts.${i}`, lineOf(['hosts', i]), { code: 'listedTwice' }))
    }
    hostnames.add(host)
  }
  if (problems.length > 0) return { problems }
  sources.set(config, text)
  return { config, problems }
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
        problems.push(
          problem(`${config.slug}.yaml`, 'hosts', undefined, { code: 'hostTaken', params: { host, owner } }),
        )
      }
      hostOwners.set(host, config.slug)
    }
  }
  if (problems.length > 0) throw new TenantConfigError(problems.map(formatProblem).join('\n'))
  return configs
}
