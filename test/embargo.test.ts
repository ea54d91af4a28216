// Embargoes: until `until`, whatever its status, nothing public shows the article or its images;
// partners read it through a preview link; at `until` it lifts by itself, exactly once, as a
// publication; only an admin breaks it early, with a reason in the audit trail.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { anonymous, bearer, buildTestApp, createArticle, createAuthor, createImage, json, post, waitFor } from './helper.ts'
import { keyFor, publishedStory, walkPublicGets, type Subject } from './public-walk.ts'
import { liftDueEmbargoes } from '../src/articles/embargo.ts'

const publicly = { headers: anonymous }
const inAnHour = (): string => new Date(Date.now() + 3_600_000).toISOString()

async function embargo (app: FastifyInstance, id: string, payload: unknown, headers: Record<string, string> = {}): Promise<ReturnType<FastifyInstance['inject']>> {
  return await app.inject({ method: 'PUT', url: `/articles/${id}/embargo`, payload: payload as object, headers })
}

/** A story with its own author, images, section and tag, embargoed, then published. */
async function embargoedStory (app: FastifyInstance, headline: string, until: string): Promise<Subject> {
  return await publishedStory(app, headline, async (id) => {
    const set = await embargo(app, id, { until, note: 'Bank embargo' })
    if (set.statusCode !== 200) throw new Error(set.body)
  })
}

t.test('an embargoed article, published, shows on no public route but its preview link; lifted, it shows', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const hook = await post(app, '/webhooks', { url: 'https://hooks.example.com/copydesk', events: ['article.published', 'article.unpublished'] })
  t.equal(hook.statusCode, 201)
  const subject = await embargoedStory(app, 'Central Bank Raises Rates To Record High', inAnHour())
  const { id, slug, headline } = subject.article
  const staff = json(await app.inject(`/articles/${id}`))
  t.equal(staff.status, 'published')
  t.equal(staff.embargo.note, 'Bank embargo', 'staff see the embargo')

  const answers = await walkPublicGets(app, subject)
  t.ok(answers.length >= 25, `walked ${answers.length} keyless reads`)
  for (const answer of answers) {
    const label = `${answer.operationId} ${answer.url} → ${answer.status}`
    if (answer.operationId === 'getArticlePreview') {
      t.equal(answer.status, 200, `${label}: the preview link shows it to a partner`)
      t.equal(JSON.parse(answer.body).embargo.note, 'Bank embargo', `${label}: with its embargo`)
      t.match(JSON.parse(answer.text.split('\n')[0] ?? '{}')['cache-control'], /no-store/, `${label}: never cached`)
      continue
    }
    t.notOk(answer.text.includes(headline), `${label}: no headline`)
    if (answer.status < 400) {
      t.notOk(answer.text.includes(slug), `${label}: no slug`)
      t.notOk(answer.text.includes(id), `${label}: no id`)
    } else {
      t.ok(answer.status === 404 || answer.status === 400, `${label}: not found`)
    }
  }
  t.equal(await app.db.webhookDelivery.count(), 0, 'publishing under embargo announces nothing')
  const publicFeed = json(await app.inject({ url: '/changes?after=0', ...publicly }))
  t.notOk(publicFeed.items.some((item: { id: string }) => item.id === id), 'the public change feed does not mention it')

  // Lifted (as the scheduler does at `until`): everything public shows it, which the walk can see.
  t.same(await liftDueEmbargoes(app.db, new Date(Date.now() + 7_200_000)), [id], 'the job lifts it')
  const after = await walkPublicGets(app, subject)
  for (const operationId of ['getArticle', 'getArticleBySlug', 'listArticles', 'searchArticles', 'getAuthor', 'getAuthorBySlug']) {
    t.ok(after.some((answer) => answer.operationId === operationId && answer.status === 200 && answer.body.includes(headline)), `${operationId} shows it once lifted`)
  }
  t.ok(after.some((answer) => answer.url.includes('/feeds/') && answer.body.includes(headline)), 'feeds carry it')
  t.ok(after.some((answer) => answer.url.startsWith('/sitemap.xml') && answer.body.includes(slug)), 'the sitemap lists it')
  for (const imageId of subject.imageIds) t.equal((await app.inject({ url: `/images/${imageId}`, ...publicly })).statusCode, 200, 'its images are public')
  const deliveries = await app.db.webhookDelivery.findMany()
  t.same(deliveries.map((delivery) => delivery.event), ['article.published'], 'the lift is announced as a publication')
  const lifted = json(await app.inject({ url: `/changes?after=0&types=article`, ...publicly })).items.filter((item: { id: string }) => item.id === id)
  t.same(lifted.map((item: { action: string }) => item.action), ['article.embargo-lifted'], 'the public feed shows the lift')
  t.equal(lifted[0].data.headline, headline)
  const change = await app.db.change.findFirst({ where: { objectId: id, action: 'article.embargo-lifted' } })
  t.match(change?.purgeKeys, /articles-list/, 'lists are purged')
})

t.test('a live story put under embargo comes down at once, images and all', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const image = await createImage(app, { url: 'https://images.example.com/only.jpg' })
  const article = await createArticle(app, { headline: 'Premature Leak', status: 'published', leadImageId: image.id })
  t.equal((await app.inject({ url: `/articles/${article.id as string}`, ...publicly })).statusCode, 200)
  t.equal((await app.inject({ url: `/images/${image.id as string}`, ...publicly })).statusCode, 200)
  t.equal((await embargo(app, article.id, { until: inAnHour() })).statusCode, 200)
  t.equal((await app.inject({ url: `/articles/${article.id as string}`, ...publicly })).statusCode, 404, 'the article is gone from the public')
  t.equal((await app.inject({ url: `/images/${image.id as string}`, ...publicly })).statusCode, 404, 'and its image')
  t.notMatch((await app.inject({ url: '/articles', ...publicly })).body, /Premature Leak/)
  t.notMatch((await app.inject({ url: '/search?q=premature', ...publicly })).body, /Premature Leak/)
  const feed = json(await app.inject({ url: '/changes?after=0', ...publicly }))
  t.notMatch(JSON.stringify(feed), /Premature Leak|premature-leak/, 'the public feed keeps only its id, earlier changes included')
  t.ok(feed.items.some((item: { id: string, action: string, data: unknown }) => item.id === article.id && item.action === 'article.embargoed' && JSON.stringify(item.data) === JSON.stringify({ id: article.id })),
    'subscribers learn to drop it')
})

t.test('bad input, roles, and who may move or break an embargo', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const writerAuthor = await createAuthor(app, { name: 'Wes Writer' })
  const writer = bearer(await keyFor(app, 'writer', writerAuthor.id))
  const editor = bearer(await keyFor(app, 'editor'))
  const article = await createArticle(app, { headline: 'Budget Details', bylines: [{ authorId: writerAuthor.id }] })
  const id = article.id as string

  for (const [payload, pointer] of [
    [{ until: new Date(Date.now() - 60_000).toISOString() }, '/until'],
    [{ until: 'tomorrow' }, '/until'],
    [{}, '/until'],
    [{ until: inAnHour(), note: 'x'.repeat(501) }, '/note']
  ] as const) {
    const refused = await embargo(app, id, payload, editor)
    t.equal(refused.statusCode, 400, `${JSON.stringify(payload).slice(0, 60)}: 400`)
    t.equal(json(refused).code, 'VALIDATION_FAILED')
    t.same(json(refused).errors.map((error: { pointer: string }) => error.pointer), [pointer], 'names the field')
  }
  t.equal((await embargo(app, id, { until: inAnHour() }, writer)).statusCode, 403, 'a writer cannot set an embargo')
  t.equal(json(await app.inject(`/articles/${id}`)).embargo, null, 'nothing changed')
  t.equal(json(await app.inject(`/articles/${id}`)).version, 1)
  t.equal((await embargo(app, '019ab8a4-0000-7000-8000-000000000000', { until: inAnHour() }, editor)).statusCode, 404)

  const later = new Date(Date.now() + 7_200_000).toISOString()
  t.equal((await embargo(app, id, { until: later }, editor)).statusCode, 200, 'an editor sets it')
  const sooner = await embargo(app, id, { until: inAnHour() }, editor)
  t.equal(sooner.statusCode, 403, 'an editor cannot bring it forward')
  t.equal(json(sooner).code, 'FORBIDDEN')
  t.equal((await embargo(app, id, { until: new Date(Date.now() + 10_800_000).toISOString(), note: 'moved' }, editor)).statusCode, 200, 'an editor may move it later')

  const breakIt = async (payload: unknown, headers: Record<string, string>) => await app.inject({ method: 'POST', url: `/articles/${id}/embargo/break`, payload: payload as object, headers })
  t.equal((await breakIt({ reason: 'Minister spoke early' }, writer)).statusCode, 403, 'a writer cannot break an embargo')
  t.equal((await breakIt({ reason: 'Minister spoke early' }, editor)).statusCode, 403, 'nor an editor')
  const noReason = await breakIt({}, {})
  t.equal(noReason.statusCode, 400, 'breaking needs a reason')
  t.same(json(noReason).errors.map((error: { pointer: string }) => error.pointer), ['/reason'])
  t.not(json(await app.inject(`/articles/${id}`)).embargo, null, 'still under embargo')

  // An embargo is a write like any other: someone else's edit lease holds it (423), for admins too.
  t.equal((await app.inject({ method: 'POST', url: `/articles/${id}/lease`, headers: editor })).statusCode, 200)
  const leasedSet = await embargo(app, id, { until: new Date(Date.now() + 14_400_000).toISOString() }, {})
  t.equal(leasedSet.statusCode, 423, 'setting an embargo respects the lease')
  t.equal(json(leasedSet).code, 'ARTICLE_LOCKED')
  t.equal((await breakIt({ reason: 'Minister spoke early' }, {})).statusCode, 423, 'so does breaking one')
  t.equal((await app.inject({ method: 'DELETE', url: `/articles/${id}/lease`, headers: editor })).statusCode, 204)

  const broken = await breakIt({ reason: 'Minister spoke early' }, {})
  t.equal(broken.statusCode, 200)
  t.equal(json(broken).embargo, null)
  t.equal(json(await breakIt({ reason: 'again' }, {})).code, 'NOT_EMBARGOED', 'nothing left to break: 409')
  const audit = json(await app.inject(`/audit?objectType=article&objectId=${id}&action=article.embargo-broken`)).items
  t.same(audit.map((entry: { reason: string }) => entry.reason), ['Minister spoke early'], 'the reason is in the audit trail')
})

t.test('at until, the embargo lifts by itself, once, even with two schedulers racing', async (t) => {
  const app = await buildTestApp(t, { schedulerIntervalMs: 100 })
  const article = await createArticle(app, { headline: 'Rates Decision' })
  t.equal((await embargo(app, article.id, { until: inAnHour() })).statusCode, 200)
  await app.inject({ method: 'PATCH', url: `/articles/${article.id as string}`, payload: { status: 'published' } })
  t.equal((await app.inject({ url: `/articles/${article.id as string}`, ...publicly })).statusCode, 404, 'held back until then')
  // An admin brings it forward to a second from now: the running scheduler lifts it then.
  t.equal((await embargo(app, article.id, { until: new Date(Date.now() + 1000).toISOString() })).statusCode, 200)
  t.ok(await waitFor(async () => (await app.inject({ url: `/articles/${article.id as string}`, ...publicly })).statusCode === 200), 'public once the time comes')
  t.equal(await app.db.change.count({ where: { objectId: article.id, action: 'article.embargo-lifted' } }), 1, 'lifted once')

  const other = await buildTestApp(t, { backgroundJobs: false })
  const racing = await createArticle(other, { headline: 'Jobs Report', status: 'published' })
  await embargo(other, racing.id, { until: inAnHour() })
  const afterUntil = new Date(Date.now() + 7_200_000)
  const [first, second] = await Promise.all([liftDueEmbargoes(other.db, afterUntil), liftDueEmbargoes(other.db, afterUntil)])
  t.equal([...(first ?? []), ...(second ?? [])].length, 1, 'two runs at once lift it once')
  t.equal(await other.db.change.count({ where: { objectId: racing.id, action: 'article.embargo-lifted' } }), 1)
})

t.test('under embargo a published story is not live yet: an edit voids its sign-off and the edit is refused until it is signed off again', async (t) => {
  const app = await buildTestApp(t, { requiredSignoffs: 'copy' })
  const article = await createArticle(app, { headline: 'Embargoed Report on Rates' })
  t.equal((await post(app, `/articles/${article.id as string}/signoffs`, { kind: 'copy' })).statusCode, 201, 'signed off')
  const embargoed = await app.inject({ method: 'PUT', url: `/articles/${article.id as string}/embargo`, payload: { until: new Date(Date.now() + 3_600_000).toISOString() } })
  t.equal(embargoed.statusCode, 200, 'embargoed')
  const published = await app.inject({ method: 'PATCH', url: `/articles/${article.id as string}`, payload: { status: 'published' } })
  t.equal(published.statusCode, 200, 'published under embargo with its sign-off')
  const edited = await app.inject({ method: 'PATCH', url: `/articles/${article.id as string}`, payload: { body: [{ type: 'paragraph', text: 'New figures.' }] } })
  t.equal(edited.statusCode, 409, 'a content edit would go live at the lift without a sign-off: refused')
  t.equal(json(edited).code, 'PUBLICATION_BLOCKED')
})
