// A webhook's audience: a "public" one (partners, syndication, a public frontend) learns nothing the
// keyless change feed would not show, when its events are queued and again when they go out; a
// "staff" one (the default) hears every event in full.
import t from 'tap'
import { createServer } from 'node:http'
import { once } from 'node:events'
import type { FastifyInstance } from 'fastify'
import { anonymous, buildTestApp, createArticle, json, post, testDatabaseUrl, waitFor } from './helper.ts'
import { liftDueEmbargoes } from '../src/articles/embargo.ts'

interface Delivery { id: string, event: string, seq: number, status: string, lastError: string | null, body: string, payload: { event: string, data: Record<string, unknown> } }

const inAnHour = (): string => new Date(Date.now() + 3_600_000).toISOString()

/** A webhook's deliveries in change order, each with the exact body stored for it, read through the API. */
async function deliveriesOf (app: FastifyInstance, webhookId: string): Promise<Delivery[]> {
  const list = json(await app.inject(`/webhooks/${webhookId}/deliveries?limit=100`))
  const details: Delivery[] = []
  for (const item of list.items as Array<{ id: string }>) {
    const detail = json(await app.inject(`/webhooks/${webhookId}/deliveries/${item.id}`))
    details.push({ ...detail, payload: JSON.parse(detail.body) })
  }
  return details.sort((a, b) => a.seq - b.seq || (a.id < b.id ? -1 : 1))
}

/** What the keyless change feed shows now, by cursor. */
async function publicFeed (app: FastifyInstance): Promise<Map<string, { action: string, data: Record<string, unknown> }>> {
  const feed = json(await app.inject({ url: '/changes?after=0&limit=500', headers: anonymous }))
  return new Map(feed.items.map((item: { cursor: string, action: string, data: Record<string, unknown> }) => [item.cursor, item]))
}

t.test('a webhook\'s audience is set at creation and by PATCH, shown when read, and checked', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const staff = await post(app, '/webhooks', { url: 'https://desk.example.com/hook', events: ['*'] })
  t.equal(staff.statusCode, 201)
  t.equal(json(staff).audience, 'staff', 'staff by default')
  const created = await post(app, '/webhooks', { url: 'https://frontend.example.com/api/revalidate', events: ['article.published'], audience: 'public' })
  t.equal(created.statusCode, 201)
  const hook = json(created)
  t.equal(hook.audience, 'public')
  t.equal(json(await app.inject(`/webhooks/${hook.id as string}`)).audience, 'public', 'GET shows it')
  t.same(json(await app.inject('/webhooks')).items.map((item: { audience: string }) => item.audience), ['staff', 'public'], 'the list shows it')

  const paused = json(await app.inject({ method: 'PATCH', url: `/webhooks/${hook.id as string}`, payload: { active: false } }))
  t.match(paused, { active: false, audience: 'public' }, 'a PATCH that leaves out audience keeps it')
  const toStaff = json(await app.inject({ method: 'PATCH', url: `/webhooks/${hook.id as string}`, payload: { audience: 'staff' } }))
  t.match(toStaff, { active: false, audience: 'staff' }, 'PATCH changes it, and only it')

  for (const [method, url, payload] of [
    ['POST', '/webhooks', { url: 'https://partner.example.com/hook', events: ['*'], audience: 'partners' }],
    ['PATCH', `/webhooks/${hook.id as string}`, { audience: 'partners' }],
    ['PATCH', `/webhooks/${hook.id as string}`, { audience: null }]
  ] as const) {
    const refused = await app.inject({ method, url, payload })
    t.equal(refused.statusCode, 400, `${method} ${JSON.stringify(payload)}`)
    t.match(refused.headers['content-type'], /^application\/problem\+json/)
    t.ok(json(refused).errors.some((error: { in: string, pointer: string }) => error.in === 'body' && error.pointer === '/audience'), `names /audience: ${refused.body}`)
  }
  t.equal(json(await app.inject('/webhooks')).items.length, 2, 'nothing was created')
  t.equal(json(await app.inject(`/webhooks/${hook.id as string}`)).audience, 'staff', 'nothing was changed')
})

t.test('a public webhook is sent only what the keyless change feed shows; a staff one everything, in full', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const publicHook = json(await post(app, '/webhooks', { url: 'https://frontend.example.com/api/revalidate', events: ['*'], audience: 'public' }))
  const staffHook = json(await post(app, '/webhooks', { url: 'https://desk.example.com/hook', events: ['*'] }))
  let seen = 0
  /** The public webhook's deliveries since the last call, each checked against the public change feed. */
  const newPublicDeliveries = async (): Promise<Delivery[]> => {
    const all = await deliveriesOf(app, publicHook.id)
    const fresh = all.slice(seen)
    seen = all.length
    const feed = await publicFeed(app)
    for (const delivery of fresh) {
      const item = feed.get(String(delivery.seq))
      t.ok(item, `${delivery.event} (change ${delivery.seq}) is in the public change feed`)
      t.same(delivery.payload.data, item?.data, `${delivery.event}: the data the public change feed shows, no more`)
    }
    return fresh
  }

  // A draft, created and edited: nothing public.
  const draft = await createArticle(app, { headline: 'Minister Resigns Over Leaked Memo', slug: 'minister-resigns' })
  await app.inject({ method: 'PATCH', url: `/articles/${draft.id as string}`, payload: { headline: 'Minister Resigns Over Leaked Budget Memo' } })
  t.same(await newPublicDeliveries(), [], 'no event for a draft created or edited')

  // Under embargo, then published: nothing until it lifts.
  const embargoed = await createArticle(app, { headline: 'Central Bank Raises Rates To Record High', slug: 'rates-record-high' })
  t.equal((await app.inject({ method: 'PUT', url: `/articles/${embargoed.id as string}/embargo`, payload: { until: inAnHour(), note: 'Bank embargo' } })).statusCode, 200)
  t.equal((await app.inject({ method: 'PATCH', url: `/articles/${embargoed.id as string}`, payload: { status: 'published' } })).statusCode, 200)
  t.same(await newPublicDeliveries(), [], 'no event for an article published under embargo')
  const leaked = (await deliveriesOf(app, publicHook.id)).filter((delivery) => /Minister|minister-resigns|Central Bank|rates-record-high/.test(delivery.body))
  t.same(leaked, [], 'no headline or slug of a draft or an embargoed story in any public delivery')
  const stored = await app.db.webhookDelivery.findMany({ where: { webhookId: publicHook.id }, select: { body: true } })
  t.notOk(stored.some((row) => /Minister|Central Bank/.test(row.body)), 'nor in the delivery table')

  // The embargo lifts as the scheduler lifts it: the story goes live, and the public hears so, in full.
  t.same(await liftDueEmbargoes(app.db, new Date(Date.now() + 7_200_000)), [embargoed.id])
  const lifted = await newPublicDeliveries()
  t.same(lifted.map((delivery) => delivery.event), ['article.published'], 'article.published when the embargo lifts')
  t.match(lifted[0]?.payload.data, { id: embargoed.id, headline: 'Central Bank Raises Rates To Record High', status: 'published', embargoedUntil: null })

  // A live story put under embargo comes down: the public hears that, as its id only.
  const live = await createArticle(app, { headline: 'Talks Collapse In Geneva', slug: 'talks-collapse', status: 'published' })
  t.same((await newPublicDeliveries()).map((delivery) => delivery.event), ['article.created', 'article.published'])
  t.equal((await app.inject({ method: 'PUT', url: `/articles/${live.id as string}/embargo`, payload: { until: inAnHour() } })).statusCode, 200)
  const downForEmbargo = await newPublicDeliveries()
  t.same(downForEmbargo.map((delivery) => [delivery.event, delivery.payload.data]), [['article.unpublished', { id: live.id }]], 'taken down: its id, not its headline or slug')
  t.notMatch(downForEmbargo[0]?.body, /Talks Collapse|talks-collapse/)

  // Killed: a live story as its id only; a draft not at all.
  const killedLive = await createArticle(app, { headline: 'Named Suspect Arrested', slug: 'named-suspect', status: 'published' })
  await newPublicDeliveries()
  t.equal((await post(app, `/articles/${killedLive.id as string}/kill`, { reason: 'Legal: reporting restriction' })).statusCode, 200)
  t.equal((await post(app, `/articles/${draft.id as string}/kill`, { reason: 'Spiked' })).statusCode, 200)
  const kills = await newPublicDeliveries()
  t.same(kills.map((delivery) => [delivery.event, delivery.payload.data]), [['article.killed', { id: killedLive.id }]], 'a kill as the public change feed shows it')

  // Unpublished: its id and slug, as the public change feed shows a tombstone.
  const unpublished = await createArticle(app, { headline: 'Road Closures This Weekend', slug: 'road-closures', status: 'published' })
  await app.inject({ method: 'PATCH', url: `/articles/${unpublished.id as string}`, payload: { status: 'draft' } })
  const tombstone = (await newPublicDeliveries()).at(-1)
  t.same([tombstone?.event, tombstone?.payload.data], ['article.unpublished', { id: unpublished.id, slug: 'road-closures' }])

  // The staff webhook heard every event, with the full data.
  const staff = await deliveriesOf(app, staffHook.id)
  const articleEvents = staff.filter((delivery) => delivery.event.startsWith('article.'))
  t.ok(articleEvents.every((delivery) => typeof delivery.payload.data.headline === 'string'), 'every article event carries the headline')
  const heard = (id: string): string[] => articleEvents.filter((delivery) => delivery.payload.data.id === id).map((delivery) => delivery.event)
  t.same(heard(draft.id), ['article.created', 'article.updated', 'article.killed'], 'the draft, created, edited and killed')
  t.same(heard(embargoed.id), ['article.created', 'article.updated', 'article.updated', 'article.published'], 'the embargoed story: created, embargoed, published under embargo, lifted')
  t.same(heard(live.id), ['article.created', 'article.published', 'article.unpublished'])
  t.same(heard(killedLive.id), ['article.created', 'article.published', 'article.killed'])
  t.equal(articleEvents.find((delivery) => delivery.payload.data.id === embargoed.id && delivery.event === 'article.updated')?.payload.data.headline, 'Central Bank Raises Rates To Record High', 'staff see the embargoed headline')
})

/** A receiver on 127.0.0.1 that answers 503 until opened, then 200. */
async function startReceiver (t: { teardown: (fn: () => unknown) => void }) {
  const state = { open: false, received: [] as Array<{ deliveryId: string, body: string, status: number }> }
  const server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => { body += String(chunk) })
    request.on('end', () => {
      const status = state.open ? 200 : 503
      state.received.push({ deliveryId: String(request.headers['copydesk-delivery']), body, status })
      response.writeHead(status).end()
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, state }
}

const sending = { webhookAllowedInternal: '127.0.0.1', webhookPollIntervalMs: 50, webhookRetryBaseMs: 50, schedulerIntervalMs: 100, webhookMaxAttempts: 50 }

t.test('a public webhook\'s retry after a kill goes out as the public change feed now shows the change: the id only', async (t) => {
  const receiver = await startReceiver(t)
  const app = await buildTestApp(t, sending)
  const hook = json(await post(app, '/webhooks', { url: receiver.url, events: ['article.published', 'article.killed'], audience: 'public' }))
  const story = await createArticle(app, { headline: 'Judge Lifts Reporting Ban', slug: 'reporting-ban', status: 'published' })
  const [publication] = await deliveriesOf(app, hook.id)
  t.match(publication?.payload.data, { id: story.id, headline: 'Judge Lifts Reporting Ban' }, 'queued in full while the story is public')
  t.ok(await waitFor(() => receiver.state.received.some((request) => request.deliveryId === publication?.id)), 'tried, and refused by the receiver')

  await post(app, `/articles/${story.id as string}/kill`, { reason: 'Legal: the ban was reinstated' })
  const killedAt = receiver.state.received.length
  // A request already on its way may still carry the old body; wait for one prepared after the kill.
  t.ok(await waitFor(() => receiver.state.received.slice(killedAt).some((request) => request.deliveryId === publication?.id && !request.body.includes('Judge'))), 'retried with the id only')
  const triedAfterKill = receiver.state.received.length
  receiver.state.open = true

  t.ok(await waitFor(async () => (await deliveriesOf(app, hook.id)).every((delivery) => delivery.status === 'delivered')), 'both deliveries go out')
  const stored = await deliveriesOf(app, hook.id)
  const sentLast = (deliveryId: string): string | undefined => receiver.state.received.filter((request) => request.deliveryId === deliveryId && request.status === 200).at(-1)?.body
  t.same(stored.map((delivery) => [delivery.event, JSON.parse(sentLast(delivery.id) ?? '{}').data]), [
    ['article.published', { id: story.id }],
    ['article.killed', { id: story.id }]
  ], 'the publication and the kill, as the public change feed shows them now')
  t.same(stored.map((delivery) => delivery.body), stored.map((delivery) => sentLast(delivery.id)), 'the log shows the bodies as sent')
  t.notOk(receiver.state.received.slice(triedAfterKill).some((request) => /Judge Lifts|reporting-ban/.test(request.body)), 'no headline or slug went out after the kill')
})

t.test('deliveries queued for a staff webhook are not sent once it is made public, replayed or not', async (t) => {
  const receiver = await startReceiver(t)
  receiver.state.open = true
  const databaseUrl = await testDatabaseUrl(t)
  const editor = await buildTestApp(t, { databaseUrl, webhookAllowedInternal: '127.0.0.1', backgroundJobs: false })
  const hook = json(await post(editor, '/webhooks', { url: receiver.url, events: ['article.created'] }))
  const draft = await createArticle(editor, { headline: 'Unannounced Merger Talks', slug: 'merger-talks' })
  const story = await createArticle(editor, { headline: 'Council Approves Budget', slug: 'council-budget', status: 'published' })
  t.equal((await deliveriesOf(editor, hook.id)).length, 2, 'queued for staff: the draft and the story')
  await editor.inject({ method: 'PATCH', url: `/webhooks/${hook.id as string}`, payload: { audience: 'public' } })

  const sender = await buildTestApp(t, { databaseUrl, ...sending })
  await sender.ready()
  t.ok(await waitFor(async () => (await deliveriesOf(editor, hook.id)).every((delivery) => delivery.status !== 'pending')), 'both are settled')
  const [ofDraft, ofStory] = await deliveriesOf(editor, hook.id)
  t.match(ofDraft, { status: 'failed', attempts: 0, lastError: /audience is public/ }, 'the draft\'s is given up, unsent, and says why')
  t.match(ofStory, { status: 'delivered' }, 'the public story\'s goes out')
  t.match(JSON.parse(ofStory?.body ?? '{}').data, { id: story.id, headline: 'Council Approves Budget' })
  t.same(receiver.state.received.map((request) => request.deliveryId), [ofStory?.id], 'the receiver heard of the story only')

  t.equal((await editor.inject({ method: 'POST', url: `/webhooks/${hook.id as string}/deliveries/${ofDraft?.id ?? ''}/replay` })).statusCode, 202)
  t.ok(await waitFor(async () => json(await editor.inject(`/webhooks/${hook.id as string}/deliveries/${ofDraft?.id ?? ''}`)).status === 'failed'), 'a replay is checked the same way')
  t.notOk(receiver.state.received.some((request) => request.deliveryId === ofDraft?.id || request.body.includes(draft.id)), 'nothing of the draft reached the receiver')
})
