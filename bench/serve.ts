// One server for the benchmark, in its own process so it does not share a core with the load
// generator: `app` is Copydesk itself; `bare` is a plain Fastify route replying with fixed bytes;
// `driver` is a plain Fastify route reading the same stored rows with the database driver alone
// (better-sqlite3 or pg, statements prepared once): the floor of an uncached read.
import Fastify from 'fastify'
import { readFileSync } from 'node:fs'
import BetterSqlite3 from 'better-sqlite3'
import pg from 'pg'
import { buildApp } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'
import { sqlitePath } from '../src/db/providers.ts'

const mode = process.argv[2]
if (mode === 'driver') {
  const databaseUrl = process.env.DATABASE_URL as string
  const bySlugSql = 'SELECT "document" FROM "PublicArticle" WHERE "slug" = $1'
  const latestSql = 'SELECT "summary" FROM "PublicArticle" ORDER BY "publishedAt" DESC, "id" DESC LIMIT 20'
  let bySlug: (slug: string) => Promise<string | undefined>
  let latest: () => Promise<string[]>
  if (databaseUrl.startsWith('file:')) {
    const db = new BetterSqlite3(sqlitePath(databaseUrl), { readonly: true })
    const slugStatement = db.prepare(bySlugSql.replace('$1', '?')).pluck()
    const latestStatement = db.prepare(latestSql).pluck()
    bySlug = async (slug) => slugStatement.get(slug) as string | undefined
    latest = async () => latestStatement.all() as string[]
  } else {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 })
    bySlug = async (slug) => (await pool.query<{ document: string }>({ name: 'by-slug', text: bySlugSql, values: [slug] })).rows[0]?.document
    latest = async () => (await pool.query<{ summary: string }>({ name: 'latest', text: latestSql })).rows.map((row) => row.summary)
  }
  const bare = Fastify({ logger: false })
  bare.get('/articles/slug/:slug', async (request, reply) => {
    const document = await bySlug((request.params as { slug: string }).slug)
    return await reply.code(document === undefined ? 404 : 200).type('application/json; charset=utf-8').send(document ?? '{}')
  })
  bare.get('/articles', async (_request, reply) => await reply.type('application/json; charset=utf-8').send(`{"items":[${(await latest()).join(',')}]}`))
  await bare.listen({ port: 0, host: '127.0.0.1' })
  process.send?.({ port: (bare.server.address() as { port: number }).port })
} else if (mode === 'app') {
  const app = await buildApp(loadConfig(process.env, { logLevel: 'silent', seedDemoContent: false, readRateLimit: 0 }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  process.send?.({ port: (app.server.address() as { port: number }).port })
} else {
  const responses = JSON.parse(readFileSync(process.argv[3] as string, 'utf8')) as Record<string, { type: string, base64: string }>
  const bare = Fastify({ logger: false })
  for (const [path, { type, base64 }] of Object.entries(responses)) {
    const body = Buffer.from(base64, 'base64')
    bare.get(path, async (_request, reply) => await reply.type(type).send(body))
  }
  await bare.listen({ port: 0, host: '127.0.0.1' })
  process.send?.({ port: (bare.server.address() as { port: number }).port })
}
