// Editing a live story: staff edits go to the article's pending revision while the published version
// stays, unchanged, on every public route; publishing the revision (gated by its own sign-offs and
// preflight) replaces the live version in one step; If-Match, leases and kills apply.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { anonymous, bearer, buildTestApp, createArticle, createAuthor, createImage, json } from './helper.ts'
import { keyFor, publishedStory, walkPublicGets, type Answer } from './public-walk.ts'

const publicly = { headers: anonymous }

async function editPending (app: FastifyInstance, id: string, payload: object, headers: Record<string, string> = {}): Promise<Awaited<ReturnType<FastifyInstance['inject']>>> {
  return await app.inject({ method: 'PATCH', url: `/articles/${id}/pending`, payload, headers })
}

async function publishPending (app: FastifyInstance, id: string, headers: Record<string, string> = {}): Promise<Awaited<ReturnType<FastifyInstance['inject']>>> {
  return await app.inject({ method: 'POST', url: `/articles/${id}/pending/publish`, headers })
}

const showing = (answers: Answer[], text: string): string[] => answers.filter((answer) => answer.text.includes(text)).map((answer) => answer.url)
/** The public change feed keeps the history (the article's creation, with its headline then) and a cursor past every change. */
const isChangeFeed = (url: string): boolean => url.startsWith('/changes')

t.test('a live story edited through its pending revision stays as it was for the public until the revision is published', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const oldHeadline = 'Mayor Opens New Bridge Over River'
  const newHeadline = 'Mayor Opens Bridge Two Weeks Late'
  const subject = await publishedStory(app, oldHeadline)
  const { id, slug } = subject.article
  const live = json(await app.inject(`/articles/${id}`))
  const before = await walkPublicGets(app, subject)
  const publicRoutes = showing(before, oldHeadline)
  t.ok(publicRoutes.length >= 8, `the public sees the story on ${publicRoutes.length} routes: ${publicRoutes.join(', ')}`)

  const started = await editPending(app, id, { headline: newHeadline, body: [{ type: 'paragraph', text: 'Zanzibarian details, and xylophonic delays at the bridge.' }] })
  t.equal(started.statusCode, 201, started.body)
  t.equal(started.headers.etag, '"pending-1"')
  const pending = json(started).pending
  t.equal(pending.content.headline, newHeadline)
  t.equal(pending.content.slug, slug, 'started from the live content')
  t.equal(pending.content.leadImageId, subject.imageIds[0], 'fields not sent are the live ones')
  t.equal(pending.baseVersion, live.version)

  const during = await walkPublicGets(app, subject)
  t.same(showing(during, newHeadline), [], 'no public route shows the pending headline')
  t.same(showing(during, 'Xylophonic'), [], 'nor its body')
  for (const url of publicRoutes) {
    const [then, now] = [before, during].map((answers) => answers.find((answer) => answer.url === url))
    if (isChangeFeed(url)) t.same(JSON.parse(now?.body ?? '{}').items, JSON.parse(then?.body ?? '{}').items, `${url}: no new public change`)
    else t.equal(now?.body, then?.body, `${url}: the same bytes as before the edit`)
  }
  const search = json(await app.inject({ url: '/search?q=xylophonic', ...publicly }))
  t.equal(search.items.length, 0, 'search does not find the pending text')

  const staffLive = json(await app.inject(`/articles/${id}`))
  t.equal(staffLive.headline, oldHeadline, 'staff read the live version at /articles/{id}')
  t.equal(staffLive.version, live.version, 'which a pending edit does not change')
  t.equal(staffLive.updatedAt, live.updatedAt)
  const staffPending = await app.inject(`/articles/${id}/pending`)
  t.equal(json(staffPending).pending.content.headline, newHeadline, 'and the pending one at /articles/{id}/pending')
  t.equal(staffPending.headers.etag, '"pending-1"')

  const published = await publishPending(app, id, { 'if-match': '"pending-1"' })
  t.equal(published.statusCode, 200, published.body)
  t.equal(json(published).headline, newHeadline)
  t.equal(json(published).version, live.version + 1, 'one new version')
  t.equal(json(published).status, 'published')

  const after = await walkPublicGets(app, subject)
  t.same(showing(after, oldHeadline).filter((url) => !isChangeFeed(url)), [], 'the old headline is gone from every public route at once')
  t.same(showing(after, newHeadline).sort(), [...publicRoutes].sort(), 'the new one shows wherever the old one did')
  t.equal(json(await app.inject({ url: '/search?q=xylophonic', ...publicly })).items[0]?.article.id, id, 'search finds the new text')
  t.equal(json(await app.inject(`/articles/${id}/pending`)).pending, null, 'the pending revision is used up')

  const revisions = json(await app.inject(`/articles/${id}/revisions`))
  const list = Array.isArray(revisions) ? revisions : revisions.items
  t.equal(list[0].version, live.version + 1)
  t.equal(list.filter((revision: { version: number }) => revision.version > live.version).length, 1, 'one revision step')
  t.same(list[0].changedFields.sort(), ['body', 'headline'])

  const changes = await app.db.change.findMany({ where: { objectId: id, seq: { gt: 0 } }, orderBy: { seq: 'asc' }, select: { action: true, publicChange: true } })
  const pendingChanges = changes.filter((change) => change.action.startsWith('article.pending-'))
  t.same(pendingChanges, [{ action: 'article.pending-created', publicChange: false }, { action: 'article.pending-published', publicChange: true }],
    'the pending edit moved nothing public; its publication is one public change')
  const audit = json(await app.inject(`/audit?objectType=article&objectId=${id}`))
  t.ok(audit.items.some((item: { action: string }) => item.action === 'article.pending-published'), 'audited')
})

t.test('If-Match, leases, kills and unpublishing apply to the pending revision', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const article = await createArticle(app, { headline: 'Council Approves Budget', status: 'published' })
  const id = article.id as string

  t.equal((await app.inject({ method: 'PUT', url: `/articles/${id}/pending`, payload: { headline: 'Council Approves Budget Again' }, headers: { 'if-match': '"pending-1"' } })).statusCode, 412,
    'If-Match naming a pending revision that does not exist is 412')
  t.equal((await editPending(app, id, { dek: 'First' })).headers.etag, '"pending-1"')
  const second = await editPending(app, id, { dek: 'Second' }, { 'if-match': '"pending-1"' })
  t.equal(second.statusCode, 200, second.body)
  t.equal(second.headers.etag, '"pending-2"')
  const stale = await editPending(app, id, { dek: 'Third' }, { 'if-match': '"pending-1"' })
  t.equal(stale.statusCode, 412)
  t.equal(json(stale).code, 'VERSION_MISMATCH')
  t.equal((await publishPending(app, id, { 'if-match': '"pending-1"' })).statusCode, 412, 'publishing a pending revision you did not read is 412')
  t.equal((await publishPending(app, id, { 'if-match': `"${article.version as number}"` })).statusCode, 412, 'the article\'s own ETag does not name the pending revision')
  const state = json(await app.inject(`/articles/${id}/pending`))
  t.equal(state.pending.version, 2, 'nothing changed')
  t.equal(state.pending.content.dek, 'Second')
  t.equal(json(await app.inject(`/articles/${id}`)).dek, null, 'the live version neither')

  const replaced = await app.inject({ method: 'PUT', url: `/articles/${id}/pending`, payload: { headline: 'Council Approves Budget After Vote' }, headers: { 'if-match': '"pending-2"' } })
  t.equal(replaced.statusCode, 200, replaced.body)
  t.equal(json(replaced).pending.content.dek, null, 'PUT clears what it leaves out')

  const liveEdit = await app.inject({ method: 'PATCH', url: `/articles/${id}`, payload: { dek: 'Corrected on the live page' } })
  t.equal(liveEdit.statusCode, 200, 'a direct edit of the live version meanwhile')
  const outdated = await publishPending(app, id, { 'if-match': '"pending-3"' })
  t.equal(outdated.statusCode, 409, 'publishing would undo the live edit unseen, so it is refused')
  t.equal(json(outdated).code, 'PENDING_REVISION_OUTDATED')
  t.equal(json(await app.inject(`/articles/${id}`)).dek, 'Corrected on the live page', 'the live edit stands')
  t.equal(json(await app.inject(`/articles/${id}/pending`)).pending.version, 3, 'and the pending revision is kept')
  const rewritten = await editPending(app, id, { dek: 'Corrected on the live page' }, { 'if-match': '"pending-3"' })
  t.equal(rewritten.statusCode, 200, 'written again over the current live version')
  t.equal(json(rewritten).pending.baseVersion, json(rewritten).liveVersion)

  const editor = await keyFor(app, 'editor')
  t.equal((await app.inject({ method: 'POST', url: `/articles/${id}/lease`, headers: bearer(editor) })).statusCode, 200)
  const locked = await editPending(app, id, { dek: 'Mine' })
  t.equal(locked.statusCode, 423, 'another key\'s lease holds the pending revision too')
  t.equal(json(locked).code, 'ARTICLE_LOCKED')
  t.equal((await publishPending(app, id)).statusCode, 423)
  t.equal((await app.inject({ method: 'DELETE', url: `/articles/${id}/pending` })).statusCode, 423)
  t.equal((await editPending(app, id, { dek: 'The lease holder\'s' }, bearer(editor))).statusCode, 200, 'the holder edits it')
  await app.inject({ method: 'DELETE', url: `/articles/${id}/lease`, headers: bearer(editor) })

  const killed = await app.inject({ method: 'POST', url: `/articles/${id}/kill`, payload: { reason: 'Legal: figures under embargo' } })
  t.equal(killed.statusCode, 200, killed.body)
  t.equal(json(await app.inject(`/articles/${id}/pending`)).pending, null, 'a kill discards the pending revision')
  const afterKill = await editPending(app, id, { dek: 'Back' })
  t.equal(afterKill.statusCode, 409)
  t.equal(json(afterKill).code, 'ARTICLE_KILLED')

  const other = await createArticle(app, { headline: 'Schools Reopen After Storm', status: 'published' })
  await editPending(app, other.id, { dek: 'All but two' })
  t.equal((await app.inject({ method: 'PATCH', url: `/articles/${other.id as string}`, payload: { status: 'draft' } })).statusCode, 200, 'unpublished')
  t.equal(json(await app.inject(`/articles/${other.id as string}/pending`)).pending.content.dek, 'All but two', 'unpublishing keeps the pending revision')
  const notLive = await publishPending(app, other.id)
  t.equal(notLive.statusCode, 409, 'which cannot replace a live version that is gone')
  t.equal(json(notLive).code, 'INVALID_TRANSITION')
  t.equal((await editPending(app, other.id, { dek: 'More' })).statusCode, 409, 'nor be edited: the draft is edited directly')
  t.equal((await app.inject({ method: 'DELETE', url: `/articles/${other.id as string}/pending` })).statusCode, 204, 'but it can be discarded')
  t.equal(json(await app.inject(`/articles/${other.id as string}/pending`)).pending, null)
  t.equal((await app.inject({ method: 'DELETE', url: `/articles/${other.id as string}/pending` })).statusCode, 204, 'discarding nothing is fine')
  const draft = await createArticle(app, { headline: 'Draft Story Of The Week' })
  t.equal((await editPending(app, draft.id, { dek: 'x' })).statusCode, 409, 'a draft has no pending revision: it is edited directly')
  t.equal((await publishPending(app, draft.id)).statusCode, 404, 'publishing none is 404')
  t.equal(json(await publishPending(app, draft.id)).code, 'PENDING_REVISION_NOT_FOUND')
  t.equal((await app.inject('/articles/019ab8a4-0000-7000-8000-000000000000/pending')).statusCode, 404, 'a missing article is 404')
})

t.test('publishing needs the pending revision\'s own sign-offs; bad input is refused naming the field, changing nothing', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false, requiredSignoffs: 'copy,legal', signoffKinds: 'copy:writer,legal:editor' })
  const author = await createAuthor(app, { name: 'Wren Writer' })
  const writer = await keyFor(app, 'writer', author.id)
  const lawyer = await keyFor(app, 'editor')
  const article = await createArticle(app, { headline: 'Minister Accused Of Fraud', bylines: [{ authorId: author.id }] })
  const id = article.id as string
  const signOff = async (kind: string, key: string, headers: Record<string, string> = {}) =>
    await app.inject({ method: 'POST', url: `/articles/${id}/pending/signoffs`, headers: { ...bearer(key), ...headers }, payload: { kind } })
  for (const [kind, key] of [['copy', writer], ['legal', lawyer]] as const) await app.inject({ method: 'POST', url: `/articles/${id}/signoffs`, headers: bearer(key), payload: { kind } })
  t.equal((await app.inject({ method: 'PATCH', url: `/articles/${id}`, payload: { status: 'published' } })).statusCode, 200, 'published with its sign-offs')
  const live = json(await app.inject(`/articles/${id}`))

  t.equal((await signOff('copy', writer)).statusCode, 404, 'no pending revision to sign off yet')
  const started = await editPending(app, id, { dek: 'The minister denies it' })
  t.same(json(started).pending.missingSignoffs, ['copy', 'legal'], 'the live version\'s sign-offs do not cover the pending one')
  const blocked = await publishPending(app, id)
  t.equal(blocked.statusCode, 409)
  t.equal(json(blocked).code, 'PUBLICATION_BLOCKED')
  t.same(json(blocked).blockers.map((blocker: { check: string, name: string }) => `${blocker.check}:${blocker.name}`), ['signoff:copy', 'signoff:legal'])
  t.equal(json(await app.inject(`/articles/${id}`)).version, live.version, 'the live version stayed')
  t.not(json(await app.inject(`/articles/${id}/pending`)).pending, null, 'and so did the pending revision')

  const writerLegal = await signOff('legal', writer)
  t.equal(writerLegal.statusCode, 403)
  t.equal(json(writerLegal).code, 'SIGNOFF_NOT_ALLOWED')
  const unknown = await signOff('astrology', lawyer)
  t.equal(unknown.statusCode, 400)
  t.equal(json(unknown).errors[0].pointer, '/kind')
  t.equal((await signOff('copy', writer)).statusCode, 201)
  t.equal((await signOff('copy', writer)).statusCode, 200, 'signing again changes nothing')
  t.equal((await editPending(app, id, { dek: 'The minister denies everything' })).statusCode, 200)
  const cleared = json(await app.inject(`/articles/${id}/pending`))
  t.same(cleared.pending.missingSignoffs, ['copy', 'legal'], 'an edit of the pending revision clears its sign-offs')
  t.equal((await signOff('copy', writer, { 'if-match': '"pending-1"' })).statusCode, 412, 'a sign-off of a version you did not read is 412')
  t.equal((await signOff('copy', writer, { 'if-match': '"pending-2"' })).statusCode, 201)
  t.equal((await signOff('legal', lawyer)).statusCode, 201)

  const asWriter = await editPending(app, id, { dek: 'By the writer' }, bearer(writer))
  t.equal(asWriter.statusCode, 403, 'a writer does not edit a live story')
  t.equal((await app.inject({ url: `/articles/${id}/pending`, headers: bearer(writer) })).statusCode, 200, 'but reads its pending revision')
  const badImage = await editPending(app, id, { leadImageId: '019ab8a4-0000-7000-8000-000000000001' })
  t.equal(badImage.statusCode, 400)
  t.equal(json(badImage).code, 'INVALID_REFERENCE')
  t.equal(json(badImage).errors[0].pointer, '/leadImageId')
  const emptyHeadline = await editPending(app, id, { headline: '' })
  t.equal(emptyHeadline.statusCode, 400)
  t.match(JSON.stringify(json(emptyHeadline).errors), /\/headline/)
  const unknownField = await editPending(app, id, { status: 'draft' })
  t.equal(unknownField.statusCode, 400, 'the status is not the pending revision\'s to change')
  const other = await createArticle(app, { headline: 'Another Story Entirely' })
  const takenSlug = await editPending(app, id, { slug: other.slug })
  t.equal(takenSlug.statusCode, 409)
  t.equal(json(takenSlug).errors[0].pointer, '/slug')
  const unchanged = json(await app.inject(`/articles/${id}/pending`)).pending
  t.equal(unchanged.version, 2, 'refused input changed nothing')
  t.same(unchanged.missingSignoffs, [], 'not even the sign-offs')

  const published = await publishPending(app, id, { 'if-match': '"pending-2"' })
  t.equal(published.statusCode, 200, published.body)
  t.equal(json(published).dek, 'The minister denies everything')
  const signoffs = json(await app.inject(`/articles/${id}/signoffs`))
  t.same(signoffs.missing, [], 'the pending revision\'s sign-offs are the new live version\'s')
})

t.test('a new slug in the pending revision takes effect on publication, the old one redirecting', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const article = await createArticle(app, { headline: 'Storm Closes Coastal Highway', status: 'published' })
  const reserved = await editPending(app, article.id, { slug: 'articles' })
  t.equal(reserved.statusCode, 400, 'a reserved slug is refused at once')
  t.equal((await editPending(app, article.id, { slug: 'storm-closes-highway' })).statusCode, 201)
  t.equal((await app.inject({ url: `/articles/slug/${article.slug as string}`, ...publicly })).statusCode, 200, 'the live slug answers meanwhile')
  t.equal((await app.inject({ url: '/articles/slug/storm-closes-highway', ...publicly })).statusCode, 404, 'the pending one does not')
  t.equal((await publishPending(app, article.id)).statusCode, 200)
  const old = await app.inject({ url: `/articles/slug/${article.slug as string}`, ...publicly })
  t.equal(old.statusCode, 308, 'the old slug redirects')
  t.match(old.headers.location, /storm-closes-highway/)
  t.equal(json(await app.inject({ url: '/articles/slug/storm-closes-highway', ...publicly })).id, article.id)
})

t.test('two editors starting a pending revision at the same moment: one is written, the other told', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const article = await createArticle(app, { headline: 'Storm Closes Harbour', status: 'published' })
  const answers = await Promise.all(['Ferries stop', 'Boats stay in port'].map(async (dek) => await editPending(app, article.id, { dek })))
  const statuses = answers.map((answer) => answer.statusCode)
  const other = statuses.filter((status) => status !== 201)
  t.ok(other.length === 1 && (other[0] === 200 || other[0] === 409), `one created, the other edited it or was refused: ${statuses.join(', ')}`)
  for (const answer of answers.filter((answer) => answer.statusCode === 409)) t.equal(json(answer).code, 'CONFLICT', answer.body)
  const state = json(await app.inject(`/articles/${article.id as string}/pending`))
  t.ok(answers.some((answer) => answer.statusCode < 300 && json(answer).pending.content.dek === state.pending.content.dek), 'what is stored is what an acknowledged write said')
})

t.test('the pending revision shows the preflight of its own content, the findings publishing it would meet', async (t) => {
  const site = 'https://news.example.com'
  const app = await buildTestApp(t, { backgroundJobs: false, siteUrl: site })
  const noAlt = await createImage(app, { altText: '', credit: 'Photo by Ana Lens' })
  const draft = await createArticle(app, { headline: 'Draft Next Door' })
  const article = await createArticle(app, { headline: 'Bridge Reopens After Repairs', status: 'published' })
  const id = article.id as string
  const live = json(await app.inject(`/articles/${id}/preflight`))
  t.equal(live.publishable, true, 'the live version passes')

  const started = json(await editPending(app, id, { leadImageId: noAlt.id, body: [{ type: 'paragraph', text: `See <a href="${site}/articles/${draft.slug as string}">the plan</a>.` }] }))
  t.same(started.pending.preflight.errors.map((finding: { rule: string, pointer: string }) => `${finding.rule} ${finding.pointer}`).sort(), ['alt-text /leadImage', 'unpublished-links /body/0'], 'the pending content is checked, not the live one')
  t.equal(started.pending.preflight.publishable, false)
  t.equal(json(await app.inject(`/articles/${id}/preflight`)).publishable, true, 'the live version\'s own preflight is unchanged')
  const blocked = await publishPending(app, id)
  t.equal(blocked.statusCode, 409)
  t.same(json(blocked).blockers.map((blocker: { check: string, name: string }) => `${blocker.check}:${blocker.name}`).sort(), ['preflight:alt-text', 'preflight:unpublished-links'], 'publishing meets the same findings')

  const fixed = json(await editPending(app, id, { leadImageId: null, body: [{ type: 'paragraph', text: 'The plan is public now.' }] }))
  t.same(fixed.pending.preflight.errors, [])
  t.equal(fixed.pending.preflight.publishable, true, 'clean once fixed')
  await app.inject({ method: 'PATCH', url: `/articles/${id}`, payload: { dek: 'A live fix meanwhile' } })
  t.equal(json(await app.inject(`/articles/${id}/pending`)).pending.preflight.publishable, false, 'and not publishable once the live version moved on')
})

t.test('with REQUIRE_IF_MATCH, edits of an existing pending revision must name it; starting one needs nothing', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false, requireIfMatch: true })
  const article = await createArticle(app, { headline: 'Strict Desk Story', status: 'published' })
  const id = article.id as string
  const started = await editPending(app, id, { dek: 'First take' })
  t.equal(started.statusCode, 201, 'starting a pending revision has no ETag to send')
  for (const [what, answer] of [
    ['an edit', await editPending(app, id, { dek: 'Second take' })],
    ['publishing', await publishPending(app, id)],
    ['discarding', await app.inject({ method: 'DELETE', url: `/articles/${id}/pending` })]
  ] as const) {
    t.equal(answer.statusCode, 428, `${what} without If-Match is 428`)
    t.equal(json(answer).code, 'PRECONDITION_REQUIRED')
  }
  t.equal(json(await app.inject(`/articles/${id}/pending`)).pending.content.dek, 'First take', 'nothing changed')
  t.equal((await publishPending(app, id, { 'if-match': '"pending-1"' })).statusCode, 200, 'with it, publishing goes through')
})
