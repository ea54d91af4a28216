// Webhooks against a real HTTP receiver on 127.0.0.1.
import t from 'tap'
import { createHmac, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage } from 'node:http'
import { once } from 'node:events'
import { buildTestApp, createArticle, createAuthor, json, post, testDatabaseUrl, waitFor } from './helper.ts'
import { loadConfig } from '../src/config.ts'
import { eventNames } from '../src/webhooks/events.ts'

interface Received { headers: IncomingMessage['headers'], body: string, status: number, event: string, deliveryId: string, objectId: string }
/** How a receiver answers: the next status of a plan (then 200), or a status chosen per request. */
type Answer = number[] | ((request: Omit<Received, 'status'>) => number)

/** A receiver that answers each request as `answer` says, optionally slowly; it can be stopped and started again on its port. */
async function startReceiver (t: { teardown: (fn: () => unknown) => void }, answer: Answer = [], delayMs = 0) {
  const received: Received[] = []
  const server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => { body += String(chunk) })
    request.on('end', () => {
      const payload = JSON.parse(body)
      const arrival = { headers: request.headers, body, event: payload.event, deliveryId: payload.id, objectId: payload.data?.id }
      const status = typeof answer === 'function' ? answer(arrival) : answer.shift() ?? 200
      received.push({ ...arrival, status })
      setTimeout(() => { response.writeHead(status).end() }, delayMs)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const stop = async (): Promise<void> => {
    server.closeAllConnections()
    if (server.listening) await new Promise((resolve) => server.close(resolve))
  }
  t.teardown(stop)
  const { port } = server.address() as { port: number }
  const start = async (): Promise<void> => {
    server.listen(port, '127.0.0.1')
    await once(server, 'listening')
  }
  return { url: `http://127.0.0.1:${port}/hook`, received, stop, start }
}


// The receivers here listen on 127.0.0.1, an internal address webhooks are refused unless allowed.
const receivers = { webhookAllowedInternal: '127.0.0.1' }
const fast = { ...receivers, webhookPollIntervalMs: 50, webhookRetryBaseMs: 50, schedulerIntervalMs: 100 }

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
  const first = await buildTestApp(t, { databaseUrl, ...receivers, backgroundJobs: false })
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
  const witness = await startReceiver(t)
  const databaseUrl = await testDatabaseUrl(t)
  const editor = await buildTestApp(t, { databaseUrl, ...receivers, backgroundJobs: false })
  const hook = json(await post(editor, '/webhooks', { url: receiver.url, events: ['author.created'] }))
  await post(editor, '/authors', { name: 'Queued Before Pause' })
  await editor.inject({ method: 'PATCH', url: `/webhooks/${hook.id}`, payload: { active: false } })
  await post(editor, '/webhooks', { url: witness.url, events: ['author.created'] })
  await post(editor, '/authors', { name: 'Written While Paused' })
  const sender = await buildTestApp(t, { databaseUrl, ...fast })
  await sender.ready()
  // The witness's delivery is newer than the paused one: once it is out, the sender has looked past the paused one.
  t.ok(await waitFor(() => witness.received.length === 1), 'the sender is running')
  t.equal(receiver.received.length, 0, 'nothing is sent to a paused webhook')
  await editor.inject({ method: 'PATCH', url: `/webhooks/${hook.id}`, payload: { active: true } })
  t.ok(await waitFor(() => receiver.received.length === 1), 'the queued delivery goes out on resume')
  t.equal(JSON.parse(receiver.received[0]!.body).data.name, 'Queued Before Pause')
  t.equal(json(await editor.inject({ method: 'GET', url: `/webhooks/${hook.id}/deliveries` })).total, 1, 'events from while it was paused were never queued for it')
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
  const after = await buildTestApp(t, { databaseUrl, ...receivers, backgroundJobs: false })
  const [delivery] = json(await after.inject({ method: 'GET', url: `/webhooks/${hook.id}/deliveries` })).items
  t.match(delivery, { status: 'pending', attempts: 0, lastError: null }, 'it will be sent again, and the cancelled attempt does not count')
})

t.test('webhook management validates its input', async (t) => {
  const app = await buildTestApp(t, { ...receivers, backgroundJobs: false })
  for (const payload of [{ url: 'ftp://x.example/hook', events: ['*'] }, { url: 'https://x.example/hook', events: [] }, { url: 'https://x.example/hook', events: ['article.exploded'] }, { url: 'https://x.example/hook' }]) {
    t.equal((await post(app, '/webhooks', payload)).statusCode, 400, JSON.stringify(payload))
  }
  const hook = json(await post(app, '/webhooks', { url: 'https://x.example/hook', events: ['*'] }))
  t.equal(json(await app.inject({ method: 'PATCH', url: `/webhooks/${hook.id}`, payload: { active: false } })).active, false)
  const described = json(await app.inject({ method: 'PATCH', url: `/webhooks/${hook.id}`, payload: { description: 'Paused for the migration' } }))
  t.match(described, { description: 'Paused for the migration', active: false }, 'a PATCH that leaves out active keeps the webhook paused')
  t.equal(json(await app.inject({ method: 'GET', url: '/webhooks' })).items.length, 1)
  t.equal((await app.inject({ method: 'DELETE', url: `/webhooks/${hook.id}` })).statusCode, 204)
  t.equal(json(await app.inject({ method: 'GET', url: `/webhooks/${hook.id}` })).code, 'WEBHOOK_NOT_FOUND')
})

t.test('webhooks never reach internal addresses unless WEBHOOK_ALLOWED_INTERNAL names them', async (t) => {
  const receiver = await startReceiver(t)
  const app = await buildTestApp(t, { webhookPollIntervalMs: 50, webhookMaxAttempts: 1 })
  const internal = [
    'http://169.254.169.254/latest/meta-data/', 'http://127.0.0.1:8080/hook', receiver.url, 'http://0x7f000001/', 'http://2130706433/', 'http://0177.0.0.1/',
    'http://127.1/', 'http://10.1.2.3/', 'http://172.16.0.1/', 'http://192.168.1.1/', 'http://100.64.0.1/', 'http://0.0.0.0/', 'http://224.0.0.1/',
    'http://255.255.255.255/', 'http://[::1]/', 'http://[::]/', 'http://[::ffff:127.0.0.1]/', 'http://[::ffff:a9fe:a9fe]/', 'http://[fe80::1]/',
    'http://[fd00::1]/', 'http://[ff02::1]/', 'http://localhost:3000/', 'http://LOCALHOST./', 'http://api.localhost/'
  ]
  for (const url of internal) {
    const response = await post(app, '/webhooks', { url, events: ['*'] })
    t.equal(response.statusCode, 400, url)
    t.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8')
    t.match(json(response), { code: 'VALIDATION_FAILED', errors: [{ in: 'body', pointer: '/url', message: /is internal \(/ }] }, `${url}: names /url`)
  }
  t.equal(await app.db.webhook.count(), 0, 'none was registered')
  const hook = json(await post(app, '/webhooks', { url: 'https://hooks.example.com/x', events: ['author.created'] }))
  const patched = await app.inject({ method: 'PATCH', url: `/webhooks/${hook.id}`, payload: { url: 'http://[::ffff:10.0.0.1]/' } })
  t.equal(patched.statusCode, 400, 'nor can a URL be changed to one')
  t.equal(json(patched).errors[0].pointer, '/url')

  // A name that led elsewhere when it was registered, and resolves to an internal address by the
  // time of sending, is refused then: the receipt says why, and nothing reaches the receiver.
  const port = new URL(receiver.url).port
  for (const url of [`http://localhost:${port}/hook`, receiver.url]) {
    await app.db.webhook.update({ where: { id: hook.id }, data: { url } })
    const author = await createAuthor(app, { name: `Rebound ${url}` })
    const [delivery] = json(await app.inject({ method: 'GET', url: `/webhooks/${hook.id}/deliveries?limit=1` })).items
    t.match(delivery, { objectKey: `author:${author.id}` })
    t.ok(await waitFor(async () => (await receiptOf(app, hook.id, delivery.id)).status === 'failed'), `${url}: the delivery fails`)
    const receipt = await receiptOf(app, hook.id, delivery.id)
    t.match(receipt, { lastStatusCode: null, lastError: /^not sent: .*127\.0\.0\.1.* is internal \(loopback\); webhooks are not sent to internal addresses unless WEBHOOK_ALLOWED_INTERNAL names them$/ })
    t.equal(receipt.receipts[0].error, receipt.lastError)
  }
  t.same(receiver.received, [], 'the internal receiver heard nothing')

  const allowed = await buildTestApp(t, { backgroundJobs: false, webhookAllowedInternal: 'hooks.internal, 10.0.0.0/8, fd00::/8, 127.0.0.1' })
  for (const url of ['http://10.20.30.40/hook', 'http://[fd00::1]/hook', 'http://0x7f000001/hook', 'http://hooks.internal/x']) {
    t.equal((await post(allowed, '/webhooks', { url, events: ['*'] })).statusCode, 201, `${url}: allowed by the setting`)
  }
  t.equal((await post(allowed, '/webhooks', { url: 'http://192.168.0.1/', events: ['*'] })).statusCode, 400, 'what the setting does not name stays refused')
  t.throws(() => loadConfig({ WEBHOOK_ALLOWED_INTERNAL: '10.0.0.0/33' }), /WEBHOOK_ALLOWED_INTERNAL/, 'a malformed setting stops the start')
})

/** Reads a delivery's receipt through the API. */
async function receiptOf (app: Awaited<ReturnType<typeof buildTestApp>>, hookId: string, deliveryId: string): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any -- checked field by field
  const response = await app.inject({ method: 'GET', url: `/webhooks/${hookId}/deliveries/${deliveryId}` })
  if (response.statusCode !== 200) throw new Error(`receipt not readable: ${response.statusCode} ${response.body}`)
  return json(response)
}

/** The order a receiver first acknowledged each delivery in, for one object. */
function acknowledged (received: Received[], objectId: string): string[] {
  return received.filter((r) => r.objectId === objectId && r.status < 300).map((r) => r.deliveryId)
}

t.test('an object\'s deliveries go out one at a time in change order; other objects are not held up', async (t) => {
  let otherArrived = false
  const failedOnce = new Set<string>()
  // The first delivery about each object fails, and keeps failing until the other author's event is in.
  const receiver = await startReceiver(t, (request) => {
    if (request.objectId === undefined) return 200
    if (request.event === 'author.created' && JSON.parse(request.body).data.name === 'Other Author') { otherArrived = true; return 200 }
    if (!failedOnce.has(request.objectId) || (!otherArrived && request.event.startsWith('author.'))) {
      failedOnce.add(request.objectId)
      return 500
    }
    return 200
  })
  const app = await buildTestApp(t, { ...fast, webhookMaxAttempts: 50 })
  const hook = json(await post(app, '/webhooks', { url: receiver.url, events: ['*'] }))

  const author = await createAuthor(app, { name: 'First Author' })
  t.ok(await waitFor(() => receiver.received.some((r) => r.objectId === author.id)), 'the first event is attempted (and fails)')
  for (const jobTitle of ['Reporter', 'Senior Reporter', 'Editor']) {
    t.equal((await app.inject({ method: 'PATCH', url: `/authors/${author.id}`, payload: { jobTitle } })).statusCode, 200)
  }
  const other = await createAuthor(app, { name: 'Other Author' })
  t.ok(await waitFor(() => otherArrived), 'another object\'s event goes out while the first object\'s head is waiting for a retry')
  t.notOk(receiver.received.some((r) => r.objectId === author.id && r.event === 'author.updated'), 'no later event of the waiting object arrived before its first one was delivered')

  // One change, two events about one article (created, then published), the first failing once.
  const article = await createArticle(app, { headline: 'Two events, one change', status: 'published' })
  const deliveries = async (): Promise<any[]> => json(await app.inject({ method: 'GET', url: `/webhooks/${hook.id}/deliveries?limit=100` })).items // eslint-disable-line @typescript-eslint/no-explicit-any
  t.ok(await waitFor(async () => (await deliveries()).every((d) => d.status === 'delivered') && (await deliveries()).length === 7), 'everything is delivered in the end')

  const all = (await deliveries()).sort((a, b) => a.seq - b.seq || (a.id < b.id ? -1 : 1))
  const inChangeOrder = (objectId: string): string[] => all.filter((d) => d.objectKey?.endsWith(objectId)).map((d) => d.id)
  t.same(acknowledged(receiver.received, author.id), inChangeOrder(author.id), 'the first author\'s four events were acknowledged in change order')
  t.equal(inChangeOrder(author.id).length, 4)
  t.same(acknowledged(receiver.received, article.id), inChangeOrder(article.id), 'article.created, then article.published')
  t.same(receiver.received.filter((r) => r.objectId === article.id).map((r) => `${r.event} ${r.status}`), ['article.created 500', 'article.created 200', 'article.published 200'], 'the second event of the change waited for the first one\'s retry')
  for (const objectId of [author.id, article.id]) {
    // Nothing about an object is sent while an earlier delivery of it is still unacknowledged.
    const sent = receiver.received.filter((r) => r.objectId === objectId)
    sent.forEach((r, index) => {
      const earlier = inChangeOrder(objectId).slice(0, inChangeOrder(objectId).indexOf(r.deliveryId))
      const acknowledgedBefore = new Set(sent.slice(0, index).filter((s) => s.status < 300).map((s) => s.deliveryId))
      t.ok(earlier.every((id) => acknowledgedBefore.has(id)), `${r.event} (${r.deliveryId}) went out after every earlier event of its object was acknowledged`)
    })
  }
  t.equal(all.find((d) => d.objectKey === `author:${other.id}`)?.attempts, 1, 'the other author\'s event went through at the first attempt')
  t.match(all.find((d) => d.objectKey === `author:${author.id}` && d.event === 'author.created'), { objectKey: `author:${author.id}`, status: 'delivered' })
  t.ok(all.find((d) => d.objectKey === `author:${author.id}` && d.event === 'author.created').attempts >= 2)
})

t.test('a delivery given up on no longer holds back the object\'s later deliveries', async (t) => {
  const receiver = await startReceiver(t, (request) => request.event === 'author.created' ? 500 : 200)
  const app = await buildTestApp(t, { ...fast, webhookMaxAttempts: 2 })
  const hook = json(await post(app, '/webhooks', { url: receiver.url, events: ['author.created', 'author.updated'] }))
  const author = await createAuthor(app, { name: 'Given Up' })
  await app.inject({ method: 'PATCH', url: `/authors/${author.id}`, payload: { jobTitle: 'Columnist' } })
  const deliveries = async (): Promise<any[]> => json(await app.inject({ method: 'GET', url: `/webhooks/${hook.id}/deliveries` })).items // eslint-disable-line @typescript-eslint/no-explicit-any
  // Wait on the recorded outcome, not on the receiver: the receiver answers before the attempt is stored.
  t.ok(await waitFor(async () => (await deliveries()).some((d) => d.event === 'author.updated' && d.status === 'delivered')), 'the update goes out once the creation is given up')
  t.same(receiver.received.map((r) => `${r.event} ${r.status}`), ['author.created 500', 'author.created 500', 'author.updated 200'])
  const [updated, created] = await deliveries()
  t.match(created, { event: 'author.created', status: 'failed', attempts: 2 })
  t.match(updated, { event: 'author.updated', status: 'delivered', attempts: 1 })
  t.ok(updated.seq > created.seq, 'in change order')
})

t.test('every attempt leaves a receipt: when, how long, what the receiver answered; the exact body sent', async (t) => {
  const receiver = await startReceiver(t, [503, 200], 40)
  const app = await buildTestApp(t, fast)
  const hook = json(await post(app, '/webhooks', { url: receiver.url, events: ['author.created'] }))
  const before = Date.now()
  const author = await createAuthor(app, { name: 'Receipt Holder' })
  const [queued] = json(await app.inject({ method: 'GET', url: `/webhooks/${hook.id}/deliveries` })).items
  t.ok(await waitFor(async () => (await receiptOf(app, hook.id, queued.id)).status === 'delivered'), 'delivered at the second attempt')
  const receipt = await receiptOf(app, hook.id, queued.id)
  const change = await app.db.change.findFirstOrThrow({ where: { objectId: author.id } })
  t.match(receipt, { id: queued.id, webhookId: hook.id, event: 'author.created', seq: Number(change.seq), objectKey: `author:${author.id}`, status: 'delivered', attempts: 2, lastStatusCode: 200, lastError: null, sending: false })
  t.equal(receipt.body, receiver.received[0]!.body, 'the body is exactly what the receiver got')
  t.equal(receiver.received[1]!.body, receiver.received[0]!.body, 'and the same on the retry')
  t.same(receipt.receipts.map((r: any) => [r.attempt, r.statusCode, r.error]), [[1, 503, 'receiver answered 503'], [2, 200, null]]) // eslint-disable-line @typescript-eslint/no-explicit-any
  for (const r of receipt.receipts) {
    t.ok(r.latencyMs >= 35 && r.latencyMs < 10_000, `attempt ${r.attempt} took ${r.latencyMs} ms, the receiver waited 40`)
    t.ok(Date.parse(r.startedAt) >= before - 1000 && Date.parse(r.startedAt) <= Date.now(), 'started when it was sent')
  }
  t.ok(Date.parse(receipt.receipts[1].startedAt) > Date.parse(receipt.receipts[0].startedAt), 'oldest first')
  const [listed] = json(await app.inject({ method: 'GET', url: `/webhooks/${hook.id}/deliveries` })).items
  t.match(listed, { id: queued.id, seq: Number(change.seq), objectKey: `author:${author.id}`, lastLatencyMs: receipt.receipts[1].latencyMs, lastAttemptAt: receipt.receipts[1].startedAt })
  t.notOk('body' in listed, 'the list stays small: bodies are in the receipt')
})

t.test('a delivery can be replayed: it goes out again with a fresh budget, and keeps its receipts', async (t) => {
  let receiverUp = false
  const receiver = await startReceiver(t, () => receiverUp ? 200 : 500)
  const app = await buildTestApp(t, { ...fast, webhookMaxAttempts: 2 })
  const hook = json(await post(app, '/webhooks', { url: receiver.url, events: ['image.created'] }))
  await post(app, '/images', { url: 'https://images.example.com/replayed.jpg', mimeType: 'image/jpeg', altText: 'Replayed' })
  const [queued] = json(await app.inject({ method: 'GET', url: `/webhooks/${hook.id}/deliveries` })).items
  t.ok(await waitFor(async () => (await receiptOf(app, hook.id, queued.id)).status === 'failed'), 'given up after two attempts')

  receiverUp = true
  const changesBefore = await app.db.change.count()
  const replayed = await app.inject({ method: 'POST', url: `/webhooks/${hook.id}/deliveries/${queued.id}/replay` })
  t.equal(replayed.statusCode, 202)
  t.match(json(replayed), { id: queued.id, status: 'pending', attempts: 0, lastStatusCode: 500, deliveredAt: null }, 'pending again, with a fresh budget')
  t.equal(json(replayed).receipts.length, 2, 'the earlier receipts stay')
  t.ok(Date.parse(json(replayed).nextAttemptAt) <= Date.now(), 'due now')
  t.equal(await app.db.change.count(), changesBefore + 1, 'recorded in the change log')
  t.match(await app.db.auditEntry.findFirst({ orderBy: { createdAt: 'desc' } }), { action: 'webhook.delivery-replayed', objectType: 'webhook', objectId: hook.id })

  t.ok(await waitFor(async () => (await receiptOf(app, hook.id, queued.id)).status === 'delivered'), 'delivered after the replay')
  const receipt = await receiptOf(app, hook.id, queued.id)
  t.same(receipt.receipts.map((r: any) => [r.attempt, r.statusCode]), [[1, 500], [2, 500], [3, 200]], 'receipts keep counting across the replay') // eslint-disable-line @typescript-eslint/no-explicit-any
  t.equal(receipt.attempts, 1, 'one attempt of the new budget')
  t.same(receiver.received.map((r) => r.deliveryId), [queued.id, queued.id, queued.id], 'the same delivery, the same id')
  const last = receiver.received[2]!
  const [, timestamp, signature] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(last.headers['copydesk-signature'])) ?? []
  t.equal(signature, createHmac('sha256', hook.secret).update(`${timestamp}.${last.body}`).digest('hex'), 'signed anew')

  const again = await app.inject({ method: 'POST', url: `/webhooks/${hook.id}/deliveries/${queued.id}/replay` })
  t.equal(again.statusCode, 202, 'a delivered one can be sent again too')
  t.ok(await waitFor(async () => (await receiptOf(app, hook.id, queued.id)).receipts.length === 4))
})

t.test('replay refuses unknown deliveries (404) and deliveries that are pending or in flight (409)', async (t) => {
  let release: () => void = () => {}
  const held = new Promise<void>((resolve) => { release = resolve })
  const slow = createServer((request, response) => { request.resume(); void held.then(() => response.writeHead(200).end()) })
  slow.listen(0, '127.0.0.1')
  await once(slow, 'listening')
  t.teardown(() => { release(); slow.closeAllConnections(); slow.close() })
  const app = await buildTestApp(t, { ...fast, webhookTimeoutMs: 30_000 })
  const hook = json(await post(app, '/webhooks', { url: `http://127.0.0.1:${(slow.address() as { port: number }).port}/hook`, events: ['author.created'] }))
  const otherHook = json(await post(app, '/webhooks', { url: 'http://127.0.0.1:9/never', events: ['article.created'], active: false }))
  await createAuthor(app, { name: 'In Flight' })
  const [delivery] = json(await app.inject({ method: 'GET', url: `/webhooks/${hook.id}/deliveries` })).items
  t.ok(await waitFor(async () => (await receiptOf(app, hook.id, delivery.id)).sending), 'the receipt shows it being sent')

  const replay = async (hookId: string, deliveryId: string) => await app.inject({ method: 'POST', url: `/webhooks/${hookId}/deliveries/${deliveryId}/replay` })
  const inFlight = await replay(hook.id, delivery.id)
  t.equal(inFlight.statusCode, 409)
  t.match(inFlight.headers['content-type'], 'application/problem+json')
  t.match(json(inFlight), { code: 'CONFLICT', detail: /being sent right now/ })

  const changesBefore = await app.db.change.count()
  for (const [hookId, deliveryId, code] of [[randomUUID(), delivery.id, 'WEBHOOK_NOT_FOUND'], [hook.id, randomUUID(), 'WEBHOOK_DELIVERY_NOT_FOUND'], [otherHook.id, delivery.id, 'WEBHOOK_DELIVERY_NOT_FOUND']] as const) {
    const answers = { replay: await replay(hookId, deliveryId), read: await app.inject({ method: 'GET', url: `/webhooks/${hookId}/deliveries/${deliveryId}` }) }
    for (const [what, response] of Object.entries(answers)) {
      t.equal(response.statusCode, 404, `${what}: ${code}`)
      t.match(json(response), { status: 404, code })
    }
  }
  t.equal(json(await replay(hook.id, 'not-a-uuid')).code, 'VALIDATION_FAILED')
  t.equal(await app.db.change.count(), changesBefore, 'refusals change nothing')

  release()
  t.ok(await waitFor(async () => (await receiptOf(app, hook.id, delivery.id)).status === 'delivered'))
  t.equal((await replay(hook.id, delivery.id)).statusCode, 202)
})

t.test('a delivery still queued cannot be replayed', async (t) => {
  const app = await buildTestApp(t, { ...receivers, backgroundJobs: false })
  const hook = json(await post(app, '/webhooks', { url: 'https://hooks.example.com/x', events: ['author.created'] }))
  await createAuthor(app, { name: 'Queued' })
  const [delivery] = json(await app.inject({ method: 'GET', url: `/webhooks/${hook.id}/deliveries` })).items
  const response = await app.inject({ method: 'POST', url: `/webhooks/${hook.id}/deliveries/${delivery.id}/replay` })
  t.equal(response.statusCode, 409)
  t.match(json(response), { code: 'CONFLICT', detail: /already pending/ })
  t.match(await receiptOf(app, hook.id, delivery.id), { status: 'pending', sending: false, receipts: [] })
})

t.test('nothing is lost while the receiver is down: failed attempts are in the receipts, and it all arrives in order once it is back', async (t) => {
  const receiver = await startReceiver(t)
  await receiver.stop()
  const app = await buildTestApp(t, { ...fast, webhookMaxAttempts: 30 })
  const hook = json(await post(app, '/webhooks', { url: receiver.url, events: ['*'] }))
  const first = await createAuthor(app, { name: 'Down One' })
  const second = await createAuthor(app, { name: 'Down Two' })
  await app.inject({ method: 'PATCH', url: `/authors/${first.id}`, payload: { jobTitle: 'Critic' } })
  await app.inject({ method: 'DELETE', url: `/authors/${second.id}` })
  const list = async (): Promise<any[]> => json(await app.inject({ method: 'GET', url: `/webhooks/${hook.id}/deliveries?limit=100` })).items // eslint-disable-line @typescript-eslint/no-explicit-any
  const heads = (await list()).filter((d) => d.event === 'author.created')
  t.equal(heads.length, 2)
  t.ok(await waitFor(async () => {
    for (const head of heads) if ((await receiptOf(app, hook.id, head.id)).receipts.length < 2) return false
    return true
  }), 'each object\'s first delivery fails and is retried')
  const down = await receiptOf(app, hook.id, heads[0].id)
  t.match(down.receipts[0], { attempt: 1, statusCode: null, error: /fetch failed|ECONNREFUSED/ })
  t.ok(down.receipts.every((r: { latencyMs: number }) => r.latencyMs >= 0))
  for (const later of (await list()).filter((d) => d.event !== 'author.created')) {
    t.same((await receiptOf(app, hook.id, later.id)).receipts, [], `${later.event} waits behind its object's first event, unattempted`)
  }

  await receiver.start()
  t.ok(await waitFor(async () => (await list()).every((d) => d.status === 'delivered')), 'all delivered once the receiver is back')
  const all = await list()
  t.equal(all.length, 4)
  t.same(new Set(receiver.received.map((r) => r.deliveryId)), new Set(all.map((d) => d.id)), 'every delivery arrived')
  t.same(receiver.received.filter((r) => r.objectId === first.id).map((r) => r.event), ['author.created', 'author.updated'], 'in change order')
  t.same(receiver.received.filter((r) => r.objectId === second.id).map((r) => r.event), ['author.created', 'author.deleted'], 'in change order')
})

t.test('every event\'s payload matches the OpenAPI webhooks section', async (t) => {
  const receiver = await startReceiver(t)
  const app = await buildTestApp(t, fast)
  await post(app, '/webhooks', { url: receiver.url, events: ['*'] })
  const article = await createArticle(app, { headline: 'Every event' })
  await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, payload: { dek: 'Edited' } })
  await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, payload: { status: 'published' } })
  await app.inject({ method: 'PATCH', url: `/articles/${article.id}`, payload: { status: 'draft' } })
  await app.inject({ method: 'POST', url: `/articles/${article.id}/kill`, payload: { reason: 'Every event' } })
  await app.inject({ method: 'POST', url: `/articles/${article.id}/unkill`, payload: { reason: 'Every event' } })
  await app.inject({ method: 'DELETE', url: `/articles/${article.id}` })
  const author = await createAuthor(app, { name: 'Every Event' })
  await app.inject({ method: 'PATCH', url: `/authors/${author.id}`, payload: { jobTitle: 'Editor' } })
  await app.inject({ method: 'DELETE', url: `/authors/${author.id}` })
  const image = json(await post(app, '/images', { url: 'https://images.example.com/every.jpg', mimeType: 'image/jpeg', altText: 'Every event' }))
  await app.inject({ method: 'PATCH', url: `/images/${image.id}`, payload: { caption: 'Captioned' } })
  await app.inject({ method: 'DELETE', url: `/images/${image.id}` })
  t.ok(await waitFor(() => new Set(receiver.received.map((r) => r.event)).size === eventNames.length), 'the receiver heard every event')

  const document = json(await app.inject({ method: 'GET', url: '/openapi.json' }))
  t.same(Object.keys(document.webhooks).sort(), [...eventNames].sort(), 'one webhook entry per event')
  const { buildValidatorCompiler } = await import('../src/validation.ts')
  const compile = buildValidatorCompiler(Object.values(app.getSchemas()) as object[])
  for (const r of receiver.received) {
    const operation = document.webhooks[r.event].post
    const media = operation.requestBody.content['application/json']
    const name = String(media.schema.$ref).replace('#/components/schemas/', '')
    t.ok(document.components.schemas[name], `${r.event}: ${name} is a component`)
    const validate = compile({ schema: { $ref: `${name}#` }, method: 'POST', url: '/', httpPart: 'body' }) as any // eslint-disable-line @typescript-eslint/no-explicit-any
    t.ok(validate(JSON.parse(r.body)), `${r.event}: the payload sent matches ${name} ${JSON.stringify(validate.errors ?? [])}`)
    t.ok(validate(media.example), `${r.event}: the documented example matches ${name}`)
    t.equal(media.example.event, r.event)
    const signature = operation.parameters.find((p: { name: string }) => p.name === 'Copydesk-Signature')
    t.ok(new RegExp(signature.schema.pattern).test(String(r.headers['copydesk-signature'])), `${r.event}: the signature header is as documented`)
  }
})
