import t from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import pg from 'pg'
import { composeSchema } from '../prisma/generate.mjs'
import { migrateDatabase, openDatabase } from '../src/db/client.ts'
import { migrationSource, providerOf, providers, scratchDatabase } from '../src/db/providers.ts'
import { diffAppliedMigrationsToSchema, schemaCreationSql, snapshotPath } from '../src/db/schema-engine.ts'
import { loadConfig } from '../src/config.ts'
import { buildTestApp, createArticle, json, testDatabaseUrl, testProvider } from './helper.ts'

t.test('each provider schema is generated from the one model definition', async (t) => {
  for (const provider of providers) {
    const source = migrationSource(provider)
    const schema = readFileSync(source.schemaPath, 'utf8')
    t.equal(schema, composeSchema(provider), `prisma/${provider}/schema.prisma matches prisma/models.prisma (run npm run db:generate)`)
    t.equal(readFileSync(snapshotPath(source), 'utf8'), schema, `${provider}: the migrations were written for this schema (run npm run db:migration -- <name>)`)
  }
})

t.test('the SQLite migrations produce exactly the current schema', async (t) => {
  const scratch = await scratchDatabase('sqlite')
  const pending = await diffAppliedMigrationsToSchema(migrationSource('sqlite'), scratch.factory).finally(scratch.dispose)
  t.equal(pending, '', 'nothing is left to apply after the migrations')
})

t.test('the PostgreSQL migrations produce exactly the current schema', { skip: process.env.TEST_POSTGRES_URL === undefined && 'needs TEST_POSTGRES_URL' }, async (t) => {
  // The adapter cannot serve the engine's catalog introspection, so compare catalogs directly:
  // one database built by the migrations, one by the schema's own creation script. The search
  // table is raw SQL outside Prisma's models (src/search), so only the migrations make it.
  const migrated = await scratchDatabase('postgresql')
  const created = await scratchDatabase('postgresql')
  t.teardown(async () => { await migrated.dispose(); await created.dispose() })
  await migrateDatabase(loadConfig({}, { databaseUrl: migrated.url }))
  const script = await schemaCreationSql(migrationSource('postgresql'), created.factory)
  const describe = async (url: string, runFirst?: string): Promise<unknown> => {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      if (runFirst !== undefined) await client.query(runFirst)
      const columns = await client.query(`SELECT table_name, column_name, data_type, is_nullable, column_default, collation_name FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name <> '_prisma_migrations' AND table_name <> 'article_search' ORDER BY table_name, column_name`)
      const indexes = await client.query(`SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> '_prisma_migrations' AND tablename <> 'article_search' ORDER BY indexname`)
      const constraints = await client.query(`SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint
        WHERE connamespace = 'public'::regnamespace AND conname NOT LIKE '_prisma_migrations%' AND conname NOT LIKE 'article\\_search%' ORDER BY conname`)
      return { columns: columns.rows, indexes: indexes.rows, constraints: constraints.rows }
    } finally {
      await client.end()
    }
  }
  t.same(await describe(migrated.url), await describe(created.url, script))
})

t.test('migrations are recorded the way prisma migrate deploy expects, and apply once', async (t) => {
  const databaseUrl = await testDatabaseUrl(t)
  const config = loadConfig({}, { databaseUrl })
  const first = await migrateDatabase(config)
  const onDisk = readdirSync(migrationSource(testProvider).migrationsDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort()
  t.same(first, onDisk, 'every committed migration applied')
  t.same(await migrateDatabase(config), [], 'a second run applies nothing')
  const { prisma } = await openDatabase(config)
  t.teardown(async () => { await prisma.$disconnect() })
  const rows = await prisma.$queryRawUnsafe<Array<{ migration_name: string, finished_at: unknown, rolled_back_at: unknown, checksum: string }>>(
    'SELECT migration_name, finished_at, rolled_back_at, checksum FROM _prisma_migrations ORDER BY migration_name')
  t.same(rows.map((row) => row.migration_name), onDisk)
  t.ok(rows.every((row) => row.finished_at !== null && row.rolled_back_at === null && /^[0-9a-f]{64}$/.test(row.checksum)), 'finished, with checksums')
})

t.test('SQLite is configured for a server: WAL, foreign keys, busy timeout, durable commits', { skip: testProvider !== 'sqlite' && 'SQLite only' }, async (t) => {
  const { prisma } = await openDatabase(loadConfig({}, { databaseUrl: await testDatabaseUrl(t), sqliteBusyTimeoutMs: 4321 }))
  t.teardown(async () => { await prisma.$disconnect() })
  const pragma = async (name: string): Promise<unknown> => Object.values((await prisma.$queryRawUnsafe<Array<Record<string, unknown>>>(`PRAGMA ${name}`))[0] ?? {})[0]
  t.equal(await pragma('journal_mode'), 'wal')
  t.equal(Number(await pragma('foreign_keys')), 1)
  t.equal(Number(await pragma('busy_timeout')), 4321)
  t.equal(Number(await pragma('synchronous')), 2, 'FULL: a commit survives a power cut')
})

t.test('PostgreSQL is configured with a statement timeout', { skip: testProvider !== 'postgresql' && 'PostgreSQL only' }, async (t) => {
  const { prisma } = await openDatabase(loadConfig({}, { databaseUrl: await testDatabaseUrl(t), databaseStatementTimeoutMs: 1234 }))
  t.teardown(async () => { await prisma.$disconnect() })
  const [row] = await prisma.$queryRawUnsafe<Array<{ statement_timeout: string }>>('SHOW statement_timeout')
  t.equal(row?.statement_timeout, '1234ms')
})

t.test('DATABASE_URL must name a supported database', async (t) => {
  t.equal(providerOf('file:./data/x.db'), 'sqlite')
  t.equal(providerOf('postgres://u:p@db:5432/copydesk'), 'postgresql')
  t.equal(providerOf('postgresql://db/copydesk'), 'postgresql')
  t.throws(() => providerOf('mysql://localhost/x'), { name: 'DatabaseUrlError' })
  t.throws(() => providerOf('./data/x.db'), /DATABASE_URL/)
  t.notMatch((() => { try { providerOf('mysql://admin:secret@db/x') } catch (error) { return String(error) } return '' })(), 'secret', 'the password is not echoed')
})

t.test('committed data survives a restart', async (t) => {
  const databaseUrl = await testDatabaseUrl(t)
  const first = await buildTestApp(t, { databaseUrl })
  const article = await createArticle(first, { headline: 'Survives restarts' })
  await first.close()
  const second = await buildTestApp(t, { databaseUrl })
  const reread = await second.inject({ method: 'GET', url: `/articles/${article.id}` })
  t.equal(reread.statusCode, 200)
  t.equal(json(reread).headline, 'Survives restarts')
})

t.test('a request is never swept into another request\'s transaction, nor rolled back with it', async (t) => {
  const app = await buildTestApp(t)
  let releaseTransaction!: () => void
  const holding = new Promise<void>((resolve) => { releaseTransaction = resolve })
  let entered!: () => void
  const transactionOpen = new Promise<void>((resolve) => { entered = resolve })
  // A transaction that writes, waits, then fails: everything in it must vanish, and nothing else.
  const failing = app.db.$transaction(async (tx) => {
    await tx.author.create({ data: { slug: 'rolled-back', name: 'Rolled Back', links: [] } })
    entered()
    await holding
    throw new Error('abandoned')
  }).catch((error: unknown) => error)
  await transactionOpen
  const meanwhile = app.inject({ method: 'POST', url: '/webhooks', payload: { url: 'https://hooks.example.com/in', events: ['*'] } })
  const peek = app.inject({ method: 'GET', url: '/authors/slug/rolled-back' })
  await new Promise((resolve) => setTimeout(resolve, 50))
  releaseTransaction()
  t.match(await failing, { message: 'abandoned' })
  t.equal((await meanwhile).statusCode, 201, 'the concurrent write was acknowledged')
  t.equal((await peek).statusCode, 404, 'the concurrent read did not see uncommitted data')
  t.equal(json(await app.inject({ method: 'GET', url: '/webhooks' })).items.length, 1, 'the acknowledged write survived the other transaction\'s rollback')
  t.equal((await app.inject({ method: 'GET', url: '/authors/slug/rolled-back' })).statusCode, 404, 'the rolled-back write is gone')
})
