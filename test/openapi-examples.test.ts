// The document's examples, sent as they are to a freshly seeded server (the demo seed, whose rows
// have the ids and slugs the examples name), must all succeed: what Swagger UI's "Try it out" sends
// with its pre-filled values, and what a newcomer copies. Only values no seed can know (a webhook,
// key, upload or preview link made during the walk) are taken from the answers of earlier steps.
import t from 'tap'
import { buildTestApp, injectMaybeEndless, isEventStream, json, anonymous } from './helper.ts'
import { seedDemoContent } from '../src/db/seed.ts'

interface Operation { path: string, method: string, operation: any } // eslint-disable-line @typescript-eslint/no-explicit-any -- plain JSON

// Writes run in this order: what later steps refer to first, what others depend on last.
const deleteOrder = ['/articles', '/images', '/masthead', '/sections', '/tags', '/authors', '/webhooks', '/keys']
const createOrder = ['/webhooks', '/keys', '/images/upload']
const rank = (order: string[], path: string): number => {
  const index = order.findIndex((prefix) => path.startsWith(prefix))
  return index === -1 ? order.length : index
}

function multipart (fields: Record<string, string>): { payload: Buffer, headers: Record<string, string> } {
  const boundary = '----copydesk-example'
  const parts = Object.entries(fields).map(([name, value]) => name === 'file'
    ? `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="pixel.gif"\r\nContent-Type: image/gif\r\n\r\n${value}\r\n`
    : `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`)
  // latin1: the example file's characters are its bytes.
  return { payload: Buffer.from(`${parts.join('')}--${boundary}--\r\n`, 'latin1'), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
}

t.test('every documented example succeeds against a freshly seeded server', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  await seedDemoContent(app.db)
  const document = json(await app.inject({ method: 'GET', url: '/openapi.json' }))
  const made: Record<string, string> = {}

  /** A parameter's documented example, or what an earlier step made for it. */
  const valueOf = (path: string, parameter: any): string | undefined => { // eslint-disable-line @typescript-eslint/no-explicit-any -- plain JSON
    const example = parameter.example ?? Object.values<{ value: unknown }>(parameter.examples ?? {})[0]?.value ?? parameter.schema?.examples?.[0]
    if (example !== undefined) return String(example)
    if (parameter.in !== 'path') return undefined
    if (parameter.name === 'deliveryId') return made.delivery
    if (parameter.name === 'token') return made.previewToken
    if (path.startsWith('/webhooks')) return made.webhook
    if (path.startsWith('/keys')) return made.key
    if (path.startsWith('/images')) return made.upload
    return undefined
  }

  const send = async ({ path, method, operation }: Operation, body?: { mediaType: string, value: unknown }, headers: Record<string, string> = {}) => {
    const parameters: any[] = operation.parameters ?? [] // eslint-disable-line @typescript-eslint/no-explicit-any -- plain JSON
    const url = path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = valueOf(path, parameters.find((parameter) => parameter.in === 'path' && parameter.name === name))
      if (value === undefined) throw new Error(`${method.toUpperCase()} ${path}: no example and nothing made for {${name}}`)
      return encodeURIComponent(value)
    })
    const query = new URLSearchParams()
    for (const parameter of parameters.filter((parameter) => parameter.in === 'query')) {
      const value = valueOf(path, parameter)
      if (value !== undefined) query.set(parameter.name, value)
    }
    const target = `${url}${query.size > 0 ? `?${query.toString()}` : ''}`
    let payload: { payload?: string | Buffer, headers?: Record<string, string> } = {}
    if (body?.mediaType === 'application/json') payload = { payload: JSON.stringify(body.value), headers: { 'content-type': 'application/json' } }
    else if (body?.mediaType === 'multipart/form-data') payload = multipart(body.value as Record<string, string>)
    else if (body !== undefined) payload = { payload: Buffer.from(body.value as string, 'latin1'), headers: { 'content-type': body.mediaType } }
    const options = { method: method.toUpperCase() as 'GET', url: target, ...payload, headers: { ...payload.headers, ...headers } }
    const response = isEventStream(operation) ? await injectMaybeEndless(app, options) : await app.inject(options)
    const label = `${method.toUpperCase()} ${target}${body === undefined ? '' : ` (${body.mediaType})`}${headers.authorization === '' ? ' without a key' : ''}`
    t.ok(response.statusCode >= 200 && response.statusCode < 300, `${label} → ${response.statusCode}`, { body: response.body.slice(0, 300) })
    return response
  }

  /** Each request example of the operation, or none for an operation without a body. */
  const bodiesOf = (operation: any): Array<{ mediaType: string, value: unknown } | undefined> => { // eslint-disable-line @typescript-eslint/no-explicit-any -- plain JSON
    const content = operation.requestBody?.content ?? {}
    const bodies = Object.entries<any>(content).flatMap(([mediaType, media]) => [ // eslint-disable-line @typescript-eslint/no-explicit-any -- plain JSON
      ...(media.example === undefined ? [] : [{ mediaType, value: media.example }]),
      ...Object.values<any>(media.examples ?? {}).map((example) => ({ mediaType, value: example.value })) // eslint-disable-line @typescript-eslint/no-explicit-any -- plain JSON
    ])
    if (operation.requestBody?.required === true) t.ok(bodies.length > 0, `${String(operation.operationId)} has a request example`)
    return bodies.length > 0 ? bodies : [undefined]
  }

  const operations: Operation[] = Object.entries<any>(document.paths).flatMap(([path, item]) => // eslint-disable-line @typescript-eslint/no-explicit-any -- plain JSON
    Object.entries<any>(item).map(([method, operation]) => ({ path, method, operation }))) // eslint-disable-line @typescript-eslint/no-explicit-any -- plain JSON
  const needsMade = ({ path, operation }: Operation): boolean => (operation.parameters ?? [])
    .some((parameter: any) => parameter.in === 'path' && valueOf(path, parameter) === undefined) // eslint-disable-line @typescript-eslint/no-explicit-any -- plain JSON
    || path === '/images/upload'

  const madeLater = new Set(operations.filter(needsMade))
  // 1. Reads, as "Try it out" sends them: with the keyless public and with an admin key. A list
  // that a pre-filled filter narrows must still find something.
  for (const entry of operations.filter((entry) => entry.method === 'get' && !madeLater.has(entry))) {
    const callers = entry.operation['x-copydesk-access'] === 'public' ? [anonymous, {}] : [{}]
    for (const headers of callers) {
      const response = await send(entry, undefined, headers)
      const filtered = (entry.operation.parameters ?? []).some((parameter: any) => parameter.in === 'query' && valueOf(entry.path, parameter) !== undefined) // eslint-disable-line @typescript-eslint/no-explicit-any -- plain JSON
      const items = filtered && String(response.headers['content-type']).startsWith('application/json') ? json(response).items : undefined
      if (Array.isArray(items)) t.ok(items.length > 0, `${entry.method.toUpperCase()} ${entry.path} with its examples finds something`)
    }
  }

  // 2. Creations, then what needed them.
  const writes = operations.filter((entry) => entry.method !== 'get' && entry.method !== 'delete')
  const creations = writes.filter((entry) => entry.method === 'post' && !entry.path.includes('{'))
    .sort((a, b) => rank(createOrder, a.path) - rank(createOrder, b.path))
  for (const entry of creations) {
    for (const body of bodiesOf(entry.operation)) {
      const created = json(await send(entry, body))
      if (entry.path === '/webhooks') made.webhook = created.id
      if (entry.path === '/keys') made.key = created.id
      if (entry.path === '/images/upload') made.upload = created.id
    }
  }
  // 3. Changes to what exists (the preview link minted here is read in 4).
  const changes = writes.filter((entry) => !creations.includes(entry))
    .sort((a, b) => Number(a.operation.operationId === 'replayWebhookDelivery') - Number(b.operation.operationId === 'replayWebhookDelivery'))
  for (const entry of changes) {
    if (entry.operation.operationId === 'replayWebhookDelivery') {
      // The webhook heard the edits above. Only a delivery no longer pending can be replayed: one is
      // set as failed, standing in for attempts that would take minutes.
      const delivery = await app.db.webhookDelivery.findFirst({ where: { webhookId: made.webhook } })
      t.ok(delivery, 'the webhook made in step 2 has a delivery')
      made.delivery = delivery?.id ?? ''
      await app.db.webhookDelivery.update({ where: { id: made.delivery }, data: { status: 'failed' } })
    }
    for (const body of bodiesOf(entry.operation)) {
      const response = await send(entry, body)
      if (entry.operation.operationId === 'createArticlePreviewLink') made.previewToken = json(response).token
    }
  }
  // 4. Reads of what the walk made, then deletions, articles before what they use.
  for (const entry of operations.filter((entry) => entry.method === 'get' && madeLater.has(entry))) await send(entry)
  const deletions = operations.filter((entry) => entry.method === 'delete').sort((a, b) => rank(deleteOrder, a.path) - rank(deleteOrder, b.path))
  for (const entry of deletions) await send(entry)
  t.ok(operations.length > 70, `${operations.length} operations walked`)
})
