// `npm run bench`: seeds a temporary database, then measures Copydesk's hot reads against a bare
// Fastify route serving the same bytes, in the same run, and prints the ratios. Cases: an article by
// slug, the latest 20, and a cached image rendition (an uploaded 3000×2000 JPEG as 800 px WebP).
// Then uncached reads (response cache off) against a bare route reading the same stored rows with
// the driver alone, warm reads while an editor saves once a second, and the latency of a save.
// Servers run on core 0 and load generators on core 1 (taskset), with the server's memory reported.
//   BENCH_ARTICLES (default 1000; the targets are stated for 100000), BENCH_SECONDS per measurement (default 10), BENCH_CONNECTIONS (default 10)
//   BENCH_KEEP=1 leaves the seeded database behind (its URL is printed) instead of deleting it
//   BENCH_POSTGRES_URL: a PostgreSQL server where a scratch database may be created; the run then
//   measures PostgreSQL instead of SQLite (`npm run bench:postgres` starts a throw-away server).
import sharp from 'sharp'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase } from '../src/db/client.ts'
import { openForWrites, renderContextOf } from '../src/changes/open.ts'
import { rebuildReadModel } from '../src/read-model/articles.ts'
import { loadConfig } from '../src/config.ts'
import { systemActor } from '../src/keys/roles.ts'
import { runAdmin, withDatabaseName } from '../src/db/providers.ts'
import * as articles from '../src/articles/service.ts'
import * as authors from '../src/authors/service.ts'
import * as images from '../src/images/service.ts'
import * as taxonomy from '../src/taxonomy/service.ts'
import { randomUUID } from 'node:crypto'
import type { BodyBlock } from '../src/articles/body.ts'
import { measure as measureLoad, memoryOf as memoryOfProcess, pinned, startBenchServer, startCopydesk } from './helpers.ts'

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
// The seed and every server render links with the same site settings. Without them, links name the
// listening address, so each server (on a port of its own) would find the stored documents rendered
// for another address and render the whole archive again at start: not what a read benchmark measures.
const siteUrl = 'https://news.example.com'

/**
 * Seeds articleCount published articles: the first 50 through the service (so they are exactly what
 * the API writes), the rest in bulk batches with the same shape, then the search index in one pass.
 */
async function seed (): Promise<{ slug: string, slugs: string[] }> {
  // Bulk statements (the search index of every article at once) may run longer than a request may.
  const config = loadConfig({ SITE_URL: siteUrl }, { databaseUrl, databaseStatementTimeoutMs: 0 })
  const { prisma, provider } = await openForWrites(config)
  const photo = await images.createOne(prisma, { url: 'https://images.example.com/lead.jpg', mimeType: 'image/jpeg', width: 2048, height: 1365, altText: 'Lead photo', caption: 'A caption.', photographer: 'Sergei Guneyev', agency: 'AFP', distributor: 'Getty Images' }, seeder)
  const staff = await Promise.all(['Alex Rowan', 'Dana Brooks', 'Jordan Vale'].map(async (name) => await authors.createOne(prisma, { name }, seeder)))
  const sections = await Promise.all(['News', 'Politics', 'Ukraine'].map(async (name) => await taxonomy.createOne(prisma, 'section', { name }, seeder)))
  const body: BodyBlock[] = [
    { type: 'promo', headline: 'Start your day with TPM.', text: 'Sign up for the Morning Memo newsletter', url: 'https://example.com/memo' },
    ...Array.from({ length: 12 }, (_, i): BodyBlock => ({ type: 'paragraph', text: `Paragraph ${i}: Russia has mandatory one year of military service for men. On Wednesday, the country’s <em>military</em> suggested that it might have made a bit of a mistake.` })),
    { type: 'blockquote', text: 'A group of soldiers, including conscripts, has been taken captive.', attribution: 'Russia’s defense ministry' },
    { type: 'image', imageId: photo.id }
  ]
  // Ten kinds of story, so a word is in some articles, not in all of them.
  const bodyAbout = (topic: string): BodyBlock[] => body.map((block) => block.type === 'paragraph' ? { ...block, text: `${block.text} The ${topic} story continues.` } : block)
  const topics = ['conscripts', 'budget', 'election', 'pipeline', 'refugees', 'sanctions', 'harvest', 'strike', 'court', 'storm']
  const start = Date.parse('2014-01-01T00:00:00Z')
  const headlineOf = (i: number): string => `Story number ${i} about the ${topics[i % topics.length] as string} and the war`
  const viaService = Math.min(articleCount, 50) // at least one of each kind (ten), as templates for the bulk rows
  const templates: Array<{ body: unknown, bodyText: string, wordCount: number }> = []
  for (let i = 0; i < viaService; i++) {
    const article = await articles.createOne(prisma, {
      headline: headlineOf(i),
      status: 'published',
      publishedAt: new Date(start + i * 3_600_000).toISOString(),
      leadImageId: photo.id,
      sectionId: sections[i % 3]!.id,
      bylines: [{ authorId: staff[i % 3]!.id }, { authorId: staff[(i + 1) % 3]!.id, role: 'photos' }],
      body: bodyAbout(topics[i % topics.length] as string)
    }, seeder)
    templates[i % topics.length] ??= { body: article.body, bodyText: article.bodyText, wordCount: article.wordCount }
  }
  const batch = 2000
  for (let from = viaService; from < articleCount; from += batch) {
    const rows = Array.from({ length: Math.min(batch, articleCount - from) }, (_, k) => {
      const i = from + k
      const template = templates[i % topics.length]!
      return { id: randomUUID(), slug: `story-number-${i}`, headline: headlineOf(i), body: template.body as object, bodyText: template.bodyText, wordCount: template.wordCount, status: 'published', publishedAt: new Date(start + i * 3_600_000), leadImageId: photo.id, sectionId: sections[i % 3]!.id }
    })
    await prisma.$transaction([
      prisma.article.createMany({ data: rows }),
      prisma.byline.createMany({ data: rows.flatMap((row, k) => [{ articleId: row.id, authorId: staff[(from + k) % 3]!.id, role: 'reporter', position: 0 }, { articleId: row.id, authorId: staff[(from + k + 1) % 3]!.id, role: 'photos', position: 1 }]) }),
      prisma.articleBodyImage.createMany({ data: rows.map((row) => ({ articleId: row.id, imageId: photo.id })) })
    ])
  }
  // The search index, filled by the statement of the migration that files it in publication order.
  const migration = readFileSync(join(import.meta.dirname, `../prisma/${provider}/migrations/20261202060000_search_in_publication_order/migration.sql`), 'utf8')
  await prisma.$executeRawUnsafe('DELETE FROM "article_search"')
  const fill = migration.slice(migration.indexOf('INSERT INTO "article_search" ('))
  for (const statement of fill.split(/;\s*\n/).map((text) => text.replace(/^(--.*\n)+/gm, '').trim()).filter(Boolean)) await prisma.$executeRawUnsafe(statement)
  await prisma.$executeRawUnsafe('DELETE FROM "SearchPosition"')
  await prisma.$executeRawUnsafe('INSERT INTO "SearchPosition" ("articleId", "position") SELECT "article_id", rowid FROM "article_search"')
  // The public read model of the bulk rows, rendered as a write would (npm run readmodel:rebuild).
  const began = Date.now()
  await rebuildReadModel(prisma, renderContextOf(config), (done, total) => { if (done % 20_000 === 0 || done === total) console.log(`  read model: ${done} of ${total} (${((Date.now() - began) / 1000).toFixed(0)} s)`) })
  if (provider === 'postgresql') await prisma.$executeRawUnsafe('ANALYZE')
  const middle = await prisma.article.findFirst({ where: { status: 'published' }, orderBy: [{ publishedAt: 'desc' }, { id: 'desc' }], skip: Math.floor(articleCount / 2), select: { slug: true } })
  // Slugs spread over the whole archive, for reads that rotate over 1,000 articles.
  const step = Math.max(1, Math.floor(articleCount / 1000))
  const spread = await prisma.article.findMany({ where: { status: 'published' }, orderBy: { id: 'asc' }, select: { slug: true } })
  const slugs = spread.filter((_, i) => i % step === 0).slice(0, 1000).map((row) => row.slug)
  await prisma.$disconnect()
  return { slug: middle!.slug, slugs }
}

/** The cursor GET /articles would hand out after `depth` items of Latest News (see articles/service.ts). */
async function cursorAtDepth (depth: number): Promise<string> {
  const { prisma } = await openDatabase(loadConfig({}, { databaseUrl }))
  const row = await prisma.article.findFirst({ where: { status: 'published' }, orderBy: [{ publishedAt: { sort: 'desc', nulls: 'last' } }, { id: 'desc' }], skip: depth - 1, select: { id: true, publishedAt: true } })
  await prisma.$disconnect()
  return Buffer.from(JSON.stringify(['-publishedAt', 'next', row!.publishedAt!.toISOString(), row!.id])).toString('base64url')
}

/** Sequential searches (no cache): the latency one reader sees, as percentiles. */
async function searchLatencies (url: string, queries: string[], rounds: number): Promise<{ p50: number, p95: number, max: number }> {
  const times: number[] = []
  for (let round = 0; round < rounds; round++) {
    for (const q of queries) {
      const begun = performance.now()
      const response = await fetch(`${url}/search?q=${encodeURIComponent(q)}&limit=10`)
      if (response.status !== 200) throw new Error(`search ${q}: ${response.status}`)
      await response.arrayBuffer()
      times.push(performance.now() - begun)
    }
  }
  times.sort((a, b) => a - b)
  const at = (p: number): number => times[Math.min(times.length - 1, Math.floor(p * times.length))] as number
  return { p50: at(0.5), p95: at(0.95), max: times.at(-1) as number }
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
  // One SITE_URL for the seed and every server: stored documents made for another would be rendered again at start.
  return args[0] === 'app' ? await startCopydesk({ SITE_URL: siteUrl, ...env }) : await startBenchServer(args, env)
}

/** Resident and peak memory of a server process, in MB (VmRSS / VmHWM). */
function memoryOf (child: ChildProcess): string {
  try {
    const { rssMb, peakMb } = memoryOfProcess(child.pid as number)
    return `${rssMb}/${peakMb}`
  } catch {
    return 'n/a'
  }
}

async function measure (url: string, pathsFile?: string): Promise<{ rps: number, p99: number }> {
  return await measureLoad(url, { connections, seconds, ...(pathsFile === undefined ? {} : { pathsFile }) })
}

try {
  if (postgresAdminUrl !== undefined) await runAdmin(postgresAdminUrl, `CREATE DATABASE "${postgresDatabase}"`)
  console.log(`Seeding ${articleCount} articles into ${engine}…`)
  const { slug, slugs } = await seed()
  const rotating = join(dir, 'slugs.txt')
  writeFileSync(rotating, slugs.map((each) => `/articles/slug/${each}`).join('\n'))
  const app = await startServer(['app'], { DATABASE_URL: databaseUrl, COPYDESK_BOOTSTRAP_KEY: benchKey, IMAGE_STORAGE: 'filesystem', IMAGE_DIRECTORY: join(dir, 'images') })
  // The reads are measured before a photo is uploaded: decoding an upload takes more memory than
  // any read, and the peak each row reports should be that of what it measures.
  const cases = [
    { name: 'GET article by slug', path: `/articles/slug/${slug}` },
    { name: 'GET latest 20', path: '/articles?limit=20' },
    { name: 'GET cached rendition (800w WebP)', path: '' }
  ]
  const bytes: Record<string, { type: string, base64: string }> = {}
  const ours: Record<string, { rps: number, p99: number, memory: string }> = {}
  const fetchOnce = async (path: string): Promise<void> => {
    const response = await fetch(app.url + path)
    if (response.status !== 200) throw new Error(`${path}: ${response.status}`)
    bytes[path.split('?')[0] as string] = { type: response.headers.get('content-type') ?? 'application/octet-stream', base64: Buffer.from(await response.arrayBuffer()).toString('base64') }
  }
  const measureOurs = async (name: string, path: string): Promise<void> => {
    await measure(app.url + path) // warm-up, same length, discarded
    ours[name] = { ...await measure(app.url + path), memory: memoryOf(app.child) }
  }
  for (const { name, path } of cases.slice(0, 2)) {
    await fetchOnce(path)
    await measureOurs(name, path)
  }
  const rendition = cases[2]!
  rendition.path = await uploadPhoto(app.url)
  // The first fetch also makes the rendition, so every measured request is a cached one.
  await fetchOnce(rendition.path)
  await measureOurs(rendition.name, rendition.path)
  const bytesFile = join(dir, 'bytes.json')
  writeFileSync(bytesFile, JSON.stringify(bytes))
  const bare = await startServer(['bare', bytesFile], {})

  console.log(`\n${connections} connections, ${seconds}s each, ${engine}, ${articleCount} articles, Node ${process.version}\n`)
  console.log('Warm reads (response cache on, as served), against a bare Fastify route serving the same bytes (the photo is uploaded after the first two rows):\n')
  console.log('| request | bytes | copydesk req/s | copydesk p99 ms | bare req/s | bare p99 ms | ratio | server RSS/peak MB |')
  console.log('|---|---|---|---|---|---|---|---|')
  for (const { name, path } of cases) {
    await measure(bare.url + path) // warm-up, as for ours
    const baseline = await measure(bare.url + path)
    const { rps, p99, memory } = ours[name]!
    const size = Buffer.from(bytes[path.split('?')[0] as string]!.base64, 'base64').length
    console.log(`| ${name} | ${size} | ${rps.toFixed(0)} | ${p99} | ${baseline.rps.toFixed(0)} | ${baseline.p99} | ${(rps / baseline.rps).toFixed(2)} | ${memory} |`)
  }
  bare.child.kill()

  // Warm reads over 1,000 articles while an editor saves a published one once a second (every save
  // drops that article's cached responses and the lists, nothing else).
  const auth = { authorization: `Bearer ${benchKey}`, 'content-type': 'application/json' }
  const edited = slugs[0] as string
  const { id: editedId } = await (await fetch(`${app.url}/articles/slug/${edited}`)).json() as { id: string }
  await measure(app.url, rotating)
  const quiet = await measure(app.url, rotating)
  let saves = 0
  const editor = setInterval(() => {
    saves++
    void fetch(`${app.url}/articles/${editedId}`, { method: 'PATCH', headers: auth, body: JSON.stringify({ dek: `Updated ${saves} times` }) }).then(async (response) => await response.arrayBuffer())
  }, 1000)
  const busy = await measure(app.url, rotating)
  clearInterval(editor)
  console.log(`\nWarm reads rotating over ${slugs.length} articles, with an editor saving once a second (server RSS/peak MB after: ${memoryOf(app.child)}):\n`)
  console.log('| reads | req/s | p99 ms | ratio |')
  console.log('|---|---|---|---|')
  console.log(`| no writes | ${quiet.rps.toFixed(0)} | ${quiet.p99} | 1.00 |`)
  console.log(`| ${saves} saves during the run | ${busy.rps.toFixed(0)} | ${busy.p99} | ${(busy.rps / quiet.rps).toFixed(2)} |`)

  // One editor saving a published article: the write and everything it triggers, one client.
  // Fifty saves first, discarded like every other warm-up: the figure is the steady state.
  const saveTimes: number[] = []
  for (let i = -50; i < 200; i++) {
    const begun = performance.now()
    const response = await fetch(`${app.url}/articles/${editedId}`, { method: 'PATCH', headers: auth, body: JSON.stringify({ headline: `Story saved ${i} times` }) })
    if (response.status !== 200) throw new Error(`save: ${response.status} ${await response.text()}`)
    await response.arrayBuffer()
    if (i >= 0) saveTimes.push(performance.now() - begun)
  }
  saveTimes.sort((a, b) => a - b)
  console.log(`\nSaving a published article (200 saves after 50 discarded, one client): p50 ${saveTimes[100]!.toFixed(1)} ms, p95 ${saveTimes[190]!.toFixed(1)} ms, max ${saveTimes.at(-1)!.toFixed(1)} ms`)
  app.child.kill()

  // Database work itself: the response cache off, so every request queries.
  const uncached = await startServer(['app'], { DATABASE_URL: databaseUrl, RESPONSE_CACHE_MB: '0' })
  const driver = await startServer(['driver'], { DATABASE_URL: databaseUrl })
  console.log(`\nUncached reads (response cache off) against a bare Fastify route reading the same stored row with the driver alone (${articleCount} articles):\n`)
  console.log('| request | copydesk req/s | p99 ms | driver route req/s | p99 ms | ratio | server RSS/peak MB |')
  console.log('|---|---|---|---|---|---|---|')
  for (const { name, path, paths } of [
    { name: `article by slug, rotating over ${slugs.length}`, path: '', paths: rotating },
    { name: 'latest 20', path: '/articles?limit=20', paths: undefined }
  ]) {
    await measure(uncached.url + path, paths)
    const ours = await measure(uncached.url + path, paths)
    const memory = memoryOf(uncached.child)
    await measure(driver.url + path, paths)
    const floor = await measure(driver.url + path, paths)
    console.log(`| ${name} | ${ours.rps.toFixed(0)} | ${ours.p99} | ${floor.rps.toFixed(0)} | ${floor.p99} | ${(ours.rps / floor.rps).toFixed(2)} | ${memory} |`)
  }
  driver.child.kill()
  const depth = Math.min(20_000, Math.floor(articleCount / 2))
  const deepCursor = await cursorAtDepth(depth)
  const paging = [
    { name: 'Latest News page 1', path: '/articles?limit=20' },
    { name: `cursor ${depth / 20} pages deep`, path: `/articles?limit=20&cursor=${deepCursor}` },
    { name: `page number ${depth / 20 + 1} (offset)`, path: `/articles?limit=20&page=${depth / 20 + 1}` }
  ]
  console.log(`\nPaging without the response cache (${articleCount} articles):\n`)
  console.log('| request | req/s | p99 ms | vs page 1 |')
  console.log('|---|---|---|---|')
  let first = 0
  for (const { name, path } of paging) {
    await measure(uncached.url + path)
    const result = await measure(uncached.url + path)
    first ||= result.rps
    console.log(`| ${name} | ${result.rps.toFixed(0)} | ${result.p99} | ${(result.rps / first).toFixed(2)} |`)
  }
  const queries = ['conscripts', 'budget war', '"about the election"', 'pipel*', 'sanctions rowan', 'storm', 'court', 'harvest strike', 'refugees', 'military service']
  await searchLatencies(uncached.url, queries, 1)
  const latency = await searchLatencies(uncached.url, queries, 10)
  console.log(`\nSearch, one client, no cache, ${queries.length} queries × 10: p50 ${latency.p50.toFixed(1)} ms, p95 ${latency.p95.toFixed(1)} ms, max ${latency.max.toFixed(1)} ms`)
  uncached.child.kill()
  console.log(pinned() ? '\nServers ran on core 0, load generators on core 1 (taskset).' : '\nNot pinned to cores (taskset missing or refused): figures share cores.')
} finally {
  if (process.env.BENCH_KEEP === '1') console.log(`\nKept the seeded database: ${databaseUrl.replace(/\/\/[^@/]*@/, '//***@')}`)
  else rmSync(dir, { recursive: true, force: true })
  if (postgresAdminUrl !== undefined && process.env.BENCH_KEEP !== '1') await runAdmin(postgresAdminUrl, `DROP DATABASE IF EXISTS "${postgresDatabase}" WITH (FORCE)`)
}
