// Webhooks against a real HTTP receiver on 127.0.0.1.
import t from 'tap'
import { createHmac } from 'node:crypto'
import { createServer, type IncomingMessage } from 'node:http'
import { once } from 'node:events'
import { buildTestApp, createArticle, json, post, testDatabaseUrl } from './helper.ts'

interface Received { headers: IncomingMessage['headers'], body: string }

/** A receiver that answers each request with the next status in `plan` (then 200), optionally slowly. */
async function startReceiver (t: { teardown: (fn: () => unknown) => void }, plan: number[] = [], delayMs = 0) {
  const received: Received[] = []
  const server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => { body += String(chunk) })
    request.on('end', () => {
      received.push({ headers: request.headers, body })
      const status = plan.shift() ?? 200
      setTimeout(() => { response.writeHead(status).end() }, delayMs)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  const { port } = server.address() as { port: number }
  return { url: `http://127.0.0.1:${port}/hook`, received }
}

async function waitFor (condition: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await condition()) return true
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return false
}

const fast = { webhookPollIntervalMs: 50, webhookRetryBaseMs: 50, schedulerIntervalMs: 100 }

t.test('deliveries are signed POSTs with the event, recorded as delivered', async (t) => {
  const receiver = await startReceiver(t)
  const app = await buildTestApp(t, fast)
  const created = await post(app, '/webhooks', { url: receiver.url, events: ['article.published', 'article.deleted'], description: 'CDN purge' })
  t.equal(created.statusCode, 201)
  const webhook = json(created)
  t.match(webhook.secret, /^whsec_[0-9a-f]{48}$/)
  t.notOk('secret' in json(await app.inject({ method: 'GET', url: `/webhooks/${webhook.id}` })), 'the secret is shown only once')

  await createArticle(app, { headline: 'Not subscribed' })
  const article = await createArticle(app, { headline: 'Goes out', status: 'published' })
  t.ok(await waitFor(() => receiver.received.length >= 1), 'the receiver hears about the publication')
  const [first] = receiver.received
  const payload = JSON.parse(first!.body)
  t.equal(payload.event, 'article.published')
  t.equal(payload.data.id, article.id)
  t.equal(payload.data.slug, article.slug)
  t.equal(first!.headers['copydesk-event'], 'article.published')
  t.equal(first!.headers['copydesk-delivery'], payload.id)
  const [, timestamp, signature] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(first!.headers['copydesk-signature'])) ?? []
  t.equal(signature, createHmac('sha256', webhook.secret).update(`${timestamp}.${first!.body}`).digest('hex'), 'HMAC-SHA256 over "timestamp.body" checks out')
  t.ok(Math.abs(Number(timestamp) - Date.now() / 1000) < 60)

  await app.inject({ method: 'DELETE', url: `/articles/${article.id}` })
  t.ok(await waitFor(() => receiver.received.length >= 2))
  t.equal(JSON.parse(receiver.received[1]!.body).event, 'article.deleted')
  t.equal(receiver.received.length, 2, 'unsubscribed events (article.created) are not sent')

  t.ok(await waitFor(async () => json(await app.inject({ method: 'GET', url: `/webhooks/${webhook.id}/deliveries?status=delivered` })).total === 2))
  const log = json(await app.inject({ method: 'GET', url: `/webhooks/${webhook.id}/deliveries` }))
  t.same(log.items.map((d: any) => [d.event, d.status, d.attempts, d.lastStatusCode]), [['article.deleted', 'delivered', 1, 200], ['article.published', 'delivered', 1, 200]])
})

t.test('failures are retried with backoff, then recorded; a slow receiver never slows the editor', async (t) => {
  const flaky = await startReceiver(t, [500, 503])
  const dead = await startReceiver(t, [500, 500, 500, 500, 500, 500])
  const slow = await startReceiver(t, [], 3000)
  const app = await buildTestApp(t, { ...fast, webhookMaxAttempts: 3, webhookTimeoutMs: 1000 })
  const flakyHook = json(await post(app, '/webhooks', { url: flaky.url, events: ['*'] }))
  const deadHook = json(await post(app, '/webhooks', { url: dead.url, events: ['author.created'] }))
  await post(app, '/webhooks', { url: slow.url, events: ['author.created'] })

  const started = Date.now()
  const author = await post(app, '/authors', { name: 'Jordan Vale' })
  t.equal(author.statusCode, 201)
  t.ok(Date.now() - started < 2900, 'the write returns without waiting for the 3-second receiver')

  t.ok(await waitFor(() => flaky.received.length >= 3), 'retried until the receiver recovered')
  t.same(flaky.received.map((r) => r.headers['copydesk-delivery']), Array(3).fill(flaky.received[0]!.headers['copydesk-delivery']), 'the same delivery each time')
  t.ok(await waitFor(async () => json(await app.inject({ method: 'GET', url: `/webhooks/${flakyHook.id}/deliveries` })).items[0]?.status === 'delivered'))
  const flakyLog = json(await app.inject({ method: 'GET', url: `/webhooks/${flakyHook.id}/deliveries` })).items[0]
  t.equal(flakyLog.attempts, 3)

  t.ok(await waitFor(async () => json(await app.inject({ method: 'GET', url: `/webhooks/${deadHook.id}/deliveries` })).items[0]?.status === 'failed'), 'gives up after the maximum attempts')
  const deadLog = json(await app.inject({ method: 'GET', url: `/webhooks/${deadHook.id}/deliveries` })).items[0]
  t.equal(deadLog.attempts, 3)
  t.equal(deadLog.lastStatusCode, 500)
  t.match(deadLog.lastError, 'receiver answered 500')
  t.equal(dead.received.length, 3, 'no more attempts after giving up')
})

t.test('queued deliveries survive a restart', async (t) => {
  const receiver = await startReceiver(t)
  const databaseUrl = await testDatabaseUrl(t)
  const first = await buildTestApp(t, { databaseUrl, backgroundJobs: false })
  await post(first, '/webhooks', { url: receiver.url, events: ['image.created'] })
  await post(first, '/images', { url: 'https://images.example.com/a.jpg', mimeType: 'image/jpeg', altText: 'A' })
  await first.close()
  t.equal(receiver.received.length, 0, 'nothing was sent before the restart')
  const second = await buildTestApp(t, { databaseUrl, ...fast })
  await second.ready()
  t.ok(await waitFor(() => receiver.received.length === 1), 'the restarted instance delivers it')
  t.equal(JSON.parse(receiver.received[0]!.body).event, 'image.created')
})

t.test('a paused webhook\'s queued deliveries wait, and go out when it is switched back on', async (t) => {
  const receiver = await startReceiver(t)
  const databaseUrl = await testDatabaseUrl(t)
  const editor = await buildTestApp(t, { databaseUrl, backgroundJobs: false })
  const hook = json(await post(editor, '/webhooks', { url: receiver.url, events: ['author.created'] }))
  await post(editor, '/authors', { name: 'Queued Before Pause' })
  await editor.inject({ method: 'PATCH', url: `/webhooks/${hook.id}`, payload: { active: false } })
  await post(editor, '/authors', { name: 'Written While Paused' })
  const sender = await buildTestApp(t, { databaseUrl, ...fast })
  await sender.ready()
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.equal(receiver.received.length, 0, 'nothing is sent to a paused webhook')
  await editor.inject({ method: 'PATCH', url: `/webhooks/${hook.id}`, payload: { active: true } })
  t.ok(await waitFor(() => receiver.received.length === 1), 'the queued delivery goes out on resume')
  t.equal(JSON.parse(receiver.received[0]!.body).data.name, 'Queued Before Pause')
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(receiver.received.length, 1, 'events from while it was paused were never queued for it')
})

t.test('shutting down cancels a delivery in flight and hands it back, uncounted', async (t) => {
  const slow = await startReceiver(t, [], 30_000)
  const databaseUrl = await testDatabaseUrl(t)
  const app = await buildTestApp(t, { databaseUrl, ...fast, webhookTimeoutMs: 60_000 })
  const hook = json(await post(app, '/webhooks', { url: slow.url, events: ['author.created'] }))
  await post(app, '/authors', { name: 'In Flight' })
  t.ok(await waitFor(() => slow.received.length === 1), 'the delivery is in flight')
  const started = Date.now()
  await app.close()
  t.ok(Date.now() - started < 5000, 'close does not wait for the receiver')
  const after = await buildTestApp(t, { databaseUrl, backgroundJobs: false })
  const [delivery] = json(await after.inject({ method: 'GET', url: `/webhooks/${hook.id}/deliveries` })).items
  t.match(delivery, { status: 'pending', attempts: 0, lastError: null }, 'it will be sent again, and the cancelled attempt does not count')
})

t.test('webhook management validates its input', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  for (const payload of [{ url: 'ftp://x.example/hook', events: ['*'] }, { url: 'https://x.example/hook', events: [] }, { url: 'https://x.example/hook', events: ['article.exploded'] }, { url: 'https://x.example/hook' }]) {
    t.equal((await post(app, '/webhooks', payload)).statusCode, 400, JSON.stringify(payload))
  }
  const hook = json(await post(app, '/webhooks', { url: 'https://x.example/hook', events: ['*'] }))
  t.equal(json(await app.inject({ method: 'PATCH', url: `/webhooks/${hook.id}`, payload: { active: false } })).active, false)
  t.equal(json(await app.inject({ method: 'GET', url: '/webhooks' })).items.length, 1)
  t.equal((await app.inject({ method: 'DELETE', url: `/webhooks/${hook.id}` })).statusCode, 204)
  t.equal(json(await app.inject({ method: 'GET', url: `/webhooks/${hook.id}` })).code, 'WEBHOOK_NOT_FOUND')
})
