// Boots the real app on a fresh SQLite file per test file, and small helpers for requests.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { buildApp } from '../src/app.ts'
import { loadConfig, type Config } from '../src/config.ts'

interface TapLike { teardown: (fn: () => unknown) => void }

export function testConfig (overrides: Partial<Config> = {}): Config {
  const dir = mkdtempSync(join(tmpdir(), 'copydesk-test-'))
  return loadConfig({}, { databaseUrl: `file:${join(dir, 'test.db')}`, logLevel: 'silent', seedDemoContent: false, ...overrides })
}

export async function buildTestApp (t: TapLike, overrides: Partial<Config> = {}): Promise<FastifyInstance> {
  const config = testConfig(overrides)
  const app = await buildApp(config)
  t.teardown(async () => {
    await app.close()
    rmSync(join(config.databaseUrl.replace(/^file:/, ''), '..'), { recursive: true, force: true })
  })
  return app
}

export function json<T = any> (response: LightMyRequestResponse): T { // eslint-disable-line @typescript-eslint/no-explicit-any -- test bodies are checked field by field
  return JSON.parse(response.body) as T
}

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
