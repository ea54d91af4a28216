// Two app instances on one database, as behind a load balancer: whatever one acknowledges, the
// other serves immediately (no per-instance caches, counters or slugs).
import t from 'tap'
import { buildTestApp, createAuthor, json, post, testDatabaseUrl, testProvider } from './helper.ts'

t.test('writes through one instance are read back through the other at once', async (t) => {
  const databaseUrl = await testDatabaseUrl(t)
  const a = await buildTestApp(t, { databaseUrl })
  const b = await buildTestApp(t, { databaseUrl })

  const author = await createAuthor(a, { name: 'Alex Rowan' })
  const created = json(await post(a, '/articles', { headline: 'Written on A', status: 'published', bylines: [{ authorId: author.id }] }))
  const onB = await b.inject({ method: 'GET', url: `/articles/slug/${created.slug}` })
  t.equal(onB.statusCode, 200, 'a create on A is visible on B')
  t.equal(json(onB).headline, 'Written on A')
  t.equal(json(await b.inject({ method: 'GET', url: '/articles' })).items[0].id, created.id, 'and in B\'s Latest News')
  t.equal(json(await b.inject({ method: 'GET', url: '/authors/slug/alex-rowan' })).latestArticles[0].id, created.id, 'and on B\'s author page')

  const renamed = await b.inject({ method: 'PATCH', url: `/articles/${created.id}`, headers: { 'if-match': '"1"' }, payload: { slug: 'renamed-on-b', headline: 'Edited on B' } })
  t.equal(renamed.statusCode, 200)
  const oldSlugOnA = await a.inject({ method: 'GET', url: `/articles/slug/${created.slug}` })
  t.equal(oldSlugOnA.statusCode, 308, 'the old slug redirects on A')
  t.equal(oldSlugOnA.headers.location, '/articles/slug/renamed-on-b')
  const newSlugOnA = await a.inject({ method: 'GET', url: '/articles/slug/renamed-on-b' })
  t.equal(newSlugOnA.statusCode, 200, 'the new slug answers on A')
  t.equal(json(newSlugOnA).headline, 'Edited on B')
  t.match(newSlugOnA.headers.etag, /^"2-/, 'A reports the version B wrote')

  const staleOnA = await a.inject({ method: 'PATCH', url: `/articles/${created.id}`, headers: { 'if-match': '"1"' }, payload: { headline: 'Stale edit on A' } })
  t.equal(staleOnA.statusCode, 412, 'a stale edit through A is refused after B\'s edit')

  const slugTakenOnA = await post(a, '/articles', { headline: 'Another', slug: 'renamed-on-b' })
  t.equal(slugTakenOnA.statusCode, 409, 'a slug taken through B cannot be taken through A')

  t.equal((await a.inject({ method: 'DELETE', url: `/articles/${created.id}` })).statusCode, 204)
  t.equal((await b.inject({ method: 'GET', url: `/articles/${created.id}` })).statusCode, 404, 'a delete on A is a 404 on B')
  t.equal(json(await b.inject({ method: 'GET', url: '/articles' })).total, 0)

  const role = json(await post(b, '/masthead/roles', { title: 'Managing Editor', holderId: author.id }))
  t.equal(json(await a.inject({ method: 'GET', url: '/masthead' })).roles[0].id, role.id, 'the masthead too')
})

// Two SQLite instances in one process would block each other's event loop on the file lock (the
// driver waits synchronously); SQLite is the single-process engine, so this runs on PostgreSQL.
t.test('concurrent editors spread over two instances: one winner per round', { skip: testProvider !== 'postgresql' && 'PostgreSQL only' }, async (t) => {
  const databaseUrl = await testDatabaseUrl(t)
  const instances = [await buildTestApp(t, { databaseUrl }), await buildTestApp(t, { databaseUrl })]
  const article = json(await post(instances[0]!, '/articles', { headline: 'Contested' }))
  const attempts = await Promise.all(Array.from({ length: 20 }, async (_, editor) => await instances[editor % 2]!.inject({
    method: 'PATCH', url: `/articles/${article.id}`, headers: { 'if-match': '"1"' }, payload: { headline: `Editor ${editor}` }
  })))
  t.equal(attempts.filter((response) => response.statusCode === 200).length, 1)
  t.equal(attempts.filter((response) => response.statusCode === 412).length, 19)
})
