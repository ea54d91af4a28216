// Live coverage: staff post, edit, correct, pin, delete and break out entries; readers poll with
// since= and page the whole coverage, from stored documents, never while the article is a draft.
import t from 'tap'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { anonymous, buildTestApp, createArticle, createAuthor, json, openStream, post, testDatabaseUrl, until } from './helper.ts'

const publicly = { headers: anonymous }
const paragraph = (text: string) => [{ type: 'paragraph', text }]

async function ok (response: { statusCode: number, body: string }, status = 200): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  if (response.statusCode !== status) throw new Error(`${response.statusCode} ${response.body}`)
  return response.body === '' ? null : JSON.parse(response.body)
}

async function liveArticle (app: FastifyInstance, status = 'published'): Promise<{ article: any, coverage: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const article = await createArticle(app, { headline: `Election night ${Math.random().toString(36).slice(2, 8)}`, status })
  const coverage = await ok(await post(app, '/live-coverages', { articleId: article.id, status: 'live' }), 201)
  return { article, coverage }
}

async function postEntry (app: FastifyInstance, coverageId: string, fields: Record<string, unknown> = {}): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return await ok(await post(app, `/live-coverages/${coverageId}/entries`, { body: paragraph('Polls are open.'), ...fields }), 201)
}

t.test('staff run a coverage: post, edit, correct, pin, key events, delete, break out', async (t) => {
  const app = await buildTestApp(t)
  const author = await createAuthor(app, { name: 'Dana Brooks' })
  const { article, coverage } = await liveArticle(app)
  t.equal(coverage.status, 'live')
  t.ok(coverage.startsAt, 'going live sets the start time')
  t.equal((await post(app, '/live-coverages', { articleId: article.id })).statusCode, 409, 'one coverage per article')

  const first = await postEntry(app, coverage.id, { headline: 'Polls open', authorId: author.id })
  t.same(first.author, { id: author.id, slug: author.slug, name: 'Dana Brooks' })
  t.equal(first.editedAt, null)
  const scripted = await postEntry(app, coverage.id, { body: paragraph('Turnout <script>alert(1)</script>is <em>high</em>.') })
  t.equal(scripted.body[0].text, 'Turnout is <em>high</em>.', 'body blocks are sanitized like an article\'s')

  const edited = await ok(await app.inject({ method: 'PATCH', url: `/live-coverages/${coverage.id}/entries/${first.id}`, payload: { body: paragraph('Polls opened at 7am.') } }))
  t.ok(edited.editedAt, 'an edit of the text sets editedAt')
  t.ok(edited.revision > first.revision)
  const flagged = await ok(await app.inject({ method: 'PATCH', url: `/live-coverages/${coverage.id}/entries/${first.id}`, payload: { pinned: true, keyEvent: true } }))
  t.equal(flagged.pinned, true)
  t.equal(flagged.keyEvent, true)
  t.equal(flagged.editedAt, edited.editedAt, 'pinning is not an edit')

  const corrected = await ok(await post(app, `/live-coverages/${coverage.id}/entries/${first.id}/correction`, { note: 'An earlier version gave the wrong opening time.', body: paragraph('Polls opened at 8am.') }))
  t.equal(corrected.correction.note, 'An earlier version gave the wrong opening time.')
  t.ok(corrected.correction.correctedAt)
  t.equal(corrected.body[0].text, 'Polls opened at 8am.')

  const article2 = await ok(await post(app, `/live-coverages/${coverage.id}/entries/${first.id}/break-out`, {}), 201)
  t.equal(article2.status, 'draft', 'a broken-out entry is a new draft article')
  t.equal(article2.headline, 'Polls open')
  t.equal(article2.body.at(-1).type, 'promo')
  t.match(article2.body.at(-1).url, `#entry-${first.id}`, 'it links back to the entry in the coverage')
  t.same(article2.bylines.map((byline: { author: { id: string } }) => byline.author.id), [author.id])
  t.equal((await post(app, `/live-coverages/${coverage.id}/entries/${first.id}/break-out`, {})).statusCode, 409, 'broken out once')
  t.equal(json(await post(app, `/live-coverages/${coverage.id}/entries/${scripted.id}/break-out`, {})).errors[0].pointer, '/headline', 'an entry without headline needs one')

  await ok(await app.inject({ method: 'DELETE', url: `/live-coverages/${coverage.id}/entries/${scripted.id}` }), 204)
  t.equal(json(await app.inject({ method: 'PATCH', url: `/live-coverages/${coverage.id}/entries/${scripted.id}`, payload: { pinned: true } })).code, 'LIVE_ENTRY_NOT_FOUND', 'a deleted entry is gone for edits')

  const ended = await ok(await app.inject({ method: 'PATCH', url: `/live-coverages/${coverage.id}`, payload: { status: 'ended' } }))
  t.ok(ended.endsAt, 'ending sets the end time')
  const refused = await post(app, `/live-coverages/${coverage.id}/entries`, { body: paragraph('Too late') })
  t.equal(refused.statusCode, 409)
  t.equal(json(refused).code, 'COVERAGE_ENDED')
  await ok(await app.inject({ method: 'PATCH', url: `/live-coverages/${coverage.id}/entries/${first.id}`, payload: { pinned: false } }))
  const reopened = await ok(await app.inject({ method: 'PATCH', url: `/live-coverages/${coverage.id}`, payload: { status: 'live' } }))
  t.equal(reopened.endsAt, null, 'reopening clears the end time')
  await postEntry(app, coverage.id)

  const audit = await ok(await app.inject({ url: `/changes?types=live-entry,live-coverage` }))
  t.same(audit.items.map((item: { action: string }) => item.action), [
    'live-coverage.created', 'live-entry.posted', 'live-entry.posted', 'live-entry.updated', 'live-entry.updated', 'live-entry.corrected',
    'live-entry.broken-out', 'live-entry.deleted', 'live-coverage.ended', 'live-entry.updated', 'live-coverage.started', 'live-entry.posted'
  ], 'every write is one change in the log')
})

t.test('bad input: clear 4xx, nothing changed', async (t) => {
  const app = await buildTestApp(t)
  const { coverage } = await liveArticle(app)
  const missing = '019ab8a4-0000-7000-8000-000000000000'
  const onMissing = await post(app, `/live-coverages/${missing}/entries`, { body: paragraph('Nowhere') })
  t.equal(onMissing.statusCode, 404)
  t.equal(json(onMissing).code, 'LIVE_COVERAGE_NOT_FOUND')
  t.equal(json(await post(app, '/live-coverages', { articleId: missing })).errors[0].pointer, '/articleId')
  t.equal(json(await post(app, `/live-coverages/${coverage.id}/entries`, { body: paragraph('x'), authorId: missing })).errors[0].pointer, '/authorId')
  t.equal(json(await post(app, `/live-coverages/${coverage.id}/entries`, { body: [{ type: 'image', imageId: missing }] })).errors[0].pointer, '/body/0/imageId')
  t.equal(json(await post(app, `/live-coverages/${coverage.id}/entries`, { body: paragraph('<script>x</script>') })).errors[0].pointer, '/body/0/text')
  t.equal((await post(app, `/live-coverages/${coverage.id}/entries`, { body: [] })).statusCode, 400, 'an entry has a body')
  t.equal(json(await post(app, `/live-coverages/${coverage.id}/entries`, { body: paragraph('x'), postedAt: '2099-01-01T00:00:00.000Z' })).errors[0].pointer, '/postedAt')

  for (let index = 0; index < 3; index++) await postEntry(app, coverage.id, { pinned: true })
  const fourth = await post(app, `/live-coverages/${coverage.id}/entries`, { body: paragraph('One pin too many'), pinned: true })
  t.equal(fourth.statusCode, 409)
  t.equal(json(fourth).code, 'PIN_LIMIT_REACHED')
  const unpinned = await postEntry(app, coverage.id)
  const pinAgain = await app.inject({ method: 'PATCH', url: `/live-coverages/${coverage.id}/entries/${unpinned.id}`, payload: { pinned: true } })
  t.equal(json(pinAgain).code, 'PIN_LIMIT_REACHED', 'pinning an existing entry beyond the maximum too')
  const page = await ok(await app.inject({ url: `/live/${(await app.db.article.findUniqueOrThrow({ where: { id: coverage.articleId } })).slug}/entries?limit=100`, ...publicly }))
  t.equal(page.items.length, 4, 'the refused entry was not stored')
  t.equal(page.items.filter((entry: { pinned: boolean }) => entry.pinned).length, 3)
  t.equal((await app.db.liveEntry.count()), 4)
})

t.test('readers: the coverage page, since= cursors, paging, caching; drafts never public', async (t) => {
  const app = await buildTestApp(t)
  const { article, coverage } = await liveArticle(app)
  const url = `/live/${article.slug as string}`
  const entries: any[] = [] // eslint-disable-line @typescript-eslint/no-explicit-any
  for (let index = 0; index < 5; index++) entries.push(await postEntry(app, coverage.id, { headline: `Update ${index}`, postedAt: new Date(Date.UTC(2026, 11, 3, 12, index)).toISOString(), keyEvent: index === 1 }))
  await ok(await app.inject({ method: 'PATCH', url: `/live-coverages/${coverage.id}/entries/${entries[0].id}`, payload: { pinned: true } }))

  const page = await ok(await app.inject({ url: `${url}?limit=3`, ...publicly }))
  t.equal(page.coverage.id, coverage.id)
  t.equal(page.article.slug, article.slug)
  t.same(page.items.map((entry: { headline: string }) => entry.headline), ['Update 4', 'Update 3', 'Update 2'], 'newest first')
  t.same(page.pinned.map((entry: { id: string }) => entry.id), [entries[0].id], 'pinned entries are listed apart and flagged')
  t.equal(page.jsonLd['@type'], 'LiveBlogPosting')
  t.equal(page.jsonLd.coverageStartTime, coverage.startsAt)
  t.equal(page.jsonLd.liveBlogUpdate.length, 3)
  t.equal(page.jsonLd.liveBlogUpdate[0]['@type'], 'BlogPosting')
  t.equal(page.jsonLd.liveBlogUpdate[0].headline, 'Update 4')

  const older = await ok(await app.inject({ url: `${url}/entries?limit=3&cursor=${page.next as string}`, ...publicly }))
  t.same(older.items.map((entry: { headline: string }) => entry.headline), ['Update 1', 'Update 0'], 'the next page holds the older entries')
  t.equal(older.items[0].keyEvent, true, 'key events are flagged')
  t.equal(older.items[1].pinned, true)
  t.equal(older.next, null)

  const since = page.latest as string
  const nothing = await app.inject({ url: `${url}/entries?since=${since}`, ...publicly })
  t.same(json(nothing).items, [], 'nothing after the latest position')
  t.match(nothing.headers['cache-control'], /public|max-age/, 'a keyless answer is cacheable')
  t.ok(nothing.headers.etag)
  t.match(String(nothing.headers['surrogate-key']), `live-${coverage.id as string}`)
  t.equal((await app.inject({ url: `${url}/entries?since=${since}`, headers: { ...anonymous, 'if-none-match': String(nothing.headers.etag) } })).statusCode, 304)

  const added = await postEntry(app, coverage.id, { headline: 'Added' })
  await ok(await app.inject({ method: 'PATCH', url: `/live-coverages/${coverage.id}/entries/${entries[2].id}`, payload: { headline: 'Update 2, edited' } }))
  await ok(await app.inject({ method: 'DELETE', url: `/live-coverages/${coverage.id}/entries/${entries[3].id}` }), 204)
  const changed = await ok(await app.inject({ url: `${url}/entries?since=${since}`, ...publicly }))
  t.same(changed.items.map((entry: { id: string }) => entry.id), [entries[3].id, entries[2].id, added.id], 'added, edited and deleted after the cursor, the latest change first; nothing before')
  t.same(changed.items[0], { ...changed.items[0], deleted: true, headline: null, body: [] }, 'a deleted entry is a tombstone')
  t.equal(changed.items[1].headline, 'Update 2, edited')
  t.not(changed.latest, since)
  t.same((await ok(await app.inject({ url: `${url}/entries?since=${changed.latest as string}`, ...publicly }))).items, [])
  const pageOne = await ok(await app.inject({ url: `${url}/entries?since=${since}&limit=2`, ...publicly }))
  t.equal(pageOne.items.length, 2)
  const pageTwo = await ok(await app.inject({ url: `${url}/entries?limit=2&cursor=${pageOne.next as string}`, ...publicly }))
  t.same(pageTwo.items.map((entry: { id: string }) => entry.id), [added.id], 'what changed since pages by cursor too')
  t.equal(pageTwo.next, null)
  const whole = await ok(await app.inject({ url: `${url}/entries?limit=100`, ...publicly }))
  t.notOk(whole.items.some((entry: { id: string }) => entry.id === entries[3].id), 'the whole coverage leaves deleted entries out')

  for (const [query, parameter] of [['since=garbage!', 'since'], ['since=bm90LWpzb24', 'since'], [`since=${Buffer.from(JSON.stringify([coverage.id, 's', 9999])).toString('base64url')}`, 'since'],
    [`since=${Buffer.from(JSON.stringify(['019ab8a4-0000-7000-8000-000000000000', 's', 1])).toString('base64url')}`, 'since'], [`cursor=${since}`, 'cursor'], ['cursor=W10', 'cursor']]) {
    const forged = await app.inject({ url: `${url}/entries?${query}`, ...publicly })
    t.equal(forged.statusCode, 400, `${query} is refused`)
    t.equal(json(forged).errors[0].pointer, `/${parameter}`, `naming ${parameter}`)
  }

  // Unpublished: the coverage and its entries are gone for the public, there for staff.
  await ok(await app.inject({ method: 'PATCH', url: `/articles/${article.id as string}`, payload: { status: 'draft' } }))
  t.equal((await app.inject({ url, ...publicly })).statusCode, 404)
  t.equal((await app.inject({ url: `${url}/entries?since=${since}`, ...publicly })).statusCode, 404)
  t.equal((await app.inject({ url })).statusCode, 200, 'staff still read it')

  const draft = await liveArticle(app, 'draft')
  await postEntry(app, draft.coverage.id, { headline: 'Embargoed detail' })
  const hidden = await app.inject({ url: `/live/${draft.article.slug as string}/entries`, ...publicly })
  t.equal(hidden.statusCode, 404)
  t.equal(json(hidden).code, 'LIVE_COVERAGE_NOT_FOUND')
  const publicFeed = await ok(await app.inject({ url: '/changes?types=live-entry', ...publicly }))
  t.notMatch(JSON.stringify(publicFeed), /Embargoed detail/, 'a draft coverage\'s entries never reach the public change feed')
  t.equal((await app.inject({ url: `/live/${draft.article.slug as string}/entries` })).statusCode, 200)
})


t.test('server-sent events: an entry posted through the same instance reaches its readers at once, not at the next poll', async (t) => {
  // A poll interval far longer than the deadline below: only the write waking the stream delivers in time.
  const app = await buildTestApp(t, { changeStreamPollMs: 60_000 })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  const { article, coverage } = await liveArticle(app)
  const path = `/live/${article.slug as string}/entries/stream`
  const readers = [await openStream(base, path, anonymous), await openStream(base, path, anonymous)]
  for (const reader of readers) t.teardown(reader.close)
  await until(t, 'both readers are subscribed', () => readers.every((reader) => reader.lastId !== undefined))
  const posted = await postEntry(app, coverage.id, { headline: 'Straight away' })
  await until(t, 'every reader has the entry well before the poll interval', () => readers.every((reader) => reader.events.some((event) => event.data.id === posted.id)), 5_000)
  t.same(readers[0]?.events, readers[1]?.events, 'readers of one coverage get the same event')
})

t.test('server-sent events: entries posted through another instance, edits and deletions, Last-Event-ID resume', async (t) => {
  const databaseUrl = await testDatabaseUrl(t)
  const writer = await buildTestApp(t, { databaseUrl })
  const streamer = await buildTestApp(t, { databaseUrl, changeStreamPollMs: 20, changeStreamHeartbeatMs: 200 })
  await streamer.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(streamer.server.address() as AddressInfo).port}`
  const { article, coverage } = await liveArticle(writer)
  const other = await liveArticle(writer)
  const path = `/live/${article.slug as string}/entries/stream`

  const reader = await openStream(base, path, anonymous)
  t.teardown(reader.close)
  t.equal(reader.status, 200)
  await until(t, 'the stream tells the reader where it stands', () => reader.lastId !== undefined)
  const posted = await postEntry(writer, coverage.id, { headline: 'Posted elsewhere' })
  await postEntry(writer, other.coverage.id, { headline: 'Another coverage' })
  await until(t, 'an entry posted through another instance reaches the reader', () => reader.events.some((event) => event.data.id === posted.id))
  await ok(await writer.inject({ method: 'PATCH', url: `/live-coverages/${coverage.id as string}/entries/${posted.id as string}`, payload: { headline: 'Posted elsewhere, edited' } }))
  await ok(await writer.inject({ method: 'DELETE', url: `/live-coverages/${coverage.id as string}/entries/${posted.id as string}` }), 204)
  await until(t, 'the edit and the deletion follow', () => reader.events.length >= 3)
  t.same(reader.events.map((event) => event.event), ['entry.posted', 'entry.updated', 'entry.deleted'], 'only this coverage\'s entries, in order')
  t.equal(reader.events[1]?.data.headline, 'Posted elsewhere, edited')
  t.equal(reader.events[2]?.data.deleted, true)

  // The reader drops after the first event; what it missed comes when it reconnects with its id.
  const missedFrom = reader.events[0]?.id as string
  const resumed = await openStream(base, path, { ...anonymous, 'last-event-id': missedFrom })
  t.teardown(resumed.close)
  await until(t, 'a reconnection with Last-Event-ID gets what was missed', () => resumed.events.length >= 2)
  t.same(resumed.events.map((event) => event.event), ['entry.updated', 'entry.deleted'])
  await ok(await writer.inject({ method: 'PATCH', url: `/live-coverages/${coverage.id as string}`, payload: { status: 'ended' } }))
  await until(t, 'a status change is an event too', () => resumed.events.some((event) => event.event === 'coverage.updated' && event.data.status === 'ended'))

  t.equal((await openStream(base, path, { ...anonymous, 'last-event-id': 'garbage' })).status, 400)
  t.equal((await openStream(base, path, { ...anonymous, 'last-event-id': '99999999' })).status, 400, 'an id never given is refused')
  const draft = await liveArticle(writer, 'draft')
  t.equal((await openStream(base, `/live/${draft.article.slug as string}/entries/stream`, anonymous)).status, 404, 'no stream of a draft coverage for the public')
  const staffReader = await openStream(base, `/live/${draft.article.slug as string}/entries/stream`, { authorization: `Bearer ${(await import('./helper.ts')).adminKey}` })
  t.teardown(staffReader.close)
  t.equal(staffReader.status, 200, 'staff may follow a draft coverage')
})

t.test('taking the story down ends its public streams; a killed story is gone (410) on every live route', async (t) => {
  const app = await buildTestApp(t, { changeStreamPollMs: 20 })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  const { article, coverage } = await liveArticle(app)
  const other = await liveArticle(app)
  const slug = article.slug as string
  const path = `/live/${slug}/entries/stream`
  const staff = { authorization: `Bearer ${(await import('./helper.ts')).adminKey}` }
  const subscribed = async (headers: Record<string, string>) => {
    const reader = await openStream(base, path, headers)
    t.teardown(reader.close)
    t.equal(reader.status, 200)
    await until(t, 'the reader is subscribed', () => reader.lastId !== undefined)
    return reader
  }

  const reader = await subscribed(anonymous)
  const staffReader = await subscribed(staff)
  const beforeTakedown = reader.lastId as string
  await ok(await app.inject({ method: 'PATCH', url: `/articles/${other.article.id as string}`, payload: { status: 'draft' } }))
  await ok(await app.inject({ method: 'PATCH', url: `/articles/${article.id as string}`, payload: { status: 'draft' } }))
  await until(t, 'unpublishing the article ends its public streams', () => reader.ended)
  t.same(reader.events.map((event) => event.event), ['coverage.withdrawn'], 'another story taken down did not touch this stream; its own did, once')
  t.equal(reader.events[0]?.data.coverageId, coverage.id)
  t.equal((await openStream(base, path, anonymous)).status, 404, 'a reconnection is refused while it is down')
  const posted = await postEntry(app, coverage.id, { headline: 'Staff still follow a draft' })
  await until(t, 'staff streams go on', () => staffReader.events.some((event) => event.data?.id === posted.id))
  t.notOk(staffReader.ended)

  // Published again: a reader reconnecting from the withdrawal is followed again.
  await ok(await app.inject({ method: 'PATCH', url: `/articles/${article.id as string}`, payload: { status: 'published' } }))
  const resumed = await openStream(base, path, { ...anonymous, 'last-event-id': reader.lastId as string })
  t.teardown(resumed.close)
  t.equal(resumed.status, 200, 'a reconnection after the story is back is taken')
  await until(t, 'it is subscribed', () => resumed.lastId !== undefined)
  const after = await postEntry(app, coverage.id, { headline: 'Back on air' })
  await until(t, 'and gets the entries posted from then on', () => resumed.events.some((event) => event.data?.id === after.id))
  t.notOk(resumed.ended)
  // A reader that was away across the takedown and the return replays both: its stream goes on.
  const away = await openStream(base, path, { ...anonymous, 'last-event-id': beforeTakedown })
  t.teardown(away.close)
  await until(t, 'a reader resuming from before the takedown is caught up and joins', () => away.lastId !== undefined && BigInt(away.lastId) > BigInt(beforeTakedown))
  const later = await postEntry(app, coverage.id, { headline: 'Still on air' })
  await until(t, 'and gets what is posted next', () => away.events.some((event) => event.data?.id === later.id))
  t.notOk(away.events.some((event) => event.event === 'coverage.withdrawn'), 'a takedown undone since does not end it')
  t.notOk(away.ended)

  const killed = await app.inject({ method: 'POST', url: `/articles/${article.id as string}/kill`, payload: { reason: 'Legal: reporting restriction' } })
  t.equal(killed.statusCode, 200, killed.body)
  await until(t, 'a kill ends the public streams', () => resumed.ended && resumed.events.at(-1)?.event === 'coverage.withdrawn')
  for (const url of [`/live/${slug}`, `/live/${slug}/entries`, `/live/${slug}/entries?since=${coverage.id as string}`, `/live/${slug}/feed.atom`]) {
    const answer = await app.inject({ url, ...publicly })
    t.equal(answer.statusCode, 410, `${url} is 410 Gone`)
    t.equal(json(answer).code, 'ARTICLE_GONE')
    t.notMatch(answer.body, article.headline as string, 'and says nothing of the story')
  }
  t.equal((await openStream(base, path, anonymous)).status, 410, 'the stream too')
  t.equal((await app.inject({ url: `/live/${slug}`, headers: staff })).statusCode, 200, 'staff still read a killed coverage')

  await ok(await app.inject({ method: 'DELETE', url: `/articles/${article.id as string}`, headers: staff }), 204)
  await until(t, 'deleting the article ends staff streams too', () => staffReader.ended)
  t.equal(staffReader.events.at(-1)?.event, 'coverage.withdrawn')
})

t.test('a killed story that never had live coverage has none: its live routes stay 404', async (t) => {
  const app = await buildTestApp(t)
  const article = await createArticle(app, { headline: 'A story without live coverage', status: 'published' })
  await ok(await app.inject({ method: 'POST', url: `/articles/${article.id as string}/kill`, payload: { reason: 'Legal: reporting restriction' } }))
  t.equal((await app.inject({ url: `/articles/slug/${article.slug as string}`, ...publicly })).statusCode, 410, 'the article itself is gone')
  for (const url of [`/live/${article.slug as string}`, `/live/${article.slug as string}/entries`, `/live/${article.slug as string}/feed.atom`]) {
    const answer = await app.inject({ url, ...publicly })
    t.equal(answer.statusCode, 404, `${url} is 404: there never was a coverage to be gone`)
    t.equal(json(answer).code, 'LIVE_COVERAGE_NOT_FOUND')
  }
})

t.test('an Atom feed of a coverage\'s entries', async (t) => {
  const app = await buildTestApp(t)
  const author = await createAuthor(app, { name: 'Dana Brooks' })
  const { article, coverage } = await liveArticle(app)
  const first = await postEntry(app, coverage.id, { headline: 'Polls close', authorId: author.id, keyEvent: true })
  const second = await postEntry(app, coverage.id, { body: paragraph('First results are in from the coast & the hills.') })
  const gone = await postEntry(app, coverage.id, { headline: 'Posted by mistake' })
  await ok(await post(app, `/live-coverages/${coverage.id as string}/entries/${second.id as string}/correction`, { note: 'The coastal figure was wrong.' }))
  await ok(await app.inject({ method: 'DELETE', url: `/live-coverages/${coverage.id as string}/entries/${gone.id as string}` }), 204)
  const response = await app.inject({ url: `/live/${article.slug as string}/feed.atom`, ...publicly })
  t.equal(response.statusCode, 200)
  t.match(response.headers['content-type'], 'application/atom+xml')
  t.match(String(response.headers['surrogate-key']), `live-${coverage.id as string}`)
  t.match(response.body, `<id>urn:uuid:${first.id as string}</id>`)
  t.match(response.body, '<title type="text">Polls close</title>')
  t.match(response.body, '<name>Dana Brooks</name>')
  t.match(response.body, '<category term="key-event"')
  t.match(response.body, 'the coast &amp; the hills')
  t.match(response.body, 'Correction: The coastal figure was wrong.')
  t.notMatch(response.body, 'Posted by mistake', 'deleted entries are left out')
  t.ok(response.body.indexOf(second.id) < response.body.indexOf(first.id), 'newest first')
  await ok(await app.inject({ method: 'PATCH', url: `/articles/${article.id as string}`, payload: { status: 'draft' } }))
  t.equal((await app.inject({ url: `/live/${article.slug as string}/feed.atom`, ...publicly })).statusCode, 404, 'no feed of an unpublished coverage')
})
