import { randomBytes } from 'node:crypto'
import type { Database } from '../db/client.ts'
import { errors } from '../errors.ts'
import { pageResult, type PageResult } from '../common-schemas.ts'
import type { DeliveryListQuery, WebhookCreate, WebhookPatch } from './schemas.ts'
import { commitChange } from '../changes/index.ts'
import type { Actor } from '../keys/roles.ts'

// Everything but the secret, which is shown once, at creation.
const webhookSelect = { id: true, url: true, events: true, description: true, active: true, createdAt: true, updatedAt: true } as const

export async function readMany (db: Database): Promise<unknown[]> {
  return await db.webhook.findMany({ orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], select: webhookSelect })
}

export async function readOne (db: Database, id: string): Promise<unknown> {
  const webhook = await db.webhook.findUnique({ where: { id }, select: webhookSelect })
  if (webhook === null) throw errors.webhookNotFound(`id ${id}`)
  return webhook
}

export async function createOne (db: Database, input: WebhookCreate, actor: Actor): Promise<unknown> {
  const secret = `whsec_${randomBytes(24).toString('hex')}`
  return await db.$transaction(async (tx) => {
    const created = await tx.webhook.create({
      data: { url: input.url, events: input.events, description: input.description ?? null, active: input.active ?? true, secret },
      select: webhookSelect
    })
    await commitChange(tx, { actor, objectType: 'webhook', objectId: created.id, action: 'webhook.created' })
    return { ...created, secret }
  })
}

export async function updateOne (db: Database, id: string, patch: WebhookPatch, actor: Actor): Promise<unknown> {
  return await db.$transaction(async (tx) => {
    if (await tx.webhook.count({ where: { id } }) === 0) throw errors.webhookNotFound(`id ${id}`)
    const updated = await tx.webhook.update({ where: { id }, data: patch, select: webhookSelect })
    await commitChange(tx, { actor, objectType: 'webhook', objectId: id, action: 'webhook.updated' })
    return updated
  })
}

export async function deleteOne (db: Database, id: string, actor: Actor): Promise<void> {
  await db.$transaction(async (tx) => {
    const { count } = await tx.webhook.deleteMany({ where: { id } })
    if (count === 0) throw errors.webhookNotFound(`id ${id}`)
    await commitChange(tx, { actor, objectType: 'webhook', objectId: id, action: 'webhook.deleted' })
  })
}

export async function readDeliveries (db: Database, webhookId: string, query: DeliveryListQuery): Promise<PageResult<unknown>> {
  if (await db.webhook.count({ where: { id: webhookId } }) === 0) throw errors.webhookNotFound(`id ${webhookId}`)
  const where = { webhookId, ...(query.status !== undefined ? { status: query.status } : {}) }
  const [items, total] = await db.$transaction([
    db.webhookDelivery.findMany({
      where,
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      skip: (query.page - 1) * query.limit,
      take: query.limit,
      select: { id: true, event: true, status: true, attempts: true, nextAttemptAt: true, lastStatusCode: true, lastError: true, createdAt: true, deliveredAt: true }
    }),
    db.webhookDelivery.count({ where })
  ])
  return pageResult(items, total, query.page, query.limit)
}
