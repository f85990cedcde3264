import closeWithGrace from 'close-with-grace'
import { buildApp, shutdown } from './app.ts'
import { demoAccounts, demoPassword } from './demo/accounts.ts'
import { seedDemoTenants } from './demo/all.ts'
import { startDemoIdentityProvider } from './demo/identity-provider.ts'
import { isStaff } from './platform/auth/roles.ts'
import { type Config, loadConfig } from './platform/config.ts'
import { provisionAll } from './platform/tenancy/provisioning.ts'
import type { TenantConfig } from './platform/tenancy/tenant-config.ts'

const config = loadConfig()
const app = await buildApp(config)
const configs = app.registry.list().map((t) => t.config)

if (config.env !== 'production') {
  // outside production, `npm start` is the whole setup: migrations, demo tenants and their data
  await provisionAll(app.orm, configs, (line) => app.log.info(line))
  await seedDemoTenants(app.orm, configs, config)
}
if (config.database.kind === 'pglite') {
  app.log.info({ dataDir: config.database.dataDir }, 'no DATABASE_URL: using the embedded PGlite database')
}

// past the grace, the requests in flight and the mail worker's bounded wait must end within this,
// or the process exits with 1 anyway
const closeMs = 10_000
closeWithGrace({ delay: config.shutdownGraceMs + closeMs }, async ({ signal, err }) => {
  if (err) {
    // the process is in an unknown state: no grace, only the requests in flight are finished
    app.log.error({ err }, 'closing after an error')
    await shutdown(app, 0)
  } else {
    app.log.info({ signal, graceMs: config.shutdownGraceMs }, 'stopping: not ready, serving during the grace')
    await shutdown(app, config.shutdownGraceMs)
    app.log.info('stopped')
  }
})

await app.listen({ host: config.host, port: config.port })
if (config.metricsPort > 0) {
  // apart from the pages' port, which the Ingress exposes; closed with the app (its onClose)
  const { port } = await app.metrics.listen({ host: config.host, port: config.metricsPort })
  app.log.info({ port }, 'metrics served at /metrics')
}
if (config.env !== 'production') {
  const staffEmails = demoAccounts.filter((a) => isStaff(a.role)).map((a) => `${a.identifiant}@example.fr`)
  try {
    const idp = await startDemoIdentityProvider({
      host: config.host,
      tenants: app.registry.list(),
      staffEmails,
    })
    if (idp) app.log.info({ issuer: idp.issuer }, 'demo identity provider for staff sign-in')
  } catch (err) {
    app.log.warn({ err }, 'the demo identity provider did not start: staff sign in with their password')
  }
  printDemo(config, configs)
}

function printDemo(config: Config, configs: TenantConfig[]) {
  const port = config.port === 80 ? '' : `:${config.port}`
  const lines = [
    '',
    `Tutti is ready: http://${config.platformDomain}${port}`,
    ...configs.map((c) => `  ${c.name}: http://${c.slug}.${config.platformDomain}${port}`),
    `Demo accounts on every conservatoire (password ${demoPassword}):`,
    ...demoAccounts.map((a) => `  ${a.identifiant.padEnd(14)} ${a.what}`),
    ...configs.flatMap((c) =>
      c.staffSignIn.oidc?.issuer.startsWith('http://localhost:')
        ? [
            `Staff of ${c.name} may also choose "Se connecter avec ${c.staffSignIn.oidc.label}" (type demo-admin@example.fr)`,
          ]
        : [],
    ),
    config.smtpUrl ? '' : `Mails are not sent: read them at http://${config.platformDomain}${port}/_outbox`,
    '',
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
}
