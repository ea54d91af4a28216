import t from 'tap'
import { buildTestApp, createArticle, createAuthor, createImage, json, post } from './helper.ts'

t.test('an editor writes, edits, publishes and deletes an article', async (t) => {
  const app = await buildTestApp(t)
  const photo = await createImage(app, { caption: 'Putin at the site.', photographer: 'Sergei Guneyev', agency: 'Sputnik / AFP', distributor: 'Getty Images' })
  const reporter = await createAuthor(app, { name: 'Alex Rowan' })
  const photographer = await createAuthor(app, { name: 'Jordan Vale' })

  const created = await post(app, '/articles', {
    headline: 'Contra Putin, Russian Govt Admits It Sent Conscripts Into Ukraine',
    dek: 'The ministry says conscripts were found in units in Ukraine.',
    kicker: 'Ukraine',
    leadImageId: photo.id,
    bylines: [{ authorId: reporter.id }, { authorId: photographer.id, role: 'photos' }],
    body: [
      { type: 'promo', headline: 'Start your day with TPM.', text: 'Sign up for the Morning Memo newsletter', url: 'https://example.com/memo' },
      { type: 'paragraph', text: 'Putin has <em>emphasized</em> that conscripts won’t go.' },
      { type: 'blockquote', text: 'A group of soldiers has been taken captive.', attribution: 'Russia’s defense ministry' },
      { type: 'image', imageId: photo.id, caption: 'At the space centre.' }
    ],
    metaTitle: 'Russia admits conscripts in Ukraine'
  })
  t.equal(created.statusCode, 201)
  const article = json(created)
  t.equal(created.headers.location, `/articles/${article.id}`)
  t.match(created.headers.etag, /^"1-[A-Za-z0-9_-]{22}"$/, 'the version and a hash of the bytes, as a read of them gives it')
  t.equal(article.slug, 'contra-putin-russian-govt-admits-it-sent-conscripts-into-ukraine', 'slug made from the headline')
  t.equal(article.status, 'draft')
  t.equal(article.publishedAt, null)
  t.equal(article.version, 1)
  t.equal(article.leadImage.credit, 'Photo by Sergei Guneyev / Sputnik / AFP via Getty Images')
  t.same(article.bylines.map((b: any) => [b.position, b.role, b.author.name]), [[0, 'reporter', 'Alex Rowan'], [1, 'photos', 'Jordan Vale']])
  t.match(article.bodyHtml, /<p>Putin has <em>emphasized<\/em> that conscripts won’t go.<\/p>/)
  t.match(article.bodyHtml, /<blockquote><p>A group of soldiers has been taken captive.<\/p><footer>— <cite>Russia’s defense ministry<\/cite><\/footer><\/blockquote>/)
  t.match(article.bodyHtml, /<figure><img src="https:\/\/images.example.com\/photo.jpg" alt="A photo" loading="lazy"><figcaption>At the space centre. <small class="credit">Photo by Sergei Guneyev/)
  t.match(article.bodyHtml, /<aside class="promo"><p class="promo-headline">Start your day with TPM.<\/p>/)
  t.equal(article.bodyText, 'Putin has emphasized that conscripts won’t go.\n\nA group of soldiers has been taken captive. — Russia’s defense ministry')
  t.equal(article.wordCount, 18)
  t.equal(article.readingTimeMinutes, 1)

  const bySlug = await app.inject({ method: 'GET', url: `/articles/slug/${article.slug}` })
  t.equal(bySlug.statusCode, 200)
  t.same(json(bySlug), article, 'read by slug returns the same article')
  const byId = await app.inject({ method: 'GET', url: `/articles/${article.id}` })
  t.same(json(byId), article)
  t.match(byId.headers.etag, /^"1-[A-Za-z0-9_-]+"$/, 'reads lead their ETag with the version')

  const published = await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, headers: { 'if-match': '"1"' }, payload: { status: 'published' } })
  t.equal(published.statusCode, 200)
  const publishedArticle = json(published)
  t.equal(publishedArticle.status, 'published')
  t.ok(Math.abs(Date.parse(publishedArticle.publishedAt) - Date.now()) < 10_000, 'publishedAt set on publication')
  t.equal(publishedArticle.version, 2)
  t.match(published.headers.etag, /^"2-[A-Za-z0-9_-]{22}"$/)
  t.equal(publishedArticle.headline, article.headline, 'PATCH keeps what it does not name')

  const edited = await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, payload: { headline: 'Russia Admits Conscripts Fought in Ukraine', dek: null, bylines: [{ authorId: photographer.id, role: 'photos' }, { authorId: reporter.id }] } })
  t.equal(edited.statusCode, 200)
  const editedArticle = json(edited)
  t.equal(editedArticle.dek, null, 'null clears a field')
  t.equal(editedArticle.slug, article.slug, 'the slug stays when the headline changes')
  t.same(editedArticle.bylines.map((b: any) => b.author.name), ['Jordan Vale', 'Alex Rowan'], 'bylines reordered')
  t.equal(editedArticle.publishedAt, publishedArticle.publishedAt, 'publishedAt kept through edits')

  const replaced = await app.inject({ method: 'PUT', url: `/articles/${article.id}`, payload: { headline: 'Replaced', status: 'published', body: [{ type: 'paragraph', text: 'Only this.' }] } })
  t.equal(replaced.statusCode, 200)
  const replacedArticle = json(replaced)
  t.equal(replacedArticle.leadImage, null, 'PUT clears what it leaves out')
  t.same(replacedArticle.bylines, [])
  t.equal(replacedArticle.kicker, null)
  t.equal(replacedArticle.slug, article.slug, 'PUT without slug keeps the slug')
  t.equal(replacedArticle.version, 4)

  const deleted = await app.inject({ method: 'DELETE', url: `/articles/${article.id}` })
  t.equal(deleted.statusCode, 204)
  t.equal(deleted.body, '')
  const gone = await app.inject({ method: 'GET', url: `/articles/${article.id}` })
  t.equal(gone.statusCode, 404)
  t.equal(json(gone).code, 'ARTICLE_NOT_FOUND')
  t.equal(gone.headers['content-type'], 'application/problem+json; charset=utf-8')
  const goneBySlug = await app.inject({ method: 'GET', url: `/articles/slug/${article.slug}` })
  t.equal(json(goneBySlug).code, 'ARTICLE_NOT_FOUND')
  t.equal((await app.inject({ method: 'DELETE', url: `/articles/${article.id}` })).statusCode, 404)
})

t.test('slugs are unique, validated, and generated without collisions', async (t) => {
  const app = await buildTestApp(t)
  const first = await createArticle(app, { headline: 'Breaking: Storm Hits Coast!' })
  t.equal(first.slug, 'breaking-storm-hits-coast')
  const second = await createArticle(app, { headline: 'Breaking: Storm Hits Coast' })
  t.equal(second.slug, 'breaking-storm-hits-coast-2', 'a generated slug avoids a taken one')
  const cyrillic = await createArticle(app, { headline: 'Путин признал' })
  t.match(cyrillic.slug, /^[a-z0-9-]+$/, 'non-Latin headlines are transliterated')
  const symbols = await createArticle(app, { headline: '!!!' })
  t.equal(symbols.slug, 'article', 'a headline with no letters still gets a slug')

  const duplicate = await post(app, '/articles', { headline: 'Other', slug: 'breaking-storm-hits-coast' })
  t.equal(duplicate.statusCode, 409)
  t.equal(json(duplicate).code, 'SLUG_TAKEN')
  t.same(json(duplicate).errors, [{ in: 'body', pointer: '/slug', message: 'is already taken' }])

  const renameToTaken = await app.inject({ method: 'PATCH', url: `/articles/${second.id}`, payload: { slug: 'breaking-storm-hits-coast' } })
  t.equal(renameToTaken.statusCode, 409)
  t.equal(json(await app.inject({ method: 'GET', url: `/articles/${second.id}` })).slug, 'breaking-storm-hits-coast-2', 'the refused rename changed nothing')

  for (const slug of ['Upper-Case', 'spaces here', 'trailing-', '-leading', 'double--hyphen', 'ünïcode', '']) {
    const response = await post(app, '/articles', { headline: 'Bad slug', slug })
    t.equal(response.statusCode, 400, `slug ${JSON.stringify(slug)} refused`)
    t.equal(json(response).errors[0].pointer, '/slug')
  }
})

t.test('invalid articles are refused with the field at fault, and nothing is stored', async (t) => {
  const app = await buildTestApp(t)
  const cases: Array<[unknown, string]> = [
    [{}, '/headline'],
    [{ headline: '' }, '/headline'],
    [{ headline: '   ' }, '/headline'],
    [{ headline: 42 }, '/headline'],
    [{ headline: 'x'.repeat(301) }, '/headline'],
    [{ headline: 'Tab\u0000null' }, '/headline'],
    [{ headline: 'Ok', status: 'live' }, '/status'],
    [{ headline: 'Ok', unknownField: 1 }, '/unknownField'],
    [{ headline: 'Ok', body: [{ type: 'video', url: 'x' }] }, '/body/0'],
    [{ headline: 'Ok', body: [{ type: 'paragraph' }] }, '/body/0/text'],
    [{ headline: 'Ok', body: [{ type: 'heading', level: 1, text: 'H' }] }, '/body/0/level'],
    [{ headline: 'Ok', body: [{ type: 'embed', url: 'javascript:alert(1)' }] }, '/body/0/url'],
    [{ headline: 'Ok', body: [{ type: 'list', style: 'bulleted', items: [] }] }, '/body/0/items'],
    [{ headline: 'Ok', body: 'text' }, '/body'],
    [{ headline: 'Ok', canonicalUrl: 'ftp://example.com/a' }, '/canonicalUrl'],
    [{ headline: 'Ok', publishedAt: 'yesterday' }, '/publishedAt'],
    [{ headline: 'Ok', leadImageId: 'not-a-uuid' }, '/leadImageId'],
    [{ headline: 'Ok', bylines: [{ authorId: '019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a11', role: 'Reporter!' }] }, '/bylines/0/role']
  ]
  for (const [payload, pointer] of cases) {
    const response = await post(app, '/articles', payload)
    t.equal(response.statusCode, 400, `${JSON.stringify(payload).slice(0, 80)} is a 400`)
    const problem = json(response)
    t.equal(problem.code, 'VALIDATION_FAILED')
    t.ok(problem.errors.some((error: any) => error.in === 'body' && error.pointer === pointer), `points at ${pointer}: ${JSON.stringify(problem.errors)}`)
  }

  const missing = '019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a11'
  const badReferences = await post(app, '/articles', { headline: 'Ok', leadImageId: missing, bylines: [{ authorId: missing }], body: [{ type: 'image', imageId: missing }] })
  t.equal(badReferences.statusCode, 400)
  t.equal(json(badReferences).code, 'INVALID_REFERENCE')
  t.same(json(badReferences).errors.map((e: any) => e.pointer), ['/leadImageId', '/bylines/0/authorId', '/body/0/imageId'])

  const author = await createAuthor(app)
  const twice = await post(app, '/articles', { headline: 'Ok', bylines: [{ authorId: author.id }, { authorId: author.id, role: 'photos' }] })
  t.equal(twice.statusCode, 400)
  t.equal(json(twice).errors[0].pointer, '/bylines/1/authorId')

  const future = await post(app, '/articles', { headline: 'Ok', status: 'published', publishedAt: new Date(Date.now() + 86_400_000).toISOString() })
  t.equal(future.statusCode, 400)
  t.equal(json(future).code, 'PUBLISHED_AT_IN_FUTURE')

  const list = json(await app.inject({ method: 'GET', url: '/articles?status=any' }))
  t.equal(list.total, 0, 'no refused request stored anything')
})

t.test('body markup is sanitized on write', async (t) => {
  const app = await buildTestApp(t)
  const article = await createArticle(app, {
    body: [
      { type: 'paragraph', text: 'Hello <script>alert(1)</script><a href="javascript:alert(2)" onclick="x()">link</a> <strong>bold</strong> <img src=x onerror=alert(3)>' },
      { type: 'paragraph', text: '<a href="https://example.com/story">a story</a> &amp; more' },
      { type: 'list', style: 'numbered', items: ['<b>one</b>', 'two'] }
    ]
  })
  t.equal(article.body[0].text, 'Hello <a>link</a> <strong>bold</strong> ', 'scripts, handlers and unsafe links removed from the stored body')
  t.notMatch(article.bodyHtml, /script|onerror|onclick|javascript/)
  t.match(article.bodyHtml, '<a href="https://example.com/story">a story</a> &amp; more')
  t.match(article.bodyHtml, '<ol><li><b>one</b></li><li>two</li></ol>')
  t.match(article.bodyText, 'a story & more', 'plain text has entities decoded')

  const onlyScript = await post(app, '/articles', { headline: 'X', body: [{ type: 'paragraph', text: '<script>alert(1)</script>' }] })
  t.equal(onlyScript.statusCode, 400, 'a block with nothing left after sanitizing is refused')
  t.equal(json(onlyScript).errors[0].pointer, '/body/0/text')

  const quoteAttribution = await createArticle(app, { body: [{ type: 'blockquote', text: 'Quote', attribution: '<b>Not markup</b>' }] })
  t.match(quoteAttribution.bodyHtml, '<cite>&#60;b&#62;Not markup&#60;/b&#62;</cite>', 'plain fields are escaped')
})

t.test('If-Match protects against lost updates', async (t) => {
  const app = await buildTestApp(t)
  const article = await createArticle(app)
  const first = await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, headers: { 'if-match': '"1"' }, payload: { headline: 'Editor A' } })
  t.equal(first.statusCode, 200)
  const stale = await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, headers: { 'if-match': '"1"' }, payload: { headline: 'Editor B' } })
  t.equal(stale.statusCode, 412)
  t.equal(json(stale).code, 'VERSION_MISMATCH')
  t.equal(json(stale).currentVersion, 2)
  t.equal(json(await app.inject({ method: 'GET', url: `/articles/${article.id}` })).headline, 'Editor A', 'the stale edit changed nothing')
  t.equal((await app.inject({ method: 'PUT', url: `/articles/${article.id}`, headers: { 'if-match': 'W/"2"' }, payload: { headline: 'Weak' } })).statusCode, 412, 'weak tags never match If-Match')
  t.equal((await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, headers: { 'if-match': '"7", "2"' }, payload: { headline: 'List' } })).statusCode, 200, 'a list of tags matches any')
  t.equal((await app.inject({ method: 'DELETE', url: `/articles/${article.id}`, headers: { 'if-match': '"2"' } })).statusCode, 412)
  t.equal((await app.inject({ method: 'DELETE', url: `/articles/${article.id}`, headers: { 'if-match': '*' } })).statusCode, 204)
})

t.test('Latest News: published articles, newest first, paginated with filters', async (t) => {
  const app = await buildTestApp(t)
  const alex = await createAuthor(app, { name: 'Alex Rowan' })
  const dana = await createAuthor(app, { name: 'Dana Brooks' })
  const published = []
  for (let day = 1; day <= 25; day++) {
    published.push(await createArticle(app, {
      headline: `Story ${day}`,
      status: 'published',
      publishedAt: `2026-01-${String(day).padStart(2, '0')}T12:00:00.000Z`,
      bylines: [{ authorId: day % 2 === 0 ? alex.id : dana.id }]
    }))
  }
  const sameInstant = [
    await createArticle(app, { headline: 'Tie A', status: 'published', publishedAt: '2026-02-01T00:00:00.000Z' }),
    await createArticle(app, { headline: 'Tie B', status: 'published', publishedAt: '2026-02-01T00:00:00.000Z' })
  ]
  await createArticle(app, { headline: 'A draft' })
  await createArticle(app, { headline: 'Old news', status: 'archived' })

  const latest = json(await app.inject({ method: 'GET', url: '/articles' }))
  t.equal(latest.total, 27, 'drafts and archived stories are not in Latest News')
  t.equal(latest.limit, 20)
  t.equal(latest.page, 1)
  t.equal(latest.totalPages, 2)
  t.equal(latest.items.length, 20)
  t.same(latest.items.slice(0, 2).map((a: any) => a.headline), [sameInstant[1].headline, sameInstant[0].headline], 'equal timestamps are ordered by id, newest first')
  t.equal(latest.items[2].headline, 'Story 25')
  t.notOk('body' in latest.items[0], 'lists leave the body out')
  t.ok(latest.items[2].bylines[0].author.name, 'lists embed bylines')

  const page2 = json(await app.inject({ method: 'GET', url: '/articles?page=2' }))
  t.equal(page2.items.length, 7)
  const seen = new Set([...latest.items, ...page2.items].map((a: any) => a.id))
  t.equal(seen.size, 27, 'pages neither overlap nor skip')
  const beyond = json(await app.inject({ method: 'GET', url: '/articles?page=50' }))
  t.same(beyond.items, [])
  t.equal(beyond.total, 27)

  const byAuthor = json(await app.inject({ method: 'GET', url: `/articles?author=${alex.slug}&limit=100` }))
  t.equal(byAuthor.total, 12)
  t.ok(byAuthor.items.every((a: any) => a.bylines.some((b: any) => b.author.id === alex.id)))
  t.equal(json(await app.inject({ method: 'GET', url: `/articles?authorId=${dana.id}` })).total, 13)

  const window = json(await app.inject({ method: 'GET', url: '/articles?publishedAfter=2026-01-10T00:00:00Z&publishedBefore=2026-01-15T00:00:00Z' }))
  t.same(window.items.map((a: any) => a.headline), ['Story 14', 'Story 13', 'Story 12', 'Story 11', 'Story 10'])

  const oldestFirst = json(await app.inject({ method: 'GET', url: '/articles?sort=publishedAt&limit=1' }))
  t.equal(oldestFirst.items[0].headline, 'Story 1')
  t.equal(json(await app.inject({ method: 'GET', url: '/articles?status=draft' })).items[0].headline, 'A draft')
  t.equal(json(await app.inject({ method: 'GET', url: '/articles?status=any' })).total, 29)

  for (const query of ['limit=0', 'limit=101', 'page=0', 'limit=abc', 'status=live', 'sort=email', 'publishedAfter=soon', 'colour=red']) {
    const response = await app.inject({ method: 'GET', url: `/articles?${query}` })
    t.equal(response.statusCode, 400, `${query} is refused`)
    t.equal(json(response).errors[0].in, 'query')
  }
})
