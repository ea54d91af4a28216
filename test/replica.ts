// A real PostgreSQL streaming replica of the test server (TEST_POSTGRES_URL, see .ci/postgres.sh):
// pg_basebackup -R from it into a temporary folder, started on a free port of its own. The test
// server is made with `initdb -A trust`, whose pg_hba.conf lets local connections replicate.
import { join } from 'node:path'
import pg from 'pg'
import { clusterAt, runServerBinary, serverFolder } from './postgres-cluster.ts'

interface TapLike { teardown: (fn: () => unknown) => void }

export interface TestReplica {
  /** The replica's URL for a database of the primary (replicated as it is created there). */
  urlOf: (primaryDatabaseUrl: string) => string
  stop: () => Promise<void>
  start: () => Promise<void>
  /** Runs one statement on the replica's copy of a database (e.g. pg_wal_replay_pause()). */
  query: <T extends pg.QueryResultRow>(primaryDatabaseUrl: string, sql: string) => Promise<T[]>
}

export async function startTestReplica (t: TapLike, primaryAdminUrl: string): Promise<TestReplica> {
  const primary = new URL(primaryAdminUrl)
  const root = await serverFolder('copydesk-replica-')
  const dataDir = join(root, 'data')
  await runServerBinary('pg_basebackup', ['-h', primary.hostname, '-p', primary.port, '-U', decodeURIComponent(primary.username || 'postgres'), '-D', dataDir, '-R', '-X', 'stream', '-c', 'fast'])
  // A standby must allow at least as many connections as its primary, or it refuses to start.
  const admin = new pg.Client({ connectionString: primaryAdminUrl })
  await admin.connect()
  const maxConnections = (await admin.query<{ max_connections: string }>('SHOW max_connections')).rows[0]?.max_connections ?? '100'
  await admin.end()
  const server = await clusterAt(root, dataDir, { settings: ['hot_standby=on', `max_connections=${maxConnections}`] })
  t.teardown(server.remove)
  const urlOf = (primaryDatabaseUrl: string): string => {
    const url = new URL(primaryDatabaseUrl)
    url.port = String(server.port)
    return url.toString()
  }
  return {
    urlOf,
    stop: server.stop,
    start: server.start,
    query: async <T extends pg.QueryResultRow>(primaryDatabaseUrl: string, sql: string): Promise<T[]> => {
      const client = new pg.Client({ connectionString: urlOf(primaryDatabaseUrl) })
      await client.connect()
      try {
        return (await client.query<T>(sql)).rows
      } finally {
        await client.end()
      }
    }
  }
}
