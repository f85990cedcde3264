import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { loadConfig } from '../../src/platform/config.ts'
import { loadTenantConfigs, parseTenantConfig } from '../../src/platform/tenancy/tenant-config.ts'
const billingKey = Buffer.alloc(32, 7).toString('base64')

const valid = `slug: exemple
name: Conservatoire d'exemple
contact:
  email: contact@exemple.fr
establishments:
  - code: centre
    name: Site du centre
periods:
  reenrolment:
    opens: 2026-05-15
    closes: 2026-06-11
    schoolYear: 2026-2027
`

function problemsOf(text: string, file = 'exemple.yaml') {
  return parseTenantConfig(file, text).problems.map(
    (p) => `${p.file}: ${p.path} (line ${p.line}): ${p.message}`,
  )
}

t.test('environment', async (t) => {
  t.test('defaults give a working development setup', async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tutti-env-'))
    const config = loadConfig({ DATA_DIR: dataDir })
    t.equal(config.port, 3000)
    t.equal(config.platformDomain, 'localhost')
    t.same(config.database, { kind: 'pglite', dataDir: join(dataDir, 'pglite') })
    t.ok(config.sessionSecret.length >= 32, 'a session secret is generated')
    t.equal(loadConfig({ DATA_DIR: dataDir }).sessionSecret, config.sessionSecret, 'and kept across restarts')
  })

  t.test(
    'the public URL: by default the listening port, https in production, on the platform domain only',
    async (t) => {
      const dataDir = mkdtempSync(join(tmpdir(), 'tutti-env-'))
      t.equal(loadConfig({ DATA_DIR: dataDir }).publicUrl, 'http://localhost:3000')
      t.equal(
        loadConfig({
          NODE_ENV: 'production',
          SESSION_SECRET: 'x'.repeat(32),
          BILLING_KEY: billingKey,
          PLATFORM_DOMAIN: 'tutti.example.org',
        }).publicUrl,
        'https://tutti.example.org',
      )
      t.equal(
        loadConfig({
          DATA_DIR: dataDir,
          PLATFORM_DOMAIN: 'tutti.example.org',
          PUBLIC_URL: 'https://tutti.example.org:8443/',
        }).publicUrl,
        'https://tutti.example.org:8443',
      )
      t.throws(() => loadConfig({ DATA_DIR: dataDir, PUBLIC_URL: 'https://ailleurs.example.org' }), {
        message: /PUBLIC_URL must be on PLATFORM_DOMAIN localhost/,
      })
      t.throws(() => loadConfig({ DATA_DIR: dataDir, PUBLIC_URL: 'https://localhost/chemin' }), {
        message: /PUBLIC_URL must be the platform’s public origin/,
      })
    },
  )

  t.test('a bad value names the variable and what is expected', async (t) => {
    t.throws(() => loadConfig({ PORT: 'abc' }), {
      message: /PORT must be an integer between 1 and 65535 \(got "abc"\)/,
    })
    t.throws(() => loadConfig({ DATABASE_URL: 'mysql://x' }), {
      message: /DATABASE_URL must be a postgres:\/\/ connection URL/,
    })
    t.throws(() => loadConfig({ REDIS_URL: '127.0.0.1:6379' }), {
      message: /REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/,
    })
    t.equal(loadConfig({ REDIS_URL: 'rediss://cache:6380' }).redisUrl, 'rediss://cache:6380')
    const both = t.throws(() => loadConfig({ LOG_LEVEL: 'loud', PORT: '0' })) as Error
    t.match(
      both.message,
      /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent \(got "loud"\)/,
    )
    t.match(both.message, /PORT must be an integer between 1 and 65535 \(got "0"\)/)
  })

  t.test('production requires a session secret', async (t) => {
    t.throws(() => loadConfig({ NODE_ENV: 'production' }), {
      message: /SESSION_SECRET must be set in production/,
    })
    t.throws(() => loadConfig({ NODE_ENV: 'production', SESSION_SECRET: 'short' }), {
      message: /SESSION_SECRET must be at least 32/,
    })
  })

  t.test('production requires a billing key of 32 bytes; elsewhere one is kept in DATA_DIR', async (t) => {
    const secret = 'a-production-secret-of-32-characters!'
    t.throws(() => loadConfig({ NODE_ENV: 'production', SESSION_SECRET: secret }), {
      message: /BILLING_KEY must be set in production/,
    })
    t.throws(() => loadConfig({ NODE_ENV: 'production', SESSION_SECRET: secret, BILLING_KEY: 'c2hvcnQ=' }), {
      message: /BILLING_KEY must be 32 bytes written as 64 hexadecimal digits or 44 characters of base64/,
    })
    const hex = 'ab'.repeat(32)
    t.same(
      loadConfig({ NODE_ENV: 'production', SESSION_SECRET: secret, BILLING_KEY: hex }).billingKey,
      Buffer.from(hex, 'hex'),
    )
    const dataDir = mkdtempSync(join(tmpdir(), 'tutti-env-'))
    const kept = loadConfig({ DATA_DIR: dataDir }).billingKey
    t.equal(kept.length, 32)
    t.same(loadConfig({ DATA_DIR: dataDir }).billingKey, kept, 'the same key after a restart')
  })

  t.test('the shutdown grace lasts 5 s in production, none elsewhere, or as set', async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tutti-env-'))
    const secret = 'a-production-secret-of-32-characters!'
    const production = { NODE_ENV: 'production', SESSION_SECRET: secret, BILLING_KEY: billingKey }
    t.equal(loadConfig(production).shutdownGraceMs, 5_000)
    t.equal(loadConfig({ DATA_DIR: dataDir }).shutdownGraceMs, 0)
    const set = { ...production, SHUTDOWN_GRACE_SECONDS: '15' }
    t.equal(loadConfig(set).shutdownGraceMs, 15_000)
    t.throws(() => loadConfig({ DATA_DIR: dataDir, SHUTDOWN_GRACE_SECONDS: '5s' }), {
      message: /SHUTDOWN_GRACE_SECONDS must be an integer number of seconds between 0 and 120 \(got "5s"\)/,
    })
  })
})

t.test('tenant files', async (t) => {
  t.test('a valid file loads, with the defaults filled in', async (t) => {
    const { config, problems } = parseTenantConfig('exemple.yaml', valid)
    t.same(problems, [])
    t.equal(config?.timezone, 'Europe/Paris')
    t.equal(config?.locale, 'fr')
    t.same(config?.reenrolment?.steps, [
      'coordinates',
      'authorizations',
      'documents',
      'courses',
      'summary',
      'finalize',
    ])
    t.same(config?.passwordPolicy, { rule: 'default', maxLength: 128, minLength: 12 })
  })

  t.test('every demo tenant is valid', async (t) => {
    const configs = loadTenantConfigs(new URL('../../tenants/', import.meta.url).pathname)
    t.same(configs.map((c) => c.slug).sort(), [
      'grand-angouleme',
      'limoges',
      'limonest',
      'plessis-pate',
      'porte-oceane',
    ])
  })

  t.test('an unknown key is refused at its line', async (t) => {
    t.same(problemsOf(valid.replace('contact:', 'colour: red\ncontact:')), [
      'exemple.yaml: colour (line 3): unknown key "colour"',
    ])
    t.same(
      problemsOf(valid.replace('    name: Site du centre', '    name: Site du centre\n    capacity: 3')),
      ['exemple.yaml: establishments.0.capacity (line 8): unknown key "capacity"'],
    )
  })

  t.test('a wrong type is refused at its line', async (t) => {
    t.same(problemsOf(`${valid}passwordPolicy:\n  maxLength: "long"\n`), [
      'exemple.yaml: passwordPolicy.maxLength (line 14): must be integer',
    ])
    t.same(
      problemsOf(valid.replace(/establishments:[\s\S]*?(?=periods)/, 'establishments: Site du centre\n')),
      ['exemple.yaml: establishments (line 5): must be array'],
    )
  })

  t.test('a bad date is refused at its line', async (t) => {
    t.same(problemsOf(valid.replace('closes: 2026-06-11', 'closes: 2026-02-30')), [
      'exemple.yaml: periods.reenrolment.closes (line 11): must be a real date YYYY-MM-DD, a local date-time YYYY-MM-DDTHH:mm, or today, today+N, today-N',
    ])
    t.same(problemsOf(valid.replace('closes: 2026-06-11', 'closes: 2026-05-01')), [
      'exemple.yaml: periods.reenrolment.closes (line 11): must come after opens',
    ])
  })

  t.test('a bad slug is refused', async (t) => {
    t.same(problemsOf(valid.replace('slug: exemple', 'slug: Exemple_1'), 'Exemple_1.yaml'), [
      'Exemple_1.yaml: slug (line 1): must match pattern "^[a-z][a-z0-9-]{1,39}$"',
    ])
    t.same(problemsOf(valid, 'autre.yaml'), ['autre.yaml: slug (line 1): must be "autre", the file\'s name'])
  })

  t.test('an alias without its anchor is refused, not thrown', async (t) => {
    t.same(problemsOf(`? *a${valid}`), [
      'exemple.yaml:  (line undefined): an alias (*name) refers to an anchor (&name) that is missing or comes after it',
    ])
  })

  t.test('a YAML syntax error is refused with its line', async (t) => {
    const problems = problemsOf(valid.replace('  email: contact@exemple.fr', '  email: [contact@exemple.fr'))
    t.equal(problems.length, 1)
    t.match(problems[0], /^exemple\.yaml: {2}\(line 5\): YAML syntax error: /)
  })

  t.test('rules across the file are checked too', async (t) => {
    const text = `${valid}disciplines:
  - { code: piano, name: Piano, domain: music }
paymentModes:
  - { id: cheque, label: Chèque, kind: cheque }
documents:
  - id: certificat
    label: Certificat médical
    level: pupil
    when: { fact: pupil.disciplines, includesAny: [danse] }
  - id: sepa
    label: Mandat SEPA
    level: family
    when: { fact: family.paymentMode, equals: prelevement }
quotientFamilial:
  brackets:
    - { code: Q1, label: Q1, max: 500 }
    - { code: Q2, label: Q2 }
  fallback: Q7
`
    t.same(problemsOf(text), [
      'exemple.yaml: quotientFamilial.fallback (line 30): "Q7" is not one of the brackets',
      'exemple.yaml: documents.0.when (line 21): "danse" is not a known discipline code',
      'exemple.yaml: documents.1.when (line 25): "prelevement" is not a known payment mode id',
    ])
  })

  t.test('the boot refuses a directory with a bad file and lists every problem', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tutti-tenants-'))
    writeFileSync(join(dir, 'exemple.yaml'), valid.replace('contact:', 'colour: red\ncontact:'))
    writeFileSync(
      join(dir, 'autre.yaml'),
      valid.replace('slug: exemple', 'slug: autre').replace('2026-06-11', 'demain'),
    )
    t.throws(() => loadTenantConfigs(dir), {
      code: 'TUTTI_TENANT_CONFIG_INVALID',
      message:
        /autre\.yaml: periods\.reenrolment\.closes \(line 11\): must be a real date[\s\S]*exemple\.yaml: colour \(line 3\): unknown key "colour"/,
    })
  })

  t.test('two tenants cannot claim the same host', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tutti-tenants-'))
    writeFileSync(join(dir, 'exemple.yaml'), `${valid}hosts: [musique.exemple.test]\n`)
    writeFileSync(
      join(dir, 'autre.yaml'),
      `${valid.replace('slug: exemple', 'slug: autre')}hosts: [musique.exemple.test]\n`,
    )
    t.throws(() => loadTenantConfigs(dir), {
      message: /host musique\.exemple\.test is already used by autre/,
    })
  })
})

t.test('the committed field reference matches the schema', async (t) => {
  const { tenantSchemaReference } = await import('../../src/platform/tenancy/schema-docs.ts')
  const committed = readFileSync(new URL('../../docs/tenant-configuration.md', import.meta.url), 'utf8')
  t.equal(committed, tenantSchemaReference(), 'run: npm run tutti -- config docs')
  t.match(committed, '| `periods.reenrolment.closes` |')
})

t.test('the committed types of a tenant file match the schema', async (t) => {
  const { tenantConfigTypes } = await import('../../src/platform/tenancy/schema-types.ts')
  const file = new URL('../../src/platform/tenancy/tenant-config-types.ts', import.meta.url).pathname
  t.equal(readFileSync(file, 'utf8'), tenantConfigTypes(file), 'run: npm run tutti -- config types')
})

t.test('TRUST_PROXY names the proxies allowed to say who the client is', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tutti-env-'))
  t.equal(loadConfig({ DATA_DIR: dataDir }).trustProxy, false, 'X-Forwarded-For is ignored by default')
  t.equal(
    loadConfig({ DATA_DIR: dataDir, TRUST_PROXY: '10.0.0.0/8,127.0.0.1' }).trustProxy,
    '10.0.0.0/8,127.0.0.1',
  )
  t.equal(loadConfig({ DATA_DIR: dataDir, TRUST_PROXY: '1' }).trustProxy, 1)
  t.throws(() => loadConfig({ TRUST_PROXY: 'everyone' }), {
    message: /TRUST_PROXY must be false, true, a number of proxy hops/,
  })
})

t.test('UPLOAD_IDLE_TIMEOUT_MS says how long an upload may send nothing', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tutti-env-'))
  t.equal(loadConfig({ DATA_DIR: dataDir }).uploadIdleTimeoutMs, 10_000, '10 seconds by default')
  t.equal(loadConfig({ DATA_DIR: dataDir, UPLOAD_IDLE_TIMEOUT_MS: '2500' }).uploadIdleTimeoutMs, 2500)
  t.throws(() => loadConfig({ DATA_DIR: dataDir, UPLOAD_IDLE_TIMEOUT_MS: '0' }), {
    message: /UPLOAD_IDLE_TIMEOUT_MS must be an integer number of milliseconds between 100 and 600000/,
  })
})
