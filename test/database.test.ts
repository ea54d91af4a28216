import t from 'tap'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { composeSchema } from '../prisma/generate.mjs'
import { migrateDatabase, openDatabase } from '../src/db/client.ts'
import { migrationSource, providerOf, providers, scratchDatabase } from '../src/db/providers.ts'
import { diffMigrationsToSchema } from '../src/db/schema-engine.ts'
import { buildTestApp, createArticle, json } from './helper.ts'

function tempDatabaseUrl (t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'copydesk-db-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return `file:${join(dir, 'copydesk.db')}`
}

t.test('each provider schema is generated from the one model definition', async (t) => {
  for (const provider of providers) {
    const committed = readFileSync(migrationSource(provider).schemaPath, 'utf8')
    t.equal(committed, composeSchema(provider), `prisma/${provider}/schema.prisma matches prisma/models.prisma (run npm run db:generate)`)
  }
})

t.test('the committed migrations produce exactly the current schema', async (t) => {
  for (const provider of providers) {
    const scratch = await scratchDatabase(provider)
    const pending = await diffMigrationsToSchema(migrationSource(provider), scratch.factory).finally(scratch.dispose)
    t.equal(pending, '', `${provider}: no schema change lacks a migration (run npm run db:migration -- <name>)`)
  }
})

t.test('migrations are recorded the way prisma migrate deploy expects, and apply once', async (t) => {
  const databaseUrl = tempDatabaseUrl(t)
  const first = await migrateDatabase({ databaseUrl, sqliteBusyTimeoutMs: 1000 })
  const onDisk = readdirSync(migrationSource('sqlite').migrationsDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort()
  t.same(first, onDisk, 'every committed migration applied')
  t.same(await migrateDatabase({ databaseUrl, sqliteBusyTimeoutMs: 1000 }), [], 'a second run applies nothing')
  const raw = new Database(databaseUrl.replace(/^file:/, ''), { readonly: true })
  t.teardown(() => raw.close())
  const rows = raw.prepare('SELECT migration_name, finished_at, rolled_back_at, checksum FROM _prisma_migrations ORDER BY migration_name').all() as any[]
  t.same(rows.map((row) => row.migration_name), onDisk)
  t.ok(rows.every((row) => row.finished_at !== null && row.rolled_back_at === null && /^[0-9a-f]{64}$/.test(row.checksum)), 'finished, with checksums')
})

t.test('SQLite is configured for a server: WAL, foreign keys, busy timeout, durable commits', async (t) => {
  const { prisma } = await openDatabase({ databaseUrl: tempDatabaseUrl(t), sqliteBusyTimeoutMs: 4321 })
  t.teardown(async () => { await prisma.$disconnect() })
  const pragma = async (name: string): Promise<unknown> => Object.values((await prisma.$queryRawUnsafe<Array<Record<string, unknown>>>(`PRAGMA ${name}`))[0] ?? {})[0]
  t.equal(await pragma('journal_mode'), 'wal')
  t.equal(Number(await pragma('foreign_keys')), 1)
  t.equal(Number(await pragma('busy_timeout')), 4321)
  t.equal(Number(await pragma('synchronous')), 2, 'FULL: a commit survives a power cut')
})

t.test('DATABASE_URL must name a supported database', async (t) => {
  t.equal(providerOf('file:./data/x.db'), 'sqlite')
  t.throws(() => providerOf('mysql://localhost/x'), { name: 'DatabaseUrlError' })
  t.throws(() => providerOf('./data/x.db'), /DATABASE_URL/)
})

t.test('committed data survives a restart', async (t) => {
  const databaseUrl = tempDatabaseUrl(t)
  const first = await buildTestApp(t, { databaseUrl })
  const article = await createArticle(first, { headline: 'Survives restarts' })
  await first.close()
  const second = await buildTestApp(t, { databaseUrl })
  const reread = await second.inject({ method: 'GET', url: `/articles/${article.id}` })
  t.equal(reread.statusCode, 200)
  t.equal(json(reread).headline, 'Survives restarts')
})
