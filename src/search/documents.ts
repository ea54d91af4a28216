// The search index's copy of each article (headline, dek, body text, author names, and facets to
// filter on), rewritten in the same transaction as every change to them, so search never disagrees
// with the articles.
import { Prisma, type Database } from '../db/client.ts'
import type { Article } from '../articles/schemas.ts'

type Client = Database | Prisma.TransactionClient

/**
 * Filter tokens, matched by the full-text index itself (no join): `unpublished` for anything readers
 * may not see, and the ids of the section, tags and authors (ids, not slugs: slugs can change).
 */
export const facet = {
  unpublished: 'status_unpublished',
  section: (id: string) => `section_${id.replace(/-/g, '')}`,
  tag: (id: string) => `tag_${id.replace(/-/g, '')}`,
  author: (id: string) => `author_${id.replace(/-/g, '')}`
}

const SLOTS_PER_MILLISECOND = 1000n

/**
 * Where a document is filed: rowid (a column of that name on PostgreSQL) = its publication time in
 * milliseconds × 1000 + a sequence number, so the newest matches of a query are a range of the index
 * (see search/service.ts). Drafts without a time are filed at their last change. Past a thousand
 * documents in one millisecond, below every other one. Text, so no driver rounds it to a double.
 */
async function positionFor (tx: Client, time: Date): Promise<bigint> {
  const base = BigInt(time.getTime()) * SLOTS_PER_MILLISECOND
  const [slot] = await tx.$queryRaw<Array<{ last: string | null }>>`SELECT CAST(max(rowid) AS TEXT) AS "last" FROM "article_search" WHERE rowid >= ${base} AND rowid < ${base + SLOTS_PER_MILLISECOND}`
  if (slot?.last === null || slot?.last === undefined) return base
  const next = BigInt(slot.last) + 1n
  if (next < base + SLOTS_PER_MILLISECOND) return next
  const [lowest] = await tx.$queryRaw<Array<{ first: string | null }>>`SELECT CAST(min(rowid) AS TEXT) AS "first" FROM "article_search"`
  return BigInt(lowest?.first ?? base) - 1n
}

/** What a search document is made of. */
interface Searchable {
  headline: string
  dek: string | null
  bodyText: string
  status: string
  /** True while an embargo holds it back: then it is searched like an unpublished article. */
  embargoed: boolean
  publishedAt: Date | null
  updatedAt: Date
  sectionId: string | null
  tagIds: string[]
  authors: Array<{ id: string, name: string }>
}

async function readSearchable (tx: Client, articleId: string): Promise<Searchable | null> {
  const article = await tx.article.findUnique({
    where: { id: articleId },
    select: {
      headline: true, dek: true, bodyText: true, status: true, publishedAt: true, updatedAt: true, sectionId: true,
      embargo: { select: { until: true } },
      tags: { select: { tagId: true } },
      bylines: { orderBy: { position: 'asc' }, select: { author: { select: { id: true, name: true } } } }
    }
  })
  if (article === null) return null
  const { embargo, ...fields } = article
  return { ...fields, embargoed: embargo !== null, tagIds: article.tags.map(({ tagId }) => tagId), authors: article.bylines.map(({ author }) => author) }
}

function searchableOf (article: Article): Searchable {
  // Typed as the API shows them (ISO strings); as read from the database they are Dates.
  const { publishedAt, updatedAt } = article as unknown as { publishedAt: Date | string | null, updatedAt: Date | string }
  return {
    headline: article.headline,
    dek: article.dek,
    bodyText: article.bodyText,
    status: article.status,
    embargoed: article.embargo !== null,
    publishedAt: publishedAt === null ? null : new Date(publishedAt),
    updatedAt: new Date(updatedAt),
    sectionId: article.section?.id ?? null,
    tagIds: article.tags.map((tag) => tag.id),
    authors: article.bylines.map(({ author }) => ({ id: author.id, name: author.name }))
  }
}

/**
 * Removes an article's search document: where its position says (positions are not unique on
 * PostgreSQL, hence the article id too), or, when it is not there (a new article, or one filed by a
 * release that did not record positions), wherever it is: a read of the whole full-text table on
 * SQLite, so not for an article known to be new.
 */
async function removeSearchDocument (tx: Client, articleId: string, isNew: boolean): Promise<void> {
  const [filed] = await tx.$queryRaw<Array<{ position: string }>>`SELECT CAST("position" AS TEXT) AS "position" FROM "SearchPosition" WHERE "articleId" = ${articleId}`
  const removed = filed === undefined ? 0 : await tx.$executeRaw`DELETE FROM "article_search" WHERE rowid = ${BigInt(filed.position)} AND "article_id" = ${articleId}`
  if (removed === 0 && !isNew) await tx.$executeRaw`DELETE FROM "article_search" WHERE "article_id" = ${articleId}`
}

/**
 * Rewrites an article's search document; called inside every transaction that changes what it
 * holds. `current` is the article as just read in this transaction, when the caller has it.
 */
export async function refreshSearchDocument (tx: Client, articleId: string, current?: Article, isNew = false): Promise<void> {
  await removeSearchDocument(tx, articleId, isNew)
  const article = current !== undefined && current.id === articleId ? searchableOf(current) : await readSearchable(tx, articleId)
  if (article === null) {
    await tx.$executeRaw`DELETE FROM "SearchPosition" WHERE "articleId" = ${articleId}`
    return
  }
  const authors = article.authors.map((author) => author.name).join(' ')
  const facets = [
    ...(article.status === 'published' && !article.embargoed ? [] : [facet.unpublished]),
    ...(article.sectionId !== null ? [facet.section(article.sectionId)] : []),
    ...article.tagIds.map((tagId) => facet.tag(tagId)),
    ...article.authors.map((author) => facet.author(author.id))
  ].join(' ')
  const publishedAt = article.publishedAt?.toISOString() ?? null
  const position = await positionFor(tx, article.publishedAt ?? article.updatedAt)
  await tx.$executeRaw`INSERT INTO "article_search" (rowid, "article_id", "published_at", "headline", "dek", "body", "authors", "facets")
    VALUES (${position}, ${articleId}, ${publishedAt}, ${article.headline}, ${article.dek ?? ''}, ${article.bodyText}, ${authors}, ${facets})`
  await tx.$executeRaw`INSERT INTO "SearchPosition" ("articleId", "position") VALUES (${articleId}, ${position})
    ON CONFLICT ("articleId") DO UPDATE SET "position" = excluded."position"`
}

const RENAME_BATCH = 2000

/**
 * After an author's name changes: the author names of every article that credits them, rewritten
 * in place (same position, one statement per article), so a columnist with thousands of articles
 * is renamed within the transaction's time limit.
 */
export async function refreshSearchDocumentsOfAuthor (tx: Client, authorId: string): Promise<void> {
  const credited = await tx.byline.findMany({ where: { authorId }, select: { articleId: true } })
  const articleIds = [...new Set(credited.map(({ articleId }) => articleId))]
  for (let from = 0; from < articleIds.length; from += RENAME_BATCH) {
    const batch = articleIds.slice(from, from + RENAME_BATCH)
    const bylines = await tx.byline.findMany({ where: { articleId: { in: batch } }, orderBy: [{ articleId: 'asc' }, { position: 'asc' }], select: { articleId: true, author: { select: { name: true } } } })
    const names = new Map<string, string[]>()
    for (const { articleId, author } of bylines) names.set(articleId, [...(names.get(articleId) ?? []), author.name])
    // Positions first (one pass over the index on SQLite, where article_id is not indexed), then each row by position.
    const filed = await tx.$queryRaw<Array<{ position: string, id: string }>>`SELECT CAST(rowid AS TEXT) AS "position", "article_id" AS "id" FROM "article_search" WHERE "article_id" IN (${Prisma.join(batch)})`
    for (const { position, id } of filed) {
      await tx.$executeRaw`UPDATE "article_search" SET "authors" = ${(names.get(id) ?? []).join(' ')} WHERE rowid = ${BigInt(position)} AND "article_id" = ${id}`
    }
  }
}
