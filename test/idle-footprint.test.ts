// What a server loads at start stays resident for its lifetime (issue 16's idle memory target): the
// engine not in use and the HTML sanitizer load only when needed. CommonJS packages, however they
// are imported, are listed in require.cache once loaded.
import { createRequire } from 'node:module'
import t from 'tap'
import { buildTestApp, createArticle } from './helper.ts'

const onPostgres = process.env.TEST_DATABASE === 'postgresql'

function isLoaded (packageName: string): boolean {
  return Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes(`/node_modules/${packageName}/`))
}

t.test('a SQLite server starts without the PostgreSQL driver and loads the sanitizer on the first write', { skip: onPostgres ? 'the SQLite start-up' : false }, async (t) => {
  const app = await buildTestApp(t)
  t.equal(isLoaded('pg'), false, 'no PostgreSQL driver')
  t.equal(isLoaded('sanitize-html'), false, 'no HTML sanitizer before a body is written')
  const article = await createArticle(app, { body: [{ type: 'paragraph', text: 'Safe <em>text</em><script>alert(1)</script>' }] })
  t.same(article.body, [{ type: 'paragraph', text: 'Safe <em>text</em>' }], 'the body is still sanitized')
  t.equal(isLoaded('sanitize-html'), true)
  t.equal(isLoaded('pg'), false)
})

t.test('a PostgreSQL server loads its driver', { skip: onPostgres ? false : 'the PostgreSQL start-up' }, async (t) => {
  await buildTestApp(t)
  t.equal(isLoaded('pg'), true)
})
