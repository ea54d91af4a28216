// Hostile input from a key-bearing client (issue 17): whatever a staff key sends, the answer is a
// documented 4xx problem+json, never a 500, and nothing is written.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, createArticle, createAuthor, createImage, json, post } from './helper.ts'

const problemType = 'application/problem+json; charset=utf-8'

/** How many rows the writes of these tests could add to: the same counts after means nothing was written. */
async function rowCounts (app: FastifyInstance): Promise<Record<string, number>> {
  return {
    articles: await app.db.article.count(),
    authors: await app.db.author.count(),
    images: await app.db.image.count(),
    webhooks: await app.db.webhook.count(),
    roles: await app.db.mastheadRole.count(),
    sections: await app.db.section.count(),
    tags: await app.db.tag.count(),
    revisions: await app.db.articleRevision.count(),
    audit: await app.db.auditEntry.count()
  }
}

t.test('a body nested thousands of levels deep is a 400 for every operation that takes one, and writes nothing', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const image = await createImage(app)
  const author = await createAuthor(app)
  const article = await createArticle(app, { bylines: [{ authorId: author.id }] })
  const document = json(await app.inject({ method: 'GET', url: '/openapi.json' }))
  const before = await rowCounts(app)

  const deepObject = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000)
  const deepArray = '['.repeat(5000) + ']'.repeat(5000)
  const deepInsideValid = JSON.stringify({ headline: 'Deep', body: [{ type: 'paragraph', text: 'x' }] }).replace('"x"', '"x","extra":' + '['.repeat(3000) + ']'.repeat(3000))
  const idFor = (path: string): string => path.startsWith('/images') ? image.id : path.startsWith('/authors') ? author.id : article.id
  let operations = 0
  for (const [path, item] of Object.entries<any>(document.paths)) {
    for (const [method, operation] of Object.entries<any>(item)) {
      const content = operation.requestBody?.content ?? {}
      const mediaTypes = Object.keys(content).filter((mediaType) => mediaType.endsWith('json'))
      if (mediaTypes.length === 0) continue
      operations++
      const url = path.replace(/\{(\w+)\}/g, (_, name: string) => name === 'id' ? idFor(path) : name === 'slug' ? article.slug : '1')
      for (const mediaType of mediaTypes) {
        for (const payload of [deepObject, deepArray, deepInsideValid]) {
          const response = await app.inject({ method: method.toUpperCase() as 'POST', url, headers: { 'content-type': mediaType }, payload })
          const label = `${method.toUpperCase()} ${path} (${mediaType}, ${payload.slice(0, 12)}…)`
          t.equal(response.statusCode, 400, label)
          t.equal(response.headers['content-type'], problemType, label)
          t.equal(json(response).code, 'JSON_TOO_DEEP', label)
        }
      }
    }
  }
  t.ok(operations >= 10, `${operations} operations take a JSON body`)
  t.same(await rowCounts(app), before, 'nothing was written')

  const patched = await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, headers: { 'content-type': 'application/merge-patch+json' }, payload: deepObject })
  t.equal(patched.statusCode, 400, 'merge-patch bodies are bounded too')
  const stored = json(await app.inject({ method: 'GET', url: `/articles/${article.id}` }))
  t.equal(stored.version, article.version, 'the article is untouched')

  const brackets = await post(app, '/articles', { headline: '[[[[{{{{'.repeat(2000), body: [{ type: 'paragraph', text: ']]]]}}}}'.repeat(2000) }] })
  t.not(json(brackets).code, 'JSON_TOO_DEEP', 'brackets inside strings are text, not nesting')
  const escapedQuotes = await post(app, '/articles', { headline: 'A "quoted" \\ [headline', body: [{ type: 'paragraph', text: 'x' }] })
  t.equal(escapedQuotes.statusCode, 201, 'escaped quotes and backslashes do not confuse the depth count')
})
