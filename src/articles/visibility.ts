// What the public may see of articles, in one place: published, and not under embargo. Killed
// articles have their own status, so they are never "published". Every keyless read, list, feed,
// sitemap, search, image check and the public read model filter with this.
import type { Prisma } from '../db/client.ts'

export const publicArticleWhere = { status: 'published', embargo: { is: null } } as const satisfies Prisma.ArticleWhereInput

/** The same, for an article already read: published and not embargoed. */
export function isPublic (article: { status: string, embargo?: unknown }): boolean {
  return article.status === 'published' && (article.embargo ?? null) === null
}
