// Paging through Latest News as a reader and as a syncing frontend: cursors that hold still while
// stories are published, page numbers, RFC 8288 Link headers and updatedSince.
import t from 'tap'
import { anonymous, buildTestApp, json, post } from './helper.ts'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'

const hour = 3_600_000
const base = Date.parse('2026-01-01T00:00:00Z')

/** 25 published stories; five pairs share a publication time, so ties must be broken consistently. */
async function seedStories (app: FastifyInstance): Promise<string[]> {
  const ids: Array<{ id: string, at: number }> = []
  for (let i = 0; i < 25; i++) {
    const at = base + Math.floor(i / (i < 10 ? 2 : 1)) * hour + (i >= 10 ? 10 * hour : 0)
    const article = json(await post(app, '/articles', { headline: `Story ${i}`, status: 'published', publishedAt: new Date(at).toISOString() }))
    ids.push({ id: article.id, at })
  }
  // Latest News order: newest first, then by id descending.
  return ids.sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1)).map((row) => row.id)
}

function links (header: string | string[] | undefined): Record<string, string> {
  const found: Record<string, string> = {}
  for (const part of String(header ?? '').split(/,\s*(?=<)/)) {
    const match = /^<([^>]+)>;\s*rel="([a-z]+)"$/.exec(part.trim())
    if (match !== null) found[match[2] as string] = match[1] as string
  }
  return found
}

t.test('a reader following next links sees every story once, while newer ones are published', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const expected = await seedStories(app)
  const seen: string[] = []
  let url: string | undefined = '/articles?limit=7'
  let pages = 0
  while (url !== undefined) {
    const response: LightMyRequestResponse = await app.inject({ method: 'GET', url, headers: anonymous })
    t.equal(response.statusCode, 200)
    const page = json(response)
    t.equal(page.total, 25 + pages, 'the total counts what is published now')
    seen.push(...page.items.map((item: { id: string }) => item.id))
    url = links(response.headers.link).next
    if (url !== undefined) t.equal(new URL(url, 'http://x').searchParams.get('limit'), '7', 'links keep the other parameters')
    // Breaking news lands on top of the list between two page loads.
    await post(app, '/articles', { headline: `Breaking ${pages}`, status: 'published' })
    pages++
  }
  t.equal(pages, 4)
  t.same(seen, expected, 'no duplicates, no gaps, in order')

  // And back again, from the last page.
  const lastPage = json(await app.inject({ method: 'GET', url: '/articles?limit=7&publishedBefore=2026-06-01T00:00:00Z', headers: anonymous }))
  let cursor: string | null = lastPage.nextCursor
  const forward: string[][] = [lastPage.items.map((item: { id: string }) => item.id)]
  while (cursor !== null) {
    const page = json(await app.inject({ method: 'GET', url: `/articles?limit=7&publishedBefore=2026-06-01T00:00:00Z&cursor=${cursor}`, headers: anonymous }))
    forward.push(page.items.map((item: { id: string }) => item.id))
    cursor = page.nextCursor
  }
  t.same(forward.flat(), expected)
  const backward: string[][] = []
  const tail = json(await app.inject({ method: 'GET', url: `/articles?limit=7&publishedBefore=2026-06-01T00:00:00Z&cursor=${encodeURIComponent(json(await app.inject({ method: 'GET', url: '/articles?limit=7&page=4&publishedBefore=2026-06-01T00:00:00Z', headers: anonymous })).prevCursor)}`, headers: anonymous }))
  cursor = tail.prevCursor
  backward.unshift(tail.items.map((item: { id: string }) => item.id))
  while (cursor !== null) {
    const page = json(await app.inject({ method: 'GET', url: `/articles?limit=7&publishedBefore=2026-06-01T00:00:00Z&cursor=${cursor}`, headers: anonymous }))
    backward.unshift(page.items.map((item: { id: string }) => item.id))
    cursor = page.prevCursor
  }
  t.same(backward.flat(), expected.slice(0, 21), 'prev cursors walk back to the first page, page by page')
  t.same(backward.map((page) => page.length), [7, 7, 7])
})

t.test('page numbers carry first, prev, next and last links', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  await seedStories(app)
  const second = await app.inject({ method: 'GET', url: '/articles?limit=10&page=2', headers: anonymous })
  t.same(links(second.headers.link), {
    first: '/articles?limit=10&page=1',
    prev: '/articles?limit=10&page=1',
    next: '/articles?limit=10&page=3',
    last: '/articles?limit=10&page=3'
  })
  t.equal(json(second).page, 2)
  const last = await app.inject({ method: 'GET', url: '/articles?limit=10&page=3', headers: anonymous })
  t.notOk(links(last.headers.link).next, 'no next on the last page')
  t.equal(json(last).nextCursor, null)
  t.equal(json(last).items.length, 5)
  const fromCursor = json(await app.inject({ method: 'GET', url: `/articles?limit=10&cursor=${json(second).nextCursor as string}`, headers: anonymous }))
  t.same(fromCursor.items, json(last).items, 'a page read by number hands over to cursors seamlessly')
  t.equal(fromCursor.page, null, 'a page reached by cursor does not claim a number')
  const staffFromCursor = json(await app.inject({ method: 'GET', url: `/articles?limit=10&cursor=${json(second).nextCursor as string}` }))
  t.equal(staffFromCursor.page, null, 'nor when read live (a staff key), not from the read model')
})

t.test('drafts without a publication time page as safely as the rest (staff, status=any)', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  await seedStories(app)
  for (let i = 0; i < 6; i++) await post(app, '/articles', { headline: `Draft ${i}` })
  for (const sort of ['-publishedAt', 'publishedAt']) {
    const seen: string[] = []
    let url: string | undefined = `/articles?status=any&limit=4&sort=${sort}`
    while (url !== undefined) {
      const response: LightMyRequestResponse = await app.inject({ method: 'GET', url })
      seen.push(...json(response).items.map((item: { id: string }) => item.id))
      url = links(response.headers.link).next
    }
    t.equal(seen.length, 31, `${sort}: every article`)
    t.equal(new Set(seen).size, 31, `${sort}: once each`)
  }
})

t.test('updatedSince returns what changed; bad cursors are clear 400s', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const ids = await seedStories(app)
  await new Promise((resolve) => setTimeout(resolve, 20))
  const since = new Date().toISOString()
  await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal((await app.inject({ method: 'PATCH', url: `/articles/${ids[3] as string}`, payload: { dek: 'Updated' } })).statusCode, 200)
  const changed = json(await app.inject({ method: 'GET', url: `/articles?updatedSince=${since}&sort=-updatedAt`, headers: anonymous }))
  t.same(changed.items.map((item: { id: string }) => item.id), [ids[3]])

  const garbage = await app.inject({ method: 'GET', url: '/articles?cursor=bm90LWEtY3Vyc29y', headers: anonymous })
  t.equal(garbage.statusCode, 400)
  t.equal(json(garbage).errors[0].pointer, '/cursor')
  const page = json(await app.inject({ method: 'GET', url: '/articles?limit=5', headers: anonymous }))
  const otherSort = await app.inject({ method: 'GET', url: `/articles?sort=-updatedAt&cursor=${page.nextCursor as string}`, headers: anonymous })
  t.equal(otherSort.statusCode, 400)
  t.match(json(otherSort).detail, /sort=-publishedAt/)
  for (const value of ['0000-01-01T00:00:00.000Z', '-200000-01-01T00:00:00.000Z', 'not a date']) {
    const forged = Buffer.from(JSON.stringify(['-publishedAt', 'next', value, '00000000-0000-0000-0000-000000000000'])).toString('base64url')
    t.equal((await app.inject({ method: 'GET', url: `/articles?cursor=${forged}`, headers: anonymous })).statusCode, 400, `a forged cursor at ${value}`)
  }
  const pageOneWithCursor = await app.inject({ method: 'GET', url: `/articles?limit=5&page=1&cursor=${page.nextCursor as string}`, headers: anonymous })
  t.notMatch(String(pageOneWithCursor.headers.link), /page=2/, 'with a cursor, links are cursors')
  const both = await app.inject({ method: 'GET', url: `/articles?page=2&cursor=${page.nextCursor as string}`, headers: anonymous })
  t.equal(both.statusCode, 400)
  t.equal(json(both).errors[0].pointer, '/page')
})

t.test('filters and sorts are an allow-list: anything else is a 400 naming it', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  for (const [url, pointer] of [['/articles?sort=email', '/sort'], ['/articles?email=a%40b.c', '/email'], ['/articles?bodyText=x', '/bodyText'], ['/search?q=x&status=draft', '/status'], ['/authors?sort=email', '/sort']] as const) {
    const response = await app.inject({ method: 'GET', url, headers: anonymous })
    t.equal(response.statusCode, 400, url)
    t.equal(json(response).errors[0].pointer, pointer, `${url} names ${pointer}`)
  }
})

t.test('fields= trims responses and include= chooses the embedded relations', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const section = json(await post(app, '/sections', { name: 'Ukraine' }))
  const author = json(await post(app, '/authors', { name: 'Alex Rowan' }))
  const article = json(await post(app, '/articles', { headline: 'Trim Me', status: 'published', sectionId: section.id, bylines: [{ authorId: author.id }], body: [{ type: 'paragraph', text: 'Words.' }] }))

  const list = await app.inject({ method: 'GET', url: '/articles?fields=slug,headline,publishedAt', headers: anonymous })
  t.equal(list.statusCode, 200)
  t.same(Object.keys(json(list).items[0]).sort(), ['headline', 'id', 'publishedAt', 'slug'], 'only what was asked for, and the id')
  t.equal(json(list).total, 1, 'the page around them is whole')
  t.ok(String(list.headers['surrogate-key']).includes(`article-${article.id as string}`), 'purge keys still name the article')
  t.match(list.headers.etag, /^"/)

  const one = json(await app.inject({ method: 'GET', url: `/articles/slug/${article.slug as string}?fields=headline,bodyHtml,jsonLd`, headers: anonymous }))
  t.same(Object.keys(one).sort(), ['bodyHtml', 'headline', 'id', 'jsonLd'])
  t.equal(one.jsonLd['@type'], 'NewsArticle')

  const bare = json(await app.inject({ method: 'GET', url: `/articles/${article.id as string}?include=`, headers: anonymous }))
  t.notOk('bylines' in bare || 'section' in bare || 'leadImage' in bare || 'tags' in bare, 'include= (empty): no relations')
  t.equal(bare.headline, 'Trim Me')
  const withSection = json(await app.inject({ method: 'GET', url: `/articles/${article.id as string}?include=section`, headers: anonymous }))
  t.same(withSection.section.slug, 'ukraine')
  t.notOk('bylines' in withSection)

  for (const url of ['/articles?fields=email', '/articles?fields=bodyHtml', `/articles/${article.id as string}?include=author`, `/articles/${article.id as string}?fields=`]) {
    const response = await app.inject({ method: 'GET', url, headers: anonymous })
    t.equal(response.statusCode, 400, `${url}: only documented fields and relations`)
  }
})
