// The better-sqlite3 adapter has one connection per client. It queues transactions behind each
// other, but a plain query arriving while a transaction is open runs on that same connection,
// inside the transaction: it reads uncommitted rows and, if it writes, is rolled back with a
// stranger's transaction. This wrapper puts plain queries in the same queue, so every statement
// runs either inside its own transaction or between transactions.
//
// It also prepares each statement once: the adapter prepares every query again (and binds it for
// good, so a statement cannot be reused as it is), which costs more than running most of them.
import { Mutex } from 'async-mutex'
import type BetterSqlite3 from 'better-sqlite3'
import { LRUCache } from 'lru-cache'
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory, Transaction } from '@prisma/driver-adapter-utils'

/** The statements the adapter uses, as it uses them: bound once, then run, or read as raw rows. */
interface BoundStatement { readonly reader: boolean, run: () => BetterSqlite3.RunResult, columns: () => BetterSqlite3.ColumnDefinition[], raw: () => { all: () => unknown[] } }

const PREPARED_STATEMENTS = 1000

/** Makes the connection's prepare() return statements kept by their SQL, bound anew on each use. */
function preparedOnce (connection: BetterSqlite3.Database): void {
  const prepare = connection.prepare.bind(connection)
  // Prisma's queries vary only by the number of items in IN (…) lists, so a thousand covers them.
  const statements = new LRUCache<string, BetterSqlite3.Statement>({ max: PREPARED_STATEMENTS })
  const prepared = (sql: string): BetterSqlite3.Statement => {
    let statement = statements.get(sql)
    if (statement === undefined) {
      statement = prepare(sql)
      statements.set(sql, statement)
    }
    return statement
  }
  const bound = (statement: BetterSqlite3.Statement, parameters: unknown[]): BoundStatement => ({
    reader: statement.reader,
    run: () => statement.run(parameters),
    columns: () => statement.columns(),
    raw: () => ({ all: () => statement.raw(true).all(parameters) })
  })
  connection.prepare = ((sql: string) => {
    const statement = prepared(sql)
    return { bind: (parameters: unknown[]) => bound(statement, parameters), run: () => statement.run() }
  }) as unknown as typeof connection.prepare
}

function serialized (adapter: SqlDriverAdapter): SqlDriverAdapter {
  // The adapter's connection (a public field of @prisma/adapter-better-sqlite3's adapter).
  const connection = (adapter as unknown as { client?: BetterSqlite3.Database }).client
  if (connection !== undefined && typeof connection.prepare === 'function') preparedOnce(connection)
  const queue = new Mutex()
  const startTransaction: SqlDriverAdapter['startTransaction'] = async (isolationLevel) => {
    const release = await queue.acquire()
    let transaction: Transaction
    try {
      transaction = await adapter.startTransaction(isolationLevel)
    } catch (error) {
      release()
      throw error
    }
    const commit = transaction.commit.bind(transaction)
    const rollback = transaction.rollback.bind(transaction)
    transaction.commit = async () => { try { await commit() } finally { release() } }
    transaction.rollback = async () => { try { await rollback() } finally { release() } }
    return transaction
  }
  return new Proxy(adapter, {
    get (target, property) {
      if (property === 'startTransaction') return startTransaction
      if (property === 'queryRaw' || property === 'executeRaw' || property === 'executeScript') {
        const method = (target[property] as (argument: never) => Promise<unknown>).bind(target)
        return async (argument: never) => await queue.runExclusive(async () => await method(argument))
      }
      // The adapter keeps private fields, so its own methods must run with itself as `this`.
      const value: unknown = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
}

export function serializedSqlite (factory: SqlMigrationAwareDriverAdapterFactory): SqlMigrationAwareDriverAdapterFactory {
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => serialized(await factory.connect()),
    connectToShadowDb: async () => serialized(await factory.connectToShadowDb())
  }
}
