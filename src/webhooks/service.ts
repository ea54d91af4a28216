import { randomBytes } from 'node:crypto'
import type { Database } from '../db/client.ts'
import { errors, withFieldErrors, type CatalogueError } from '../errors.ts'
import { pageResult, type PageResult } from '../common-schemas.ts'
import type { DeliveryListQuery, WebhookCreate, WebhookPatch } from './schemas.ts'
import { commitChange } from '../changes/index.ts'
import type { Actor } from '../keys/roles.ts'
import type { TargetPolicy } from './targets.ts'

// Everything but the secret, which is shown once, at creation.
const webhookSelect = { id: true, url: true, events: true, description: true, active: true, audience: true, createdAt: true, updatedAt: true } as const

export async function readMany (db: Database): Promise<unknown[]> {
  return await db.webhook.findMany({ orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], select: webhookSelect })
}

export async function readOne (db: Database, id: string): Promise<unknown> {
  const webhook = await db.webhook.findUnique({ where: { id }, select: webhookSelect })
  if (webhook === null) throw errors.webhookNotFound(`id ${id}`)
  return webhook
}

/** Refuses a URL whose host is an internal address (names are checked again at each send). */
function assertReachableTarget (targets: TargetPolicy, url: string): void {
  const refusal = targets.refusalAtRegistration(url)
  if (refusal === null) return
  throw withFieldErrors(errors.validationFailed(`body/url ${refusal}`) as CatalogueError, [{ in: 'body', pointer: '/url', message: refusal }])
}

export async function createOne (db: Database, input: WebhookCreate, actor: Actor, targets: TargetPolicy): Promise<unknown> {
  assertReachableTarget(targets, input.url)
  const secret = `whsec_${randomBytes(24).toString('hex')}`
  return await db.$transaction(async (tx) => {
    const created = await tx.webhook.create({
      data: { url: input.url, events: input.events, description: input.description ?? null, active: input.active ?? true, audience: input.audience ?? 'staff', secret },
      select: webhookSelect
    })
    await commitChange(tx, { actor, objectType: 'webhook', objectId: created.id, action: 'webhook.created' })
    return { ...created, secret }
  })
}

export async function updateOne (db: Database, id: string, patch: WebhookPatch, actor: Actor, targets: TargetPolicy): Promise<unknown> {
  if (patch.url !== undefined) assertReachableTarget(targets, patch.url)
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

const deliveryFields = { id: true, event: true, seq: true, objectKey: true, status: true, attempts: true, nextAttemptAt: true, lastStatusCode: true, lastError: true, createdAt: true, deliveredAt: true } as const
const lastReceipt = { orderBy: { attempt: 'desc' as const }, take: 1, select: { startedAt: true, latencyMs: true } }

interface DeliveryRow { seq: bigint | null, receipts: Array<{ startedAt: Date, latencyMs: number }> }

/** A delivery as the API shows it: seq as a number, and its last attempt's time and latency. */
function present<T extends DeliveryRow> ({ receipts, seq, ...delivery }: T): Omit<T, 'receipts' | 'seq'> & { seq: number | null, lastAttemptAt: Date | null, lastLatencyMs: number | null } {
  const last = receipts[0]
  return { ...delivery, seq: seq === null ? null : Number(seq), lastAttemptAt: last?.startedAt ?? null, lastLatencyMs: last?.latencyMs ?? null }
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
      select: { ...deliveryFields, receipts: lastReceipt }
    }),
    db.webhookDelivery.count({ where })
  ])
  return pageResult(items.map(present), total, query.page, query.limit)
}

type Reader = Pick<Database, 'webhook' | 'webhookDelivery'>

/** One delivery with the exact body sent and every receipt, oldest first. */
export async function readDelivery (db: Reader, webhookId: string, deliveryId: string): Promise<unknown> {
  const delivery = await db.webhookDelivery.findFirst({
    where: { id: deliveryId, webhookId },
    select: {
      ...deliveryFields,
      webhookId: true,
      body: true,
      lockedUntil: true,
      receipts: { orderBy: [{ attempt: 'asc' }], select: { attempt: true, startedAt: true, latencyMs: true, statusCode: true, error: true } }
    }
  })
  if (delivery === null) {
    if (await db.webhook.count({ where: { id: webhookId } }) === 0) throw errors.webhookNotFound(`id ${webhookId}`)
    throw errors.webhookDeliveryNotFound(`id ${deliveryId} for webhook ${webhookId}`)
  }
  const { lockedUntil, receipts, ...rest } = delivery
  const last = receipts.at(-1)
  return {
    ...present({ ...rest, receipts: last === undefined ? [] : [last] }),
    sending: delivery.status === 'pending' && lockedUntil !== null && lockedUntil > new Date(),
    receipts
  }
}

/**
 * Sends a delivery again: pending, due now, with a fresh attempt budget; its receipts stay. Refused
 * while it is pending (queued, in flight or waiting for a retry): it is going out anyway.
 */
export async function replayDelivery (db: Database, webhookId: string, deliveryId: string, actor: Actor): Promise<unknown> {
  return await db.$transaction(async (tx) => {
    const { count } = await tx.webhookDelivery.updateMany({
      where: { id: deliveryId, webhookId, status: { in: ['delivered', 'failed'] } },
      data: { status: 'pending', attempts: 0, nextAttemptAt: new Date(), lockedUntil: null, deliveredAt: null }
    })
    if (count === 0) {
      const current = await tx.webhookDelivery.findFirst({ where: { id: deliveryId, webhookId }, select: { lockedUntil: true, nextAttemptAt: true } })
      if (current === null) {
        if (await tx.webhook.count({ where: { id: webhookId } }) === 0) throw errors.webhookNotFound(`id ${webhookId}`)
        throw errors.webhookDeliveryNotFound(`id ${deliveryId} for webhook ${webhookId}`)
      }
      if (current.lockedUntil !== null && current.lockedUntil > new Date()) throw errors.conflict(`Delivery ${deliveryId} is being sent right now; see its receipts`)
      throw errors.conflict(`Delivery ${deliveryId} is already pending: its next attempt is due at ${current.nextAttemptAt.toISOString()}`)
    }
    await commitChange(tx, { actor, objectType: 'webhook', objectId: webhookId, action: 'webhook.delivery-replayed', data: { id: webhookId, deliveryId } })
    return await readDelivery(tx, webhookId, deliveryId)
  })
}
