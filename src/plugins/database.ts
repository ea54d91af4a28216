// Opens (and migrates) the database for the app's lifetime and closes it with the app.
import fp from 'fastify-plugin'
import type { Config } from '../config.ts'
import type { Database } from '../db/client.ts'
import type { Provider } from '../db/providers.ts'
import { backfillSortNames } from '../authors/service.ts'
import { openForWrites } from '../changes/open.ts'

declare module 'fastify' {
  interface FastifyInstance {
    db: Database
    dbProvider: Provider
    config: Config
  }
}

export default fp<{ config: Config }>(async (app, { config }) => {
  const { prisma, provider, appliedMigrations } = await openForWrites(config, (message) => { app.log.warn(message) })
  if (appliedMigrations.length > 0) app.log.info({ migrations: appliedMigrations }, 'applied database migrations')
  await backfillSortNames(prisma)
  app.decorate('db', prisma)
  app.decorate('dbProvider', provider)
  app.addHook('onClose', async () => { await prisma.$disconnect() })
}, { name: 'database' })
