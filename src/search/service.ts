// Full-text search over headline, dek, body and author names: SQLite FTS5 (bm25) or PostgreSQL
// tsvector with a GIN index (ts_rank_cd), both made by the migrations named article_search. The
// query language is the same on both: words (all must match), "quoted phrases", and prefix* words.
import { Prisma, type Database } from '../db/client.ts'
import type { Provider } from '../db/providers.ts'
import { errors, withFieldErrors, type CatalogueError } from '../errors.ts'
import { articleSummarySelect, toArticleSummary } from '../articles/service.ts'
import type { ArticleSummary } from '../articles/schemas.ts'
import type { Actor } from '../keys/roles.ts'
import { facet } from './documents.ts'

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
const ELLIPSIS = '\u2026'
function markup (text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
    .replaceAll(OPEN, '<mark>').replaceAll(CLOSE, '</mark>').replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
}

export interface SearchHit { article: ArticleSummary, score: number, highlights: { headline: string, snippet: string } }
export interface SearchResult { items: SearchHit[], total: number, page: number, limit: number, totalPages: number, query: string }

interface Ranked { id: string, score: number, position: bigint | number | string }
interface Highlighted { id: string, headline: string, snippet: string }

/** Slugs in the query become ids: the index files articles under ids, which never change. */
async function filterIds (db: Database, query: SearchQuery): Promise<{ section?: string, tag?: string, author?: string } | null> {
  const ids: { section?: string, tag?: string, author?: string } = {}
  if (query.section !== undefined) {
    const found = await db.section.findUnique({ where: { slug: query.section }, select: { id: true } })
    if (found === null) return null
    ids.section = found.id
  }
  if (query.tag !== undefined) {
    const found = await db.tag.findUnique({ where: { slug: query.tag }, select: { id: true } })
    if (found === null) return null
    ids.tag = found.id
  }
  if (query.author !== undefined) {
    const found = await db.author.findUnique({ where: { slug: query.author }, select: { id: true } })
    if (found === null) return null
    ids.author = found.id
  }
  return ids
}

interface RankingQueries {
  total: () => Promise<number>
  /** The position (rowid) of the oldest of the newest `rankWindow` matches, or null without matches. */
  cutoff: () => Promise<string | null>
  atOrAbove: (cutoff: bigint) => Promise<number>
  byRelevance: (cutoff: bigint, limit: number, offset: number) => Promise<Ranked[]>
  byRecency: (cutoff: bigint, limit: number, offset: number) => Promise<Ranked[]>
}

/**
 * The page asked for, in this order: the newest `rankWindow` matches by relevance, then any older
 * ones newest first. Not in a transaction: a write landing between the count and the page is
 * harmless here, and on SQLite a transaction would hold the one connection for the whole search. Scoring every match of a word found in nearly every article (a whole archive)
 * would take seconds; the index files documents in publication order (search/documents.ts), so the
 * newest matches are a range of it, and relevance among recent journalism is what readers look for.
 */
async function rankedPage (query: SearchQuery, rankWindow: number, queries: RankingQueries): Promise<[Ranked[], number]> {
  const total = await queries.total()
  const edge = total === 0 ? null : await queries.cutoff()
  if (edge === null) return [[], total]
  const cutoff = BigInt(edge)
  const offset = (query.page - 1) * query.limit
  // Counted, not assumed to be rankWindow: PostgreSQL may file two documents under one position, and
  // a story published since the count may have joined. The two parts then split the matches exactly.
  const inWindow = await queries.atOrAbove(cutoff)
  const rows = offset < inWindow ? await queries.byRelevance(cutoff, query.limit, offset) : []
  if (rows.length < query.limit && total > inWindow) rows.push(...await queries.byRecency(cutoff, query.limit - rows.length, Math.max(0, offset - inWindow)))
  return [rows, total]
}

/**
 * Two steps, so the costly parts run only for the page shown: rank the matches (and count them),
 * then highlight the page's hits.
 */
export async function search (db: Database, provider: Provider, query: SearchQuery, viewer: Actor | null, rankWindow: number): Promise<SearchResult> {
  const terms = parseQuery(query.q)
  if (terms.length === 0) {
    throw withFieldErrors(errors.validationFailed('q has no words to search for') as CatalogueError, [{ in: 'query', pointer: '/q', message: 'needs at least one word (letters or digits)' }])
  }
  const status = query.status ?? 'published'
  if (status !== 'published' && viewer === null) {
    throw withFieldErrors(errors.authenticationRequired('Only published articles are searchable without a key') as CatalogueError, [{ in: 'query', pointer: '/status', message: 'needs a staff key unless it is "published"' }])
  }
  const empty: SearchResult = { items: [], total: 0, page: query.page, limit: query.limit, totalPages: 0, query: query.q }
  const ids = await filterIds(db, query)
  if (ids === null) return empty
  const after = query.publishedAfter === undefined ? undefined : new Date(query.publishedAfter).toISOString()
  const before = query.publishedBefore === undefined ? undefined : new Date(query.publishedBefore).toISOString()

  let ranked: Ranked[]
  let total: number
  let highlighted: Highlighted[]
  if (provider === 'sqlite') {
    const match = [
      `(${ftsMatch(terms)})`,
      ...(ids.section !== undefined ? [`facets:"${facet.section(ids.section)}"`] : []),
      ...(ids.tag !== undefined ? [`facets:"${facet.tag(ids.tag)}"`] : []),
      ...(ids.author !== undefined ? [`facets:"${facet.author(ids.author)}"`] : [])
    ].join(' AND ') + (status === 'published' ? ` NOT facets:"${facet.unpublished}"` : '')
    const dates = Prisma.sql`${after !== undefined ? Prisma.sql`AND "published_at" > ${after}` : Prisma.empty} ${before !== undefined ? Prisma.sql`AND "published_at" < ${before}` : Prisma.empty}`
    const where = Prisma.sql`WHERE "article_search" MATCH ${match} ${dates}`
    const score = Prisma.sql`bm25("article_search", 0.0, 0.0, 10.0, 4.0, 1.0, 3.0, 0.0)`
    ;[ranked, total] = await rankedPage(query, rankWindow, {
      total: async () => Number((await db.$queryRaw<Array<{ n: bigint | number }>>`SELECT count(*) AS "n" FROM "article_search" ${where}`)[0]?.n ?? 0),
      cutoff: async () => (await db.$queryRaw<Array<{ cutoff: string | null }>>`SELECT CAST(min(rowid) AS TEXT) AS "cutoff" FROM (SELECT rowid FROM "article_search" ${where} ORDER BY rowid DESC LIMIT ${rankWindow})`)[0]?.cutoff ?? null,
      atOrAbove: async (cutoff) => Number((await db.$queryRaw<Array<{ n: bigint | number }>>`SELECT count(*) AS "n" FROM "article_search" ${where} AND rowid >= ${cutoff}`)[0]?.n ?? 0),
      byRelevance: async (cutoff, limit, offset) => await db.$queryRaw<Ranked[]>`SELECT "article_id" AS "id", rowid AS "position", -${score} AS "score"
        FROM "article_search" ${where} AND rowid >= ${cutoff} ORDER BY "score" DESC, rowid DESC LIMIT ${limit} OFFSET ${offset}`,
      byRecency: async (cutoff, limit, offset) => await db.$queryRaw<Ranked[]>`SELECT "article_id" AS "id", rowid AS "position", -${score} AS "score"
        FROM "article_search" ${where} AND rowid < ${cutoff} ORDER BY rowid DESC LIMIT ${limit} OFFSET ${offset}`
    })
    // One lookup per hit (rowid =): FTS5 answers `rowid IN (…)` by walking every match.
    const highlightOne = (position: bigint | number | string): Prisma.Sql => Prisma.sql`SELECT "article_id" AS "id",
        highlight("article_search", 2, ${OPEN}, ${CLOSE}) AS "headline",
        snippet("article_search", 4, ${OPEN}, ${CLOSE}, ${ELLIPSIS}, 24) AS "snippet"
      FROM "article_search" WHERE "article_search" MATCH ${ftsMatch(terms)} AND rowid = ${BigInt(position)}`
    highlighted = ranked.length === 0 ? [] : await db.$queryRaw<Highlighted[]>`${Prisma.join(ranked.map((row) => highlightOne(row.position)), ' UNION ALL ')}`
  } else {
    const conditions: Prisma.Sql[] = []
    if (status === 'published') conditions.push(Prisma.sql`a."status" = 'published' AND NOT EXISTS (SELECT 1 FROM "ArticleEmbargo" e WHERE e."articleId" = a."id")`)
    if (ids.section !== undefined) conditions.push(Prisma.sql`a."sectionId" = ${ids.section}`)
    if (ids.tag !== undefined) conditions.push(Prisma.sql`EXISTS (SELECT 1 FROM "ArticleTag" t WHERE t."articleId" = a."id" AND t."tagId" = ${ids.tag})`)
    if (ids.author !== undefined) conditions.push(Prisma.sql`EXISTS (SELECT 1 FROM "Byline" b WHERE b."articleId" = a."id" AND b."authorId" = ${ids.author})`)
    if (after !== undefined) conditions.push(Prisma.sql`a."publishedAt" > ${new Date(after)}`)
    if (before !== undefined) conditions.push(Prisma.sql`a."publishedAt" < ${new Date(before)}`)
    const filters = conditions.length === 0 ? Prisma.empty : Prisma.sql`AND ${Prisma.join(conditions, ' AND ')}`
    const ts = tsQuery(terms)
    const from = Prisma.sql`FROM "article_search" s JOIN "Article" a ON a."id" = s."article_id", to_tsquery('english', ${ts}) query WHERE s."document" @@ query ${filters}`
    const score = Prisma.sql`ts_rank_cd(s."document", query, 1)::float8`
    ;[ranked, total] = await rankedPage(query, rankWindow, {
      total: async () => Number((await db.$queryRaw<Array<{ n: bigint | number }>>`SELECT count(*) AS "n" ${from}`)[0]?.n ?? 0),
      cutoff: async () => (await db.$queryRaw<Array<{ cutoff: string | null }>>`SELECT min("position")::text AS "cutoff" FROM (SELECT s."rowid" AS "position" ${from} ORDER BY s."rowid" DESC LIMIT ${rankWindow}) newest`)[0]?.cutoff ?? null,
      atOrAbove: async (cutoff) => Number((await db.$queryRaw<Array<{ n: bigint | number }>>`SELECT count(*) AS "n" ${from} AND s."rowid" >= ${cutoff}`)[0]?.n ?? 0),
      byRelevance: async (cutoff, limit, offset) => await db.$queryRaw<Ranked[]>`SELECT s."article_id" AS "id", s."rowid" AS "position", ${score} AS "score"
        ${from} AND s."rowid" >= ${cutoff} ORDER BY "score" DESC, s."rowid" DESC, s."article_id" LIMIT ${limit} OFFSET ${offset}`,
      byRecency: async (cutoff, limit, offset) => await db.$queryRaw<Ranked[]>`SELECT s."article_id" AS "id", s."rowid" AS "position", ${score} AS "score"
        ${from} AND s."rowid" < ${cutoff} ORDER BY s."rowid" DESC, s."article_id" LIMIT ${limit} OFFSET ${offset}`
    })
    highlighted = ranked.length === 0 ? [] : await db.$queryRaw<Highlighted[]>`SELECT s."article_id" AS "id",
        ts_headline('english', s."headline", query, ${`StartSel=${OPEN}, StopSel=${CLOSE}, HighlightAll=true`}) AS "headline",
        ts_headline('english', s."body", query, ${`StartSel=${OPEN}, StopSel=${CLOSE}, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "`}) AS "snippet"
      FROM "article_search" s, to_tsquery('english', ${ts}) query WHERE s."article_id" IN (${Prisma.join(ranked.map((row) => row.id))})`
  }
  const records = await db.article.findMany({ where: { id: { in: ranked.map((row) => row.id) } }, select: articleSummarySelect })
  const byId = new Map(records.map((record) => [record.id, record]))
  const highlights = new Map(highlighted.map((row) => [row.id, row]))
  const items = ranked.flatMap((row) => {
    const record = byId.get(row.id)
    if (record === undefined) return []
    const marked = highlights.get(row.id)
    return [{ article: toArticleSummary(record), score: Number(Number(row.score).toPrecision(6)), highlights: { headline: markup(marked?.headline ?? record.headline), snippet: markup(marked?.snippet ?? '') } }]
  })
  return { items, total, page: query.page, limit: query.limit, totalPages: Math.ceil(total / query.limit), query: query.q }
}
