// The audit trail: one row per write, written by the change spine (src/changes/) inside the write's
// own transaction, so a change and its record commit (or vanish) together.
import type { Database, Prisma } from '../db/client.ts'
import { pageResult, type PageResult } from '../common-schemas.ts'
import type { AuditEntry, AuditListQuery } from './schemas.ts'

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
