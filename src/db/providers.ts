// Which database a DATABASE_URL names, and where each provider keeps its schema and migrations.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { randomUUID } from 'node:crypto'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils'
import type { MigrationSource } from './schema-engine.ts'

export type Provider = 'sqlite' | 'postgresql'
export const providers: Provider[] = ['sqlite', 'postgresql']

const prismaDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'prisma')

export class DatabaseUrlError extends Error {
  override name = 'DatabaseUrlError'
}

export function providerOf (databaseUrl: string): Provider {
  if (databaseUrl.startsWith('file:')) return 'sqlite'
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) return 'postgresql'
  throw new DatabaseUrlError(`DATABASE_URL must be a file: URL (SQLite) or a postgres:// / postgresql:// URL (PostgreSQL); got "${databaseUrl.replace(/\/\/[^@/]*@/, '//***@').slice(0, 60)}"`)
}

/** The filesystem path of a SQLite `file:` URL, resolved against the working directory. */
export function sqlitePath (databaseUrl: string): string {
  const path = decodeURIComponent(databaseUrl.replace(/^file:(\/\/)?/, '').split('?')[0] ?? '')
  if (path === '') throw new DatabaseUrlError('DATABASE_URL "file:" needs a path, e.g. file:./data/copydesk.db')
  return resolve(path)
}

export function migrationSource (provider: Provider): MigrationSource {
  return {
    schemaPath: join(prismaDir, provider, 'schema.prisma'),
    migrationsDir: join(prismaDir, provider, 'migrations')
  }
}

/** The URL of another database on the same PostgreSQL server. */
export function withDatabaseName (postgresUrl: string, name: string): string {
  const url = new URL(postgresUrl)
  url.pathname = `/${name}`
  return url.toString()
}

/**
 * An empty throw-away database to replay migrations on; `dispose` removes it. PostgreSQL needs a
 * server: SCRATCH_POSTGRES_URL (or TEST_POSTGRES_URL) names one where databases may be created.
 */
export async function scratchDatabase (provider: Provider): Promise<{ factory: SqlMigrationAwareDriverAdapterFactory, url: string, dispose: () => Promise<void> }> {
  switch (provider) {
    case 'sqlite': {
      const dir = mkdtempSync(join(tmpdir(), 'copydesk-scratch-'))
      const url = join(dir, 'scratch.db')
      return { factory: new PrismaBetterSqlite3({ url }), url: `file:${url}`, dispose: async () => { rmSync(dir, { recursive: true, force: true }) } }
    }
    case 'postgresql': {
      const adminUrl = process.env.SCRATCH_POSTGRES_URL ?? process.env.TEST_POSTGRES_URL
      if (adminUrl === undefined) throw new DatabaseUrlError('Set SCRATCH_POSTGRES_URL to a PostgreSQL server where a scratch database may be created')
      const names = ['scratch', 'shadow'].map((role) => `copydesk_${role}_${randomUUID().replace(/-/g, '')}`)
      for (const name of names) await runAdmin(adminUrl, `CREATE DATABASE "${name}"`)
      const [url, shadowUrl] = names.map((name) => withDatabaseName(adminUrl, name)) as [string, string]
      // Imported here, not at the top: a SQLite server never loads the PostgreSQL driver.
      const { PrismaPg } = await import('@prisma/adapter-pg')
      const main = new PrismaPg({ connectionString: url, max: 2 })
      // PrismaPg's own shadow database ignores the name it creates when given a connection string.
      const factory: SqlMigrationAwareDriverAdapterFactory = {
        provider: main.provider,
        adapterName: main.adapterName,
        connect: async () => await main.connect(),
        connectToShadowDb: async () => await new PrismaPg({ connectionString: shadowUrl, max: 2 }).connect()
      }
      return {
        factory,
        url,
        dispose: async () => { for (const name of names) await runAdmin(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) }
      }
    }
  }
}

export async function runAdmin (adminUrl: string, sql: string): Promise<void> {
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}
