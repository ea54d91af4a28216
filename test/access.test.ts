// Editors' access: who may write what, what the public can see, keys, revocation, rate limits,
// audit trail, CORS and security headers.
import t from 'tap'
import { adminKey, anonymous, bearer, buildTestApp, createArticle, createAuthor, json, post, testDatabaseUrl } from './helper.ts'
import type { FastifyInstance } from 'fastify'

async function keyFor (app: FastifyInstance, role: string, extra: object = {}): Promise<{ id: string, secret: string }> {
  const response = await post(app, '/keys', { name: `${role} key`, role, ...extra })
  if (response.statusCode !== 201) throw new Error(response.body)
  return json(response)
}

const as = (key: string) => ({ headers: bearer(key) })

t.test('keys: shown once, stored as a hash, listed with last use, and revoked at once', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const created = await post(app, '/keys', { name: 'Night desk', role: 'editor' })
  t.equal(created.statusCode, 201)
  const key = json(created)
  t.match(key.secret, /^cdk_[A-Za-z0-9_-]{43}$/)
  t.equal(key.prefix, key.secret.slice(0, 10))
  t.equal(created.headers['cache-control'], 'no-store')
  const stored = await app.db.apiKey.findUniqueOrThrow({ where: { id: key.id } })
  t.notMatch(JSON.stringify(stored), key.secret, 'the secret itself is stored nowhere')
  t.equal(stored.secretHash.length, 64)

  const listed = json(await app.inject({ method: 'GET', url: '/keys' }))
  t.ok(listed.items.every((item: any) => !('secret' in item) && !('secretHash' in item)), 'no listing shows a secret or its hash')
  t.equal(json(await app.inject({ method: 'GET', url: `/keys/${key.id}` })).lastUsedAt, null)
  const me = await app.inject({ method: 'GET', url: '/me', ...as(key.secret) })
  t.same(json(me), { id: key.id, name: 'Night desk', role: 'editor', authorId: null })
  t.equal(me.headers['cache-control'], 'private, no-store', 'authenticated responses are never cached by others')
  t.ok(json(await app.inject({ method: 'GET', url: `/keys/${key.id}` })).lastUsedAt, 'last use is recorded')

  t.equal((await app.inject({ method: 'DELETE', url: `/keys/${key.id}` })).statusCode, 204)
  const after = await app.inject({ method: 'GET', url: '/me', ...as(key.secret) })
  t.equal(after.statusCode, 401, 'a revoked key is refused on the very next request')
  t.equal(json(after).code, 'INVALID_KEY')
  t.ok(json(await app.inject({ method: 'GET', url: `/keys/${key.id}` })).revokedAt)
  t.equal(json(await app.inject({ method: 'GET', url: '/keys?revoked=true' })).total, 1)

  for (const header of ['Basic YWRtaW46YWRtaW4=', 'Bearer', 'Bearer not-a-key', `Bearer ${adminKey}x`, `Token ${adminKey}`]) {
    const response = await app.inject({ method: 'GET', url: '/me', headers: { authorization: header } })
    t.equal(response.statusCode, 401, header)
    t.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8')
  }
  t.equal((await app.inject({ method: 'GET', url: '/me', headers: { authorization: `bearer ${adminKey}` } })).statusCode, 200, 'the scheme is case-insensitive')
  t.equal((await post(app, '/keys', { name: 'No author', role: 'writer' })).statusCode, 400, 'a writer key must name its author')
  t.equal(json(await post(app, '/keys', { name: 'Ghost', role: 'writer', authorId: '019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a11' })).code, 'INVALID_REFERENCE')
})

t.test('the last active admin key cannot be revoked, even by concurrent revocations', async (t) => {
  const databaseUrl = await testDatabaseUrl(t)
  const app = await buildTestApp(t, { databaseUrl, backgroundJobs: false })
  const own = json(await app.inject({ method: 'GET', url: '/me' }))
  const alone = await app.inject({ method: 'DELETE', url: `/keys/${own.id}` })
  t.equal(alone.statusCode, 409, 'the only admin key cannot revoke itself')
  t.equal(alone.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal(json(alone).code, 'LAST_ADMIN_KEY')
  t.equal((await app.inject({ method: 'GET', url: '/me' })).statusCode, 200, 'and it still works')
  const editor = await keyFor(app, 'editor')
  t.equal((await app.inject({ method: 'DELETE', url: `/keys/${editor.id}` })).statusCode, 204, 'other roles are revoked as before')

  const second = await keyFor(app, 'admin')
  const statuses = await Promise.all([own.id, second.id].map(async (id) => (await app.inject({ method: 'DELETE', url: `/keys/${id}` })).statusCode))
  t.same([...statuses].sort(), [204, 409], 'of two concurrent revocations of the last two admin keys, one is refused')
  t.equal(await app.db.apiKey.count({ where: { role: 'admin', revokedAt: null } }), 1, 'one admin key remains')
  t.equal(await app.db.change.count({ where: { action: 'key.revoked', objectId: { in: [own.id, second.id] } } }), 1, 'the refused revocation left no change behind')

  // The bootstrap key was revoked while another admin key remained: a restart restores it, as the README says.
  let survivor = second
  if (statuses[0] === 409) {
    survivor = await keyFor(app, 'admin')
    t.equal((await app.inject({ method: 'DELETE', url: `/keys/${own.id}` })).statusCode, 204, 'with another admin key, the bootstrap key can be revoked')
  }
  t.equal((await app.inject({ method: 'GET', url: '/me', headers: bearer(adminKey) })).statusCode, 401, 'the revoked bootstrap key is refused')
  await app.close()
  const restarted = await buildTestApp(t, { databaseUrl, backgroundJobs: false })
  const me = await restarted.inject({ method: 'GET', url: '/me', headers: bearer(adminKey) })
  t.equal(me.statusCode, 200, 'a restart with COPYDESK_BOOTSTRAP_KEY restores the revoked bootstrap key')
  t.same(json(me), { id: own.id, name: 'bootstrap (COPYDESK_BOOTSTRAP_KEY)', role: 'admin', authorId: null })
  t.equal(await restarted.db.change.count({ where: { action: 'key.restored', objectId: own.id } }), 1, 'the restoration is in the change log')
  t.equal((await restarted.inject({ method: 'GET', url: '/me', headers: bearer(survivor.secret) })).statusCode, 200)
})

t.test('writers create and edit their own drafts, and nothing else', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const me = await createAuthor(app, { name: 'Wren Writer' })
  const colleague = await createAuthor(app, { name: 'Colleague' })
  const writer = (await keyFor(app, 'writer', { authorId: me.id })).secret
  const editor = (await keyFor(app, 'editor')).secret
  const write = async (method: string, url: string, payload?: object, key = writer) =>
    await app.inject({ method: method as 'POST', url, ...(payload !== undefined ? { payload } : {}), ...as(key) })

  const draft = await write('POST', '/articles', { headline: 'My draft' })
  t.equal(draft.statusCode, 201)
  t.same(json(draft).bylines.map((b: any) => b.author.id), [me.id], 'a writer\'s draft carries their byline')
  t.equal((await write('PATCH', `/articles/${json(draft).id}`, { dek: 'Better' })).statusCode, 200, 'edits own draft')
  t.equal((await write('PUT', `/articles/${json(draft).id}`, { headline: 'Replaced', bylines: [{ authorId: me.id }] })).statusCode, 200, 'replaces own draft')

  const refusals: Array<[string, string, string, object?]> = [
    ['publishes on creation', 'POST', '/articles', { headline: 'Straight out', status: 'published' }],
    ['publishes its draft', 'PATCH', `/articles/${json(draft).id}`, { status: 'published' }],
    ['schedules its draft', 'PATCH', `/articles/${json(draft).id}`, { status: 'scheduled', publishedAt: new Date(Date.now() + 3_600_000).toISOString() }],
    ['gives its draft away', 'PATCH', `/articles/${json(draft).id}`, { bylines: [{ authorId: colleague.id }] }]
  ]
  for (const [what, method, url, payload] of refusals) {
    const response = await write(method, url, payload)
    t.equal(response.statusCode, 403, `a writer cannot: ${what}`)
    t.equal(json(response).code, 'FORBIDDEN')
  }
  const theirs = await createArticle(app, { headline: 'Colleague draft', bylines: [{ authorId: colleague.id }] })
  t.equal((await write('PATCH', `/articles/${theirs.id}`, { headline: 'Mine now' })).statusCode, 403, 'cannot edit a colleague\'s draft')
  t.equal((await write('POST', `/articles/${theirs.id}/preview-link`)).statusCode, 403, 'cannot preview a colleague\'s draft')
  t.equal((await write('DELETE', `/articles/${json(draft).id}`)).statusCode, 403, 'cannot delete, even its own')

  const published = await write('PATCH', `/articles/${json(draft).id}`, { status: 'published' }, editor)
  t.equal(published.statusCode, 200, 'an editor publishes it')
  t.equal((await write('PATCH', `/articles/${json(draft).id}`, { headline: 'Sneaky' })).statusCode, 403, 'once published, the writer cannot change it')
  t.equal(json(await app.inject({ method: 'GET', url: `/articles/${json(draft).id}` })).headline, 'Replaced', 'nothing was written by the refused requests')

  t.equal((await write('POST', '/authors', { name: 'New' })).statusCode, 403, 'writers do not manage authors')
  t.equal((await write('POST', '/images', { url: 'https://images.example.com/x.jpg', mimeType: 'image/jpeg', altText: 'x' })).statusCode, 403, 'nor images')
  t.equal((await write('POST', '/authors', { name: 'By Editor' }, editor)).statusCode, 201, 'editors do')
  t.equal((await write('DELETE', `/authors/${colleague.id}`, undefined, editor)).statusCode, 403, 'only admins delete authors')
  t.equal((await write('POST', '/masthead/roles', { title: 'Publisher' }, editor)).statusCode, 403, 'only admins change the masthead')
  t.equal((await write('POST', '/keys', { name: 'x', role: 'admin' }, editor)).statusCode, 403, 'only admins make keys')
  t.equal((await write('DELETE', `/articles/${theirs.id}`, undefined, editor)).statusCode, 204, 'editors delete any article')

  const replaced = await write('PUT', `/articles/${json(await write('POST', '/articles', { headline: 'Second draft' })).id}`, { headline: 'Second draft, replaced' })
  t.equal(replaced.statusCode, 200, 'a writer\'s PUT keeps their byline without spelling it out')
  t.same(json(replaced).bylines.map((b: any) => b.author.id), [me.id])

  const lone = await createAuthor(app, { name: 'Leaving Writer' })
  const leavingKey = await keyFor(app, 'writer', { authorId: lone.id })
  t.equal((await app.inject({ method: 'DELETE', url: `/authors/${lone.id}` })).statusCode, 204, 'an author with a key can still be deleted')
  t.equal(json(await app.inject({ method: 'GET', url: `/keys/${leavingKey.id}` })).authorId, null, 'the key is left with no drafts to edit')
  t.equal((await write('POST', '/articles', { headline: 'Orphan' }, leavingKey.secret)).statusCode, 403)
})

t.test('the public sees published content only, on every read path', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const author = await createAuthor(app, { name: 'Pat Public', email: 'pat@example.com' })
  const live = await createArticle(app, { headline: 'Live story', slug: 'live-story', status: 'published', bylines: [{ authorId: author.id }] })
  const draft = await createArticle(app, { headline: 'Secret draft', slug: 'secret-draft', bylines: [{ authorId: author.id }] })
  const scheduled = await createArticle(app, { headline: 'Embargoed', status: 'scheduled', publishedAt: new Date(Date.now() + 3_600_000).toISOString(), bylines: [{ authorId: author.id }] })
  const archived = await createArticle(app, { headline: 'Old story', status: 'published' })
  await app.inject({ method: 'PATCH', url: `/articles/${archived.id}`, payload: { status: 'archived' } })
  await app.inject({ method: 'PATCH', url: `/articles/${draft.id}`, payload: { slug: 'secret-draft-renamed' } })
  const publicly = async (url: string) => await app.inject({ method: 'GET', url, headers: anonymous })

  const list = json(await publicly('/articles'))
  t.same(list.items.map((a: any) => a.id), [live.id])
  t.equal(list.total, 1, 'counts leave out what the public cannot see')
  for (const status of ['draft', 'scheduled', 'archived', 'any']) {
    const response = await publicly(`/articles?status=${status}`)
    t.equal(response.statusCode, 401, `listing status=${status} needs a key`)
    t.equal(json(response).errors[0].pointer, '/status')
  }
  for (const hidden of [draft, scheduled, archived]) {
    t.equal((await publicly(`/articles/${hidden.id}`)).statusCode, 404, `${hidden.headline} by id is not found, not forbidden`)
    t.equal((await publicly(`/articles/slug/${hidden.slug}`)).statusCode, 404, `${hidden.headline} by slug`)
    t.equal((await publicly(`/articles/${hidden.id}/revisions`)).statusCode, 401, 'revisions are for staff')
  }
  t.equal((await publicly('/articles/slug/secret-draft')).statusCode, 404, 'a draft\'s former slug does not reveal it')
  t.equal(json(await publicly(`/articles/${live.id}`)).headline, 'Live story')
  const page = json(await publicly(`/authors/${author.id}`))
  t.same(page.latestArticles.map((a: any) => a.id), [live.id], 'the author page lists published work only')
  t.notMatch(JSON.stringify(page), 'pat@example.com', 'author emails never appear')
  t.notMatch((await publicly('/authors')).body, 'pat@example.com')
  t.equal((await publicly('/authors?email=pat@example.com')).statusCode, 400, 'nor can they be filtered on')
  t.equal((await publicly('/authors?sort=email')).statusCode, 400, 'or sorted on')
  for (const url of ['/keys', '/audit', '/webhooks', '/me']) t.equal((await publicly(url)).statusCode, 401, `${url} needs a key`)

  const embargoedPhoto = json(await post(app, '/images', { url: 'https://images.example.com/embargoed.jpg', mimeType: 'image/jpeg', altText: 'Embargoed', caption: 'Not yet' }))
  const livePhoto = json(await post(app, '/images', { url: 'https://images.example.com/live.jpg', mimeType: 'image/jpeg', altText: 'Live' }))
  await app.inject({ method: 'PATCH', url: `/articles/${draft.id}`, payload: { leadImageId: embargoedPhoto.id } })
  await app.inject({ method: 'PATCH', url: `/articles/${live.id}`, payload: { leadImageId: livePhoto.id } })
  t.same(json(await publicly('/images')).items.map((image: any) => image.id), [livePhoto.id], 'only images readers can already see are listed')
  t.equal(json(await publicly('/images')).total, 1)
  t.equal((await publicly(`/images/${embargoedPhoto.id}`)).statusCode, 404, 'a draft\'s photo stays unseen')
  t.equal((await publicly(`/images/${livePhoto.id}`)).statusCode, 200)

  const staff = await app.inject({ method: 'GET', url: `/articles/${draft.id}` })
  t.equal(staff.statusCode, 200, 'staff preview drafts through the same endpoint')
  t.equal(json(await app.inject({ method: 'GET', url: '/articles?status=any' })).total, 4)
})

t.test('preview links show one article in any status, until they expire', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const draft = await createArticle(app, { headline: 'Preview me' })
  const minted = await app.inject({ method: 'POST', url: `/articles/${draft.id}/preview-link?expiresInSeconds=600` })
  t.equal(minted.statusCode, 201)
  const link = json(minted)
  t.ok(Math.abs(Date.parse(link.expiresAt) - Date.now() - 600_000) < 5000)
  const shown = await app.inject({ method: 'GET', url: link.url, headers: anonymous })
  t.equal(shown.statusCode, 200, 'no key needed')
  t.equal(json(shown).headline, 'Preview me')
  t.equal(shown.headers['cache-control'], 'private, no-store')
  t.equal(shown.headers['x-robots-tag'], 'noindex')

  const [id, expires, signature] = link.token.split('.')
  const other = await createArticle(app, { headline: 'Other draft' })
  const forged = [`${other.id}.${expires}.${signature}`, `${id}.${Number(expires) + 1000}.${signature}`, `${id}.${expires}.${'0'.repeat(64)}`]
  for (const token of forged) {
    const response = await app.inject({ method: 'GET', url: `/preview/${token}`, headers: anonymous })
    t.equal(response.statusCode, 404, 'a tampered link shows nothing')
    t.equal(json(response).code, 'PREVIEW_LINK_INVALID')
  }
  const defaulted = await app.inject({ method: 'POST', url: `/articles/${draft.id}/preview-link` })
  t.equal(defaulted.statusCode, 201, 'the lifetime is optional')
  const restarted = await buildTestApp(t, { databaseUrl: (app as any).config.databaseUrl, backgroundJobs: false })
  t.equal((await restarted.inject({ method: 'GET', url: link.url, headers: anonymous })).statusCode, 200, 'another instance accepts the link')

  const expired = json(await app.inject({ method: 'POST', url: `/articles/${draft.id}/preview-link?expiresInSeconds=60` }))
  const [eid, eexp] = expired.token.split('.')
  t.ok(eid && eexp)
  await app.db.serverSecret.findUniqueOrThrow({ where: { name: 'preview-links' } })
  const clock = Date.now
  Date.now = () => clock() + 120_000
  t.teardown(() => { Date.now = clock })
  const late = await app.inject({ method: 'GET', url: expired.url, headers: anonymous })
  Date.now = clock
  t.equal(late.statusCode, 404)
  t.match(json(late).detail, 'expired')
})

t.test('authorization cannot be skipped by path variants, HEAD or content types', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const variants: Array<[string, string, object?]> = [
    ['GET', '/keys/'], ['GET', '/keys?x=1'], ['HEAD', '/keys'], ['GET', '/%6Beys'], ['GET', '/keys/%2e%2e/keys'], ['GET', '/KEYS'], ['GET', '//keys'],
    ['POST', '/keys/'], ['DELETE', '/webhooks/019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a11/'], ['GET', '/audit;x'], ['GET', '/./audit']
  ]
  for (const [method, url] of variants) {
    const response = await app.inject({ method: method as 'GET', url, headers: anonymous })
    t.ok([401, 404, 400].includes(response.statusCode), `${method} ${url}: ${response.statusCode}`)
    t.not(response.statusCode, 200)
  }
  for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-7']) {
    const response = await app.inject({ method: 'POST', url: '/keys', headers: { ...anonymous, 'content-type': contentType }, payload: '{"name":"x","role":"admin"}' })
    t.equal(response.statusCode, 401, `${contentType}: refused before the body is read`)
  }
  t.equal(await app.db.apiKey.count(), 1, 'no key was made')
})

t.test('rate limits: writes per key, failed authentications per address, reads per address', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false, writeRateLimit: 3, authFailureLimit: 3, readRateLimit: 5 })
  for (let i = 0; i < 3; i++) t.equal((await post(app, '/authors', { name: `Author ${i}` })).statusCode, 201)
  const limited = await post(app, '/authors', { name: 'One too many' })
  t.equal(limited.statusCode, 429)
  t.equal(json(limited).code, 'TOO_MANY_REQUESTS')
  t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After says when to come back')
  t.equal(await app.db.author.count(), 3, 'the refused write changed nothing')
  const other = (await keyFor(app, 'editor').catch(() => null))
  t.equal(other, null, 'the admin key is out of writes this minute')

  for (let i = 0; i < 3; i++) t.equal((await app.inject({ method: 'GET', url: '/me', headers: bearer(`cdk_wrong-${i}-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa`), remoteAddress: '203.0.113.9' })).statusCode, 401)
  const blocked = await app.inject({ method: 'GET', url: '/me', headers: bearer('cdk_wrong-3-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'), remoteAddress: '203.0.113.9' })
  t.equal(blocked.statusCode, 429, 'after too many failures, the address\'s further failures are refused')
  t.equal(json(blocked).code, 'TOO_MANY_REQUESTS')
  t.ok(Number(blocked.headers['retry-after']) > 0)
  t.equal((await app.inject({ method: 'GET', url: '/me', headers: { authorization: 'Basic YWRtaW46YWRtaW4=' }, remoteAddress: '203.0.113.9' })).statusCode, 429, 'so are malformed credentials')
  const valid = await app.inject({ method: 'GET', url: '/me', headers: bearer(adminKey), remoteAddress: '203.0.113.9' })
  t.equal(valid.statusCode, 200, 'a valid key from the same address is still served: a guesser cannot lock colleagues out')
  t.equal((await app.inject({ method: 'GET', url: '/me', headers: bearer('cdk_wrong-4-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'), remoteAddress: '203.0.113.9' })).statusCode, 429, 'and serving it does not reset the failures')
  t.equal((await app.inject({ method: 'GET', url: '/me', headers: bearer('cdk_wrong-5-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'), remoteAddress: '203.0.113.10' })).statusCode, 401, 'other addresses are unaffected')
  const spoofed = await app.inject({ method: 'GET', url: '/me', headers: { ...bearer('cdk_wrong-6-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'), 'x-forwarded-for': '192.0.2.1' }, remoteAddress: '203.0.113.9' })
  t.equal(spoofed.statusCode, 429, 'a forged X-Forwarded-For does not buy a fresh address (TRUST_PROXY is off)')

  const guesses = await Promise.all(Array.from({ length: 40 }, async (_, i) => (await app.inject({ method: 'GET', url: '/me', headers: bearer(`cdk_guess-${i}-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa`), remoteAddress: '203.0.113.50' })).statusCode))
  t.ok(guesses.filter((status) => status === 401).length <= 3, `of 40 concurrent wrong guesses, at most 3 get an answer (${guesses.filter((status) => status === 401).length})`)
  t.equal(guesses.filter((status) => status === 429).length + guesses.filter((status) => status === 401).length, 40)

  const reads = []
  for (let i = 0; i < 6; i++) reads.push((await app.inject({ method: 'GET', url: '/articles', headers: anonymous, remoteAddress: '198.51.100.7' })).statusCode)
  t.same(reads, [200, 200, 200, 200, 200, 429], 'reads are limited per address, configurably')
})

t.test('with the shared store, limits hold across instances', async (t) => {
  const databaseUrl = await testDatabaseUrl(t)
  const settings = { databaseUrl, backgroundJobs: false, writeRateLimit: 4, rateLimitStore: 'database' as const }
  const a = await buildTestApp(t, settings)
  const b = await buildTestApp(t, settings)
  const statuses = []
  for (const app of [a, b, a, b, a]) statuses.push((await post(app, '/authors', { name: `Shared ${statuses.length}` })).statusCode)
  t.same(statuses, [201, 201, 201, 201, 429], 'the fifth write is refused, whichever instance takes it')

  const burst = { databaseUrl, backgroundJobs: false, authFailureLimit: 5, rateLimitStore: 'database' as const }
  const c = await buildTestApp(t, burst)
  const d = await buildTestApp(t, burst)
  const answers = await Promise.all(Array.from({ length: 30 }, async (_, i) => (await (i % 2 === 0 ? c : d).inject({ method: 'GET', url: '/me', headers: bearer(`cdk_burst-${i}-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa`), remoteAddress: '198.51.100.20' })).statusCode))
  t.equal(answers.filter((status) => status === 401).length, 5, 'concurrent failures on two instances share one count')
  for (const app of [c, d]) {
    t.equal((await app.inject({ method: 'GET', url: '/me', headers: bearer(adminKey), remoteAddress: '198.51.100.20' })).statusCode, 200, 'a valid key is served from the address over its limit')
    const refused = await app.inject({ method: 'GET', url: '/me', headers: bearer('cdk_burst-x-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'), remoteAddress: '198.51.100.20' })
    t.equal(refused.statusCode, 429, 'while its further failures are refused, on either instance')
    t.ok(Number(refused.headers['retry-after']) > 0)
  }
})

t.test('every write is audited: who, what, which object, when', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const editor = await keyFor(app, 'editor')
  const article = json(await app.inject({ method: 'POST', url: '/articles', payload: { headline: 'Audited', status: 'published' }, ...as(editor.secret) }))
  await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, payload: { headline: 'Audited again' }, ...as(editor.secret) })
  await app.inject({ method: 'DELETE', url: `/articles/${article.id}`, ...as(editor.secret) })
  const refused = await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, payload: { headline: 'x' }, ...as(editor.secret) })
  t.equal(refused.statusCode, 404)

  const trail = json(await app.inject({ method: 'GET', url: `/audit?objectType=article&objectId=${article.id}` }))
  // One row per write: creating an article as published is one write (webhooks hear both events).
  t.same(trail.items.map((entry: any) => entry.action), ['article.deleted', 'article.updated', 'article.created'])
  t.ok(trail.items.every((entry: any) => entry.keyId === editor.id && entry.keyName === 'editor key'), 'each names the key and its name')
  t.ok(trail.items.every((entry: any) => Date.parse(entry.createdAt) <= Date.now()))
  const byKey = json(await app.inject({ method: 'GET', url: `/audit?keyId=${editor.id}` }))
  t.equal(byKey.total, 3)
  const admin = json(await app.inject({ method: 'GET', url: '/audit?action=key.created' }))
  t.equal(admin.items[0].objectId, editor.id, 'key management is audited too')
  t.equal((await app.inject({ method: 'GET', url: '/audit?objectType=password' })).statusCode, 400)
  const section = json(await app.inject({ method: 'POST', url: '/sections', payload: { name: 'Audited section' } }))
  const sections = await app.inject({ method: 'GET', url: '/audit?objectType=section' })
  t.equal(sections.statusCode, 200, 'sections (and tags) are object types of the trail')
  t.same(json(sections).items.map((entry: any) => [entry.objectType, entry.objectId]), [['section', section.id]])
  t.equal((await app.inject({ method: 'GET', url: '/audit', ...as(editor.secret) })).statusCode, 403, 'the trail is for admins')
})

t.test('security headers on every response; CORS for configured origins only', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false, corsOrigins: 'https://www.example-news.com' })
  const response = await app.inject({ method: 'GET', url: '/articles', headers: { ...anonymous, origin: 'https://www.example-news.com' } })
  t.equal(response.headers['x-content-type-options'], 'nosniff')
  t.match(response.headers['content-security-policy'], "frame-ancestors 'none'")
  t.match(response.headers['strict-transport-security'], 'max-age=')
  t.match(response.headers.vary, 'Authorization')
  t.equal(response.headers['access-control-allow-origin'], 'https://www.example-news.com')
  const problem = await app.inject({ method: 'GET', url: '/keys', headers: anonymous })
  t.equal(problem.headers['x-content-type-options'], 'nosniff', 'errors carry them too')
  const unknownRoute = await app.inject({ method: 'GET', url: '/no-such-thing', headers: anonymous })
  t.equal(unknownRoute.statusCode, 404)
  t.match(unknownRoute.headers['content-security-policy'], "frame-ancestors 'none'", 'so do unknown routes')
  const undecodable = await app.inject({ method: 'GET', url: '/articles/%E0%A4%A', headers: anonymous })
  t.equal(undecodable.statusCode, 400)
  t.equal(undecodable.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal(undecodable.headers['x-frame-options'], 'SAMEORIGIN', 'and URLs rejected before routing')
  const preflight = await app.inject({ method: 'OPTIONS', url: '/articles/019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a11', headers: { ...anonymous, origin: 'https://www.example-news.com', 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'authorization,if-match,content-type' } })
  t.equal(preflight.statusCode, 204)
  t.match(preflight.headers['access-control-allow-headers'], /Authorization/)
  t.match(preflight.headers['access-control-allow-methods'], /PATCH/)
  const stranger = await app.inject({ method: 'GET', url: '/articles', headers: { ...anonymous, origin: 'https://evil.example' } })
  t.equal(stranger.headers['access-control-allow-origin'], undefined, 'other origins get no CORS grant')
})
