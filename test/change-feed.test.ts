// The change feed (GET /changes) and live events (GET /changes/stream): in order, resumable from a
// cursor, each caller seeing only what it may read, tombstones for what left the public, and a
// cursor older than retention told to resync.
import t from 'tap'
import { Writable } from 'node:stream'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { anonymous, bearer, buildTestApp, createArticle, createAuthor, json, openStream, post, testDatabaseUrl, until } from './helper.ts'
import { contentTypes, pruneChanges } from '../src/changes/feed.ts'

const publicly = { headers: anonymous }

async function feed (app: FastifyInstance, query: string, headers: Record<string, string> = anonymous): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const response = await app.inject({ url: `/changes${query}`, headers })
  if (response.statusCode !== 200) throw new Error(`${response.statusCode} ${response.body}`)
  return json(response)
}

async function patch (app: FastifyInstance, id: string, payload: Record<string, unknown>): Promise<void> {
  const response = await app.inject({ method: 'PATCH', url: `/articles/${id}`, payload })
  if (response.statusCode !== 200) throw new Error(response.body)
}

async function keyFor (app: FastifyInstance, role: string): Promise<string> {
  const author = role === 'writer' ? { authorId: (await createAuthor(app, { name: 'Writer' })).id } : {}
  const response = await post(app, '/keys', { name: `${role} key`, role, ...author })
  if (response.statusCode !== 201) throw new Error(response.body)
  return json(response).secret
}

t.test('the public feed shows what the public can read, in order, with tombstones; staff see more', async (t) => {
  const app = await buildTestApp(t)
  const start = (await feed(app, '?after=now')).next
  const draft = await createArticle(app, { headline: 'Embargoed budget leak' })
  await patch(app, draft.id, { headline: 'Budget leak, second draft' })
  await patch(app, draft.id, { status: 'published' })
  await patch(app, draft.id, { dek: 'What the budget holds' })
  await patch(app, draft.id, { status: 'draft', headline: 'Never public headline' })
  await app.inject({ method: 'DELETE', url: `/articles/${draft.id}` })
  await post(app, '/keys', { name: 'ops', role: 'editor' })

  const seen = await feed(app, `?after=${start as string}`)
  t.same(seen.items.map((item: { action: string }) => item.action), ['article.published', 'article.updated', 'article.unpublished'],
    'a draft\'s creation, edits and deletion never appear; its publication, edit and unpublication do')
  t.equal(seen.items[0].data.headline, 'Budget leak, second draft')
  t.same(seen.items[2].data, { id: draft.id, slug: draft.slug }, 'what left the public is a tombstone: id and slug, nothing never public')
  t.notMatch(JSON.stringify(seen), /Never public/)
  t.equal(seen.hasMore, false)
  t.ok(BigInt(seen.next) > BigInt(seen.items[2].cursor), 'next skips past the changes the public does not see')
  t.same((await feed(app, `?after=${seen.next as string}`)).items, [], 'resuming from next: nothing new')

  const staff = await feed(app, `?after=${start as string}`, bearer(await keyFor(app, 'editor')))
  t.same(staff.items.map((item: { action: string }) => item.action),
    ['article.created', 'article.updated', 'article.published', 'article.updated', 'article.unpublished', 'article.deleted'],
    'an editor sees every change to content, not the keys')
  t.equal(staff.items[4].data.headline, 'Never public headline')
  const admin = await feed(app, `?after=${start as string}&types=key`, bearer((await import('./helper.ts')).adminKey))
  t.same(admin.items.map((item: { action: string }) => item.action), ['key.created', 'key.created'], 'admins also see keys (filtered by type)')

  t.equal((await app.inject({ url: '/changes?types=key', ...publicly })).statusCode, 401, 'the public may not ask for key changes')
  t.equal((await app.inject({ url: '/changes?types=webhook', headers: bearer(await keyFor(app, 'writer')) })).statusCode, 403)
})

t.test('pages through the log with limit and next, at any depth; filters by type', async (t) => {
  const app = await buildTestApp(t)
  const start = (await feed(app, '?after=now')).next
  const author = await createAuthor(app, { name: 'Paged Author' })
  for (let index = 0; index < 7; index += 1) await createArticle(app, { headline: `Story ${index}`, status: 'published', bylines: [{ authorId: author.id }] })
  const cursors: string[] = []
  let after = start as string
  for (;;) {
    const page = await feed(app, `?after=${after}&limit=3&types=article`)
    cursors.push(...page.items.map((item: { cursor: string }) => item.cursor))
    t.ok(page.items.length <= 3)
    after = page.next
    if (!page.hasMore) break
  }
  t.equal(cursors.length, 7, 'every published article once')
  t.same(cursors, [...cursors].sort((a, b) => Number(BigInt(a) - BigInt(b))), 'in commit order')
  const authors = await feed(app, `?after=${start as string}&types=author`)
  t.same(authors.items.map((item: { type: string, id: string }) => [item.type, item.id]), [['author', author.id]])
})

t.test('bad cursors and types are 400 naming the parameter; a cursor older than retention is 410', async (t) => {
  const app = await buildTestApp(t)
  for (const query of ['?after=abc', '?after=-1', '?after=99999999999', '?types=article,bogus', '?limit=0', '?limit=1001', '?cursor=1']) {
    const response = await app.inject({ url: `/changes${query}`, ...publicly })
    t.equal(response.statusCode, 400, query)
    t.match(response.headers['content-type'], /application\/problem\+json/)
  }
  const ahead = json(await app.inject({ url: '/changes?after=99999999999', ...publicly }))
  t.same(ahead.errors, [{ in: 'query', pointer: '/after', message: ahead.errors[0].message }])
  t.match(ahead.errors[0].message, /ahead of the change log/)

  const start = (await feed(app, '?after=now')).next as string
  for (let index = 0; index < 3; index += 1) await createArticle(app, { headline: `Old ${index}`, status: 'published' })
  const before = await feed(app, `?after=${start}`)
  t.equal(before.items.length, 3)
  // Age the first two changes past the retention period, then let retention run.
  const [first, second, third] = before.items as Array<{ cursor: string }>
  await app.db.change.updateMany({ where: { seq: { lte: BigInt(second!.cursor) } }, data: { createdAt: new Date(Date.now() - 15 * 86_400_000) } })
  t.ok(await pruneChanges(app.db, 14) >= 2)
  const expired = await app.inject({ url: `/changes?after=${first!.cursor}`, ...publicly })
  t.equal(expired.statusCode, 410)
  t.equal(json(expired).code, 'CURSOR_EXPIRED')
  t.match(json(expired).detail, /resync|Read the content again/)
  t.same((await feed(app, `?after=${second!.cursor}`)).items.map((item: { cursor: string }) => item.cursor), [third!.cursor], 'the oldest kept cursor still resumes')
  t.same((await feed(app, '')).items.map((item: { cursor: string }) => item.cursor), [third!.cursor], 'without a cursor: from the oldest change kept')
})


t.test('live events: delivered as they happen, resumed with Last-Event-ID, heartbeats, slow clients dropped', async (t) => {
  const app = await buildTestApp(t, { changeStreamPollMs: 20, changeStreamHeartbeatMs: 200, changeStreamMaxBufferBytes: 16 * 1024 })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`

  const reader = await openStream(base, '/changes/stream')
  t.equal(reader.status, 200)
  const staff = await openStream(base, '/changes/stream?types=article', bearer((await import('./helper.ts')).adminKey))
  const draft = await createArticle(app, { headline: 'Live draft' })
  await patch(app, draft.id, { status: 'published' })
  await until(t, 'the public subscriber hears the publication', () => reader.events.length >= 1)
  t.equal(reader.events[0]!.data.action, 'article.published', 'not the draft\'s creation')
  t.equal(reader.events[0]!.id, reader.events[0]!.data.cursor, 'the event id is its cursor')
  await until(t, 'staff hear the creation and the publication', () => staff.events.length >= 2)
  t.same(staff.events.map((event) => event.data.action), ['article.created', 'article.published'])
  await until(t, 'heartbeats arrive on an idle stream', () => reader.comments >= 2)

  // Disconnect, miss two changes, come back with Last-Event-ID: nothing is missed.
  t.equal(reader.lastId, reader.events.at(-1)!.id, 'heartbeats carry the position to resume from')
  const lastSeen = reader.lastId as string
  reader.close()
  await patch(app, draft.id, { dek: 'While you were away' })
  await createArticle(app, { headline: 'Second live story', status: 'published' })
  const resumed = await openStream(base, '/changes/stream', { 'last-event-id': lastSeen })
  await until(t, 'the missed changes arrive after resuming', () => resumed.events.length >= 2)
  t.same(resumed.events.map((event) => event.data.action), ['article.updated', 'article.created'], 'an article created as published is one change')
  t.equal((await openStream(base, '/changes/stream', { 'last-event-id': 'garbage' })).status, 400)

  // A client that never reads: its socket stops taking bytes, the stream's buffer for it fills,
  // and it is dropped, while the others keep up. (A loopback socket absorbs megabytes before
  // pushing back, so the never-reading client is a sink that never drains.)
  const stalled = new Writable({ highWaterMark: 1024, write: () => {} })
  const ended: string[] = []
  stalled.end = ((chunk: string) => { ended.push(chunk); return stalled }) as typeof stalled.end
  await app.changeStream.subscribe(stalled, { publicOnly: true, types: contentTypes }, contentTypes, BigInt(lastSeen))
  const before = resumed.events.length
  for (let index = 0; index < 80; index += 1) await createArticle(app, { headline: `Flood ${index}`, status: 'published' })
  await until(t, 'the stalled client is dropped', () => app.changeStream.dropped >= 1, 20_000)
  t.match(ended[0], /event: dropped\ndata: .*fell behind/, 'told why, in a last event')
  await until(t, 'a reading client still gets every event', () => resumed.events.length >= before + 80, 20_000)
  resumed.close()
  staff.close()
})

t.test('stream refuses bad input and hidden types like the feed', async (t) => {
  const app = await buildTestApp(t)
  for (const query of ['?after=x', '?types=nope']) t.equal((await app.inject({ url: `/changes/stream${query}`, ...publicly })).statusCode, 400, query)
  t.equal((await app.inject({ url: '/changes/stream?types=key', ...publicly })).statusCode, 401)
})

t.test('a change written through one instance reaches the stream subscribers of another', async (t) => {
  const databaseUrl = await testDatabaseUrl(t)
  const writer = await buildTestApp(t, { databaseUrl })
  const streamer = await buildTestApp(t, { databaseUrl, changeStreamPollMs: 20 })
  await streamer.listen({ port: 0, host: '127.0.0.1' })
  const subscriber = await openStream(`http://127.0.0.1:${(streamer.server.address() as AddressInfo).port}`, '/changes/stream')
  t.teardown(subscriber.close)
  const article = await createArticle(writer, { headline: 'Written elsewhere', status: 'published' })
  await until(t, 'the other instance\'s subscriber hears it', () => subscriber.events.some((event) => event.data?.id === article.id))
  t.same((await feed(streamer, '?after=0&types=article')).items.map((item: { id: string }) => item.id), [article.id], 'and its feed lists it')
})

t.test('the public feed leaves out images the public cannot see yet', async (t) => {
  const app = await buildTestApp(t)
  const start = (await feed(app, '?after=now')).next as string
  const image = json(await post(app, '/images', { url: 'https://images.example.com/embargoed.jpg', mimeType: 'image/jpeg', altText: 'Embargoed photo' }))
  const draft = await createArticle(app, { headline: 'Embargoed', leadImageId: image.id })
  await app.inject({ method: 'PATCH', url: `/images/${image.id as string}`, payload: { caption: 'Secret caption' } })
  t.same((await feed(app, `?after=${start}`)).items, [], 'an unused photo and one on a draft: nothing public')
  await patch(app, draft.id, { status: 'published' })
  const after = (await feed(app, '?after=now')).next as string
  await app.inject({ method: 'PATCH', url: `/images/${image.id as string}`, payload: { caption: 'Now public' } })
  t.same((await feed(app, `?after=${after}`)).items.map((item: { type: string, action: string }) => `${item.type} ${item.action}`), ['image image.updated'], 'once it leads a published story, its changes are public')
})

t.test('HEAD opens no stream; closing the server ends open streams', async (t) => {
  const app = await buildTestApp(t, { changeStreamPollMs: 20 })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  const head = await fetch(`${base}/changes/stream`, { method: 'HEAD' })
  t.not(head.status, 200, 'no HEAD on the stream')
  const subscriber = await openStream(base, '/changes/stream')
  await until(t, 'the subscriber is live', () => app.changeStream.subscribers === 1 && subscriber.lastId !== undefined)
  const began = Date.now()
  await app.close()
  t.ok(Date.now() - began < 5000, 'the server closes without waiting for the stream')
  await until(t, 'the subscriber is told the server is going', () => subscriber.events.some((event) => event.event === 'closing'))
})
