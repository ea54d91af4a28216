// The change spine: every write operation the OpenAPI document lists records exactly one change in
// the change log (with its audit row), and only changes the public can see move the content
// generation that instances' caches follow.
import t from 'tap'
import sharp from 'sharp'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { anonymous, buildTestApp, createArticle, createAuthor, createImage, json, post } from './helper.ts'

/** `changes`: 1 unless the operation changes two objects, each in its own change (breaking out a live entry makes an article). */
type Scenario = (app: FastifyInstance) => Promise<InjectOptions & { expect: { action: string, publicChange: boolean, changes?: number } }>

const png = async (colour: string): Promise<Buffer> => await sharp({ create: { width: 64, height: 48, channels: 3, background: colour } }).png().toBuffer()
const published = async (app: FastifyInstance): Promise<any> => await createArticle(app, { headline: `Published ${Math.random()}`, status: 'published' }) // eslint-disable-line @typescript-eslint/no-explicit-any
const draft = async (app: FastifyInstance): Promise<any> => await createArticle(app, { headline: `Draft ${Math.random()}` }) // eslint-disable-line @typescript-eslint/no-explicit-any
const term = async (app: FastifyInstance, kind: string): Promise<any> => json(await post(app, `/${kind}`, { name: `Term ${Math.random()}` })) // eslint-disable-line @typescript-eslint/no-explicit-any
const role = async (app: FastifyInstance): Promise<any> => json(await post(app, '/masthead/roles', { title: 'Managing Editor' })) // eslint-disable-line @typescript-eslint/no-explicit-any
const webhook = async (app: FastifyInstance): Promise<any> => json(await post(app, '/webhooks', { url: 'https://hooks.example.com/copydesk', events: ['*'] })) // eslint-disable-line @typescript-eslint/no-explicit-any
const liveCoverage = async (app: FastifyInstance): Promise<any> => json(await post(app, '/live-coverages', { articleId: (await published(app)).id, status: 'live' })) // eslint-disable-line @typescript-eslint/no-explicit-any
const liveEntry = async (app: FastifyInstance): Promise<{ coverage: string, entry: string }> => {
  const coverage = (await liveCoverage(app)).id as string
  return { coverage, entry: json(await post(app, `/live-coverages/${coverage}/entries`, { headline: 'Polls close', body: [{ type: 'paragraph', text: 'Polls have closed.' }] })).id }
}
const key = async (app: FastifyInstance): Promise<any> => json(await post(app, '/keys', { name: 'a key', role: 'editor' })) // eslint-disable-line @typescript-eslint/no-explicit-any

/** One successful call of each write operation, after whatever it needs exists. */
const scenarios: Record<string, Scenario> = {
  createArticle: async () => ({ method: 'POST', url: '/articles', payload: { headline: 'New' }, expect: { action: 'article.created', publicChange: false } }),
  replaceArticle: async (app) => ({ method: 'PUT', url: `/articles/${(await published(app)).id}`, payload: { headline: 'Replaced', status: 'published' }, expect: { action: 'article.updated', publicChange: true } }),
  updateArticle: async (app) => ({ method: 'PATCH', url: `/articles/${(await draft(app)).id}`, payload: { status: 'published' }, expect: { action: 'article.published', publicChange: true } }),
  deleteArticle: async (app) => ({ method: 'DELETE', url: `/articles/${(await draft(app)).id}`, expect: { action: 'article.deleted', publicChange: false } }),
  addArticleCorrection: async (app) => ({ method: 'POST', url: `/articles/${(await published(app)).id}/corrections`, payload: { text: 'A fix.' }, expect: { action: 'article.updated', publicChange: true } }),
  restoreArticleRevision: async (app) => {
    const article = await draft(app)
    await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, payload: { headline: 'Second' } })
    return { method: 'POST', url: `/articles/${article.id}/revisions/1/restore`, expect: { action: 'article.updated', publicChange: false } }
  },
  killArticle: async (app) => ({ method: 'POST', url: `/articles/${(await published(app)).id}/kill`, payload: { reason: 'Legal' }, expect: { action: 'article.killed', publicChange: true } }),
  unkillArticle: async (app) => {
    const article = await published(app)
    await app.inject({ method: 'POST', url: `/articles/${article.id}/kill`, payload: { reason: 'Legal' } })
    return { method: 'POST', url: `/articles/${article.id}/unkill`, payload: { reason: 'Cleared' }, expect: { action: 'article.unkilled', publicChange: false } }
  },
  setArticleEmbargo: async (app) => ({ method: 'PUT', url: `/articles/${(await published(app)).id}/embargo`, payload: { until: new Date(Date.now() + 3_600_000).toISOString() }, expect: { action: 'article.embargoed', publicChange: true } }),
  breakArticleEmbargo: async (app) => {
    const article = await published(app)
    await app.inject({ method: 'PUT', url: `/articles/${article.id}/embargo`, payload: { until: new Date(Date.now() + 3_600_000).toISOString() } })
    return { method: 'POST', url: `/articles/${article.id}/embargo/break`, payload: { reason: 'Lifted by the source' }, expect: { action: 'article.embargo-broken', publicChange: true } }
  },
  replaceArticlePendingRevision: async (app) => ({ method: 'PUT', url: `/articles/${(await published(app)).id}/pending`, payload: { headline: 'Pending' }, expect: { action: 'article.pending-created', publicChange: false } }),
  updateArticlePendingRevision: async (app) => {
    const article = await published(app)
    await app.inject({ method: 'PATCH', url: `/articles/${article.id}/pending`, payload: { dek: 'First' } })
    return { method: 'PATCH', url: `/articles/${article.id}/pending`, payload: { dek: 'Second' }, expect: { action: 'article.pending-updated', publicChange: false } }
  },
  discardArticlePendingRevision: async (app) => {
    const article = await published(app)
    await app.inject({ method: 'PATCH', url: `/articles/${article.id}/pending`, payload: { dek: 'Pending' } })
    return { method: 'DELETE', url: `/articles/${article.id}/pending`, expect: { action: 'article.pending-discarded', publicChange: false } }
  },
  signOffArticlePendingRevision: async (app) => {
    const article = await published(app)
    await app.inject({ method: 'PATCH', url: `/articles/${article.id}/pending`, payload: { dek: 'Pending' } })
    return { method: 'POST', url: `/articles/${article.id}/pending/signoffs`, payload: { kind: 'copy' }, expect: { action: 'article.pending-signed-off', publicChange: false } }
  },
  publishArticlePendingRevision: async (app) => {
    const article = await published(app)
    await app.inject({ method: 'PATCH', url: `/articles/${article.id}/pending`, payload: { dek: 'Pending' } })
    return { method: 'POST', url: `/articles/${article.id}/pending/publish`, expect: { action: 'article.pending-published', publicChange: true } }
  },
  takeArticleLease: async (app) => ({ method: 'POST', url: `/articles/${(await draft(app)).id}/lease`, expect: { action: 'article.lease-taken', publicChange: false } }),
  releaseArticleLease: async (app) => {
    const article = await draft(app)
    await app.inject({ method: 'POST', url: `/articles/${article.id}/lease` })
    return { method: 'DELETE', url: `/articles/${article.id}/lease`, expect: { action: 'article.lease-released', publicChange: false } }
  },
  signOffArticle: async (app) => ({ method: 'POST', url: `/articles/${(await draft(app)).id}/signoffs`, payload: { kind: 'copy' }, expect: { action: 'article.signed-off', publicChange: false } }),
  createArticlePreviewLink: async (app) => ({ method: 'POST', url: `/articles/${(await published(app)).id}/preview-link`, expect: { action: 'article.preview-linked', publicChange: false } }),
  createAuthor: async () => ({ method: 'POST', url: '/authors', payload: { name: 'Dana Brooks' }, expect: { action: 'author.created', publicChange: true } }),
  replaceAuthor: async (app) => ({ method: 'PUT', url: `/authors/${(await createAuthor(app)).id}`, payload: { name: 'Dana Brooks' }, expect: { action: 'author.updated', publicChange: true } }),
  updateAuthor: async (app) => ({ method: 'PATCH', url: `/authors/${(await createAuthor(app)).id}`, payload: { jobTitle: 'Editor' }, expect: { action: 'author.updated', publicChange: true } }),
  deleteAuthor: async (app) => ({ method: 'DELETE', url: `/authors/${(await createAuthor(app)).id}`, expect: { action: 'author.deleted', publicChange: true } }),
  createImage: async () => ({ method: 'POST', url: '/images', payload: { url: 'https://images.example.com/a.jpg', mimeType: 'image/jpeg', altText: 'A photo' }, expect: { action: 'image.created', publicChange: false } }),
  replaceImage: async (app) => ({ method: 'PUT', url: `/images/${(await createImage(app)).id}`, payload: { url: 'https://images.example.com/b.jpg', mimeType: 'image/jpeg', altText: 'Another' }, expect: { action: 'image.updated', publicChange: false } }),
  updateImage: async (app) => ({ method: 'PATCH', url: `/images/${(await createImage(app)).id}`, payload: { caption: 'A caption' }, expect: { action: 'image.updated', publicChange: false } }),
  deleteImage: async (app) => ({ method: 'DELETE', url: `/images/${(await createImage(app)).id}`, expect: { action: 'image.deleted', publicChange: false } }),
  uploadImage: async () => ({ method: 'POST', url: '/images/upload?altText=Upload', headers: { 'content-type': 'image/png' }, payload: await png('#123456'), expect: { action: 'image.created', publicChange: false } }),
  replaceImageFile: async (app) => {
    const uploaded = json(await app.inject({ method: 'POST', url: '/images/upload?altText=Upload', headers: { 'content-type': 'image/png' }, payload: await png('#654321') }))
    return { method: 'PUT', url: `/images/${uploaded.id as string}/file`, headers: { 'content-type': 'image/png' }, payload: await png('#abcdef'), expect: { action: 'image.updated', publicChange: false } }
  },
  createMastheadRole: async () => ({ method: 'POST', url: '/masthead/roles', payload: { title: 'General Counsel' }, expect: { action: 'masthead-role.created', publicChange: true } }),
  replaceMastheadRole: async (app) => ({ method: 'PUT', url: `/masthead/roles/${(await role(app)).id}`, payload: { title: 'Senior Designer' }, expect: { action: 'masthead-role.updated', publicChange: true } }),
  updateMastheadRole: async (app) => ({ method: 'PATCH', url: `/masthead/roles/${(await role(app)).id}`, payload: { department: 'Design' }, expect: { action: 'masthead-role.updated', publicChange: true } }),
  deleteMastheadRole: async (app) => ({ method: 'DELETE', url: `/masthead/roles/${(await role(app)).id}`, expect: { action: 'masthead-role.deleted', publicChange: true } }),
  createSection: async () => ({ method: 'POST', url: '/sections', payload: { name: 'Politics' }, expect: { action: 'section.created', publicChange: true } }),
  replaceSection: async (app) => ({ method: 'PUT', url: `/sections/${(await term(app, 'sections')).id}`, payload: { name: 'World' }, expect: { action: 'section.updated', publicChange: true } }),
  updateSection: async (app) => ({ method: 'PATCH', url: `/sections/${(await term(app, 'sections')).id}`, payload: { name: 'Europe' }, expect: { action: 'section.updated', publicChange: true } }),
  deleteSection: async (app) => ({ method: 'DELETE', url: `/sections/${(await term(app, 'sections')).id}`, expect: { action: 'section.deleted', publicChange: true } }),
  createTag: async () => ({ method: 'POST', url: '/tags', payload: { name: 'Conscription' }, expect: { action: 'tag.created', publicChange: true } }),
  replaceTag: async (app) => ({ method: 'PUT', url: `/tags/${(await term(app, 'tags')).id}`, payload: { name: 'Kremlin' }, expect: { action: 'tag.updated', publicChange: true } }),
  updateTag: async (app) => ({ method: 'PATCH', url: `/tags/${(await term(app, 'tags')).id}`, payload: { name: 'Vladimir Putin' }, expect: { action: 'tag.updated', publicChange: true } }),
  deleteTag: async (app) => ({ method: 'DELETE', url: `/tags/${(await term(app, 'tags')).id}`, expect: { action: 'tag.deleted', publicChange: true } }),
  createWebhook: async () => ({ method: 'POST', url: '/webhooks', payload: { url: 'https://hooks.example.com/a', events: ['article.published'] }, expect: { action: 'webhook.created', publicChange: false } }),
  updateWebhook: async (app) => ({ method: 'PATCH', url: `/webhooks/${(await webhook(app)).id}`, payload: { active: false }, expect: { action: 'webhook.updated', publicChange: false } }),
  deleteWebhook: async (app) => ({ method: 'DELETE', url: `/webhooks/${(await webhook(app)).id}`, expect: { action: 'webhook.deleted', publicChange: false } }),
  replayWebhookDelivery: async (app) => {
    const hook = await webhook(app)
    await createAuthor(app)
    // Background jobs are off here: the delivery is marked as given up, as a sender would leave it.
    const delivery = await app.db.webhookDelivery.findFirstOrThrow({ where: { webhookId: hook.id } })
    await app.db.webhookDelivery.update({ where: { id: delivery.id }, data: { status: 'failed', attempts: 10 } })
    return { method: 'POST', url: `/webhooks/${hook.id as string}/deliveries/${delivery.id}/replay`, expect: { action: 'webhook.delivery-replayed', publicChange: false } }
  },
  createLiveCoverage: async (app) => ({ method: 'POST', url: '/live-coverages', payload: { articleId: (await draft(app)).id }, expect: { action: 'live-coverage.created', publicChange: false } }),
  updateLiveCoverage: async (app) => ({ method: 'PATCH', url: `/live-coverages/${(await liveCoverage(app)).id as string}`, payload: { status: 'ended' }, expect: { action: 'live-coverage.ended', publicChange: true } }),
  postLiveEntry: async (app) => ({ method: 'POST', url: `/live-coverages/${(await liveCoverage(app)).id as string}/entries`, payload: { body: [{ type: 'paragraph', text: 'Polls are open.' }] }, expect: { action: 'live-entry.posted', publicChange: true } }),
  updateLiveEntry: async (app) => {
    const { coverage, entry } = await liveEntry(app)
    return { method: 'PATCH', url: `/live-coverages/${coverage}/entries/${entry}`, payload: { pinned: true }, expect: { action: 'live-entry.updated', publicChange: true } }
  },
  correctLiveEntry: async (app) => {
    const { coverage, entry } = await liveEntry(app)
    return { method: 'POST', url: `/live-coverages/${coverage}/entries/${entry}/correction`, payload: { note: 'A fix.' }, expect: { action: 'live-entry.corrected', publicChange: true } }
  },
  breakOutLiveEntry: async (app) => {
    const { coverage, entry } = await liveEntry(app)
    return { method: 'POST', url: `/live-coverages/${coverage}/entries/${entry}/break-out`, payload: {}, expect: { action: 'live-entry.broken-out', publicChange: true, changes: 2 } }
  },
  deleteLiveEntry: async (app) => {
    const { coverage, entry } = await liveEntry(app)
    return { method: 'DELETE', url: `/live-coverages/${coverage}/entries/${entry}`, expect: { action: 'live-entry.deleted', publicChange: true } }
  },
  createKey: async () => ({ method: 'POST', url: '/keys', payload: { name: 'ops', role: 'admin' }, expect: { action: 'key.created', publicChange: false } }),
  revokeKey: async (app) => ({ method: 'DELETE', url: `/keys/${(await key(app)).id}`, expect: { action: 'key.revoked', publicChange: false } })
}

t.test('every write operation in the OpenAPI document records exactly one change, with its audit row', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const document = json(await app.inject({ method: 'GET', url: '/openapi.json', headers: anonymous }))
  const writes: string[] = []
  for (const item of Object.values<Record<string, { operationId: string }>>(document.paths)) {
    for (const [method, operation] of Object.entries(item)) if (['post', 'put', 'patch', 'delete'].includes(method)) writes.push(operation.operationId)
  }
  t.same(writes.filter((id) => scenarios[id] === undefined), [], 'every write operation has a scenario here (a new one must say what change it records)')
  for (const operationId of writes) {
    const scenario = scenarios[operationId]
    if (scenario === undefined) continue
    const { expect, ...request } = await scenario(app)
    const changesBefore = await app.db.change.count()
    const auditBefore = await app.db.auditEntry.count()
    const generationBefore = (await app.db.contentGeneration.findUniqueOrThrow({ where: { id: 1 } })).value
    const response = await app.inject(request)
    t.ok(response.statusCode >= 200 && response.statusCode < 300, `${operationId} succeeds (${response.statusCode} ${response.body.slice(0, 200)})`)
    const changes = expect.changes ?? 1
    t.equal(await app.db.change.count(), changesBefore + changes, `${operationId} records exactly ${changes} change(s)`)
    t.equal(await app.db.auditEntry.count(), auditBefore + changes, `${operationId} writes exactly ${changes} audit row(s)`)
    const change = await app.db.change.findFirstOrThrow({ orderBy: { seq: 'desc' } })
    t.match(change, { action: expect.action, publicChange: expect.publicChange }, `${operationId}: ${expect.action}, ${expect.publicChange ? 'public' : 'not public'}`)
    const generation = (await app.db.contentGeneration.findUniqueOrThrow({ where: { id: 1 } })).value
    t.equal(generation, expect.publicChange ? change.seq : generationBefore, `${operationId} ${expect.publicChange ? 'moves' : 'does not move'} the content generation`)
  }
})

t.test('the change log is in order, names what changed and who did it, and keeps deletions as tombstones', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const article = await createArticle(app, { headline: 'Tombstone', slug: 'tombstone', status: 'published' })
  await app.inject({ method: 'DELETE', url: `/articles/${article.id}` })
  const changes = await app.db.change.findMany({ where: { objectId: article.id }, orderBy: { seq: 'asc' } })
  t.same(changes.map((change) => change.action), ['article.created', 'article.deleted'])
  t.ok(changes[0]!.seq < changes[1]!.seq, 'sequence numbers rise')
  t.match(changes[0], { objectType: 'article', version: 1, keyName: 'bootstrap (COPYDESK_BOOTSTRAP_KEY)', publicChange: true })
  t.same(JSON.parse(changes[1]!.data), { id: article.id, slug: 'tombstone' }, 'a deletion keeps the id and slug')
  t.ok(changes[1]!.purgeKeys.split(' ').includes(`article-${article.id}`), 'and names what to purge')
})

t.test('writes the public cannot see leave every cached response in place; content changes drop only what shows them', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const author = await createAuthor(app, { name: 'Alex Rowan' })
  // Two stories by the same author with the same photo: an edit of one must not drop the other.
  const photo = await createImage(app, { credit: 'Photo by A / AFP via Getty Images' })
  const first = await createArticle(app, { headline: 'First story', status: 'published', bylines: [{ authorId: author.id }], leadImageId: photo.id })
  const second = await createArticle(app, { headline: 'Second story', status: 'published', bylines: [{ authorId: author.id }], leadImageId: photo.id })
  // Warm the cache, then count the reads that reach the read model (a spy on the real reader).
  let storedReads = 0
  const reads = app.publicReads
  const { articleById } = reads
  reads.articleById = async (id) => { storedReads++; return await articleById(id) }
  const get = async (id: string): Promise<void> => { t.equal((await app.inject({ method: 'GET', url: `/articles/${id}`, headers: anonymous })).statusCode, 200) }
  await get(first.id)
  await get(second.id)
  t.equal(storedReads, 2, 'two first reads')
  await get(first.id)
  await get(second.id)
  t.equal(storedReads, 2, 'served again from memory')

  await post(app, '/keys', { name: 'another key', role: 'writer', authorId: author.id })
  await post(app, '/webhooks', { url: 'https://hooks.example.com/b', events: ['*'] })
  await app.inject({ method: 'POST', url: `/articles/${first.id}/preview-link` })
  await createArticle(app, { headline: 'A draft nobody sees' })
  await get(first.id)
  await get(second.id)
  t.equal(storedReads, 2, 'keys, webhooks, preview links and drafts dropped nothing')

  await app.inject({ method: 'PATCH', url: `/articles/${second.id}`, payload: { headline: 'Second story, updated' } })
  await get(first.id)
  await get(second.id)
  t.equal(storedReads, 3, 'an edit drops that article only, not the other story by its author with its photo')

  await app.inject({ method: 'PATCH', url: `/authors/${author.id}`, payload: { name: 'Alex J. Rowan' } })
  const renamed = json(await app.inject({ method: 'GET', url: `/articles/${first.id}`, headers: anonymous }))
  t.equal(renamed.bylines[0].author.name, 'Alex J. Rowan', 'renaming an author refreshes the articles that credit them')
  t.equal(storedReads, 4, 'and drops those')
})
