// CDN purgers against a local fake of each API (node:http on 127.0.0.1): the requests they make,
// how keys are batched and coalesced, retries with backoff, giving up, timeouts, shutdown, and the
// settings they need. test/cdn-varnish.test.ts runs the Varnish purger against a real Varnish.
import t from 'tap'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { once } from 'node:events'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, createArticle, waitFor } from './helper.ts'
import { loadConfig, type Config } from '../src/config.ts'
import { purgeDue, type PurgeSettings } from '../src/cdn/dispatcher.ts'
import { purgersFrom, type Purger } from '../src/cdn/purgers.ts'

interface Received { method: string, url: string, headers: IncomingMessage['headers'], body: string, at: number }
type Answer = { status: number, body?: unknown } | 'hang'
interface TapLike { teardown: (fn: () => unknown) => void }

/** A fake API that records each request and gives the next answer of `plan`, then `fallback`. */
async function startFake (t: TapLike, plan: Answer[] = [], fallback: Answer = { status: 200, body: { status: 'ok' } }) {
  const received: Received[] = []
  const hanging: ServerResponse[] = []
  const server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => { body += String(chunk) })
    request.on('end', () => {
      received.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body, at: Date.now() })
      const answer = plan.shift() ?? fallback
      if (answer === 'hang') {
        hanging.push(response)
        return
      }
      const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body ?? {})
      response.writeHead(answer.status, { 'content-type': typeof answer.body === 'string' ? 'text/plain' : 'application/json' })
      response.end(text)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  const { port } = server.address() as { port: number }
  return { url: `http://127.0.0.1:${port}`, received }
}


const cloudflareOk = { status: 200, body: { success: true, errors: [], messages: [], result: { id: 'purge-1' } } }
function cloudflareRefusal (status: number, code: number, message: string): Answer {
  return { status, body: { success: false, errors: [{ code, message }] } }
}
const fastlyFor = (url: string): Partial<Config> => ({
  cdnPurgers: 'fastly', fastlyServiceId: 'svc-1', fastlyApiToken: 'fastly-token', fastlyApiUrl: url
})
const cloudflareFor = (url: string): Partial<Config> => ({
  cdnPurgers: 'cloudflare', cloudflareZoneId: 'zone-1', cloudflareApiToken: 'cf-token', cloudflareApiUrl: url, purgeKeyHeader: 'cache-tag'
})
const quick: PurgeSettings = { retryBaseMs: 10, maxRetryDelayMs: 40, maxAttempts: 3, timeoutMs: 2_000 }

/** Every purge queued so far is done (a fresh database queues a purge of everything as it boots). */
async function allDone (app: FastifyInstance): Promise<boolean> {
  return await app.db.purgeRequest.count({ where: { status: { not: 'done' } } }) === 0
}

async function rowOf (app: FastifyInstance, id: string) {
  return await app.db.purgeRequest.findUniqueOrThrow({ where: { id } })
}

/** Queues purges as the change step does, one per list of keys; returns their ids. */
async function queue (app: FastifyInstance, purger: string, ...keyLists: string[][]): Promise<string[]> {
  const ids: string[] = []
  for (const keys of keyLists) ids.push((await app.db.purgeRequest.create({ data: { seq: 0n, purger, keys: keys.join(' ') } })).id)
  return ids
}

/** `count` distinct keys about as long as the API's (article-<uuid>). */
function manyKeys (prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix}-${String(index).padStart(4, '0')}-0123456789abcdef0123456789ab`)
}

t.test('Fastly and Cloudflare, from the background job: each purger on its own, retried with backoff when down', async (t) => {
  const fastlyFake = await startFake(t, [{ status: 500, body: { msg: 'upstream trouble' } }])
  const cloudflareFake = await startFake(t, [], cloudflareOk)
  const app = await buildTestApp(t, {
    ...fastlyFor(fastlyFake.url), ...cloudflareFor(cloudflareFake.url), cdnPurgers: 'fastly,cloudflare', cdnPurgeIntervalMs: 50
  })
  // A fresh database renders its read model as it boots, which queues a purge of everything.
  const boot = await app.db.purgeRequest.findFirstOrThrow({ where: { purger: 'fastly' } })
  t.equal(boot.keys, '*')

  t.ok(await waitFor(async () => (await rowOf(app, boot.id)).attempts === 1), 'the first call to Fastly failed')
  const failed = await rowOf(app, boot.id)
  t.match(failed, { status: 'pending', attempts: 1, lockedUntil: null, doneAt: null })
  t.match(failed.lastError, /^fastly: answered 500: .*upstream trouble/)
  t.ok(failed.nextAttemptAt.getTime() - Date.now() > 500, 'the retry waits for the backoff (1 s)')
  const cloudflareRow = await app.db.purgeRequest.findFirstOrThrow({ where: { purger: 'cloudflare' } })
  t.ok(await waitFor(async () => (await rowOf(app, cloudflareRow.id)).status === 'done'), 'Cloudflare is purged meanwhile')
  t.match(cloudflareFake.received, [{
    method: 'POST', url: '/zones/zone-1/purge_cache', headers: { authorization: 'Bearer cf-token', 'content-type': 'application/json' }
  }])
  t.same(JSON.parse(cloudflareFake.received[0]!.body), { purge_everything: true }, '"*" is purge_everything')

  t.ok(await waitFor(async () => await allDone(app)), 'the retry succeeds')
  t.match(await rowOf(app, boot.id), { status: 'done', attempts: 2, lastError: null })
  t.equal(fastlyFake.received.length, 2, 'one failed call, one retry')
  t.ok(fastlyFake.received[1]!.at - fastlyFake.received[0]!.at >= 900, 'the retry came after the backoff')
  const purgeAll = { method: 'POST', url: '/service/svc-1/purge_all', headers: { 'fastly-key': 'fastly-token' } }
  t.match(fastlyFake.received, [purgeAll, purgeAll], '"*" is purge_all')
  fastlyFake.received.length = 0
  cloudflareFake.received.length = 0

  const article = await createArticle(app, { status: 'published' })
  const read = await app.inject({ method: 'GET', url: `/articles/${article.id}`, headers: { authorization: '' } })
  t.equal(read.headers['cache-tag'], `article-${article.id}`, 'what the CDN caches carries the key purged below')
  t.ok(await waitFor(async () => await allDone(app)), 'the publication\'s purges are done')
  const expected = [`article-${article.id}`, 'articles-list', 'images-list']
  t.equal(fastlyFake.received.length, 1, 'one call to Fastly')
  t.match(fastlyFake.received[0], { method: 'POST', url: '/service/svc-1/purge', headers: { 'fastly-key': 'fastly-token' } })
  t.same(String(fastlyFake.received[0]!.headers['surrogate-key']).split(' ').sort(), expected, 'the keys in a Surrogate-Key header')
  t.equal(cloudflareFake.received.length, 1, 'one call to Cloudflare')
  t.same(JSON.parse(cloudflareFake.received[0]!.body).tags.sort(), expected, 'the keys as JSON tags')
  const rows = await app.db.purgeRequest.findMany({ where: { seq: { gt: boot.seq } }, orderBy: { purger: 'asc' } })
  t.match(rows, [{ purger: 'cloudflare', status: 'done', attempts: 1 }, { purger: 'fastly', status: 'done', attempts: 1 }])
  t.ok(rows.every((row) => row.doneAt instanceof Date), 'doneAt is recorded')
})

t.test('the dispatcher, on a shared database', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const purgersFor = (overrides: Partial<Config>): Purger[] => purgersFrom(loadConfig({}, overrides))
  const run = async (purgers: Purger[], settings = quick, signal?: AbortSignal) => await purgeDue(app.db, purgers, settings, signal)
  t.beforeEach(async () => { await app.db.purgeRequest.deleteMany({}) })

  t.test('a 200 without success from Cloudflare is a failure, kept with its reason', async (t) => {
    const fake = await startFake(t, [cloudflareRefusal(200, 1134, 'Unable to purge'), { status: 200, body: 'not json' }])
    const purgers = purgersFor(cloudflareFor(fake.url))
    const [id] = await queue(app, 'cloudflare', ['article-1'])
    t.same(await run(purgers), { done: 0, retrying: 1, failed: 0 })
    t.equal((await rowOf(app, id!)).lastError, 'cloudflare: answered 200 without success: 1134 Unable to purge')
    t.ok(await waitFor(async () => (await run(purgers)).retrying === 1))
    t.equal((await rowOf(app, id!)).lastError, 'cloudflare: answered 200 with a body that is not JSON')
  })

  t.test('Fastly: keys of everything due are coalesced, each sent once, at most 256 a request', async (t) => {
    const fake = await startFake(t)
    const purgers = purgersFor(fastlyFor(fake.url))
    const big = manyKeys('article', 300)
    const ids = await queue(app, 'fastly', big, ['articles-list', big[0]!], ['author-1', 'articles-list'])
    t.same(await run(purgers), { done: 3, retrying: 0, failed: 0 })
    t.equal(fake.received.length, 2, '302 distinct keys: two requests')
    const sent = fake.received.map((request) => String(request.headers['surrogate-key']).split(' '))
    t.ok(sent.every((batch) => batch.length <= 256))
    t.same(sent.flat().sort(), [...big, 'articles-list', 'author-1'].sort(), 'every key exactly once')
    t.ok(fake.received.every((request) => request.url === '/service/svc-1/purge'))
    t.equal(await app.db.purgeRequest.count({ where: { id: { in: ids }, status: 'done', attempts: 1 } }), 3)

    fake.received.length = 0
    await queue(app, 'fastly', ['article-x'], ['*'], ['author-2'])
    t.same(await run(purgers), { done: 3, retrying: 0, failed: 0 })
    t.match(fake.received, [{ method: 'POST', url: '/service/svc-1/purge_all' }], 'a purge of everything covers the rest: one call')
    t.equal(fake.received.length, 1)
  })

  t.test('Cloudflare: at most 100 tags a request; a failure part-way finishes the requests already covered', async (t) => {
    const throttled = cloudflareRefusal(429, 971, 'Please wait and consider throttling your request speed')
    const fake = await startFake(t, [cloudflareOk, throttled], cloudflareOk)
    const purgers = purgersFor(cloudflareFor(fake.url))
    const small = manyKeys('article', 60)
    const large = manyKeys('author', 150)
    const [first, second] = await queue(app, 'cloudflare', small, large)
    t.same(await run(purgers), { done: 1, retrying: 1, failed: 0 })
    const tagCounts = fake.received.map((request) => JSON.parse(request.body).tags.length)
    t.same(tagCounts, [100, 100], 'batches of 100; the second was refused, the third not tried')
    t.match(await rowOf(app, first!), { status: 'done' }, 'the request whose tags all went out in the first call is done')
    const retried = await rowOf(app, second!)
    t.match(retried, { status: 'pending', attempts: 1 })
    t.match(retried.lastError, 'cloudflare: answered 429')

    fake.received.length = 0
    t.ok(await waitFor(async () => (await run(purgers)).done === 1), 'retried after the backoff')
    t.same(fake.received.map((request) => JSON.parse(request.body).tags.length), [100, 50])
    const resent = fake.received.flatMap((request) => JSON.parse(request.body).tags)
    t.same(resent.sort(), [...large].sort(), 'the retry sends the tags of the request still due')
    t.match(await rowOf(app, second!), { status: 'done', attempts: 2 })
  })

  t.test('Varnish: PURGE with xkey-purge to every instance, headers under 8 KB; one instance down keeps the purge pending', async (t) => {
    const up = await startFake(t, [], { status: 200, body: 'Purged 3' })
    const down = await startFake(t, [{ status: 503, body: '' }])
    const purgers = purgersFor({ cdnPurgers: 'varnish', varnishPurgeUrls: `${up.url},${down.url}/` })
    const many = manyKeys('article', 400)
    const [id] = await queue(app, 'varnish', many)
    t.same(await run(purgers), { done: 0, retrying: 1, failed: 0 })
    t.ok(up.received.length >= 3, 'the instance that is up got every batch')
    const headers = up.received.map((request) => String(request.headers['xkey-purge']))
    t.ok(up.received.every((request) => request.method === 'PURGE' && request.url === '/'))
    t.ok(headers.every((header) => header.length <= 7_900), 'each header under 8 KB')
    t.same(headers.flatMap((header) => header.split(' ')).sort(), [...many].sort())
    t.equal(down.received.length, 1, 'the instance that is down stopped at its first failure')
    t.equal((await rowOf(app, id!)).lastError, `varnish ${down.url}/: answered 503`)

    t.ok(await waitFor(async () => (await run(purgers)).done === 1), 'done once both took it')
    t.ok(down.received.length > 1)
    await queue(app, 'varnish', ['*'])
    up.received.length = 0
    await run(purgers)
    t.match(up.received, [{ method: 'PURGE', url: '/', headers: { 'xkey-purge': '*' } }])
  })

  t.test('a purger that never recovers: given up after the last attempt, with its reason; never sent again', async (t) => {
    const fake = await startFake(t, [], { status: 503, body: { msg: 'maintenance' } })
    const purgers = purgersFor(fastlyFor(fake.url))
    const [id] = await queue(app, 'fastly', ['article-1'])
    t.ok(await waitFor(async () => (await run(purgers)).failed === 1))
    const row = await rowOf(app, id!)
    t.match(row, { status: 'failed', attempts: 3, doneAt: null, lockedUntil: null })
    t.match(row.lastError, 'fastly: answered 503')
    t.equal(fake.received.length, 3)
    t.same(await run(purgers), { done: 0, retrying: 0, failed: 0 })
    t.equal(fake.received.length, 3)
  })

  t.test('a call that takes too long is a failure (timeout)', async (t) => {
    const fake = await startFake(t, ['hang'])
    const [id] = await queue(app, 'fastly', ['article-1'])
    t.same(await run(purgersFor(fastlyFor(fake.url)), { ...quick, timeoutMs: 200 }), { done: 0, retrying: 1, failed: 0 })
    t.match((await rowOf(app, id!)).lastError, /^fastly: TimeoutError/)
  })

  t.test('shutting down cancels a call in flight and hands the purge back, uncounted; another instance leaves it alone', async (t) => {
    const fake = await startFake(t, ['hang'])
    const purgers = purgersFor(fastlyFor(fake.url))
    const [id] = await queue(app, 'fastly', ['article-1'])
    const shutdown = new AbortController()
    const running = run(purgers, quick, shutdown.signal)
    t.ok(await waitFor(() => fake.received.length === 1), 'the call is in flight')
    t.same(await run(purgers), { done: 0, retrying: 0, failed: 0 }, 'another instance finds it claimed')
    shutdown.abort()
    t.same(await running, { done: 0, retrying: 0, failed: 0 })
    t.match(await rowOf(app, id!), { status: 'pending', attempts: 0, lockedUntil: null, lastError: null }, 'it will be sent again')
    t.same(await run(purgers), { done: 1, retrying: 0, failed: 0 })
  })
})

t.test('purgers refuse to start without their settings', async (t) => {
  t.throws(() => loadConfig({ CDN_PURGERS: 'fastly' }), /FASTLY_SERVICE_ID and FASTLY_API_TOKEN: must be set/)
  t.throws(() => loadConfig({ CDN_PURGERS: 'fastly', FASTLY_SERVICE_ID: 'svc-1' }), /FASTLY_API_TOKEN/)
  t.throws(() => loadConfig({ CDN_PURGERS: 'cloudflare', CLOUDFLARE_API_TOKEN: 't' }), /CLOUDFLARE_ZONE_ID and CLOUDFLARE_API_TOKEN/)
  t.throws(() => loadConfig({ CDN_PURGERS: 'varnish' }), /VARNISH_PURGE_URLS: must be set/)
  t.throws(() => loadConfig({ CDN_PURGERS: 'akamai' }), /CDN_PURGERS/)
  t.throws(() => loadConfig({ CDN_PURGERS: 'varnish', VARNISH_PURGE_URLS: 'varnish:80' }), /VARNISH_PURGE_URLS/)
  const cloudflare = { CDN_PURGERS: 'cloudflare', CLOUDFLARE_ZONE_ID: 'z', CLOUDFLARE_API_TOKEN: 't' }
  t.throws(() => loadConfig({ ...cloudflare, CLOUDFLARE_API_URL: 'no' }), /CLOUDFLARE_API_URL/)
  try {
    loadConfig({ ...cloudflare, CLOUDFLARE_API_TOKEN: 'x'.repeat(501) })
    t.fail('an overlong token is refused')
  } catch (error) {
    t.notMatch(String(error), 'xxxxx', 'the token is never shown')
  }
  const config = loadConfig({
    CDN_PURGERS: 'varnish,fastly', VARNISH_PURGE_URLS: 'http://a:80,http://b:80', FASTLY_SERVICE_ID: 's', FASTLY_API_TOKEN: 'k'
  })
  t.same(purgersFrom(config).map((purger) => [purger.name, purger.targets]), [
    ['varnish', ['http://a:80', 'http://b:80']],
    ['fastly', ['https://api.fastly.com']]
  ], 'one purger each, in order, Varnish with each instance as a target')
})
