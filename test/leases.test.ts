// Edit leases and presence: one holder at a time, other keys' writes refused (423) while it is held,
// take-over by an editor (audited), If-Match checked after the lease, advisory mode, and who is looking.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { bearer, buildTestApp, createArticle, createAuthor, json, post, waitFor } from './helper.ts'

async function keyFor (app: FastifyInstance, name: string, role: string, extra: object = {}): Promise<{ id: string, secret: string }> {
  return json(await post(app, '/keys', { name, role, ...extra }))
}

async function setUp (t: { teardown: (fn: () => unknown) => void }, overrides = {}) {
  const app = await buildTestApp(t, { backgroundJobs: false, ...overrides })
  const alice = await keyFor(app, 'Alice (copy desk)', 'editor')
  const bob = await keyFor(app, 'Bob (night editor)', 'editor')
  const article = await createArticle(app, { headline: 'Lease Test Story' })
  const as = (key: { secret: string }) => ({ ...bearer(key.secret) })
  return { app, alice, bob, article, as }
}

t.test('a lease keeps other keys from writing until it is released', async (t) => {
  const { app, alice, bob, article, as } = await setUp(t)
  const taken = await app.inject({ method: 'POST', url: `/articles/${article.id}/lease`, headers: as(alice) })
  t.equal(taken.statusCode, 200, taken.body)
  const lease = json(taken)
  t.equal(lease.holder.name, 'Alice (copy desk)')
  t.equal(lease.holder.keyId, alice.id)
  t.equal(lease.enforced, true)
  t.equal(lease.takenOverFrom, null)
  const ttl = Date.parse(lease.expiresAt) - Date.parse(lease.acquiredAt)
  t.equal(ttl, 120_000, 'lasts ARTICLE_LEASE_TTL_SECONDS')

  const refused = await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, headers: as(bob), payload: { headline: 'Bob Was Here Too' } })
  t.equal(refused.statusCode, 423, refused.body)
  t.match(refused.headers['content-type'], /application\/problem\+json/)
  const problem = json(refused)
  t.equal(problem.code, 'ARTICLE_LOCKED')
  t.equal(problem.lease.holder.name, 'Alice (copy desk)')
  t.equal(problem.lease.expiresAt, lease.expiresAt)
  t.match(problem.detail, /Alice \(copy desk\) holds the edit lease/)
  for (const request of [
    { method: 'PUT' as const, url: `/articles/${article.id}`, payload: { headline: 'Replaced Headline' } },
    { method: 'DELETE' as const, url: `/articles/${article.id}` }
  ]) {
    const response = await app.inject({ ...request, headers: as(bob) })
    t.equal(response.statusCode, 423, `${request.method} is refused too`)
  }
  const unchanged = json(await app.inject(`/articles/${article.id}`))
  t.equal(unchanged.headline, 'Lease Test Story', 'nothing changed')
  t.equal(unchanged.version, article.version)

  const own = await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, headers: as(alice), payload: { headline: 'Alice Edits Her Story' } })
  t.equal(own.statusCode, 200, 'the holder writes')

  const renewed = json(await app.inject({ method: 'POST', url: `/articles/${article.id}/lease`, headers: as(alice), payload: {} }))
  t.equal(renewed.acquiredAt, lease.acquiredAt, 'a heartbeat keeps the lease')
  t.ok(Date.parse(renewed.expiresAt) >= Date.parse(lease.expiresAt), 'and pushes its expiry')

  const busy = await app.inject({ method: 'POST', url: `/articles/${article.id}/lease`, headers: as(bob) })
  t.equal(busy.statusCode, 423, 'another key cannot take a held lease')
  t.equal(json(busy).lease.holder.name, 'Alice (copy desk)')

  const notHers = await app.inject({ method: 'DELETE', url: `/articles/${article.id}/lease`, headers: as(bob) })
  t.equal(notHers.statusCode, 423, 'only the holder releases')

  t.equal((await app.inject({ method: 'DELETE', url: `/articles/${article.id}/lease`, headers: as(alice) })).statusCode, 204)
  t.equal((await app.inject({ method: 'DELETE', url: `/articles/${article.id}/lease`, headers: as(alice) })).statusCode, 204, 'releasing twice is fine')
  const free = await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, headers: as(bob), payload: { headline: 'Bob Edits After Release' } })
  t.equal(free.statusCode, 200, free.body)
})

t.test('an editor takes a lease over: audited, and the previous holder is told who has it now', async (t) => {
  const { app, alice, bob, article, as } = await setUp(t)
  await app.inject({ method: 'POST', url: `/articles/${article.id}/lease`, headers: as(alice) })
  const taken = await app.inject({ method: 'POST', url: `/articles/${article.id}/lease`, headers: as(bob), payload: { takeOver: true } })
  t.equal(taken.statusCode, 200, taken.body)
  t.equal(json(taken).holder.name, 'Bob (night editor)')
  t.same(json(taken).takenOverFrom, { keyId: alice.id, name: 'Alice (copy desk)' })

  const audit = json(await app.inject(`/audit?objectType=article&objectId=${article.id}`))
  const entry = audit.items.find((item: { action: string }) => item.action === 'article.lease-taken-over')
  t.ok(entry, 'the take-over is in the audit trail')
  t.equal(entry.keyId, bob.id)

  const late = await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, headers: as(alice), payload: { headline: 'Alice Still Typing' } })
  t.equal(late.statusCode, 423)
  t.equal(json(late).lease.holder.name, 'Bob (night editor)', 'the old holder learns who holds it now')
  t.equal((await app.inject({ method: 'POST', url: `/articles/${article.id}/lease`, headers: as(alice) })).statusCode, 423, 'and cannot renew')

  // Taking over a lease nobody holds any more, or one's own, is simply taking it: nothing to audit.
  await app.inject({ method: 'POST', url: `/articles/${article.id}/lease`, headers: as(bob), payload: { takeOver: true } })
  const after = json(await app.inject(`/audit?objectType=article&objectId=${article.id}`))
  t.equal(after.items.filter((item: { action: string }) => item.action === 'article.lease-taken-over').length, 1)
})

t.test('leases and If-Match: the lease is checked first, then the version', async (t) => {
  const { app, alice, bob, article, as } = await setUp(t)
  await app.inject({ method: 'POST', url: `/articles/${article.id}/lease`, headers: as(alice) })
  const stale = '"999"'
  const other = await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, headers: { ...as(bob), 'if-match': stale }, payload: { headline: 'Stale And Locked' } })
  t.equal(other.statusCode, 423, 'someone else holds it: 423 before 412')
  const holder = await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, headers: { ...as(alice), 'if-match': stale }, payload: { headline: 'Stale But Mine' } })
  t.equal(holder.statusCode, 412, 'the holder still needs the current version')
  t.equal(json(holder).code, 'VERSION_MISMATCH')
  const current = await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, headers: { ...as(alice), 'if-match': `"${article.version}"` }, payload: { headline: 'Current And Mine' } })
  t.equal(current.statusCode, 200)
})

t.test('an expired lease stops holding anyone back', async (t) => {
  const { app, alice, bob, article, as } = await setUp(t)
  await app.inject({ method: 'POST', url: `/articles/${article.id}/lease`, headers: as(alice) })
  await app.db.articleLease.update({ where: { articleId: article.id }, data: { expiresAt: new Date(Date.now() - 1000) } })
  const write = await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, headers: as(bob), payload: { headline: 'After The Lease Ran Out' } })
  t.equal(write.statusCode, 200)
  const taken = json(await app.inject({ method: 'POST', url: `/articles/${article.id}/lease`, headers: as(bob) }))
  t.equal(taken.holder.name, 'Bob (night editor)', 'and anyone may take it')
  t.equal(taken.takenOverFrom, null, 'without a take-over')
  const presence = json(await app.inject(`/articles/${article.id}/presence`))
  t.equal(presence.lease.holder.name, 'Bob (night editor)')
})

t.test('ARTICLE_LEASES=advisory: the lease is shown, writes go through', async (t) => {
  const { app, alice, bob, article, as } = await setUp(t, { articleLeases: 'advisory' })
  const lease = json(await app.inject({ method: 'POST', url: `/articles/${article.id}/lease`, headers: as(alice) }))
  t.equal(lease.enforced, false)
  const write = await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, headers: as(bob), payload: { headline: 'Bob Ignores The Lease' } })
  t.equal(write.statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: `/articles/${article.id}/lease`, headers: as(bob) })).statusCode, 423, 'the lease itself still has one holder')
})

t.test('writers lease their own drafts only, and cannot take over', async (t) => {
  const { app, alice, article, as } = await setUp(t)
  const author = await createAuthor(app, { name: 'Wren Writer' })
  const writer = await keyFor(app, 'Wren', 'writer', { authorId: author.id })
  const own = json(await post(app, '/articles', { headline: 'Wren Drafts A Story', bylines: [{ authorId: author.id }] }))
  t.equal((await app.inject({ method: 'POST', url: `/articles/${own.id}/lease`, headers: as(writer) })).statusCode, 200)
  const others = await app.inject({ method: 'POST', url: `/articles/${article.id}/lease`, headers: as(writer) })
  t.equal(others.statusCode, 403)
  t.equal(json(others).code, 'FORBIDDEN')
  await app.inject({ method: 'POST', url: `/articles/${article.id}/lease`, headers: as(alice) })
  const takeOver = await app.inject({ method: 'POST', url: `/articles/${article.id}/lease`, headers: as(writer), payload: { takeOver: true } })
  t.equal(takeOver.statusCode, 403)
  t.equal(json(takeOver).code, 'FORBIDDEN')
  t.equal(json(await app.inject(`/articles/${article.id}/presence`)).lease.holder.name, 'Alice (copy desk)', 'the lease stays with its holder')
})

t.test('bad input: a missing article, a malformed body', async (t) => {
  const { app, alice, article, as } = await setUp(t)
  const missing = '019ab8a4-0000-7000-8000-000000000000'
  for (const request of [
    { method: 'POST' as const, url: `/articles/${missing}/lease` },
    { method: 'DELETE' as const, url: `/articles/${missing}/lease` },
    { method: 'GET' as const, url: `/articles/${missing}/presence` }
  ]) {
    const response = await app.inject({ ...request, headers: as(alice) })
    t.equal(response.statusCode, 404, `${request.method} ${request.url}`)
    t.equal(json(response).code, 'ARTICLE_NOT_FOUND')
  }
  t.equal(await app.db.articleLease.count(), 0, 'no lease was stored')
  const bad = await app.inject({ method: 'POST', url: `/articles/${article.id}/lease`, headers: as(alice), payload: { takeOver: 'yes' } })
  t.equal(bad.statusCode, 400)
  t.equal(json(bad).code, 'VALIDATION_FAILED')
  t.same(json(bad).errors.map((error: { pointer: string }) => error.pointer), ['/takeOver'])
  const unknown = await app.inject({ method: 'POST', url: `/articles/${article.id}/lease`, headers: as(alice), payload: { forever: true } })
  t.equal(unknown.statusCode, 400)
  t.same(json(unknown).errors.map((error: { pointer: string }) => error.pointer), ['/forever'])
  t.equal(await app.db.articleLease.count(), 0, 'nothing was stored')
  const badId = await app.inject({ method: 'POST', url: '/articles/not-an-id/lease', headers: as(alice) })
  t.equal(badId.statusCode, 400)
})

t.test('presence lists the holder and the staff who read the article lately', async (t) => {
  const { app, alice, bob, article, as } = await setUp(t)
  const empty = json(await app.inject(`/articles/${article.id}/presence`))
  t.same(empty, { articleId: article.id, lease: null, viewers: [] })
  await app.inject({ method: 'POST', url: `/articles/${article.id}/lease`, headers: as(alice) })
  t.equal((await app.inject({ method: 'GET', url: `/articles/${article.id}`, headers: as(bob) })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: `/articles/${article.id}`, headers: as(alice) })).statusCode, 200)
  const seen = async (): Promise<string[]> => json(await app.inject(`/articles/${article.id}/presence`)).viewers.map((viewer: { name: string }) => viewer.name).sort()
  t.ok(await waitFor(async () => (await seen()).length === 2), 'both reads are recorded')
  t.same(await seen(), ['Alice (copy desk)', 'Bob (night editor)'])
  const presence = json(await app.inject(`/articles/${article.id}/presence`))
  t.equal(presence.lease.holder.name, 'Alice (copy desk)')
  // Read again at once: remembered, not written again (one row per key and article).
  await app.inject({ method: 'GET', url: `/articles/${article.id}`, headers: as(bob) })
  t.equal(await app.db.articleView.count({ where: { articleId: article.id } }), 2)
  // The public is nobody: its reads are not presence.
  await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, headers: as(alice), payload: { status: 'published' } })
  await app.inject({ method: 'GET', url: `/articles/${article.id}`, headers: { authorization: '' } })
  t.equal(await app.db.articleView.count({ where: { articleId: article.id } }), 2)
})
