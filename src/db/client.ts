// Opens the database a Config names: applies pending migrations, then returns a Prisma client
// tuned for serving (SQLite: WAL, busy timeout, foreign keys, durable commits).
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaClient } from '../generated/sqlite/client.ts'
import type { Config } from '../config.ts'
import { migrationSource, providerOf, sqlitePath, type Provider } from './providers.ts'
import { applyMigrations } from './schema-engine.ts'

export type Database = PrismaClient
export { Prisma } from '../generated/sqlite/client.ts'

export interface OpenedDatabase {
  prisma: Database
  provider: Provider
  appliedMigrations: string[]
}

function sqliteAdapter (config: Pick<Config, 'databaseUrl' | 'sqliteBusyTimeoutMs'>): PrismaBetterSqlite3 {
  const path = sqlitePath(config.databaseUrl)
  mkdirSync(dirname(path), { recursive: true })
  return new PrismaBetterSqlite3({ url: path, timeout: config.sqliteBusyTimeoutMs })
}

/** Applies committed migrations the database lacks; returns their names. */
export async function migrateDatabase (config: Pick<Config, 'databaseUrl' | 'sqliteBusyTimeoutMs'>): Promise<string[]> {
  const provider = providerOf(config.databaseUrl)
  return await applyMigrations(migrationSource(provider), sqliteAdapter(config))
}

export async function openDatabase (config: Pick<Config, 'databaseUrl' | 'sqliteBusyTimeoutMs'>): Promise<OpenedDatabase> {
  const provider = providerOf(config.databaseUrl)
  const appliedMigrations = await migrateDatabase(config)
  const prisma = new PrismaClient({ adapter: sqliteAdapter(config) })
  // One connection per client, so these per-connection settings hold for every query.
  await prisma.$queryRawUnsafe('PRAGMA journal_mode = WAL')
  await prisma.$executeRawUnsafe('PRAGMA synchronous = FULL')
  await prisma.$executeRawUnsafe('PRAGMA foreign_keys = ON')
  await prisma.$executeRawUnsafe(`PRAGMA busy_timeout = ${Math.trunc(config.sqliteBusyTimeoutMs)}`)
  return { prisma, provider, appliedMigrations }
}
