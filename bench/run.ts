// `npm run bench`: seeds a temporary database, then measures Copydesk's hot reads against a bare
// Fastify route serving the same bytes, in the same run, and prints the ratios. Cases: an article by
// slug, the latest 20, and a cached image rendition (an uploaded 3000×2000 JPEG as 800 px WebP).
//   BENCH_ARTICLES (default 1000), BENCH_SECONDS per measurement (default 10), BENCH_CONNECTIONS (default 10)
//   BENCH_POSTGRES_URL: a PostgreSQL server where a scratch database may be created; the run then
//   measures PostgreSQL instead of SQLite (`npm run bench:postgres` starts a throw-away server).
import autocannon from 'autocannon'
import sharp from 'sharp'
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

const benchKey = `cdk_bench_${'x'.repeat(40)}`

/** Uploads a photo over HTTP, puts it on a published story (so readers may fetch it) and returns a rendition URL. */
async function uploadPhoto (appUrl: string): Promise<string> {
  const auth = { authorization: `Bearer ${benchKey}` }
  const jpeg = await sharp({ create: { width: 3000, height: 2000, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).jpeg({ quality: 85 }).toBuffer()
  const uploaded = await fetch(`${appUrl}/images/upload?altText=Benchmark%20photo&photographer=Sergei%20Guneyev&agency=AFP`, { method: 'POST', headers: { ...auth, 'content-type': 'image/jpeg' }, body: jpeg })
  if (uploaded.status !== 201) throw new Error(`upload: ${uploaded.status} ${await uploaded.text()}`)
  const image = await uploaded.json() as { id: string, url: string }
  const story = await fetch(`${appUrl}/articles`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ headline: 'Benchmark photo story', status: 'published', leadImageId: image.id, body: [{ type: 'paragraph', text: 'A photo.' }] }) })
  if (story.status !== 201) throw new Error(`article: ${story.status} ${await story.text()}`)
  return `${image.url}&w=800&format=webp`
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
  const app = await startServer(['app'], { DATABASE_URL: databaseUrl, COPYDESK_BOOTSTRAP_KEY: benchKey, IMAGE_STORAGE: 'filesystem', IMAGE_DIRECTORY: join(dir, 'images') })
  const cases = [
    { name: 'GET article by slug', path: `/articles/slug/${slug}` },
    { name: 'GET latest 20', path: '/articles?limit=20' },
    { name: 'GET cached rendition (800w WebP)', path: await uploadPhoto(app.url) }
  ]
  // The first fetch of each also makes the rendition, so every measured request is a cached one.
  const bytes: Record<string, { type: string, base64: string }> = {}
  for (const { path } of cases) {
    const response = await fetch(app.url + path)
    if (response.status !== 200) throw new Error(`${path}: ${response.status}`)
    bytes[path.split('?')[0] as string] = { type: response.headers.get('content-type') ?? 'application/octet-stream', base64: Buffer.from(await response.arrayBuffer()).toString('base64') }
  }
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
    const size = Buffer.from(bytes[path.split('?')[0] as string]!.base64, 'base64').length
    console.log(`| ${name} | ${size} | ${ours.rps.toFixed(0)} | ${ours.p99} | ${baseline.rps.toFixed(0)} | ${baseline.p99} | ${(ours.rps / baseline.rps).toFixed(2)} |`)
  }
  app.child.kill()
  bare.child.kill()
} finally {
  rmSync(dir, { recursive: true, force: true })
  if (postgresAdminUrl !== undefined) await runAdmin(postgresAdminUrl, `DROP DATABASE IF EXISTS "${postgresDatabase}" WITH (FORCE)`)
}
