// Keyless reads of the public read model: one indexed query each, on a connection of their own with
// statements prepared once (Prisma's SQLite adapter prepares every statement again on every query,
// and its query interpreter costs more than the read itself). SQLite: a read-only connection, which
// in WAL mode sees every committed write. PostgreSQL: named prepared statements on a small pool, on
// the primary or a read replica (read-model/connections.ts).
import { createHash } from 'node:crypto'
import BetterSqlite3 from 'better-sqlite3'
import type pg from 'pg'
import type { FastifyBaseLogger, FastifyReply } from 'fastify'
import type { Config } from '../config.ts'
import { sqlitePath } from '../db/providers.ts'
import type { TaxonomyKind } from '../taxonomy/schemas.ts'
import { openReadConnections, type ConnectionReport } from './connections.ts'

export interface StoredPage { document: string, etag: string, purgeKeys: string }
export interface StoredDocument extends StoredPage { version: number }
/** An article in a list: its stored summary, its publication time (ISO) and its document's ETag. */
export interface StoredSummary { id: string, summary: string, publishedAtText: string, etag: string }

/** A window of the published articles in publication order, from a keyset position or an offset. */
export interface WindowQuery {
  order: 'asc' | 'desc'
  /** Rows strictly beyond this (publishedAt as an ISO string, id) in `order`. */
  after: { publishedAt: string, id: string } | null
  offset: number
  take: number
}

export interface PublicReads {
  articleById: (id: string) => Promise<StoredDocument | undefined>
  articleBySlug: (slug: string) => Promise<StoredDocument | undefined>
  authorById: (id: string) => Promise<StoredPage | undefined>
  authorBySlug: (slug: string) => Promise<StoredPage | undefined>
  /** Another stored public document, by key (read-model/documents.ts). */
  document: (key: string) => Promise<StoredPage | undefined>
  termById: (kind: TaxonomyKind, id: string) => Promise<StoredPage | undefined>
  termBySlug: (kind: TaxonomyKind, slug: string) => Promise<StoredPage | undefined>
  /** Sections or tags by name, as the lists show them: their ids and documents. */
  termWindow: (kind: TaxonomyKind, offset: number, take: number) => Promise<Array<{ id: string, document: string }>>
  termCount: (kind: TaxonomyKind) => Promise<number>
  window: (query: WindowQuery) => Promise<StoredSummary[]>
  count: () => Promise<number>
  /** Keyless reads the primary answered, and each read replica's state. */
  report: () => { publicReadsOnPrimary: number, replicas: ConnectionReport[] }
  close: () => Promise<void>
}

const DOCUMENT_COLUMNS = '"document", "etag", "purgeKeys", "version"'
const PAGE_COLUMNS = '"document", "etag", "purgeKeys"'
/** A term's only purge key is its own, as the response cache would name it (plugins/http-cache.ts). */
const TERM_COLUMNS = '"document", "etag", \'term-\' || "id" AS "purgeKeys"'

/** The four windows' SQL: a range of the (publishedAt, id) index, read from the position on. */
function windowSql (order: 'asc' | 'desc', keyset: boolean, engine: 'sqlite' | 'postgresql'): string {
  const beyond = order === 'desc' ? '<' : '>'
  const where = !keyset ? '' : engine === 'sqlite' ? `WHERE ("publishedAt", "id") ${beyond} (?, ?) ` : `WHERE ("publishedAt", "id") ${beyond} ($1::timestamp, $2) `
  const page = engine === 'sqlite' ? 'LIMIT ? OFFSET ?' : keyset ? 'LIMIT $3 OFFSET $4' : 'LIMIT $1 OFFSET $2'
  // The time as ISO 8601 text with a Z, as the API shows it (named apart from the column, which ORDER
  // BY must keep meaning). SQLite already stores it as ISO text ending in +00:00, swapped for Z in
  // JavaScript, which costs less than a SQL function per row.
  const publishedAt = engine === 'sqlite' ? '"publishedAt"' : 'to_char("publishedAt", \'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"\')'
  return `SELECT "id", "summary", "etag", ${publishedAt} AS "publishedAtText" FROM "PublicArticle" ${where}ORDER BY "publishedAt" ${order}, "id" ${order} ${page}`
}

function sqliteReads (config: Config): PublicReads {
  const connection = new BetterSqlite3(sqlitePath(config.databaseUrl), { readonly: true, fileMustExist: true, timeout: config.sqliteBusyTimeoutMs })
  const byId = connection.prepare(`SELECT ${DOCUMENT_COLUMNS} FROM "PublicArticle" WHERE "id" = ?`)
  const bySlug = connection.prepare(`SELECT ${DOCUMENT_COLUMNS} FROM "PublicArticle" WHERE "slug" = ?`)
  const count = connection.prepare('SELECT count(*) FROM "PublicArticle"').pluck()
  const authorById = connection.prepare(`SELECT ${PAGE_COLUMNS} FROM "PublicAuthor" WHERE "id" = ?`)
  const authorBySlug = connection.prepare(`SELECT ${PAGE_COLUMNS} FROM "PublicAuthor" WHERE "slug" = ?`)
  const documentByKey = connection.prepare(`SELECT ${PAGE_COLUMNS} FROM "PublicDocument" WHERE "key" = ?`)
  const termById = connection.prepare(`SELECT ${TERM_COLUMNS} FROM "PublicTerm" WHERE "kind" = ? AND "id" = ?`)
  const termBySlug = connection.prepare(`SELECT ${TERM_COLUMNS} FROM "PublicTerm" WHERE "kind" = ? AND "slug" = ?`)
  const termWindow = connection.prepare('SELECT "id", "document" FROM "PublicTerm" WHERE "kind" = ? ORDER BY "name", "id" LIMIT ? OFFSET ?')
  const termCount = connection.prepare('SELECT count(*) FROM "PublicTerm" WHERE "kind" = ?').pluck()
  const windows = new Map<string, BetterSqlite3.Statement>()
  for (const order of ['asc', 'desc'] as const) {
    for (const keyset of [false, true]) windows.set(`${order}:${keyset}`, connection.prepare(windowSql(order, keyset, 'sqlite')).raw())
  }
  let publicReads = 0
  const reads: Omit<PublicReads, 'report' | 'close'> = {
    articleById: async (id) => byId.get(id) as StoredDocument | undefined,
    articleBySlug: async (slug) => bySlug.get(slug) as StoredDocument | undefined,
    authorById: async (id) => authorById.get(id) as StoredPage | undefined,
    authorBySlug: async (slug) => authorBySlug.get(slug) as StoredPage | undefined,
    document: async (key) => documentByKey.get(key) as StoredPage | undefined,
    termById: async (kind, id) => termById.get(kind, id) as StoredPage | undefined,
    termBySlug: async (kind, slug) => termBySlug.get(kind, slug) as StoredPage | undefined,
    termWindow: async (kind, offset, take) => termWindow.all(kind, take, offset) as Array<{ id: string, document: string }>,
    termCount: async (kind) => Number(termCount.get(kind)),
    window: async ({ order, after, offset, take }) => {
      const statement = windows.get(`${order}:${after !== null}`) as BetterSqlite3.Statement
      // Prisma stores SQLite times as text in this form, so they compare in order.
      const position = after === null ? [] : [after.publishedAt.replace(/Z$/, '+00:00'), after.id]
      // Rows as arrays (cheaper than objects to make), in the column order of windowSql.
      const rows = statement.all(...position, take, offset) as Array<[string, string, string, string]>
      return rows.map(([id, summary, etag, publishedAt]) => ({ id, summary, etag, publishedAtText: publishedAt.replace('+00:00', 'Z') }))
    },
    count: async () => Number(count.get())
  }
  // Each reader counted, for /ready (as read-model/connections.ts counts them on PostgreSQL).
  const counted = Object.fromEntries(Object.entries(reads).map(([name, read]) => [name, async (...args: never[]) => {
    publicReads++
    return await (read as (...args: never[]) => Promise<unknown>)(...args)
  }])) as unknown as Omit<PublicReads, 'report' | 'close'>
  return {
    ...counted,
    report: () => ({ publicReadsOnPrimary: publicReads, replicas: [] }),
    close: async () => { connection.close() }
  }
}

async function postgresReads (config: Config, log: FastifyBaseLogger, newestGeneration: () => bigint): Promise<PublicReads> {
  const connections = await openReadConnections(config, log)
  const run = async <T extends pg.QueryResultRow>(name: string, text: string, values: unknown[]): Promise<T[]> =>
    await connections.query<T>({ name, text, values }, newestGeneration())
  return {
    articleById: async (id) => (await run<StoredDocument>('public-article-by-id', `SELECT ${DOCUMENT_COLUMNS} FROM "PublicArticle" WHERE "id" = $1`, [id]))[0],
    articleBySlug: async (slug) => (await run<StoredDocument>('public-article-by-slug', `SELECT ${DOCUMENT_COLUMNS} FROM "PublicArticle" WHERE "slug" = $1`, [slug]))[0],
    authorById: async (id) => (await run<StoredPage>('public-author-by-id', `SELECT ${PAGE_COLUMNS} FROM "PublicAuthor" WHERE "id" = $1`, [id]))[0],
    authorBySlug: async (slug) => (await run<StoredPage>('public-author-by-slug', `SELECT ${PAGE_COLUMNS} FROM "PublicAuthor" WHERE "slug" = $1`, [slug]))[0],
    document: async (key) => (await run<StoredPage>('public-document', `SELECT ${PAGE_COLUMNS} FROM "PublicDocument" WHERE "key" = $1`, [key]))[0],
    termById: async (kind, id) => (await run<StoredPage>('public-term-by-id', `SELECT ${TERM_COLUMNS} FROM "PublicTerm" WHERE "kind" = $1 AND "id" = $2`, [kind, id]))[0],
    termBySlug: async (kind, slug) => (await run<StoredPage>('public-term-by-slug', `SELECT ${TERM_COLUMNS} FROM "PublicTerm" WHERE "kind" = $1 AND "slug" = $2`, [kind, slug]))[0],
    termWindow: async (kind, offset, take) => await run<{ id: string, document: string }>('public-terms', 'SELECT "id", "document" FROM "PublicTerm" WHERE "kind" = $1 ORDER BY "name", "id" LIMIT $2 OFFSET $3', [kind, take, offset]),
    termCount: async (kind) => Number((await run<{ count: string }>('public-terms-count', 'SELECT count(*) AS "count" FROM "PublicTerm" WHERE "kind" = $1', [kind]))[0]?.count ?? 0),
    window: async ({ order, after, offset, take }) => {
      const sql = windowSql(order, after !== null, 'postgresql')
      const position = after === null ? [] : [after.publishedAt, after.id]
      return await run<StoredSummary>(`public-articles-${order}-${after !== null}`, sql, [...position, take, offset])
    },
    count: async () => Number((await run<{ count: string }>('public-articles-count', 'SELECT count(*) AS "count" FROM "PublicArticle"', []))[0]?.count ?? 0),
    report: () => ({ publicReadsOnPrimary: connections.publicReadsOnPrimary(), replicas: connections.report() }),
    close: async () => { await connections.close() }
  }
}

/** Sends stored bytes as they are, with their ETag and purge keys (nothing to render or hash). */
export function sendStoredPage (reply: FastifyReply, stored: StoredPage): FastifyReply {
  const state = reply.request.cacheState
  if (state !== undefined) {
    state.keys = stored.purgeKeys.split(' ')
    state.etag = stored.etag
  }
  return reply.header('etag', stored.etag).type('application/json; charset=utf-8').send(stored.document)
}

/**
 * `newestGeneration`: the newest content generation this instance has read from the primary; a
 * replica answers only once it has replayed that far (read-model/connections.ts).
 */
export async function openPublicReads (config: Config, provider: string, log: FastifyBaseLogger, newestGeneration: () => bigint): Promise<PublicReads> {
  return provider === 'sqlite' ? sqliteReads(config) : await postgresReads(config, log, newestGeneration)
}

/**
 * A list page made of stored documents, in the order of the list schema (common-schemas.ts Page):
 * items, then total, page, limit, totalPages and whatever else the page has.
 */
export function pageJson (items: string[], rest: Record<string, unknown>): string {
  return `{"items":[${items.join(',')}],${JSON.stringify(rest).slice(1)}`
}

/** The query of a public article list, as far as the read model answers it. */
export interface LatestQuery { sort: '-publishedAt' | 'publishedAt', page: number, limit: number, cursor: { towards: 'next' | 'prev', value: string, id: string } | null }

export interface LatestPage {
  /** The response body, as the live path would serialize it. */
  json: string
  /** The page's ETag, made from what its bytes are made of. */
  etag: string
  itemIds: string[]
  /** Null on a page reached by cursor, whose number is not known. */
  page: number | null
  totalPages: number
  nextCursor: string | null
  prevCursor: string | null
}

/**
 * Latest News and its pages from stored summaries: the same items, totals and cursors as the live
 * list of published articles (articles/service.ts readMany), joined as bytes.
 */
export async function readLatest (reads: PublicReads, query: LatestQuery, total: () => Promise<number>, encodeCursor: (towards: 'next' | 'prev', publishedAt: string, id: string) => string): Promise<LatestPage> {
  const order = query.sort === '-publishedAt' ? 'desc' : 'asc'
  const backwards = query.cursor?.towards === 'prev'
  const rows = await reads.window({
    order: backwards ? (order === 'desc' ? 'asc' : 'desc') : order,
    after: query.cursor === null ? null : { publishedAt: query.cursor.value, id: query.cursor.id },
    offset: query.cursor === null ? (query.page - 1) * query.limit : 0,
    take: query.limit + 1
  })
  const more = rows.length > query.limit
  const shown = rows.slice(0, query.limit)
  if (backwards) shown.reverse()
  const count = await total()
  const hasNext = backwards ? true : more
  const hasPrev = query.cursor === null ? query.page > 1 : (backwards ? more : true)
  const cursorAt = (row: StoredSummary | undefined, towards: 'next' | 'prev'): string | null => {
    if (row === undefined) return null
    return encodeCursor(towards, row.publishedAtText, row.id)
  }
  const page = query.cursor === null ? query.page : null
  const totalPages = Math.ceil(count / query.limit)
  const nextCursor = hasNext ? cursorAt(shown.at(-1), 'next') : null
  const prevCursor = hasPrev ? cursorAt(shown[0], 'prev') : null
  const rest = { total: count, page, limit: query.limit, totalPages, nextCursor, prevCursor }
  // A strong validator without hashing the page's bytes: they are a function of the items' documents
  // (each summary is part of its document, whose ETag names it) and of the rest of the page.
  const etag = `"${createHash('sha256').update(shown.map((row) => row.etag).join()).update(JSON.stringify(rest)).digest('base64url').slice(0, 22)}"`
  return { json: pageJson(shown.map((row) => row.summary), rest), etag, itemIds: shown.map((row) => row.id), page, totalPages, nextCursor, prevCursor }
}
