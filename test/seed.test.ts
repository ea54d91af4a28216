import t from 'tap'
import { buildTestApp, json } from './helper.ts'
import { seedDemoContent, seedIfEmpty } from '../src/db/seed.ts'

t.test('demo content reproduces the reference article page', async (t) => {
  const app = await buildTestApp(t)
  t.equal(await seedIfEmpty(app.db), true, 'an empty database is seeded')
  t.equal(await seedIfEmpty(app.db), false, 'a database with content is left alone')

  const article = json(await app.inject({ method: 'GET', url: '/articles/slug/contra-putin-russian-govt-admits-it-sent-conscripts-into-ukraine' }))
  t.equal(article.headline, 'Contra Putin, Russian Govt Admits It Sent Conscripts Into Ukraine')
  t.equal(article.status, 'published')
  t.match(article.leadImage.caption, 'National Space Centre construction site in Moscow on February 27, 2022')
  t.equal(article.leadImage.credit, 'Photo by Sergei Guneyev / Sputnik / AFP via Getty Images')
  t.same(article.body[0], { type: 'promo', headline: 'Start your day with TPM.', text: 'Sign up for the Morning Memo newsletter', url: 'https://example.com/newsletters/morning-memo', linkText: 'Sign up' })
  t.ok(article.body.filter((block: any) => block.type === 'blockquote').length >= 3, 'the quotes are blockquotes')
  t.match(article.bodyText, 'Only four people were left alive out of a company of 100.')
  t.ok(article.wordCount > 250)

  const latest = json(await app.inject({ method: 'GET', url: '/articles' }))
  t.ok(latest.total >= 4, 'Latest News has entries')
  t.notOk(latest.items.some((item: any) => item.status !== 'published'))

  const masthead = json(await app.inject({ method: 'GET', url: '/masthead' }))
  t.same(masthead.roles.map((role: any) => role.title), [
    'Founder & Editor-in-Chief', 'Executive Editor', 'Managing Editor', 'Associate Editor', 'Editor at Large',
    'General Counsel', 'Head of Product', 'Director of Technology', 'Associate Publisher', 'Front End Developer', 'Senior Designer'
  ])
  t.ok(masthead.roles.some((role: any) => role.vacant) && masthead.roles.some((role: any) => !role.vacant), 'some roles are held, some vacant')
})

t.test('seeding is all-or-nothing per record and survives a second explicit run', async (t) => {
  const app = await buildTestApp(t)
  await seedDemoContent(app.db)
  const before = json(await app.inject({ method: 'GET', url: '/articles?status=any' })).total
  await t.resolves(seedDemoContent(app.db), 'seeding again does not collide on slugs')
  const after = json(await app.inject({ method: 'GET', url: '/articles?status=any' })).total
  t.equal(after, before * 2)
})
