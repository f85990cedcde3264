import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { Ajv } from 'ajv'
import { isMap, isScalar, parse, parseDocument, type YAMLMap } from 'yaml'
import { parseTenantConfig } from '../../src/platform/tenancy/tenant-config.ts'

// Helm cannot run here: these tests check what can be checked without it (helm/README.md says
// what remains for `helm lint` and `helm template`).
const root = new URL('../../', import.meta.url).pathname
const chart = join(root, 'helm/tutti')
const read = (path: string) => readFileSync(join(chart, path), 'utf8')

type Values = Record<string, unknown>
interface SchemaNode {
  $ref?: string
  type?: string
  properties?: Record<string, SchemaNode>
  additionalProperties?: boolean | SchemaNode
  definitions?: Record<string, SchemaNode>
  pattern?: string
  [key: string]: unknown
}

const schema = JSON.parse(read('values.schema.json')) as SchemaNode
const defaults = parse(read('values.yaml')) as Values
const examples = readdirSync(join(chart, 'examples')).filter((f) => f.endsWith('.yaml'))
const templates = readdirSync(join(chart, 'templates')).map((f) => ({
  file: f,
  text: read(`templates/${f}`),
}))

// the schema declares draft-07 (what Helm 3 validates), Ajv's default draft
const validate = new Ajv({ allErrors: true, strict: true }).compile(schema)

function problems(values: Values): string[] {
  if (validate(values)) return []
  return (validate.errors ?? []).map((e) =>
    e.keyword === 'additionalProperties'
      ? `${e.instancePath || '/'} has unknown key ${e.params.additionalProperty}`
      : `${e.instancePath} ${e.message}`,
  )
}

/** Helm's merge of a values file over the chart's values.yaml: maps merge key by key, anything else replaces. */
function merge(base: Values, over: Values): Values {
  const merged: Values = { ...base }
  for (const [key, value] of Object.entries(over)) {
    const below = merged[key]
    merged[key] =
      isPlainObject(value) && isPlainObject(below) ? merge(below as Values, value as Values) : value
  }
  return merged
}

function isPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function resolve(node: SchemaNode): SchemaNode {
  return node.$ref ? resolve(schema.definitions![node.$ref.replace('#/definitions/', '')]!) : node
}

/** Whether the schema knows `path` (`ingress.tls.secretName`), following properties and map values. */
function schemaHas(path: string[]): boolean {
  let node = schema
  for (const key of path) {
    node = resolve(node)
    const next =
      node.properties?.[key] ??
      (typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined)
    if (!next) return false
    node = next
  }
  return true
}

const valuesPaths = [
  ...new Set(
    templates.flatMap(({ text }) => [...text.matchAll(/\.Values\.([A-Za-z0-9_.]+)/g)].map((m) => m[1]!)),
  ),
]

t.test('values.yaml is valid against values.schema.json', async (t) => {
  t.same(problems(defaults), [])
})

t.test('every example values file, merged over values.yaml as Helm does, is valid', async (t) => {
  t.ok(examples.length >= 2, 'two examples at least')
  for (const file of examples) {
    const values = merge(defaults, parse(read(`examples/${file}`)) as Values)
    t.same(problems(values), [], file)
  }
})

t.test('the schema refuses unknown keys, at the top and nested, naming them', async (t) => {
  t.same(problems(merge(defaults, { replicas: 3 })), ['/ has unknown key replicas'])
  t.same(problems(merge(defaults, { platform: { domian: 'tutti.example.org' } })), [
    '/platform has unknown key domian',
  ])
  t.same(problems(merge(defaults, { ingress: { tls: { secret: 'x' } } })), [
    '/ingress/tls has unknown key secret',
  ])
  t.same(problems(merge(defaults, { resources: { limits: { gpu: 1 } } })), [
    '/resources/limits has unknown key gpu',
  ])
})

t.test('the schema refuses values the app or Kubernetes would refuse later', async (t) => {
  t.ok(problems(merge(defaults, { platform: { logLevel: 'verbose' } })).length > 0, 'an unknown log level')
  t.ok(
    problems(merge(defaults, { platform: { shutdownGraceSeconds: 600 } })).length > 0,
    'a grace over 120 s',
  )
  t.ok(
    problems(merge(defaults, { platform: { publicUrl: 'https://x.org/path' } })).length > 0,
    'a URL with a path',
  )
  t.ok(
    problems(merge(defaults, { ingress: { tenantHosts: ['Conservatoire.FR'] } })).length > 0,
    'an uppercase host',
  )
  t.ok(
    problems(merge(defaults, { tenants: { files: { 'Bad Name.txt': 'x' } } })).length > 0,
    'a bad file name',
  )
  t.ok(
    problems(merge(defaults, { tenants: { existingConfigMap: 'tenants', files: { 'a.yaml': 'slug: a' } } }))
      .length > 0,
    'both an existing ConfigMap and inline files',
  )
  const volume = { persistentVolumeClaim: { claimName: 'tenants' } }
  t.same(problems(merge(defaults, { tenants: { existingVolume: volume } })), [], 'an existing volume alone')
  t.ok(
    problems(merge(defaults, { tenants: { existingVolume: volume, files: { 'a.yaml': 'slug: a' } } }))
      .length > 0,
    'both an existing volume and inline files',
  )
  t.ok(
    problems(merge(defaults, { tenants: { existingVolume: volume, existingConfigMap: 'tenants' } })).length >
      0,
    'both an existing volume and an existing ConfigMap',
  )
  t.ok(problems(merge(defaults, { metrics: { port: 3000 } })).length > 0, 'metrics on the HTTP port')
})

t.test('nothing secret has a place in values.yaml: only names of Secrets', async (t) => {
  const keys = JSON.stringify(schema.properties).match(/"[A-Za-z]*(password|token|secret)[A-Za-z]*":/gi) ?? []
  t.same(keys, [
    '"imagePullSecrets":',
    '"secrets":',
    '"existingSecret":',
    // names of Secrets holding the identity providers' client secrets, never the secrets
    '"oidcClientSecrets":',
    '"secretName":',
    '"secretName":',
    '"tenantHostsSecretName":',
  ])
  for (const file of ['values.yaml', ...examples.map((f) => `examples/${f}`)]) {
    t.notMatch(read(file), /(postgres(ql)?|smtps?|rediss?):\/\//, `${file} holds no connection URL`)
  }
})

t.test('every .Values path the templates use exists in the schema', async (t) => {
  t.ok(valuesPaths.length > 20, 'the templates were read')
  t.same(
    valuesPaths.filter((path) => !schemaHas(path.split('.'))),
    [],
  )
})

t.test('every key of values.yaml is used by a template', async (t) => {
  const leaves: string[] = []
  const walk = (value: unknown, path: string[]) => {
    if (isPlainObject(value) && Object.keys(value as Values).length > 0) {
      for (const [key, child] of Object.entries(value as Values)) walk(child, [...path, key])
    } else leaves.push(path.join('.'))
  }
  walk(defaults, [])
  const unused = leaves.filter(
    (leaf) => !valuesPaths.some((used) => leaf === used || leaf.startsWith(`${used}.`)),
  )
  t.same(unused, [])
})

t.test('every value in values.yaml is documented by a "# --" comment', async (t) => {
  const document = parseDocument(read('values.yaml'))
  const undocumented: string[] = []
  const walk = (map: YAMLMap, path: string[]) => {
    map.items.forEach((pair, i) => {
      const key = isScalar(pair.key) ? String(pair.key.value) : '?'
      // the comment above a map's first key belongs to the map in the parsed document
      const comment =
        (isScalar(pair.key) ? pair.key.commentBefore : undefined) ?? (i === 0 ? map.commentBefore : '')
      if (comment?.trimStart().startsWith('--')) return
      if (isMap(pair.value) && pair.value.items.length > 0) walk(pair.value, [...path, key])
      else undocumented.push([...path, key].join('.'))
    })
  }
  walk(document.contents as YAMLMap, [])
  t.same(undocumented, [])
})

t.test(
  'the inline tenant files of the examples are valid and their custom hosts reach the Ingress',
  async (t) => {
    for (const file of examples) {
      const values = merge(defaults, parse(read(`examples/${file}`)) as Values) as {
        tenants: { files: Record<string, string> }
        ingress: { tenantHosts: string[] }
      }
      for (const [name, text] of Object.entries(values.tenants.files)) {
        const { config, problems } = parseTenantConfig(name, text)
        t.same(problems, [], `${file}: ${name}`)
        t.equal(name, `${config?.slug}.yaml`, `${file}: ${name} is named after its slug`)
        for (const host of config?.hosts ?? []) {
          t.ok(values.ingress.tenantHosts.includes(host), `${file}: ${host} is in ingress.tenantHosts`)
        }
      }
    }
  },
)

t.test('templates open and close their blocks in pairs', async (t) => {
  for (const { file, text } of templates) {
    const opened = text.match(/\{\{-?\s*(if|range|with|define)\b/g)?.length ?? 0
    const closed = text.match(/\{\{-?\s*end\s*-?\}\}/g)?.length ?? 0
    t.equal(opened, closed, file)
    t.equal(text.match(/\{\{/g)?.length, text.match(/\}\}/g)?.length, `${file}: braces`)
  }
})

t.test('schema patterns stay within Go regular expressions (Helm validates with Go)', async (t) => {
  const patterns = [...JSON.stringify(schema).matchAll(/"pattern":"((?:[^"\\]|\\.)*)"/g)].map((m) =>
    JSON.parse(`"${m[1]}"`),
  )
  t.ok(patterns.length > 3)
  for (const pattern of patterns) t.notMatch(pattern, /\(\?[=!<]|\\[1-9]/, pattern)
})

t.test('the pods stop within their terminationGracePeriodSeconds, without a preStop hook', async (t) => {
  const deployment = templates.find((f) => f.file === 'deployment.yaml')!.text
  const margin = deployment.match(
    /terminationGracePeriodSeconds: \{\{ add \.Values\.platform\.shutdownGraceSeconds (\d+) \}\}/,
  )
  t.ok(margin, 'derived from the grace')
  // the server exits at most 10 s after its grace (close-with-grace's delay in src/main.ts)
  t.ok(Number(margin![1]) > 10)
  t.notMatch(deployment, /preStop:/, 'the server sleeps itself: a preStop sleep would double the grace')
  t.match(deployment, /name: SHUTDOWN_GRACE_SECONDS/)
})

t.test('the migration Job runs the CLI command that exits non-zero when a tenant fails', async (t) => {
  const job = templates.find((f) => f.file === 'migrations-job.yaml')!.text
  t.match(job, /command: \["node", "src\/cli\/tutti\.ts", "tenant", "migrate", "--all"\]/)
  t.match(job, /helm\.sh\/hook: pre-install,pre-upgrade/)
  t.match(job, /backoffLimit: 0/)
  t.match(job, /restartPolicy: Never/)
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>
  }
  t.equal(pkg.scripts.tutti, 'node src/cli/tutti.ts')
})

t.test('the metrics port is never routed by the Ingress', async (t) => {
  const ingress = templates.find((f) => f.file === 'ingress.yaml')!.text
  t.notMatch(ingress, /metrics/)
  t.match(ingress, /name: http/)
})

t.test("the chart's appVersion is the application's version, the default image tag", async (t) => {
  const meta = parse(read('Chart.yaml')) as { apiVersion: string; name: string; appVersion: string }
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }
  t.equal(meta.apiVersion, 'v2')
  t.equal(meta.name, 'tutti')
  t.equal(meta.appVersion, pkg.version)
  t.equal((defaults.image as { tag: string }).tag, '', 'empty: the appVersion')
})
