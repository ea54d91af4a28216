// Sections and tags: filing articles, listing by them, and the rules that keep them consistent.
import t from 'tap'
import { anonymous, buildTestApp, json, post } from './helper.ts'

t.test('sections and tags: create, read, rename, refuse duplicates, delete only when unused', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const politics = await post(app, '/sections', { name: 'World Politics', description: 'Government and elections' })
  t.equal(politics.statusCode, 201)
  t.equal(json(politics).slug, 'world-politics', 'slug made from the name')
  t.equal(politics.headers.location, `/sections/${json(politics).id as string}`)
  const duplicate = await post(app, '/sections', { name: 'Politics again', slug: 'world-politics' })
  t.equal(duplicate.statusCode, 409)
  t.equal(json(duplicate).errors[0].pointer, '/slug')
  t.equal(json(await post(app, '/sections', { name: 'World Politics' })).slug, 'world-politics-2', 'a generated slug steps aside')

  const read = await app.inject({ method: 'GET', url: '/sections/slug/world-politics', headers: anonymous })
  t.equal(read.statusCode, 200, 'public')
  t.equal(json(read).description, 'Government and elections')
  t.equal(json(await app.inject({ method: 'GET', url: '/sections', headers: anonymous })).total, 2)
  t.equal((await app.inject({ method: 'GET', url: '/tags/slug/nothing-here', headers: anonymous })).statusCode, 404)

  const renamed = await app.inject({ method: 'PATCH', url: `/sections/${json(politics).id as string}`, payload: { name: 'Politics' } })
  t.equal(json(renamed).name, 'Politics')
  t.equal(json(renamed).slug, 'world-politics', 'the slug stays unless changed')

  const tag = json(await post(app, '/tags', { name: 'Conscription' }))
  const article = json(await post(app, '/articles', { headline: 'Conscripts Sent Into Ukraine', status: 'published', sectionId: json(politics).id, tagIds: [tag.id] }))
  const inUse = await app.inject({ method: 'DELETE', url: `/sections/${json(politics).id as string}` })
  t.equal(inUse.statusCode, 409)
  t.equal(json(inUse).code, 'IN_USE')
  t.equal((await app.inject({ method: 'DELETE', url: `/tags/${tag.id as string}` })).statusCode, 409, 'a tag in use too')
  t.equal((await app.inject({ method: 'PATCH', url: `/articles/${article.id as string}`, payload: { sectionId: null, tagIds: [] } })).statusCode, 200)
  t.equal((await app.inject({ method: 'DELETE', url: `/sections/${json(politics).id as string}` })).statusCode, 204, 'free once no article uses it')
  t.equal((await app.inject({ method: 'DELETE', url: `/tags/${tag.id as string}` })).statusCode, 204)
  t.equal((await app.inject({ method: 'GET', url: `/sections/${json(politics).id as string}` })).statusCode, 404)
})

t.test('articles are filed under a section and tags, listed and fed by them', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const news = json(await post(app, '/sections', { name: 'News' }))
  const ukraine = json(await post(app, '/sections', { name: 'Ukraine' }))
  const putin = json(await post(app, '/tags', { name: 'Vladimir Putin' }))
  const conscription = json(await post(app, '/tags', { name: 'Conscription' }))

  const filed = await post(app, '/articles', { headline: 'Russia Admits Sending Conscripts', status: 'published', sectionId: ukraine.id, tagIds: [conscription.id, putin.id] })
  t.equal(filed.statusCode, 201)
  t.same(json(filed).section, { id: ukraine.id, slug: 'ukraine', name: 'Ukraine' })
  t.same(json(filed).tags.map((tag: { slug: string }) => tag.slug), ['conscription', 'vladimir-putin'], 'tags in the order given')
  await post(app, '/articles', { headline: 'Budget Vote Tonight', status: 'published', sectionId: news.id, tagIds: [putin.id] })
  await post(app, '/articles', { headline: 'Draft About Putin', sectionId: news.id, tagIds: [putin.id] })

  const headlines = async (query: string): Promise<string[]> => json(await app.inject({ method: 'GET', url: `/articles?${query}`, headers: anonymous })).items.map((item: { headline: string }) => item.headline)
  t.same(await headlines('section=ukraine'), ['Russia Admits Sending Conscripts'])
  t.same(await headlines('tag=vladimir-putin'), ['Budget Vote Tonight', 'Russia Admits Sending Conscripts'], 'published only, newest first')
  t.same(await headlines('section=news&tag=vladimir-putin'), ['Budget Vote Tonight'])
  t.same(await headlines('tag=no-such-tag'), [])

  const badSection = await post(app, '/articles', { headline: 'Nowhere', sectionId: '019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a11' })
  t.equal(badSection.statusCode, 400)
  t.equal(json(badSection).errors[0].pointer, '/sectionId')
  const badTag = await post(app, '/articles', { headline: 'Nowhere', tagIds: [putin.id, '019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a11'] })
  t.equal(json(badTag).errors[0].pointer, '/tagIds/1')
  t.equal((await post(app, '/articles', { headline: 'Twice', tagIds: [putin.id, putin.id] })).statusCode, 400, 'a tag once')

  // Renaming a section shows at once in the articles filed under it, even those a reader has cached.
  const url = `/articles/slug/${json(filed).slug as string}`
  const before = await app.inject({ method: 'GET', url, headers: anonymous })
  t.ok(String(before.headers['surrogate-key']).split(' ').includes(`term-${ukraine.id as string}`), 'purge key for the section')
  await app.inject({ method: 'PATCH', url: `/sections/${ukraine.id as string}`, payload: { name: 'War in Ukraine' } })
  t.equal(json(await app.inject({ method: 'GET', url, headers: anonymous })).section.name, 'War in Ukraine')

  const feed = await app.inject({ method: 'GET', url: '/feeds/json?section=ukraine', headers: anonymous })
  t.equal(feed.statusCode, 200, feed.body.slice(0, 300))
  t.same(JSON.parse(feed.body).items.map((item: { title: string }) => item.title), ['Russia Admits Sending Conscripts'])
  t.match(JSON.parse(feed.body).title, /^War in Ukraine – /)
  t.equal(json(await app.inject({ method: 'GET', url: '/feeds/rss?tag=nobody', headers: anonymous })).code, 'TAG_NOT_FOUND')

  // PUT clears what it leaves out; a restore brings the filing back.
  const id = json(filed).id as string
  const replaced = await app.inject({ method: 'PUT', url: `/articles/${id}`, payload: { headline: 'Russia Admits Sending Conscripts', status: 'published' } })
  t.equal(json(replaced).section, null)
  t.same(json(replaced).tags, [])
  const restored = await app.inject({ method: 'POST', url: `/articles/${id}/revisions/1/restore` })
  t.equal(restored.statusCode, 200)
  t.equal(json(restored).section.slug, 'ukraine')
  t.same(json(restored).tags.map((tag: { slug: string }) => tag.slug), ['conscription', 'vladimir-putin'])
})
