import type { Prisma, Database } from '../db/client.ts'
import { errors, withFieldErrors, type CatalogueError } from '../errors.ts'
import { authorSummarySelect, toAuthorSummary } from '../authors/service.ts'
import type { MastheadRole, MastheadRoleCreate, MastheadRolePatch } from './schemas.ts'
import { commitChange } from '../changes/index.ts'
import type { Actor } from '../keys/roles.ts'
import type { FixedId } from '../common-schemas.ts'

type Transaction = Prisma.TransactionClient

const roleSelect = {
  id: true, title: true, department: true, position: true, createdAt: true, updatedAt: true,
  holder: { select: authorSummarySelect }
} as const satisfies Prisma.MastheadRoleSelect

function toRole (record: Prisma.MastheadRoleGetPayload<{ select: typeof roleSelect }>): MastheadRole {
  return { ...record, holder: record.holder === null ? null : toAuthorSummary(record.holder), vacant: record.holder === null } as unknown as MastheadRole
}

async function assertHolderExists (tx: Transaction, holderId: string | null | undefined): Promise<void> {
  if (holderId === undefined || holderId === null) return
  if (await tx.author.count({ where: { id: holderId } }) === 0) {
    throw withFieldErrors(errors.invalidReference(`body/holderId: no author has id ${holderId}`) as CatalogueError, [{ in: 'body', pointer: '/holderId', message: `no author has id ${holderId}` }])
  }
}

export async function readMasthead (db: Database | Transaction): Promise<{ roles: MastheadRole[] }> {
  const records = await db.mastheadRole.findMany({ orderBy: [{ position: 'asc' }, { id: 'asc' }], select: roleSelect })
  return { roles: records.map(toRole) }
}

export async function readOne (db: Database, id: string): Promise<MastheadRole> {
  const record = await db.mastheadRole.findUnique({ where: { id }, select: roleSelect })
  if (record === null) throw errors.mastheadRoleNotFound(`id ${id}`)
  return toRole(record)
}

export async function createOne (db: Database, input: MastheadRoleCreate & FixedId, actor: Actor): Promise<MastheadRole> {
  return await db.$transaction(async (tx) => {
    await assertHolderExists(tx, input.holderId)
    const last = await tx.mastheadRole.aggregate({ _max: { position: true } })
    const created = await tx.mastheadRole.create({
      data: {
        id: input.id,
        title: input.title,
        department: input.department ?? null,
        position: input.position ?? (last._max.position ?? -1) + 1,
        holderId: input.holderId ?? null
      },
      select: roleSelect
    })
    await commitChange(tx, { actor, objectType: 'masthead-role', objectId: created.id, action: 'masthead-role.created' })
    return toRole(created)
  })
}

export async function replaceOne (db: Database, id: string, input: MastheadRoleCreate, actor: Actor): Promise<MastheadRole> {
  return await updateOne(db, id, { department: null, holderId: null, ...input }, actor)
}

export async function updateOne (db: Database, id: string, patch: MastheadRolePatch, actor: Actor): Promise<MastheadRole> {
  return await db.$transaction(async (tx) => {
    if (await tx.mastheadRole.count({ where: { id } }) === 0) throw errors.mastheadRoleNotFound(`id ${id}`)
    await assertHolderExists(tx, patch.holderId)
    const updated = toRole(await tx.mastheadRole.update({ where: { id }, data: patch, select: roleSelect }))
    await commitChange(tx, { actor, objectType: 'masthead-role', objectId: id, action: 'masthead-role.updated' })
    return updated
  })
}

export async function deleteOne (db: Database, id: string, actor: Actor): Promise<void> {
  await db.$transaction(async (tx) => {
    const { count } = await tx.mastheadRole.deleteMany({ where: { id } })
    if (count === 0) throw errors.mastheadRoleNotFound(`id ${id}`)
    await commitChange(tx, { actor, objectType: 'masthead-role', objectId: id, action: 'masthead-role.deleted' })
  })
}
