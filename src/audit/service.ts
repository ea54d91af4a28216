// The audit trail: one row per write, written inside the write's own transaction, so a change and
// its record commit (or vanish) together.
import type { Database, Prisma } from '../db/client.ts'
import { pageResult, type PageResult } from '../common-schemas.ts'
import type { Actor } from '../keys/roles.ts'
import type { AuditEntry, AuditListQuery } from './schemas.ts'
import { queueEvent, type EventName } from '../webhooks/events.ts'

/** Inside the write's transaction (or alone, for an action that writes nothing else). */
export async function recordAudit (tx: Prisma.TransactionClient | Database, actor: Actor, action: string, objectType: string, objectId: string | null): Promise<void> {
  await tx.auditEntry.create({ data: { keyId: actor.keyId, keyName: actor.keyName, action, objectType, objectId } })
  // Every write is audited, so this is where cached responses learn they are stale (see plugins/http-cache.ts).
  await tx.contentGeneration.update({ where: { id: 1 }, data: { value: { increment: 1 } } })
}

export async function readMany (db: Database, query: AuditListQuery): Promise<PageResult<AuditEntry>> {
  const where: Prisma.AuditEntryWhereInput = {}
  if (query.objectType !== undefined) where.objectType = query.objectType
  if (query.objectId !== undefined) where.objectId = query.objectId
  if (query.keyId !== undefined) where.keyId = query.keyId
  if (query.action !== undefined) where.action = query.action
  const [items, total] = await db.$transaction([
    db.auditEntry.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], skip: (query.page - 1) * query.limit, take: query.limit }),
    db.auditEntry.count({ where })
  ])
  return pageResult(items as unknown as AuditEntry[], total, query.page, query.limit)
}

/** A content change: audited, and queued for the webhooks that subscribe to it, in one transaction. */
export async function recordChange (tx: Prisma.TransactionClient, actor: Actor, event: EventName, data: Record<string, unknown> & { id: string }, auditAction: string = event): Promise<void> {
  const [objectType] = event.split('.') as [string]
  await recordAudit(tx, actor, auditAction, objectType, data.id)
  await queueEvent(tx, event, data)
}
