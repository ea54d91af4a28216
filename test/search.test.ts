// Search as readers and editors use it: stemming, phrases, prefixes, author names, ranking,
// highlighted snippets, filters, and an index that follows every write. Drafts stay hidden.
import t from 'tap'
import { anonymous, buildTestApp, createAuthor, json, post } from './helper.ts'
import type { FastifyInstance } from 'fastify'

const paragraph = (text: string) => ({ type: 'paragraph', text })

async function newsroom (app: FastifyInstance) {
  const rowan = await createAuthor(app, { name: 'Alex Rowan' })
  const vale = await createAuthor(app, { name: 'Jordan Vale' })
  const ukraine = json(await post(app, '/sections', { name: 'Ukraine' }))
  const hoursAgo = (hours: number): string => new Date(Date.now() - hours * 3_600_000).toISOString()
  const lead = json(await post(app, '/articles', {
    headline: 'Russia Admits Conscripts Were Sent Into Ukraine',
    dek: 'The defense ministry reverses its denials',
    status: 'published',
    publishedAt: hoursAgo(2),
    sectionId: ukraine.id,
    bylines: [{ authorId: rowan.id }],
    body: [paragraph('Moscow said on Wednesday that some soldiers were captured.'), paragraph('Officials insisted profits &amp; losses &lt;b&gt;grew&lt;/b&gt; anyway.')]
  }))
  const mention = json(await post(app, '/articles', {
    headline: 'Budget Vote Delayed Again',
    status: 'published',
    publishedAt: hoursAgo(30),
    bylines: [{ authorId: vale.id }],
    body: [paragraph('Lawmakers argued about the cost of conscription and pensions for Ukrainian refugees.')]
  }))
  const draft = json(await post(app, '/articles', { headline: 'Secret Conscripts Memo', bylines: [{ authorId: rowan.id }], body: [paragraph('Not yet.')] }))
  return { rowan, vale, lead, mention, draft }
}

async function find (app: FastifyInstance, query: string, headers: Record<string, string> = anonymous): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const response = await app.inject({ method: 'GET', url: `/search?${query}`, headers })
  t.equal(response.statusCode, 200, `search ${query}`)
  return json(response)
}
const headlinesOf = (result: { items: Array<{ article: { headline: string } }> }): string[] => result.items.map((hit) => hit.article.headline)

t.test('words are stemmed, headline matches rank first, phrases and prefixes work, drafts stay hidden', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  await newsroom(app)
  const conscripts = await find(app, 'q=conscripts')
  t.same(headlinesOf(conscripts), ['Russia Admits Conscripts Were Sent Into Ukraine', 'Budget Vote Delayed Again'], '"conscription" in a body matches too, below the headline match; the draft does not')
  t.equal(conscripts.total, 2)
  t.ok(conscripts.items[0].score > conscripts.items[1].score, 'scores say so')
  t.match(conscripts.items[0].highlights.headline, /<mark>Conscripts<\/mark>/)
  t.match(conscripts.items[1].highlights.snippet, /<mark>conscription<\/mark>/)

  t.same(headlinesOf(await find(app, `q=${encodeURIComponent('"sent into ukraine"')}`)), ['Russia Admits Conscripts Were Sent Into Ukraine'], 'a phrase')
  t.same(headlinesOf(await find(app, `q=${encodeURIComponent('"ukraine into sent"')}`)), [], 'the words of a phrase in another order do not match it')
  t.same(headlinesOf(await find(app, 'q=ukrain*')), ['Russia Admits Conscripts Were Sent Into Ukraine', 'Budget Vote Delayed Again'], 'a prefix: Ukraine and Ukrainian')
  t.same(headlinesOf(await find(app, 'q=conscripts%20pensions')), ['Budget Vote Delayed Again'], 'every word must match')
  t.same(headlinesOf(await find(app, 'q=rowan')), ['Russia Admits Conscripts Were Sent Into Ukraine'], 'author names are searched')

  const staff = await find(app, 'q=conscripts&status=any', {})
  t.equal(staff.total, 3, 'staff may include drafts')
  t.equal((await app.inject({ method: 'GET', url: '/search?q=conscripts&status=any', headers: anonymous })).statusCode, 401, 'the public may not')
})

t.test('snippets are safe HTML; filters narrow; nonsense is a clear 400', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const { vale } = await newsroom(app)
  const hit = (await find(app, 'q=officials')).items[0]
  t.match(hit.highlights.snippet, /<mark>Officials<\/mark>/)
  t.notMatch(hit.highlights.snippet, /<b>/, 'text that looks like markup never comes back as markup')
  // SQLite returns such text escaped; PostgreSQL's ts_headline drops tag-like text altogether.
  t.match(hit.highlights.snippet, /profits &amp; losses (&lt;b&gt;)?\s*grew/, 'it comes back escaped, or not at all')

  t.same(headlinesOf(await find(app, 'q=conscripts&section=ukraine')), ['Russia Admits Conscripts Were Sent Into Ukraine'])
  t.same(headlinesOf(await find(app, `q=conscripts&author=${vale.slug as string}`)), ['Budget Vote Delayed Again'])
  t.same(headlinesOf(await find(app, `q=conscripts&publishedAfter=${new Date(Date.now() - 10 * 3_600_000).toISOString()}`)), ['Russia Admits Conscripts Were Sent Into Ukraine'])
  t.same(headlinesOf(await find(app, `q=conscripts&publishedBefore=${new Date(Date.now() - 10 * 3_600_000).toISOString()}`)), ['Budget Vote Delayed Again'])
  const paged = await find(app, 'q=conscripts&limit=1&page=2')
  t.same([paged.total, paged.totalPages, headlinesOf(paged)], [2, 2, ['Budget Vote Delayed Again']])

  for (const q of ['%22%22', '***', '%20-%20']) {
    const response = await app.inject({ method: 'GET', url: `/search?q=${q}`, headers: anonymous })
    t.equal(response.statusCode, 400, `q=${q}`)
    t.equal(json(response).errors[0].pointer, '/q')
  }
  t.equal((await app.inject({ method: 'GET', url: '/search', headers: anonymous })).statusCode, 400, 'q is required')
  t.same(headlinesOf(await find(app, `q=${encodeURIComponent('NEAR( OR AND "x" :* & | !')}`)), [], 'query syntax typed by a user is only words')
})

t.test('the index follows every write: edits, renamed authors, unpublishing, deletion', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const { rowan, vale, lead, mention } = await newsroom(app)
  await app.inject({ method: 'PATCH', url: `/articles/${lead.id as string}`, payload: { headline: 'Kremlin Changes Its Story on Soldiers' } })
  t.same(headlinesOf(await find(app, 'q=kremlin')), ['Kremlin Changes Its Story on Soldiers'], 'the new headline is found')
  t.same(headlinesOf(await find(app, 'q=admits')), [], 'the old one is not')

  await post(app, '/articles', { headline: 'Harbor Reopens', status: 'published', publishedAt: new Date(Date.now() - 50 * 3_600_000).toISOString(), bylines: [{ authorId: vale.id }, { authorId: rowan.id }], body: [paragraph('Ships moved again.')] })
  await app.inject({ method: 'PATCH', url: `/authors/${rowan.id as string}`, payload: { name: 'Alexandra Stone' } })
  t.same(new Set(headlinesOf(await find(app, 'q=stone'))), new Set(['Kremlin Changes Its Story on Soldiers', 'Harbor Reopens']), 'a renamed author is found under the new name')
  t.same(headlinesOf(await find(app, 'q=rowan')), [])
  t.same(headlinesOf(await find(app, 'q=vale%20stone')), ['Harbor Reopens'], 'a co-author is still found beside the new name')
  t.same(headlinesOf(await find(app, 'q=ships')), ['Harbor Reopens'], 'the rest of the document is intact')

  await app.inject({ method: 'PATCH', url: `/articles/${lead.id as string}`, payload: { status: 'draft' } })
  t.same(headlinesOf(await find(app, 'q=kremlin')), [], 'unpublished: gone for readers')
  t.equal((await app.inject({ method: 'DELETE', url: `/articles/${mention.id as string}` })).statusCode, 204)
  t.equal((await find(app, 'q=budget&status=any', {})).total, 0, 'deleted: gone for everyone')
})

t.test('a word in every article: the newest matches ranked by relevance, then older ones newest first', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false, searchRankWindow: 10 })
  const daysAgo = (days: number): string => new Date(Date.now() - days * 86_400_000).toISOString()
  // Fourteen stories about the storm, one a day; the oldest and the fourth newest say it in the headline.
  for (let day = 14; day >= 1; day--) {
    const headline = day === 14 || day === 4 ? `Storm Report, Day ${day}` : `City Notes, Day ${day}`
    t.equal((await post(app, '/articles', { headline, status: 'published', publishedAt: daysAgo(day), body: [paragraph('The storm went on.')] })).statusCode, 201)
  }
  // Written last, published earliest of all: it is filed by publication, not by writing.
  await post(app, '/articles', { headline: 'City Notes, Day 20', status: 'published', publishedAt: daysAgo(20), body: [paragraph('The storm began.')] })

  const first = await find(app, 'q=storm&limit=10')
  t.equal(first.total, 15, 'total counts every match')
  t.equal(headlinesOf(first)[0], 'Storm Report, Day 4', 'the headline match among the ten newest ranks first')
  t.same(new Set(headlinesOf(first)), new Set(Array.from({ length: 10 }, (_, i) => i + 1).map((day) => day === 4 ? 'Storm Report, Day 4' : `City Notes, Day ${day}`)), 'page 1 is the ten newest')
  const second = await find(app, 'q=storm&limit=10&page=2')
  t.same(headlinesOf(second), ['City Notes, Day 11', 'City Notes, Day 12', 'City Notes, Day 13', 'Storm Report, Day 14', 'City Notes, Day 20'], 'then the older ones, newest first')
  const straddling = await find(app, 'q=storm&limit=4&page=3')
  t.same(headlinesOf(straddling).slice(2), ['City Notes, Day 11', 'City Notes, Day 12'], 'a page across the boundary ends the ranked part and starts the older one')

  const wide = await buildTestApp(t, { backgroundJobs: false, databaseUrl: app.config.databaseUrl, searchRankWindow: 1000 })
  t.equal(headlinesOf(await find(wide, 'q=storm&limit=2'))[1], 'Storm Report, Day 14', 'with a wider window every match is ranked')
})
