// Boots the real app on a fresh SQLite file per test file, and small helpers for requests.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { buildApp } from '../src/app.ts'
import { loadConfig, type Config } from '../src/config.ts'
import { randomUUID } from 'node:crypto'
import { runAdmin, withDatabaseName, type Provider } from '../src/db/providers.ts'

interface TapLike { teardown: (fn: () => unknown) => void }

/** The engine the suite runs against: TEST_DATABASE=postgresql with TEST_POSTGRES_URL, else SQLite. */
export const testProvider: Provider = process.env.TEST_DATABASE === 'postgresql' ? 'postgresql' : 'sqlite'

/** A new, empty database for one test: a temporary SQLite file, or a new PostgreSQL database. */
export async function testDatabaseUrl (t: TapLike): Promise<string> {
  if (testProvider === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'copydesk-test-'))
    t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
    return `file:${join(dir, 'test.db')}`
  }
  const adminUrl = process.env.TEST_POSTGRES_URL
  if (adminUrl === undefined) throw new Error('TEST_DATABASE=postgresql needs TEST_POSTGRES_URL (see .ci/postgres.sh)')
  const name = `copydesk_test_${randomUUID().replace(/-/g, '')}`
  await runAdmin(adminUrl, `CREATE DATABASE "${name}"`)
  t.teardown(async () => { await runAdmin(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) })
  return withDatabaseName(adminUrl, name)
}

/** The admin key every test app has (COPYDESK_BOOTSTRAP_KEY). */
export const adminKey = 'cdk_test-admin-key-0123456789abcdefghijklmnopqrstuv'
/** Headers for a request without any key: the public. */
export const anonymous = { authorization: '' }
export const bearer = (key: string) => ({ authorization: `Bearer ${key}` })

export async function testConfig (t: TapLike, overrides: Partial<Config> = {}): Promise<Config> {
  const databaseUrl = overrides.databaseUrl ?? await testDatabaseUrl(t)
  const imageDirectory = overrides.imageDirectory ?? mkdtempSync(join(tmpdir(), 'copydesk-images-'))
  if (overrides.imageDirectory === undefined) t.teardown(() => { rmSync(imageDirectory, { recursive: true, force: true }) })
  // Rate limits are off unless a test is about them: suites send thousands of requests from one address.
  return loadConfig({}, { logLevel: 'silent', seedDemoContent: false, bootstrapKey: adminKey, readRateLimit: 0, writeRateLimit: 0, authFailureLimit: 0, ...overrides, databaseUrl, imageDirectory })
}

/**
 * The real app on a fresh database. Its inject() sends the admin key unless the request sets its
 * own Authorization header (`headers: anonymous` for the public), so tests about content need not
 * repeat it; tests about access say exactly who is asking.
 */
export async function buildTestApp (t: TapLike, overrides: Partial<Config> = {}): Promise<FastifyInstance> {
  const app = await buildApp(await testConfig(t, overrides))
  t.teardown(async () => { await app.close() })
  const inject = app.inject.bind(app) as (options: InjectOptions) => Promise<LightMyRequestResponse>
  const injectAsAdmin = async (options: InjectOptions | string): Promise<LightMyRequestResponse> => {
    const request = typeof options === 'string' ? { url: options } : options
    const headers = request.headers ?? {}
    return await inject({ ...request, headers: 'authorization' in headers ? headers : { ...headers, ...bearer(adminKey) } })
  }
  Object.defineProperty(app, 'inject', { value: injectAsAdmin })
  await app.ready()
  return app
}

export function json<T = any> (response: LightMyRequestResponse): T { // eslint-disable-line @typescript-eslint/no-explicit-any -- test bodies are checked field by field
  return JSON.parse(response.body) as T
}

/**
 * inject() for an operation that may answer with an endless stream (server-sent events): such a
 * response's body is its first chunk, and the stream is then let go; other responses are read whole.
 */
export async function injectMaybeEndless (app: FastifyInstance, options: InjectOptions): Promise<LightMyRequestResponse> {
  const response = await app.inject({ ...options, payloadAsStream: true })
  const stream = response.stream()
  let body: string
  if (String(response.headers['content-type']).startsWith('text/event-stream')) {
    body = await new Promise<string>((resolve) => { stream.once('data', (chunk: Buffer) => { resolve(chunk.toString()) }) })
    stream.destroy()
  } else {
    const chunks: Buffer[] = []
    for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer))
    body = Buffer.concat(chunks).toString()
  }
  return Object.assign(Object.create(response) as LightMyRequestResponse, { body, payload: body })
}

/** Polls `condition` until it holds (true) or `timeoutMs` passes (false): tests wait on state, not on time. */
export async function waitFor (condition: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await condition()) return true
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return false
}

/** True for an operation of the OpenAPI document that answers with server-sent events. */
export const isEventStream = (operation: { responses?: Record<string, { content?: Record<string, unknown> }> }): boolean =>
  operation.responses?.['200']?.content?.['text/event-stream'] !== undefined

export async function post (app: FastifyInstance, url: string, payload: unknown): Promise<LightMyRequestResponse> {
  return await app.inject({ method: 'POST', url, payload: payload as object })
}

export async function createImage (app: FastifyInstance, fields: Record<string, unknown> = {}): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const response = await post(app, '/images', { url: 'https://images.example.com/photo.jpg', mimeType: 'image/jpeg', altText: 'A photo', ...fields })
  if (response.statusCode !== 201) throw new Error(`image not created: ${response.body}`)
  return json(response)
}

export async function createAuthor (app: FastifyInstance, fields: Record<string, unknown> = {}): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const response = await post(app, '/authors', { name: 'Alex Rowan', ...fields })
  if (response.statusCode !== 201) throw new Error(`author not created: ${response.body}`)
  return json(response)
}

export async function createArticle (app: FastifyInstance, fields: Record<string, unknown> = {}): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const response = await post(app, '/articles', { headline: 'A Headline', body: [{ type: 'paragraph', text: 'Some text.' }], ...fields })
  if (response.statusCode !== 201) throw new Error(`article not created: ${response.body}`)
  return json(response)
}

/** A minimal event-stream reader over real HTTP: the frames received so far, parsed. */
export interface StreamClient {
  events: Array<{ id?: string, event?: string, data?: any }> // eslint-disable-line @typescript-eslint/no-explicit-any -- event data is checked field by field
  /** Comment frames (heartbeats) received. */
  comments: number
  close: () => void
  status: number
  /** The last id heard (an event's or a heartbeat's): where a reconnection resumes. */
  lastId?: string
  /** The server ended the stream. */
  ended: boolean
}

export async function openStream (base: string, path: string, headers: Record<string, string> = {}): Promise<StreamClient> {
  const controller = new AbortController()
  const response = await fetch(`${base}${path}`, { headers, signal: controller.signal })
  const client: StreamClient = { events: [], comments: 0, close: () => { controller.abort() }, status: response.status, ended: false }
  if (response.status !== 200 || response.body === null) return client
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
  void (async () => {
    let buffer = ''
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) {
          client.ended = true
          return
        }
        buffer += value
        let end: number
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const frame = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          if (frame.startsWith(':')) {
            client.comments += 1
            const id = /\nid: (\d+)/.exec(frame)?.[1]
            if (id !== undefined) client.lastId = id
            continue
          }
          const event: StreamClient['events'][number] = {}
          for (const line of frame.split('\n')) {
            const [field, ...rest] = line.split(': ')
            const value = rest.join(': ')
            if (field === 'id') event.id = value
            else if (field === 'event') event.event = value
            else if (field === 'data') event.data = JSON.parse(value)
          }
          if (event.id !== undefined) client.lastId = event.id
          // An id alone moves the position a reconnection resumes from, and is not an event.
          if (event.data !== undefined || event.event !== undefined) client.events.push(event)
        }
      }
    } catch {}
  })()
  return client
}

/** Waits on observable state (polling every 20 ms), then records it as a passing assertion. */
export async function until (t: { pass: (message: string) => void }, what: string, check: () => boolean, deadlineMs = 10_000): Promise<void> {
  const deadline = Date.now() + deadlineMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  t.pass(what)
}
