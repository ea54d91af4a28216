import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply } from 'fastify'
import { Type } from 'typebox'
import { idParamsFor, slugParamsFor } from '../common-schemas.ts'
import { exampleIds, exampleSlugs } from '../examples.ts'
import { problemResponses } from '../errors.ts'
import { logPosition, startOf, viewerOf } from '../changes/feed.ts'
import { refuseWhenFull, sendEventStream } from '../changes/stream.ts'
import { coverageAudience, liveChangeTypes } from './stream.ts'
import { actorOf } from '../keys/routes.ts'
import { ArticleRef } from '../articles/schemas.ts'
import { siteOf, withAbsoluteImageUrls } from '../delivery/site.ts'
import { serializeSummary } from '../read-model/serializers.ts'
import { BreakOut, CoverageCreate, CoveragePageSchema, CoveragePatch, EntriesQuery, EntryCorrection, EntryCreate, EntryPageSchema, EntryPatch, LiveCoverageSchema, LiveEntrySchema } from './schemas.ts'
import * as live from './service.ts'
import { livePurgeKey } from './effects.ts'
import { LIVE_FEED_LENGTH, liveAtomFeed } from './feed.ts'

const tags = ['Live coverage']
const writeProblems = problemResponses(400, 404, 409, 413, 415, 503)

const CoverageParams = idParamsFor(exampleIds.liveCoverage)
const EntryParams = Type.Object({
  ...CoverageParams.properties,
  entryId: Type.String({ format: 'uuid', examples: [exampleIds.liveEntry] })
}, { additionalProperties: false })
const LiveSlugParams = slugParamsFor(exampleSlugs.liveArticle)
const StreamHeaders = Type.Object({
  'last-event-id': Type.Optional(Type.String({ maxLength: 19, pattern: '^(0|[1-9][0-9]{0,18})?$', description: 'Sent by EventSource when it reconnects: the stream resumes after this event' }))
})
const streamExample = 'retry: 3000\n\nid: 10452\n\nid: 10460\nevent: entry.posted\ndata: {"id":"019ab8a4-7777-7888-9999-aaaabbbb0003","coverageId":"019ab8a4-7777-7888-9999-aaaabbbb0002","revision":7,"headline":"Vote scheduled for 18:00","body":[{"type":"paragraph","text":"The speaker has set the final vote for 18:00 Kyiv time."}],"author":null,"postedAt":"2026-11-25T06:00:00.000Z","editedAt":null,"pinned":false,"keyEvent":false,"correction":null,"brokenOutArticleId":null,"deleted":false,"deletedAt":null}\n\n: heartbeat\nid: 10460\n\nid: 10475\nevent: coverage.withdrawn\ndata: {"coverageId":"019ab8a4-7777-7888-9999-aaaabbbb0002","reason":"The story is no longer available"}\n\n'
const CoverageQuery = Type.Object({ limit: EntriesQuery.properties.limit }, { additionalProperties: false })

/** JSON assembled from stored entry documents: sent as it is, past the response schema's serializer. */
function sendJsonText (reply: FastifyReply, json: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(json)
}

/** The purge keys of a coverage's responses: its own, and its article's (published, unpublished, edited). */
function tagResponse (reply: FastifyReply, coverage: { id: string, articleId: string }): void {
  const state = reply.request.cacheState
  if (state !== undefined) state.keys = [livePurgeKey(coverage.id), `article-${coverage.articleId}`]
}

export const liveRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const site = siteOf(app.config)

  app.post('/live-coverages', {
    config: { access: 'editor' },
    schema: {
      operationId: 'createLiveCoverage',
      summary: 'Start a live coverage on an article',
      description: 'Makes an article a live coverage (one per article). The article carries the slug, headline, section, bylines and publication: the coverage and its entries are public while the article is published, at GET /live/{slug}.',
      tags,
      body: CoverageCreate,
      response: { 201: LiveCoverageSchema, ...writeProblems }
    }
  }, async (request, reply) => {
    const coverage = await live.createCoverage(app.db, request.body, actorOf(request))
    return await reply.code(201).header('location', `/live-coverages/${coverage.id}`).send(coverage)
  })

  app.patch('/live-coverages/:id', {
    config: { access: 'editor' },
    schema: {
      operationId: 'updateLiveCoverage',
      summary: 'Change a live coverage\'s status or times',
      description: 'Moves the coverage between upcoming, live and ended (an ended coverage takes no new entries; setting it live again reopens it). Going live sets startsAt, ending sets endsAt, unless given.',
      tags,
      params: CoverageParams,
      body: CoveragePatch,
      response: { 200: LiveCoverageSchema, ...writeProblems }
    }
  }, async (request) => await live.updateCoverage(app.db, request.params.id, request.body, actorOf(request)))

  app.post('/live-coverages/:id/entries', {
    config: { access: 'writer' },
    schema: {
      operationId: 'postLiveEntry',
      summary: 'Post an entry to a live coverage',
      description: `Posts an entry (body blocks as in articles, optional headline, author defaulting to the writer key's). Readers following the coverage (GET /live/{slug}/entries?since=, the event stream) get it at once. 409 COVERAGE_ENDED on an ended coverage; 409 PIN_LIMIT_REACHED when pinning it would pin more than the maximum.`,
      tags,
      params: CoverageParams,
      body: EntryCreate,
      response: { 201: LiveEntrySchema, ...writeProblems }
    }
  }, async (request, reply) => {
    const entry = await live.postEntry(app.db, request.params.id, request.body, actorOf(request))
    return await reply.code(201).send(entry)
  })

  app.patch('/live-coverages/:id/entries/:entryId', {
    config: { access: 'writer' },
    schema: {
      operationId: 'updateLiveEntry',
      summary: 'Edit, pin or unpin an entry, or mark it as a key event',
      description: 'Changes the fields sent. A new headline or body sets editedAt (readers see it was edited); for a visible correction note use the correction route. Pinning beyond the maximum is 409 PIN_LIMIT_REACHED: unpin one first.',
      tags,
      params: EntryParams,
      body: EntryPatch,
      response: { 200: LiveEntrySchema, ...writeProblems }
    }
  }, async (request) => await live.updateEntry(app.db, request.params.id, request.params.entryId, request.body, actorOf(request)))

  app.post('/live-coverages/:id/entries/:entryId/correction', {
    config: { access: 'writer' },
    schema: {
      operationId: 'correctLiveEntry',
      summary: 'Correct an entry, with a visible correction note',
      description: 'Sets the entry\'s correction note (shown to readers with its time) and, optionally, its corrected headline and body.',
      tags,
      params: EntryParams,
      body: EntryCorrection,
      response: { 200: LiveEntrySchema, ...writeProblems }
    }
  }, async (request) => await live.correctEntry(app.db, request.params.id, request.params.entryId, request.body, actorOf(request)))

  app.post('/live-coverages/:id/entries/:entryId/break-out', {
    config: { access: 'editor' },
    schema: {
      operationId: 'breakOutLiveEntry',
      summary: 'Break an entry out into a new draft article',
      description: 'Creates a draft article from the entry (its headline, body and author; a headline is needed when the entry has none), ending with a promo block linking back to the entry in the coverage. The entry records the article in brokenOutArticleId; an entry is broken out once (409 after).',
      tags,
      params: EntryParams,
      body: BreakOut,
      response: { 201: ArticleRef, ...writeProblems }
    }
  }, async (request, reply) => {
    const article = await live.breakOutEntry(app.db, request.params.id, request.params.entryId, request.body, actorOf(request), site)
    return await reply.code(201).header('location', `/articles/${article.id}`).send(article)
  })

  app.delete('/live-coverages/:id/entries/:entryId', {
    config: { access: 'editor' },
    schema: {
      operationId: 'deleteLiveEntry',
      summary: 'Delete an entry (readers following the coverage are told)',
      description: 'Removes the entry\'s content and keeps a tombstone, so readers following with since= or the event stream learn it was deleted and take it off their page.',
      tags,
      params: EntryParams,
      response: { 204: { type: 'null', description: 'Deleted' }, ...problemResponses(400, 404, 503) }
    }
  }, async (request, reply) => {
    await live.deleteEntry(app.db, request.params.id, request.params.entryId, actorOf(request))
    return await reply.code(204).send(null)
  })

  app.get('/live/:slug', {
    config: { access: 'public', cache: 'articles' },
    schema: {
      operationId: 'getLiveCoverage',
      summary: 'A live coverage as a page renders it: the article, pinned entries, the latest entries and JSON-LD',
      description: 'The coverage of the article with this slug: its status and times, the article (as in lists), the pinned entries, the newest entries (page on with /live/{slug}/entries?cursor=next), `latest` to follow with since=, and schema.org LiveBlogPosting JSON-LD. Without a key, found only while the article is published (404 otherwise; 410 ARTICLE_GONE once a story the public had read is killed). CDN-cacheable: purged by the coverage\'s and the article\'s keys.',
      tags,
      params: LiveSlugParams,
      querystring: CoverageQuery,
      response: { 200: CoveragePageSchema, ...problemResponses(400, 404, 410) }
    }
  }, async (request, reply) => {
    const { coverage, article, articleJson } = await live.coverageBySlug(app.db, request.params.slug, request.actor)
    const [page, pinned] = await Promise.all([live.readEntries(app.db, coverage, { limit: request.query.limit }), live.readPinned(app.db, coverage.id)])
    // Staff get the summary as the stored one is made (same serializer, absolute image URLs): this
    // JSON is sent past the response schema and the app's preSerialization hook.
    const summary = request.actor === null ? articleJson : serializeSummary(withAbsoluteImageUrls(article, site.imageBase))
    tagResponse(reply, coverage)
    return sendJsonText(reply, live.entryPageJson(coverage, page, { article: summary, pinned, jsonLd: live.liveBlogJsonLd(article, coverage, page.items, site) }))
  })

  app.get('/live/:slug/entries', {
    config: { access: 'public', cache: 'articles' },
    schema: {
      operationId: 'listLiveEntries',
      summary: 'A live coverage\'s entries, or what changed since a cursor',
      description: 'Without since: the entries newest first, paged with cursor=next. With since=<latest from an earlier answer>: the entries added, edited or deleted after it (deleted ones as tombstones, deleted: true), the latest change first, paged with cursor=next; `latest` is where to poll from next. Pinned entries and key events are flagged on each entry. A cursor this API did not give for this coverage is 400 naming the parameter. Without a key, found only while the article is published (404 otherwise; 410 ARTICLE_GONE once a story the public had read is killed). CDN-cacheable.',
      tags,
      params: LiveSlugParams,
      querystring: EntriesQuery,
      response: { 200: EntryPageSchema, ...problemResponses(400, 404, 410) }
    }
  }, async (request, reply) => {
    const { coverage } = await live.coverageBySlug(app.db, request.params.slug, request.actor)
    const page = await live.readEntries(app.db, coverage, request.query)
    tagResponse(reply, coverage)
    return sendJsonText(reply, live.entryPageJson(coverage, page))
  })

  app.get('/live/:slug/entries/stream', {
    config: { access: 'public' },
    compress: false,
    // A HEAD would open a stream nobody reads, and hold a subscriber slot until shutdown.
    exposeHeadRoute: false,
    schema: {
      operationId: 'streamLiveEntries',
      summary: 'A live coverage\'s entries as server-sent events, as they are posted, edited and deleted',
      description: 'A text/event-stream that stays open: `entry.posted`, `entry.updated` (edited, corrected, pinned, marked, broken out) and `entry.deleted` (a tombstone) events carry the LiveEntry as JSON, `coverage.updated` the coverage (status and times); each event\'s `id` is its position. Entries posted through any instance reach subscribers of every instance. Reconnecting with `Last-Event-ID` (EventSource does it by itself) resumes without missing anything within CHANGES_RETENTION_DAYS; heartbeats carry an id too. When the article is taken down (unpublished, put under embargo, killed or deleted), a keyless stream is sent `coverage.withdrawn` and ends: the page should take the coverage down, and a reconnection is refused (404/410) while it stays down. Shares the instance\'s change stream: its heartbeat, back-pressure (a client too slow is sent `event: dropped` and disconnected), `event: closing` on shutdown, and CHANGE_STREAM_MAX_SUBSCRIBERS (503 with Retry-After). Without a key, found only while the article is published (404 otherwise; 410 ARTICLE_GONE once a story the public had read is killed).',
      tags,
      params: LiveSlugParams,
      headers: StreamHeaders,
      response: {
        200: {
          description: 'An event stream',
          content: { 'text/event-stream': { schema: { type: 'string' }, example: streamExample } }
        },
        ...problemResponses(400, 404, 410, 503)
      }
    }
  }, async (request, reply) => {
    const stream = app.changeStream
    refuseWhenFull(stream, app.config.changeStreamMaxSubscribers, reply)
    // The position first: a takedown committed after it is replayed, whatever the check below saw.
    const position = await logPosition(app.db)
    const { coverage } = await live.coverageBySlug(app.db, request.params.slug, request.actor)
    const resumeFrom = request.headers['last-event-id']
    const from = resumeFrom !== undefined && resumeFrom !== ''
      ? startOf(resumeFrom, position, { in: 'headers', pointer: '/last-event-id' })
      : position.head
    const stillFollowed = async (): Promise<boolean> => await live.coverageBySlug(app.db, request.params.slug, request.actor).then(() => true, () => false)
    // A stream, past the response schema (which documents it as text).
    return await sendEventStream(request, reply as FastifyReply, async (sink) => { await stream.subscribe(sink, viewerOf(request.actor), liveChangeTypes, from, coverageAudience(coverage.id, coverage.articleId, stillFollowed)) })
  })

  app.get('/live/:slug/feed.atom', {
    config: { access: 'public', cache: 'feeds' },
    schema: {
      operationId: 'getLiveCoverageFeed',
      summary: 'A live coverage\'s entries as an Atom 1.0 feed',
      description: `The ${LIVE_FEED_LENGTH} latest entries of the coverage (deleted ones left out) as Atom 1.0, each linking to its place on the page (#entry-<id>), key events as category key-event, corrections with their note. Without a key, found only while the article is published (404 otherwise; 410 ARTICLE_GONE once a story the public had read is killed); keyless answers carry an ETag and Cache-Control and are purged with the coverage.`,
      tags,
      params: LiveSlugParams,
      response: {
        200: {
          description: 'Atom 1.0 feed',
          content: { 'application/atom+xml': { schema: { type: 'string' }, example: '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">…</feed>' } }
        },
        ...problemResponses(400, 404, 410)
      }
    }
  }, async (request, reply) => {
    const { coverage, article } = await live.coverageBySlug(app.db, request.params.slug, request.actor)
    const page = await live.readEntries(app.db, coverage, { limit: LIVE_FEED_LENGTH })
    tagResponse(reply, coverage)
    const self = site.absolute(`/live/${request.params.slug}/feed.atom`)
    return await reply.type('application/atom+xml; charset=utf-8').send(liveAtomFeed(article, page.items, self, site))
  })
}
