import type { ErrorObject } from 'ajv'
import { type MessageKey, type Translate, translator } from '../views/i18n.ts'

/** A problem of a tenant file: a `configProblem.*` message of the catalogue. */
type CodeOf<Key> = Key extends `configProblem.${infer Code}` ? Code : never
export type ProblemCode = CodeOf<MessageKey>

export interface Described {
  segments: (string | number)[]
  code: ProblemCode
  params?: Record<string, string | number>
}

const types = new Set(['string', 'integer', 'number', 'boolean', 'array', 'object'])
const limits = new Set([
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
])
const formats: Record<string, ProblemCode> = {
  'tutti-datetime': 'datetime',
  'tutti-timezone': 'timezone',
  email: 'email',
  uri: 'uri',
  date: 'date',
}

/** What an ajv error says, as a catalogue message and the path of the key it is about. */
export function describeSchemaError(error: ErrorObject): Described {
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s))
  const params = error.params as Record<string, unknown>
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty)
      return { segments: [...segments, key], code: 'unknownKey', params: { key } }
    }
    case 'required':
      return { segments, code: 'missingKey', params: { key: String(params.missingProperty) } }
    case 'enum':
      return {
        segments,
        code: 'oneOf',
        params: { values: (params.allowedValues as unknown[]).map(String).join(', ') },
      }
    case 'format':
      return {
        segments,
        code: formats[String(params.format)] ?? 'invalid',
        params: { detail: error.message ?? '' },
      }
    case 'type':
      if (types.has(String(params.type))) return { segments, code: `type.${params.type}` as ProblemCode }
      break
    case 'pattern':
      return { segments, code: 'pattern', params: { pattern: String(params.pattern) } }
    case 'uniqueItems':
      return { segments, code: 'uniqueItems', params: { i: Number(params.j), j: Number(params.i) } }
    case 'const':
      return { segments, code: 'const', params: { value: String(params.allowedValue) } }
  }
  if (limits.has(error.keyword)) {
    return { segments, code: error.keyword as ProblemCode, params: { limit: Number(params.limit) } }
  }
  return { segments, code: 'invalid', params: { detail: error.message ?? '' } }
}

const yamlCodes: Record<string, ProblemCode> = {
  BAD_INDENT: 'yaml.indent',
  TAB_AS_INDENT: 'yaml.tab',
  DUPLICATE_KEY: 'yaml.duplicateKey',
  MISSING_CHAR: 'yaml.missingChar',
  MULTILINE_IMPLICIT_KEY: 'yaml.implicitKey',
  BLOCK_AS_IMPLICIT_KEY: 'yaml.implicitKey',
  MULTIPLE_DOCS: 'yaml.multipleDocs',
}

/** A YAML syntax error of the `yaml` library, by its code; the library's words only when none fits. */
export function describeSyntaxError(code: string, message: string): Pick<Described, 'code' | 'params'> {
  const known = yamlCodes[code]
  return known ? { code: known } : { code: 'yaml.syntax', params: { detail: message.split('\n')[0] ?? '' } }
}

const english = translator('en')

/** The problem in the language of `t`; English for the boot, the CLI and the logs. */
export function problemText(
  problem: { code: ProblemCode; params?: Record<string, string | number> },
  t: Translate = english,
): string {
  return t(`configProblem.${problem.code}`, problem.params)
}
