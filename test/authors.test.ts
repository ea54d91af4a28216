import t from 'tap'
import { buildTestApp, createArticle, createAuthor, createImage, json, post } from './helper.ts'

t.test('authors: create, read by id and slug, edit, delete; email never shown', async (t) => {
  const app = await buildTestApp(t)
  const avatar = await createImage(app, { altText: 'Portrait of Alex Rowan' })
  const created = await post(app, '/authors', {
    name: 'Alex Rowan',
    jobTitle: 'Investigative Reporter',
    bio: 'Covers Russia.\nBased in Berlin.',
    email: 'alex@example.com',
    avatarImageId: avatar.id,
    links: [{ label: 'Bluesky', url: 'https://bsky.app/profile/alex.example' }]
  })
  t.equal(created.statusCode, 201)
  const author = json(created)
  t.equal(created.headers.location, `/authors/${author.id}`)
  t.equal(author.slug, 'alex-rowan')
  t.equal(author.avatarImage.altText, 'Portrait of Alex Rowan', 'the avatar is embedded')
  t.same(author.links, [{ label: 'Bluesky', url: 'https://bsky.app/profile/alex.example' }])
  t.notOk('email' in author, 'email is private')
  t.notMatch(created.body, 'alex@example.com')

  for (const url of [`/authors/${author.id}`, '/authors/slug/alex-rowan', '/authors']) {
    const response = await app.inject({ method: 'GET', url })
    t.equal(response.statusCode, 200)
    t.notMatch(response.body, 'alex@example.com', `${url} hides the email`)
  }

  const patched = json(await app.inject({ method: 'PATCH', url: `/authors/${author.id}`, payload: { jobTitle: 'Senior Reporter', avatarImageId: null } }))
  t.equal(patched.jobTitle, 'Senior Reporter')
  t.equal(patched.avatarImage, null)
  t.equal(patched.bio, author.bio)

  const replaced = json(await app.inject({ method: 'PUT', url: `/authors/${author.id}`, payload: { name: 'Alex R. Rowan' } }))
  t.equal(replaced.name, 'Alex R. Rowan')
  t.equal(replaced.slug, 'alex-rowan', 'the slug is kept when PUT omits it')
  t.equal(replaced.bio, null)
  t.same(replaced.links, [])

  const second = await createAuthor(app, { name: 'Alex Rowan' })
  t.equal(second.slug, 'alex-rowan-2')
  const taken = await app.inject({ method: 'PATCH', url: `/authors/${second.id}`, payload: { slug: 'alex-rowan' } })
  t.equal(taken.statusCode, 409)
  t.equal(json(taken).code, 'SLUG_TAKEN')

  t.equal((await app.inject({ method: 'DELETE', url: `/authors/${second.id}` })).statusCode, 204)
  const missing = await app.inject({ method: 'GET', url: `/authors/${second.id}` })
  t.equal(missing.statusCode, 404)
  t.equal(json(missing).code, 'AUTHOR_NOT_FOUND')
  t.equal(json(await app.inject({ method: 'GET', url: '/authors/slug/nobody' })).code, 'AUTHOR_NOT_FOUND')
})

t.test('the author page embeds the author\'s latest published articles', async (t) => {
  const app = await buildTestApp(t)
  const alex = await createAuthor(app, { name: 'Alex Rowan' })
  const dana = await createAuthor(app, { name: 'Dana Brooks' })
  for (let day = 1; day <= 12; day++) {
    await createArticle(app, { headline: `Alex story ${day}`, status: 'published', publishedAt: `2026-03-${String(day).padStart(2, '0')}T08:00:00Z`, bylines: [{ authorId: alex.id }] })
  }
  await createArticle(app, { headline: 'Alex draft', bylines: [{ authorId: alex.id }] })
  await createArticle(app, { headline: 'Dana story', status: 'published', bylines: [{ authorId: dana.id }] })

  const page = json(await app.inject({ method: 'GET', url: '/authors/slug/alex-rowan' }))
  t.equal(page.name, 'Alex Rowan')
  t.equal(page.latestArticles.length, 10)
  t.equal(page.latestArticles[0].headline, 'Alex story 12')
  t.equal(page.latestArticles[9].headline, 'Alex story 3')
  t.notOk(page.latestArticles.some((a: any) => a.headline === 'Alex draft' || a.headline === 'Dana story'))
  t.same(json(await app.inject({ method: 'GET', url: `/authors/${dana.id}` })).latestArticles.map((a: any) => a.headline), ['Dana story'])
})

t.test('an author with bylines or a masthead role cannot be deleted', async (t) => {
  const app = await buildTestApp(t)
  const reporter = await createAuthor(app, { name: 'Alex Rowan' })
  const article = await createArticle(app, { bylines: [{ authorId: reporter.id }] })
  const refused = await app.inject({ method: 'DELETE', url: `/authors/${reporter.id}` })
  t.equal(refused.statusCode, 409)
  t.equal(json(refused).code, 'IN_USE')
  t.match(json(refused).detail, 'credited on 1 article')
  t.equal((await app.inject({ method: 'GET', url: `/authors/${reporter.id}` })).statusCode, 200, 'still there')

  await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, payload: { bylines: [] } })
  const role = json(await post(app, '/masthead/roles', { title: 'Managing Editor', holderId: reporter.id }))
  const stillRefused = await app.inject({ method: 'DELETE', url: `/authors/${reporter.id}` })
  t.equal(stillRefused.statusCode, 409)
  t.match(json(stillRefused).detail, 'masthead role')
  await app.inject({ method: 'PATCH', url: `/masthead/roles/${role.id}`, payload: { holderId: null } })
  t.equal((await app.inject({ method: 'DELETE', url: `/authors/${reporter.id}` })).statusCode, 204)
})

t.test('invalid authors are refused', async (t) => {
  const app = await buildTestApp(t)
  const cases: Array<[unknown, string]> = [
    [{}, '/name'],
    [{ name: '' }, '/name'],
    [{ name: 'A', email: 'not-an-email' }, '/email'],
    [{ name: 'A', links: [{ label: 'Site', url: 'javascript:alert(1)' }] }, '/links/0/url'],
    [{ name: 'A', links: [{ label: 'Site' }] }, '/links/0/url'],
    [{ name: 'A', avatarImageId: 123 }, '/avatarImageId'],
    [{ name: 'A', slug: 'Has Spaces' }, '/slug'],
    [{ name: 'A', role: 'admin' }, '/role']
  ]
  for (const [payload, pointer] of cases) {
    const response = await post(app, '/authors', payload)
    t.equal(response.statusCode, 400, JSON.stringify(payload))
    t.ok(json(response).errors.some((e: any) => e.pointer === pointer), `points at ${pointer}`)
  }
  const badAvatar = await post(app, '/authors', { name: 'A', avatarImageId: '019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a11' })
  t.equal(badAvatar.statusCode, 400)
  t.equal(json(badAvatar).code, 'INVALID_REFERENCE')
  t.equal((await app.inject({ method: 'PATCH', url: '/authors/019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a11', payload: {} })).statusCode, 400, 'an empty patch is refused')
  t.equal(json(await app.inject({ method: 'GET', url: '/authors' })).total, 0)
})
