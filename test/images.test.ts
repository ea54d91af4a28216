import t from 'tap'
import { buildTestApp, createArticle, createAuthor, createImage, json, post } from './helper.ts'

t.test('images: register with caption and credit, edit, list, delete', async (t) => {
  const app = await buildTestApp(t)
  const created = await post(app, '/images', {
    url: 'https://images.example.com/putin.jpg',
    mimeType: 'image/jpeg',
    width: 2048,
    height: 1365,
    bytes: 412345,
    altText: 'Vladimir Putin in a hard hat',
    caption: 'Putin visits the National Space Centre construction site in Moscow on February 27, 2022.',
    photographer: 'Sergei Guneyev',
    agency: 'Sputnik / AFP',
    distributor: 'Getty Images',
    copyright: 'Editorial use only'
  })
  t.equal(created.statusCode, 201)
  const image = json(created)
  t.equal(image.credit, 'Photo by Sergei Guneyev / Sputnik / AFP via Getty Images', 'the credit line is composed from its parts')
  t.equal(image.width, 2048)
  t.equal(image.decorative, false, 'not decorative unless marked')

  const explicit = await createImage(app, { credit: 'AP Photo/Jane Doe', photographer: 'Jane Doe' })
  t.equal(explicit.credit, 'AP Photo/Jane Doe', 'an explicit credit wins')

  const patched = json(await app.inject({ method: 'PATCH', url: `/images/${image.id}`, payload: { photographer: 'S. Guneyev' } }))
  t.equal(patched.credit, 'Photo by S. Guneyev / Sputnik / AFP via Getty Images', 'a composed credit follows its parts')
  t.equal(patched.caption, image.caption)
  const ownCredit = json(await app.inject({ method: 'PATCH', url: `/images/${explicit.id}`, payload: { agency: 'AP' } }))
  t.equal(ownCredit.credit, 'AP Photo/Jane Doe', 'a hand-written credit is not overwritten')
  const marked = json(await app.inject({ method: 'PATCH', url: `/images/${image.id}`, payload: { decorative: true } }))
  t.equal(marked.decorative, true, 'PATCH marks an image decorative')
  t.equal(marked.altText, image.altText, 'and leaves the rest')
  t.equal(json(await app.inject({ method: 'GET', url: `/images/${image.id}` })).decorative, true)
  const framed = json(await app.inject({ method: 'PATCH', url: `/images/${image.id}`, payload: { source: 'Pool photo', focalPoint: { x: 0.3, y: 0.4 } } }))
  t.same([framed.source, framed.focalPoint], ['Pool photo', { x: 0.3, y: 0.4 }])

  const replaced = json(await app.inject({ method: 'PUT', url: `/images/${image.id}`, payload: { url: 'https://images.example.com/new.png', mimeType: 'image/png', altText: '' } }))
  t.equal(replaced.mimeType, 'image/png')
  t.equal(replaced.caption, null)
  t.equal(replaced.credit, null)
  t.equal(replaced.altText, '', 'alt text may be empty (preflight asks for it unless the image is decorative)')
  t.equal(replaced.decorative, false, 'PUT clears the mark when it is left out, as other fields')
  t.equal(replaced.source, null, 'and the source')
  t.equal(replaced.focalPoint, null, 'and the focal point')
  const replacedAsDecorative = json(await app.inject({ method: 'PUT', url: `/images/${image.id}`, payload: { url: 'https://images.example.com/new.png', mimeType: 'image/png', altText: '', decorative: true } }))
  t.equal(replacedAsDecorative.decorative, true)

  const list = json(await app.inject({ method: 'GET', url: '/images?limit=1' }))
  t.equal(list.total, 2)
  t.equal(list.items.length, 1)
  t.equal(list.items[0].id, explicit.id, 'newest first')

  t.equal((await app.inject({ method: 'DELETE', url: `/images/${image.id}` })).statusCode, 204)
  t.equal(json(await app.inject({ method: 'GET', url: `/images/${image.id}` })).code, 'IMAGE_NOT_FOUND')
})

t.test('an image still in use cannot be deleted', async (t) => {
  const app = await buildTestApp(t)
  const lead = await createImage(app)
  const inBody = await createImage(app)
  const avatar = await createImage(app)
  const article = await createArticle(app, { leadImageId: lead.id, body: [{ type: 'image', imageId: inBody.id }] })
  const author = await createAuthor(app, { avatarImageId: avatar.id })

  for (const [image, reason] of [[lead, 'lead image'], [inBody, 'body'], [avatar, 'avatar']] as const) {
    const response = await app.inject({ method: 'DELETE', url: `/images/${image.id}` })
    t.equal(response.statusCode, 409, `${reason} in use`)
    t.equal(json(response).code, 'IN_USE')
    t.match(json(response).detail, reason)
  }
  await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, payload: { leadImageId: null, body: [] } })
  await app.inject({ method: 'PATCH', url: `/authors/${author.id}`, payload: { avatarImageId: null } })
  for (const image of [lead, inBody, avatar]) {
    t.equal((await app.inject({ method: 'DELETE', url: `/images/${image.id}` })).statusCode, 204, 'deletable once unused')
  }
})

t.test('invalid image metadata is refused', async (t) => {
  const app = await buildTestApp(t)
  const valid = { url: 'https://images.example.com/a.jpg', mimeType: 'image/jpeg', altText: 'A' }
  const cases: Array<[unknown, string]> = [
    [{ ...valid, url: 'file:///etc/passwd' }, '/url'],
    [{ ...valid, url: 'not a url' }, '/url'],
    [{ ...valid, mimeType: 'image/svg+xml' }, '/mimeType'],
    [{ ...valid, width: 0 }, '/width'],
    [{ ...valid, width: 1.5 }, '/width'],
    [{ ...valid, width: '100' }, '/width'],
    [{ ...valid, altText: undefined }, '/altText'],
    [{ ...valid, credit: 'Line\nbreak' }, '/credit'],
    [{ ...valid, decorative: 'yes' }, '/decorative'],
    [{ ...valid, decorative: 'true' }, '/decorative'],
    [{ ...valid, decorative: null }, '/decorative']
  ]
  for (const [payload, pointer] of cases) {
    const response = await post(app, '/images', payload)
    t.equal(response.statusCode, 400, JSON.stringify(payload))
    t.ok(json(response).errors.some((e: any) => e.pointer === pointer), `points at ${pointer}`)
  }
  t.equal((await app.inject({ method: 'GET', url: '/images/not-a-uuid' })).statusCode, 400)
  t.equal(json(await app.inject({ method: 'GET', url: '/images/not-a-uuid' })).errors[0].in, 'params')
})
