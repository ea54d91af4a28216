// Preflight: errors (alt text, links to unpublished stories) block publishing with one 409 listing
// them; warnings (credits, lengths) do not; PREFLIGHT_RULES moves a rule between levels. An image
// marked decorative needs no alt text; one left empty by accident does.
import t from 'tap'
import { anonymous, buildTestApp, createArticle, createImage, json, post } from './helper.ts'

const site = 'https://news.example.com'

t.test('preflight reports errors and warnings; errors block publishing, warnings do not', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false, siteUrl: site, preflightDekLength: '0-40' })
  const noAlt = await createImage(app, { altText: '', credit: 'Photo by Ana Lens' })
  const noCredit = await createImage(app, { altText: 'A crowd outside parliament' })
  const draft = await createArticle(app, { headline: 'Draft Next Door' })
  const article = await createArticle(app, {
    headline: 'Short',
    dek: 'A dek that runs on for far longer than the forty characters allowed here',
    leadImageId: noAlt.id,
    body: [
      { type: 'paragraph', text: `Read <a href="${site}/articles/${draft.slug}">the background</a> first.` },
      { type: 'image', imageId: noCredit.id },
      { type: 'paragraph', text: 'Elsewhere: <a href="https://other.example.org/articles/anything">another site</a>.' }
    ]
  })
  const report = json(await app.inject(`/articles/${article.id}/preflight`))
  t.equal(report.publishable, false)
  t.same(report.errors.map((finding: { rule: string, pointer: string }) => `${finding.rule} ${finding.pointer}`).sort(), ['alt-text /leadImage', 'unpublished-links /body/0'])
  t.same(report.warnings.map((finding: { rule: string, pointer: string }) => `${finding.rule} ${finding.pointer}`).sort(), ['dek-length /dek', 'headline-length /headline', 'image-credit /body/1'])
  t.match(report.errors.find((finding: { rule: string }) => finding.rule === 'unpublished-links').message, /draft/)
  t.same(report.missingSignoffs, [])

  const blocked = await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, payload: { status: 'published' } })
  t.equal(blocked.statusCode, 409)
  t.match(blocked.headers['content-type'], /application\/problem\+json/)
  t.equal(json(blocked).code, 'PUBLICATION_BLOCKED')
  t.same(json(blocked).blockers.map((blocker: { check: string, name: string }) => `${blocker.check}:${blocker.name}`).sort(), ['preflight:alt-text', 'preflight:unpublished-links'])
  const scheduled = await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, payload: { status: 'scheduled', publishedAt: new Date(Date.now() + 3600_000).toISOString() } })
  t.equal(scheduled.statusCode, 409, 'scheduling is blocked the same way')
  const stored = json(await app.inject(`/articles/${article.id}`))
  t.equal(stored.status, 'draft', 'nothing changed')
  t.equal(stored.version, article.version)

  // Fix the errors; the warnings stay and do not block.
  await app.inject({ method: 'PATCH', url: `/images/${noAlt.id}`, payload: { altText: 'The minister leaving the court' } })
  await app.inject({ method: 'PATCH', url: `/articles/${draft.id}`, payload: { status: 'published' } })
  const clean = json(await app.inject(`/articles/${article.id}/preflight`))
  t.same(clean.errors, [])
  t.equal(clean.publishable, true)
  t.equal(clean.warnings.length, 3)
  const published = await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, payload: { status: 'published' } })
  t.equal(published.statusCode, 200, published.body)

  // A live story is not held back by its later edits.
  const edited = await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, payload: { headline: 'S' } })
  t.equal(edited.statusCode, 200)
})

t.test('an image marked decorative needs no alt text; one left empty without the mark blocks publishing', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const findings = (report: { errors: Array<{ rule: string, pointer: string }>, warnings: Array<{ rule: string, pointer: string }> }): string[] =>
    [...report.errors.map((finding) => `error ${finding.rule} ${finding.pointer}`), ...report.warnings.map((finding) => `warning ${finding.rule} ${finding.pointer}`)].sort()

  // Marked decorative: passes preflight and publishes, with the alt-text rule at its default level, error.
  const ornament = await createImage(app, { altText: '', decorative: true, credit: 'Newsroom graphics' })
  t.equal(ornament.decorative, true)
  const withOrnament = await createArticle(app, { headline: 'A Story With An Ornament', leadImageId: ornament.id })
  const passing = json(await app.inject(`/articles/${withOrnament.id}/preflight`))
  t.same(findings(passing), [], 'a decorative lead image without alt text is no finding')
  t.equal(passing.publishable, true)
  const published = await app.inject({ method: 'PATCH', url: `/articles/${withOrnament.id}`, payload: { status: 'published' } })
  t.equal(published.statusCode, 200, published.body)
  t.equal(json(published).leadImage.decorative, true, 'the embedded lead image says so')
  t.equal(json(await app.inject(`/images/${ornament.id}`)).decorative, true)
  t.equal(json(await app.inject({ method: 'GET', url: `/images/${ornament.id}`, headers: anonymous })).decorative, true, 'readers see it too')
  t.equal(json(await app.inject({ method: 'GET', url: `/articles/${withOrnament.id}`, headers: anonymous })).leadImage.decorative, true, 'and in the public article')

  // Empty alt text without the mark: an error that blocks publishing, and nothing changes.
  const forgotten = await createImage(app, { altText: '  ', credit: 'Photo by Ana Lens' })
  t.equal(forgotten.decorative, false, 'not decorative unless marked')
  const article = await createArticle(app, { headline: 'A Story With A Photo', leadImageId: forgotten.id })
  t.same(findings(json(await app.inject(`/articles/${article.id}/preflight`))), ['error alt-text /leadImage'])
  const blocked = await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, payload: { status: 'published' } })
  t.equal(blocked.statusCode, 409)
  t.match(blocked.headers['content-type'], /application\/problem\+json/)
  t.equal(json(blocked).code, 'PUBLICATION_BLOCKED')
  t.same(json(blocked).blockers.map((blocker: { check: string, name: string }) => `${blocker.check}:${blocker.name}`), ['preflight:alt-text'])
  t.match(json(blocked).blockers[0].message, /not marked decorative/)
  const unchanged = json(await app.inject(`/articles/${article.id}`))
  t.equal(unchanged.status, 'draft', 'nothing changed')
  t.equal(unchanged.version, article.version)
  t.equal((await app.inject({ method: 'GET', url: `/articles/${article.id}`, headers: anonymous })).statusCode, 404, 'readers see nothing')

  // Marking the image decorative makes the article publishable.
  const marked = await app.inject({ method: 'PATCH', url: `/images/${forgotten.id}`, payload: { decorative: true } })
  t.equal(marked.statusCode, 200, marked.body)
  t.equal(json(marked).decorative, true)
  t.equal(json(marked).altText, '  ', 'the alt text is left as it was')
  t.equal(json(await app.inject(`/articles/${article.id}/preflight`)).publishable, true)
  t.equal((await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, payload: { status: 'published' } })).statusCode, 200)

  // Body images: empty alt text without the mark is a warning (body-alt-text), which does not block.
  const bodyPhoto = await createImage(app, { altText: '', credit: 'Photo by Ana Lens' })
  const bodyOrnament = await createImage(app, { altText: '', decorative: true, credit: 'Newsroom graphics' })
  const inBody = await createArticle(app, {
    headline: 'A Story With Pictures Inside',
    body: [{ type: 'paragraph', text: 'First.' }, { type: 'image', imageId: bodyPhoto.id }, { type: 'image', imageId: bodyOrnament.id }]
  })
  const report = json(await app.inject(`/articles/${inBody.id}/preflight`))
  t.same(findings(report), ['warning body-alt-text /body/1'])
  t.match(report.warnings[0].message, new RegExp(bodyPhoto.id))
  t.equal((await app.inject({ method: 'PATCH', url: `/articles/${inBody.id}`, payload: { status: 'published' } })).statusCode, 200, 'a warning does not block')

  // Not a boolean: refused, naming the field.
  for (const [method, url, payload] of [['POST', '/images', { url: 'https://images.example.com/a.jpg', mimeType: 'image/jpeg', altText: '', decorative: 'yes' }], ['PATCH', `/images/${forgotten.id}`, { decorative: 'yes' }]] as const) {
    const refused = await app.inject({ method, url, payload })
    t.equal(refused.statusCode, 400, `${method} ${url}`)
    t.match(refused.headers['content-type'], /application\/problem\+json/)
    t.equal(json(refused).code, 'VALIDATION_FAILED')
    t.same(json(refused).errors.map((error: { pointer: string }) => error.pointer), ['/decorative'])
  }
  t.equal(json(await app.inject(`/images/${forgotten.id}`)).decorative, true, 'the refused PATCH changed nothing')
})

t.test('PREFLIGHT_RULES sets the level of body-alt-text apart from alt-text', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false, preflightRules: 'body-alt-text:error' })
  const image = await createImage(app, { altText: '' })
  const article = await createArticle(app, { headline: 'A Story With A Picture Inside', body: [{ type: 'image', imageId: image.id }] })
  const blocked = await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, payload: { status: 'published' } })
  t.equal(blocked.statusCode, 409)
  t.same(json(blocked).blockers.map((blocker: { name: string, message: string }) => `${blocker.name} ${blocker.message.split(':')[0] as string}`), ['body-alt-text /body/0'])
  await app.inject({ method: 'PATCH', url: `/images/${image.id}`, payload: { decorative: true } })
  t.equal((await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, payload: { status: 'published' } })).statusCode, 200)
})

t.test('links through this API, by slug or id, and to no article at all', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false, apiPublicUrl: 'https://api.example.com' })
  const draft = await createArticle(app, { headline: 'Unpublished Background Piece' })
  const live = await createArticle(app, { headline: 'Published Background Piece', status: 'published' })
  const article = await createArticle(app, {
    headline: 'Story With Many Links',
    body: [
      { type: 'paragraph', text: `By id: <a href="https://api.example.com/articles/${draft.id}">draft</a>.` },
      { type: 'list', style: 'bulleted', items: [`<a href="https://api.example.com/articles/slug/${live.slug}">live</a>`, '<a href="https://api.example.com/articles/slug/no-such-story">gone</a>'] },
      { type: 'promo', headline: 'More', url: `https://api.example.com/articles/slug/${draft.slug}` }
    ]
  })
  const report = json(await app.inject(`/articles/${article.id}/preflight`))
  t.same(report.errors.map((finding: { pointer: string }) => finding.pointer), ['/body/0', '/body/1', '/body/2'])
  t.match(report.errors[1].message, /no article/)
})

t.test('PREFLIGHT_RULES moves rules between error, warning and off', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false, preflightRules: 'image-credit:error,alt-text:off,headline-length:off' })
  const image = await createImage(app, { altText: '' })
  const article = await createArticle(app, { headline: 'Tiny', leadImageId: image.id })
  const report = json(await app.inject(`/articles/${article.id}/preflight`))
  t.same(report.errors.map((finding: { rule: string }) => finding.rule), ['image-credit'])
  t.same(report.warnings, [])
  const created = await post(app, '/articles', { headline: 'Published At Once', leadImageId: image.id, status: 'published' })
  t.equal(created.statusCode, 409, 'creating an article as published runs preflight too')
  t.same(json(created).blockers.map((blocker: { name: string }) => blocker.name), ['image-credit'])
})

t.test('bad input: a missing article, a malformed id', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const missing = await app.inject('/articles/019ab8a4-0000-7000-8000-000000000000/preflight')
  t.equal(missing.statusCode, 404)
  t.equal(json(missing).code, 'ARTICLE_NOT_FOUND')
  const malformed = await app.inject('/articles/nope/preflight')
  t.equal(malformed.statusCode, 400)
  t.same(json(malformed).errors.map((error: { pointer: string }) => error.pointer), ['/id'])
})

t.test('the seeded demo content passes preflight', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false, seedDemoContent: true })
  const { seedIfEmpty } = await import('../src/db/seed.ts')
  await seedIfEmpty(app.db)
  const list = json(await app.inject('/articles?status=any&limit=100'))
  t.ok(list.items.length > 0)
  for (const item of list.items) {
    const report = json(await app.inject(`/articles/${item.id}/preflight`))
    t.same(report.errors, [], `${item.slug} has no preflight error`)
  }
})
