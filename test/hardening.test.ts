// Hostile input from a key-bearing client (issue 17): whatever a staff key sends, the answer is a
// documented 4xx problem+json, never a 500, and nothing is written.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, createArticle, createAuthor, createImage, json, post } from './helper.ts'

const problemType = 'application/problem+json; charset=utf-8'

/** How many rows the writes of these tests could add to: the same counts after means nothing was written. */
async function rowCounts (app: FastifyInstance): Promise<Record<string, number>> {
  return {
    articles: await app.db.article.count(),
    authors: await app.db.author.count(),
    images: await app.db.image.count(),
    webhooks: await app.db.webhook.count(),
    roles: await app.db.mastheadRole.count(),
    sections: await app.db.section.count(),
    tags: await app.db.tag.count(),
    revisions: await app.db.articleRevision.count(),
    audit: await app.db.auditEntry.count()
  }
}

t.test('a body nested thousands of levels deep is a 400 for every operation that takes one, and writes nothing', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const image = await createImage(app)
  const author = await createAuthor(app)
  const article = await createArticle(app, { bylines: [{ authorId: author.id }] })
  const document = json(await app.inject({ method: 'GET', url: '/openapi.json' }))
  const before = await rowCounts(app)

  const deepObject = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000)
  const deepArray = '['.repeat(5000) + ']'.repeat(5000)
  const deepInsideValid = JSON.stringify({ headline: 'Deep', body: [{ type: 'paragraph', text: 'x' }] }).replace('"x"', '"x","extra":' + '['.repeat(3000) + ']'.repeat(3000))
  const idFor = (path: string): string => path.startsWith('/images') ? image.id : path.startsWith('/authors') ? author.id : article.id
  let operations = 0
  for (const [path, item] of Object.entries<any>(document.paths)) {
    for (const [method, operation] of Object.entries<any>(item)) {
      const content = operation.requestBody?.content ?? {}
      const mediaTypes = Object.keys(content).filter((mediaType) => mediaType.endsWith('json'))
      if (mediaTypes.length === 0) continue
      operations++
      const url = path.replace(/\{(\w+)\}/g, (_, name: string) => name === 'id' ? idFor(path) : name === 'slug' ? article.slug : '1')
      for (const mediaType of mediaTypes) {
        for (const payload of [deepObject, deepArray, deepInsideValid]) {
          const response = await app.inject({ method: method.toUpperCase() as 'POST', url, headers: { 'content-type': mediaType }, payload })
          const label = `${method.toUpperCase()} ${path} (${mediaType}, ${payload.slice(0, 12)}…)`
          t.equal(response.statusCode, 400, label)
          t.equal(response.headers['content-type'], problemType, label)
          t.equal(json(response).code, 'JSON_TOO_DEEP', label)
        }
      }
    }
  }
  t.ok(operations >= 10, `${operations} operations take a JSON body`)
  t.same(await rowCounts(app), before, 'nothing was written')

  const patched = await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, headers: { 'content-type': 'application/merge-patch+json' }, payload: deepObject })
  t.equal(patched.statusCode, 400, 'merge-patch bodies are bounded too')
  const stored = json(await app.inject({ method: 'GET', url: `/articles/${article.id}` }))
  t.equal(stored.version, article.version, 'the article is untouched')

  const brackets = await post(app, '/articles', { headline: '[[[[{{{{'.repeat(2000), body: [{ type: 'paragraph', text: ']]]]}}}}'.repeat(2000) }] })
  t.not(json(brackets).code, 'JSON_TOO_DEEP', 'brackets inside strings are text, not nesting')
  const escapedQuotes = await post(app, '/articles', { headline: 'A "quoted" \\ [headline', body: [{ type: 'paragraph', text: 'x' }] })
  t.equal(escapedQuotes.statusCode, 201, 'escaped quotes and backslashes do not confuse the depth count')
})

t.test('URLs are refused unless they are absolute http(s) URLs with a host, naming the field', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const before = await rowCounts(app)
  const unusable = ['https://:x/y', 'https://user:pass@/x', 'http://[::1/', 'https://x:99999/', 'https://%zz/', 'ftp://example.com/x', '//example.com/x']
  const paragraph = { type: 'paragraph', text: 'x' }
  for (const url of unusable) {
    const cases: Array<[string, unknown, string]> = [
      ['/images', { url, mimeType: 'image/jpeg', altText: 'A photo' }, '/url'],
      ['/authors', { name: 'Link Tester', links: [{ label: 'Website', url }] }, '/links/0/url'],
      ['/webhooks', { url, events: ['*'] }, '/url'],
      ['/articles', { headline: 'Embed', body: [paragraph, { type: 'embed', url }] }, '/body/1/url'],
      ['/articles', { headline: 'Promo', body: [{ type: 'promo', headline: 'Sign up', url }] }, '/body/0/url'],
      ['/articles', { headline: 'Canonical', body: [paragraph], canonicalUrl: url }, '/canonicalUrl']
    ]
    for (const [path, payload, pointer] of cases) {
      const response = await post(app, path, payload)
      t.equal(response.statusCode, 400, `POST ${path} with ${url}`)
      t.equal(json(response).code, 'VALIDATION_FAILED')
      t.ok(json(response).errors.some((error: any) => error.pointer === pointer), `names ${pointer}: ${response.body}`)
    }
  }
  t.same(await rowCounts(app), before, 'nothing was written')
  t.equal((await post(app, '/images', { url: 'HTTPS://Images.Example.com:8443/a%20b.jpg?w=1#x', mimeType: 'image/jpeg', altText: 'A photo' })).statusCode, 201, 'a real URL is still accepted')

  const { loadConfig } = await import('../src/config.ts')
  for (const [name, value] of [['SITE_LOGO_URL', 'https://:x/y'], ['SITE_URL', 'https://:x'], ['API_PUBLIC_URL', 'http://[::1'], ['VARNISH_PURGE_URLS', 'http://varnish:6081,https://:x/y']]) {
    t.throws(() => loadConfig({ DATABASE_URL: 'file:unused.db', [name as string]: value }), new RegExp(`${name as string}: .* is not an absolute`), `${name as string}=${value as string} is refused at start`)
  }
})

t.test('an unusable URL stored before URLs were checked does not take feeds, sitemaps or lists down', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const author = await createAuthor(app)
  const image = await createImage(app)
  const goodImage = await createImage(app, { url: 'https://images.example.com/good.jpg' })
  const broken = await createArticle(app, { headline: 'Broken Lead', status: 'published', leadImageId: image.id, bylines: [{ authorId: author.id }] })
  const fine = await createArticle(app, { headline: 'Fine Lead', status: 'published', leadImageId: goodImage.id })
  // Old data: written directly, as an earlier version that checked less would have stored it.
  await app.db.image.update({ where: { id: image.id }, data: { url: 'https://:x/y' } })
  await app.db.author.update({ where: { id: author.id }, data: { links: [{ label: 'Website', url: 'https://:x/y' }] } })

  for (const url of ['/feeds/rss', '/feeds/atom', '/feeds/json', `/feeds/rss?author=${author.slug as string}`, '/sitemap.xml', '/sitemap-news.xml', '/articles', '/images', '/authors', `/articles/${broken.id as string}`]) {
    const response = await app.inject({ method: 'GET', url, headers: { authorization: '' } })
    t.equal(response.statusCode, 200, `GET ${url} → ${response.statusCode}`)
  }
  const rss = (await app.inject({ method: 'GET', url: '/feeds/rss', headers: { authorization: '' } })).body
  t.match(rss, 'Broken Lead', 'the article is still in the feed')
  t.notMatch(rss, 'https://:x/y', 'without the enclosure nobody can follow')
  t.match(rss, 'https://images.example.com/good.jpg', 'other articles keep their images')
  t.match(rss, fine.slug)
})

t.test('reserved slugs: refused when given, numbered when derived, configurable', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const paragraph = [{ type: 'paragraph', text: 'x' }]
  const before = await rowCounts(app)
  for (const slug of ['admin', 'api', 'new', 'preview', 'feed', 'rss', 'index', 'null']) {
    for (const [path, payload] of [['/articles', { headline: 'Reserved', slug, body: paragraph }], ['/authors', { name: 'Reserved', slug }]] as const) {
      const response = await post(app, path, payload)
      t.equal(response.statusCode, 400, `POST ${path} slug=${slug}`)
      t.equal(response.headers['content-type'], problemType)
      t.equal(json(response).code, 'SLUG_RESERVED')
      t.same(json(response).errors.map((error: any) => error.pointer), ['/slug'])
    }
  }
  t.same(await rowCounts(app), before, 'nothing was written')

  const article = await createArticle(app, { headline: 'New' })
  t.equal(article.slug, 'new-1', 'a reserved slug derived from a headline gets a number')
  t.equal((await createArticle(app, { headline: 'new' })).slug, 'new-2')
  t.equal((await createArticle(app, { headline: 'RSS' })).slug, 'rss-1')
  t.equal((await createArticle(app, { headline: 'New rules' })).slug, 'new-rules', 'only the whole slug is reserved')
  const author = await createAuthor(app, { name: 'Admin' })
  t.equal(author.slug, 'admin-1', 'authors too')

  const patched = await app.inject({ method: 'PATCH', url: `/articles/${article.id as string}`, payload: { slug: 'preview' } })
  t.equal(patched.statusCode, 400, 'renaming an article to a reserved slug is refused')
  t.equal(json(patched).code, 'SLUG_RESERVED')
  const replaced = await app.inject({ method: 'PUT', url: `/articles/${article.id as string}`, payload: { headline: 'New', slug: 'index' } })
  t.equal(json(replaced).code, 'SLUG_RESERVED')
  const authorPatched = await app.inject({ method: 'PATCH', url: `/authors/${author.id as string}`, payload: { slug: 'api' } })
  t.equal(authorPatched.statusCode, 400)
  t.equal(json(authorPatched).code, 'SLUG_RESERVED')
  const authorReplaced = await app.inject({ method: 'PUT', url: `/authors/${author.id as string}`, payload: { name: 'Admin', slug: 'null' } })
  t.equal(json(authorReplaced).code, 'SLUG_RESERVED')
  t.equal(json(await app.inject({ method: 'GET', url: `/articles/${article.id as string}` })).slug, 'new-1', 'unchanged')

  // Stored before the list existed: keeps working, and edits that leave the slug alone pass.
  const old = await createArticle(app, { headline: 'Old One' })
  await app.db.article.update({ where: { id: old.id }, data: { slug: 'feed' } })
  const kept = await app.inject({ method: 'PATCH', url: `/articles/${old.id as string}`, payload: { slug: 'feed', dek: 'Still here' } })
  t.equal(kept.statusCode, 200, 'an article keeps a reserved slug it already has')

  const custom = await buildTestApp(t, { backgroundJobs: false, reservedSlugs: 'breaking,live' })
  t.equal(json(await post(custom, '/articles', { headline: 'x', slug: 'live', body: paragraph })).code, 'SLUG_RESERVED', 'the list is configurable')
  t.equal((await createArticle(custom, { headline: 'Breaking' })).slug, 'breaking-1')
  t.equal((await createArticle(custom, { headline: 'New' })).slug, 'new', 'a word left off the list is free')

  const { loadConfig } = await import('../src/config.ts')
  t.equal(loadConfig({ DATABASE_URL: 'file:unused.db', RESERVED_SLUGS: 'a,b-c' }).reservedSlugs, 'a,b-c', 'RESERVED_SLUGS sets it')
  t.throws(() => loadConfig({ DATABASE_URL: 'file:unused.db', RESERVED_SLUGS: 'Admin, api' }), /RESERVED_SLUGS/, 'a list that is not slugs is refused at start')
})

t.test('JSON bodies are UTF-8: invalid bytes are 400, another charset is 415, nothing stored', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const article = await createArticle(app)
  const before = await rowCounts(app)
  const bytes = (...parts: Array<string | number[]>): Buffer => Buffer.concat(parts.map((part) => typeof part === 'string' ? Buffer.from(part) : Buffer.from(part)))
  const invalid = [
    bytes('{"headline":"Caf', [0xe9], '","body":[]}'), // Latin-1 é sent as if it were UTF-8
    bytes('{"headline":"', [0xc3, 0x28], '"}'), // a broken two-byte sequence
    bytes('{"headline":"', [0xed, 0xa0, 0x80], '"}'), // an encoded surrogate
    bytes('{"headline":"', [0xf0, 0x9f, 0x98], '"}'), // a truncated emoji
    bytes('{"headline":"x"', [0xff], '}') // outside a string
  ]
  for (const payload of invalid) {
    for (const contentType of ['application/json', 'application/json; charset=utf-8']) {
      const response = await app.inject({ method: 'POST', url: '/articles', headers: { 'content-type': contentType }, payload })
      t.equal(response.statusCode, 400, `${contentType}: ${payload.toString('hex').slice(0, 40)}`)
      t.equal(response.headers['content-type'], problemType)
      t.equal(json(response).code, 'INVALID_UTF8')
    }
  }
  const patched = await app.inject({ method: 'PATCH', url: `/articles/${article.id as string}`, headers: { 'content-type': 'application/merge-patch+json' }, payload: bytes('{"dek":"', [0xe9], '"}') })
  t.equal(json(patched).code, 'INVALID_UTF8', 'merge-patch bodies too')

  for (const charset of ['iso-8859-1', 'latin1', 'windows-1252', '"utf-16"', 'bogus']) {
    const response = await app.inject({ method: 'POST', url: '/articles', headers: { 'content-type': `application/json; charset=${charset}` }, payload: bytes('{"headline":"Caf', [0xe9], '"}') })
    t.equal(response.statusCode, 415, `charset=${charset}`)
    t.equal(response.headers['content-type'], problemType)
    t.equal(json(response).code, 'UNSUPPORTED_MEDIA_TYPE')
  }
  t.same(await rowCounts(app), before, 'nothing was written')

  for (const contentType of ['application/json', 'application/json; charset=UTF-8', 'application/json;charset="utf-8"', 'application/json; charset=utf8']) {
    const response = await app.inject({ method: 'POST', url: '/articles', headers: { 'content-type': contentType }, payload: Buffer.from(JSON.stringify({ headline: 'Café 😀 naïve', body: [{ type: 'paragraph', text: 'x' }] })) })
    t.equal(response.statusCode, 201, `${contentType} is accepted`)
    t.equal(json(response).headline, 'Café 😀 naïve', 'and stored as sent')
  }
})
