// Behaviour that SQLite and PostgreSQL would each do their own way, pinned so both answer alike.
import t from 'tap'
import { buildTestApp, createArticle, createAuthor, json, post } from './helper.ts'

t.test('slugs and slug filters are case-exact: upper case is refused, never matched loosely', async (t) => {
  const app = await buildTestApp(t)
  await createArticle(app, { headline: 'Case Test', slug: 'case-test' })
  await createAuthor(app, { name: 'Alex Rowan' })
  t.equal((await app.inject({ method: 'GET', url: '/articles/slug/case-test' })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/articles/slug/Case-Test' })).statusCode, 400)
  t.equal((await app.inject({ method: 'GET', url: '/authors/slug/ALEX-ROWAN' })).statusCode, 400)
  t.equal((await app.inject({ method: 'GET', url: '/articles?author=Alex-Rowan' })).statusCode, 400)
  t.equal((await post(app, '/articles', { headline: 'X', slug: 'CASE-TEST' })).statusCode, 400)
  const prefix = await createArticle(app, { headline: 'Case' })
  t.equal(prefix.slug, 'case', 'a generated slug is not confused by a longer one sharing its prefix')
})

t.test('author names sort the same on every engine: letters and digits, ignoring case and accents', async (t) => {
  const app = await buildTestApp(t)
  for (const name of ['Zoe Adams', 'émile Zola', 'de la Cruz', 'Dean Smith', 'alex rowan', 'Ada 2']) await createAuthor(app, { name })
  const names = json(await app.inject({ method: 'GET', url: '/authors?limit=100' })).items.map((author: any) => author.name)
  t.same(names, ['Ada 2', 'alex rowan', 'Dean Smith', 'de la Cruz', 'émile Zola', 'Zoe Adams'], '"deansmith" < "delacruz"')
  const descending = json(await app.inject({ method: 'GET', url: '/authors?sort=-name' })).items.map((author: any) => author.name)
  t.same(descending, [...names].reverse())
})

t.test('JSON columns and long text round-trip exactly', async (t) => {
  const app = await buildTestApp(t)
  const long = 'Ω≈ç√∫ 😀 “quotes” — dashes '.repeat(700).trim()
  const body = [
    { type: 'paragraph', text: long },
    { type: 'list', style: 'numbered', items: ['één', '二', 'три'] },
    { type: 'embed', url: 'https://example.com/embed?x=1&y=2', provider: 'Example', caption: 'Émbed' },
    { type: 'promo', headline: 'Start your day with TPM.', linkText: 'Go', url: 'https://example.com/memo', text: 'Sign up' }
  ]
  const article = await createArticle(app, { headline: 'Ünïcödé headline 😀 '.repeat(10).trim(), body })
  const reread = json(await app.inject({ method: 'GET', url: `/articles/${article.id}` }))
  t.same(reread.body, body, 'blocks come back as written')
  t.same(Object.keys(reread.body[3]), ['type', 'headline', 'text', 'url', 'linkText'], 'keys in schema order, whatever order the engine stores them in')
  t.equal(reread.headline, article.headline)
  const author = await createAuthor(app, { name: 'Links', links: [{ label: 'Web', url: 'https://example.com/a' }, { label: 'Ünï', url: 'https://example.com/b' }] })
  t.equal(JSON.stringify(json(await app.inject({ method: 'GET', url: `/authors/${author.id}` })).links), '[{"label":"Web","url":"https://example.com/a"},{"label":"Ünï","url":"https://example.com/b"}]')
})

t.test('text limits are the API\'s, not the engine\'s; NUL bytes never reach the database', async (t) => {
  const app = await buildTestApp(t)
  t.equal((await post(app, '/articles', { headline: 'h'.repeat(300) })).statusCode, 201)
  t.equal((await post(app, '/articles', { headline: 'h'.repeat(301) })).statusCode, 400)
  t.equal((await post(app, '/articles', { headline: 'x', body: [{ type: 'paragraph', text: 'p'.repeat(20000) }] })).statusCode, 201)
  t.equal((await post(app, '/articles', { headline: 'x', body: [{ type: 'paragraph', text: 'p'.repeat(20001) }] })).statusCode, 400)
  for (const payload of [{ headline: 'nul\u0000byte' }, { headline: 'ok', body: [{ type: 'paragraph', text: 'nul\u0000' }] }, { headline: 'ok', dek: 'a\u0000' }]) {
    const response = await post(app, '/articles', payload)
    t.equal(response.statusCode, 400, 'NUL refused with 400, not a database error')
  }
  t.equal((await post(app, '/authors', { name: 'x', bio: 'nul\u0000' })).statusCode, 400)
  t.equal((await app.inject({ method: 'GET', url: '/articles/slug/a%00b' })).statusCode, 400)
})

t.test('timestamps keep millisecond precision and order ties by id', async (t) => {
  const app = await buildTestApp(t)
  const at = '2026-05-05T05:05:05.123Z'
  const first = await createArticle(app, { headline: 'First', status: 'published', publishedAt: at })
  const second = await createArticle(app, { headline: 'Second', status: 'published', publishedAt: at })
  t.equal(first.publishedAt, at)
  const latest = json(await app.inject({ method: 'GET', url: '/articles' })).items.map((a: any) => a.id)
  t.same(latest, [second.id, first.id], 'newest id first among equal timestamps')
  const oldest = json(await app.inject({ method: 'GET', url: '/articles?sort=publishedAt' })).items.map((a: any) => a.id)
  t.same(oldest, [first.id, second.id])
  const offset = await createArticle(app, { headline: 'Offset', status: 'published', publishedAt: '2026-05-05T07:05:05.123+02:00' })
  t.equal(offset.publishedAt, at, 'offsets are normalised to UTC')
})
