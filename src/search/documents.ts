// The search index's copy of each article (headline, dek, body text, author names), rewritten in the
// same transaction as every change to them, so search never disagrees with the articles.
import type { Database, Prisma } from '../db/client.ts'

type Client = Database | Prisma.TransactionClient

/** Rewrites an article's search document; called inside every transaction that changes what it holds. */
export async function refreshSearchDocument (tx: Client, articleId: string): Promise<void> {
  await tx.$executeRaw`DELETE FROM "article_search" WHERE "article_id" = ${articleId}`
  const article = await tx.article.findUnique({
    where: { id: articleId },
    select: { headline: true, dek: true, bodyText: true, bylines: { orderBy: { position: 'asc' }, select: { author: { select: { name: true } } } } }
  })
  if (article === null) return
  const authors = article.bylines.map((byline) => byline.author.name).join(' ')
  await tx.$executeRaw`INSERT INTO "article_search" ("article_id", "headline", "dek", "body", "authors") VALUES (${articleId}, ${article.headline}, ${article.dek ?? ''}, ${article.bodyText}, ${authors})`
}

/** After an author's name changes: every article that credits them. */
export async function refreshSearchDocumentsOfAuthor (tx: Client, authorId: string): Promise<void> {
  const bylines = await tx.byline.findMany({ where: { authorId }, select: { articleId: true } })
  for (const { articleId } of bylines) await refreshSearchDocument(tx, articleId)
}
