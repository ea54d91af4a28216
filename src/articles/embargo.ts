// Embargoes: an article held back from the public until a time, whatever its status. While the
// embargo row exists, the article is not public (visibility.ts): the read model does not hold it,
// and lists, search, feeds, sitemaps, images and the public change feed leave it out. At `until`
// the scheduler lifts it, exactly once across instances (the row's conditional delete is the
// claim), and the change spine treats that as a publication. Editors set or extend an embargo;
// only an admin brings one forward or breaks it, and breaking needs a reason.
import type { Database } from '../db/client.ts'
import { errors, withFieldErrors, type CatalogueError } from '../errors.ts'
import { systemActor, type Actor } from '../keys/roles.ts'
import { commitChange } from '../changes/index.ts'
import { recordRevision } from './revisions.ts'
import { assertVersion, eventData, killedError, lockForUpdate, readById } from './service.ts'
import { assertLeaseAllows } from './leases.ts'
import type { Article, EmbargoSet } from './schemas.ts'

export async function setEmbargo (db: Database, id: string, input: EmbargoSet, actor: Actor, ifMatch?: string): Promise<Article> {
  const until = new Date(input.until)
  if (until.getTime() <= Date.now()) {
    throw withFieldErrors(errors.validationFailed('An embargo holds an article back until a time to come: until must lie in the future') as CatalogueError,
      [{ in: 'body', pointer: '/until', message: 'must be in the future' }])
  }
  return await db.$transaction(async (tx) => {
    const current = await lockForUpdate(tx, id)
    await assertLeaseAllows(tx, id, actor)
    assertVersion(ifMatch, current.version)
    if (current.status === 'killed') throw killedError(id)
    if (current.embargo !== null && until < current.embargo.until && actor.role !== 'admin') {
      throw errors.forbidden(`Only an admin may bring an embargo forward (it lifts at ${current.embargo.until.toISOString()}): move it later, or ask an admin to break it`)
    }
    const embargo = { until, note: input.note ?? null }
    await tx.articleEmbargo.upsert({ where: { articleId: id }, create: { articleId: id, ...embargo }, update: embargo })
    await tx.article.update({ where: { id }, data: { version: { increment: 1 }, updatedAt: new Date() } })
    const article = await readById(tx, id)
    await recordRevision(tx, article, actor)
    // A live story put under embargo comes down; otherwise nothing public moves.
    const event = current.status === 'published' && current.embargo === null ? 'article.unpublished' : 'article.updated'
    await commitChange(tx, { actor, objectType: 'article', objectId: id, action: 'article.embargoed', event, data: eventData(article), version: article.version, article })
    return article
  })
}

/** Lifts an embargo early: the article goes live now if it is published. An admin action, with a reason. */
export async function breakEmbargo (db: Database, id: string, reason: string, actor: Actor, ifMatch?: string): Promise<Article> {
  return await db.$transaction(async (tx) => {
    const current = await lockForUpdate(tx, id)
    await assertLeaseAllows(tx, id, actor)
    assertVersion(ifMatch, current.version)
    if (current.embargo === null) throw errors.notEmbargoed(`Article ${id} is not under embargo`) as CatalogueError
    await tx.articleEmbargo.delete({ where: { articleId: id } })
    return await afterLift(tx, id, actor, 'article.embargo-broken', reason)
  })
}

type Transaction = Parameters<Parameters<Database['$transaction']>[0]>[0]

async function afterLift (tx: Transaction, id: string, actor: Actor, action: string, reason?: string): Promise<Article> {
  await tx.article.update({ where: { id }, data: { version: { increment: 1 }, updatedAt: new Date() } })
  const article = await readById(tx, id)
  await recordRevision(tx, article, actor)
  // As for a publication: the read model takes it in, caches are purged, subscribers hear it.
  const event = article.status === 'published' ? 'article.published' : 'article.updated'
  await commitChange(tx, { actor, objectType: 'article', objectId: id, action, event, reason, data: eventData(article), version: article.version, article })
  return article
}

/**
 * Lifts embargoes whose time has come; each exactly once, whichever instance runs it. The publication
 * gate (sign-offs, preflight) is not run again here: it held when the article was published or
 * scheduled under the embargo, and every content edit since was gated as a publication (service.ts).
 * Refusing at the lift would leave a story unpublished at its hour with nobody told; what could
 * change meanwhile without an edit (a linked story unpublished, the settings) is the desk's to watch.
 */
export async function liftDueEmbargoes (db: Database, now = new Date(), actor: Actor = systemActor('scheduler')): Promise<string[]> {
  const due = await db.articleEmbargo.findMany({ where: { until: { lte: now } }, select: { articleId: true }, orderBy: { until: 'asc' }, take: 100 })
  const lifted: string[] = []
  for (const { articleId } of due) {
    const done = await db.$transaction(async (tx) => {
      // The time in the WHERE clause makes the claim atomic: a second instance finds nothing to delete.
      const { count } = await tx.articleEmbargo.deleteMany({ where: { articleId, until: { lte: now } } })
      if (count === 0) return false
      await afterLift(tx, articleId, actor, 'article.embargo-lifted')
      return true
    })
    if (done) lifted.push(articleId)
  }
  return lifted
}
