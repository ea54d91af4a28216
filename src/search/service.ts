// Full-text search over headline, dek, body and author names: SQLite FTS5 (bm25) or PostgreSQL
// tsvector with a GIN index (ts_rank_cd), both made by the migrations named article_search. The
// query language is the same on both: words (all must match), "quoted phrases", and prefix* words.
import { Prisma, type Database } from '../db/client.ts'
import type { Provider } from '../db/providers.ts'
import { errors, withFieldErrors, type CatalogueError } from '../errors.ts'
import { articleSummarySelect, toArticleSummary } from '../articles/service.ts'
import type { ArticleSummary } from '../articles/schemas.ts'
import type { Actor } from '../keys/roles.ts'

export interface SearchQuery {
  q: string
  page: number
  limit: number
  section?: string
  author?: string
  tag?: string
  publishedAfter?: string
  publishedBefore?: string
  status?: 'published' | 'any'
}

interface Term { words: string[], prefix: boolean }

const MAX_TERMS = 16

/** Words and phrases, reduced to letters and digits: nothing a user types reaches a query parser raw. */
export function parseQuery (q: string): Term[] {
  const terms: Term[] = []
  for (const match of q.matchAll(/"([^"]*)"|(\S+)/g)) {
    const phrase = match[1]
    const text = phrase ?? match[2] ?? ''
    const prefix = phrase === undefined && text.endsWith('*')
    const words = text.normalize('NFKC').split(/[^\p{L}\p{N}]+/u).filter((word) => word !== '').map((word) => word.toLowerCase())
    if (words.length === 0) continue
    // A word with inner punctuation ("covid-19", "o'brien") becomes a phrase of its parts.
    terms.push({ words, prefix })
    if (terms.length === MAX_TERMS) break
  }
  return terms
}

function ftsMatch (terms: Term[]): string {
  return terms.map((term) => `"${term.words.join(' ')}"${term.prefix ? '*' : ''}`).join(' AND ')
}

function tsQuery (terms: Term[]): string {
  return terms.map((term) => {
    const lexemes = term.words.map((word, index) => index === term.words.length - 1 && term.prefix ? `${word}:*` : word)
    return lexemes.length === 1 ? lexemes[0] : `(${lexemes.join(' <-> ')})`
  }).join(' & ')
}

// Highlights are marked with control characters by the engine, then the text is escaped and the
// marks become <mark>: what was stored as text is never served as markup.
const OPEN = '\u0002'
const CLOSE = '\u0003'
function markup (text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
    .replaceAll(OPEN, '<mark>').replaceAll(CLOSE, '</mark>').replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
}

export interface SearchHit { article: ArticleSummary, score: number, highlights: { headline: string, snippet: string } }
export interface SearchResult { items: SearchHit[], total: number, page: number, limit: number, totalPages: number, query: string }

interface Row { id: string, score: number, headline: string, snippet: string }

export async function search (db: Database, provider: Provider, query: SearchQuery, viewer: Actor | null): Promise<SearchResult> {
  const terms = parseQuery(query.q)
  if (terms.length === 0) {
    throw withFieldErrors(errors.validationFailed('q has no words to search for') as CatalogueError, [{ in: 'query', pointer: '/q', message: 'needs at least one word (letters or digits)' }])
  }
  const status = query.status ?? 'published'
  if (status !== 'published' && viewer === null) {
    throw withFieldErrors(errors.authenticationRequired('Only published articles are searchable without a key') as CatalogueError, [{ in: 'query', pointer: '/status', message: 'needs a staff key unless it is "published"' }])
  }
  const conditions: Prisma.Sql[] = []
  if (status === 'published') conditions.push(Prisma.sql`a."status" = 'published'`)
  if (query.section !== undefined) conditions.push(Prisma.sql`a."sectionId" IN (SELECT "id" FROM "Section" WHERE "slug" = ${query.section})`)
  if (query.tag !== undefined) conditions.push(Prisma.sql`a."id" IN (SELECT at."articleId" FROM "ArticleTag" at JOIN "Tag" t ON t."id" = at."tagId" WHERE t."slug" = ${query.tag})`)
  if (query.author !== undefined) conditions.push(Prisma.sql`a."id" IN (SELECT b."articleId" FROM "Byline" b JOIN "Author" au ON au."id" = b."authorId" WHERE au."slug" = ${query.author})`)
  const after = query.publishedAfter === undefined ? undefined : new Date(query.publishedAfter)
  const before = query.publishedBefore === undefined ? undefined : new Date(query.publishedBefore)
  if (provider === 'sqlite') {
    if (after !== undefined) conditions.push(Prisma.sql`julianday(a."publishedAt") > julianday(${after.toISOString()})`)
    if (before !== undefined) conditions.push(Prisma.sql`julianday(a."publishedAt") < julianday(${before.toISOString()})`)
  } else {
    if (after !== undefined) conditions.push(Prisma.sql`a."publishedAt" > ${after}`)
    if (before !== undefined) conditions.push(Prisma.sql`a."publishedAt" < ${before}`)
  }
  const filters = conditions.length === 0 ? Prisma.empty : Prisma.sql`AND ${Prisma.join(conditions, ' AND ')}`
  const offset = (query.page - 1) * query.limit

  let rows: Row[]
  let total: number
  if (provider === 'sqlite') {
    const match = ftsMatch(terms)
    const from = Prisma.sql`FROM "article_search" s JOIN "Article" a ON a."id" = s."article_id" WHERE "article_search" MATCH ${match} ${filters}`
    ;[rows, total] = await db.$transaction(async (tx) => [
      await tx.$queryRaw<Row[]>`SELECT s."article_id" AS "id", -bm25("article_search", 0.0, 10.0, 4.0, 1.0, 3.0) AS "score",
          highlight("article_search", 1, ${OPEN}, ${CLOSE}) AS "headline",
          snippet("article_search", 3, ${OPEN}, ${CLOSE}, '…', 24) AS "snippet"
        ${from} ORDER BY bm25("article_search", 0.0, 10.0, 4.0, 1.0, 3.0), a."publishedAt" DESC, a."id" LIMIT ${query.limit} OFFSET ${offset}`,
      Number((await tx.$queryRaw<Array<{ n: bigint | number }>>`SELECT count(*) AS "n" ${from}`)[0]?.n ?? 0)
    ])
  } else {
    const ts = tsQuery(terms)
    const from = Prisma.sql`FROM "article_search" s JOIN "Article" a ON a."id" = s."article_id", to_tsquery('english', ${ts}) query WHERE s."document" @@ query ${filters}`
    ;[rows, total] = await db.$transaction(async (tx) => [
      await tx.$queryRaw<Row[]>`SELECT s."article_id" AS "id", ts_rank_cd(s."document", query, 1)::float8 AS "score",
          ts_headline('english', s."headline", query, ${`StartSel=${OPEN}, StopSel=${CLOSE}, HighlightAll=true`}) AS "headline",
          ts_headline('english', s."body", query, ${`StartSel=${OPEN}, StopSel=${CLOSE}, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "`}) AS "snippet"
        ${from} ORDER BY "score" DESC, a."publishedAt" DESC NULLS LAST, a."id" LIMIT ${query.limit} OFFSET ${offset}`,
      Number((await tx.$queryRaw<Array<{ n: bigint | number }>>`SELECT count(*) AS "n" ${from}`)[0]?.n ?? 0)
    ])
  }
  const records = await db.article.findMany({ where: { id: { in: rows.map((row) => row.id) } }, select: articleSummarySelect })
  const byId = new Map(records.map((record) => [record.id, record]))
  const items = rows.flatMap((row) => {
    const record = byId.get(row.id)
    if (record === undefined) return []
    return [{ article: toArticleSummary(record), score: Number(Number(row.score).toPrecision(6)), highlights: { headline: markup(row.headline), snippet: markup(row.snippet) } }]
  })
  return { items, total, page: query.page, limit: query.limit, totalPages: Math.ceil(total / query.limit), query: query.q }
}
