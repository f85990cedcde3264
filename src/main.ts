import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.ts'
import { loadConfig } from './platform/config.ts'
import { provisionAll } from './platform/tenancy/provisioning.ts'
import { seedDemo } from './demo/seed.ts'

const config = loadConfig()
const app = await buildApp(config)

if (config.env !== 'production') {
  // outside production, `npm start` is the whole setup: migrations, demo tenants and their data
  await provisionAll(
    app.orm,
    app.registry.list().map((t) => t.config),
    (line) => app.log.info(line),
  )
  const accounts = await seedDemo(
    app.orm,
    app.registry.list().map((t) => t.config),
  )
  app.log.info({ accounts }, 'demo data ready')
}
if (config.database.kind === 'pglite') {
  app.log.info({ dataDir: config.database.dataDir }, 'no DATABASE_URL: using the embedded PGlite database')
}

closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'closing after an error')
  else app.log.info({ signal }, 'closing')
  await app.close()
})

await app.listen({ host: config.host, port: config.port })
