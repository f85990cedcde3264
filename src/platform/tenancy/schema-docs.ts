import schema from '../../../config/tenant.schema.json' with { type: 'json' }

interface JsonSchema {
  type?: string | string[]
  description?: string
  default?: unknown
  enum?: unknown[]
  format?: string
  pattern?: string
  $ref?: string
  properties?: Record<string, JsonSchema>
  items?: JsonSchema
  required?: string[]
}

const definitions = (schema as { definitions: Record<string, JsonSchema> }).definitions

function resolve(node: JsonSchema): JsonSchema {
  if (!node.$ref) return node
  const target = definitions[node.$ref.replace('#/definitions/', '')] ?? {}
  // the property's own description wins over the definition's
  return { ...resolve(target), ...Object.fromEntries(Object.entries(node).filter(([k]) => k !== '$ref')) }
}

function typeOf(node: JsonSchema, ref: string | undefined): string {
  if (ref === '#/definitions/condition') return 'condition (see config/README.md)'
  if (node.enum) return node.enum.map((v) => `\`${v}\``).join(' | ')
  const type = Array.isArray(node.type) ? node.type.join(' | ') : (node.type ?? 'any')
  if (type === 'array' && node.items) return `list of ${typeOf(resolve(node.items), node.items.$ref)}`
  return node.format ? `${type} (${node.format})` : type
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ')

/** The field-by-field reference of a tenant file, generated from the schema's descriptions. */
export function tenantSchemaReference(): string {
  const rows: string[] = []
  const walk = (node: JsonSchema, path: string, required: boolean, ref?: string) => {
    const resolved = resolve(node)
    if (path) {
      const fallback = resolved.default === undefined ? '' : `\`${JSON.stringify(resolved.default)}\``
      rows.push(
        `| \`${path}\` | ${cell(typeOf(resolved, ref))} | ${required ? 'yes' : ''} | ${cell(fallback)} | ${cell(resolved.description ?? '')} |`,
      )
    }
    if (ref === '#/definitions/condition') return
    const items = resolved.type === 'array' && resolved.items ? resolve(resolved.items) : undefined
    const container = items?.properties ? items : resolved
    const prefix = items?.properties ? `${path}[].` : path ? `${path}.` : ''
    for (const [key, child] of Object.entries(container.properties ?? {})) {
      walk(child, `${prefix}${key}`, (container.required ?? []).includes(key), child.$ref)
    }
  }
  walk(schema as JsonSchema, '', true)
  return [
    '# Tenant configuration reference',
    '',
    '<!-- Generated from config/tenant.schema.json by `npm run tutti -- config docs`; do not edit by hand. -->',
    '',
    (schema as JsonSchema).description ?? '',
    '',
    '| key | type | required | default | meaning |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n')
}
