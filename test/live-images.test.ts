// Images shown in live entries: public while the coverage's article is, never before; an image an
// entry still shows cannot be deleted; the entry's edits, corrections and deletion move its links.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { anonymous, buildTestApp, createArticle, createImage, json, post } from './helper.ts'

const publicly = { headers: anonymous }

async function ok (response: { statusCode: number, body: string }, status = 200): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  if (response.statusCode !== status) throw new Error(`${response.statusCode} ${response.body}`)
  return response.body === '' ? null : JSON.parse(response.body)
}

async function liveArticle (app: FastifyInstance, status: string): Promise<{ article: any, coverage: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const article = await createArticle(app, { headline: `Verdict day ${Math.random().toString(36).slice(2, 8)}`, status })
  const coverage = await ok(await post(app, '/live-coverages', { articleId: article.id, status: 'live' }), 201)
  return { article, coverage }
}

const withImage = (imageId: string) => [{ type: 'paragraph', text: 'The court has risen.' }, { type: 'image', imageId, caption: 'Outside the court.' }]

/** What a keyless reader gets for the image: its record, its file (an address-registered image has none) and the image list. */
async function publicView (app: FastifyInstance, imageId: string): Promise<{ record: number, file: string, listed: boolean }> {
  const record = (await app.inject({ url: `/images/${imageId}`, ...publicly })).statusCode
  const file = json(await app.inject({ url: `/images/${imageId}/file`, ...publicly })).code
  const list = await ok(await app.inject({ url: '/images?limit=100', ...publicly }))
  return { record, file, listed: list.items.some((image: { id: string }) => image.id === imageId) }
}

const seen = { record: 200, file: 'NOT_AN_UPLOAD', listed: true }
const unseen = { record: 404, file: 'IMAGE_NOT_FOUND', listed: false }

async function purgeKeysOf (app: FastifyInstance, objectId: string, action: string): Promise<string[]> {
  const change = await app.db.change.findFirst({ where: { objectId, action }, orderBy: { seq: 'desc' } })
  return change?.purgeKeys.split(' ') ?? []
}

t.test('an image shown only in an entry of a published coverage is public; deleting it is refused while shown', async (t) => {
  const app = await buildTestApp(t)
  const { coverage } = await liveArticle(app, 'published')
  const photo = await createImage(app, { caption: 'Crowds outside the court' })
  t.same(await publicView(app, photo.id), unseen, 'unused, the image is not public')

  const entry = await ok(await post(app, `/live-coverages/${coverage.id}/entries`, { headline: 'Verdict read', body: withImage(photo.id) }), 201)
  t.same(await publicView(app, photo.id), seen, 'shown in an entry of a published coverage, it is readable keyless')
  t.ok((await purgeKeysOf(app, entry.id, 'live-entry.posted')).includes(`image-${photo.id as string}`), 'posting the entry purges the image\'s cached answers')

  const refused = await app.inject({ method: 'DELETE', url: `/images/${photo.id as string}` })
  t.equal(refused.statusCode, 409)
  t.equal(json(refused).code, 'IN_USE')
  t.match(json(refused).detail, entry.id, 'the refusal names the entry')
  t.match(json(refused).detail, coverage.id, 'and its coverage')
  t.equal((await app.inject({ url: `/images/${photo.id as string}`, ...publicly })).statusCode, 200, 'nothing changed: the image is still there')

  const edited = await ok(await app.inject({ method: 'PATCH', url: `/live-coverages/${coverage.id as string}/entries/${entry.id as string}`, payload: { body: [{ type: 'paragraph', text: 'No photo.' }] } }))
  t.same(edited.body, [{ type: 'paragraph', text: 'No photo.' }])
  t.same(await publicView(app, photo.id), unseen, 'an edit that takes the image out takes it out of public view')
  await ok(await post(app, `/live-coverages/${coverage.id as string}/entries/${entry.id as string}/correction`, { note: 'The photo was restored.', body: withImage(photo.id) }))
  t.same(await publicView(app, photo.id), seen, 'a correction that shows it again makes it public again')
  t.equal((await app.inject({ method: 'DELETE', url: `/images/${photo.id as string}` })).statusCode, 409)

  await ok(await app.inject({ method: 'DELETE', url: `/live-coverages/${coverage.id as string}/entries/${entry.id as string}` }), 204)
  t.same(await publicView(app, photo.id), unseen, 'a deleted entry (a tombstone) shows no image')
  t.ok((await purgeKeysOf(app, entry.id, 'live-entry.deleted')).includes(`image-${photo.id as string}`), 'deleting the entry purges the image\'s cached answers')
  await ok(await app.inject({ method: 'DELETE', url: `/images/${photo.id as string}` }), 204)
  t.equal((await app.inject({ url: `/images/${photo.id as string}` })).statusCode, 404, 'then the image can be deleted')
})

t.test('an image shown only in an entry of a draft coverage stays unseen until the article is published', async (t) => {
  const app = await buildTestApp(t)
  const { article, coverage } = await liveArticle(app, 'draft')
  const photo = await createImage(app)
  const entry = await ok(await post(app, `/live-coverages/${coverage.id as string}/entries`, { body: withImage(photo.id) }), 201)
  t.same(await publicView(app, photo.id), unseen, 'not public while the coverage is a draft')
  t.equal((await app.inject({ url: `/images/${photo.id as string}` })).statusCode, 200, 'staff see it')
  t.notOk((await purgeKeysOf(app, entry.id, 'live-entry.posted')).includes(`image-${photo.id as string}`), 'an entry of a draft purges nothing')
  const refused = await app.inject({ method: 'DELETE', url: `/images/${photo.id as string}` })
  t.equal(json(refused).code, 'IN_USE', 'a draft\'s entry still holds the image')

  await ok(await app.inject({ method: 'PATCH', url: `/articles/${article.id as string}`, payload: { status: 'published' } }))
  t.same(await publicView(app, photo.id), seen, 'published with its article')
  t.ok((await purgeKeysOf(app, article.id, 'article.published')).includes(`image-${photo.id as string}`), 'publishing the article purges its entries\' images')

  await ok(await app.inject({ method: 'PATCH', url: `/articles/${article.id as string}`, payload: { status: 'draft' } }))
  t.same(await publicView(app, photo.id), unseen, 'unpublished with its article')
  t.ok((await purgeKeysOf(app, article.id, 'article.unpublished')).includes(`image-${photo.id as string}`), 'unpublishing purges them too')
})
