// `npm run bench:live`: live coverage. Seeds a published coverage with BENCH_LIVE_ENTRIES entries, then
// 1. `GET /live/{slug}/entries?since=` (20 changes behind, as a poller a little late asks) against a bare
//    Fastify route sending the same bytes, and the ratio (the other cached reads are in `npm run bench`);
// 2. the target: BENCH_LIVE_READERS (default 10,000) server-sent-event readers of the coverage on
//    one instance while editors post BENCH_LIVE_POSTS_PER_MINUTE entries a minute (default 60) for
//    BENCH_LIVE_POSTS entries (default 60): post sent → event received by each reader, p50/p95/p99/max
//    over every reader and entry, missed events (must be 0), the server's CPU (utime + stime over the
//    posting) and memory (VmRSS, VmHWM), and the machine's load average.
// The server is the compiled one `npm start` runs, on core 0; this process (the readers: raw sockets,
// and the poster) and autocannon on core 1 (taskset), as in bench/run.ts.
//   BENCH_SECONDS per throughput measurement (default 10), BENCH_CONNECTIONS (default 10)
//   BENCH_POSTGRES_URL (or BENCH_ENGINE=postgresql with TEST_POSTGRES_URL): measure PostgreSQL.
// Each reader is a file descriptor here and in the server: the npm script raises `ulimit -n` to its hard limit.
import { connect, type Socket } from 'node:net'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChildProcess } from 'node:child_process'
import { openForWrites } from '../src/changes/open.ts'
import { defaultConfig, loadConfig } from '../src/config.ts'
import { systemActor } from '../src/keys/roles.ts'
import { runAdmin, withDatabaseName } from '../src/db/providers.ts'
import * as articles from '../src/articles/service.ts'
import * as authors from '../src/authors/service.ts'
import * as live from '../src/live/service.ts'
import { cpuSecondsOf, loadAverage, measure, memoryOf, percentile, pin, pinned, startBenchServer, startCopydesk } from './helpers.ts'

const entryCount = Number(process.env.BENCH_LIVE_ENTRIES ?? 500)
const readers = Number(process.env.BENCH_LIVE_READERS ?? 10_000)
const posts = Number(process.env.BENCH_LIVE_POSTS ?? 60)
const postsPerMinute = Number(process.env.BENCH_LIVE_POSTS_PER_MINUTE ?? 60)
const seconds = Number(process.env.BENCH_SECONDS ?? 10)
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10)
const dir = mkdtempSync(join(tmpdir(), 'copydesk-bench-live-'))
const postgresAdminUrl = process.env.BENCH_POSTGRES_URL ?? (process.env.BENCH_ENGINE === 'postgresql' ? process.env.TEST_POSTGRES_URL : undefined)
const postgresDatabase = `copydesk_bench_live_${process.pid}`
const databaseUrl = postgresAdminUrl === undefined ? `file:${join(dir, 'bench.db')}` : withDatabaseName(postgresAdminUrl, postgresDatabase)
const benchKey = `cdk_bench_${'x'.repeat(40)}`
const seeder = systemActor('benchmark seed')
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/** When each reader received each posted entry: entry id → arrival times (one per reader). */
const arrivals = new Map<string, number[]>()
const postedMarker = 'event: entry.posted\ndata: {"id":"'

/**
 * A reader as a raw socket (an HTTP client per reader would cost this process more than the server):
 * it records when each `entry.posted` frame arrives. A frame is written in one piece, so it is not
 * split by chunked encoding; it may still arrive split across reads, hence the carried-over tail.
 */
async function openReader (port: number, path: string): Promise<Socket> {
  return await new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let buffer = ''
    let started = false
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      const now = performance.now()
      buffer += chunk
      if (!started) {
        const headersEnd = buffer.indexOf('\r\n\r\n')
        if (headersEnd === -1) return
        if (!buffer.startsWith('HTTP/1.1 200')) { reject(new Error(`stream: ${buffer.slice(0, 200)}`)); socket.destroy(); return }
        started = true
        buffer = buffer.slice(headersEnd + 4)
        resolve(socket)
      }
      let index: number
      while ((index = buffer.indexOf(postedMarker)) !== -1 && buffer.length >= index + postedMarker.length + 36) {
        const id = buffer.slice(index + postedMarker.length, index + postedMarker.length + 36)
        let times = arrivals.get(id)
        if (times === undefined) arrivals.set(id, times = [])
        times.push(now)
        buffer = buffer.slice(index + postedMarker.length + 36)
      }
      if (buffer.length > postedMarker.length) buffer = buffer.slice(-postedMarker.length - 36)
    })
    socket.on('error', reject)
    socket.write(`GET ${path} HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n`)
  })
}

const children: ChildProcess[] = []
const sockets: Socket[] = []
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

  // The default subscriber limit (CHANGE_STREAM_MAX_SUBSCRIBERS) allows 20,000; raised only beyond it.
  const maxSubscribers = Math.max(defaultConfig.changeStreamMaxSubscribers, readers + 100)
  const app = await startCopydesk({ DATABASE_URL: databaseUrl, COPYDESK_BOOTSTRAP_KEY: benchKey, IMAGE_STORAGE: 'filesystem', IMAGE_DIRECTORY: join(dir, 'images'), CHANGE_STREAM_MAX_SUBSCRIBERS: String(maxSubscribers) })
  children.push(app.child)
  pin(process.pid, 1)
  const sample = await fetch(`${app.url}${path}`)
  if (!sample.ok) throw new Error(`${path}: ${sample.status}`)
  const bytes = Buffer.from(await sample.arrayBuffer())
  const responsesFile = join(dir, 'responses.json')
  writeFileSync(responsesFile, JSON.stringify({ '/live/:slug/entries': { type: 'application/json; charset=utf-8', base64: bytes.toString('base64') } }))
  const bare = await startBenchServer(['bare', responsesFile])
  children.push(bare.child)

  await measure(`${app.url}${path}`, { connections, seconds }) // warm-up, discarded
  const copydesk = await measure(`${app.url}${path}`, { connections, seconds })
  const floor = await measure(`${bare.url}${path}`, { connections, seconds })
  console.log(`\nGET entries?since= (20 changes, ${bytes.length} bytes)`)
  console.log(`  Copydesk ${copydesk.rps.toFixed(0)} req/s (p99 ${copydesk.p99} ms), bare route ${floor.rps.toFixed(0)} req/s (p99 ${floor.p99} ms): ratio ${(copydesk.rps / floor.rps).toFixed(2)}`)
  bare.child.kill()

  const port = Number(new URL(app.url).port)
  const memoryIdle = memoryOf(app.child.pid as number)
  const connectStarted = performance.now()
  // In batches: thousands of connections at once overflow the listen backlog.
  for (let opened = 0; opened < readers; opened += 500) {
    sockets.push(...await Promise.all(Array.from({ length: Math.min(500, readers - opened) }, async () => await openReader(port, `/live/${article.slug}/entries/stream`))))
  }
  await sleep(1000)
  const memoryConnected = memoryOf(app.child.pid as number)
  console.log(`\n${sockets.length} readers subscribed in ${((performance.now() - connectStarted) / 1000).toFixed(1)} s; server memory ${memoryIdle.rssMb} MB before, ${memoryConnected.rssMb} MB with them (${((memoryConnected.rssMb - memoryIdle.rssMb) * 1024 / readers).toFixed(1)} KB a reader)`)
  console.log(`Posting ${posts} entries, ${postsPerMinute} a minute; load average ${loadAverage()}…`)

  const intervalMs = 60_000 / postsPerMinute
  const postedAt = new Map<string, number>()
  const answeredAt = new Map<string, number>()
  const answerMs: number[] = []
  const cpuBefore = cpuSecondsOf(app.child.pid as number)
  const began = performance.now()
  for (let index = 0; index < posts; index++) {
    const due = began + index * intervalMs
    if (due > performance.now()) await sleep(due - performance.now())
    const start = performance.now()
    const response = await fetch(`${app.url}/live-coverages/${coverage.id}/entries`, {
      method: 'POST',
      headers: { authorization: `Bearer ${benchKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ body: [{ type: 'paragraph', text: `Breaking ${index}: a result is in from another constituency, and the count goes on.` }] })
    })
    if (response.status !== 201) throw new Error(`post: ${response.status} ${await response.text()}`)
    const entry = await response.json() as { id: string }
    answerMs.push(performance.now() - start)
    postedAt.set(entry.id, start)
    answeredAt.set(entry.id, performance.now())
  }
  // Every reader has every entry, or 10 s passed since the last post.
  const deadline = performance.now() + 10_000
  const delivered = (): number => [...postedAt.keys()].reduce((sum, id) => sum + (arrivals.get(id)?.length ?? 0), 0)
  while (delivered() < posts * readers && performance.now() < deadline) await sleep(20)
  const elapsed = (performance.now() - began) / 1000
  const cpu = cpuSecondsOf(app.child.pid as number) - cpuBefore
  const memoryEnd = memoryOf(app.child.pid as number)

  const delays = [...postedAt].flatMap(([id, at]) => (arrivals.get(id) ?? []).map((arrived) => arrived - at)).sort((a, b) => a - b)
  // From the post's answer: the fan-out alone, without the write's own time (a loaded machine's disk moves that).
  const fanOut = [...answeredAt].flatMap(([id, at]) => (arrivals.get(id) ?? []).map((arrived) => arrived - at)).sort((a, b) => a - b)
  const missed = posts * readers - delays.length
  const ms = (value: number): string => `${value.toFixed(0)} ms`
  answerMs.sort((a, b) => a - b)
  console.log(`  delivered ${delays.length} of ${posts * readers} (reader × entry): ${missed} missed`)
  console.log(`  post sent → event received by a reader: p50 ${ms(percentile(delays, 0.5))}, p95 ${ms(percentile(delays, 0.95))}, p99 ${ms(percentile(delays, 0.99))}, max ${ms(delays.at(-1) ?? Number.NaN)}`)
  console.log(`  the post's own answer: p50 ${ms(percentile(answerMs, 0.5))}, p95 ${ms(percentile(answerMs, 0.95))}, max ${ms(answerMs.at(-1) ?? Number.NaN)}`)
  console.log(`  post answered → event received (fan-out alone; negative: the event came first): p50 ${ms(percentile(fanOut, 0.5))}, p95 ${ms(percentile(fanOut, 0.95))}, p99 ${ms(percentile(fanOut, 0.99))}, max ${ms(fanOut.at(-1) ?? Number.NaN)}`)
  console.log(`  server CPU ${cpu.toFixed(1)} s over ${elapsed.toFixed(0)} s (${(100 * cpu / elapsed).toFixed(0)}% of a core); memory ${memoryEnd.rssMb} MB resident, peak ${memoryEnd.peakMb} MB`)
  console.log(`  load average after: ${loadAverage()}`)
  console.log(pinned() ? '\nThe server ran on core 0, readers, poster and load generator on core 1 (taskset).' : '\nNot pinned to cores (taskset missing or refused): figures share cores.')
  if (missed > 0) process.exitCode = 1
} finally {
  for (const socket of sockets) socket.destroy()
  for (const child of children) child.kill()
  if (postgresAdminUrl !== undefined) await runAdmin(postgresAdminUrl, `DROP DATABASE IF EXISTS "${postgresDatabase}" WITH (FORCE)`).catch(() => {})
  rmSync(dir, { recursive: true, force: true })
}
