// Opens the database a Config names: applies pending migrations, then returns a Prisma client
// tuned for serving. SQLite: WAL, busy timeout, foreign keys, durable commits. PostgreSQL: a
// bounded pool with connect and statement timeouts.
import { existsSync, mkdirSync } from 'node:fs'
import BetterSqlite3 from 'better-sqlite3'
import { dirname } from 'node:path'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils'
import { PrismaClient } from '../generated/sqlite/client.ts'
import type { Config } from '../config.ts'
import { migrationSource, providerOf, sqlitePath, type Provider } from './providers.ts'
import { applyMigrations, expectedMigrations } from './schema-engine.ts'
import { serializedSqlite } from './serialized-sqlite.ts'

// Both generated clients come from the same models, so they have the same API; the SQLite one's
// types stand for both.
export type Database = PrismaClient
export { Prisma } from '../generated/sqlite/client.ts'

export type DatabaseConfig = Pick<Config, 'databaseUrl' | 'sqliteBusyTimeoutMs' | 'databasePoolSize' | 'databaseStatementTimeoutMs' | 'databaseConnectTimeoutMs' | 'databaseConnectRetries'>

export interface OpenedDatabase {
  prisma: Database
  provider: Provider
  appliedMigrations: string[]
}

type Logger = (message: string) => void

/**
 * Interactive transactions: how long one may wait to start (SQLite queues them on its single
 * connection) and how long it may run. Transactions here are short; these bound the worst case.
 */
const transactionOptions = { maxWait: 10_000, timeout: 15_000 }
const LOCK_TIMEOUT_MS = 5_000

// The PostgreSQL driver, adapter and generated client are imported only when DATABASE_URL names
// PostgreSQL: a SQLite server never loads them (megabytes of heap at idle).
async function adapterFactory (config: DatabaseConfig, purpose: 'serve' | 'migrate'): Promise<SqlMigrationAwareDriverAdapterFactory> {
  switch (providerOf(config.databaseUrl)) {
    case 'sqlite': {
      const path = sqlitePath(config.databaseUrl)
      mkdirSync(dirname(path), { recursive: true })
      return new PrismaBetterSqlite3({ url: path, timeout: config.sqliteBusyTimeoutMs })
    }
    case 'postgresql': {
      const { PrismaPg } = await import('@prisma/adapter-pg')
      return new PrismaPg({
        connectionString: config.databaseUrl,
        max: purpose === 'serve' ? config.databasePoolSize : 1,
        connectionTimeoutMillis: config.databaseConnectTimeoutMs,
        // Migrations may legitimately run long; requests may not.
        statement_timeout: purpose === 'serve' && config.databaseStatementTimeoutMs > 0 ? config.databaseStatementTimeoutMs : undefined,
        // A row lock held by a stuck transaction fails the waiter well before its own transaction
        // times out, so it answers 503 TRY_AGAIN instead of hanging.
        lock_timeout: purpose === 'serve' ? LOCK_TIMEOUT_MS : undefined,
        idleTimeoutMillis: 30_000
      })
    }
  }
}

/**
 * True when a SQLite file already has every committed migration. Checked with a plain read, because
 * the migration engine takes locks that another instance's open connection would make it wait for.
 */
function sqliteIsMigrated (config: DatabaseConfig): boolean {
  const path = sqlitePath(config.databaseUrl)
  if (!existsSync(path)) return false
  const db = new BetterSqlite3(path, { readonly: true, timeout: config.sqliteBusyTimeoutMs })
  try {
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations'").get()
    if (table === undefined) return false
    const applied = new Set((db.prepare('SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL').all() as Array<{ migration_name: string }>).map((row) => row.migration_name))
    return expectedMigrations('sqlite').every((name) => applied.has(name))
  } finally {
    db.close()
  }
}

/**
 * The same check on PostgreSQL, with one plain connection: the migration engine (WebAssembly) costs
 * about a second and tens of megabytes to load, which a start on an up-to-date database need not pay.
 */
async function postgresIsMigrated (config: DatabaseConfig): Promise<boolean> {
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: config.databaseUrl, connectionTimeoutMillis: config.databaseConnectTimeoutMs })
  await client.connect()
  try {
    const { rows: [table] } = await client.query<{ name: string | null }>("SELECT to_regclass('_prisma_migrations')::text AS name")
    if (table?.name == null) return false
    const { rows } = await client.query<{ migration_name: string }>('SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL')
    const applied = new Set(rows.map((row) => row.migration_name))
    return expectedMigrations('postgresql').every((name) => applied.has(name))
  } finally {
    await client.end()
  }
}

/** Applies committed migrations the database lacks; returns their names. */
export async function migrateDatabase (config: DatabaseConfig): Promise<string[]> {
  const provider = providerOf(config.databaseUrl)
  if (provider === 'sqlite' ? sqliteIsMigrated(config) : await postgresIsMigrated(config)) return []
  return await applyMigrations(migrationSource(provider), await adapterFactory(config, 'migrate'))
}

export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError'
}

/** Migrates, retrying an unreachable database with doubling waits when configured to. */
async function migrateWithRetries (config: DatabaseConfig, log: Logger): Promise<string[]> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await migrateDatabase(config)
    } catch (error) {
      const message = error instanceof Error ? error.message.split('\n')[0] ?? String(error) : String(error)
      if (attempt >= config.databaseConnectRetries) {
        throw new DatabaseUnavailableError(`Could not prepare the database named by DATABASE_URL (${config.databaseUrl.replace(/\/\/[^@/]*@/, '//***@')}): ${message}`)
      }
      const waitMs = Math.min(500 * 2 ** attempt, 30_000)
      log(`database not ready (${message}); retry ${attempt + 1} of ${config.databaseConnectRetries} in ${waitMs} ms`)
      await new Promise((resolve) => setTimeout(resolve, waitMs))
    }
  }
}

export async function openDatabase (config: DatabaseConfig, log: Logger = () => {}): Promise<OpenedDatabase> {
  const provider = providerOf(config.databaseUrl)
  const appliedMigrations = await migrateWithRetries(config, log)
  if (provider === 'postgresql') {
    const { PrismaClient: PostgresPrismaClient } = await import('../generated/postgresql/client.ts')
    const prisma = new PostgresPrismaClient({ adapter: await adapterFactory(config, 'serve'), transactionOptions }) as unknown as Database
    return { prisma, provider, appliedMigrations }
  }
  const prisma = new PrismaClient({ adapter: serializedSqlite(await adapterFactory(config, 'serve')), transactionOptions })
  // One connection per client, so these per-connection settings hold for every query.
  await prisma.$queryRawUnsafe('PRAGMA journal_mode = WAL')
  await prisma.$executeRawUnsafe('PRAGMA synchronous = FULL')
  await prisma.$executeRawUnsafe('PRAGMA foreign_keys = ON')
  await prisma.$executeRawUnsafe(`PRAGMA busy_timeout = ${Math.trunc(config.sqliteBusyTimeoutMs)}`)
  return { prisma, provider, appliedMigrations }
}
