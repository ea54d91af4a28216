// HTTP caching as a CDN and a frontend meet it: validators and 304s, Cache-Control by audience,
// purge keys naming what a response shows, compression, and a response cache that never outlives
// a write made through any instance.
import t from 'tap'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { anonymous, buildTestApp, createAuthor, createImage, json, post, testDatabaseUrl } from './helper.ts'
import type { FastifyInstance } from 'fastify'
import { sharedFreshReads } from '../src/plugins/http-cache.ts'

async function publishedStory (app: FastifyInstance): Promise<{ article: any, author: any, image: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const author = await createAuthor(app, { name: 'Alex Rowan' })
  const image = await createImage(app)
  const article = json(await post(app, '/articles', { headline: 'Storm Closes Coastal Highway', status: 'published', leadImageId: image.id, bylines: [{ authorId: author.id }], body: [{ type: 'paragraph', text: 'The highway was closed.' }] }))
  return { article, author, image }
}

t.test('readers get a strong ETag, 304 on revalidation, public Cache-Control and purge keys', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const { article, author, image } = await publishedStory(app)
  const url = `/articles/slug/${article.slug}`
  const first = await app.inject({ method: 'GET', url, headers: anonymous })
  t.equal(first.statusCode, 200)
  t.match(first.headers.etag, /^"1-[A-Za-z0-9_-]{22}"$/, 'version, then a hash of the bytes')
  t.equal(first.headers['cache-control'], 'public, max-age=60, stale-while-revalidate=300, stale-if-error=86400')
  const keys = String(first.headers['surrogate-key']).split(' ')
  t.same([...keys].sort(), [`article-${article.id}`, `author-${author.id}`, `image-${image.id}`].sort(), 'the article, its author and its photo')
  t.notOk(first.headers['cache-tag'], 'one purge header (PURGE_KEY_HEADER picks which)')

  const revalidated = await app.inject({ method: 'GET', url, headers: { ...anonymous, 'if-none-match': first.headers.etag as string } })
  t.equal(revalidated.statusCode, 304)
  t.equal(revalidated.body, '', 'no body')
  t.equal(revalidated.headers.etag, first.headers.etag)
  t.equal((await app.inject({ method: 'GET', url, headers: { ...anonymous, 'if-none-match': `"other", W/${first.headers.etag as string}` } })).statusCode, 304, 'weak comparison, in a list')
  t.equal((await app.inject({ method: 'GET', url, headers: { ...anonymous, 'if-none-match': '"1-stale"' } })).statusCode, 200)

  const list = await app.inject({ method: 'GET', url: '/articles', headers: anonymous })
  t.ok(String(list.headers['surrogate-key']).split(' ').includes('articles-list'), 'lists carry their list key: publishing anything changes them')
  t.match(list.headers.etag, /^"[A-Za-z0-9_-]{22}"$/)
  t.equal((await app.inject({ method: 'GET', url: '/articles', headers: { ...anonymous, 'if-none-match': list.headers.etag as string } })).statusCode, 304)

  const staff = await app.inject({ method: 'GET', url })
  t.equal(staff.headers['cache-control'], 'private, no-store', 'staff responses are never public')
  t.notOk(staff.headers['surrogate-key'])
  t.equal((await app.inject({ method: 'GET', url, headers: { 'if-none-match': staff.headers.etag as string } })).statusCode, 304, 'staff revalidate too')

  const edited = await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, headers: { 'if-match': first.headers.etag as string }, payload: { dek: 'A new dek' } })
  t.equal(edited.statusCode, 200, 'If-Match takes the ETag a read gave')
  const stale = await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, headers: { 'if-match': first.headers.etag as string }, payload: { dek: 'Lost' } })
  t.equal(stale.statusCode, 412, 'and refuses it once the article moved on')

  const images = await app.inject({ method: 'GET', url: `/images/${image.id}`, headers: anonymous })
  t.equal(images.headers['cache-control'], 'public, max-age=300, stale-while-revalidate=600, stale-if-error=86400', 'images have their own group')
})

t.test('the ETag a write answers with is the one the next read answers 304 to, staff and public', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const { article } = await publishedStory(app)
  const url = `/articles/${article.id as string}`
  const edited = await app.inject({ method: 'PATCH', url, payload: { dek: 'A new dek' } })
  t.match(edited.headers.etag, /^"2-[A-Za-z0-9_-]{22}"$/, 'version, then a hash of the bytes, as reads give it')
  const staff = await app.inject({ method: 'GET', url })
  t.equal(staff.headers.etag, edited.headers.etag, 'a staff read gives the same ETag')
  t.equal(staff.body, edited.body, 'for the same bytes')
  t.equal((await app.inject({ method: 'GET', url, headers: { 'if-none-match': edited.headers.etag as string } })).statusCode, 304, 'staff: 304')
  t.equal((await app.inject({ method: 'GET', url, headers: { ...anonymous, 'if-none-match': edited.headers.etag as string } })).statusCode, 304, 'public: 304 (the stored document is the same bytes)')
  t.equal((await app.inject({ method: 'GET', url: `/articles/slug/${article.slug as string}`, headers: { ...anonymous, 'if-none-match': edited.headers.etag as string } })).statusCode, 304, 'by slug too')

  const created = await post(app, '/articles', { headline: 'A Draft' })
  const draftUrl = `/articles/${json(created).id as string}`
  t.equal((await app.inject({ method: 'GET', url: draftUrl, headers: { 'if-none-match': created.headers.etag as string } })).statusCode, 304, 'a create\'s ETag too')
  const next = await app.inject({ method: 'PATCH', url, headers: { 'if-match': edited.headers.etag as string }, payload: { dek: 'Again' } })
  t.equal(next.statusCode, 200, 'and If-Match takes it')
})

t.test('tracking parameters are ignored by public reads and do not split their cache; other unknown parameters are 400', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const { article, author } = await publishedStory(app)
  const url = `/articles/slug/${article.slug as string}`
  const tracking = 'utm_source=newsletter&utm_medium=email&utm_campaign=morning&fbclid=IwAR0&gclid=Cj0K&mc_cid=1a2b&mc_eid=3c4d&_ga=2.1'
  const plain = await app.inject({ method: 'GET', url, headers: anonymous })
  // A change behind the API shows which reads are served from the memory cache: those under the same key.
  await app.db.article.update({ where: { id: article.id }, data: { headline: 'Changed behind the API' } })
  const tracked = await app.inject({ method: 'GET', url: `${url}?${tracking}`, headers: anonymous })
  t.equal(tracked.statusCode, 200)
  t.equal(tracked.body, plain.body, 'served from the cache entry of the plain URL')
  t.equal(tracked.headers.etag, plain.headers.etag)
  for (const path of ['/articles', `/articles?limit=5&${tracking}`, '/authors', '/masthead', `/images?utm_content=hero`, '/feeds/atom', '/sitemap.xml', `/authors/slug/${author.slug as string}`]) {
    t.equal((await app.inject({ method: 'GET', url: `${path}${path.includes('?') ? '&' : '?'}utm_source=x`, headers: anonymous })).statusCode, 200, `${path} with utm_source`)
  }
  t.equal((await app.inject({ method: 'GET', url: `/articles?limit=5&${tracking}` })).statusCode, 200, 'staff reads ignore them too')
  // Routes that take no parameters at all refuse unknown ones as well.
  for (const path of [`${url}?colour=red`, `${url}?utm_source=x&colour=red`, '/articles?utmsource=x', '/articles?x_utm_source=1',
    `/authors/slug/${author.slug as string}?colour=red`, `/authors/${author.id as string}?colour=red`, '/masthead?colour=red', '/sitemap.xml?colour=red', '/sitemap-news.xml?colour=red', `/live/${article.slug as string}/feed.atom?colour=red`]) {
    const refused = await app.inject({ method: 'GET', url: path, headers: anonymous })
    t.equal(refused.statusCode, 400, `${path}: unknown parameters are still refused`)
  }
})

t.test('a change to anything a response shows changes it at once, even when it was cached', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const { article, author } = await publishedStory(app)
  const url = `/articles/slug/${article.slug}`
  const before = await app.inject({ method: 'GET', url, headers: anonymous })
  t.equal((await app.inject({ method: 'GET', url, headers: anonymous })).headers.etag, before.headers.etag, 'stable while nothing changes')

  t.equal((await app.inject({ method: 'PATCH', url: `/authors/${author.id}`, payload: { name: 'Alexandra Rowan' } })).statusCode, 200)
  const after = await app.inject({ method: 'GET', url, headers: anonymous })
  t.equal(json(after).bylines[0].author.name, 'Alexandra Rowan', 'the byline shows the new name')
  t.equal(json(after).version, 1, 'the article itself is unchanged')
  t.not(after.headers.etag, before.headers.etag, 'but its bytes changed, and so did the ETag')
  t.equal((await app.inject({ method: 'GET', url, headers: { ...anonymous, 'if-none-match': before.headers.etag as string } })).statusCode, 200, 'the old ETag no longer gets 304')

  t.equal((await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, payload: { status: 'draft' } })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url, headers: anonymous })).statusCode, 404, 'unpublished: gone for readers at once')
  t.equal(json(await app.inject({ method: 'GET', url: '/articles', headers: anonymous })).total, 0, 'and from Latest News')
})

t.test('repeated reads are served from memory; the next write through any instance ends that', async (t) => {
  const databaseUrl = await testDatabaseUrl(t)
  const a = await buildTestApp(t, { databaseUrl, backgroundJobs: false })
  const b = await buildTestApp(t, { databaseUrl, backgroundJobs: false })
  const { article } = await publishedStory(a)
  const url = `/articles/slug/${article.slug}`
  t.equal(json(await b.inject({ method: 'GET', url, headers: anonymous })).headline, 'Storm Closes Coastal Highway')

  // A change that bypasses the API (and so the generation) shows what B serves from: its memory.
  await a.db.article.update({ where: { id: article.id }, data: { headline: 'Changed behind the API' } })
  t.equal(json(await b.inject({ method: 'GET', url, headers: anonymous })).headline, 'Storm Closes Coastal Highway', 'served again without reading the database')
  t.equal(json(await b.inject({ method: 'GET', url })).headline, 'Changed behind the API', 'staff reads are never served from memory')

  const edited = await a.inject({ method: 'PATCH', url: `/articles/${article.id}`, payload: { headline: 'Edited on A' } })
  t.equal(edited.statusCode, 200)
  t.equal(json(await b.inject({ method: 'GET', url, headers: anonymous })).headline, 'Edited on A', 'the first read on B after A\'s write is fresh')

  await a.inject({ method: 'PATCH', url: `/articles/${article.id}`, payload: { headline: 'Edited again on A' } })
  const burst = await Promise.all(Array.from({ length: 20 }, async () => await b.inject({ method: 'GET', url, headers: anonymous })))
  t.same(new Set(burst.map((response) => json(response).headline)), new Set(['Edited again on A']), 'so is every one of a burst of concurrent reads')
})

t.test('concurrent readers share generation reads, but never one that began before they arrived', async (t) => {
  const answers: Array<(generation: bigint) => void> = []
  let started = 0
  const read = sharedFreshReads(async () => {
    started++
    return await new Promise<bigint>((resolve) => answers.push(resolve))
  })
  const first = read()
  const [second, third] = [read(), read()] // they arrive while the first read is on its way
  t.equal(started, 1)
  answers.shift()?.(1n)
  t.equal(await first, 1n)
  await new Promise(setImmediate)
  t.equal(started, 2, 'the two waiting readers started one more read, together')
  answers.shift()?.(2n)
  t.same(await Promise.all([second, third]), [2n, 2n], 'and got its answer, not the older one')
})

t.test('with the response cache off, validators and headers are the same', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false, responseCacheMb: 0, cacheControlArticles: 'public, max-age=5', purgeKeyHeader: 'cache-tag' })
  const { article, author, image } = await publishedStory(app)
  const first = await app.inject({ method: 'GET', url: `/articles/${article.id}`, headers: anonymous })
  t.equal(first.headers['cache-control'], 'public, max-age=5', 'CACHE_CONTROL_ARTICLES')
  t.same(String(first.headers['cache-tag']).split(',').sort(), [`article-${article.id}`, `author-${author.id}`, `image-${image.id}`].sort(), 'Cache-Tag, comma-separated, for Cloudflare')
  t.notOk(first.headers['surrogate-key'])
  t.equal((await app.inject({ method: 'GET', url: `/articles/${article.id}`, headers: { ...anonymous, 'if-none-match': first.headers.etag as string } })).statusCode, 304)
  // Keyless reads answer from the stored document: changed behind the API, the next read shows it.
  const stored = await app.db.publicArticle.findUniqueOrThrow({ where: { id: article.id } })
  await app.db.publicArticle.update({ where: { id: article.id }, data: { document: stored.document.replace(article.headline, 'Changed behind the API') } })
  t.equal(json(await app.inject({ method: 'GET', url: `/articles/${article.id}`, headers: anonymous })).headline, 'Changed behind the API', 'nothing kept in memory')
})

t.test('JSON is compressed with brotli or gzip when the client accepts it', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  await publishedStory(app)
  for (let i = 0; i < 5; i++) await post(app, '/articles', { headline: `Story ${i} of the day`, status: 'published', body: [{ type: 'paragraph', text: 'Text. '.repeat(100) }] })
  const plain = await app.inject({ method: 'GET', url: '/articles', headers: anonymous })
  t.notOk(plain.headers['content-encoding'])
  const br = await app.inject({ method: 'GET', url: '/articles', headers: { ...anonymous, 'accept-encoding': 'br, gzip' } })
  t.equal(br.headers['content-encoding'], 'br')
  t.same(JSON.parse(brotliDecompressSync(br.rawPayload).toString()), json(plain), 'the same JSON')
  t.ok(br.rawPayload.length < plain.rawPayload.length / 2, 'much smaller')
  t.match(String(br.headers.vary), /Accept-Encoding/i)
  const gzip = await app.inject({ method: 'GET', url: '/articles', headers: { ...anonymous, 'accept-encoding': 'gzip' } })
  t.equal(gzip.headers['content-encoding'], 'gzip')
  t.same(JSON.parse(gunzipSync(gzip.rawPayload).toString()), json(plain))
})

t.test('purge keys of long lists stay small enough for proxies and Node clients', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const image = await createImage(app)
  for (let i = 0; i < 100; i++) {
    const author = await createAuthor(app, { name: `Reporter ${i}` })
    await post(app, '/articles', { headline: `Story ${i}`, status: 'published', leadImageId: image.id, bylines: [{ authorId: author.id }] })
  }
  const list = await app.inject({ method: 'GET', url: '/articles?limit=100', headers: anonymous })
  const keys = String(list.headers['surrogate-key'])
  t.ok(keys.length <= 4000, `${keys.length} bytes of keys`)
  t.equal(keys.split(' ')[0], 'articles-list', 'the list key comes first, so it is never cut')
  t.notOk(keys.includes('author-'), 'lists name their articles, not everything nested in them')
  t.equal(json(list).items.length, 100)
})
