// Which database a DATABASE_URL names, and where each provider keeps its schema and migrations.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils'
import type { MigrationSource } from './schema-engine.ts'

export type Provider = 'sqlite'
export const providers: Provider[] = ['sqlite']

const prismaDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'prisma')

export class DatabaseUrlError extends Error {
  override name = 'DatabaseUrlError'
}

export function providerOf (databaseUrl: string): Provider {
  if (databaseUrl.startsWith('file:')) return 'sqlite'
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new DatabaseUrlError('DATABASE_URL names PostgreSQL, which this build does not support yet; use a file: URL for SQLite')
  }
  throw new DatabaseUrlError(`DATABASE_URL must start with "file:" (SQLite); got "${databaseUrl.slice(0, 40)}"`)
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

/** An empty throw-away database to replay migrations on; `dispose` removes it. */
export async function scratchDatabase (provider: Provider): Promise<{ factory: SqlMigrationAwareDriverAdapterFactory, dispose: () => Promise<void> }> {
  switch (provider) {
    case 'sqlite': {
      const dir = mkdtempSync(join(tmpdir(), 'copydesk-scratch-'))
      return {
        factory: new PrismaBetterSqlite3({ url: join(dir, 'scratch.db') }),
        dispose: async () => { rmSync(dir, { recursive: true, force: true }) }
      }
    }
  }
}
