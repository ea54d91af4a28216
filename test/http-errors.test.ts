import t from 'tap'
import { buildTestApp, createArticle, json } from './helper.ts'

const problemType = 'application/problem+json; charset=utf-8'

t.test('malformed and hostile requests get problem+json 4xx, never 500', async (t) => {
  const app = await buildTestApp(t, { bodyLimit: 64 * 1024 })
  const article = await createArticle(app)

  const unknownRoute = await app.inject({ method: 'GET', url: '/nope' })
  t.equal(unknownRoute.statusCode, 404)
  t.equal(unknownRoute.headers['content-type'], problemType)
  t.equal(json(unknownRoute).code, 'ROUTE_NOT_FOUND', 'an unknown route is told apart from a missing record')

  const tooLarge = await app.inject({ method: 'POST', url: '/articles', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ headline: 'x', dek: 'y'.repeat(70 * 1024) }) })
  t.equal(tooLarge.statusCode, 413)
  t.equal(json(tooLarge).code, 'BODY_TOO_LARGE')
  t.equal(tooLarge.headers['content-type'], problemType)

  const wrongType = await app.inject({ method: 'POST', url: '/articles', headers: { 'content-type': 'text/plain' }, payload: 'headline=x' })
  t.equal(wrongType.statusCode, 415)
  t.equal(json(wrongType).code, 'UNSUPPORTED_MEDIA_TYPE')
  const formType = await app.inject({ method: 'POST', url: '/articles', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'headline=x' })
  t.equal(formType.statusCode, 415)

  const malformed = await app.inject({ method: 'POST', url: '/articles', headers: { 'content-type': 'application/json' }, payload: '{"headline": ' })
  t.equal(malformed.statusCode, 400)
  t.equal(json(malformed).code, 'MALFORMED_JSON')
  const empty = await app.inject({ method: 'POST', url: '/articles', headers: { 'content-type': 'application/json' }, payload: '' })
  t.equal(empty.statusCode, 400)
  const notObject = await app.inject({ method: 'POST', url: '/articles', headers: { 'content-type': 'application/json' }, payload: '[1,2]' })
  t.equal(notObject.statusCode, 400)
  const proto = await app.inject({ method: 'POST', url: '/articles', headers: { 'content-type': 'application/json' }, payload: '{"headline":"x","__proto__":{"admin":true}}' })
  t.equal(proto.statusCode, 400, 'prototype poisoning is refused')
  const constructorPoison = await app.inject({ method: 'POST', url: '/articles', headers: { 'content-type': 'application/json' }, payload: '{"headline":"x","constructor":{"prototype":{"admin":true}}}' })
  t.equal(constructorPoison.statusCode, 400)

  const mergePatch = await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, headers: { 'content-type': 'application/merge-patch+json' }, payload: '{"kicker":"Ukraine"}' })
  t.equal(mergePatch.statusCode, 200, 'application/merge-patch+json is accepted for PATCH')
  t.equal(json(mergePatch).kicker, 'Ukraine')

  const badUuid = await app.inject({ method: 'GET', url: '/articles/%00%ff' })
  t.ok(badUuid.statusCode >= 400 && badUuid.statusCode < 500)
  t.equal(badUuid.headers['content-type'], problemType)
  const longSlug = await app.inject({ method: 'GET', url: `/articles/slug/${'a'.repeat(400)}` })
  t.equal(longSlug.statusCode, 400)
  const trailingSlash = await app.inject({ method: 'GET', url: `/articles/${article.id}/` })
  t.equal(trailingSlash.statusCode, 200, 'a trailing slash reaches the same route')

  const validation = json(await app.inject({ method: 'POST', url: '/articles', payload: { headline: '', status: 'live', extra: true } }))
  t.equal(validation.status, 400)
  t.equal(validation.type, 'https://copydesk.dev/problems/validation-failed')
  t.equal(validation.title, 'Bad Request')
  t.equal(validation.instance, '/articles')
  t.same(validation.errors.map((e: any) => e.pointer).sort(), ['/extra', '/headline', '/status'], 'every invalid field is reported')
  t.match(validation.detail, 'body/headline')
  t.notMatch(JSON.stringify(validation), /at .*\.ts:\d+/, 'no stack trace leaks')
})

t.test('a barrage of odd inputs never produces a 500', async (t) => {
  const app = await buildTestApp(t)
  const article = await createArticle(app)
  const values: unknown[] = [null, true, 0, -1, 1e308, '', ' ', '\u0000', '😀'.repeat(50), 'a'.repeat(5000), [], {}, [null], { $gt: '' }, '<script>alert(1)</script>', "'; DROP TABLE Article; --"]
  const fields = ['headline', 'slug', 'dek', 'body', 'bylines', 'status', 'publishedAt', 'leadImageId', 'canonicalUrl']
  let count = 0
  for (const field of fields) {
    for (const value of values) {
      for (const [method, url] of [['POST', '/articles'], ['PATCH', `/articles/${article.id}`]] as const) {
        const response = await app.inject({ method, url, payload: { headline: 'Fuzz', [field]: value } })
        count++
        t.ok(response.statusCode < 500, `${method} ${field}=${JSON.stringify(value)?.slice(0, 30)} → ${response.statusCode}`)
      }
    }
  }
  for (const query of ['limit=1e3', 'page=-5', 'page=1&page=2', 'author[$ne]=x', 'sort=', 'status=', 'publishedBefore=2026-13-45T99:99:99Z', 'authorId=../../etc']) {
    const response = await app.inject({ method: 'GET', url: `/articles?${query}` })
    count++
    t.ok(response.statusCode < 500, `GET /articles?${query} → ${response.statusCode}`)
  }
  t.ok(count > 280)
})

t.test('values that validate but cannot be stored are refused up front', async (t) => {
  const app = await buildTestApp(t)
  for (const publishedAt of ['2016-12-31T23:59:60Z', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59-01:00']) {
    const response = await app.inject({ method: 'POST', url: '/articles', payload: { headline: 'x', publishedAt } })
    t.equal(response.statusCode, 400, `publishedAt ${publishedAt}`)
  }
  t.equal((await app.inject({ method: 'GET', url: '/articles?publishedAfter=2016-12-31T23:59:60Z' })).statusCode, 400)
  const surrogate = await app.inject({ method: 'POST', url: '/articles', headers: { 'content-type': 'application/json' }, payload: '{"headline":"x","body":[{"type":"paragraph","text":"a\\ud800"}]}' })
  t.equal(surrogate.statusCode, 400)
  t.same(json(surrogate).errors, [{ in: 'body', pointer: '/body/0/text', message: 'contains an unpaired UTF-16 surrogate, which is not text' }])
  const pair = await app.inject({ method: 'POST', url: '/articles', headers: { 'content-type': 'application/json' }, payload: '{"headline":"\\ud83d\\ude00 ok"}' })
  t.equal(pair.statusCode, 201, 'a proper surrogate pair (an emoji) is fine')
  const escaped = await app.inject({ method: 'POST', url: '/articles', payload: { headline: 'x', body: [{ type: 'paragraph', text: '&#1;Hello&#0;' }] } })
  t.equal(escaped.statusCode, 201)
  t.equal(json(escaped).body[0].text, 'Hello\uFFFD', 'control characters smuggled in as entities are dropped (&#0; reads as U+FFFD, as in HTML)')
  const ampersands = await app.inject({ method: 'POST', url: '/articles', payload: { headline: 'x', body: [{ type: 'heading', level: 2, text: '&'.repeat(400) }] } })
  t.equal(ampersands.statusCode, 400, 'text that outgrows its limit once escaped is refused, so reads can be written back')
})
