// Killing an article: 410 Gone to the public with a tombstone that says nothing of it, out of every
// list, search, feed and sitemap, caches purged, article.killed for subscribers; no edit brings it
// back; only an admin un-kills it, with a reason, in the audit trail.
import t from 'tap'
import { anonymous, bearer, buildTestApp, createArticle, createAuthor, json, post } from './helper.ts'
import { keyFor, publishedStory, walkPublicGets } from './public-walk.ts'

const publicly = { headers: anonymous }

t.test('a killed article is gone from every public route: 410 by id and slug, nowhere else', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const subject = await publishedStory(app, 'Judge Names Defendant In Sealed Case')
  const { id, slug, headline } = subject.article
  const before = await walkPublicGets(app, subject)
  t.ok(before.some((answer) => answer.operationId === 'listArticles' && answer.body.includes(headline)), 'the walk sees the story while it is live (it can tell)')
  t.ok(before.some((answer) => answer.operationId === 'searchArticles' && answer.body.includes(id)), 'search finds it while it is live')
  t.equal((await app.inject({ url: `/images/${subject.imageIds[0] as string}`, ...publicly })).statusCode, 200, 'its lead image is public while it is live')

  const killed = await app.inject({ method: 'POST', url: `/articles/${id}/kill`, payload: { reason: 'Legal: the name is under a reporting restriction' } })
  t.equal(killed.statusCode, 200, killed.body)
  t.equal(json(killed).status, 'killed')
  t.equal(json(killed).kill.reason, 'Legal: the name is under a reporting restriction', 'staff see why')

  const answers = await walkPublicGets(app, subject)
  t.ok(answers.length >= 25, `walked ${answers.length} keyless reads`)
  for (const answer of answers) {
    const label = `${answer.operationId} ${answer.url} → ${answer.status}`
    t.notOk(answer.text.includes(headline), `${label}: no headline`)
    if (['getArticle', 'getArticleBySlug', 'getArticlePreview'].includes(answer.operationId)) {
      t.equal(answer.status, 410, `${label}: Gone`)
      const problem = JSON.parse(answer.body)
      t.equal(problem.code, 'ARTICLE_GONE', label)
      t.match(answer.contentType, /^application\/problem\+json/, label)
      t.notOk(JSON.stringify({ ...problem, instance: '' }).includes(slug) || JSON.stringify({ ...problem, instance: '' }).includes(id), `${label}: the tombstone names nothing but the path asked for`)
    } else if (answer.operationId === 'listChanges' || answer.operationId === 'streamChanges') {
      t.notOk(answer.text.includes(slug), `${label}: no slug`)
      if (answer.operationId === 'listChanges') {
        const about = json({ body: answer.body } as never).items.filter((item: { id: string }) => item.id === id)
        t.ok(about.length >= 2, `${label}: the feed tells subscribers to drop it`)
        t.ok(about.every((item: { data: unknown }) => JSON.stringify(item.data) === JSON.stringify({ id })), `${label}: its past changes too are only its id now`)
        t.ok(about.some((item: { action: string }) => item.action === 'article.killed'), `${label}: article.killed`)
      }
    } else if (answer.status < 400) {
      t.notOk(answer.text.includes(slug), `${label}: no slug`)
      t.notOk(answer.text.includes(id), `${label}: no id`)
    } else {
      t.not(answer.status, 200, label)
    }
  }
  for (const imageId of subject.imageIds) t.equal((await app.inject({ url: `/images/${imageId}`, ...publicly })).statusCode, 404, 'an image only it used is no longer public')
  const purged = await app.db.change.findFirst({ where: { objectId: id, action: 'article.killed' } })
  t.ok(purged?.publicChange, 'the kill is a public change (every instance drops cached copies)')
  t.match(purged?.purgeKeys, new RegExp(`article-${id}`), 'its purge key goes to the CDN')
  t.match(purged?.purgeKeys, /articles-list/)
})

t.test('a kill needs a reason and an editor; un-killing needs an admin; killed articles stay down', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const writerAuthor = await createAuthor(app, { name: 'Wren Writer' })
  const writer = bearer(await keyFor(app, 'writer', writerAuthor.id))
  const editor = bearer(await keyFor(app, 'editor'))
  const article = await createArticle(app, { headline: 'Minister Quits', status: 'published', bylines: [{ authorId: writerAuthor.id }] })
  const kill = async (payload: unknown, headers: Record<string, string> = editor) => await app.inject({ method: 'POST', url: `/articles/${article.id as string}/kill`, payload: payload as object, headers })

  for (const [payload, pointer] of [[{}, '/reason'], [{ reason: '' }, '/reason'], [{ reason: '   ' }, '/reason'], [{ reason: 'x', extra: 1 }, '/extra']] as const) {
    const refused = await kill(payload)
    t.equal(refused.statusCode, 400, `${JSON.stringify(payload)}: 400`)
    t.equal(json(refused).code, 'VALIDATION_FAILED')
    t.same(json(refused).errors.map((error: { pointer: string }) => error.pointer), [pointer], 'names the field')
  }
  t.equal((await kill({ reason: 'no' }, writer)).statusCode, 403, 'a writer cannot kill')
  t.equal((await app.inject({ url: `/articles/${article.id as string}`, ...publicly })).statusCode, 200, 'nothing changed')
  t.equal(json(await app.inject(`/articles/${article.id as string}`)).version, article.version, 'not even the version')

  const missing = await app.inject({ method: 'POST', url: '/articles/019ab8a4-0000-7000-8000-000000000000/kill', payload: { reason: 'x' } })
  t.equal(missing.statusCode, 404)
  t.equal((await kill({ reason: 'Libel risk' }, { ...editor, 'if-match': '"99"' })).statusCode, 412, 'If-Match guards a kill too')
  const done = await kill({ reason: 'Libel risk' })
  t.equal(done.statusCode, 200)
  t.equal(json(await kill({ reason: 'again' })).code, 'ARTICLE_KILLED', 'a killed article cannot be killed twice')

  const edits: Array<[string, string, unknown]> = [
    ['PATCH', '', { status: 'published' }],
    ['PATCH', '', { headline: 'Quietly back' }],
    ['PUT', '', { headline: 'Quietly back', status: 'published' }],
    ['POST', '/corrections', { kind: 'correction', text: 'x' }],
    ['PUT', '/embargo', { until: new Date(Date.now() + 3_600_000).toISOString() }],
    ['DELETE', '', undefined]
  ]
  for (const [method, suffix, payload] of edits) {
    const refused = await app.inject({ method: method as 'PATCH', url: `/articles/${article.id as string}${suffix}`, headers: editor, ...(payload === undefined ? {} : { payload: payload as object }) })
    t.equal(refused.statusCode, 409, `${method} ${suffix}: 409`)
    t.equal(json(refused).code, 'ARTICLE_KILLED', `${method} ${suffix}: ARTICLE_KILLED`)
  }
  t.equal((await app.inject({ url: `/articles/${article.id as string}`, ...publicly })).statusCode, 410, 'still gone')

  const unkill = async (payload: unknown, headers: Record<string, string>) => await app.inject({ method: 'POST', url: `/articles/${article.id as string}/unkill`, payload: payload as object, headers })
  t.equal((await unkill({ reason: 'Cleared by legal' }, editor)).statusCode, 403, 'an editor cannot un-kill')
  t.equal((await unkill({}, {})).statusCode, 400, 'un-killing needs a reason')
  const back = await unkill({ reason: 'Cleared by legal' }, {})
  t.equal(back.statusCode, 200, 'an admin un-kills it')
  t.equal(json(back).status, 'draft', 'an un-killed article is a draft')
  t.equal(json(back).kill, null)
  t.equal((await app.inject({ url: `/articles/${article.id as string}`, ...publicly })).statusCode, 404, 'a draft again: 404, no longer 410')
  t.equal(json(await unkill({ reason: 'again' }, {})).code, 'INVALID_TRANSITION', 'un-killing what is not killed is 409')
  const republished = await app.inject({ method: 'PATCH', url: `/articles/${article.id as string}`, headers: editor, payload: { status: 'published' } })
  t.equal(republished.statusCode, 200, 'an editor can publish it again')

  const audit = json(await app.inject(`/audit?objectType=article&objectId=${article.id as string}`)).items
  t.same(audit.filter((entry: { reason: string | null }) => entry.reason !== null).map((entry: { action: string, reason: string }) => [entry.action, entry.reason]),
    [['article.unkilled', 'Cleared by legal'], ['article.killed', 'Libel risk']], 'both reasons are in the audit trail')
})

t.test('subscribers hear article.killed; a killed slug does not redirect', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const hook = await post(app, '/webhooks', { url: 'https://hooks.example.com/copydesk', events: ['article.killed', 'article.unkilled', 'article.published'] })
  t.equal(hook.statusCode, 201, hook.body)
  const article = await createArticle(app, { headline: 'Story With Old Slug', slug: 'old-slug', status: 'published' })
  await app.inject({ method: 'PATCH', url: `/articles/${article.id as string}`, payload: { slug: 'new-slug' } })
  t.equal((await app.inject({ url: '/articles/slug/old-slug', ...publicly })).statusCode, 308, 'a former slug redirects while live')
  await post(app, `/articles/${article.id as string}/kill`, { reason: 'Withdrawn' })
  const former = await app.inject({ url: '/articles/slug/old-slug', ...publicly })
  t.equal(former.statusCode, 410, 'a former slug of a killed article is gone too')
  t.notMatch(former.body, /new-slug/, 'and does not say where it moved')
  t.equal((await app.inject({ url: '/articles/slug/new-slug', ...publicly })).statusCode, 410)
  t.equal((await app.inject({ url: '/articles/slug/new-slug' })).statusCode, 200, 'staff still read it')
  const staffList = json(await app.inject('/articles?status=killed')).items
  t.same(staffList.map((item: { id: string }) => item.id), [article.id], 'staff list killed articles')
  const deliveries = await app.db.webhookDelivery.findMany({ orderBy: { seq: 'asc' } })
  t.same(deliveries.map((delivery) => delivery.event), ['article.published', 'article.killed'])
  t.equal(JSON.parse(deliveries[1]?.body ?? '{}').data.status, 'killed')
})

t.test('a killed live story: its entries leave the public change feed, cannot be broken out, and its sign-offs and lease go with it', async (t) => {
  const app = await buildTestApp(t)
  const article = await createArticle(app, { headline: 'Live: The Verdict', status: 'published' })
  const coverage = json(await post(app, '/live-coverages', { articleId: article.id, status: 'live' }))
  const entry = json(await post(app, `/live-coverages/${coverage.id as string}/entries`, { headline: 'Jury is out', body: [{ type: 'paragraph', text: 'Xylophonic deliberations begin.' }] }))
  t.equal((await post(app, `/articles/${article.id as string}/signoffs`, { kind: 'copy' })).statusCode, 201, 'signed off')
  t.equal((await post(app, `/articles/${article.id as string}/lease`, {})).statusCode, 200, 'leased')
  const before = await app.inject({ url: '/changes?after=0&types=live-entry', headers: anonymous })
  t.match(before.body, 'Xylophonic', 'while it is live, the entry is in the public change feed')

  const killed = await post(app, `/articles/${article.id as string}/kill`, { reason: 'Contempt of court' })
  t.equal(killed.statusCode, 200, 'killed')
  const after = await app.inject({ url: '/changes?after=0&types=live-entry,live-coverage', headers: anonymous })
  t.equal(after.statusCode, 200)
  t.notMatch(after.body, 'Xylophonic', 'the entry\'s text leaves the public change feed')
  t.notMatch(after.body, 'Jury is out', 'and its headline')
  const items = json(after).items as Array<{ id: string, data: Record<string, unknown> }>
  t.ok(items.some((item) => item.id === entry.id), 'the entry is still there by id, so a frontend can drop it')
  t.ok(items.every((item) => Object.keys(item.data).every((key) => key === 'id' || key === 'coverageId')), 'with nothing but ids')
  t.match((await app.inject({ url: '/changes?after=0&types=live-entry' })).body, 'Xylophonic', 'staff still see it all')

  const brokenOut = await post(app, `/live-coverages/${coverage.id as string}/entries/${entry.id as string}/break-out`, {})
  t.equal(brokenOut.statusCode, 409, 'an entry of a killed story cannot walk out as a new article')
  t.equal(json(brokenOut).code, 'ARTICLE_KILLED')
  t.same(json(await app.inject({ url: `/articles/${article.id as string}/signoffs` })).items, [], 'its sign-offs are gone')
  t.equal(json(await app.inject({ url: `/articles/${article.id as string}/presence` })).lease, null, 'and its lease')
})

t.test('an article the public never read answers 404 once killed, not 410: the answer reveals nothing', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const draft = await createArticle(app, { headline: 'Draft About A Sealed Case' })
  const embargoed = await createArticle(app, { headline: 'Embargoed Verdict Story' })
  t.equal((await app.inject({ method: 'PUT', url: `/articles/${embargoed.id as string}/embargo`, payload: { until: new Date(Date.now() + 3_600_000).toISOString() } })).statusCode, 200)
  t.equal((await app.inject({ method: 'PATCH', url: `/articles/${embargoed.id as string}`, payload: { status: 'published' } })).statusCode, 200, 'published under embargo: not public yet')
  const onceLive = await createArticle(app, { headline: 'Story Readers Saw Once', status: 'published' })
  t.equal((await app.inject({ method: 'PATCH', url: `/articles/${onceLive.id as string}`, payload: { status: 'draft' } })).statusCode, 200, 'unpublished since')
  for (const article of [draft, embargoed, onceLive]) {
    const killed = await app.inject({ method: 'POST', url: `/articles/${article.id as string}/kill`, payload: { reason: 'Legal: reporting restriction' } })
    t.equal(killed.statusCode, 200, killed.body)
  }
  for (const article of [draft, embargoed]) {
    const byId = await app.inject({ url: `/articles/${article.id as string}`, ...publicly })
    t.equal(byId.statusCode, 404, `${article.headline as string}: 404 by id`)
    t.equal(json(byId).code, 'ARTICLE_NOT_FOUND', 'as for an article that never existed')
    t.equal((await app.inject({ url: `/articles/slug/${article.slug as string}`, ...publicly })).statusCode, 404, `${article.headline as string}: 404 by slug`)
  }
  t.equal((await app.inject({ url: `/articles/${onceLive.id as string}`, ...publicly })).statusCode, 410, 'an article readers saw, even unpublished since, is 410 Gone')
  t.equal(json(await app.inject(`/articles/${draft.id as string}`)).kill.reason, 'Legal: reporting restriction', 'staff still see it killed')
})
