// Feeds, sitemaps and structured data, parsed back with a real XML parser the way readers, crawlers
// and aggregators read them. Drafts never appear.
import t from 'tap'
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { anonymous, buildTestApp, createAuthor, createImage, json, post } from './helper.ts'
import type { FastifyInstance } from 'fastify'

const site = { siteUrl: 'https://news.example.com', siteName: 'The Example Ledger', siteLanguage: 'en-GB', apiPublicUrl: 'https://api.example.com', backgroundJobs: false }
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => ['item', 'entry', 'url', 'sitemap', 'author', 'link'].includes(name) })

function parseXml (body: string): any { // eslint-disable-line @typescript-eslint/no-explicit-any -- parsed documents are checked field by field
  t.equal(XMLValidator.validate(body), true, 'well-formed XML')
  return parser.parse(body)
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

t.test('RSS, Atom and JSON Feed carry the latest published stories with links to the website', async (t) => {
  const app = await buildTestApp(t, site)
  const { rowan, slugs } = await newsroom(app)

  const rss = await app.inject({ method: 'GET', url: '/feeds/rss', headers: anonymous })
  t.equal(rss.statusCode, 200)
  t.match(rss.headers['content-type'], /^application\/rss\+xml/)
  const channel = parseXml(rss.body).rss.channel
  t.equal(channel.title, 'The Example Ledger')
  t.equal(channel.language, 'en-GB')
  t.same(channel.item.map((item: { title: string }) => item.title), ['Storm & Flood: Coast <Braces>', 'Council Votes on Budget', 'Old Story From Last Week'], 'newest first, text escaped and read back intact, no draft')
  t.equal(channel.item[0].link[0], `https://news.example.com/articles/${slugs[0] as string}`)
  t.equal(channel.item[0].enclosure['@url'], 'https://images.example.com/storm.jpg')
  t.ok(Date.parse(channel.item[0].pubDate) > Date.now() - 2 * 3_600_000, 'pubDate is the publication time')

  const atom = await app.inject({ method: 'GET', url: '/feeds/atom', headers: anonymous })
  t.match(atom.headers['content-type'], /^application\/atom\+xml/)
  const feed = parseXml(atom.body).feed
  t.equal(feed['@xmlns'], 'http://www.w3.org/2005/Atom')
  t.equal(feed.entry.length, 3)
  t.equal(feed.entry[0].author[0].name, 'Alex Rowan')

  const jsonFeed = await app.inject({ method: 'GET', url: '/feeds/json', headers: anonymous })
  t.match(jsonFeed.headers['content-type'], /^application\/feed\+json/)
  const body = JSON.parse(jsonFeed.body)
  t.match(body.version, /^https:\/\/jsonfeed\.org\/version\/1/)
  t.equal(body.items.length, 3)
  t.equal(body.items[1].url, `https://news.example.com/articles/${slugs[1] as string}`)

  const byRowan = parseXml((await app.inject({ method: 'GET', url: `/feeds/rss?author=${rowan.slug as string}`, headers: anonymous })).body).rss.channel
  t.equal(byRowan.title, 'Alex Rowan – The Example Ledger')
  t.same(byRowan.item.map((item: { title: string }) => item.title), ['Storm & Flood: Coast <Braces>', 'Old Story From Last Week'], 'one author\'s stories')
  const nobody = await app.inject({ method: 'GET', url: '/feeds/atom?author=nobody-at-all', headers: anonymous })
  t.equal(nobody.statusCode, 404)
  t.equal(json(nobody).code, 'AUTHOR_NOT_FOUND')

  const again = await app.inject({ method: 'GET', url: '/feeds/rss', headers: { ...anonymous, 'if-none-match': rss.headers.etag as string } })
  t.equal(again.statusCode, 304, 'feed readers revalidate cheaply')
  t.equal(rss.headers['surrogate-key'], 'articles-list')
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
