// A real Varnish (Debian's varnish 7.1 with varnish-modules' xkey) in front of the API, running the
// VCL kept in the repository (src/cdn/varnish.vcl), purged by the app's background job: published
// articles are served from the cache, an edit purges exactly what shows the article, an
// unpublished article leaves the edge. When varnishd is missing the test installs it (as root, with
// apt-get); where that is impossible it is skipped with the reason, except under CI, where it fails.
import t from 'tap'
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { parse } from 'yaml'
import { adminKey, buildTestApp, createArticle, waitFor } from './helper.ts'
import { VCL, ensureVarnish, startVarnish } from './varnish.ts'
import { freePort } from './server-process.ts'

const unavailable = ensureVarnish()
if (unavailable !== null && process.env.CI === 'true') t.fail(`Varnish is required under CI: ${unavailable}`)

t.test('Varnish in front of the API, purged by surrogate key', { skip: unavailable ?? false }, async (t) => {
  const varnishPort = await freePort()
  const appPort = await freePort()
  await startVarnish(t, varnishPort, appPort)
  const app: FastifyInstance = await buildTestApp(t, {
    cdnPurgers: 'varnish', varnishPurgeUrls: `http://127.0.0.1:${varnishPort}`, cdnPurgeIntervalMs: 50
  })
  await app.listen({ host: '127.0.0.1', port: appPort })

  /** A request through Varnish, as a reader without a key would make it unless `init` says otherwise. */
  const edge = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`http://127.0.0.1:${varnishPort}${path}`, init)
    const text = await response.text()
    const { headers, status } = response
    return { status, headers, text, cache: headers.get('x-cache'), xVarnish: headers.get('x-varnish') ?? '' }
  }
  const idsListed = async (): Promise<string[]> => JSON.parse((await edge('/articles')).text).items.map((item: { id: string }) => item.id)
  const allPurged = async (): Promise<boolean> => await app.db.purgeRequest.count({ where: { status: { not: 'done' } } }) === 0
  /** The purge queued by the latest change, once it is done. */
  const latestPurgeDone = async () => {
    const { id } = await app.db.purgeRequest.findFirstOrThrow({ orderBy: { seq: 'desc' } })
    const done = await waitFor(async () => (await app.db.purgeRequest.findUniqueOrThrow({ where: { id } })).status === 'done')
    return { done, ...await app.db.purgeRequest.findUniqueOrThrow({ where: { id } }) }
  }

  const first = await createArticle(app, { headline: 'Storm Reaches The Coast', status: 'published' })
  const other = await createArticle(app, { headline: 'Council Approves Budget', status: 'published' })
  t.ok(await waitFor(allPurged), 'the purges so far (of everything at boot, of two publications) went through Varnish')

  const paths = {
    first: `/articles/${first.id}`,
    firstBySlug: `/articles/slug/${first.slug}`,
    other: `/articles/${other.id}`,
    latest: '/articles'
  }
  for (const [name, path] of Object.entries(paths)) {
    const miss = await edge(path)
    t.equal(miss.status, 200, `${name}: found`)
    t.equal(miss.cache, 'MISS', `${name}: the first read goes to the API`)
    const hit = await edge(path)
    t.equal(hit.cache, 'HIT', `${name}: the second read is served by Varnish`)
    t.equal(hit.xVarnish.split(' ').length, 2, `${name}: X-Varnish names the request and the cached object`)
    t.ok(Number(hit.headers.get('age')) >= 0)
    t.equal(hit.text, miss.text)
    t.notOk(hit.headers.has('xkey'), 'the xkey index header stays inside Varnish')
  }
  t.same(await idsListed(), [other.id, first.id])
  for (const tracked of [`${paths.latest}?utm_source=newsletter&utm_medium=email&fbclid=IwAR0`, `${paths.latest}?limit=20&gclid=Cj0&_ga=2.1`]) {
    const response = await edge(tracked)
    t.equal(response.status, 200, `${tracked}: tracking parameters are no unknown parameters`)
    if (!tracked.includes('limit')) t.equal(response.cache, 'HIT', 'and no new cache entry: the same object as the plain URL')
  }
  t.equal((await edge(`${paths.latest}?limit=20&mc_cid=1`)).cache, 'HIT', 'the plain part of the URL is what is cached')
  t.equal((await edge(`${paths.latest}?colour=red&utm_source=x`)).status, 400, 'other unknown parameters are still refused')

  const staff = await edge(paths.first, { headers: { authorization: `Bearer ${adminKey}` } })
  t.equal(staff.status, 200)
  t.equal(staff.cache, 'PASS', 'a request with a key goes straight to the API')
  t.equal(staff.headers.get('cache-control'), 'private, no-store')

  // An edit of the first article, sent through Varnish (which passes writes).
  const edited = await edge(paths.first, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json', 'if-match': `"${first.version as number}"` },
    body: JSON.stringify({ headline: 'Storm Makes Landfall' })
  })
  t.equal(edited.status, 200, 'the edit is accepted')
  t.equal(edited.cache, 'PASS')
  const editPurge = await latestPurgeDone()
  t.ok(editPurge.done, 'the edit\'s purge is done')
  const purgedKeys = editPurge.keys.split(' ')
  t.ok(purgedKeys.includes(`article-${first.id}`) && purgedKeys.includes('articles-list'), 'it names the article and the lists')
  t.notOk(purgedKeys.includes(`article-${other.id}`), 'not the other article')

  for (const name of ['first', 'firstBySlug', 'latest'] as const) {
    const fresh = await edge(paths[name])
    t.equal(fresh.cache, 'MISS', `${name}: purged`)
    t.match(fresh.text, 'Storm Makes Landfall', `${name}: shows the edit`)
    t.equal((await edge(paths[name])).cache, 'HIT', `${name}: cached again`)
  }
  t.equal((await edge(paths.other)).cache, 'HIT', 'the other article stays cached')

  // Unpublishing takes it off the edge.
  const unpublished = await app.inject({
    method: 'PATCH', url: `/articles/${first.id}`, headers: { 'if-match': `"${(first.version as number) + 1}"` }, payload: { status: 'draft' }
  })
  t.equal(unpublished.statusCode, 200)
  t.ok((await latestPurgeDone()).done, 'the unpublication\'s purge is done')
  t.equal((await edge(paths.first)).status, 404, 'the article is gone from the edge')
  t.equal((await edge(paths.firstBySlug)).status, 404)
  t.equal((await edge(paths.first)).status, 404, 'and its 404 is not kept in its place')
  t.same(await idsListed(), [other.id], 'Latest News no longer lists it')
  t.equal((await edge(paths.other)).cache, 'HIT', 'the other article is still cached')

  // "*" (a rebuilt read model) empties the cache: a ban of everything.
  await app.db.purgeRequest.create({ data: { seq: (await latestPurgeDone()).seq + 1n, purger: 'varnish', keys: '*' } })
  t.ok((await latestPurgeDone()).done)
  t.equal((await edge(paths.other)).cache, 'MISS', 'a purge of everything drops the rest too')
  t.ok(await allPurged(), 'nothing left pending or failed')
})

t.test('docker-compose.yml puts Varnish, with this VCL, in front of the API and has the API purge it', async (t) => {
  const compose = parse(readFileSync(new URL('../docker-compose.yml', import.meta.url), 'utf8'))
  const { app, varnish } = compose.services
  t.match(varnish.image, /^varnish:7\.1/)
  const mounted = './src/cdn/varnish.vcl:/etc/varnish/default.vcl:ro'
  t.ok(varnish.volumes.includes(mounted), 'the VCL kept in the repository is the one it runs')
  t.ok(varnish.ports.includes('127.0.0.1:8080:80'))
  t.match(varnish.depends_on, { app: {} })
  t.match(app.environment, { CDN_PURGERS: 'varnish', VARNISH_PURGE_URLS: 'http://varnish:80' })
  t.match(readFileSync(VCL, 'utf8'), /\.host = "app";\s*\.port = "3000";/, 'the VCL\'s backend is the compose service')
})
