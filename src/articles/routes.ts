import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { reservedSlugsOf } from '../config.ts'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { LRUCache } from 'lru-cache'
import { idParamsFor, IfMatchHeaders, Nullable, Page, Slug, slugParamsFor, Timestamp, Uuid } from '../common-schemas.ts'
import { exampleIds, exampleSlugs } from '../examples.ts'
import { errors, problemResponses } from '../errors.ts'
import { actorOf } from '../keys/routes.ts'
import { surrogateKeysOf } from '../plugins/http-cache.ts'
import { ArticleCreate, ArticleListQuery, ArticlePatch, ArticleReadQuery, ArticleRef, ArticleSummaryRef, CorrectionCreate, EmbargoSet, ReasonBody, shapeOf, type Article } from './schemas.ts'
import * as articles from './service.ts'
import { killOne, unkillOne } from './kill.ts'
import { breakEmbargo, setEmbargo } from './embargo.ts'
import * as revisions from './revisions.ts'
import { newsArticleJsonLd, siteOf, withAbsoluteImageUrls } from '../delivery/site.ts'
import { articleIdOf, mintLink, PREVIEW_TOKEN_PATTERN } from './preview.ts'
import { readLatest, sendStoredPage, type LatestQuery, type StoredDocument } from '../read-model/reads.ts'
import { serializeArticle, serializeSummary } from '../read-model/serializers.ts'

const tags = ['Articles']
const revisionTags = ['Revisions']
const etagHeader = { ETag: { type: 'string', description: 'The article\'s version and a hash of these bytes ("<version>-<hash>"), the same a read of them gives: send it back in If-Match to edit safely, or in If-None-Match to revalidate' } }
export const withEtag = (description: string) => ({ description, headers: etagHeader, ...ArticleRef })
export const writeProblems = problemResponses(400, 404, 409, 412, 413, 415, 423, 428, 503)

export function sendArticle (reply: FastifyReply, read: Article, status = 200, shape: { fields?: string, include?: string } = {}): FastifyReply {
  const site = siteOf(reply.server.config)
  // Here and not only in the app's hook: a trimmed response is serialized below, past the hook.
  const article = withAbsoluteImageUrls(read, site.imageBase)
  const full = { ...article, jsonLd: newsArticleJsonLd(article, site) }
  reply.code(status).header('etag', articles.etagOf(article.version))
  return shape.fields === undefined && shape.include === undefined ? reply.send(full) : sendShaped(reply, full, shape)
}

/**
 * fields= / include=: the response schema's serializer needs every field, so a trimmed response is
 * serialized here; its purge keys still name everything the full one shows. The parts are taken
 * from the schema's serialization (as the read model stores it), so keys come in the schema's order
 * and nothing the schema leaves out slips through: the same bytes as a variant of a stored document.
 */
function sendShaped (reply: FastifyReply, response: Record<string, unknown> & { items?: Array<Record<string, unknown>> }, shape: { fields?: string, include?: string }): FastifyReply {
  // Sent as text, past the app's hook: image URLs are made absolute here (a list read with a key or filtered).
  const full = withAbsoluteImageUrls(response, reply.server.config.apiPublicUrl)
  const state = reply.request.cacheState
  if (state?.shared === true) state.keys = surrogateKeysOf('articles', full)
  const asSerialized = (serialize: (value: unknown) => string, value: unknown): Record<string, unknown> => JSON.parse(serialize(value)) as Record<string, unknown>
  const trimmed = full.items === undefined
    ? shapeOf(asSerialized(serializeArticle, full), shape)
    : { ...full, items: full.items.map((item) => shapeOf(asSerialized(serializeSummary, item), shape)) }
  return reply.type('application/json; charset=utf-8').send(JSON.stringify(trimmed))
}

/**
 * A keyless read answered from the public read model: the stored bytes, their ETag and purge keys,
 * or, for fields= / include=, the part asked for (derived from the stored document).
 */
function sendStored (reply: FastifyReply, stored: StoredDocument, shape: { fields?: string, include?: string }): FastifyReply {
  if (shape.fields === undefined && shape.include === undefined) return sendStoredPage(reply, stored)
  const state = reply.request.cacheState
  if (state !== undefined) state.keys = stored.purgeKeys.split(' ')
  return sendJsonText(reply.header('etag', articles.etagOf(stored.version)), JSON.stringify(shapeOf(JSON.parse(stored.document) as Record<string, unknown>, shape)))
}

/** JSON already serialized (stored bytes): sent as it is, past the response schema's serializer. */
function sendJsonText (reply: FastifyReply, json: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(json)
}

/** The list queries the read model answers: published articles in publication order, unfiltered, whole. */
function latestQueryOf (query: ArticleListQuery): LatestQuery | null {
  const { page, limit, status, sort = '-publishedAt', cursor, fields, include, ...filters } = query
  if ((status ?? 'published') !== 'published' || fields !== undefined || include !== undefined) return null
  if (Object.values(filters).some((value) => value !== undefined)) return null
  if (sort !== '-publishedAt' && sort !== 'publishedAt') return null
  if (cursor === undefined) return { sort, page, limit, cursor: null }
  if (page > 1) return null // refused by the live path, with its message
  const decoded = articles.decodeCursor(cursor, sort)
  if (decoded.value === null) return null
  return { sort, page, limit, cursor: { towards: decoded.towards, value: decoded.value, id: decoded.id } }
}

const ArticleIdParams = idParamsFor(exampleIds.article)
// The seeded lead story has two versions.
const RevisionParams = Type.Object({ ...ArticleIdParams.properties, version: Type.Integer({ minimum: 1, maximum: 2147483647, examples: [1] }) }, { additionalProperties: false })
const ChangedBy = Type.Object({
  keyId: Nullable(Uuid),
  name: Nullable(Type.String({ description: 'The key\'s name at the time, or the server\'s own job ("scheduler")' }))
}, { description: 'Who made the change' })
const RevisionSummary = Type.Object({
  version: Type.Integer({ minimum: 1 }),
  changedFields: Type.Array(Type.String(), { description: 'Fields that differ from the previous revision' }),
  createdAt: Timestamp,
  changedBy: ChangedBy
}, { title: 'RevisionSummary' })
const RevisionDetail = Type.Object({
  version: Type.Integer({ minimum: 1 }),
  changedFields: Type.Array(Type.String()),
  createdAt: Timestamp,
  changedBy: ChangedBy,
  snapshot: Type.Record(Type.String(), Type.Unknown(), { description: 'The article\'s editable fields at this version' })
}, { title: 'Revision' })
const RevisionComparison = Type.Object({
  from: Type.Integer(),
  to: Type.Integer(),
  changes: Type.Array(Type.Object({ field: Type.String(), from: Type.Unknown(), to: Type.Unknown() }))
}, { title: 'RevisionComparison', examples: [{ from: 1, to: 2, changes: [{ field: 'headline', from: 'Old headline', to: 'New headline' }] }] })
const Moved = Type.Object({
  movedTo: Slug,
  location: Type.String({ examples: ['/articles/slug/russia-admits-conscripts-sent-into-ukraine'] })
}, { title: 'ArticleMoved', description: 'The slug belonged to this article before; follow Location' })

const ArticleList = Page(ArticleSummaryRef, 'ArticleSummary', {
  page: Nullable(Type.Integer({ minimum: 1, description: 'The page number; null on a page reached by cursor, whose number is not known' })),
  nextCursor: Nullable(Type.String({ description: 'Pass as cursor for the next page; null on the last' })),
  prevCursor: Nullable(Type.String({ description: 'Pass as cursor for the previous page; null on the first' }))
})

/** RFC 8288 links to the neighbouring pages, keeping the request's other parameters. */
function pageLinks (url: string, page: Pick<articles.ArticlePage, 'page' | 'totalPages' | 'nextCursor' | 'prevCursor'>): string {
  const [path, search = ''] = url.split('?') as [string, string?]
  const linkTo = (changes: Record<string, string | null>): string => {
    const params = new URLSearchParams(search)
    for (const [name, value] of Object.entries(changes)) {
      if (value === null) params.delete(name)
      else params.set(name, value)
    }
    const query = params.toString()
    return `<${path}${query === '' ? '' : `?${query}`}>`
  }
  const links: string[] = []
  // Cursors unless the client pages by number: they hold still while stories are published.
  const given = new URLSearchParams(search)
  const byCursor = given.has('cursor') || !given.has('page')
  if (byCursor) {
    links.push(`${linkTo({ cursor: null, page: null })}; rel="first"`)
    if (page.prevCursor !== null) links.push(`${linkTo({ cursor: page.prevCursor, page: null })}; rel="prev"`)
    if (page.nextCursor !== null) links.push(`${linkTo({ cursor: page.nextCursor, page: null })}; rel="next"`)
  } else {
    links.push(`${linkTo({ page: '1' })}; rel="first"`)
    const number = page.page ?? 1
    if (number > 1) links.push(`${linkTo({ page: String(number - 1) })}; rel="prev"`)
    if (number < page.totalPages) links.push(`${linkTo({ page: String(number + 1) })}; rel="next"`)
    links.push(`${linkTo({ page: String(Math.max(1, page.totalPages)) })}; rel="last"`)
  }
  return links.join(', ')
}

export const articleRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const reservedSlugs = reservedSlugsOf(app.config)
  /** Totals of public article lists for the current content generation (see articles.readMany). */
  const publicTotals = new LRUCache<string, number>({ max: 1000 })
  /** Strict mode: an edit that does not say which version it edits is refused. */
  const requireIfMatch = async (request: FastifyRequest): Promise<void> => {
    if (app.config.requireIfMatch && request.headers['if-match'] === undefined) {
      throw errors.preconditionRequired('This server requires If-Match on edits: read the article, then send its ETag back')
    }
  }

  app.get('/articles', {
    config: { access: 'public', cache: 'articles' },
    schema: {
      operationId: 'listArticles',
      summary: 'List articles; by default the published ones, newest first ("Latest News")',
      description: 'Returns a page of article summaries (no body), by default the published ones, newest first; filter by section, tag, author, publication dates or updatedSince, and trim with fields and include. Page with `cursor` (nextCursor, prevCursor and the Link header; pages hold still while stories are published) or with `page`; drafts, scheduled and archived articles (`status`) need a staff key, and keyless answers carry an ETag and Cache-Control.',
      tags,
      querystring: ArticleListQuery,
      'x-copydesk-trimmable': true,
      response: {
        200: {
          description: 'A page of articles. The Link header (RFC 8288) names the first, prev and next pages: by cursor, or by number (with last) when the request gave page',
          headers: { Link: { type: 'string', description: 'e.g. </articles?limit=20&cursor=…>; rel="next"' } },
          ...ArticleList
        },
        ...problemResponses(400)
      }
    }
  }, async (request, reply) => {
    const state = request.cacheState
    const latest = request.actor === null && state !== undefined ? latestQueryOf(request.query) : null
    if (latest !== null && state !== undefined) {
      const totalKey = `${state.generation}:read-model`
      const total = async (): Promise<number> => {
        const known = publicTotals.get(totalKey)
        if (known !== undefined) return known
        const counted = await app.publicReads.count()
        publicTotals.set(totalKey, counted)
        return counted
      }
      const sort = latest.sort
      const page = await readLatest(app.publicReads, latest, total, (towards, value, id) => articles.encodeCursor({ sort, towards, value, id }))
      reply.header('link', pageLinks(request.url, page))
      state.keys = ['articles-list', ...page.itemIds.map((id) => `article-${id}`)]
      state.etag = page.etag
      return sendJsonText(reply, page.json)
    }
    const page = await articles.readMany(app.db, request.query, request.actor, state?.shared === true ? { generation: state.generation, totals: publicTotals } : undefined)
    const links = pageLinks(request.url, page)
    if (links !== '') reply.header('link', links)
    const { fields, include } = request.query
    if (fields !== undefined || include !== undefined) return sendShaped(reply, page as unknown as Record<string, unknown>, { fields, include })
    return page
  })

  app.post('/articles', {
    config: { access: 'writer' },
    schema: {
      operationId: 'createArticle', summary: 'Create an article', description: 'Creates an article, a draft unless `status` says otherwise, and returns it with its ETag and a Location header; the slug is made from the headline when omitted. A writer\'s key creates drafts only, credited to its author.', tags,
      body: ArticleCreate,
      response: { 201: withEtag('Created'), ...problemResponses(400, 409, 413, 415, 503) }
    }
  }, async (request, reply) => {
    const article = await articles.createOne(app.db, request.body, actorOf(request), reservedSlugs)
    return sendArticle(reply.header('location', `/articles/${article.id}`), article, 201)
  })

  app.get('/articles/:id', {
    config: { access: 'public', cache: 'articles' },
    schema: {
      operationId: 'getArticle', summary: 'Read an article by id, with its authors and images embedded', description: 'Returns the whole article (body as blocks, HTML and text, authors, images, corrections and JSON-LD) with an ETag: send it in If-None-Match to revalidate (304) or in If-Match on your next edit; fields and include trim the response. Without a key only published articles not under embargo are found (404 otherwise; 410 ARTICLE_GONE, a problem saying nothing of the article, once an article the public has read is killed; a killed article never public stays 404); staff keys see every status.', tags,
      params: ArticleIdParams,
      querystring: ArticleReadQuery,
      'x-copydesk-trimmable': true,
      response: { 200: withEtag('The article'), ...problemResponses(400, 404, 410) }
    }
  }, async (request, reply) => {
    const stored = request.actor === null ? await app.publicReads.articleById(request.params.id) : undefined
    if (stored !== undefined) return sendStored(reply, stored, request.query)
    return sendArticle(reply, await articles.readOne(app.db, request.params.id, request.actor), 200, request.query)
  })

  app.get('/articles/slug/:slug', {
    config: { access: 'public', cache: 'articles' },
    schema: {
      operationId: 'getArticleBySlug',
      summary: 'Read an article by slug, as a frontend renders it; a former slug answers 308 with the new location',
      description: 'Returns the same article as GET /articles/{id}, found by the slug in the page\'s URL, which is what a frontend route usually has. A slug the article had before answers 308 with Location pointing at its current slug; without a key only published articles not under embargo are found, and the slugs (current and former) of a killed article the public has read answer 410 ARTICLE_GONE (one never public stays 404).',
      tags,
      params: slugParamsFor(exampleSlugs.article),
      querystring: ArticleReadQuery,
      'x-copydesk-trimmable': true,
      response: {
        200: withEtag('The article'),
        308: { description: 'The article moved to another slug', headers: { Location: { type: 'string', description: 'Where the article is now' } }, ...Moved },
        ...problemResponses(400, 404, 410)
      }
    }
  }, async (request, reply) => {
    const stored = request.actor === null ? await app.publicReads.articleBySlug(request.params.slug) : undefined
    if (stored !== undefined) return sendStored(reply, stored, request.query)
    // Not in the read model: a former slug (308), or not public (404).
    const found = await articles.readOneBySlug(app.db, request.params.slug, request.actor)
    if ('article' in found) return sendArticle(reply, found.article, 200, request.query)
    const location = `/articles/slug/${found.movedTo}${request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : ''}`
    return await reply.code(308).header('location', location).send({ movedTo: found.movedTo, location })
  })

  app.put('/articles/:id', {
    config: { access: 'writer' },
    preHandler: requireIfMatch,
    schema: {
      operationId: 'replaceArticle',
      summary: 'Replace an article (fields left out are cleared; the slug is kept when omitted)',
      description: 'Replaces all of the article\'s editable fields with the body sent (fields left out are cleared, the slug is kept when omitted) and returns the stored article with its new ETag. Send the ETag of your last read in If-Match, so that someone else\'s edit in between answers 412 instead of being overwritten (the server may require it: 428).',
      tags,
      params: ArticleIdParams,
      headers: IfMatchHeaders,
      body: ArticleCreate,
      response: { 200: withEtag('The article as stored'), ...writeProblems }
    }
  }, async (request, reply) => sendArticle(reply, await articles.replaceOne(app.db, request.params.id, request.body, actorOf(request), request.headers['if-match'], reservedSlugs)))

  app.patch('/articles/:id', {
    config: { access: 'writer' },
    preHandler: requireIfMatch,
    schema: {
      operationId: 'updateArticle',
      summary: 'Change some of an article\'s fields; publish, schedule, unpublish or archive it through "status"',
      description: 'Changes only the fields sent (null clears an optional one) and returns the stored article with its new ETag; setting `status` publishes, schedules (with a future publishedAt), unpublishes or archives it. Send the ETag you read in If-Match so that a concurrent edit answers 412; a writer\'s key may only edit its own drafts, and not publish them.',
      tags,
      params: ArticleIdParams,
      headers: IfMatchHeaders,
      body: ArticlePatch,
      response: { 200: withEtag('The article as stored'), ...writeProblems }
    }
  }, async (request, reply) => sendArticle(reply, await articles.updateOne(app.db, request.params.id, request.body, actorOf(request), request.headers['if-match'], reservedSlugs)))

  app.delete('/articles/:id', {
    config: { access: 'editor' },
    preHandler: requireIfMatch,
    schema: {
      operationId: 'deleteArticle', summary: 'Delete an article', description: 'Deletes the article: it leaves lists, feeds and sitemaps, the change feed shows a tombstone and webhooks hear article.deleted. Send its ETag in If-Match to be sure you delete the version you saw (412 otherwise).', tags,
      params: ArticleIdParams,
      headers: IfMatchHeaders,
      response: { 204: Type.Null({ description: 'Deleted' }), ...problemResponses(400, 404, 409, 412, 423, 428, 503) }
    }
  }, async (request, reply) => {
    await articles.deleteOne(app.db, request.params.id, actorOf(request), request.headers['if-match'])
    return await reply.code(204).send(null)
  })

  app.post('/articles/:id/corrections', {
    config: { access: 'editor' },
    preHandler: requireIfMatch,
    schema: {
      operationId: 'addArticleCorrection',
      summary: 'Attach a dated correction or update note to a published article',
      description: 'Adds a dated correction or update note to a published or archived article (a draft is simply edited: 409), shown with the article from then on, and returns the article with its new ETag. Send the ETag you read in If-Match; the Location header points at the new correction.',
      tags,
      params: ArticleIdParams,
      headers: IfMatchHeaders,
      body: CorrectionCreate,
      response: { 201: withEtag('The article with the correction'), ...writeProblems }
    }
  }, async (request, reply) => {
    const { article, correction } = await articles.addCorrection(app.db, request.params.id, request.body, actorOf(request), request.headers['if-match'])
    return sendArticle(reply.header('location', `/articles/${article.id}#correction-${correction.id}`), article, 201)
  })

  app.get('/articles/:id/revisions', {
    config: { access: 'writer' },
    schema: {
      operationId: 'listArticleRevisions', summary: 'List an article\'s revisions, newest first', description: 'Returns every saved version of the article, newest first: its version number, which fields changed, when, and which key made the change. Read one with GET /articles/{id}/revisions/{version}, or compare two with /articles/{id}/revisions/compare.', tags: revisionTags,
      params: ArticleIdParams,
      response: { 200: Type.Object({ items: Type.Array(RevisionSummary) }, { title: 'RevisionList' }), ...problemResponses(400, 404) }
    }
  }, async (request) => ({ items: await revisions.readMany(app.db, request.params.id) }))

  app.get('/articles/:id/revisions/compare', {
    config: { access: 'writer' },
    schema: {
      operationId: 'compareArticleRevisions', summary: 'The fields that differ between two revisions', description: 'Compares two saved versions of the article (`from` and `to`) and returns each field that differs, with its value in both: what changed between them.', tags: revisionTags,
      params: ArticleIdParams,
      querystring: Type.Object({ from: Type.Integer({ minimum: 1, maximum: 2147483647, examples: [1] }), to: Type.Integer({ minimum: 1, maximum: 2147483647, examples: [2] }) }, { additionalProperties: false }),
      response: { 200: RevisionComparison, ...problemResponses(400, 404) }
    }
  }, async (request) => await revisions.diff(app.db, request.params.id, request.query.from, request.query.to))

  app.get('/articles/:id/revisions/:version', {
    config: { access: 'writer' },
    schema: {
      operationId: 'getArticleRevision', summary: 'Read one revision: the article\'s fields at that version', description: 'Returns one saved version of the article: its editable fields as they were then, which fields changed, when, and which key made the change.', tags: revisionTags,
      params: RevisionParams,
      response: { 200: RevisionDetail, ...problemResponses(400, 404) }
    }
  }, async (request) => await revisions.readOne(app.db, request.params.id, request.params.version))

  app.post('/articles/:id/revisions/:version/restore', {
    config: { access: 'writer' },
    preHandler: requireIfMatch,
    schema: {
      operationId: 'restoreArticleRevision',
      summary: 'Bring back a revision\'s content as a new version (status, slug and corrections stay as they are)',
      description: 'Copies that revision\'s content back into the article as a new version (its status, slug and corrections stay as they are) and returns the article with its new ETag; the version it replaces stays in the history. Send the current ETag in If-Match.',
      tags: revisionTags,
      params: RevisionParams,
      headers: IfMatchHeaders,
      response: { 200: withEtag('The article as restored'), ...writeProblems }
    }
  }, async (request, reply) => {
    const revision = await revisions.readOne(app.db, request.params.id, request.params.version)
    return sendArticle(reply, await articles.updateOne(app.db, request.params.id, revisions.restorePatch(revision.snapshot), actorOf(request), request.headers['if-match'], reservedSlugs))
  })

  app.post('/articles/:id/preview-link', {
    config: { access: 'writer' },
    schema: {
      operationId: 'createArticlePreviewLink',
      summary: 'Mint a signed, expiring link that shows this article in any status, without a key (for a frontend\'s preview page)',
      description: 'Returns a signed token and a relative URL (/preview/{token}) that show this article, in any status, to whoever has them, without a key, until expiresAt. Hand it to a frontend\'s preview page or a colleague; it works on every instance.',
      tags,
      params: ArticleIdParams,
      querystring: Type.Object({
        expiresInSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 30 * 86400, description: 'How long the link works; at most the server\'s PREVIEW_LINK_TTL_SECONDS (default)', examples: [3600] }))
      }, { additionalProperties: false }),
      response: {
        201: Type.Object({
          token: Type.String(),
          url: Type.String({ description: 'Relative to this server' }),
          expiresAt: Timestamp
        }, { title: 'PreviewLink', examples: [{ token: '019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a11.1795593600.5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592', url: '/preview/019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a11.1795593600.5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592', expiresAt: '2026-11-26T06:00:00.000Z' }] }),
        ...problemResponses(400, 404)
      }
    }
  }, async (request, reply) => {
    const ttl = Math.min(request.query.expiresInSeconds ?? app.config.previewLinkTtlSeconds, app.config.previewLinkTtlSeconds)
    return await reply.code(201).header('cache-control', 'no-store').send(await mintLink(app.db, request.params.id, ttl, actorOf(request)))
  })

  app.get('/preview/:token', {
    config: { access: 'public' },
    schema: {
      operationId: 'getArticlePreview',
      summary: 'Read the article a preview link grants, whatever its status',
      description: 'Returns the article a preview link was made for, as it stands now and whatever its status, so a frontend can render a draft without a staff key. An expired or altered token is 404; the response is never cached (private, no-store) and carries X-Robots-Tag: noindex. Under embargo the article shows with its `embargo` (the way to let partners read an embargoed story before it lifts); a killed article is 410.',
      tags,
      params: Type.Object({ token: Type.String({ pattern: PREVIEW_TOKEN_PATTERN, maxLength: 200 }) }, { additionalProperties: false }),
      response: { 200: withEtag('The article, as it stands now'), ...problemResponses(400, 404, 410) }
    }
  }, async (request, reply) => {
    const article = await articles.readOneForPreview(app.db, await articleIdOf(app.db, request.params.token))
    reply.header('cache-control', 'private, no-store').header('x-robots-tag', 'noindex')
    return sendArticle(reply, article)
  })

  /**
   * A POST that moves an article with a required reason kept in the audit trail (kill, unkill, break an
   * embargo): the same parameters, body, answers and handler for each.
   */
  const reasonedAction = (path: string, access: 'editor' | 'admin', doc: { operationId: string, summary: string, description: string, done: string },
    action: (db: typeof app.db, id: string, reason: string, actor: ReturnType<typeof actorOf>, ifMatch?: string) => Promise<Article>): void => {
    app.post(path, {
      config: { access },
      schema: {
        operationId: doc.operationId,
        summary: doc.summary,
        description: doc.description,
        tags,
        params: ArticleIdParams,
        headers: IfMatchHeaders,
        body: ReasonBody,
        response: { 200: withEtag(doc.done), ...writeProblems }
      }
    }, async (request, reply) => sendArticle(reply, await action(app.db, request.params.id, request.body.reason, actorOf(request), request.headers['if-match'])))
  }

  reasonedAction('/articles/:id/kill', 'editor', {
    operationId: 'killArticle',
    summary: 'Kill an article: take it down everywhere at once, with a reason',
    description: 'For a legal or editorial emergency. The article leaves lists, search, feeds, sitemaps and the read model at once, cached copies are purged, and its public reads (by id, slug or former slug, and preview links) answer 410 Gone with a problem (ARTICLE_GONE) that says nothing of it (an article the public never read, a draft or a story still under embargo, stays 404 instead, so the answer reveals nothing; preview links still say 410); a pending revision is discarded; the public change feed keeps only its id, and webhooks hear article.killed. Unlike unpublishing, it cannot be edited or published again (409 ARTICLE_KILLED) until an admin un-kills it. The reason is kept in the audit trail.',
    done: 'The article, killed'
  }, killOne)

  reasonedAction('/articles/:id/unkill', 'admin', {
    operationId: 'unkillArticle',
    summary: 'Bring a killed article back, as a draft (admin, with a reason)',
    description: 'Makes a killed article a draft again: still not public (404, no longer 410) until an editor publishes it anew. The reason is kept in the audit trail and webhooks hear article.unkilled. An article that is not killed is 409.',
    done: 'The article, a draft again'
  }, unkillOne)

  app.put('/articles/:id/embargo', {
    config: { access: 'editor' },
    schema: {
      operationId: 'setArticleEmbargo',
      summary: 'Put an article under embargo until a time, or move its embargo later',
      description: 'Until `until`, whatever its status, nothing public shows the article or its images: reads (404), lists, search, feeds, sitemaps, JSON-LD, the public change feed and stream; a live story put under embargo comes down at once. Publish it as usual meanwhile: at `until` the embargo lifts by itself (once, whichever instance runs the scheduler), the article goes live if published, caches are purged and webhooks hear article.published. Partners read it before then through a preview link (POST /articles/{id}/preview-link). `until` must lie in the future (400); only an admin may bring an embargo forward (403), or break it (POST /articles/{id}/embargo/break).',
      tags,
      params: ArticleIdParams,
      headers: IfMatchHeaders,
      body: EmbargoSet,
      response: { 200: withEtag('The article under embargo'), ...writeProblems }
    }
  }, async (request, reply) => sendArticle(reply, await setEmbargo(app.db, request.params.id, request.body, actorOf(request), request.headers['if-match'])))

  reasonedAction('/articles/:id/embargo/break', 'admin', {
    operationId: 'breakArticleEmbargo',
    summary: 'Break an embargo early (admin, with a reason)',
    description: 'Lifts the embargo now: a published article goes live at once, as when an embargo lifts at its time (purges, article.published). The reason is kept in the audit trail. An article not under embargo is 409 NOT_EMBARGOED.',
    done: 'The article, no longer under embargo'
  }, breakEmbargo)
}
