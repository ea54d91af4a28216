// Reads the environment, opens (migrating) the database, seeds an empty one, listens, and shuts
// down gracefully: in-flight requests finish and the database closes before the process exits.
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.ts'
import { ConfigError, loadConfig } from './config.ts'
import { DatabaseUrlError } from './db/providers.ts'
import { DatabaseUnavailableError } from './db/client.ts'
import { seedIfEmpty } from './db/seed.ts'
import { siteWarnings } from './delivery/site.ts'

async function main (): Promise<void> {
  const config = loadConfig()
  const app = await buildApp(config)
  // Only the embedded database seeds itself: a shared PostgreSQL is seeded on purpose (npm run db:seed),
  // never by whichever instance happens to start first.
  if (config.seedDemoContent && app.dbProvider === 'sqlite' && await seedIfEmpty(app.db)) app.log.info('seeded demo content into the empty database')
  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err }, 'shutting down after an error')
    else app.log.info({ signal }, 'shutting down')
    await app.close()
  })
  await app.listen({ port: config.port, host: config.host })
  for (const warning of siteWarnings(config)) app.log.warn(warning)
  app.log.info(`API docs at http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}/docs`)
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof DatabaseUrlError || error instanceof DatabaseUnavailableError) console.error(error.message)
  else console.error('Copydesk could not start:', error)
  process.exit(1)
})
