import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import schema from '../../../config/tenant.schema.json' with { type: 'json' }

/**
 * Writes the TypeScript types of a validated tenant file from `config/tenant.schema.json`, so the
 * types cannot drift from the contract. Libraries were tried and left aside (docs/decisions.md):
 * none turns this schema's conditions into a union of their forms, nor makes defaulted keys present.
 *
 * It translates the keywords the schema uses, and refuses any other, so that a schema change it
 * does not understand stops it instead of producing a wrong type. Keywords that only narrow a
 * value (lengths, bounds, formats, most patterns, `if`/`then` refinements) leave the TypeScript
 * type wider than the schema, never narrower.
 */

interface JsonSchema {
  description?: string
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean'
  $ref?: string
  enum?: unknown[]
  pattern?: string
  default?: unknown
  properties?: Record<string, JsonSchema>
  required?: string[]
  additionalProperties?: boolean | JsonSchema
  items?: JsonSchema
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  allOf?: JsonSchema[]
  if?: JsonSchema
  then?: JsonSchema
  else?: JsonSchema
  minProperties?: number
  maxProperties?: number
  propertyNames?: JsonSchema
}

const translated = new Set([
  'description',
  'type',
  '$ref',
  'enum',
  'pattern',
  'default',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'anyOf',
  'oneOf',
  'allOf',
  'if',
  'then',
  'else',
])
// what only ajv checks, and annotations: no TypeScript type says them
const ignored = new Set([
  '$schema',
  'title',
  'definitions',
  'examples',
  'format',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'minItems',
  'maxItems',
  'uniqueItems',
  'contains',
])

// the JSON module's inferred type is too precise to be compared with JsonSchema
const root = schema as unknown as JsonSchema & { definitions: Record<string, JsonSchema> }

/** Type names of the definitions in use, in the order they were met; `undefined` while being written. */
const declarations = new Map<string, string | undefined>()

function typeName(definition: string): string {
  return definition[0]!.toUpperCase() + definition.slice(1)
}

function comment(text: string | undefined): string {
  if (!text) return ''
  const lines: string[] = []
  let line = ''
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length >= 100) {
      lines.push(line)
      line = word
    } else line = line ? `${line} ${word}` : word
  }
  lines.push(line)
  return lines.length === 1 ? `/** ${line} */\n` : `/**\n${lines.map((l) => ` * ${l}`).join('\n')}\n */\n`
}

function definition(ref: string): { name: string; target: JsonSchema } {
  const name = /^#\/definitions\/(\w+)$/.exec(ref)?.[1]
  const target = name && root.definitions[name]
  if (!target) throw new Error(`${ref}: only #/definitions/<name> references are supported`)
  return { name: typeName(name), target }
}

/** A definition used by `$ref`: its name, declared once; primitives are written in place. */
function reference(ref: string): string {
  const { name, target } = definition(ref)
  if (declarations.has(name)) return name
  declarations.set(name, undefined) // a definition that refers to itself meets its own name
  const type = typeOf(target, ref)
  if (['string', 'number', 'boolean'].includes(type)) {
    declarations.delete(name)
    return type
  }
  const isInterface = target.type === 'object' && !keyForms(target)
  declarations.set(
    name,
    comment(target.description) +
      (isInterface ? `export interface ${name} ${type}` : `export type ${name} = ${type}`),
  )
  return name
}

/**
 * TypeScript says of a regular expression only the literal text it starts with: a pattern such as
 * `^pupil\.answers\.[a-z]…` becomes `pupil.answers.${string}`, which is what code switches on;
 * a pattern without such a prefix (or with an alternation) stays `string`.
 */
function patternType(pattern: string): string {
  if (!pattern.startsWith('^') || /(^|[^\\])\|/.test(pattern)) return 'string'
  const literal = /^(?:[^\\^$.|?*+()[\]{}]|\\[^A-Za-z0-9])/
  let prefix = ''
  let rest = pattern.slice(1)
  for (let match = literal.exec(rest); match; match = literal.exec(rest)) {
    rest = rest.slice(match[0].length)
    // a quantifier that allows zero repetitions makes the character before it optional
    if (/^(?:[?*]|\{0[,}])/.test(rest)) break
    prefix += match[0].replace(/^\\/, '')
  }
  return prefix ? `\`${prefix.replace(/[`$\\]/g, '\\$&')}\${string}\`` : 'string'
}

/**
 * The one `if`/`then`/`else` that TypeScript says better than the schema: `if` tests only that
 * some keys are present, and each branch fixes how many keys an object has among a list of names
 * (the condition: a test `{fact, <one operator>}` or a combination `{all}`, `{any}` or `{not}`).
 * Returns the sets of keys of the allowed forms, or undefined for any other `if`.
 */
function keyForms(node: JsonSchema): string[][] | undefined {
  const { if: test, then: yes, else: no } = node
  if (!test?.required || !yes || !no) return undefined
  const presenceOnly =
    Object.keys(test).every((k) => ['description', 'required', 'properties'].includes(k)) &&
    Object.values(test.properties ?? {}).every((p) => Object.keys(p).every((k) => k === 'description'))
  const counted = (branch: JsonSchema) =>
    branch.propertyNames?.enum && branch.minProperties === branch.maxProperties ? branch : undefined
  const [whenPresent, otherwise] = [counted(yes), counted(no)]
  if (!presenceOnly || !whenPresent || !otherwise) return undefined
  const present = test.required
  const names = (branch: JsonSchema) => branch.propertyNames!.enum as string[]
  const others = names(whenPresent).filter((k) => !present.includes(k))
  return [
    ...choose(names(otherwise), otherwise.maxProperties!).filter(
      (keys) => !present.every((k) => keys.includes(k)),
    ),
    ...choose(others, whenPresent.maxProperties! - present.length).map((keys) => [...present, ...keys]),
  ]
}

function choose(items: string[], count: number): string[][] {
  if (count === 0) return [[]]
  return items.flatMap((item, i) => choose(items.slice(i + 1), count - 1).map((rest) => [item, ...rest]))
}

/** An object with the given keys; `required` keys, the form's or the schema's, are never optional. */
function objectType(node: JsonSchema, at: string, keys: string[], required: string[]): string {
  if (node.additionalProperties !== false)
    throw new Error(`${at}: only closed objects (additionalProperties: false) are supported`)
  const properties = node.properties ?? {}
  const members = keys.map((key) => {
    const property = properties[key]
    if (!property) throw new Error(`${at}: no properties.${key}`)
    const target = property.$ref ? definition(property.$ref).target : undefined
    // ajv fills in defaults (useDefaults), so a key with a default is always there once validated
    const optional = !(required.includes(key) || property.default !== undefined)
    return `${comment(property.description ?? target?.description)}${key}${optional ? '?' : ''}: ${typeOf(property, `${at}.${key}`)}`
  })
  return `{\n${members.join('\n')}\n}`
}

function typeOf(node: JsonSchema, at: string): string {
  for (const keyword of Object.keys(node)) {
    if (!translated.has(keyword) && !ignored.has(keyword)) {
      throw new Error(`${at}: the keyword "${keyword}" is not translated into a type`)
    }
  }
  // an allOf of if/then refinements only narrows values (see the file's header)
  for (const part of node.allOf ?? []) {
    if (Object.keys(part).some((k) => !['description', 'if', 'then', 'else'].includes(k))) {
      throw new Error(`${at}.allOf: only if/then refinements are supported`)
    }
  }
  if (node.$ref) return reference(node.$ref)
  const forms = keyForms(node)
  if (forms) return forms.map((keys) => objectType(node, at, keys, keys)).join(' | ')
  const alternatives = node.anyOf ?? node.oneOf
  if (alternatives) {
    // an alternative inherits the type stated next to anyOf/oneOf
    return alternatives.map((a, i) => typeOf({ type: node.type, ...a }, `${at}.${i}`)).join(' | ')
  }
  if (node.enum) return node.enum.map((value) => JSON.stringify(value)).join(' | ')
  switch (node.type) {
    case 'object':
      // a map keyed by names the file chooses (the tariffs' columns, named after QF brackets)
      if (typeof node.additionalProperties === 'object' && !node.properties)
        return `Record<string, ${typeOf(node.additionalProperties, `${at}.*`)}>`
      return objectType(node, at, Object.keys(node.properties ?? {}), node.required ?? [])
    case 'array': {
      if (!node.items) throw new Error(`${at}: an array needs items`)
      const item = typeOf(node.items, `${at}[]`)
      return /^\w+$/.test(item) ? `${item}[]` : `(${item})[]`
    }
    case 'string':
      return node.pattern ? patternType(node.pattern) : 'string'
    case 'integer':
    case 'number':
      return 'number'
    case 'boolean':
      return 'boolean'
    default:
      throw new Error(`${at}: no type`)
  }
}

/** The content of `tenant-config-types.ts`, formatted as `npm run check` expects. */
export function tenantConfigTypes(file: string): string {
  declarations.clear()
  const tenantConfig = typeOf(root, '(root)')
  const text = [
    '// Generated from config/tenant.schema.json by `npm run tutti -- config types`; do not edit by hand.',
    '',
    `${comment(`${root.description} This is the shape of a tenant file once validated: a key with a default in the schema is always present, the validator fills it in.`)}export interface TenantConfig ${tenantConfig}`,
    ...[...declarations.values()].map((declaration) => `\n${declaration}`),
    '',
  ].join('\n')
  // the project's formatter lays the code out, so this module need not know its rules
  const biome = createRequire(import.meta.url).resolve('@biomejs/biome/bin/biome')
  return execFileSync(process.execPath, [biome, 'format', `--stdin-file-path=${file}`], {
    cwd: new URL('../../..', import.meta.url).pathname,
    input: text,
    encoding: 'utf8',
    stdio: 'pipe',
  })
}
