// Feeds, sitemaps and structured data, parsed back with a real XML parser the way readers, crawlers
// and aggregators read them, and held to what the W3C feed validator checks: RSS 2.0's and Atom's
// (RFC 4287) required elements, date formats, absolute URLs and declared namespaces. Drafts never
// appear, and every link points somewhere that answers.
import t from 'tap'
import sharp from 'sharp'
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { anonymous, buildTestApp, createAuthor, createImage, json, post } from './helper.ts'
import type { FastifyInstance } from 'fastify'
import { isHttpUrl } from '../src/validation.ts'
import { listeningUrl, siteWarnings } from '../src/delivery/site.ts'
import { loadConfig } from '../src/config.ts'

const site = { siteUrl: 'https://news.example.com', siteName: 'The Example Ledger', siteLanguage: 'en-GB', apiPublicUrl: 'https://api.example.com', backgroundJobs: false }
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => ['item', 'entry', 'url', 'sitemap', 'author', 'link', 'dc:creator'].includes(name) })

function parseXml (body: string): any { // eslint-disable-line @typescript-eslint/no-explicit-any -- parsed documents are checked field by field
  t.equal(XMLValidator.validate(body), true, 'well-formed XML')
  return parser.parse(body)
}

/** RFC 822 dates as RSS 2.0 wants them (with a four-digit year, as RFC 1123 and the validator allow). */
const RFC_822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} (GMT|[+-]\d{4})$/
/** RFC 3339 date-times as Atom wants them. */
const RFC_3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

/** Every URL an XML document or JSON feed carries: in href and url attributes, link, loc, uri, url and logo elements. */
function urlsIn (value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) urlsIn(item, found)
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const named = ['@href', '@url', 'link', 'loc', 'uri', 'url', 'logo', 'home_page_url', 'feed_url', 'image', 'icon'].includes(key)
      if (named && typeof item === 'string') found.push(item)
      else urlsIn(item, found)
    }
  }
  return found
}

/** Namespace prefixes used in a document that its root does not declare. */
function undeclaredPrefixes (body: string): string[] {
  const used = new Set([...body.matchAll(/<\/?([A-Za-z][\w-]*):/g)].map((match) => match[1] as string).filter((prefix) => prefix !== 'xml'))
  return [...used].filter((prefix) => !body.includes(`xmlns:${prefix}="`))
}

async function uploadPng (app: FastifyInstance, altText = 'A chart', colour = '#336699'): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const file = await sharp({ create: { width: 320, height: 200, channels: 3, background: colour } }).png().toBuffer()
  const response = await app.inject({ method: 'POST', url: `/images/upload?altText=${encodeURIComponent(altText)}`, headers: { 'content-type': 'image/png' }, payload: file })
  if (response.statusCode !== 201) throw new Error(`upload failed: ${response.body}`)
  return json(response)
}

async function newsroom (app: FastifyInstance): Promise<{ rowan: any, vale: any, slugs: string[] }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const rowan = await createAuthor(app, { name: 'Alex Rowan' })
  const vale = await createAuthor(app, { name: 'Jordan Vale' })
  const photo = await createImage(app, { url: 'https://images.example.com/storm.jpg', mimeType: 'image/jpeg', bytes: 120000 })
  const slugs: string[] = []
  const hoursAgo = (hours: number): string => new Date(Date.now() - hours * 3_600_000).toISOString()
  for (const [headline, author, hours] of [['Storm & Flood: Coast <Braces>', rowan, 1], ['Council Votes on Budget', vale, 5], ['Old Story From Last Week', rowan, 24 * 7]] as const) {
    slugs.push(json(await post(app, '/articles', { headline, dek: `About ${headline}`, status: 'published', publishedAt: hoursAgo(hours), leadImageId: photo.id, bylines: [{ authorId: author.id }] })).slug)
  }
  await post(app, '/articles', { headline: 'Secret Draft', bylines: [{ authorId: rowan.id }] })
  return { rowan, vale, slugs }
}

t.test('RSS, Atom and JSON Feed carry the latest published stories, valid to the letter of each format', async (t) => {
  const app = await buildTestApp(t, site)
  const { rowan, slugs } = await newsroom(app)
  // An upload without a byline: the enclosure's type and length come from the stored file.
  const chart = await uploadPng(app)
  const essay = json(await post(app, '/articles', { headline: 'Photo Essay', status: 'published', publishedAt: new Date(Date.now() - 3 * 3_600_000).toISOString(), leadImageId: chart.id }))
  const headlines = ['Storm & Flood: Coast <Braces>', 'Photo Essay', 'Council Votes on Budget', 'Old Story From Last Week']
  const ids = [...(await Promise.all(slugs.map(async (slug) => json(await app.inject({ method: 'GET', url: `/articles/slug/${slug}`, headers: anonymous })).id as string)))]
  ids.splice(1, 0, essay.id)

  const rss = await app.inject({ method: 'GET', url: '/feeds/rss', headers: anonymous })
  t.equal(rss.statusCode, 200)
  t.match(rss.headers['content-type'], /^application\/rss\+xml/)
  const rssDocument = parseXml(rss.body)
  t.equal(rssDocument.rss['@version'], '2.0')
  t.same(undeclaredPrefixes(rss.body), [], 'every namespace prefix used is declared (atom:, dc:)')
  const channel = rssDocument.rss.channel
  t.equal(channel.title, 'The Example Ledger')
  t.equal(channel.link[0], 'https://news.example.com', 'channel link: the website')
  t.ok(typeof channel.description === 'string' && channel.description !== '', 'channel description')
  t.equal(channel.language, 'en-GB')
  t.match(channel.lastBuildDate, RFC_822)
  t.same(channel['atom:link'], { '@href': 'https://api.example.com/feeds/rss', '@rel': 'self', '@type': 'application/rss+xml' }, 'self link, absolute')
  t.same(channel.item.map((item: { title: string }) => item.title), headlines, 'newest first, text escaped and read back intact, no draft')
  for (const [index, item] of (channel.item as any[]).entries()) { // eslint-disable-line @typescript-eslint/no-explicit-any
    t.equal(item.link[0], index === 1 ? `https://news.example.com/articles/${essay.slug as string}` : `https://news.example.com/articles/${slugs[index === 0 ? 0 : index - 1] as string}`)
    t.same(item.guid, { '#text': `urn:uuid:${ids[index] as string}`, '@isPermaLink': 'false' }, 'a guid that survives a slug change')
    t.match(item.pubDate, RFC_822, 'pubDate in RFC 822')
    t.notOk('author' in item, 'no <author>: RSS wants an email address there')
    t.equal(item.enclosure['@type'], index === 1 ? 'image/png' : 'image/jpeg', 'the stored MIME type')
    t.match(item.enclosure['@length'], /^\d+$/, 'enclosure length in bytes')
  }
  t.same(channel.item[0]['dc:creator'], ['Alex Rowan'], 'bylines as dc:creator')
  t.notOk('dc:creator' in channel.item[1], 'no byline, no creator')
  t.match(chart.url, /^https:\/\/api\.example\.com\/images\/[0-9a-f-]{36}\/file\?v=/, 'with API_PUBLIC_URL, the image API hands out absolute URLs')
  t.same(channel.item[1].enclosure, { '@url': chart.url, '@length': String(chart.bytes), '@type': 'image/png' }, 'an upload: absolute, its real type and size')
  t.equal(channel.item[0].enclosure['@length'], '120000')
  t.ok(Date.parse(channel.item[0].pubDate) > Date.now() - 2 * 3_600_000, 'pubDate is the publication time')
  t.same(urlsIn(channel).filter((url) => !isHttpUrl(url)), [], 'every URL is absolute')

  const atom = await app.inject({ method: 'GET', url: '/feeds/atom', headers: anonymous })
  t.match(atom.headers['content-type'], /^application\/atom\+xml/)
  t.notMatch(atom.body, /image\/\/|image\/jpg"|image\/file/, 'no enclosure type made up from a file name')
  t.same(undeclaredPrefixes(atom.body), [])
  const feed = parseXml(atom.body).feed
  t.equal(feed['@xmlns'], 'http://www.w3.org/2005/Atom')
  t.equal(feed.id, 'https://api.example.com/feeds/atom')
  t.equal(feed.title, 'The Example Ledger')
  t.match(feed.updated, RFC_3339)
  t.same(feed.author, [{ name: 'The Example Ledger', uri: 'https://news.example.com' }], 'the publication is the feed\'s author, so entries without a byline are valid')
  t.same(feed.link, [{ '@rel': 'alternate', '@href': 'https://news.example.com' }, { '@rel': 'self', '@type': 'application/atom+xml', '@href': 'https://api.example.com/feeds/atom' }])
  t.equal(feed.entry.length, 4)
  for (const [index, entry] of (feed.entry as any[]).entries()) { // eslint-disable-line @typescript-eslint/no-explicit-any
    t.equal(entry.id, `urn:uuid:${ids[index] as string}`)
    t.equal(entry.title['#text'], headlines[index])
    t.match(entry.updated, RFC_3339)
    t.match(entry.published, RFC_3339)
    const alternate = entry.link.find((link: { '@rel': string }) => link['@rel'] === 'alternate')
    t.equal(alternate['@href'], channel.item[index].link[0], 'rel=alternate: the article page')
    const enclosure = entry.link.find((link: { '@rel': string }) => link['@rel'] === 'enclosure')
    t.same(enclosure, { '@rel': 'enclosure', '@type': channel.item[index].enclosure['@type'], '@length': channel.item[index].enclosure['@length'], '@href': channel.item[index].enclosure['@url'] })
  }
  t.same(feed.entry[0].author, [{ name: 'Alex Rowan', uri: 'https://news.example.com/authors/alex-rowan' }])
  t.same(urlsIn(feed).filter((url) => !isHttpUrl(url)), [], 'every URL is absolute')

  const jsonFeed = await app.inject({ method: 'GET', url: '/feeds/json', headers: anonymous })
  t.match(jsonFeed.headers['content-type'], /^application\/feed\+json/)
  const body = JSON.parse(jsonFeed.body)
  t.equal(body.version, 'https://jsonfeed.org/version/1.1')
  t.equal(body.feed_url, 'https://api.example.com/feeds/json')
  t.equal(body.items.length, 4)
  t.equal(body.items[2].url, `https://news.example.com/articles/${slugs[1] as string}`)
  t.ok(body.items.every((item: { id: string, content_text?: string, content_html?: string }) => typeof item.id === 'string' && (item.content_text ?? item.content_html) !== undefined), 'every item has an id and content')
  t.same(body.items[1].attachments, [{ url: chart.url, mime_type: 'image/png', size_in_bytes: chart.bytes }])
  t.same(body.items[0].authors, [{ name: 'Alex Rowan', url: 'https://news.example.com/authors/alex-rowan' }])
  t.same(urlsIn(body).filter((url) => !isHttpUrl(url)), [], 'every URL is absolute')

  const byRowan = parseXml((await app.inject({ method: 'GET', url: `/feeds/rss?author=${rowan.slug as string}`, headers: anonymous })).body).rss.channel
  t.equal(byRowan.title, 'Alex Rowan – The Example Ledger')
  t.equal(byRowan['atom:link']['@href'], `https://api.example.com/feeds/rss?author=${rowan.slug as string}`)
  t.same(byRowan.item.map((item: { title: string }) => item.title), ['Storm & Flood: Coast <Braces>', 'Old Story From Last Week'], 'one author\'s stories')
  const nobody = await app.inject({ method: 'GET', url: '/feeds/atom?author=nobody-at-all', headers: anonymous })
  t.equal(nobody.statusCode, 404)
  t.equal(json(nobody).code, 'AUTHOR_NOT_FOUND')

  const again = await app.inject({ method: 'GET', url: '/feeds/rss', headers: { ...anonymous, 'if-none-match': rss.headers.etag as string } })
  t.equal(again.statusCode, 304, 'feed readers revalidate cheaply')
  t.equal(rss.headers['surrogate-key'], 'articles-list')

  // A link from a newsletter: its campaign parameters change nothing, not even the feed's self link.
  const tracked = await app.inject({ method: 'GET', url: '/feeds/rss?utm_source=newsletter&utm_medium=email&fbclid=abc&gclid=def&mc_cid=1&mc_eid=2&_ga=3', headers: anonymous })
  t.equal(tracked.statusCode, 200)
  t.equal(tracked.body, rss.body, 'the same feed, self link included')
  t.equal(tracked.headers.etag, rss.headers.etag)
  const unknown = await app.inject({ method: 'GET', url: '/feeds/rss?utm_source=x&colour=red', headers: anonymous })
  t.equal(unknown.statusCode, 400, 'other unknown parameters are still refused')
})

t.test('without SITE_URL, every link names this API\'s own public reads, and they answer', async (t) => {
  const app = await buildTestApp(t, { port: 4173, backgroundJobs: false })
  t.equal(app.config.siteUrl, '', 'SITE_URL is unset by default')
  const base = 'http://127.0.0.1:4173'
  const { slugs } = await newsroom(app)
  const chart = await uploadPng(app)
  await post(app, '/articles', { headline: 'Chart of the Week', status: 'published', publishedAt: new Date(Date.now() - 10 * 3_600_000).toISOString(), leadImageId: chart.id })
  const answers = async (url: string): Promise<number> => {
    t.ok(url.startsWith(`${base}/`), `${url} is on this API (PORT is honoured)`)
    return (await app.inject({ method: 'GET', url: url.slice(base.length), headers: anonymous })).statusCode
  }

  const channel = parseXml((await app.inject({ method: 'GET', url: '/feeds/rss', headers: anonymous })).body).rss.channel
  t.equal(channel.link[0], `${base}/articles`, 'the channel links to Latest News')
  t.equal(await answers(channel.link[0]), 200)
  t.equal(channel.item[0].link[0], `${base}/articles/slug/${slugs[0] as string}`, 'articles by slug: /articles/{id} takes ids only')
  t.equal(await answers(channel.item[0].link[0]), 200)
  const atom = parseXml((await app.inject({ method: 'GET', url: '/feeds/atom', headers: anonymous })).body).feed
  t.equal(atom.entry[0].author[0].uri, `${base}/authors/slug/alex-rowan`)
  t.equal(await answers(atom.entry[0].author[0].uri), 200)
  t.equal(await answers(atom.link[1]['@href']), 200, 'the self link')

  const urlset = parseXml((await app.inject({ method: 'GET', url: '/sitemap.xml', headers: anonymous })).body).urlset
  for (const entry of urlset.url) t.equal(await answers(entry.loc), 200)
  const news = parseXml((await app.inject({ method: 'GET', url: '/sitemap-news.xml', headers: anonymous })).body).urlset
  t.equal(await answers(news.url[0].loc), 200)

  const article = json(await app.inject({ method: 'GET', url: `/articles/slug/${slugs[0] as string}`, headers: anonymous }))
  t.equal(article.jsonLd.url, `${base}/articles/slug/${slugs[0] as string}`)
  t.equal(await answers(article.jsonLd.url), 200)
  t.equal(await answers(article.jsonLd.author[0].url), 200)
  t.equal(await answers(article.jsonLd.publisher.url), 200)

  t.match(chart.url, /^\/images\/[0-9a-f-]{36}\/file\?v=[0-9a-f]{16}$/, 'without API_PUBLIC_URL, image URLs stay relative')
  t.equal(await answers(`${base}${chart.url as string}`), 200)

  t.equal(listeningUrl({ host: '0.0.0.0', port: 8080 }), 'http://127.0.0.1:8080', 'a wildcard address is linked as the loopback one')
  t.equal(listeningUrl({ host: '::', port: 8080 }), 'http://[::1]:8080')
  t.equal(listeningUrl({ host: 'fd00::5', port: 80 }), 'http://[fd00::5]:80')
})

t.test('the server warns at start when SITE_URL is unset, except in development and tests', async (t) => {
  const unset = loadConfig({ PORT: '8080' })
  const [warning, ...more] = siteWarnings(unset, {})
  t.match(warning, /^SITE_URL is not set: .*http:\/\/127\.0\.0\.1:8080\/articles\/slug\/\{slug\}/)
  t.same(more, [])
  t.same(siteWarnings(unset, { NODE_ENV: 'production' }).length, 1)
  t.same(siteWarnings(unset, { NODE_ENV: 'development' }), [])
  t.same(siteWarnings(unset, { NODE_ENV: 'test' }), [])
  t.same(siteWarnings(loadConfig({ SITE_URL: 'https://news.example.com' }), {}), [])
})

t.test('sitemaps list every published article, split into an index past the page size', async (t) => {
  const app = await buildTestApp(t, { ...site, sitemapPageSize: 2 })
  const { slugs } = await newsroom(app)
  for (let i = 0; i < 2; i++) await post(app, '/articles', { headline: `Extra story ${i}`, status: 'published' })
  const index = await app.inject({ method: 'GET', url: '/sitemap.xml', headers: anonymous })
  t.match(index.headers['content-type'], /^application\/xml/)
  const sitemaps = parseXml(index.body).sitemapindex
  t.equal(sitemaps['@xmlns'], 'http://www.sitemaps.org/schemas/sitemap/0.9')
  t.same(sitemaps.sitemap.map((entry: { loc: string }) => entry.loc), [1, 2, 3].map((page) => `https://api.example.com/sitemaps/articles/${page}`), '5 articles, 2 per page')
  const listed: string[] = []
  for (const page of [1, 2, 3]) {
    const urlset = parseXml((await app.inject({ method: 'GET', url: `/sitemaps/articles/${page}`, headers: anonymous })).body).urlset
    listed.push(...urlset.url.map((entry: { loc: string, lastmod: string }) => { t.ok(Date.parse(entry.lastmod) > 0); return entry.loc }))
  }
  t.equal(listed.length, 5)
  t.equal(new Set(listed).size, 5)
  t.ok(slugs.every((slug) => listed.includes(`https://news.example.com/articles/${slug}`)))
  t.notOk(listed.some((loc) => loc.includes('secret-draft')), 'no draft')
  t.equal((await app.inject({ method: 'GET', url: '/sitemaps/articles/4', headers: anonymous })).statusCode, 404)

  const small = await buildTestApp(t, site)
  await newsroom(small)
  const urlset = parseXml((await small.inject({ method: 'GET', url: '/sitemap.xml', headers: anonymous })).body).urlset
  t.equal(urlset.url.length, 3, 'one urlset while it fits')
})

t.test('the Google News sitemap has the last 48 hours only', async (t) => {
  const app = await buildTestApp(t, site)
  const { slugs } = await newsroom(app)
  const urlset = parseXml((await app.inject({ method: 'GET', url: '/sitemap-news.xml', headers: anonymous })).body).urlset
  t.equal(urlset['@xmlns:news'], 'http://www.google.com/schemas/sitemap-news/0.9')
  t.same(urlset.url.map((entry: { loc: string }) => entry.loc), [slugs[0], slugs[1]].map((slug) => `https://news.example.com/articles/${slug as string}`))
  const news = urlset.url[0]['news:news']
  t.same(news['news:publication'], { 'news:name': 'The Example Ledger', 'news:language': 'en' })
  t.equal(news['news:title'], 'Storm & Flood: Coast <Braces>')
  t.ok(Date.parse(news['news:publication_date']) > Date.now() - 2 * 3_600_000)
})

t.test('articles come with schema.org NewsArticle JSON-LD ready to embed', async (t) => {
  const app = await buildTestApp(t, { ...site, siteLogoUrl: 'https://news.example.com/logo.png' })
  const { slugs } = await newsroom(app)
  const article = json(await app.inject({ method: 'GET', url: `/articles/slug/${slugs[0] as string}`, headers: anonymous }))
  t.same(article.jsonLd['@context'], 'https://schema.org')
  t.equal(article.jsonLd['@type'], 'NewsArticle')
  t.equal(article.jsonLd.headline, 'Storm & Flood: Coast <Braces>')
  t.same(article.jsonLd.image, ['https://images.example.com/storm.jpg'])
  t.equal(article.jsonLd.datePublished, article.publishedAt)
  t.equal(article.jsonLd.dateModified, article.updatedAt)
  t.same(article.jsonLd.author, [{ '@type': 'Person', name: 'Alex Rowan', url: 'https://news.example.com/authors/alex-rowan' }])
  t.same(article.jsonLd.publisher, { '@type': 'NewsMediaOrganization', name: 'The Example Ledger', url: 'https://news.example.com', logo: { '@type': 'ImageObject', url: 'https://news.example.com/logo.png' } })
  t.equal(article.jsonLd.mainEntityOfPage['@id'], `https://news.example.com/articles/${slugs[0] as string}`)
})

t.test('with API_PUBLIC_URL, image URLs are absolute wherever an image is shown, stored and live alike', async (t) => {
  const app = await buildTestApp(t, site)
  const portrait = await uploadPng(app, 'Alex Rowan', '#aa3344')
  const chart = await uploadPng(app, 'A chart', '#336699')
  const author = await createAuthor(app, { name: 'Alex Rowan', avatarImageId: portrait.id })
  await post(app, '/masthead/roles', { title: 'Editor', holderId: author.id })
  const created = await post(app, '/articles', {
    headline: 'Charts of the Week',
    status: 'published',
    leadImageId: chart.id,
    bylines: [{ authorId: author.id }],
    body: [{ type: 'paragraph', text: 'Look.' }, { type: 'image', imageId: chart.id }]
  })
  const article = json(created)
  const onApi = /^https:\/\/api\.example\.com\/images\/[0-9a-f-]{36}\/file\?v=[0-9a-f]{16}$/
  t.match(article.leadImage.url, onApi, 'the write\'s response')

  const reads: Record<string, string> = {}
  for (const [who, headers] of [['public', anonymous], ['staff', {}]] as const) {
    const read = await app.inject({ method: 'GET', url: `/articles/${article.id as string}`, headers })
    reads[who] = read.body
    const body = json(read)
    t.match(body.leadImage.url, onApi, `${who}: lead image`)
    t.match(body.bodyHtml, `<img src="${chart.url as string}"`, `${who}: the body's image`)
    t.match(body.bylines[0].author.avatarImage.url, onApi, `${who}: the byline's avatar`)
    t.same(body.jsonLd.image, [body.leadImage.url], `${who}: JSON-LD`)
    const trimmed = json(await app.inject({ method: 'GET', url: `/articles/${article.id as string}?fields=leadImage,bodyHtml`, headers }))
    t.match(trimmed.leadImage.url, onApi, `${who}: fields=`)
    t.match(trimmed.bodyHtml, 'src="https://api.example.com/images/')
    t.match(json(await app.inject({ method: 'GET', url: '/articles', headers })).items[0].leadImage.url, onApi, `${who}: Latest News`)
    const page = json(await app.inject({ method: 'GET', url: `/authors/slug/${author.slug as string}`, headers }))
    t.match(page.avatarImage.url, onApi, `${who}: author page`)
    t.match(page.latestArticles[0].leadImage.url, onApi)
    t.match(json(await app.inject({ method: 'GET', url: `/images/${chart.id as string}`, headers })).url, onApi, `${who}: the image API`)
    t.match(json(await app.inject({ method: 'GET', url: '/images', headers })).items[0].url, onApi)
    t.match(json(await app.inject({ method: 'GET', url: '/masthead', headers })).roles[0].holder.avatarImage.url, onApi, `${who}: masthead`)
  }
  t.equal(reads.public, reads.staff, 'the stored document and the live render are the same bytes')
  t.equal(json(await app.inject({ method: 'GET', url: `/images/${chart.id as string}`, headers: anonymous })).url, chart.url)

  // Stored documents hold the base: a start with another renders them again (the read model's fingerprint).
  await app.close()
  const moved = await buildTestApp(t, { ...site, databaseUrl: app.config.databaseUrl, imageDirectory: app.config.imageDirectory, apiPublicUrl: 'https://media.example.org' })
  const again = json(await moved.inject({ method: 'GET', url: `/articles/${article.id as string}`, headers: anonymous }))
  t.match(again.leadImage.url, /^https:\/\/media\.example\.org\/images\//, 'a new API_PUBLIC_URL shows at the next start')
  t.match(again.bodyHtml, 'src="https://media.example.org/images/')
  t.match(json(await moved.inject({ method: 'GET', url: `/authors/slug/${author.slug as string}`, headers: anonymous })).avatarImage.url, /^https:\/\/media\.example\.org\//)
})

t.test('with API_PUBLIC_URL, a live page read with a key has absolute image URLs, as the keyless one', async (t) => {
  const app = await buildTestApp(t, site)
  const onApi = /^https:\/\/api\.example\.com\/images\/[0-9a-f-]{36}\/file\?v=[0-9a-f]{16}$/
  const portrait = await uploadPng(app, 'Alex Rowan', '#aa3344')
  const chart = await uploadPng(app, 'A chart', '#336699')
  const author = await createAuthor(app, { name: 'Alex Rowan', avatarImageId: portrait.id })
  const article = json(await post(app, '/articles', { headline: 'Election Night Live', status: 'published', leadImageId: chart.id, bylines: [{ authorId: author.id }] }))
  const coverage = json(await post(app, '/live-coverages', { articleId: article.id, status: 'live' }))
  await post(app, `/live-coverages/${coverage.id as string}/entries`, { body: [{ type: 'paragraph', text: 'Polls are open.' }, { type: 'image', imageId: chart.id }] })

  // The page is JSON assembled by hand, past the response serializer and the app's hook.
  const publicPage = json(await app.inject({ url: `/live/${article.slug as string}`, headers: anonymous }))
  const staffPage = json(await app.inject({ url: `/live/${article.slug as string}` }))
  t.match(staffPage.article.bylines[0].author.avatarImage.url, onApi, 'staff: the byline\'s avatar')
  t.match(staffPage.article.leadImage.url, onApi, 'staff: the lead image')
  t.same(staffPage.article, publicPage.article, 'staff and public get the same article summary')
  t.same(Object.keys(staffPage.article.bylines[0].author.avatarImage), Object.keys(publicPage.article.bylines[0].author.avatarImage), 'the same image fields, in the same order')
})

t.test('with API_PUBLIC_URL, the change feed and webhooks carry absolute image URLs', async (t) => {
  const app = await buildTestApp(t, site)
  const onApi = /^https:\/\/api\.example\.com\/images\/[0-9a-f-]{36}\/file\?v=[0-9a-f]{16}$/
  const hook = json(await post(app, '/webhooks', { url: 'https://hooks.example.com/copydesk', events: ['image.created', 'image.updated'] }))
  const chart = await uploadPng(app, 'A chart', '#336699')
  await app.inject({ method: 'PATCH', url: `/images/${chart.id as string}`, payload: { caption: 'Turnout by hour' } })

  // The change log is written once and read by the feed, its streams and webhooks.
  const changes = json(await app.inject({ url: '/changes?types=image' })).items
  t.same(changes.map((change: { action: string }) => change.action), ['image.created', 'image.updated'])
  for (const change of changes) t.match(change.data, { url: onApi, mimeType: 'image/png' }, `${change.action as string}: absolute in the change feed`)
  const deliveries = json(await app.inject({ url: `/webhooks/${hook.id as string}/deliveries` })).items
  t.equal(deliveries.length, 2)
  for (const delivery of deliveries) {
    const { body } = json(await app.inject({ url: `/webhooks/${hook.id as string}/deliveries/${delivery.id as string}` }))
    t.match(JSON.parse(body).data.url, onApi, `${delivery.event as string}: absolute in the webhook payload`)
  }
})

t.test('with API_PUBLIC_URL, a list trimmed with fields= has absolute image URLs, read with a key or filtered', async (t) => {
  const app = await buildTestApp(t, site)
  const onApi = /^https:\/\/api\.example\.com\/images\/[0-9a-f-]{36}\/file\?v=[0-9a-f]{16}$/
  const chart = await uploadPng(app, 'A chart', '#336699')
  const author = await createAuthor(app, { name: 'Alex Rowan', avatarImageId: chart.id })
  await post(app, '/articles', { headline: 'Charts of the Week', status: 'published', leadImageId: chart.id, bylines: [{ authorId: author.id }] })
  // Trimmed lists are serialized by the route, past the app's hook; only the keyless unfiltered one comes from the read model.
  for (const [who, headers, query] of [['staff', {}, ''], ['public, filtered', anonymous, `&author=${author.slug as string}`]] as const) {
    const list = json(await app.inject({ url: `/articles?fields=leadImage,bylines${query}`, headers }))
    t.match(list.items[0].leadImage.url, onApi, `${who}: the lead image`)
    t.match(list.items[0].bylines[0].author.avatarImage.url, onApi, `${who}: the byline's avatar`)
  }
})
