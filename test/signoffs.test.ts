// Sign-offs: given per version by a role that may give them, voided by a later content edit, and
// required (REQUIRED_SIGNOFFS) before an article is published or scheduled.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { bearer, buildTestApp, createArticle, createAuthor, json, post } from './helper.ts'

async function keyFor (app: FastifyInstance, name: string, role: string, extra: object = {}): Promise<{ id: string, secret: string }> {
  return json(await post(app, '/keys', { name, role, ...extra }))
}

async function setUp (t: { teardown: (fn: () => unknown) => void }, overrides = {}) {
  const app = await buildTestApp(t, { backgroundJobs: false, requiredSignoffs: 'copy,legal', signoffKinds: 'copy:writer,legal:editor', ...overrides })
  const author = await createAuthor(app, { name: 'Wren Writer' })
  const writer = await keyFor(app, 'Wren', 'writer', { authorId: author.id })
  const lawyer = await keyFor(app, 'Lee (legal)', 'editor')
  const article = await createArticle(app, { headline: 'Minister Accused Of Fraud', bylines: [{ authorId: author.id }] })
  const signOff = async (kind: string, key: { secret: string }, headers: Record<string, string> = {}) =>
    await app.inject({ method: 'POST', url: `/articles/${article.id}/signoffs`, headers: { ...bearer(key.secret), ...headers }, payload: { kind } })
  const publish = async (payload: object = { status: 'published' }) => await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, payload })
  return { app, writer, lawyer, article, signOff, publish }
}

t.test('publishing needs every required sign-off of the current content', async (t) => {
  const { app, writer, lawyer, article, signOff, publish } = await setUp(t)
  const before = json(await app.inject(`/articles/${article.id}/signoffs`))
  t.same(before.required, ['copy', 'legal'])
  t.same(before.missing, ['copy', 'legal'])
  t.same(before.items, [])

  const blocked = await publish()
  t.equal(blocked.statusCode, 409, blocked.body)
  t.match(blocked.headers['content-type'], /application\/problem\+json/)
  const problem = json(blocked)
  t.equal(problem.code, 'PUBLICATION_BLOCKED')
  t.same(problem.blockers.map((blocker: { check: string, name: string }) => `${blocker.check}:${blocker.name}`), ['signoff:copy', 'signoff:legal'])
  t.equal(json(await app.inject(`/articles/${article.id}`)).status, 'draft', 'nothing changed')

  const copy = await signOff('copy', writer)
  t.equal(copy.statusCode, 201, copy.body)
  t.same(json(copy).missing, ['legal'])
  t.equal(json(copy).items[0].signedBy.name, 'Wren')
  t.equal(json(copy).items[0].version, article.version)
  t.equal((await signOff('copy', writer)).statusCode, 200, 'signing again changes nothing')
  t.equal(json(await app.inject(`/articles/${article.id}`)).version, article.version, 'a sign-off leaves the article version alone')

  const stillBlocked = json(await publish())
  t.same(stillBlocked.blockers.map((blocker: { name: string }) => blocker.name), ['legal'])

  const legal = await signOff('legal', lawyer)
  t.equal(legal.statusCode, 201)
  t.same(json(legal).missing, [])
  const published = await publish()
  t.equal(published.statusCode, 200, published.body)
  t.equal(json(published).status, 'published')
  const after = json(await app.inject(`/articles/${article.id}/signoffs`))
  t.same(after.missing, [], 'publishing (a status change) leaves the sign-offs valid')

  const audit = json(await app.inject(`/audit?objectType=article&objectId=${article.id}`))
  t.equal(audit.items.filter((item: { action: string }) => item.action === 'article.signed-off').length, 2, 'each new sign-off is audited')
})

t.test('a later content edit voids the sign-offs of the earlier version', async (t) => {
  const { app, writer, lawyer, article, signOff, publish } = await setUp(t)
  await signOff('copy', writer)
  await signOff('legal', lawyer)
  const edited = await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, payload: { dek: 'New allegations surfaced on Tuesday' } })
  t.equal(edited.statusCode, 200)
  const state = json(await app.inject(`/articles/${article.id}/signoffs`))
  t.same(state.missing, ['copy', 'legal'])
  t.same(state.items.map((item: { valid: boolean }) => item.valid), [false, false], 'kept in the history, no longer valid')
  t.equal(json(await publish()).code, 'PUBLICATION_BLOCKED')

  await signOff('copy', writer)
  await signOff('legal', lawyer)
  // Scheduling needs them too; then a content edit while scheduled would void them, so it is refused.
  const inAnHour = new Date(Date.now() + 3600_000).toISOString()
  const scheduled = await publish({ status: 'scheduled', publishedAt: inAnHour })
  t.equal(scheduled.statusCode, 200, scheduled.body)
  const retimed = await publish({ publishedAt: new Date(Date.now() + 7200_000).toISOString() })
  t.equal(retimed.statusCode, 200, 'moving the time is not a content edit')
  const rewrite = await publish({ headline: 'Minister Cleared Of Fraud' })
  t.equal(rewrite.statusCode, 409)
  t.equal(json(rewrite).code, 'PUBLICATION_BLOCKED')
  t.equal(json(await app.inject(`/articles/${article.id}`)).headline, 'Minister Accused Of Fraud', 'the scheduled content stays as approved')
})

t.test('creating an article as published needs the sign-offs too', async (t) => {
  const { app } = await setUp(t)
  const response = await post(app, '/articles', { headline: 'Straight To The Front Page', status: 'published' })
  t.equal(response.statusCode, 409)
  t.same(json(response).blockers.map((blocker: { name: string }) => blocker.name), ['copy', 'legal'])
  t.equal(json(await app.inject('/articles?status=any')).total, 1, 'only the draft from setUp exists')
})

t.test('bad input: unknown kind, a role that lacks the right, a missing article, a stale version', async (t) => {
  const { app, writer, lawyer, article, signOff } = await setUp(t)
  const unknown = await signOff('vibes', lawyer)
  t.equal(unknown.statusCode, 400)
  t.equal(json(unknown).code, 'VALIDATION_FAILED')
  t.same(json(unknown).errors.map((error: { pointer: string }) => error.pointer), ['/kind'])
  t.match(json(unknown).detail, /copy, legal/)

  const notLegal = await signOff('legal', writer)
  t.equal(notLegal.statusCode, 403)
  t.equal(json(notLegal).code, 'SIGNOFF_NOT_ALLOWED')
  t.same(json(notLegal).errors.map((error: { pointer: string }) => error.pointer), ['/kind'])

  const missingBody = await app.inject({ method: 'POST', url: `/articles/${article.id}/signoffs`, headers: bearer(lawyer.secret), payload: {} })
  t.equal(missingBody.statusCode, 400)
  t.same(json(missingBody).errors.map((error: { pointer: string }) => error.pointer), ['/kind'])

  const missing = '019ab8a4-0000-7000-8000-000000000000'
  const noArticle = await app.inject({ method: 'POST', url: `/articles/${missing}/signoffs`, headers: bearer(lawyer.secret), payload: { kind: 'legal' } })
  t.equal(noArticle.statusCode, 404)
  t.equal(json(noArticle).code, 'ARTICLE_NOT_FOUND')
  t.equal((await app.inject(`/articles/${missing}/signoffs`)).statusCode, 404)

  const stale = await signOff('legal', lawyer, { 'if-match': '"99"' })
  t.equal(stale.statusCode, 412)
  t.equal(json(stale).currentVersion, article.version)
  t.equal(await app.db.articleSignoff.count(), 0, 'nothing was recorded')
  t.equal((await signOff('legal', lawyer, { 'if-match': `"${article.version}"` })).statusCode, 201)
})

t.test('with no required sign-offs (the default) publishing needs none', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const article = await createArticle(app, { headline: 'Nothing To Sign Here' })
  const state = json(await app.inject(`/articles/${article.id}/signoffs`))
  t.same(state.required, [])
  t.same(state.kinds, [{ kind: 'copy', minimumRole: 'editor' }, { kind: 'legal', minimumRole: 'editor' }])
  const published = await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, payload: { status: 'published' } })
  t.equal(published.statusCode, 200)
})

t.test('the settings are checked together at start', async (t) => {
  const { loadConfig } = await import('../src/config.ts')
  t.throws(() => loadConfig({ REQUIRED_SIGNOFFS: 'legal,photo' }), /REQUIRED_SIGNOFFS: photo not among SIGNOFF_KINDS/)
  t.throws(() => loadConfig({ SIGNOFF_KINDS: 'legal:intern' }), /SIGNOFF_KINDS/)
  t.throws(() => loadConfig({ PREFLIGHT_RULES: 'spelling:error' }), /PREFLIGHT_RULES: unknown rule spelling/)
  t.throws(() => loadConfig({ PREFLIGHT_HEADLINE_LENGTH: '90-10' }), /PREFLIGHT_HEADLINE_LENGTH: the minimum 90 is above the maximum 10/)
})
