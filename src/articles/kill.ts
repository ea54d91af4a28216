// Killing an article: taken down everywhere at once, for a legal or editorial emergency. Unlike
// unpublishing (back to draft, 404, any editor can publish again), a killed article answers 410 Gone
// to the public, cannot be edited or published, and only an admin can bring it back, as a draft.
// Both moves need a reason, kept in the audit trail. An article the public never read (a draft, a
// scheduled or embargoed story) stays 404 when killed: a 410 would tell that it existed.
import type { Database, Prisma } from '../db/client.ts'
import { errors, type CatalogueError } from '../errors.ts'
import type { Actor } from '../keys/roles.ts'
import { commitChange } from '../changes/index.ts'
import { recordRevision } from './revisions.ts'
import { assertVersion, eventData, lockForUpdate, readById } from './service.ts'
import type { Article } from './schemas.ts'

type Transaction = Prisma.TransactionClient

/**
 * Whether readers may have seen the article: it is public now, or a public change about it is in the
 * change log, or (beyond the log's retention) a revision was published or archived while no embargo
 * holds it now. Only such an article answers 410 once killed; one never public stays a plain 404.
 */
async function wasEverPublic (tx: Transaction, id: string, embargoed: boolean): Promise<boolean> {
  if (await tx.publicArticle.count({ where: { id } }) > 0) return true
  if (await tx.change.count({ where: { objectType: 'article', objectId: id, publicChange: true } }) > 0) return true
  if (embargoed) return false
  const revisions = await tx.articleRevision.findMany({ where: { articleId: id }, select: { snapshot: true } })
  return revisions.some(({ snapshot }) => ['published', 'archived'].includes((snapshot as { status?: string }).status ?? ''))
}

export async function killOne (db: Database, id: string, reason: string, actor: Actor, ifMatch?: string): Promise<Article> {
  return await db.$transaction(async (tx) => {
    const current = await lockForUpdate(tx, id)
    assertVersion(ifMatch, current.version)
    if (current.status === 'killed') throw errors.articleKilled(`Article ${id} is already killed`) as CatalogueError
    const wasPublic = await wasEverPublic(tx, id, current.embargo !== null)
    // A pending embargo would otherwise lift later and announce a publication.
    await tx.articleEmbargo.deleteMany({ where: { articleId: id } })
    // Sign-offs were given to the text now taken down, and nobody edits a killed article: an
    // un-killed one is signed off and leased afresh.
    await tx.articleSignoff.deleteMany({ where: { articleId: id } })
    await tx.articleLease.deleteMany({ where: { articleId: id } })
    // Edits waiting to replace the live version have nothing left to replace.
    await tx.articlePendingRevision.deleteMany({ where: { articleId: id } })
    await tx.articleKill.create({ data: { articleId: id, reason, wasPublic } })
    await tx.article.update({ where: { id }, data: { status: 'killed', version: { increment: 1 }, updatedAt: new Date() } })
    const article = await readById(tx, id)
    await recordRevision(tx, article, actor)
    await commitChange(tx, { actor, objectType: 'article', objectId: id, action: 'article.killed', event: 'article.killed', reason, data: eventData(article), version: article.version, article })
    return article
  })
}

/** Brings a killed article back as a draft: an editor then publishes it again, deliberately. */
export async function unkillOne (db: Database, id: string, reason: string, actor: Actor, ifMatch?: string): Promise<Article> {
  return await db.$transaction(async (tx) => {
    const current = await lockForUpdate(tx, id)
    assertVersion(ifMatch, current.version)
    if (current.status !== 'killed') throw errors.invalidTransition(`Article ${id} is not killed (it is ${current.status})`) as CatalogueError
    await tx.articleKill.deleteMany({ where: { articleId: id } })
    await tx.article.update({ where: { id }, data: { status: 'draft', version: { increment: 1 }, updatedAt: new Date() } })
    const article = await readById(tx, id)
    await recordRevision(tx, article, actor)
    await commitChange(tx, { actor, objectType: 'article', objectId: id, action: 'article.unkilled', event: 'article.unkilled', reason, data: eventData(article), version: article.version, article })
    return article
  })
}
