// Reads the environment, opens (migrating) the database, seeds an empty one, listens, and shuts
// down gracefully: in-flight requests finish and the database closes before the process exits.
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.ts'
import { ConfigError, loadConfig } from './config.ts'
import { DatabaseUrlError } from './db/providers.ts'
import { DatabaseUnavailableError } from './db/client.ts'
import { seedIfEmpty } from './db/seed.ts'
import { siteWarnings } from './delivery/site.ts'
import { withStartupLock } from './db/startup-lock.ts'
import { logProcessWarnings } from './process-warnings.ts'

/** Before the app (and its logger) exists: a JSON line at warn level, as the logger would write it. */
function startupLog (message: string, details: object = {}): void {
  process.stdout.write(JSON.stringify({ level: 40, time: Date.now(), pid: process.pid, ...details, msg: message }) + '\n')
}

async function main (): Promise<void> {
  // Warnings raised while the app is built (the AWS SDK warns about old Node versions as it loads)
  // come before its logger exists: JSON lines too, never Node's plain text.
  logProcessWarnings({ warn: (details, message) => { startupLog(message, details) }, debug: () => {} })
  const config = loadConfig()
  // Several instances starting at once on PostgreSQL take turns: migrations, the first keys
  // (created when the app is ready) and the demo content happen exactly once.
  const app = await withStartupLock(config, async () => {
    const app = await buildApp(config)
    logProcessWarnings(app.log)
    await app.ready()
    if (config.seedDemoContent && await seedIfEmpty(app.db)) app.log.info('seeded demo content into the empty database')
    return app
  }, startupLog)
  closeWithGrace({ delay: 10_000 + config.shutdownDrainMs }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err }, 'shutting down after an error')
    else app.log.info({ signal }, 'shutting down')
    if (err === undefined && config.shutdownDrainMs > 0) {
      app.startDraining()
      await new Promise((resolve) => setTimeout(resolve, config.shutdownDrainMs))
    }
    await app.close()
  })
  await app.listen({ port: config.port, host: config.host })
  for (const warning of siteWarnings(config)) app.log.warn(warning)
  // A wildcard address is where the server listens, not one to open: name this machine's loopback instead.
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host === '::' ? '[::1]' : config.host.includes(':') ? `[${config.host}]` : config.host
  app.log.info(`API docs at http://${host}:${config.port}/docs`)
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof DatabaseUrlError || error instanceof DatabaseUnavailableError) console.error(error.message)
  else console.error('Copydesk could not start:', error)
  process.exit(1)
})
