// The public read model of articles: for every published article, the exact bytes a keyless reader
// is sent (the whole article with its JSON-LD, and its form in lists), rendered when the article or
// anything it shows changes, inside that write's transaction. Keyless reads answer from these bytes
// (src/read-model/reads.ts) without rendering; drafts never enter it.
import type { Database, Prisma } from '../db/client.ts'
import type { Article, ArticleSummary } from '../articles/schemas.ts'
import type { Author } from '../authors/schemas.ts'
import { isPublic, publicArticleWhere } from '../articles/visibility.ts'
import type { MastheadRole } from '../masthead/schemas.ts'
import { newsArticleJsonLd, withAbsoluteImageUrls, type Site } from '../delivery/site.ts'
import { allSurrogateKeysOf, etagFor } from '../plugins/http-cache.ts'
import { commitChange } from '../changes/index.ts'
import { serializeArticle, serializeSummary } from './serializers.ts'
import { refreshAuthorPages } from './authors.ts'
import { refreshMasthead } from './documents.ts'
import { rebuildPublicTerms } from './terms.ts'
import { systemActor } from '../keys/roles.ts'

type Transaction = Prisma.TransactionClient

/**
 * What rendering needs: the site settings documents embed, and the article as the public sees it
 * (passed in by the caller, since the article service itself commits changes through the spine).
 */
export interface RenderContext {
  site: Site
  /** The published ones among these articles, as the public sees them (one batch of queries). */
  readPublishedArticles: (tx: Transaction | Database, ids: string[]) => Promise<Article[]>
  /** An author with their latest published articles, or null when the author is gone. */
  readAuthorPage: (tx: Transaction, id: string) => Promise<(Author & { latestArticles: ArticleSummary[] }) | null>
  /** The masthead, every role in order with its holder. */
  readMasthead: (tx: Transaction) => Promise<{ roles: MastheadRole[] }>
  /**
   * Locks stored documents before they are rendered again (PostgreSQL): two transactions rendering
   * the same document (an article edit and its author's rename) then take turns, and the second reads
   * what the first committed instead of overwriting it with a render that missed it. SQLite runs
   * one write transaction at a time, so there it does nothing.
   */
  lockDocuments: (tx: Transaction, table: 'PublicArticle' | 'PublicAuthor', ids: string[]) => Promise<void>
  /**
   * True where write transactions run one at a time (SQLite): an article read earlier in the same
   * transaction is then still current when rendered. On PostgreSQL another transaction may have
   * committed a change it embeds (an author's name) while this one waited for the lock, so the
   * article is read again after it.
   */
  writesTakeTurns: boolean
}

/** Raised when rendering changes shape, so stored documents are rebuilt on the next start. */
export const RENDERER_VERSION = 7

/** What the stored documents depend on besides the database: a change of settings rebuilds them. */
export function readModelFingerprint (site: Site): string {
  return JSON.stringify([RENDERER_VERSION, site.name, site.language, site.url, site.logoUrl, site.articleUrl('{slug}'), site.authorUrl('{slug}'), site.absolute('/'), site.imageBase])
}

export interface StoredArticle {
  id: string
  slug: string
  publishedAt: Date
  version: number
  document: string
  etag: string
  summary: string
  purgeKeys: string
}

/** Renders the public documents of an article, or null when the public may not read it. */
export async function renderPublicArticle (tx: Transaction, id: string, context: RenderContext): Promise<StoredArticle | null> {
  const [article] = await context.readPublishedArticles(tx, [id])
  return article === undefined ? null : renderDocuments(article, context.site)
}

function renderDocuments (read: Article, site: Site): StoredArticle | null {
  if (read.publishedAt === null) return null
  const article = withAbsoluteImageUrls(read, site.imageBase)
  const full = { ...article, jsonLd: newsArticleJsonLd(article, site) }
  const document = serializeArticle(full)
  return {
    id: article.id,
    slug: article.slug,
    publishedAt: new Date(read.publishedAt),
    version: article.version,
    document,
    etag: etagFor(document, String(article.version)),
    summary: serializeSummary(article),
    purgeKeys: allSurrogateKeysOf('articles', full).join(' ')
  }
}

export interface ArticleRefresh { before: StoredArticle | null, after: StoredArticle | null }

/**
 * Brings an article's stored documents up to date; says what the public saw before and sees now.
 * `current` is the article as just read in this transaction, when the caller has it.
 */
export async function refreshPublicArticle (tx: Transaction, id: string, context: RenderContext, current?: Article): Promise<ArticleRefresh> {
  const read = current === undefined || current.id !== id || !context.writesTakeTurns ? context.readPublishedArticles : async () => isPublic(current) ? [current] : []
  const [refresh] = await refreshPublicArticles(tx, [id], { ...context, readPublishedArticles: read })
  return refresh as ArticleRefresh
}

const BATCH = 500

/** The same for many articles, read and rendered in batches (an author on thousands of stories). */
export async function refreshPublicArticles (tx: Transaction, ids: string[], context: RenderContext): Promise<ArticleRefresh[]> {
  const refreshes: ArticleRefresh[] = []
  for (let from = 0; from < ids.length; from += BATCH) {
    const batch = ids.slice(from, from + BATCH)
    await context.lockDocuments(tx, 'PublicArticle', batch)
    const before = new Map((await tx.publicArticle.findMany({ where: { id: { in: batch } } })).map((row) => [row.id, row]))
    const after = new Map<string, StoredArticle>()
    for (const article of await context.readPublishedArticles(tx, batch)) {
      const rendered = renderDocuments(article, context.site)
      if (rendered !== null) after.set(article.id, rendered)
    }
    for (const id of batch) {
      const was = before.get(id) ?? null
      const now = after.get(id) ?? null
      if (now === null) {
        if (was !== null) await tx.publicArticle.delete({ where: { id } })
      } else if (was === null) {
        // An upsert: two instances rebuilding at once may both find it missing.
        await tx.publicArticle.upsert({ where: { id }, create: now, update: now })
      } else if (was.document !== now.document || was.summary !== now.summary) {
        await tx.publicArticle.update({ where: { id }, data: now })
      }
      refreshes.push({ before: was, after: now })
    }
  }
  return refreshes
}

/** Published articles that show an author, an image (as lead, in the body, or as a credited author's avatar), a section or a tag: they embed it. */
export async function publishedArticlesShowing (tx: Transaction, object: { author?: string, image?: string, section?: string, tag?: string }): Promise<string[]> {
  const where: Prisma.ArticleWhereInput = { status: 'published' }
  if (object.author !== undefined) where.bylines = { some: { authorId: object.author } }
  if (object.image !== undefined) where.OR = [{ leadImageId: object.image }, { bodyImages: { some: { imageId: object.image } } }, { bylines: { some: { author: { avatarImageId: object.image } } } }]
  if (object.section !== undefined) where.sectionId = object.section
  if (object.tag !== undefined) where.tags = { some: { tagId: object.tag } }
  return (await tx.article.findMany({ where, select: { id: true } })).map((row) => row.id)
}

/**
 * Renders every published article again and drops documents of articles no longer public: after a
 * change of settings or renderer, or on demand (npm run readmodel:rebuild). In batches, each its own
 * transaction, so a large archive neither holds a lock for long nor runs into the transaction limit.
 */
export async function rebuildPublicArticles (db: Database, context: RenderContext, progress: (done: number, total: number) => void = () => {}): Promise<number> {
  const total = await db.article.count({ where: publicArticleWhere })
  let done = 0
  let after: string | undefined
  for (;;) {
    const ids = (await db.article.findMany({ where: { ...publicArticleWhere, ...(after === undefined ? {} : { id: { gt: after } }) }, orderBy: { id: 'asc' }, take: BATCH, select: { id: true } })).map((row) => row.id)
    if (ids.length === 0) break
    await db.$transaction(async (tx) => { await refreshPublicArticles(tx, ids, context) }, { timeout: 120_000 })
    done += ids.length
    after = ids.at(-1)
    progress(done, total)
  }
  // Documents whose article is gone, no longer published or embargoed (e.g. after restoring an older backup).
  const dropped = await db.$executeRawUnsafe('DELETE FROM "PublicArticle" WHERE "id" NOT IN (SELECT "id" FROM "Article" WHERE "status" = \'published\') OR "id" IN (SELECT "articleId" FROM "ArticleEmbargo")')
  // Author pages, a batch of authors per transaction; pages of authors since deleted go.
  let authors = 0
  for (let after: string | undefined; ;) {
    const ids = (await db.author.findMany({ where: after === undefined ? {} : { id: { gt: after } }, orderBy: { id: 'asc' }, take: BATCH, select: { id: true } })).map((row) => row.id)
    if (ids.length === 0) break
    await db.$transaction(async (tx) => { await refreshAuthorPages(tx, ids, context) }, { timeout: 120_000 })
    authors += ids.length
    after = ids.at(-1)
  }
  const droppedAuthors = await db.$executeRawUnsafe('DELETE FROM "PublicAuthor" WHERE "id" NOT IN (SELECT "id" FROM "Author")')
  const terms = await db.$transaction(async (tx) => {
    await refreshMasthead(tx, context)
    return await rebuildPublicTerms(tx)
  }, { timeout: 120_000 })
  return done + dropped + authors + droppedAuthors + 1 + terms
}

/**
 * At start-up: when the stored documents were rendered with another renderer or other site
 * settings (or never, after the migration that added them), renders them all again, then drops
 * every instance's cached responses through the change log.
 */
export async function ensurePublicArticles (db: Database, context: RenderContext, log: (message: string) => void): Promise<void> {
  const state = await db.readModelState.findUnique({ where: { id: 1 } })
  if (state?.fingerprint === readModelFingerprint(context.site)) return
  // The migration that added the read model records it as never rendered (''). A new database has
  // nothing to render: no warning then, only the record of the settings.
  if (state !== null && state.fingerprint !== '') log('the public read model was rendered with other settings or an older renderer; rendering it again')
  else if (await db.article.count({ take: 1 }) > 0) log('the public read model was never rendered (a database from before it existed); rendering it')
  await rebuildReadModel(db, context, (done, total) => { if (done % 10_000 === 0 || done === total) log(`read model: ${done} of ${total} published articles rendered`) })
}

/** Renders every public document again and records it, so every instance drops its cached responses. */
export async function rebuildReadModel (db: Database, context: RenderContext, progress: (done: number, total: number) => void = () => {}): Promise<number> {
  const fingerprint = readModelFingerprint(context.site)
  const count = await rebuildPublicArticles(db, context, progress)
  await db.$transaction(async (tx) => {
    await tx.readModelState.upsert({ where: { id: 1 }, create: { id: 1, fingerprint }, update: { fingerprint } })
    await commitChange(tx, { actor: systemActor('read model'), objectType: 'read-model', objectId: null, action: 'read-model.rebuilt', data: { documents: count } })
  })
  return count
}
