// What a change to a live coverage or one of its entries leads to (see src/changes/effects.ts): the
// entry's public form is stored with it by the write, so what remains is whether the public sees the
// change (only while the coverage's article is published) and the purge keys of the coverage's
// responses and of the images an entry began or stopped showing (they are public while the coverage
// is: src/images/service.ts). Publishing or unpublishing the article purges the coverage's responses
// through the article's own key, and its entries' images through liveImagePurgeKeys.
import type { Prisma } from '../db/client.ts'
import type { Change } from '../changes/index.ts'
import { publicArticleWhere } from '../articles/visibility.ts'

export function livePurgeKey (coverageId: string): string {
  return `live-${coverageId}`
}

export async function liveEffects (tx: Prisma.TransactionClient, change: Change, writesTakeTurns: boolean): Promise<{ publicChange: boolean, purgeKeys: string[] }> {
  const { coverageId, articleId, relinkedImageIds = [] } = change.data as { coverageId: string, articleId: string, relinkedImageIds?: string[] }
  // On PostgreSQL, wait for a kill, embargo or publication of the article being committed beside
  // this write (they lock its row), so an entry posted in that moment is judged by the outcome.
  if (!writesTakeTurns) await tx.$queryRaw`SELECT "id" FROM "Article" WHERE "id" = ${articleId} FOR SHARE`
  const published = await tx.publicArticle.count({ where: { id: articleId } }) > 0
  if (!published) return { publicChange: false, purgeKeys: [] }
  const imageKeys = relinkedImageIds.length > 0 ? [...relinkedImageIds.map((id) => `image-${id}`), 'images-list'] : []
  return { publicChange: true, purgeKeys: [livePurgeKey(coverageId), ...imageKeys] }
}

/** The images shown by the entries of an article's coverage: they go public or private with the article. */
export async function liveImagePurgeKeys (tx: Prisma.TransactionClient, articleId: string): Promise<string[]> {
  const links = await tx.liveEntryImage.findMany({ where: { entry: { coverage: { articleId } } }, select: { imageId: true }, distinct: ['imageId'] })
  return links.map((link) => `image-${link.imageId}`)
}

/** Whether an entry of a public coverage shows the image (the public may see it: src/images/service.ts). */
export async function shownInPublicLiveEntry (tx: Prisma.TransactionClient, imageId: string): Promise<boolean> {
  return await tx.liveEntryImage.count({ where: { imageId, entry: { coverage: { article: publicArticleWhere } } } }) > 0
}
