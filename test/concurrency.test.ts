import t from 'tap'
import { buildTestApp, createArticle, json, post } from './helper.ts'

t.test('20 concurrent editors: exactly one wins each round, the rest get 412', async (t) => {
  const app = await buildTestApp(t)
  const article = await createArticle(app)
  for (let round = 0; round < 3; round++) {
    const read = await app.inject({ method: 'GET', url: `/articles/${article.id}` })
    const etag = read.headers.etag as string
    const attempts = await Promise.all(Array.from({ length: 20 }, async (_, editor) => await app.inject({
      method: 'PATCH',
      url: `/articles/${article.id}`,
      headers: { 'if-match': etag },
      payload: { headline: `Round ${round} by editor ${editor}` }
    })))
    const winners = attempts.filter((response) => response.statusCode === 200)
    const refused = attempts.filter((response) => response.statusCode === 412)
    t.equal(winners.length, 1, `round ${round}: one winner`)
    t.equal(refused.length, 19, `round ${round}: everyone else is told the article changed`)
    const stored = json(await app.inject({ method: 'GET', url: `/articles/${article.id}` }))
    t.equal(stored.headline, json(winners[0]!).headline, 'the stored headline is the winner\'s')
    t.equal(stored.version, round + 2, 'the version moved by exactly one')
  }
})

t.test('concurrent creates never share a slug', async (t) => {
  const app = await buildTestApp(t)
  const explicit = await Promise.all(Array.from({ length: 10 }, async () => await post(app, '/articles', { headline: 'Same', slug: 'same-slug' })))
  t.equal(explicit.filter((response) => response.statusCode === 201).length, 1, 'one article gets the slug')
  t.ok(explicit.filter((response) => response.statusCode !== 201).every((response) => response.statusCode === 409 && json(response).code === 'SLUG_TAKEN'), 'the others get 409')

  const generated = await Promise.all(Array.from({ length: 10 }, async () => await post(app, '/articles', { headline: 'Election Night Live' })))
  t.ok(generated.every((response) => response.statusCode === 201), 'generated slugs never collide')
  t.equal(new Set(generated.map((response) => json(response).slug)).size, 10)

  const authors = await Promise.all(Array.from({ length: 5 }, async () => await post(app, '/authors', { name: 'Jordan Vale' })))
  t.equal(new Set(authors.map((response) => json(response).slug)).size, 5)
})

t.test('concurrent deletes and edits of an image: the in-use check cannot be raced', async (t) => {
  const app = await buildTestApp(t)
  const image = json(await post(app, '/images', { url: 'https://images.example.com/a.jpg', mimeType: 'image/jpeg', altText: 'A' }))
  const [attach, remove] = await Promise.all([
    post(app, '/articles', { headline: 'Uses the image', leadImageId: image.id }),
    app.inject({ method: 'DELETE', url: `/images/${image.id}` })
  ])
  const attached = attach.statusCode === 201
  const deleted = remove.statusCode === 204
  t.notOk(attached && deleted, 'never both: an article cannot point at a deleted image')
  t.ok(attached || deleted, 'one of them happened')
  if (attached) t.equal(json(attach).leadImage.id, image.id)
  if (!attached) t.ok([400, 409].includes(attach.statusCode), 'the losing create is told why: missing image (400) or a conflicting delete (409)')
})
