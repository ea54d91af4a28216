// How the client's generated files are made, shared by `npm run client:generate` and the test that
// fails CI when the committed files no longer match the document the app builds.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import openapiTS, { astToString, COMMENT_HEADER, type OpenAPI3 } from 'openapi-typescript'
import { buildApp } from '../../../src/app.ts'
import { loadConfig } from '../../../src/config.ts'

export const documentPath = new URL('../openapi.json', import.meta.url)
export const schemaPath = new URL('../src/schema.ts', import.meta.url)

/**
 * The OpenAPI document as the app builds it, from default settings (the environment is ignored, so
 * every machine generates the same document). The app needs a database to boot: a throwaway one.
 */
export async function buildDocument (): Promise<OpenAPI3> {
  const dir = mkdtempSync(join(tmpdir(), 'copydesk-client-'))
  try {
    const config = loadConfig({}, {
      databaseUrl: `file:${join(dir, 'openapi.db')}`,
      imageDirectory: join(dir, 'images'),
      logLevel: 'silent',
      seedDemoContent: false,
      backgroundJobs: false
    })
    const app = await buildApp(config)
    try {
      await app.ready()
      // A JSON round trip: the file holds exactly what /openapi.json serves, without undefined values.
      return JSON.parse(JSON.stringify(app.swagger())) as OpenAPI3
    } finally {
      await app.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * The document as committed: compact JSON with a final newline, as /openapi.json serves it (indented,
 * it was twice the size). Review changes to the API in src/schema.ts, which is generated beside it.
 */
export function renderDocument (document: OpenAPI3): string {
  return `${JSON.stringify(document)}\n`
}

/** The `paths` and `components` types for openapi-fetch. */
export async function renderSchema (document: OpenAPI3): Promise<string> {
  const ast = await openapiTS(document, { silent: true })
  const header = COMMENT_HEADER.replace('Do not make direct changes to the file.', 'Do not edit: run `npm run client:generate`.')
  return `${header.trim()}\n\n${astToString(ast).trimStart()}`
}
