// The change spine: every write calls commitChange exactly once, inside its own transaction. It
// appends the change to the change log and carries out everything that follows from it (the audit
// row, the search documents, the public read model, the purge keys that cached responses are dropped
// by, the webhook queue), so a write and all its consequences commit or vanish together, and no
// service has to remember them. What each kind of object leads to is listed in ./effects.ts.
import type { Database, Prisma } from '../db/client.ts'
import type { RenderContext } from '../read-model/articles.ts'
import type { Actor } from '../keys/roles.ts'
import type { Article } from '../articles/schemas.ts'
import { queueEvent, type EventName } from '../webhooks/events.ts'
import { withAbsoluteImageUrls } from '../delivery/site.ts'
import { effectsOf } from './effects.ts'

/** Every kind of object a change can be about: the change feed, the audit trail and their filters list them all. */
export const objectTypes = ['article', 'author', 'image', 'masthead-role', 'section', 'tag', 'key', 'webhook', 'read-model', 'live-coverage', 'live-entry'] as const
export type ObjectType = typeof objectTypes[number]

export interface Change {
  actor: Actor
  objectType: ObjectType
  objectId: string | null
  /** What the audit trail calls it: article.published, key.created, article.preview-linked, ... */
  action: string
  /** The webhook event(s) it amounts to, for content that has events. */
  event?: EventName | EventName[]
  /**
   * A small summary of the object (id, slug, ...): the webhook payload, and a tombstone once it is gone.
   * An image's carries its mimeType, which is what marks a `url` as an image's to make absolute.
   */
  data?: Record<string, unknown>
  /** The object's version after the change, where it has one. */
  version?: number
  /** Why, for actions that require a reason (a kill, an embargo broken early): kept in the audit trail. */
  reason?: string
  /** Fields the write changed, where an effect depends on them (an author's name is in search documents). */
  changedFields?: readonly string[]
  /** True for an action on an object that changes nothing about it (a preview link minted for an article). */
  showsNothingNew?: boolean
  /**
   * An article as the change left it, read in this transaction after its last write: its search
   * document and public documents are made from it instead of reading it again.
   */
  article?: Article
}

/** What the spine needs besides the transaction: how to render public documents, where to purge. */
export type SpineContext = RenderContext & {
  /** CDN purgers (varnish, fastly, cloudflare) each public change's purge keys are queued for. */
  purgers: readonly string[]
}

const SPINE = Symbol.for('copydesk.change-spine')

/** Called when the database opens. Prisma's transaction clients see the base client's properties. */
export function bindChangeSpine (db: Database, context: SpineContext): void {
  Object.defineProperty(db, SPINE, { value: context, configurable: true })
}

function contextOf (tx: Prisma.TransactionClient): SpineContext {
  const context = (tx as unknown as Record<symbol, SpineContext | undefined>)[SPINE]
  if (context === undefined) throw new Error('This database client was opened without the change spine (bindChangeSpine)')
  return context
}

export interface CommittedChange { seq: bigint, publicChange: boolean, purgeKeys: string[] }

export async function commitChange (tx: Prisma.TransactionClient, change: Change): Promise<CommittedChange> {
  const context = contextOf(tx)
  const { publicChange, purgeKeys } = await effectsOf(change)(tx, change, context)
  // Taken last, and held to commit: sequence numbers become visible in the order they were given.
  const { value: seq } = await tx.changeSequence.update({ where: { id: 1 }, data: { value: { increment: 1 } }, select: { value: true } })
  // Image URLs absolute (API_PUBLIC_URL) as in every response: the feed, its streams and webhooks all send this.
  const data = withAbsoluteImageUrls(change.data ?? (change.objectId === null ? {} : { id: change.objectId }), context.site.imageBase)
  await tx.change.create({
    data: {
      seq,
      objectType: change.objectType,
      objectId: change.objectId,
      action: change.action,
      version: change.version ?? null,
      keyId: change.actor.keyId,
      keyName: change.actor.keyName,
      publicChange,
      purgeKeys: purgeKeys.join(' '),
      data: JSON.stringify(data)
    }
  })
  await tx.auditEntry.create({ data: { keyId: change.actor.keyId, keyName: change.actor.keyName, action: change.action, objectType: change.objectType, objectId: change.objectId, reason: change.reason ?? null } })
  // The signal every instance's response cache reads (plugins/http-cache.ts): only content moves it.
  if (publicChange) await tx.contentGeneration.update({ where: { id: 1 }, data: { value: seq } })
  // The CDN's copies of what changed: purged by src/cdn/ after commit, retried until done.
  if (publicChange && purgeKeys.length > 0 && context.purgers.length > 0) {
    await tx.purgeRequest.createMany({ data: context.purgers.map((purger) => ({ seq, purger, keys: purgeKeys.join(' ') })) })
  }
  const objectKey = change.objectId === null ? null : `${change.objectType}:${change.objectId}`
  for (const event of change.event === undefined ? [] : [change.event].flat()) await queueEvent(tx, event, data, { seq, objectKey })
  return { seq, publicChange, purgeKeys }
}
