import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { Slug } from '../common-schemas.ts'
import { problemResponses } from '../errors.ts'
import { feedTypes, latestFeed, newsSitemap, sitemap, sitemapPage, FEED_LENGTH, type FeedFormat } from './feeds.ts'
import { siteOf } from './site.ts'
import { withoutTrackingParameters } from '../plugins/http-cache.ts'

const tags = ['Feeds and sitemaps']
const FeedQuery = Type.Object({ author: Type.Optional(Slug), section: Type.Optional(Slug), tag: Type.Optional(Slug) }, { additionalProperties: false })
const SitemapParams = Type.Object({ page: Type.Integer({ minimum: 1, maximum: 100_000, examples: [1] }) }, { additionalProperties: false })

const JsonFeedSchema = {
  type: 'object',
  required: ['version', 'title', 'items'],
  properties: {
    version: { type: 'string', examples: ['https://jsonfeed.org/version/1.1'] },
    title: { type: 'string' },
    home_page_url: { type: 'string' },
    feed_url: { type: 'string' },
    items: { type: 'array', items: { type: 'object', required: ['id'], properties: { id: { type: 'string' }, url: { type: 'string' }, title: { type: 'string' }, summary: { type: 'string' }, date_published: { type: 'string' }, date_modified: { type: 'string' } } } }
  }
}

const text = (type: string, description: string, example: string) => {
  const mediaType = type.split(';')[0] as string
  return {
    description,
    content: { [mediaType]: mediaType.endsWith('json') ? { schema: JsonFeedSchema, example: JSON.parse(example) } : { schema: { type: 'string' }, example } }
  }
}
const xmlDocument = (description: string, example: string) => text('application/xml', description, example)

const feeds: Array<{ format: FeedFormat, path: string, operationId: string, name: string, example: string }> = [
  { format: 'rss', path: '/feeds/rss', operationId: 'getRssFeed', name: 'RSS 2.0', example: '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/">…</rss>' },
  { format: 'atom', path: '/feeds/atom', operationId: 'getAtomFeed', name: 'Atom 1.0', example: '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">…</feed>' },
  { format: 'json', path: '/feeds/json', operationId: 'getJsonFeed', name: 'JSON Feed 1.1', example: '{"version":"https://jsonfeed.org/version/1.1","title":"Copydesk","home_page_url":"https://news.example.com","items":[{"id":"urn:uuid:6f1c2e0a-4b7d-4c1e-9a51-2f0d8c3b7e21","url":"https://news.example.com/articles/storm-closes-coastal-highway","title":"Storm Closes Coastal Highway","date_published":"2026-11-25T06:00:00.000Z"}]}' }
]

export const deliveryRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const site = siteOf(app.config)
  const apiUrl = (path: string): string => site.absolute(path)

  for (const { format, path, operationId, name, example } of feeds) {
    app.get(path, {
      config: { access: 'public', cache: 'feeds' },
      schema: {
        operationId,
        summary: `The latest ${FEED_LENGTH} published articles as ${name}; ?author=, ?section= or ?tag= (slugs) narrow it`,
        description: `Returns the ${FEED_LENGTH} most recently published articles as ${name}, for feed readers and aggregators; ?author=, ?section= or ?tag= (slugs) give that author's, section's or tag's own feed. An unknown slug is 404; keyless answers carry an ETag and Cache-Control.`,
        tags,
        querystring: FeedQuery,
        response: { 200: text(feedTypes[format], `${name} feed`, example), ...problemResponses(400, 404) }
      }
    }, async (request, reply) => {
      const self = apiUrl(withoutTrackingParameters(request.url))
      return await reply.type(feedTypes[format]).send(await latestFeed(app.db, site, format, self, request.query, request.log))
    })
  }

  app.get('/sitemap.xml', {
    config: { access: 'public', cache: 'feeds' },
    schema: {
      operationId: 'getSitemap',
      summary: 'Every published article\'s page (sitemaps.org); past SITEMAP_PAGE_SIZE URLs, a sitemap index of /sitemaps/articles/{page}',
      description: 'Returns the sitemaps.org sitemap of every published article\'s page, with when each last changed, for search engines. Past SITEMAP_PAGE_SIZE articles it is a sitemap index pointing at the numbered pages (/sitemaps/articles/{page}) instead.',
      tags,
      response: { 200: xmlDocument('A urlset or a sitemapindex', '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://news.example.com/articles/storm-closes-coastal-highway</loc><lastmod>2026-11-25T06:00:00.000Z</lastmod></url></urlset>') }
    }
  }, async (_request, reply) => await reply.type('application/xml; charset=utf-8').send(await sitemap(app.db, site, apiUrl, app.config.sitemapPageSize)))

  app.get('/sitemaps/articles/:page', {
    config: { access: 'public', cache: 'feeds' },
    schema: {
      operationId: 'getSitemapPage',
      summary: 'One page of the article sitemap, oldest first (pages keep their URLs as articles are added)',
      description: 'Returns one numbered page of the article sitemap, oldest articles first, so a page\'s URLs stay put as new articles are added; a page past the end is 404.',
      tags,
      params: SitemapParams,
      response: { 200: xmlDocument('A urlset', '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">…</urlset>'), ...problemResponses(400, 404) }
    }
  }, async (request, reply) => await reply.type('application/xml; charset=utf-8').send(await sitemapPage(app.db, site, request.params.page, app.config.sitemapPageSize)))

  app.get('/sitemap-news.xml', {
    // The last 48 hours move with the clock, not only with writes: validated, never kept in memory.
    config: { access: 'public', cache: 'feeds', cacheInMemory: false },
    schema: {
      operationId: 'getNewsSitemap',
      summary: 'Google News sitemap: articles published in the last 48 hours (at most 1,000)',
      description: 'Returns the Google News sitemap: articles published in the last 48 hours, at most 1,000. It carries an ETag for revalidation but is never served from memory, since it changes with the clock.',
      tags,
      response: { 200: xmlDocument('A urlset with news:news entries', '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">…</urlset>') }
    }
  }, async (_request, reply) => await reply.type('application/xml; charset=utf-8').send(await newsSitemap(app.db, site)))
}
