import t from 'tap'
import { buildTestApp, createArticle, createAuthor, json, post, testDatabaseUrl, testProvider } from './helper.ts'
import { publishDue } from '../src/articles/service.ts'

const patch = async (app: any, id: string, payload: unknown, ifMatch?: string) =>
  await app.inject({ method: 'PATCH', url: `/articles/${id}`, payload, headers: ifMatch === undefined ? {} : { 'if-match': ifMatch } })

t.test('status flow: allowed moves succeed, others are 409 with an explanation', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const article = await createArticle(app)
  const future = new Date(Date.now() + 3_600_000).toISOString()

  const scheduledWithoutTime = await patch(app, article.id, { status: 'scheduled' })
  t.equal(scheduledWithoutTime.statusCode, 400, 'scheduling needs a future publishedAt')
  t.equal(json(scheduledWithoutTime).errors[0].pointer, '/publishedAt')
  const scheduled = await patch(app, article.id, { status: 'scheduled', publishedAt: future })
  t.equal(scheduled.statusCode, 200)
  t.equal(json(scheduled).status, 'scheduled')
  t.equal(json(await app.inject({ method: 'GET', url: '/articles' })).total, 0, 'a scheduled article is not in Latest News yet')
  t.equal(json(await app.inject({ method: 'GET', url: '/articles?status=scheduled' })).total, 1)

  const published = await patch(app, article.id, { status: 'published', publishedAt: null })
  t.equal(published.statusCode, 200, 'scheduled → published (publish now)')
  t.ok(Date.parse(json(published).publishedAt) <= Date.now())

  const backToScheduled = await patch(app, article.id, { status: 'scheduled', publishedAt: future })
  t.equal(backToScheduled.statusCode, 409)
  t.equal(json(backToScheduled).code, 'INVALID_TRANSITION')
  t.match(json(backToScheduled).detail, 'from published it can become draft, archived')

  t.equal(json(await patch(app, article.id, { status: 'archived' })).status, 'archived')
  t.equal((await patch(app, article.id, { status: 'scheduled', publishedAt: future })).statusCode, 409, 'archived → scheduled is refused')
  t.equal(json(await patch(app, article.id, { status: 'draft' })).status, 'draft', 'archived → draft')
  t.equal(json(await patch(app, article.id, { status: 'published' })).status, 'published')
  const unpublished = json(await patch(app, article.id, { status: 'draft' }))
  t.equal(unpublished.status, 'draft', 'published → draft (unpublish)')
  t.notOk(json(await app.inject({ method: 'GET', url: '/articles' })).items.some((a: any) => a.id === article.id))
})

t.test('scheduled articles go live at their time, exactly once, whichever instance looks', async (t) => {
  const databaseUrl = await testDatabaseUrl(t)
  const a = await buildTestApp(t, { databaseUrl, backgroundJobs: false })
  const b = await buildTestApp(t, { databaseUrl, backgroundJobs: false })
  const sixAm = new Date(Date.now() + 3_600_000)
  const article = await createArticle(a, { headline: 'Goes live at six', status: 'scheduled', publishedAt: sixAm.toISOString() })
  t.same(await publishDue(a.db), [], 'nothing is due before its time')
  const later = new Date(sixAm.getTime() + 1000)
  // Two SQLite instances in one process would block each other's event loop on the file lock (the
  // driver waits synchronously), so on SQLite the races run within one instance.
  const other = testProvider === 'postgresql' ? b : a
  const runs = await Promise.all([publishDue(a.db, later), publishDue(other.db, later), publishDue(a.db, later), publishDue(other.db, later)])
  t.same(runs.flat(), [article.id], 'published once, by exactly one of the runs')
  const live = json(await b.inject({ method: 'GET', url: `/articles/${article.id}` }))
  t.equal(live.status, 'published')
  t.equal(live.publishedAt, sixAm.toISOString(), 'at its scheduled time')
  t.equal(live.version, 2, 'one version step')
  t.same(json(await a.inject({ method: 'GET', url: `/articles/${article.id}/revisions/2` })).changedBy, { keyId: null, name: 'scheduler' }, 'the scheduler signs its own revisions')
  t.same(json(await a.inject({ method: 'GET', url: `/articles/${article.id}/revisions` })).items.map((r: any) => r.version), [2, 1])
})

t.test('publishing a scheduled article early means now; an overdue one can still be edited', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const future = new Date(Date.now() + 3_600_000).toISOString()
  const early = await createArticle(app, { status: 'scheduled', publishedAt: future })
  const published = await patch(app, early.id, { status: 'published' })
  t.equal(published.statusCode, 200, 'scheduled → published without a time')
  t.ok(Date.parse(json(published).publishedAt) <= Date.now(), 'it goes live now, not at the scheduled time')

  const overdue = await createArticle(app, { status: 'scheduled', publishedAt: future })
  await app.db.article.update({ where: { id: overdue.id }, data: { publishedAt: new Date(Date.now() - 1000) } })
  const edited = await patch(app, overdue.id, { headline: 'Fixed a typo before it went out' })
  t.equal(edited.statusCode, 200, 'an overdue scheduled article accepts edits')
  t.equal(json(edited).status, 'scheduled')
  const moved = await patch(app, overdue.id, { publishedAt: new Date(Date.now() - 60_000).toISOString() })
  t.equal(moved.statusCode, 400, 'but a new scheduled time must still lie ahead')
  t.equal(json(moved).errors[0].pointer, '/publishedAt')
})

t.test('the scheduler runs by itself, and survives a restart in between', async (t) => {
  const databaseUrl = await testDatabaseUrl(t)
  const first = await buildTestApp(t, { databaseUrl, backgroundJobs: false })
  const article = await createArticle(first, { status: 'scheduled', publishedAt: new Date(Date.now() + 3_600_000).toISOString() })
  // The clock moves on while the server is down: its time has come by the time the next one starts.
  await first.db.article.update({ where: { id: article.id }, data: { publishedAt: new Date(Date.now() - 1000) } })
  await first.close()
  const second = await buildTestApp(t, { databaseUrl, schedulerIntervalMs: 100 })
  await second.ready()
  const deadline = Date.now() + 10_000
  let status = 'scheduled'
  while (status !== 'published' && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    status = json(await second.inject({ method: 'GET', url: `/articles/${article.id}` })).status
  }
  t.equal(status, 'published', 'published by the restarted instance within seconds')
})

t.test('revisions: every change is kept; list, read, compare and restore', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const author = await createAuthor(app)
  const article = await createArticle(app, { headline: 'First headline', body: [{ type: 'paragraph', text: 'First text.' }] })
  await patch(app, article.id, { headline: 'Second headline' }, '"1"')
  await patch(app, article.id, { body: [{ type: 'paragraph', text: 'Second text.' }], bylines: [{ authorId: author.id }] }, '"2"')

  const list = json(await app.inject({ method: 'GET', url: `/articles/${article.id}/revisions` }))
  t.same(list.items.map((r: any) => r.version), [3, 2, 1], 'newest first')
  t.same(list.items[1].changedFields, ['headline'])
  t.same(list.items[0].changedFields.sort(), ['body', 'bylines'])
  t.ok(list.items[2].changedFields.includes('headline'), 'the first revision lists every field it set')
  t.same(list.items[0].changedBy.name, 'bootstrap (COPYDESK_BOOTSTRAP_KEY)', 'each revision says who made it')

  const one = json(await app.inject({ method: 'GET', url: `/articles/${article.id}/revisions/1` }))
  t.equal(one.snapshot.headline, 'First headline')
  t.same(one.snapshot.body, [{ type: 'paragraph', text: 'First text.' }])

  const compare = json(await app.inject({ method: 'GET', url: `/articles/${article.id}/revisions/compare?from=1&to=3` }))
  t.same(compare.changes.map((c: any) => c.field).sort(), ['body', 'bylines', 'headline'])
  t.same(compare.changes.find((c: any) => c.field === 'headline'), { field: 'headline', from: 'First headline', to: 'Second headline' })

  const stale = await app.inject({ method: 'POST', url: `/articles/${article.id}/revisions/1/restore`, headers: { 'if-match': '"1"' } })
  t.equal(stale.statusCode, 412, 'restoring honours If-Match too')
  const restored = await app.inject({ method: 'POST', url: `/articles/${article.id}/revisions/1/restore`, headers: { 'if-match': '"3"' } })
  t.equal(restored.statusCode, 200)
  t.equal(json(restored).headline, 'First headline')
  t.same(json(restored).bylines, [])
  t.equal(json(restored).version, 4, 'restoring makes a new version')
  t.same(json(await app.inject({ method: 'GET', url: `/articles/${article.id}/revisions` })).items.map((r: any) => r.version), [4, 3, 2, 1], 'nothing is destroyed')

  t.equal(json(await app.inject({ method: 'GET', url: `/articles/${article.id}/revisions/99` })).code, 'REVISION_NOT_FOUND')
  t.equal(json(await app.inject({ method: 'GET', url: '/articles/019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a11/revisions' })).code, 'ARTICLE_NOT_FOUND')
  t.equal((await app.inject({ method: 'GET', url: `/articles/${article.id}/revisions/0` })).statusCode, 400)

  const editorKey = json(await post(app, '/keys', { name: 'Copy desk', role: 'editor' }))
  await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, payload: { dek: 'By the copy desk' }, headers: { authorization: `Bearer ${editorKey.secret}` } })
  t.same(json(await app.inject({ method: 'GET', url: `/articles/${article.id}/revisions/5` })).changedBy, { keyId: editorKey.id, name: 'Copy desk' }, 'and which key it was')
})

t.test('slug history: a published article\'s old slug redirects and stays reserved', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const draft = await createArticle(app, { headline: 'Draft', slug: 'draft-slug' })
  await patch(app, draft.id, { slug: 'draft-slug-renamed' })
  t.equal((await app.inject({ method: 'GET', url: '/articles/slug/draft-slug' })).statusCode, 404, 'a draft\'s old slug was never public: no redirect')

  const article = await createArticle(app, { headline: 'Published', slug: 'original-slug', status: 'published' })
  await patch(app, article.id, { slug: 'second-slug' })
  await patch(app, article.id, { slug: 'third-slug' })
  for (const old of ['original-slug', 'second-slug']) {
    const response = await app.inject({ method: 'GET', url: `/articles/slug/${old}` })
    t.equal(response.statusCode, 308, `${old} redirects`)
    t.equal(response.headers.location, '/articles/slug/third-slug', 'straight to the current slug')
    t.same(json(response), { movedTo: 'third-slug', location: '/articles/slug/third-slug' })
  }
  const taken = await post(app, '/articles', { headline: 'Another', slug: 'original-slug' })
  t.equal(taken.statusCode, 409, 'another article cannot take a former slug')
  t.equal(json(taken).code, 'SLUG_TAKEN')
  const generated = await createArticle(app, { headline: 'Original Slug' })
  t.equal(generated.slug, 'original-slug-2', 'generated slugs avoid former ones')
  const reclaim = await patch(app, article.id, { slug: 'original-slug' })
  t.equal(reclaim.statusCode, 200, 'the article itself may go back to an old slug')
  t.equal((await app.inject({ method: 'GET', url: '/articles/slug/original-slug' })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/articles/slug/third-slug' })).headers.location, '/articles/slug/original-slug')

  const archived = await createArticle(app, { headline: 'Archived', slug: 'archived-story', status: 'published' })
  await patch(app, archived.id, { status: 'archived' })
  await patch(app, archived.id, { slug: 'archived-story-renamed' })
  t.equal((await post(app, '/articles', { headline: 'Squatter', slug: 'archived-story' })).statusCode, 409, 'an archived article\'s old slug stays reserved too')
})

t.test('corrections are dated, shown with the article, and only for published stories', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const draft = await createArticle(app)
  const onDraft = await post(app, `/articles/${draft.id}/corrections`, { text: 'Fix' })
  t.equal(onDraft.statusCode, 409)
  const article = await createArticle(app, { status: 'published' })
  const corrected = await post(app, `/articles/${article.id}/corrections`, { kind: 'correction', text: 'An earlier version misstated the size of the company.' })
  t.equal(corrected.statusCode, 201)
  t.match(corrected.headers.etag, /^"2-[A-Za-z0-9_-]{22}"$/, 'a correction is a new version')
  const update = json(await post(app, `/articles/${article.id}/corrections`, { kind: 'update', text: 'This story has been updated with the ministry\'s statement.' }))
  t.same(update.corrections.map((c: any) => c.kind), ['correction', 'update'], 'oldest first')
  t.ok(Date.parse(update.corrections[0].createdAt) <= Date.parse(update.corrections[1].createdAt))
  const bySlug = json(await app.inject({ method: 'GET', url: `/articles/slug/${article.slug}` }))
  t.equal(bySlug.corrections.length, 2, 'frontends get them with the article')
  t.equal((await post(app, `/articles/${article.id}/corrections`, { text: '' })).statusCode, 400)
  t.equal((await app.inject({ method: 'POST', url: `/articles/${article.id}/corrections`, headers: { 'if-match': '"1"' }, payload: { text: 'Stale' } })).statusCode, 412)
})

t.test('strict mode: edits without If-Match get 428', async (t) => {
  const app = await buildTestApp(t, { requireIfMatch: true, backgroundJobs: false })
  const article = await createArticle(app)
  const missing = await patch(app, article.id, { headline: 'No precondition' })
  t.equal(missing.statusCode, 428)
  t.equal(json(missing).code, 'PRECONDITION_REQUIRED')
  t.equal((await app.inject({ method: 'DELETE', url: `/articles/${article.id}` })).statusCode, 428)
  t.equal((await patch(app, article.id, { headline: 'With precondition' }, '"1"')).statusCode, 200)
})

t.test('concurrent deletes and edits: one outcome, the rest told why', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const article = await createArticle(app)
  const [edit, remove, removeAgain] = await Promise.all([
    patch(app, article.id, { headline: 'Edit' }, '"1"'),
    app.inject({ method: 'DELETE', url: `/articles/${article.id}`, headers: { 'if-match': '"1"' } }),
    app.inject({ method: 'DELETE', url: `/articles/${article.id}`, headers: { 'if-match': '"1"' } })
  ])
  const statuses = [edit.statusCode, remove.statusCode, removeAgain.statusCode]
  t.equal(statuses.filter((status) => status === 200 || status === 204).length, 1, `exactly one succeeds: ${statuses.join(', ')}`)
  t.ok(statuses.every((status) => [200, 204, 404, 412].includes(status)), 'the others get 404 or 412, never 409 or 500')
})
