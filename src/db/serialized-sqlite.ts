// The better-sqlite3 adapter has one connection per client. It queues transactions behind each
// other, but a plain query arriving while a transaction is open runs on that same connection,
// inside the transaction: it reads uncommitted rows and, if it writes, is rolled back with a
// stranger's transaction. This wrapper puts plain queries in the same queue, so every statement
// runs either inside its own transaction or between transactions.
import { Mutex } from 'async-mutex'
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory, Transaction } from '@prisma/driver-adapter-utils'

function serialized (adapter: SqlDriverAdapter): SqlDriverAdapter {
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
