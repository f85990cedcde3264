import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import t from 'tap'
import { parse } from 'yaml'

// Docker cannot build here: these tests check the Dockerfile against the repository instead.
const root = new URL('../../', import.meta.url).pathname
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8')
const dockerignore = readFileSync(join(root, '.dockerignore'), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'))
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  engines: { node: string }
  scripts: Record<string, string>
}

/** The sources of the COPY instructions that take files from the build context (not from a stage). */
const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(' '))

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? tsFiles(path) : name.endsWith('.ts') ? [path] : []
  })
}

t.test('every path the Dockerfile copies exists and is in the build context', async (t) => {
  t.ok(copied.length >= 5)
  for (const path of copied) {
    t.ok(existsSync(join(root, path)), `${path} exists`)
    t.notOk(dockerignore.includes(path), `${path} is not excluded by .dockerignore`)
  }
})

t.test('the image holds every top-level folder the server and the CLI read at runtime', async (t) => {
  // the sources reach outside src/ by relative imports and `new URL('../…', import.meta.url)`
  const reached = new Set<string>()
  for (const file of tsFiles(join(root, 'src'))) {
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(/(?:from |new URL\()'(\.\.?\/[^']+)'/g)) {
      const target = relative(root, resolve(dirname(file), m[1]!))
      reached.add(target.split('/')[0]!)
    }
  }
  // developers' commands only: `config docs` writes docs/, `config types` runs the formatter from the root
  reached.delete('docs')
  reached.delete('')
  t.same([...reached].sort(), ['config', 'migrations', 'src', 'templates'])
  for (const folder of reached) t.ok(copied.includes(folder), `${folder} is copied`)
  t.ok(copied.includes('package.json'), 'package.json ("type": "module")')
})

t.test("the tenants' files are not baked into the image", async (t) => {
  t.notOk(copied.includes('tenants'))
  t.ok(dockerignore.includes('tenants'))
  t.match(dockerfile, /TENANTS_DIR=\/etc\/tutti\/tenants/)
})

t.test('production dependencies only, on the Node major of the engines', async (t) => {
  t.match(dockerfile, /npm ci --omit=dev/)
  const major = pkg.engines.node.match(/\d+/)![0]
  const images = [...dockerfile.matchAll(/^FROM node:\$\{NODE_VERSION\}-(\S+)/gm)]
  t.equal(images.length, 2, 'two stages, both official node images')
  t.match(dockerfile, new RegExp(`^ARG NODE_VERSION=${major}\\.`, 'm'))
  t.equal(readFileSync(join(root, '.nvmrc'), 'utf8').trim(), major)
})

t.test('the server starts as `npm start` does, as the non-root user the chart runs', async (t) => {
  const cmd = JSON.parse(dockerfile.match(/^CMD (\[.+\])$/m)![1]!) as string[]
  t.same(cmd, pkg.scripts.start!.split(' '))
  const user = dockerfile.match(/^USER (\d+):(\d+)$/m)
  t.ok(user, 'a numeric user, so that runAsNonRoot can check it')
  t.not(user![1], '0')
  const helpers = readFileSync(join(root, 'helm/tutti/templates/_helpers.tpl'), 'utf8')
  t.match(helpers, new RegExp(`runAsUser: ${user![1]}\\n`))
  t.match(helpers, /runAsNonRoot: true/)
})

t.test("the chart's default image is the one the Dockerfile builds", async (t) => {
  const values = parse(readFileSync(join(root, 'helm/tutti/values.yaml'), 'utf8')) as {
    image: { repository: string; tag: string }
  }
  t.equal(values.image.repository, 'tutti')
  t.match(dockerfile, /docker build -t tutti:/)
})
