import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply } from 'fastify'
import { Type, type Static } from 'typebox'
import { Nullable, Timestamp } from '../common-schemas.ts'
import { problemResponses } from '../errors.ts'
import { exampleIds } from '../examples.ts'
import { changeTypes, logPosition, readChanges, requestedTypes, startOf, viewerOf } from './feed.ts'
import { refuseWhenFull, sendEventStream } from './stream.ts'

const Cursor = Type.String({ pattern: '^(0|[1-9][0-9]{0,18})$', maxLength: 19, description: 'A position in the change log, as given in `cursor` and `next`', examples: ['10452'] })
const typesPattern = `^(${changeTypes.join('|')})(,(${changeTypes.join('|')}))*$`

const FeedQuery = {
  after: Type.Optional(Type.String({
    pattern: '^(now|0|[1-9][0-9]{0,18})$',
    maxLength: 19,
    description: 'Resume after this cursor (a `cursor` or `next` from an earlier answer); `now` for only what happens from here on; absent for the oldest change kept. A cursor older than the retention period is 410: read the content again, then follow from `now`.'
  })),
  types: Type.Optional(Type.String({
    pattern: typesPattern,
    maxLength: 200,
    description: `Only changes to these kinds of object, comma-separated: ${changeTypes.join(', ')} (key and webhook: admin keys only)`,
    examples: ['article,author']
  }))
}

export const ChangeListQuery = Type.Object({
  ...FeedQuery,
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Changes per page (at most 1,000)' })
}, { additionalProperties: false })

const StreamQuery = Type.Object(FeedQuery, { additionalProperties: false })
const StreamHeaders = Type.Object({
  'last-event-id': Type.Optional(Type.String({ maxLength: 19, pattern: '^(0|[1-9][0-9]{0,18})?$', description: 'Sent by EventSource when it reconnects: the stream resumes after this change (takes precedence over `after`)' }))
})

const articleChangeExample = {
  cursor: '10452',
  type: 'article',
  id: exampleIds.article,
  action: 'article.published',
  version: 4,
  occurredAt: '2026-11-25T06:00:00.000Z',
  data: { id: exampleIds.article, slug: 'putin-visits-space-centre', headline: 'Putin visits the new National Space Centre', status: 'published', publishedAt: '2026-11-25T06:00:00.000Z', version: 4 }
}

export const ChangeSchema = Type.Object({
  cursor: Cursor,
  type: Type.String({ enum: [...changeTypes], description: 'The kind of object that changed' }),
  id: Nullable(Type.String({ description: 'The object\'s id (null for changes to the whole read model)' })),
  action: Type.String({ description: 'What happened: article.published, article.updated, article.unpublished, article.deleted, author.updated, …', examples: ['article.published'] }),
  version: Nullable(Type.Integer({ description: 'The object\'s version after the change, where it has one' })),
  occurredAt: Timestamp,
  data: Type.Record(Type.String(), Type.Unknown(), {
    description: 'A summary of the object after the change (for articles: id, slug, headline, status, publishedAt, version). For the public, an article no longer published (unpublished, archived, deleted) is a tombstone: only its id and slug; a killed or embargoed article is only its id, in its earlier changes too.'
  })
}, {
  $id: 'Change',
  title: 'Change',
  examples: [articleChangeExample, { cursor: '10453', type: 'article', id: exampleIds.article, action: 'article.unpublished', version: 5, occurredAt: '2026-11-25T07:12:00.000Z', data: { id: exampleIds.article, slug: 'putin-visits-space-centre' } }]
})

export const ChangeFeedSchema = Type.Object({
  items: Type.Array(Type.Unsafe({ $ref: 'Change#' })),
  next: Type.String({ description: 'The cursor to resume from (`after=`): past everything read, including changes this caller does not see', examples: ['10453'] }),
  hasMore: Type.Boolean({ description: 'True when more changes are waiting: ask again at once with after=next; otherwise poll later or use /changes/stream' })
}, { title: 'ChangeFeed', examples: [{ items: [articleChangeExample], next: '10452', hasMore: false }] })

export const changeSchemas = [ChangeSchema]

const streamExample = 'retry: 3000\n\nid: 10452\ndata: {"cursor":"10452","type":"article","id":"019ab8a4-6f10-7c2e-8d4b-3a5e9c1f2b70","action":"article.published","version":4,"occurredAt":"2026-11-25T06:00:00.000Z","data":{"id":"019ab8a4-6f10-7c2e-8d4b-3a5e9c1f2b70","slug":"putin-visits-space-centre"}}\n\n: heartbeat\n\n'

export const changeRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const stream = app.changeStream

  app.get('/changes', {
    config: { access: 'public' },
    schema: {
      operationId: 'listChanges',
      summary: 'The change feed: what changed, in order, resumable from a cursor',
      description: 'Every change in the order it was committed, from any cursor, including unpublished, archived and deleted articles as tombstones. Without a key, only changes the public can see (a draft\'s edits never appear, its publication does); staff keys see every change to content, admin keys also to keys and webhooks. Changes are kept for CHANGES_RETENTION_DAYS (14 by default); an older cursor is 410 (CURSOR_EXPIRED): read the content again, then follow the feed from `after=now`. Page with `after=next` while `hasMore` is true.',
      tags: ['Changes'],
      querystring: ChangeListQuery,
      response: { 200: ChangeFeedSchema, ...problemResponses(400, 401, 403, 410) }
    }
  }, async (request, reply) => {
    const viewer = viewerOf(request.actor)
    const types = requestedTypes(viewer, request.query.types)
    const position = await logPosition(app.db)
    const from = startOf(request.query.after, position, { in: 'query', pointer: '/after' })
    void reply.header('cache-control', 'no-store')
    return await readChanges(app.db, viewer, types, from, position.head, request.query.limit)
  })

  app.get('/changes/stream', {
    config: { access: 'public' },
    compress: false,
    // A HEAD would open a stream nobody reads, and hold a subscriber slot until shutdown.
    exposeHeadRoute: false,
    schema: {
      operationId: 'streamChanges',
      summary: 'Live changes as server-sent events',
      description: 'The change feed as a text/event-stream that stays open: each change is an event whose `id` is its cursor and whose `data` is the Change as JSON. A comment line is sent every CHANGE_STREAM_HEARTBEAT_MS so proxies keep the connection open. Reconnecting with `Last-Event-ID` (EventSource does it by itself) resumes without missing anything within retention; without it, the stream starts now (or after `after=`). Same visibility and `types` filter as GET /changes. A client that reads too slowly is sent an `event: dropped` with the reason and disconnected; others are not slowed. When the instance shuts down, subscribers get `event: closing` and reconnect (to another instance) with Last-Event-ID. Heartbeats and the first frame carry an `id` too (the subscriber\'s position), so a reconnection resumes from where the client stands even when it heard no event. 503 with Retry-After when the instance has CHANGE_STREAM_MAX_SUBSCRIBERS subscribers. Events written by any instance reach subscribers of every instance.',
      tags: ['Changes'],
      querystring: StreamQuery,
      headers: StreamHeaders,
      response: {
        200: {
          description: 'An event stream',
          content: { 'text/event-stream': { schema: { type: 'string' }, example: streamExample } }
        },
        ...problemResponses(400, 401, 403, 410, 503)
      }
    }
  }, async (request, reply) => {
    refuseWhenFull(stream, app.config.changeStreamMaxSubscribers, reply)
    const viewer = viewerOf(request.actor)
    const types = requestedTypes(viewer, request.query.types)
    const resumeFrom = request.headers['last-event-id']
    const from = resumeFrom !== undefined && resumeFrom !== ''
      ? startOf(resumeFrom, await logPosition(app.db), { in: 'headers', pointer: '/last-event-id' })
      : startOf(request.query.after ?? 'now', await logPosition(app.db), { in: 'query', pointer: '/after' })
    // A stream, past the response schema (which documents it as text).
    return await sendEventStream(request, reply as FastifyReply, async (sink) => { await stream.subscribe(sink, viewer, types, from) })
  })
}

export type ChangeListQuery = Static<typeof ChangeListQuery>
