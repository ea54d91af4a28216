// `npm run bench:live`: live coverage. Seeds a published coverage with BENCH_LIVE_ENTRIES entries, then
// 1. `GET /live/{slug}/entries?since=` (20 changes behind, as a poller a little late asks) against a bare
//    Fastify route sending the same bytes, and the ratio;
// 2. BENCH_LIVE_READERS server-sent-event readers of the coverage on one instance while an editor posts
//    an entry every second (BENCH_LIVE_POSTS of them): post sent → event received, p50/p95/max over
//    every reader and entry, with the server's CPU time and memory.
// Server on core 0, load generator and readers on core 1 (taskset), as in bench/run.ts.
//   BENCH_SECONDS per throughput measurement (default 10), BENCH_CONNECTIONS (default 10)
//   BENCH_POSTGRES_URL (or BENCH_ENGINE=postgresql with TEST_POSTGRES_URL): measure PostgreSQL.
import { execFileSync, fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import http from 'node:http'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openForWrites } from '../src/changes/open.ts'
import { loadConfig } from '../src/config.ts'
import { systemActor } from '../src/keys/roles.ts'
import { runAdmin, withDatabaseName } from '../src/db/providers.ts'
import * as articles from '../src/articles/service.ts'
import * as authors from '../src/authors/service.ts'
import * as live from '../src/live/service.ts'

const entryCount = Number(process.env.BENCH_LIVE_ENTRIES ?? 500)
const readers = Number(process.env.BENCH_LIVE_READERS ?? 1000)
const posts = Number(process.env.BENCH_LIVE_POSTS ?? 20)
const seconds = Number(process.env.BENCH_SECONDS ?? 10)
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10)
const dir = mkdtempSync(join(tmpdir(), 'copydesk-bench-live-'))
const postgresAdminUrl = process.env.BENCH_POSTGRES_URL ?? (process.env.BENCH_ENGINE === 'postgresql' ? process.env.TEST_POSTGRES_URL : undefined)
const postgresDatabase = `copydesk_bench_live_${process.pid}`
const databaseUrl = postgresAdminUrl === undefined ? `file:${join(dir, 'bench.db')}` : withDatabaseName(postgresAdminUrl, postgresDatabase)
const benchKey = `cdk_bench_${'x'.repeat(40)}`
const seeder = systemActor('benchmark seed')

function pin (pid: number | undefined, core: number): boolean {
  if (pid === undefined) return false
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

async function serve (args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess, url: string }> {
  const child = fork(join(import.meta.dirname, 'serve.ts'), args, { env: { ...process.env, ...env }, execArgv: ['--import', 'tsx'] })
  const [message] = await once(child, 'message') as [{ port: number }]
  pin(child.pid, 0)
  return { child, url: `http://127.0.0.1:${message.port}` }
}

async function measure (url: string): Promise<{ rps: number, p99: number }> {
  const load = fork(join(import.meta.dirname, 'load.ts'), [url, String(connections), String(seconds)], { execArgv: ['--import', 'tsx'] })
  pin(load.pid, 1)
  const [result] = await once(load, 'message') as [{ rps: number, p99: number, non2xx: number, errors: number }]
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx responses, ${result.errors} errors`)
  return result
}

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSecondsOf (child: ChildProcess): number {
  try {
    const fields = readFileSync(`/proc/${String(child.pid)}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return Number.NaN
  }
}

function memoryOf (child: ChildProcess): string {
  try {
    const status = readFileSync(`/proc/${String(child.pid)}/status`, 'utf8')
    const mb = (field: string): string => (Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024).toFixed(0)
    return `${mb('VmRSS')} MB resident (peak ${mb('VmHWM')} MB)`
  } catch {
    return 'n/a'
  }
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN

const children: ChildProcess[] = []
try {
  if (postgresAdminUrl !== undefined) await runAdmin(postgresAdminUrl, `CREATE DATABASE "${postgresDatabase}"`)
  console.log(`Seeding a live coverage with ${entryCount} entries into ${postgresAdminUrl === undefined ? 'SQLite' : 'PostgreSQL'}…`)
  const { prisma } = await openForWrites(loadConfig({}, { databaseUrl }))
  const author = await authors.createOne(prisma, { name: 'Alex Rowan' }, seeder)
  const article = await articles.createOne(prisma, { headline: 'Election night, live', status: 'published', bylines: [{ authorId: author.id }], body: [{ type: 'paragraph', text: 'Follow the count.' }] }, seeder)
  const coverage = await live.createCoverage(prisma, { articleId: article.id, status: 'live' }, seeder)
  for (let index = 0; index < entryCount; index++) {
    await live.postEntry(prisma, coverage.id, { headline: index % 5 === 0 ? `Update ${index}` : null, body: [{ type: 'paragraph', text: `Entry ${index}: results from another ${index % 40} constituencies are in; turnout is running ahead of the last election.` }], authorId: author.id, keyEvent: index % 25 === 0 }, seeder)
  }
  const revision = (await prisma.liveCoverage.findUniqueOrThrow({ where: { id: coverage.id } })).revision
  await prisma.$disconnect()
  const since = Buffer.from(JSON.stringify([coverage.id, 's', revision - 20])).toString('base64url')
  const path = `/live/${article.slug}/entries?since=${since}`

  const app = await serve(['app'], { DATABASE_URL: databaseUrl, COPYDESK_BOOTSTRAP_KEY: benchKey, IMAGE_STORAGE: 'filesystem', IMAGE_DIRECTORY: join(dir, 'images'), CHANGE_STREAM_MAX_SUBSCRIBERS: String(readers + 100) })
  children.push(app.child)
  const sample = await fetch(`${app.url}${path}`, { headers: { authorization: '' } })
  if (!sample.ok) throw new Error(`${path}: ${sample.status}`)
  const bytes = Buffer.from(await sample.arrayBuffer())
  const responsesFile = join(dir, 'responses.json')
  writeFileSync(responsesFile, JSON.stringify({ '/live/:slug/entries': { type: 'application/json; charset=utf-8', base64: bytes.toString('base64') } }))
  const bare = await serve(['bare', responsesFile])
  children.push(bare.child)

  const copydesk = await measure(`${app.url}${path}`)
  const floor = await measure(`${bare.url}${path}`)
  console.log(`\nGET entries?since= (20 changes, ${bytes.length} bytes)`)
  console.log(`  Copydesk ${copydesk.rps.toFixed(0)} req/s (p99 ${copydesk.p99} ms), bare route ${floor.rps.toFixed(0)} req/s (p99 ${floor.p99} ms): ratio ${(copydesk.rps / floor.rps).toFixed(2)}`)
  bare.child.kill()

  // Readers: plain HTTP streams, each recording when it first sees each posted entry's id.
  const postedAt = new Map<string, number>()
  // Arrivals are kept with the entry's id: an event may come before the post's answer names it.
  const arrivals: Array<[string, number]> = []
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity })
  let connected = 0
  const streams: http.ClientRequest[] = []
  await Promise.all(Array.from({ length: readers }, async () => {
    await new Promise<void>((resolve, reject) => {
      const request = http.get(`${app.url}/live/${article.slug}/entries/stream`, { agent }, (response) => {
        if (response.statusCode !== 200) { reject(new Error(`stream: ${String(response.statusCode)}`)); return }
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => {
          const match = /event: entry\.posted\ndata: \{"id":"([0-9a-f-]{36})"/.exec(chunk)
          if (match !== null) arrivals.push([match[1] as string, performance.now()])
        })
        connected += 1
        resolve()
      })
      request.on('error', reject)
      streams.push(request)
    })
  }))
  console.log(`\n${connected} readers subscribed to the coverage; posting ${posts} entries, one a second…`)
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const cpuBefore = cpuSecondsOf(app.child)
  const began = performance.now()
  for (let index = 0; index < posts; index++) {
    const start = performance.now()
    const response = await fetch(`${app.url}/live-coverages/${coverage.id}/entries`, {
      method: 'POST',
      headers: { authorization: `Bearer ${benchKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ body: [{ type: 'paragraph', text: `Breaking ${index}: a result is in.` }] })
    })
    const entry = await response.json() as { id: string }
    if (response.status !== 201) throw new Error(`post: ${response.status}`)
    postedAt.set(entry.id, start)
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, start + 1000 - performance.now())))
  }
  const deadline = Date.now() + 10_000
  while (arrivals.length < posts * readers && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  const cpu = cpuSecondsOf(app.child) - cpuBefore
  const elapsed = (performance.now() - began) / 1000
  const delays = arrivals.flatMap(([id, at]) => postedAt.has(id) ? [at - (postedAt.get(id) as number)] : []).sort((a, b) => a - b)
  console.log(`  delivered ${delays.length} of ${posts * readers} (reader × entry)`)
  console.log(`  post sent → event received: p50 ${percentile(delays, 0.5).toFixed(0)} ms, p95 ${percentile(delays, 0.95).toFixed(0)} ms, max ${(delays.at(-1) ?? Number.NaN).toFixed(0)} ms`)
  console.log(`  server CPU ${(100 * cpu / elapsed).toFixed(0)}% of a core while posting; memory ${memoryOf(app.child)}`)
  for (const stream of streams) stream.destroy()
} finally {
  for (const child of children) child.kill()
  if (postgresAdminUrl !== undefined) await runAdmin(postgresAdminUrl, `DROP DATABASE IF EXISTS "${postgresDatabase}" WITH (FORCE)`).catch(() => {})
  rmSync(dir, { recursive: true, force: true })
}
