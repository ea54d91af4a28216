// The search index's copy of each article (headline, dek, body text, author names, and facets to
// filter on), rewritten in the same transaction as every change to them, so search never disagrees
// with the articles.
import { Prisma, type Database } from '../db/client.ts'

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

/** Rewrites an article's search document; called inside every transaction that changes what it holds. */
export async function refreshSearchDocument (tx: Client, articleId: string): Promise<void> {
  await tx.$executeRaw`DELETE FROM "article_search" WHERE "article_id" = ${articleId}`
  const article = await tx.article.findUnique({
    where: { id: articleId },
    select: {
      headline: true, dek: true, bodyText: true, status: true, publishedAt: true, updatedAt: true, sectionId: true,
      tags: { select: { tagId: true } },
      bylines: { orderBy: { position: 'asc' }, select: { author: { select: { id: true, name: true } } } }
    }
  })
  if (article === null) return
  const authors = article.bylines.map((byline) => byline.author.name).join(' ')
  const facets = [
    ...(article.status === 'published' ? [] : [facet.unpublished]),
    ...(article.sectionId !== null ? [facet.section(article.sectionId)] : []),
    ...article.tags.map(({ tagId }) => facet.tag(tagId)),
    ...article.bylines.map(({ author }) => facet.author(author.id))
  ].join(' ')
  const publishedAt = article.publishedAt?.toISOString() ?? null
  const position = await positionFor(tx, article.publishedAt ?? article.updatedAt)
  await tx.$executeRaw`INSERT INTO "article_search" (rowid, "article_id", "published_at", "headline", "dek", "body", "authors", "facets")
    VALUES (${position}, ${articleId}, ${publishedAt}, ${article.headline}, ${article.dek ?? ''}, ${article.bodyText}, ${authors}, ${facets})`
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
