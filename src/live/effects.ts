// What a change to a live coverage or one of its entries leads to (see src/changes/effects.ts): the
// entry's public form is stored with it by the write, so what remains is whether the public sees the
// change (only while the coverage's article is published) and the purge key of the coverage's
// responses. Publishing or unpublishing the article purges them through the article's own key.
import type { Prisma } from '../db/client.ts'
import type { Change } from '../changes/index.ts'

export function livePurgeKey (coverageId: string): string {
  return `live-${coverageId}`
}

export async function liveEffects (tx: Prisma.TransactionClient, change: Change, writesTakeTurns: boolean): Promise<{ publicChange: boolean, purgeKeys: string[] }> {
  const { coverageId, articleId } = change.data as { coverageId: string, articleId: string }
  // On PostgreSQL, wait for a kill, embargo or publication of the article being committed beside
  // this write (they lock its row), so an entry posted in that moment is judged by the outcome.
  if (!writesTakeTurns) await tx.$queryRaw`SELECT "id" FROM "Article" WHERE "id" = ${articleId} FOR SHARE`
  const published = await tx.publicArticle.count({ where: { id: articleId } }) > 0
  return published ? { publicChange: true, purgeKeys: [livePurgeKey(coverageId)] } : { publicChange: false, purgeKeys: [] }
}
