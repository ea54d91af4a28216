// What a change to each kind of object leads to, inside the write's transaction: the search
// documents and public documents it refreshes, and the purge keys of the cached responses it makes
// stale. `publicChange` is false when nothing the public reads moved (a draft's edit, a key, a
// webhook, a preview link): then no cache anywhere is touched.
import type { Prisma } from '../db/client.ts'
import { refreshSearchDocument, refreshSearchDocumentsOfAuthor } from '../search/documents.ts'
import { publishedArticlesShowing, refreshPublicArticle, refreshPublicArticles, type ArticleRefresh, type StoredArticle } from '../read-model/articles.ts'
import { authorsIn, refreshAuthorPages } from '../read-model/authors.ts'
import { refreshMasthead, refreshMastheadShowing } from '../read-model/documents.ts'
import { refreshPublicTerm } from '../read-model/terms.ts'
import type { Change, ObjectType, SpineContext } from './index.ts'
import { liveEffects, liveImagePurgeKeys, shownInPublicLiveEntry } from '../live/effects.ts'

type Transaction = Prisma.TransactionClient
export interface Effects { publicChange: boolean, purgeKeys: string[] }
type Effect = (tx: Transaction, change: Change, context: SpineContext) => Promise<Effects>

const NOTHING_PUBLIC: Effects = { publicChange: false, purgeKeys: [] }
/** A purge key that drops every cached response (a rebuilt read model). */
export const PURGE_EVERYTHING = '*'

function keysOf (stored: StoredArticle | null): string[] {
  return stored === null ? [] : stored.purgeKeys.split(' ')
}

/**
 * What a change to an article makes stale: the article and every response showing it (they carry
 * its key: an author page listing it, a search hit), and the article lists, feeds and searches (any
 * of which may now include it, leave it out, or match it differently). Responses about what it
 * shows are dropped only when it enters or leaves them: when it is published or unpublished (its
 * images become public or not, its authors' pages gain or lose it) or when it is re-dated or
 * credited anew (author pages list the latest). An everyday edit of a live story leaves the other
 * stories by the same authors, with the same photo, in every cache.
 */
function articlePurgeKeys (id: string, { before, after }: ArticleRefresh): Effects {
  if (before === null && after === null) return NOTHING_PUBLIC
  if (before !== null && after !== null && before.document === after.document && before.summary === after.summary) return NOTHING_PUBLIC
  const keys = new Set([`article-${id}`, 'articles-list'])
  if (before === null || after === null) {
    for (const key of [...keysOf(before), ...keysOf(after)]) keys.add(key)
    keys.add('images-list')
  } else {
    const creditedBefore = authorsIn([before.purgeKeys])
    const creditedAfter = authorsIn([after.purgeKeys])
    const redated = before.publishedAt.getTime() !== after.publishedAt.getTime()
    const moved = redated ? [...creditedBefore, ...creditedAfter] : [...creditedBefore.filter((author) => !creditedAfter.includes(author)), ...creditedAfter.filter((author) => !creditedBefore.includes(author))]
    for (const author of moved) keys.add(`author-${author}`)
  }
  return { publicChange: true, purgeKeys: [...keys] }
}

/**
 * The author pages a public change of an article shows on: all its authors' (before and after) when
 * it may enter or leave their lists (published, unpublished, re-dated, credited anew or no longer),
 * otherwise only the pages listing it now (an edit of an article too old to be listed changes none).
 */
async function authorPagesShowing (tx: Transaction, id: string, { before, after }: ArticleRefresh): Promise<string[]> {
  const credited = authorsIn([before?.purgeKeys, after?.purgeKeys])
  if (before === null || after === null || before.publishedAt.getTime() !== after.publishedAt.getTime()) return credited
  const creditedBefore = new Set(authorsIn([before.purgeKeys]))
  const creditedAfter = new Set(authorsIn([after.purgeKeys]))
  const creditMoved = credited.filter((author) => !creditedBefore.has(author) || !creditedAfter.has(author))
  const listing = await tx.publicAuthor.findMany({ where: { id: { in: credited }, purgeKeys: { contains: `article-${id}` } }, select: { id: true } })
  return [...creditMoved, ...listing.map((page) => page.id)]
}

/**
 * Re-renders the published articles that embed an object (author, image, section, tag), and the
 * pages of the authors credited on them (they list those articles), with any authors named.
 */
async function refreshShowing (tx: Transaction, context: SpineContext, showing: Parameters<typeof publishedArticlesShowing>[1], authors: string[] = []): Promise<string[]> {
  const ids = await publishedArticlesShowing(tx, showing)
  const refreshes = await refreshPublicArticles(tx, ids, context)
  await refreshAuthorPages(tx, [...authors, ...authorsIn(refreshes.flatMap(({ before, after }) => [before?.purgeKeys, after?.purgeKeys]))], context)
  return ids.map((id) => `article-${id}`)
}

const effects: Record<ObjectType, Effect> = {
  article: async (tx, change, context) => {
    const id = change.objectId as string
    const current = context.writesTakeTurns ? change.article : undefined
    await refreshSearchDocument(tx, id, current, change.action === 'article.created')
    const refresh = await refreshPublicArticle(tx, id, context, current)
    const effects = articlePurgeKeys(id, refresh)
    if (effects.publicChange) await refreshAuthorPages(tx, await authorPagesShowing(tx, id, refresh), context)
    // Published or taken down: the images of its live coverage's entries go public or private with it.
    if (effects.publicChange && (refresh.before === null || refresh.after === null)) {
      return { publicChange: true, purgeKeys: [...effects.purgeKeys, ...await liveImagePurgeKeys(tx, id)] }
    }
    return effects
  },
  author: async (tx, change, context) => {
    const id = change.objectId as string
    if (change.changedFields?.includes('name') === true) await refreshSearchDocumentsOfAuthor(tx, id)
    const articles = await refreshShowing(tx, context, { author: id }, [id])
    await refreshMastheadShowing(tx, context, `author-${id}`)
    return { publicChange: true, purgeKeys: [`author-${id}`, 'authors-list', ...articles] }
  },
  image: async (tx, change, context) => {
    const id = change.objectId as string
    const avatarOf = (await tx.author.findMany({ where: { avatarImageId: id }, select: { id: true } })).map((author) => author.id)
    const articles = await refreshShowing(tx, context, { image: id }, avatarOf)
    await refreshMastheadShowing(tx, context, `image-${id}`)
    // The public sees an image only on a published article, in an entry of a public live coverage
    // or as an avatar (images/service.ts): a photo picked for an embargoed draft, or not used yet,
    // changes nothing public, and its change must not reach the public change feed. (An image in
    // use cannot be deleted.)
    if (avatarOf.length === 0 && articles.length === 0 && !await shownInPublicLiveEntry(tx, id)) return NOTHING_PUBLIC
    return { publicChange: true, purgeKeys: [`image-${id}`, 'images-list', 'authors-list', ...articles] }
  },
  section: async (tx, change, context) => {
    const id = change.objectId as string
    await refreshPublicTerm(tx, 'section', id)
    const articles = await refreshShowing(tx, context, { section: id })
    return { publicChange: true, purgeKeys: [`term-${id}`, 'articles-list', ...articles] }
  },
  tag: async (tx, change, context) => {
    const id = change.objectId as string
    await refreshPublicTerm(tx, 'tag', id)
    const articles = await refreshShowing(tx, context, { tag: id })
    return { publicChange: true, purgeKeys: [`term-${id}`, 'articles-list', ...articles] }
  },
  'masthead-role': async (tx, change, context) => {
    await refreshMasthead(tx, context)
    return { publicChange: true, purgeKeys: [`masthead-role-${change.objectId as string}`, 'masthead-list'] }
  },
  // Staff-only objects: audited and logged, never a reason to drop cached content.
  key: async () => NOTHING_PUBLIC,
  webhook: async () => NOTHING_PUBLIC,
  'read-model': async () => ({ publicChange: true, purgeKeys: [PURGE_EVERYTHING] }),
  'live-coverage': async (tx, change, context) => await liveEffects(tx, change, context.writesTakeTurns),
  'live-entry': async (tx, change, context) => await liveEffects(tx, change, context.writesTakeTurns)
}

export function effectsOf (change: Change): Effect {
  return change.showsNothingNew === true ? async () => NOTHING_PUBLIC : effects[change.objectType]
}
