// The public read model: after a random run of writes of every kind, every stored document is the
// exact bytes a fresh render gives, keyless reads (stored) equal staff reads (rendered live), drafts
// never enter it, and a rebuild changes nothing.
import t from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { anonymous, buildTestApp, createAuthor, createImage, json, post } from './helper.ts'
import { renderPublicArticle, rebuildReadModel } from '../src/read-model/articles.ts'
import { renderAuthorPage } from '../src/read-model/authors.ts'
import { MASTHEAD, renderMasthead } from '../src/read-model/documents.ts'
import { renderContextOf } from '../src/changes/open.ts'

/** A small deterministic generator, so a failure can be replayed (the seed is in the test name). */
function random (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let x = Math.imul(state ^ (state >>> 15), 1 | state)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

async function randomWrites (app: FastifyInstance, seed: number, steps: number): Promise<void> {
  const next = random(seed)
  const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)] as T
  const authors = [await createAuthor(app, { name: 'Alex Rowan' }), await createAuthor(app, { name: 'Dana Brooks' }), await createAuthor(app, { name: 'Priya Natarajan' })]
  const images = [await createImage(app, { credit: 'Photo by A / AFP via Getty Images' }), await createImage(app, { caption: 'The Kremlin' })]
  const sections = [json(await post(app, '/sections', { name: 'Politics' })), json(await post(app, '/sections', { name: 'World' }))]
  const tags = [json(await post(app, '/tags', { name: 'Kremlin' })), json(await post(app, '/tags', { name: 'Conscription' }))]
  const articles: string[] = []
  const roles: string[] = []
  const patch = async (id: string, payload: object): Promise<void> => { await app.inject({ method: 'PATCH', url: `/articles/${id}`, payload }) }
  const create = async (): Promise<void> => {
    const response = await post(app, '/articles', {
      headline: `Story ${articles.length} ${next().toString(36).slice(2, 6)}`,
      dek: next() < 0.5 ? 'A dek' : undefined,
      status: pick(['draft', 'published', 'published']),
      bylines: [{ authorId: pick(authors).id }],
      leadImageId: next() < 0.5 ? pick(images).id : undefined,
      sectionId: next() < 0.5 ? pick(sections).id : undefined,
      tagIds: next() < 0.5 ? [pick(tags).id] : [],
      body: [{ type: 'paragraph', text: 'Moscow <em>admitted</em> it.' }, ...(next() < 0.5 ? [{ type: 'image', imageId: pick(images).id }] : [])]
    })
    if (response.statusCode === 201) articles.push(json(response).id)
  }
  const actions: Array<() => Promise<void>> = [
    create, create, create,
    async () => { if (articles.length > 0) await patch(pick(articles), { headline: `Edited ${next().toString(36).slice(2, 8)}` }) },
    async () => { if (articles.length > 0) await patch(pick(articles), { status: pick(['published', 'published', 'draft', 'archived']) }) },
    async () => { if (articles.length > 0) await patch(pick(articles), { bylines: [{ authorId: pick(authors).id }, { authorId: pick(authors).id }].filter((b, i, all) => all.findIndex((o) => o.authorId === b.authorId) === i) }) },
    async () => { if (articles.length > 0) await patch(pick(articles), { leadImageId: pick([...images.map((image) => image.id), null]), sectionId: pick([...sections.map((s) => s.id), null]), tagIds: tags.map((tag) => tag.id).slice(0, Math.floor(next() * 3)) }) },
    async () => { if (articles.length > 0) await app.inject({ method: 'POST', url: `/articles/${pick(articles)}/corrections`, payload: { text: 'An earlier version misspelled a name.' } }) },
    async () => {
      if (articles.length === 0) return
      const id = pick(articles)
      if ((await app.inject({ method: 'DELETE', url: `/articles/${id}` })).statusCode === 204) articles.splice(articles.indexOf(id), 1)
    },
    async () => { await app.inject({ method: 'PATCH', url: `/authors/${pick(authors).id}`, payload: { name: `Renamed ${next().toString(36).slice(2, 6)}`, jobTitle: 'Correspondent' } }) },
    async () => { await app.inject({ method: 'PATCH', url: `/images/${pick(images).id}`, payload: { credit: `Photo by ${next().toString(36).slice(2, 6)} / Reuters`, altText: 'Changed', decorative: next() < 0.3 } }) },
    async () => { await app.inject({ method: 'PATCH', url: `/sections/${pick(sections).id}`, payload: { name: `Section ${next().toString(36).slice(2, 6)}` } }) },
    async () => { await app.inject({ method: 'PATCH', url: `/tags/${pick(tags).id}`, payload: { name: `Tag ${next().toString(36).slice(2, 6)}` } }) },
    async () => {
      const response = await post(app, '/masthead/roles', { title: `Editor ${roles.length}`, holderId: pick([...authors.map((author) => author.id), null]) })
      if (response.statusCode === 201) roles.push(json(response).id)
    },
    async () => { if (roles.length > 0) await app.inject({ method: 'PATCH', url: `/masthead/roles/${pick(roles)}`, payload: { holderId: pick([...authors.map((author) => author.id), null]) } }) },
    async () => { await app.inject({ method: 'PATCH', url: `/authors/${pick(authors).id}`, payload: { avatarImageId: pick([...images.map((image) => image.id), null]) } }) },
    async () => {
      const response = await post(app, '/tags', { name: `New tag ${next().toString(36).slice(2, 6)}`, description: next() < 0.5 ? 'About it' : undefined })
      if (response.statusCode === 201) tags.push(json(response))
    },
    async () => { if (tags.length > 2) await app.inject({ method: 'DELETE', url: `/tags/${(tags.pop() as { id: string }).id}` }) }
  ]
  for (let step = 0; step < steps; step++) await pick(actions)()
}

const seed = Number(process.env.READ_MODEL_SEED ?? 20261202)

t.test(`after random writes (seed ${seed}), every stored document equals a fresh render and the live read`, async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  await randomWrites(app, seed, 80)
  const context = renderContextOf(app.config)
  const all = await app.db.article.findMany({ select: { id: true, status: true, slug: true } })
  const stored = await app.db.publicArticle.findMany()
  t.same(stored.map((row) => row.id).sort(), all.filter((article) => article.status === 'published').map((article) => article.id).sort(), 'exactly the published articles are stored')
  t.ok(stored.length >= 3, `there is something to compare (${stored.length} published of ${all.length})`)

  for (const row of stored) {
    const fresh = await app.db.$transaction(async (tx) => await renderPublicArticle(tx, row.id, context))
    t.same(row, fresh, `${row.slug}: stored = fresh render`)
    const keyless = await app.inject({ method: 'GET', url: `/articles/${row.id}`, headers: anonymous })
    const staff = await app.inject({ method: 'GET', url: `/articles/${row.id}` })
    t.equal(keyless.body, staff.body, `${row.slug}: stored bytes = live rendering`)
    t.equal(keyless.headers.etag, staff.headers.etag, 'same ETag')
    const bySlug = await app.inject({ method: 'GET', url: `/articles/slug/${row.slug}?fields=headline,bylines&include=bylines`, headers: anonymous })
    const bySlugLive = await app.inject({ method: 'GET', url: `/articles/slug/${row.slug}?fields=headline,bylines&include=bylines` })
    t.equal(bySlug.body, bySlugLive.body, 'a fields= variant derived from the stored document = live')
    t.equal(bySlug.headers.etag, bySlugLive.headers.etag)
  }
  for (const article of all.filter((article) => article.status !== 'published')) {
    t.equal((await app.inject({ method: 'GET', url: `/articles/${article.id}`, headers: anonymous })).statusCode, 404, `${article.status} ${article.slug} is not public`)
  }

  // Latest News, every page forwards by cursor, then back, and by number: stored summaries = live.
  let url: string | null = '/articles?limit=4'
  const cursors: string[] = []
  while (url !== null) {
    const keyless: LightMyRequestResponse = await app.inject({ method: 'GET', url, headers: anonymous })
    const staff = await app.inject({ method: 'GET', url })
    t.equal(keyless.body, staff.body, `${url}: stored summaries = live list`)
    t.equal(keyless.headers.link, staff.headers.link, 'same Link header')
    const page: { prevCursor: string | null, nextCursor: string | null } = json(keyless)
    if (page.prevCursor !== null) cursors.push(page.prevCursor)
    url = page.nextCursor === null ? null : `/articles?limit=4&cursor=${page.nextCursor}`
  }
  for (const cursor of cursors) {
    const back = `/articles?limit=4&cursor=${cursor}`
    t.equal((await app.inject({ method: 'GET', url: back, headers: anonymous })).body, (await app.inject({ method: 'GET', url: back })).body, 'backwards too')
  }
  for (const url of ['/articles?page=2&limit=3', '/articles?sort=publishedAt&limit=5', '/articles?sort=publishedAt&page=2&limit=2']) {
    t.equal((await app.inject({ method: 'GET', url, headers: anonymous })).body, (await app.inject({ method: 'GET', url })).body, url)
  }

  // Author pages: every author stored, each equal to a fresh render and to the live page.
  const pages = await app.db.publicAuthor.findMany()
  t.equal(pages.length, await app.db.author.count(), 'every author page is stored')
  for (const page of pages) {
    const fresh = await app.db.$transaction(async (tx) => await renderAuthorPage(tx, page.id, context))
    t.same(page, fresh, `author ${page.slug}: stored = fresh render`)
    const keyless = await app.inject({ method: 'GET', url: `/authors/slug/${page.slug}`, headers: anonymous })
    const staff = await app.inject({ method: 'GET', url: `/authors/slug/${page.slug}` })
    t.equal(keyless.body, staff.body, `author ${page.slug}: stored bytes = live page`)
    t.equal(keyless.headers.etag, staff.headers.etag, 'same ETag')
  }

  // The masthead: stored = fresh render = live.
  const masthead = await app.db.publicDocument.findUnique({ where: { key: MASTHEAD } })
  t.same(masthead, await app.db.$transaction(async (tx) => await renderMasthead(tx, context)), 'stored masthead = fresh render')
  t.ok((await app.db.mastheadRole.count()) > 0, 'the masthead has roles to compare')
  const mastheadKeyless = await app.inject({ method: 'GET', url: '/masthead', headers: anonymous })
  const mastheadStaff = await app.inject({ method: 'GET', url: '/masthead' })
  t.equal(mastheadKeyless.body, mastheadStaff.body, 'stored masthead bytes = live masthead')
  t.equal(mastheadKeyless.headers.etag, mastheadStaff.headers.etag, 'same ETag')

  // Sections and tags: one stored document per term, equal to the live read, and lists by name.
  for (const [kind, plural] of [['section', 'sections'], ['tag', 'tags']] as const) {
    const live = kind === 'section' ? await app.db.section.findMany() : await app.db.tag.findMany()
    const storedTerms = await app.db.publicTerm.findMany({ where: { kind } })
    t.same(storedTerms.map((term) => term.id).sort(), live.map((term) => term.id).sort(), `every ${kind} is stored, no other`)
    for (const term of storedTerms) {
      for (const url of [`/${plural}/${term.id}`, `/${plural}/slug/${term.slug}`]) {
        const keyless = await app.inject({ method: 'GET', url, headers: anonymous })
        const staff = await app.inject({ method: 'GET', url })
        t.equal(keyless.body, staff.body, `${url}: stored = live`)
        t.equal(keyless.headers.etag, staff.headers.etag, 'same ETag')
      }
    }
    for (const url of [`/${plural}`, `/${plural}?limit=2`, `/${plural}?limit=2&page=2`, `/${plural}?page=9`]) {
      const keyless = await app.inject({ method: 'GET', url, headers: anonymous })
      const staff = await app.inject({ method: 'GET', url })
      t.equal(keyless.body, staff.body, `${url}: stored = live`)
      t.equal(keyless.headers.etag, staff.headers.etag, 'same ETag')
    }
  }

  const before = await app.db.publicArticle.findMany({ orderBy: { id: 'asc' } })
  const authorPages = await app.db.publicAuthor.findMany({ orderBy: { id: 'asc' } })
  const termsBefore = await app.db.publicTerm.findMany({ orderBy: [{ kind: 'asc' }, { id: 'asc' }] })
  await rebuildReadModel(app.db, context)
  t.same(await app.db.publicArticle.findMany({ orderBy: { id: 'asc' } }), before, 'a rebuild changes nothing')
  t.same(await app.db.publicAuthor.findMany({ orderBy: { id: 'asc' } }), authorPages, 'nor author pages')
  t.same(await app.db.publicDocument.findUnique({ where: { key: MASTHEAD } }), masthead, 'nor the masthead')
  t.same(await app.db.publicTerm.findMany({ orderBy: [{ kind: 'asc' }, { id: 'asc' }] }), termsBefore, 'nor sections and tags')
})

t.test('marking an image decorative renders again the stored articles that show it', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const image = await createImage(app, { altText: 'A paper texture', credit: 'Newsroom graphics' })
  const article = json(await post(app, '/articles', { headline: 'A Story On Paper', status: 'published', leadImageId: image.id, body: [{ type: 'image', imageId: image.id }] }))
  const read = async (): Promise<LightMyRequestResponse> => await app.inject({ method: 'GET', url: `/articles/${article.id as string}`, headers: anonymous })
  const first = await read()
  const before = json(first)
  t.equal(before.leadImage.decorative, false)
  t.match(before.bodyHtml, /<img [^>]*alt="A paper texture"/)
  t.equal((await app.inject({ method: 'PATCH', url: `/images/${image.id as string}`, payload: { decorative: true } })).statusCode, 200)
  const keyless = await read()
  const after = json(keyless)
  t.equal(after.leadImage.decorative, true, 'the stored lead image says so')
  t.equal(after.leadImage.altText, 'A paper texture', 'its alt text is kept')
  t.match(after.bodyHtml, /<img [^>]*alt=""/, 'bodyHtml tells screen readers to skip it')
  t.equal(keyless.body, (await app.inject({ method: 'GET', url: `/articles/${article.id as string}` })).body, 'stored bytes = live rendering')
  t.not(keyless.headers.etag, first.headers.etag, 'under a new ETag')
})

t.test('a change of site settings renders the read model again at start-up', async (t) => {
  const first = await buildTestApp(t, { backgroundJobs: false, siteUrl: 'https://old.example.com' })
  const article = json(await post(first, '/articles', { headline: 'Moved site', status: 'published' }))
  await first.close()
  const second = await buildTestApp(t, { backgroundJobs: false, databaseUrl: first.config.databaseUrl, siteUrl: 'https://new.example.com' })
  const read = json(await second.inject({ method: 'GET', url: `/articles/${article.id as string}`, headers: anonymous }))
  t.equal(read.jsonLd.url, 'https://new.example.com/articles/moved-site', 'the JSON-LD names the new site')
})

t.test('writes racing on documents they share leave every stored document equal to a fresh render', async (t) => {
  // An article edited while its author is renamed and a co-author's avatar changes: on PostgreSQL the
  // transactions overlap, and whichever renders second must see what the first committed.
  const app = await buildTestApp(t, { backgroundJobs: false })
  const context = renderContextOf(app.config)
  const [alex, dana] = [await createAuthor(app, { name: 'Alex Rowan' }), await createAuthor(app, { name: 'Dana Brooks' })]
  const image = await createImage(app, { credit: 'Photo by A / AFP via Getty Images' })
  const ids: string[] = []
  for (let i = 0; i < 4; i++) ids.push(json(await post(app, '/articles', { headline: `Shared ${i}`, status: 'published', bylines: [{ authorId: alex.id }, { authorId: dana.id }] })).id)
  await post(app, '/masthead/roles', { title: 'Editor', holderId: alex.id })
  for (let round = 0; round < 5; round++) {
    const responses = await Promise.all([
      ...ids.map(async (id) => await app.inject({ method: 'PATCH', url: `/articles/${id}`, payload: { headline: `Shared ${id.slice(-4)} round ${round}` } })),
      app.inject({ method: 'PATCH', url: `/authors/${alex.id as string}`, payload: { name: `Alex Rowan ${round}` } }),
      app.inject({ method: 'PATCH', url: `/authors/${dana.id as string}`, payload: { avatarImageId: round % 2 === 0 ? image.id : null } }),
      app.inject({ method: 'PATCH', url: `/images/${image.id as string}`, payload: { credit: `Photo by ${round} / Reuters` } })
    ])
    t.same(responses.map((response) => response.statusCode).filter((code) => code !== 200), [], `round ${round}: every write succeeded`)
  }
  for (const row of await app.db.publicArticle.findMany()) {
    t.same(row, await app.db.$transaction(async (tx) => await renderPublicArticle(tx, row.id, context)), `${row.slug}: stored = fresh render`)
  }
  for (const page of await app.db.publicAuthor.findMany()) {
    t.same(page, await app.db.$transaction(async (tx) => await renderAuthorPage(tx, page.id, context)), `author ${page.slug}: stored = fresh render`)
  }
  t.same(await app.db.publicDocument.findUnique({ where: { key: MASTHEAD } }), await app.db.$transaction(async (tx) => await renderMasthead(tx, context)), 'masthead: stored = fresh render')
})
