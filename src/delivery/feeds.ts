// What feed readers, search engines and news aggregators fetch: RSS 2.0, Atom 1.0 and JSON Feed 1
// (by the `feed` library), sitemaps with an index past the protocol's 50,000 URLs, and a Google News
// sitemap of the last 48 hours. Only published articles, always.
import { Feed } from 'feed'
import type { FastifyBaseLogger } from 'fastify'
import { XMLBuilder } from 'fast-xml-parser'
import type { Database } from '../db/client.ts'
import { errors } from '../errors.ts'
import * as articles from '../articles/service.ts'
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
  const feed = new Feed({
    id: selfUrl,
    link: home,
    title,
    description: `The latest from ${title}`,
    language: site.language,
    updated: items.reduce((latest, item) => new Date(item.updatedAt) > latest ? new Date(item.updatedAt) : latest, new Date(0)),
    generator: 'Copydesk',
    copyright: `© ${site.name}`,
    feed: selfUrl,
    feedLinks: { [format]: selfUrl },
    ...(site.logoUrl !== null ? { image: site.logoUrl } : {})
  })
  for (const article of items) {
    const url = site.articleUrl(article.slug)
    // One image stored with an address no reader can follow must not take the feed down for everyone.
    const imageUrl = article.leadImage === null ? null : site.followable(article.leadImage.url)
    if (article.leadImage !== null && imageUrl === null) log.warn({ articleId: article.id, imageId: article.leadImage.id }, 'feed: lead image left out, its URL is not an absolute http(s) URL')
    feed.addItem({
      title: article.headline,
      id: url,
      link: url,
      date: new Date(article.publishedAt ?? article.updatedAt),
      published: new Date(article.publishedAt ?? article.updatedAt),
      ...(article.dek !== null ? { description: article.dek } : {}),
      // The library assumes a non-empty author list (JSON Feed reads the first).
      ...(article.bylines.length > 0 ? { author: article.bylines.map((byline) => ({ name: byline.author.name, link: site.authorUrl(byline.author.slug) })) } : {}),
      ...(article.leadImage !== null && imageUrl !== null ? { image: { url: imageUrl, type: article.leadImage.mimeType ?? undefined, length: article.leadImage.bytes ?? undefined } } : {})
    })
  }
  switch (format) {
    case 'rss': return feed.rss2()
    case 'atom': return feed.atom1()
    case 'json': return feed.json1()
  }
}

const xml = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@', format: false, suppressEmptyNode: true })
const declaration = '<?xml version="1.0" encoding="UTF-8"?>'
const SITEMAP_NS = 'http://www.sitemaps.org/schemas/sitemap/0.9'
const NEWS_NS = 'http://www.google.com/schemas/sitemap-news/0.9'

const published = { status: 'published' } as const
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
