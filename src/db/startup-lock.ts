// Instances started together on one PostgreSQL database take turns through their start-up work
// (migrations, the bootstrap and first admin keys, demo content): the first does it, the others
// wait, then find it done. A session-level advisory lock on a connection of its own, so it is
// released however the holder ends, a crash included. SQLite needs none: one process owns the file
// for writes, and migrations already run in its own exclusive transaction.
// Only the type: the driver is imported when a PostgreSQL lock is taken, never on SQLite.
import type pg from 'pg'
import type { Config } from '../config.ts'
import { DatabaseUnavailableError } from './client.ts'
import { providerOf } from './providers.ts'

// Any fixed 64-bit number no other application on the database uses: "copydesk" in ASCII.
const STARTUP_LOCK = '7237126551004636011'

type LockConfig = Pick<Config, 'databaseUrl' | 'databaseConnectTimeoutMs' | 'databaseConnectRetries'>

/** Connects, retrying an unreachable server with doubling waits as opening the database does. */
async function connect (config: LockConfig, log: (message: string) => void): Promise<pg.Client> {
  const { default: driver } = await import('pg')
  for (let attempt = 0; ; attempt++) {
    const client = new driver.Client({ connectionString: config.databaseUrl, connectionTimeoutMillis: config.databaseConnectTimeoutMs })
    try {
      await client.connect()
      return client
    } catch (error) {
      await client.end().catch(() => {})
      const message = error instanceof Error ? error.message : String(error)
      if (attempt >= config.databaseConnectRetries) {
        throw new DatabaseUnavailableError(`Could not prepare the database named by DATABASE_URL (${config.databaseUrl.replace(/\/\/[^@/]*@/, '//***@')}): ${message}`)
      }
      const waitMs = Math.min(500 * 2 ** attempt, 30_000)
      log(`database not ready (${message}); retry ${attempt + 1} of ${config.databaseConnectRetries} in ${waitMs} ms`)
      await new Promise((resolve) => setTimeout(resolve, waitMs))
    }
  }
}

export async function withStartupLock<T> (config: LockConfig, work: () => Promise<T>, log: (message: string) => void = () => {}): Promise<T> {
  if (providerOf(config.databaseUrl) !== 'postgresql') return await work()
  const client = await connect(config, log)
  // A connection dropped while waiting must not crash the process: the lock goes with it.
  client.on('error', () => {})
  try {
    const { rows: [free] } = await client.query<{ taken: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS taken', [STARTUP_LOCK])
    if (free?.taken !== true) {
      log('another instance is starting on this database: waiting for it to finish its start-up work')
      await client.query('SELECT pg_advisory_lock($1::bigint)', [STARTUP_LOCK])
    }
    return await work()
  } finally {
    await client.end().catch(() => {})
  }
}
