// `npm run bench:replicas`: keyless public reads of one instance with a PostgreSQL streaming replica
// (DATABASE_READ_URL) and without, on the demo content with the response cache off (so every read
// reaches a database): requests per second, and the CPU seconds the primary's server processes
// spent per 1,000 reads, in each case. Then the replica's replay lag during a burst of writes, as
// the primary sees it (pg_stat_replication) and as /ready reports it. Needs TEST_POSTGRES_URL (the
// npm script starts a throw-away server); the replica is made with pg_basebackup beside it.
import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { buildApp } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'
import { runAdmin, withDatabaseName } from '../src/db/providers.ts'
import { seedDemoContent } from '../src/db/seed.ts'
import { startTestReplica } from '../test/replica.ts'

const adminUrl = process.env.TEST_POSTGRES_URL
if (adminUrl === undefined) throw new Error('TEST_POSTGRES_URL is not set: run `npm run bench:replicas`')
const seconds = Number(process.env.BENCH_SECONDS ?? 10)
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16)
const writes = Number(process.env.BENCH_WRITES ?? 500)
const adminKey = 'cdk_bench-admin-key-0123456789abcdefghijklmnopqrstuv'

const teardowns: Array<() => unknown> = []
const scratch = mkdtempSync(join(tmpdir(), 'copydesk-bench-replicas-'))
teardowns.push(() => { rmSync(scratch, { recursive: true, force: true }) })

/** CPU seconds of a PostgreSQL server: the postmaster, its live children, and the children it reaped. */
function serverCpuSeconds (postmasterPid: number): number {
  const ticks = 100 // USER_HZ on Linux
  const fieldsOf = (pid: string): string[] | null => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    } catch { return null }
  }
  let total = 0
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    const fields = fieldsOf(pid)
    // After "pid (comm)": state, ppid, …; utime and stime are fields 14 and 15 of stat, cutime and cstime 16 and 17.
    if (fields === null) continue
    const ppid = Number(fields[1])
    if (Number(pid) === postmasterPid) total += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])
    else if (ppid === postmasterPid) total += Number(fields[11]) + Number(fields[12])
  }
  return total / ticks
}

async function postmasterPidOf (url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const { rows: [row] } = await client.query<{ data_directory: string }>('SHOW data_directory')
  await client.end()
  return Number(readFileSync(join(row!.data_directory, 'postmaster.pid'), 'utf8').split('\n')[0])
}

async function startServer (env: Record<string, string>): Promise<{ child: ChildProcess, url: string }> {
  const child = fork(join(import.meta.dirname, 'serve.ts'), ['app'], { env: { ...process.env, ...env }, execArgv: ['--import', 'tsx'] })
  child.on('exit', (code, signal) => { if (code !== 0 && signal !== 'SIGTERM') console.error(`the server exited (${String(code ?? signal)})`) })
  const [message] = await once(child, 'message') as [{ port: number }]
  return { child, url: `http://127.0.0.1:${message.port}` }
}

async function measure (url: string, pathsFile: string): Promise<number> {
  const load = fork(join(import.meta.dirname, 'load.ts'), [url, String(connections), String(seconds), pathsFile], { execArgv: ['--import', 'tsx'] })
  const [result] = await once(load, 'message') as [{ rps: number, non2xx: number, errors: number }]
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx responses, ${result.errors} errors`)
  return result.rps
}

interface Readiness { databases: Array<{ name: string, state: string, lagMs?: number | null, publicReads: number }> }
async function readiness (url: string): Promise<Readiness> {
  // Once more on a kept-alive connection the busy server closed meanwhile.
  const ask = async (): Promise<Readiness> => await (await fetch(`${url}/ready`)).json() as Readiness
  return await ask().catch(ask)
}

try {
  const name = `copydesk_bench_replicas_${Date.now()}`
  await runAdmin(adminUrl, `CREATE DATABASE "${name}"`)
  teardowns.push(async () => { await runAdmin(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) })
  const databaseUrl = withDatabaseName(adminUrl, name)
  const seeding = await buildApp(loadConfig({}, { databaseUrl, logLevel: 'silent', seedDemoContent: false, imageDirectory: join(scratch, 'images') }))
  await seeding.ready()
  await seedDemoContent(seeding.db)
  const slugs = await seeding.db.article.findMany({ where: { status: 'published' }, select: { slug: true } })
  await seeding.close()
  const pathsFile = join(scratch, 'paths.txt')
  writeFileSync(pathsFile, [...slugs.map((row) => `/articles/slug/${row.slug}`), '/articles', '/authors', '/sections', '/masthead'].join('\n'))

  const replica = await startTestReplica({ teardown: (fn) => { teardowns.push(fn) } }, adminUrl)
  const primaryPid = await postmasterPidOf(adminUrl)
  const common = { DATABASE_URL: databaseUrl, RESPONSE_CACHE_MB: '0', READ_RATE_LIMIT: '0', WRITE_RATE_LIMIT: '0', COPYDESK_BOOTSTRAP_KEY: adminKey, IMAGE_DIRECTORY: join(scratch, 'images'), BACKGROUND_JOBS: 'false' }
  const rows: string[] = []
  // Alternating, so neither case always runs on a colder or a busier machine.
  const rounds = Number(process.env.BENCH_ROUNDS ?? 2)
  for (const mode of Array.from({ length: rounds }, () => ['primary', 'replica'] as const).flat()) {
    const server = await startServer(mode === 'replica' ? { ...common, DATABASE_READ_URL: replica.urlOf(databaseUrl) } : common)
    try {
      if (mode === 'replica') {
        for (let tries = 0; (await readiness(server.url)).databases[1]?.state !== 'up'; tries++) {
          if (tries > 200) throw new Error('the replica did not come up')
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
      }
      await measure(server.url, pathsFile) // warm-up: prepared statements, JIT
      const before = await readiness(server.url)
      const cpuBefore = serverCpuSeconds(primaryPid)
      const rps = await measure(server.url, pathsFile)
      const cpu = serverCpuSeconds(primaryPid) - cpuBefore
      const after = await readiness(server.url)
      const reads = after.databases.map((connection, i) => `${connection.name} ${connection.publicReads - (before.databases[i]?.publicReads ?? 0)}`).join(', ')
      const requests = rps * seconds
      rows.push(`| public reads on the ${mode} | ${rps.toFixed(0)} | ${(cpu / requests * 1000).toFixed(3)} | ${reads} |`)
    } finally {
      server.child.kill('SIGTERM')
      await once(server.child, 'exit')
    }
  }
  console.log(`\nKeyless reads of the demo content (${slugs.length} articles, lists, authors, sections, masthead), response cache off, ${connections} connections, ${seconds} s each:\n`)
  console.log('| case | requests/s | primary CPU s per 1,000 reads | database reads by connection |')
  console.log('|---|---:|---:|---|')
  for (const row of rows) console.log(row)

  // Replay lag while one instance takes a burst of writes.
  const server = await startServer({ ...common, DATABASE_READ_URL: replica.urlOf(databaseUrl), DATABASE_READ_CHECK_INTERVAL_MS: '100' })
  try {
    const primary = new pg.Client({ connectionString: adminUrl })
    await primary.connect()
    let maxLagMs = 0
    let maxBytes = 0
    let maxReadyLagMs = 0
    let bursting = true
    const sampling = (async () => {
      while (bursting) {
        const { rows: [row] } = await primary.query<{ lagMs: string | null, bytes: string | null }>('SELECT (EXTRACT(EPOCH FROM replay_lag) * 1000)::bigint::text AS "lagMs", pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint::text AS "bytes" FROM pg_stat_replication LIMIT 1')
        maxLagMs = Math.max(maxLagMs, Number(row?.lagMs ?? 0))
        maxBytes = Math.max(maxBytes, Number(row?.bytes ?? 0))
        // A keyless read, so the instance learns of each new generation (its lag is measured on them).
        await (await fetch(`${server.url}/articles`)).arrayBuffer()
        maxReadyLagMs = Math.max(maxReadyLagMs, Number((await readiness(server.url)).databases[1]?.lagMs ?? 0))
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    })()
    const began = Date.now()
    let next = 0
    const writer = async (): Promise<void> => {
      while (next < writes) {
        const response = await fetch(`${server.url}/articles`, { method: 'POST', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ headline: `Burst story ${++next}`, status: 'published', body: [{ type: 'paragraph', text: 'Filed during the burst.' }] }) })
        if (!response.ok) throw new Error(`write failed: ${response.status} ${await response.text()}`)
      }
    }
    try {
      await Promise.all(Array.from({ length: 8 }, writer))
    } finally {
      bursting = false
      await sampling
    }
    const elapsed = (Date.now() - began) / 1000
    await primary.end()
    console.log(`\nWrite burst: ${writes} articles published by 8 writers in ${elapsed.toFixed(1)} s (${(writes / elapsed).toFixed(0)}/s). Replica replay lag: at most ${maxLagMs} ms (pg_stat_replication.replay_lag), ${(maxBytes / 1024).toFixed(0)} KiB of WAL behind; at most ${maxReadyLagMs} ms in /ready.`)
  } finally {
    server.child.kill('SIGTERM')
    await once(server.child, 'exit')
  }
} finally {
  for (const teardown of teardowns.reverse()) await teardown()
}
