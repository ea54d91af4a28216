// What feed readers, search engines and news aggregators fetch: RSS 2.0, Atom 1.0 and JSON Feed 1.1
// (written here to each specification's letter, as the W3C feed validator checks them), sitemaps with
// an index past the protocol's 50,000 URLs, and a Google News sitemap of the last 48 hours. Only
// published articles, always.
import type { FastifyBaseLogger } from 'fastify'
import { XMLBuilder } from 'fast-xml-parser'
import type { Database } from '../db/client.ts'
import { errors } from '../errors.ts'
import * as articles from '../articles/service.ts'
import type { ArticleSummary } from '../articles/schemas.ts'
import { publicArticleWhere } from '../articles/visibility.ts'
import type { Site } from './site.ts'

export const FEED_LENGTH = 50
const NEWS_WINDOW_MS = 48 * 3_600_000
const NEWS_MAX_URLS = 1000

export type FeedFormat = 'rss' | 'atom' | 'json'
export const feedTypes: Record<FeedFormat, string> = {
  rss: 'application/rss+xml; charset=utf-8',
  atom: 'application/atom+xml; charset=utf-8',
  json: 'application/feed+json; charset=utf-8'
}

export interface FeedFilter { author?: string, section?: string, tag?: string }

/** The latest published articles, overall or for one author, section or tag, in the format asked for. */
export async function latestFeed (db: Database, site: Site, format: FeedFormat, selfUrl: string, filter: FeedFilter, log: Pick<FastifyBaseLogger, 'warn'>): Promise<string> {
  let title = site.name
  let home = site.url
  if (filter.author !== undefined) {
    const author = await db.author.findUnique({ where: { slug: filter.author }, select: { name: true } })
    if (author === null) throw errors.authorNotFound(`slug ${filter.author}`)
    title = `${author.name} – ${site.name}`
    home = site.authorUrl(filter.author)
  }
  if (filter.section !== undefined) {
    const section = await db.section.findUnique({ where: { slug: filter.section }, select: { name: true } })
    if (section === null) throw errors.sectionNotFound(`slug ${filter.section}`)
    title = `${section.name} – ${title}`
  }
  if (filter.tag !== undefined) {
    const tag = await db.tag.findUnique({ where: { slug: filter.tag }, select: { name: true } })
    if (tag === null) throw errors.tagNotFound(`slug ${filter.tag}`)
    title = `${tag.name} – ${title}`
  }
  const { items } = await articles.readMany(db, { page: 1, limit: FEED_LENGTH, status: 'published', ...filter }, null)
  const entries = items.map((article) => entryOf(article, site, log))
  // The newest change shown, so the document (and its ETag) only changes when an item does.
  const updated = entries.reduce((latest, entry) => entry.updated > latest ? entry.updated : latest, new Date(0))
  const channel: Channel = { title, home, selfUrl, description: `The latest from ${title}`, updated, entries }
  switch (format) {
    case 'rss': return rss2(channel, site)
    case 'atom': return atom1(channel, site)
    case 'json': return jsonFeed(channel, site)
  }
}

interface Entry {
  /** Stable across slug changes, so readers never show an article twice: urn:uuid:<id>. */
  id: string
  url: string
  title: string
  summary: string | null
  published: Date
  updated: Date
  authors: Array<{ name: string, url: string }>
  image: { url: string, type: string, length: number } | null
}

interface Channel { title: string, home: string, selfUrl: string, description: string, updated: Date, entries: Entry[] }

function entryOf (article: ArticleSummary, site: Site, log: Pick<FastifyBaseLogger, 'warn'>): Entry {
  const lead = article.leadImage
  // One image stored with an address no reader can follow must not take the feed down for everyone.
  const imageUrl = lead === null ? null : site.followable(lead.url)
  if (lead !== null && imageUrl === null) log.warn({ articleId: article.id, imageId: lead.id }, 'feed: lead image left out, its URL is not an absolute http(s) URL')
  return {
    id: `urn:uuid:${article.id}`,
    url: site.articleUrl(article.slug),
    title: article.headline,
    summary: article.dek,
    published: new Date(article.publishedAt ?? article.updatedAt),
    updated: new Date(article.updatedAt),
    authors: article.bylines.map((byline) => ({ name: byline.author.name, url: site.authorUrl(byline.author.slug) })),
    // RSS requires a length: 0 when the size is unknown (an image registered by URL without one), as
    // the RSS Advisory Board's profile advises.
    image: lead === null || imageUrl === null ? null : { url: imageUrl, type: lead.mimeType, length: lead.bytes ?? 0 }
  }
}

const xml = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@', format: false, suppressEmptyNode: true })
const declaration = '<?xml version="1.0" encoding="UTF-8"?>'
const ATOM_NS = 'http://www.w3.org/2005/Atom'
const DC_NS = 'http://purl.org/dc/elements/1.1/'

/**
 * RSS 2.0 (rssboard.org/rss-specification), as the W3C feed validator checks it: dates in RFC 822,
 * a permanent guid, enclosures with url, length and type, and authors as dc:creator, since RSS's
 * own <author> must hold an email address, which the public never gets.
 */
function rss2 (channel: Channel, site: Site): string {
  return declaration + xml.build({
    rss: {
      '@version': '2.0',
      '@xmlns:atom': ATOM_NS,
      '@xmlns:dc': DC_NS,
      channel: {
        title: channel.title,
        link: channel.home,
        description: channel.description,
        language: site.language,
        copyright: `© ${site.name}`,
        lastBuildDate: channel.updated.toUTCString(),
        generator: 'Copydesk',
        docs: 'https://www.rssboard.org/rss-specification',
        'atom:link': { '@href': channel.selfUrl, '@rel': 'self', '@type': 'application/rss+xml' },
        ...(site.logoUrl !== null ? { image: { url: site.logoUrl, title: channel.title, link: channel.home } } : {}),
        item: channel.entries.map((entry) => ({
          title: entry.title,
          link: entry.url,
          ...(entry.summary !== null ? { description: entry.summary } : {}),
          ...(entry.authors.length > 0 ? { 'dc:creator': entry.authors.map((author) => author.name) } : {}),
          guid: { '#text': entry.id, '@isPermaLink': 'false' },
          pubDate: entry.published.toUTCString(),
          ...(entry.image !== null ? { enclosure: { '@url': entry.image.url, '@length': String(entry.image.length), '@type': entry.image.type } } : {})
        }))
      }
    }
  })
}

/**
 * Atom 1.0 (RFC 4287): the feed names the publication as its author, so entries without a byline
 * are still valid; dates are RFC 3339; the lead image is an enclosure link with its real type.
 */
function atom1 (channel: Channel, site: Site): string {
  const person = (author: { name: string, url: string }) => ({ name: author.name, uri: author.url })
  return declaration + xml.build({
    feed: {
      '@xmlns': ATOM_NS,
      '@xml:lang': site.language,
      id: channel.selfUrl,
      title: channel.title,
      subtitle: channel.description,
      updated: channel.updated.toISOString(),
      link: [{ '@rel': 'alternate', '@href': channel.home }, { '@rel': 'self', '@type': 'application/atom+xml', '@href': channel.selfUrl }],
      author: person({ name: site.name, url: site.url }),
      generator: 'Copydesk',
      rights: `© ${site.name}`,
      ...(site.logoUrl !== null ? { logo: site.logoUrl } : {}),
      entry: channel.entries.map((entry) => ({
        id: entry.id,
        title: { '#text': entry.title, '@type': 'text' },
        updated: entry.updated.toISOString(),
        published: entry.published.toISOString(),
        link: [
          { '@rel': 'alternate', '@href': entry.url },
          ...(entry.image !== null ? [{ '@rel': 'enclosure', '@type': entry.image.type, '@length': String(entry.image.length), '@href': entry.image.url }] : [])
        ],
        ...(entry.authors.length > 0 ? { author: entry.authors.map(person) } : {}),
        ...(entry.summary !== null ? { summary: { '#text': entry.summary, '@type': 'text' } } : {})
      }))
    }
  })
}

/** JSON Feed 1.1 (jsonfeed.org/version/1.1). */
function jsonFeed (channel: Channel, site: Site): string {
  return JSON.stringify({
    version: 'https://jsonfeed.org/version/1.1',
    title: channel.title,
    home_page_url: channel.home,
    feed_url: channel.selfUrl,
    description: channel.description,
    language: site.language,
    ...(site.logoUrl !== null ? { icon: site.logoUrl } : {}),
    items: channel.entries.map((entry) => ({
      id: entry.id,
      url: entry.url,
      title: entry.title,
      // JSON Feed asks for content_html or content_text; the dek is the content a feed carries.
      content_text: entry.summary ?? entry.title,
      ...(entry.summary !== null ? { summary: entry.summary } : {}),
      ...(entry.image !== null ? { image: entry.image.url } : {}),
      date_published: entry.published.toISOString(),
      date_modified: entry.updated.toISOString(),
      ...(entry.authors.length > 0 ? { authors: entry.authors } : {}),
      ...(entry.image !== null ? { attachments: [{ url: entry.image.url, mime_type: entry.image.type, ...(entry.image.length > 0 ? { size_in_bytes: entry.image.length } : {}) }] } : {})
    }))
  })
}

const SITEMAP_NS = 'http://www.sitemaps.org/schemas/sitemap/0.9'
const NEWS_NS = 'http://www.google.com/schemas/sitemap-news/0.9'

const published = publicArticleWhere
/** Oldest first, so a URL keeps its sitemap page as new articles are added at the end. */
const stableOrder = [{ publishedAt: 'asc' as const }, { id: 'asc' as const }]

/** A urlset of every published article, or, past one page, an index of the pages. */
export async function sitemap (db: Database, site: Site, apiUrl: (path: string) => string, pageSize: number): Promise<string> {
  const total = await db.article.count({ where: published })
  if (total > pageSize) {
    const pages = Math.ceil(total / pageSize)
    const latest = await db.article.findFirst({ where: published, orderBy: { updatedAt: 'desc' }, select: { updatedAt: true } })
    return declaration + xml.build({
      sitemapindex: {
        '@xmlns': SITEMAP_NS,
        sitemap: Array.from({ length: pages }, (_, index) => ({ loc: apiUrl(`/sitemaps/articles/${index + 1}`), ...(latest !== null ? { lastmod: latest.updatedAt.toISOString() } : {}) }))
      }
    })
  }
  return await sitemapPage(db, site, 1, pageSize)
}

export async function sitemapPage (db: Database, site: Site, page: number, pageSize: number): Promise<string> {
  const rows = await db.article.findMany({ where: published, orderBy: stableOrder, skip: (page - 1) * pageSize, take: pageSize, select: { slug: true, updatedAt: true } })
  if (rows.length === 0 && page > 1) throw errors.routeNotFound(`Sitemap page ${page} does not exist`)
  return declaration + xml.build({
    urlset: {
      '@xmlns': SITEMAP_NS,
      url: rows.map((row) => ({ loc: site.articleUrl(row.slug), lastmod: row.updatedAt.toISOString() }))
    }
  })
}

/** Google News: articles published in the last 48 hours, at most 1,000, newest first. */
export async function newsSitemap (db: Database, site: Site): Promise<string> {
  const rows = await db.article.findMany({
    where: { ...published, publishedAt: { gte: new Date(Date.now() - NEWS_WINDOW_MS) } },
    orderBy: [{ publishedAt: 'desc' }, { id: 'desc' }],
    take: NEWS_MAX_URLS,
    select: { slug: true, headline: true, publishedAt: true }
  })
  return declaration + xml.build({
    urlset: {
      '@xmlns': SITEMAP_NS,
      '@xmlns:news': NEWS_NS,
      url: rows.map((row) => ({
        loc: site.articleUrl(row.slug),
        'news:news': {
          'news:publication': { 'news:name': site.name, 'news:language': site.language.split('-')[0] },
          'news:publication_date': (row.publishedAt as Date).toISOString(),
          'news:title': row.headline
        }
      }))
    }
  })
}
