// `npm run bench`: seeds a temporary database, then measures Copydesk's hot reads against a bare
// Fastify route serving the same bytes, in the same run, and prints the ratios.
//   BENCH_ARTICLES (default 1000), BENCH_SECONDS per measurement (default 10), BENCH_CONNECTIONS (default 10)
//   BENCH_POSTGRES_URL: a PostgreSQL server where a scratch database may be created; the run then
//   measures PostgreSQL instead of SQLite (`npm run bench:postgres` starts a throw-away server).
import autocannon from 'autocannon'
import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase } from '../src/db/client.ts'
import { loadConfig } from '../src/config.ts'
import { systemActor } from '../src/keys/roles.ts'
import { runAdmin, withDatabaseName } from '../src/db/providers.ts'
import * as articles from '../src/articles/service.ts'
import * as authors from '../src/authors/service.ts'
import * as images from '../src/images/service.ts'
import type { BodyBlock } from '../src/articles/body.ts'

const articleCount = Number(process.env.BENCH_ARTICLES ?? 1000)
const seconds = Number(process.env.BENCH_SECONDS ?? 10)
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10)
const dir = mkdtempSync(join(tmpdir(), 'copydesk-bench-'))
// BENCH_ENGINE=postgresql: the server .ci/with-postgres.sh started (npm run bench:postgres).
const postgresAdminUrl = process.env.BENCH_POSTGRES_URL ?? (process.env.BENCH_ENGINE === 'postgresql' ? process.env.TEST_POSTGRES_URL : undefined)
const postgresDatabase = `copydesk_bench_${process.pid}`
const databaseUrl = postgresAdminUrl === undefined ? `file:${join(dir, 'bench.db')}` : withDatabaseName(postgresAdminUrl, postgresDatabase)
const engine = postgresAdminUrl === undefined ? 'SQLite' : 'PostgreSQL'

const seeder = systemActor('benchmark seed')

async function seed (): Promise<string> {
  const { prisma } = await openDatabase(loadConfig({}, { databaseUrl }))
  const photo = await images.createOne(prisma, { url: 'https://images.example.com/lead.jpg', mimeType: 'image/jpeg', width: 2048, height: 1365, altText: 'Lead photo', caption: 'A caption.', photographer: 'Sergei Guneyev', agency: 'AFP', distributor: 'Getty Images' }, seeder)
  const staff = await Promise.all(['Alex Rowan', 'Dana Brooks', 'Jordan Vale'].map(async (name) => await authors.createOne(prisma, { name }, seeder)))
  const body: BodyBlock[] = [
    { type: 'promo', headline: 'Start your day with TPM.', text: 'Sign up for the Morning Memo newsletter', url: 'https://example.com/memo' },
    ...Array.from({ length: 12 }, (_, i): BodyBlock => ({ type: 'paragraph', text: `Paragraph ${i}: Russia has mandatory one year of military service for men. On Wednesday, the country’s <em>military</em> suggested that it might have made a bit of a mistake.` })),
    { type: 'blockquote', text: 'A group of soldiers, including conscripts, has been taken captive.', attribution: 'Russia’s defense ministry' },
    { type: 'image', imageId: photo.id }
  ]
  let slug = ''
  const start = Date.parse('2024-01-01T00:00:00Z')
  for (let i = 0; i < articleCount; i++) {
    const article = await articles.createOne(prisma, {
      headline: `Story number ${i} about the war`,
      status: 'published',
      publishedAt: new Date(start + i * 3_600_000).toISOString(),
      leadImageId: photo.id,
      bylines: [{ authorId: staff[i % 3]!.id }, { authorId: staff[(i + 1) % 3]!.id, role: 'photos' }],
      body
    }, seeder)
    if (i === Math.floor(articleCount / 2)) slug = article.slug
  }
  await prisma.$disconnect()
  return slug
}

async function startServer (args: string[], env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess, url: string }> {
  const child = fork(join(import.meta.dirname, 'serve.ts'), args, { env: { ...process.env, ...env }, execArgv: ['--import', 'tsx'] })
  const [message] = await once(child, 'message') as [{ port: number }]
  return { child, url: `http://127.0.0.1:${message.port}` }
}

async function measure (url: string): Promise<{ rps: number, p99: number }> {
  const result = await autocannon({ url, connections, duration: seconds, pipelining: 1 })
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx responses, ${result.errors} errors`)
  return { rps: result.requests.average, p99: result.latency.p99 }
}

try {
  if (postgresAdminUrl !== undefined) await runAdmin(postgresAdminUrl, `CREATE DATABASE "${postgresDatabase}"`)
  console.log(`Seeding ${articleCount} articles into ${engine}…`)
  const slug = await seed()
  const app = await startServer(['app'], { DATABASE_URL: databaseUrl })
  const cases = [
    { name: 'GET article by slug', path: `/articles/slug/${slug}` },
    { name: 'GET latest 20', path: '/articles?limit=20' }
  ]
  const bytes: Record<string, string> = {}
  for (const { path } of cases) bytes[path.split('?')[0] as string] = await (await fetch(app.url + path)).text()
  const bytesFile = join(dir, 'bytes.json')
  writeFileSync(bytesFile, JSON.stringify(bytes))
  const bare = await startServer(['bare', bytesFile], {})

  console.log(`\n${connections} connections, ${seconds}s each, ${engine}, ${articleCount} articles, Node ${process.version}\n`)
  console.log('| request | bytes | copydesk req/s | copydesk p99 ms | bare req/s | bare p99 ms | ratio |')
  console.log('|---|---|---|---|---|---|---|')
  for (const { name, path } of cases) {
    await measure(app.url + path) // warm-up, same length, discarded
    const ours = await measure(app.url + path)
    const baseline = await measure(bare.url + path)
    const size = Buffer.byteLength(bytes[path.split('?')[0] as string] as string)
    console.log(`| ${name} | ${size} | ${ours.rps.toFixed(0)} | ${ours.p99} | ${baseline.rps.toFixed(0)} | ${baseline.p99} | ${(ours.rps / baseline.rps).toFixed(2)} |`)
  }
  app.child.kill()
  bare.child.kill()
} finally {
  rmSync(dir, { recursive: true, force: true })
  if (postgresAdminUrl !== undefined) await runAdmin(postgresAdminUrl, `DROP DATABASE IF EXISTS "${postgresDatabase}" WITH (FORCE)`)
}
