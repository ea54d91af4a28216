// `npm run bench:distribution`: the change feed and live events, measured against the server
// process (core 0) from a load generator on core 1 (this process), with the server's memory.
//  1. Feed paging: BENCH_CHANGES changes (default 1,000,000) written in bulk, then pages of 1,000
//     read at the start, the middle and the end of the log: the cost per page should not grow.
//  2. Live events: BENCH_SUBSCRIBERS stream subscribers (default 10,000) on one instance; memory per
//     idle subscriber, then BENCH_EVENTS publishes (default 20), each timed from the publish's
//     response to its arrival at every subscriber (p50/p95/max over all deliveries).
//  3. Publish-to-live through Varnish (when varnishd is installed; BENCH_PUBLISHES, default 100):
//     from the publish response until the API, Varnish, the RSS feed and the sitemap show the story,
//     the live event arrived and the first webhook attempt reached a receiver.
// BENCH_ENGINE=postgresql (with TEST_POSTGRES_URL, as `npm run bench:postgres` sets) measures PostgreSQL.
import { fork, execFileSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { createServer } from 'node:http'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openForWrites } from '../src/changes/open.ts'
import { loadConfig } from '../src/config.ts'
import { runAdmin, withDatabaseName } from '../src/db/providers.ts'
import { ensureVarnish, startVarnish } from '../test/varnish.ts'
import { freePort } from '../test/server-process.ts'

const changeCount = Number(process.env.BENCH_CHANGES ?? 1_000_000)
const subscriberCount = Number(process.env.BENCH_SUBSCRIBERS ?? 10_000)
const eventCount = Number(process.env.BENCH_EVENTS ?? 20)
const publishCount = Number(process.env.BENCH_PUBLISHES ?? 100)
const benchKey = 'cdk_bench-admin-key-0123456789abcdefghijklmnopqrstuv'
const auth = { authorization: `Bearer ${benchKey}`, 'content-type': 'application/json' }
const dir = mkdtempSync(join(tmpdir(), 'copydesk-distribution-'))
const postgresAdminUrl = process.env.BENCH_ENGINE === 'postgresql' ? process.env.TEST_POSTGRES_URL : undefined
const postgresDatabase = `copydesk_distribution_${process.pid}`
const databaseUrl = postgresAdminUrl === undefined ? `file:${join(dir, 'bench.db')}` : withDatabaseName(postgresAdminUrl, postgresDatabase)

function pin (pid: number | undefined, core: number): boolean {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

function memoryOf (child: ChildProcess): { rss: number, hwm: number } {
  const status = readFileSync(`/proc/${String(child.pid)}/status`, 'utf8')
  const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0)
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 }
}
const mb = ({ rss, hwm }: { rss: number, hwm: number }): string => `${rss.toFixed(0)}/${hwm.toFixed(0)} MB (VmRSS/VmHWM)`

function percentile (values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil(p / 100 * sorted.length) - 1))] ?? NaN
}
const ms = (value: number): string => `${value.toFixed(1)} ms`

async function waitFor (what: string, check: () => boolean | Promise<boolean>, deadlineMs = 60_000): Promise<void> {
  const deadline = Date.now() + deadlineMs
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

async function startApp (env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess, url: string }> {
  const child = fork(join(import.meta.dirname, 'serve.ts'), ['app'], {
    env: { ...process.env, DATABASE_URL: databaseUrl, COPYDESK_BOOTSTRAP_KEY: benchKey, WRITE_RATE_LIMIT: '0', WEBHOOK_ALLOWED_INTERNAL: '127.0.0.1', IMAGE_DIRECTORY: join(dir, 'images'), ...env },
    execArgv: ['--import', 'tsx']
  })
  const [message] = await once(child, 'message') as [{ port: number }]
  pin(child.pid, 0)
  return { child, url: `http://127.0.0.1:${message.port}` }
}

async function stop (child: ChildProcess): Promise<void> {
  child.kill('SIGTERM')
  await once(child, 'exit')
}

/** Writes `count` public changes straight into the log, as the change step would have. */
async function bulkChanges (count: number): Promise<void> {
  const { prisma, provider } = await openForWrites(loadConfig({}, { databaseUrl, databaseStatementTimeoutMs: 0, seedDemoContent: false }))
  const data = '{"id":"019ab8a4-6f10-7c2e-8d4b-3a5e9c1f2b70","slug":"a-story","headline":"A story","status":"published","version":2}'
  const head = (await prisma.changeSequence.findUniqueOrThrow({ where: { id: 1 } })).value
  if (provider === 'sqlite') {
    await prisma.$executeRawUnsafe(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${count})
      INSERT INTO "Change" ("seq", "objectType", "objectId", "action", "version", "keyId", "keyName", "publicChange", "purgeKeys", "data", "createdAt")
      SELECT ${head} + i, 'article', '019ab8a4-6f10-7c2e-8d4b-3a5e9c1f2b70', 'article.updated', 2, NULL, 'bench', i % 2, 'article-x articles-list', '${data}', CAST(strftime('%s','now') AS INTEGER) * 1000 FROM n`)
  } else {
    await prisma.$executeRawUnsafe(`INSERT INTO "Change" ("seq", "objectType", "objectId", "action", "version", "keyId", "keyName", "publicChange", "purgeKeys", "data", "createdAt")
      SELECT ${head} + i, 'article', '019ab8a4-6f10-7c2e-8d4b-3a5e9c1f2b70', 'article.updated', 2, NULL, 'bench', i % 2 = 0, 'article-x articles-list', '${data}', now() FROM generate_series(1, ${count}) AS i`)
  }
  await prisma.changeSequence.update({ where: { id: 1 }, data: { value: head + BigInt(count) } })
  await prisma.$disconnect()
}

async function feedPaging (url: string): Promise<void> {
  console.log(`\n1. Change feed: pages of 1,000 through ${changeCount.toLocaleString('en')} changes (half of them public)`)
  const at = [0, Math.floor(changeCount / 2), changeCount - 5000]
  for (const audience of ['public', 'staff'] as const) {
    const headers: Record<string, string> = audience === 'staff' ? { authorization: `Bearer ${benchKey}` } : {}
    const figures: number[] = []
    for (const after of at) {
      const times: number[] = []
      for (let round = 0; round < 30; round += 1) {
        const began = performance.now()
        const response = await fetch(`${url}/changes?after=${after + round * 10}&limit=1000`, { headers })
        const body = await response.json() as { items: unknown[] }
        if (response.status !== 200 || body.items.length !== 1000) throw new Error(`feed page after ${after}: ${response.status}, ${body.items.length} items`)
        times.push(performance.now() - began)
      }
      figures.push(percentile(times, 50))
    }
    console.log(`   ${audience}: p50 per page at the start ${ms(figures[0] as number)}, middle ${ms(figures[1] as number)}, end ${ms(figures[2] as number)}; end/start ${((figures[2] as number) / (figures[0] as number)).toFixed(2)}`)
  }
}

/** A subscriber that records when each article's event arrived. */
function subscribe (url: string, arrivals: Map<string, number[]>): Promise<Socket> {
  const { port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1')
    let buffer = ''
    let started = false
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      buffer += chunk
      if (!started) {
        if (!buffer.includes('\r\n\r\n')) return
        if (!buffer.startsWith('HTTP/1.1 200')) { reject(new Error(buffer.slice(0, 200))); return }
        started = true
        buffer = buffer.slice(buffer.indexOf('\r\n\r\n') + 4)
        resolve(socket)
      }
      const now = performance.now()
      let index: number
      while ((index = buffer.indexOf('"id":"')) !== -1 && buffer.indexOf('\n\n', index) !== -1) {
        const id = buffer.slice(index + 6, index + 42)
        let seen = arrivals.get(id)
        if (seen === undefined) arrivals.set(id, seen = [])
        seen.push(now)
        buffer = buffer.slice(buffer.indexOf('\n\n', index) + 2)
      }
      if (buffer.length > 65_536) buffer = buffer.slice(-4096)
    })
    socket.on('error', reject)
    socket.write('GET /changes/stream?types=article HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n')
  })
}

async function publish (url: string, headline: string): Promise<{ id: string, slug: string, respondedAt: number }> {
  const response = await fetch(`${url}/articles`, { method: 'POST', headers: auth, body: JSON.stringify({ headline, status: 'published', body: [{ type: 'paragraph', text: 'Breaking.' }] }) })
  const respondedAt = performance.now()
  if (response.status !== 201) throw new Error(`publish: ${response.status} ${await response.text()}`)
  const article = await response.json() as { id: string, slug: string }
  return { ...article, respondedAt }
}

async function liveEvents (url: string, server: ChildProcess): Promise<void> {
  console.log(`\n2. Live events: ${subscriberCount.toLocaleString('en')} subscribers on one instance, ${eventCount} publishes`)
  await new Promise((resolve) => setTimeout(resolve, 500))
  const idle = memoryOf(server)
  const arrivals = new Map<string, number[]>()
  const sockets: Socket[] = []
  for (let index = 0; index < subscriberCount; index += 100) {
    sockets.push(...await Promise.all(Array.from({ length: Math.min(100, subscriberCount - index) }, async () => await subscribe(url, arrivals))))
  }
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const subscribed = memoryOf(server)
  console.log(`   server memory before ${mb(idle)}, with the subscribers ${mb(subscribed)}: ${((subscribed.rss - idle.rss) * 1024 / subscriberCount).toFixed(1)} KB per idle subscriber`)
  const latencies: number[] = []
  for (let index = 0; index < eventCount; index += 1) {
    const published = await publish(url, `Live event ${index}`)
    const arrived = (): number[] => arrivals.get(published.id) ?? []
    await waitFor(`event ${index} at every subscriber`, () => arrived().length >= subscriberCount, 30_000)
    latencies.push(...arrived().map((at) => at - published.respondedAt))
    arrivals.delete(published.id)
  }
  console.log(`   delivery from the publish response to each subscriber: p50 ${ms(percentile(latencies, 50))}, p95 ${ms(percentile(latencies, 95))}, max ${ms(latencies.reduce((a, b) => Math.max(a, b), 0))}; server ${mb(memoryOf(server))}`)
  for (const socket of sockets) socket.destroy()
}

/**
 * From each publish's response until everything a reader or a subscriber meets shows the story: the
 * API, Varnish's copy of Latest News, of the RSS feed and of the sitemap (purged by the app), the
 * live event, and the first webhook attempt at a receiver.
 */
async function publishToLive (): Promise<void> {
  console.log(`\n3. Publish-to-live through Varnish: ${publishCount} publishes`)
  const unavailable = ensureVarnish()
  if (unavailable !== null) {
    console.log(`   skipped: ${unavailable}`)
    return
  }
  const cleanups: Array<() => unknown> = []
  try {
    const varnishPort = await freePort()
    const app = await startApp({ SEED_DEMO_CONTENT: 'false', CDN_PURGERS: 'varnish', VARNISH_PURGE_URLS: `http://127.0.0.1:${varnishPort}` })
    cleanups.push(async () => { await stop(app.child) })
    const appPort = Number(new URL(app.url).port)
    const varnishd = await startVarnish({ teardown: (fn) => { cleanups.push(fn) } }, varnishPort, appPort)
    pin(varnishd.pid, 0)
    const edge = `http://127.0.0.1:${varnishPort}`

    const hooks = new Map<string, number>()
    const receiver = createServer((request, response) => {
      let body = ''
      request.on('data', (chunk: Buffer) => { body += String(chunk) })
      request.on('end', () => {
        const id = (JSON.parse(body) as { data: { id: string } }).data.id
        if (!hooks.has(id)) hooks.set(id, performance.now())
        response.end()
      })
    }).listen(0, '127.0.0.1')
    await once(receiver, 'listening')
    cleanups.push(() => receiver.close())
    const hook = await fetch(`${app.url}/webhooks`, { method: 'POST', headers: auth, body: JSON.stringify({ url: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`, events: ['article.published'] }) })
    if (hook.status !== 201) throw new Error(`webhook: ${hook.status} ${await hook.text()}`)

    const arrivals = new Map<string, number[]>()
    const subscriber = await subscribe(app.url, arrivals)
    cleanups.push(() => subscriber.destroy())

    const through = async (base: string, path: string): Promise<string> => await (await fetch(`${base}${path}`)).text()
    const edgePages = ['/articles?limit=20', '/feeds/rss', '/sitemap.xml']
    const parts = ['API', 'Varnish: Latest News', 'Varnish: RSS', 'Varnish: sitemap', 'live event', 'first webhook attempt', 'all of them'] as const
    const times = new Map<string, number[]>(parts.map((part) => [part, []]))
    for (let index = 0; index < publishCount; index += 1) {
      // The edge holds the pages a reader would be served, as it would in production.
      for (const path of edgePages) await through(edge, path)
      const { id, slug, respondedAt } = await publish(app.url, `Breaking ${index}`)
      const seen = new Map<string, number>()
      const watch = async (part: string, check: () => boolean | Promise<boolean>): Promise<void> => {
        await waitFor(`${part} to show publish ${index}`, check, 30_000)
        seen.set(part, performance.now() - respondedAt)
      }
      await Promise.all([
        watch('API', async () => (await fetch(`${app.url}/articles/slug/${slug}`)).status === 200),
        watch('Varnish: Latest News', async () => (await through(edge, edgePages[0] as string)).includes(id)),
        watch('Varnish: RSS', async () => (await through(edge, edgePages[1] as string)).includes(slug)),
        watch('Varnish: sitemap', async () => (await through(edge, edgePages[2] as string)).includes(slug)),
        watch('live event', () => (arrivals.get(id)?.length ?? 0) > 0),
        watch('first webhook attempt', () => hooks.has(id))
      ])
      for (const [part, value] of seen) times.get(part)?.push(value)
      times.get('all of them')?.push(Math.max(...seen.values()))
    }
    for (const part of parts) {
      const values = times.get(part) as number[]
      console.log(`   ${part.padEnd(22)} p50 ${ms(percentile(values, 50)).padStart(9)}  p95 ${ms(percentile(values, 95)).padStart(9)}  max ${ms(values.reduce((a, b) => Math.max(a, b), 0)).padStart(9)}`)
    }
    console.log(`   server ${mb(memoryOf(app.child))}; CDN_PURGE_INTERVAL_MS, WEBHOOK_POLL_INTERVAL_MS and CHANGE_STREAM_POLL_MS at their defaults`)
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup()
  }
}

const self = pin(process.pid, 1)
try {
  if (postgresAdminUrl !== undefined) await runAdmin(postgresAdminUrl, `CREATE DATABASE "${postgresDatabase}"`)
  console.log(`Writing ${changeCount.toLocaleString('en')} changes into ${postgresAdminUrl === undefined ? 'SQLite' : 'PostgreSQL'}…`)
  const began = Date.now()
  await bulkChanges(changeCount)
  console.log(`   ${((Date.now() - began) / 1000).toFixed(1)} s`)
  const app = await startApp({ SEED_DEMO_CONTENT: 'false' })
  try {
    await feedPaging(app.url)
    await liveEvents(app.url, app.child)
  } finally {
    await stop(app.child)
  }
  await publishToLive()
  console.log(self ? '\nThe server ran on core 0, this load generator on core 1 (taskset).' : '\nNot pinned to cores: figures share cores.')
} finally {
  if (postgresAdminUrl !== undefined) await runAdmin(postgresAdminUrl, `DROP DATABASE IF EXISTS "${postgresDatabase}" WITH (FORCE)`).catch(() => {})
  rmSync(dir, { recursive: true, force: true })
}
