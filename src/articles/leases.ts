// Edit leases and presence: who is editing an article now, and who has been reading it. A lease is
// one row per article, taken and renewed by compare-and-set (no row stays locked while an editor
// types), so it holds across instances. While it is held, writes by other keys are refused (423)
// unless ARTICLE_LEASES=advisory. Views are remembered per key and article, written at most once a
// minute per instance, so staff reads do not each cost a database write.
import { LRUCache } from 'lru-cache'
import { Prisma, type Database } from '../db/client.ts'
import { errors, type CatalogueError } from '../errors.ts'
import type { Actor } from '../keys/roles.ts'
import { commitChange } from '../changes/index.ts'
import { deskRules } from './desk.ts'

type Transaction = Prisma.TransactionClient
type Client = Database | Transaction

export interface Holder { keyId: string | null, name: string }
export interface Lease {
  articleId: string
  holder: Holder
  acquiredAt: string
  expiresAt: string
  /** False when ARTICLE_LEASES=advisory: the lease tells others, it does not stop them. */
  enforced: boolean
  /** The key whose lease this request took over, if it did. */
  takenOverFrom: Holder | null
}

interface LeaseRow { articleId: string, keyId: string, keyName: string, acquiredAt: Date, expiresAt: Date }

function toLease (row: LeaseRow, enforced: boolean, takenOverFrom: Holder | null = null): Lease {
  return { articleId: row.articleId, holder: { keyId: row.keyId, name: row.keyName }, acquiredAt: row.acquiredAt.toISOString(), expiresAt: row.expiresAt.toISOString(), enforced, takenOverFrom }
}

function lockedError (row: LeaseRow, what: string): CatalogueError {
  const error = errors.articleLocked(`${what}: ${row.keyName} holds the edit lease on this article until ${row.expiresAt.toISOString()} (an editor can take it over with {"takeOver": true})`) as CatalogueError
  error.lease = { holder: { keyId: row.keyId, name: row.keyName }, expiresAt: row.expiresAt.toISOString() }
  return error
}

async function liveLease (client: Client, articleId: string, now = new Date()): Promise<LeaseRow | null> {
  const row = await client.articleLease.findUnique({ where: { articleId } })
  return row === null || row.expiresAt <= now ? null : row
}

async function assertArticleExists (client: Client, articleId: string): Promise<{ status: string }> {
  const article = await client.article.findUnique({ where: { id: articleId }, select: { status: true } })
  if (article === null) throw errors.articleNotFound(`id ${articleId}`)
  return article
}

/**
 * Called by every write to an article, after the article row is locked and before If-Match is
 * compared: someone else's lease is the more useful answer (423 says who is editing; a 412 would
 * only send the caller to re-read and collide again). The server's own work is never held up.
 */
export async function assertLeaseAllows (tx: Transaction, articleId: string, actor: Actor): Promise<void> {
  if (actor.role === 'system' || deskRules(tx).leases !== 'enforced') return
  const row = await liveLease(tx, articleId)
  if (row !== null && row.keyId !== actor.keyId) throw lockedError(row, 'The article is being edited by someone else')
}

/** A writer leases only what it may edit: its own drafts. */
async function assertWriterMayLease (client: Client, articleId: string, status: string, actor: Actor): Promise<void> {
  if (actor.role !== 'writer') return
  const own = actor.authorId !== null && await client.byline.count({ where: { articleId, authorId: actor.authorId } }) > 0
  if (status !== 'draft' || !own) throw errors.forbidden('A writer\'s key leases only the drafts that carry its author\'s byline; an editor can lease any article')
}

/**
 * Takes the lease, or renews it for its holder (the heartbeat). Another key's live lease is 423
 * unless an editor or admin takes it over, which is audited; the previous holder's next write is then
 * refused, naming the new holder.
 */
export async function takeLease (db: Database, articleId: string, actor: Actor, takeOver: boolean): Promise<Lease> {
  const rules = deskRules(db)
  const keyId = actor.keyId as string
  if (takeOver && actor.role === 'writer') throw errors.forbidden('A writer\'s key cannot take over a lease; an editor or admin can')
  for (let attempt = 0; ; attempt++) {
    try {
      return await db.$transaction(async (tx) => {
        const { status } = await assertArticleExists(tx, articleId)
        await assertWriterMayLease(tx, articleId, status, actor)
        const now = new Date()
        const expiresAt = new Date(now.getTime() + rules.leaseTtlSeconds * 1000)
        const stored = await tx.articleLease.findUnique({ where: { articleId } })
        if (stored === null) {
          const created = await tx.articleLease.create({ data: { articleId, keyId, keyName: actor.keyName, acquiredAt: now, expiresAt } })
          await recordLeaseChange(tx, actor, articleId, 'article.lease-taken')
          return toLease(created, rules.leases === 'enforced')
        }
        const ours = stored.keyId === keyId
        const live = stored.expiresAt > now
        if (live && !ours && !takeOver) throw lockedError(stored, 'The lease is taken')
        // Compare-and-set on the row as read: a concurrent taker makes this match nothing, and we try again.
        const acquiredAt = ours && live ? stored.acquiredAt : now
        const { count } = await tx.articleLease.updateMany({
          where: { articleId, keyId: stored.keyId, expiresAt: stored.expiresAt },
          data: { keyId, keyName: actor.keyName, acquiredAt, expiresAt }
        })
        if (count === 0) throw new LostRace()
        const row = { articleId, keyId, keyName: actor.keyName, acquiredAt, expiresAt }
        // A heartbeat renews quietly; taking a lease, anew or over someone, is on the record.
        if (ours && live) return toLease(row, rules.leases === 'enforced')
        if (!live) {
          await recordLeaseChange(tx, actor, articleId, 'article.lease-taken')
          return toLease(row, rules.leases === 'enforced')
        }
        const previous = { keyId: stored.keyId, name: stored.keyName }
        await recordLeaseChange(tx, actor, articleId, 'article.lease-taken-over', { previousHolder: previous })
        return toLease(row, rules.leases === 'enforced', previous)
      })
    } catch (error) {
      if ((error instanceof LostRace || isUniqueViolation(error)) && attempt < 5) continue
      throw error
    }
  }
}

class LostRace extends Error {}

/** Leases are staff matters: audited and in the change log, never a reason to drop a cached response. */
async function recordLeaseChange (tx: Transaction, actor: Actor, articleId: string, action: string, extra: Record<string, unknown> = {}): Promise<void> {
  await commitChange(tx, { actor, objectType: 'article', objectId: articleId, action, data: { id: articleId, holder: { keyId: actor.keyId, name: actor.keyName }, ...extra }, showsNothingNew: true })
}

/** Releases the caller's lease; releasing a lease nobody holds is fine. Another key's live lease is 423. */
export async function releaseLease (db: Database, articleId: string, actor: Actor): Promise<void> {
  await db.$transaction(async (tx) => {
    await assertArticleExists(tx, articleId)
    const row = await liveLease(tx, articleId)
    if (row !== null && row.keyId !== actor.keyId) throw lockedError(row, 'Only its holder releases a lease')
    const { count } = await tx.articleLease.deleteMany({ where: { articleId, keyId: actor.keyId ?? '' } })
    if (count > 0 && row !== null) await recordLeaseChange(tx, actor, articleId, 'article.lease-released')
  })
}

export interface Presence {
  articleId: string
  lease: Lease | null
  viewers: Array<{ keyId: string, name: string, lastSeenAt: string }>
}

export async function readPresence (db: Database, articleId: string): Promise<Presence> {
  const rules = deskRules(db)
  await assertArticleExists(db, articleId)
  const now = new Date()
  const row = await liveLease(db, articleId, now)
  const views = await db.articleView.findMany({
    where: { articleId, lastSeenAt: { gte: new Date(now.getTime() - rules.presenceWindowSeconds * 1000) } },
    orderBy: [{ lastSeenAt: 'desc' }, { keyId: 'asc' }],
    take: 100
  })
  return {
    articleId,
    lease: row === null ? null : toLease(row, rules.leases === 'enforced'),
    viewers: views.map((view) => ({ keyId: view.keyId, name: view.keyName, lastSeenAt: view.lastSeenAt.toISOString() }))
  }
}

const VIEW_WRITE_INTERVAL_MS = 60_000

/** Remembers staff reads for presence: one upsert per key and article per minute per instance. */
export class ViewRecorder {
  private readonly written = new LRUCache<string, true>({ max: 10_000, ttl: VIEW_WRITE_INTERVAL_MS })
  constructor (private readonly db: Database) {}

  async record (articleId: string, actor: Actor): Promise<void> {
    if (actor.keyId === null) return
    const key = `${articleId}:${actor.keyId}`
    if (this.written.has(key)) return
    this.written.set(key, true)
    const lastSeenAt = new Date()
    try {
      await this.db.articleView.upsert({
        where: { articleId_keyId: { articleId, keyId: actor.keyId } },
        create: { articleId, keyId: actor.keyId, keyName: actor.keyName, lastSeenAt },
        update: { keyName: actor.keyName, lastSeenAt }
      })
    } catch (error) {
      // The article was deleted meanwhile (foreign key), or the database is busy: presence can wait.
      this.written.delete(key)
      if (!isForeignKeyViolation(error)) throw error
    }
  }
}

function isUniqueViolation (error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002'
}

function isForeignKeyViolation (error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2003'
}
