// A real PostgreSQL streaming replica of the test server (TEST_POSTGRES_URL, see .ci/postgres.sh):
// pg_basebackup -R from it into a temporary folder, started on a free port of its own. The test
// server is made with `initdb -A trust`, whose pg_hba.conf lets local connections replicate. As
// root (CI's container), the server binaries run as the postgres user, as .ci/postgres.sh does.
import { execFile } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'

const run = promisify(execFile)

interface TapLike { teardown: (fn: () => unknown) => void }

export interface TestReplica {
  /** The replica's URL for a database of the primary (replicated as it is created there). */
  urlOf: (primaryDatabaseUrl: string) => string
  stop: () => Promise<void>
  start: () => Promise<void>
  /** Runs one statement on the replica's copy of a database (e.g. pg_wal_replay_pause()). */
  query: <T extends pg.QueryResultRow>(primaryDatabaseUrl: string, sql: string) => Promise<T[]>
}

function binDir (): string {
  const base = '/usr/lib/postgresql'
  const version = existsSync(base) ? readdirSync(base).find((name) => existsSync(join(base, name, 'bin', 'pg_basebackup'))) : undefined
  if (version === undefined) throw new Error('pg_basebackup not found under /usr/lib/postgresql/*/bin (apt-get install postgresql)')
  return join(base, version, 'bin')
}

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => { typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port')) })
    })
  })
}

const asRoot = process.getuid?.() === 0

/** Runs a server binary, as the postgres user when this process is root (PostgreSQL refuses root). */
async function runBinary (bin: string, args: string[]): Promise<void> {
  if (asRoot) await run('runuser', ['-u', 'postgres', '--', bin, ...args])
  else await run(bin, args)
}

export async function startTestReplica (t: TapLike, primaryAdminUrl: string): Promise<TestReplica> {
  const bin = binDir()
  const primary = new URL(primaryAdminUrl)
  const dir = mkdtempSync(join(tmpdir(), 'copydesk-replica-'))
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres'])
    chownSync(dir, Number(stdout.trim()), -1)
  }
  const data = join(dir, 'data')
  await runBinary(join(bin, 'pg_basebackup'), ['-h', primary.hostname, '-p', primary.port, '-U', decodeURIComponent(primary.username || 'postgres'), '-D', data, '-R', '-X', 'stream', '-c', 'fast'])
  const port = await freePort()
  // A standby must allow at least as many connections as its primary, or it refuses to start.
  const admin = new pg.Client({ connectionString: primaryAdminUrl })
  await admin.connect()
  const maxConnections = (await admin.query<{ max_connections: string }>('SHOW max_connections')).rows[0]?.max_connections ?? '100'
  await admin.end()
  const start = async (): Promise<void> => {
    await runBinary(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c hot_standby=on -c max_connections=${maxConnections} -c fsync=off`, 'start'])
  }
  const stop = async (): Promise<void> => {
    await runBinary(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop'])
  }
  await start()
  t.teardown(async () => {
    // SIGQUIT is PostgreSQL's immediate shutdown; sent straight to the postmaster, it needs no pg_ctl.
    const pid = existsSync(join(data, 'postmaster.pid')) ? Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]) : 0
    if (pid > 0) {
      try { process.kill(pid, 'SIGQUIT') } catch { /* already gone */ }
      for (let waited = 0; waited < 10_000 && existsSync(`/proc/${pid}`); waited += 50) await new Promise((resolve) => setTimeout(resolve, 50))
    }
    rmSync(dir, { recursive: true, force: true })
  })
  const urlOf = (primaryDatabaseUrl: string): string => {
    const url = new URL(primaryDatabaseUrl)
    url.port = String(port)
    return url.toString()
  }
  return {
    urlOf,
    stop,
    start,
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
