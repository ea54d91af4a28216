// Prisma's schema engine as WebAssembly, so migrations run where the native engine cannot be
// downloaded (air-gapped build machines, CI). Migrations applied this way are recorded in the
// standard `_prisma_migrations` table and stay compatible with `prisma migrate deploy`.
import { readFileSync, readdirSync, existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bindMigrationAwareSqlAdapterFactory, type SqlDriverAdapter, type SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils'
import * as engineBindings from '@prisma/schema-engine-wasm/schema_engine_bg'
import type { MigrationList, SchemaEngine as SchemaEngineInstance } from '@prisma/schema-engine-wasm'

const require = createRequire(import.meta.url)
let wasmReady = false

// The few WebAssembly globals used here (the DOM lib that declares them is not loaded).
interface WasmApi {
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: Record<string, unknown>) => { exports: Record<string, unknown> }
}

// The package entry imports the .wasm file as an ES module, which Node refuses; instantiate it by hand.
function loadWasm (): void {
  if (wasmReady) return
  const bindingsPath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg')
  const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly
  const wasmModule = new wasm.Module(readFileSync(join(dirname(bindingsPath), 'schema_engine_bg.wasm')))
  const instance = new wasm.Instance(wasmModule, { './schema_engine_bg.js': engineBindings })
  const exports = instance.exports as unknown as { __wbindgen_start: () => void }
  engineBindings.__wbg_set_wasm(exports)
  exports.__wbindgen_start()
  wasmReady = true
}

export interface MigrationSource {
  /** prisma/<provider>/schema.prisma */
  schemaPath: string
  /** prisma/<provider>/migrations */
  migrationsDir: string
}

const noFilters = { externalTables: [], externalEnums: [] }
/** Tables the migrations create in raw SQL for full-text search (src/search), outside Prisma's models. */
const searchTables = ['article_search', 'article_search_data', 'article_search_idx', 'article_search_content', 'article_search_docsize', 'article_search_config']

export function readMigrationList (migrationsDir: string): MigrationList {
  const names = existsSync(migrationsDir)
    ? readdirSync(migrationsDir, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort()
    : []
  const lockPath = join(migrationsDir, 'migration_lock.toml')
  return {
    baseDir: migrationsDir,
    lockfile: { path: 'migration_lock.toml', content: existsSync(lockPath) ? readFileSync(lockPath, 'utf8') : null },
    shadowDbInitScript: '',
    migrationDirectories: names.map((name) => ({
      path: name,
      migrationFile: { path: 'migration.sql', content: { tag: 'ok' as const, value: readFileSync(join(migrationsDir, name, 'migration.sql'), 'utf8') } }
    }))
  }
}

const expectedByProvider = new Map<string, string[]>()

/** The committed migrations' names for a provider, read once. */
export function expectedMigrations (provider: 'sqlite' | 'postgresql'): string[] {
  let names = expectedByProvider.get(provider)
  if (names === undefined) {
    const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'prisma', provider, 'migrations')
    names = readMigrationList(dir).migrationDirectories.map((migration) => migration.path)
    expectedByProvider.set(provider, names)
  }
  return names
}

async function withEngine<T> (source: MigrationSource, adapterFactory: SqlMigrationAwareDriverAdapterFactory, work: (engine: SchemaEngineInstance) => Promise<T>): Promise<T> {
  loadWasm()
  const schema = readFileSync(source.schemaPath, 'utf8')
  // The engine does not close the connections it opens; track them so a SQLite file is not left locked.
  const opened: SqlDriverAdapter[] = []
  const tracked: SqlMigrationAwareDriverAdapterFactory = {
    provider: adapterFactory.provider,
    adapterName: adapterFactory.adapterName,
    connect: async () => { const connection = await adapterFactory.connect(); opened.push(connection); return connection },
    connectToShadowDb: async () => { const connection = await adapterFactory.connectToShadowDb(); opened.push(connection); return connection }
  }
  const engine = await (engineBindings.SchemaEngine.new as unknown as (
    options: { datamodels: [string, string][] }, log: (message: string) => void, adapter: unknown
  ) => Promise<SchemaEngineInstance>)({ datamodels: [[source.schemaPath, schema]] }, () => {}, bindMigrationAwareSqlAdapterFactory(tracked))
  try {
    return await work(engine)
  } finally {
    engine.free()
    // Some the engine closed itself already; closing twice is harmless to us.
    await Promise.all(opened.map(async (connection) => { await connection.dispose().catch(() => {}) }))
  }
}

/** Applies every committed migration the database lacks; returns the names applied. */
export async function applyMigrations (source: MigrationSource, adapterFactory: SqlMigrationAwareDriverAdapterFactory): Promise<string[]> {
  return await withEngine(source, adapterFactory, async (engine) => {
    const result = await engine.applyMigrations({ migrationsList: readMigrationList(source.migrationsDir), filters: noFilters })
    return result.appliedMigrationNames
  })
}

/** The schema the committed migrations produce, saved beside them when a migration is written. */
export function snapshotPath (source: MigrationSource): string {
  return join(source.migrationsDir, 'schema-snapshot.prisma')
}

/**
 * The SQL that takes a database from the migrations' schema (the snapshot) to the current one ('' when
 * none). Comparing two schema texts needs no database, so new migrations can be written anywhere.
 */
export async function diffSnapshotToSchema (source: MigrationSource, adapterFactory: SqlMigrationAwareDriverAdapterFactory): Promise<string> {
  return await withEngine(source, adapterFactory, async (engine) => {
    const schemaFile = { path: source.schemaPath, content: readFileSync(source.schemaPath, 'utf8') }
    const snapshot = snapshotPath(source)
    const from = existsSync(snapshot)
      ? { tag: 'schemaDatamodel' as const, files: [{ path: snapshot, content: readFileSync(snapshot, 'utf8') }] }
      : { tag: 'empty' as const }
    const result = await engine.diff({ from, to: { tag: 'schemaDatamodel', files: [schemaFile] }, script: true, exitCode: null, filters: noFilters })
    const sql = result.stdout ?? ''
    return sql.includes('This is an empty migration') || /^\s*$/.test(sql) ? '' : sql
  })
}

/** The SQL that creates the current schema from nothing. */
export async function schemaCreationSql (source: MigrationSource, adapterFactory: SqlMigrationAwareDriverAdapterFactory): Promise<string> {
  return await withEngine(source, adapterFactory, async (engine) => {
    const schemaFile = { path: source.schemaPath, content: readFileSync(source.schemaPath, 'utf8') }
    const result = await engine.diff({ from: { tag: 'empty' }, to: { tag: 'schemaDatamodel', files: [schemaFile] }, script: true, exitCode: null, filters: noFilters })
    return result.stdout ?? ''
  })
}

/**
 * SQLite only: the SQL still needed after applying every migration to the empty database behind
 * `scratchFactory` ('' when the migrations produce exactly the current schema).
 */
export async function diffAppliedMigrationsToSchema (source: MigrationSource, scratchFactory: SqlMigrationAwareDriverAdapterFactory): Promise<string> {
  await applyMigrations(source, scratchFactory)
  return await withEngine(source, scratchFactory, async (engine) => {
    const schemaFile = { path: source.schemaPath, content: readFileSync(source.schemaPath, 'utf8') }
    const result = await engine.diff({
      from: { tag: 'schemaDatasource', files: [schemaFile], configDir: dirname(source.schemaPath) },
      to: { tag: 'schemaDatamodel', files: [schemaFile] },
      script: true,
      exitCode: null,
      filters: { externalTables: searchTables, externalEnums: [] }
    })
    const sql = result.stdout ?? ''
    return sql.includes('This is an empty migration') || /^\s*$/.test(sql) ? '' : sql
  })
}
