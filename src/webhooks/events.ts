// Content events, queued for webhooks inside the transaction that makes the change: if the change
// commits, its deliveries are committed with it (a persisted outbox); if it rolls back, nothing is sent.
import { randomUUID } from 'node:crypto'
import type { Prisma } from '../db/client.ts'

export const eventNames = [
  'article.created', 'article.updated', 'article.published', 'article.unpublished', 'article.deleted',
  'author.created', 'author.updated', 'author.deleted',
  'image.created', 'image.updated', 'image.deleted'
] as const
export type EventName = typeof eventNames[number]

/** Where an event comes from in the change log: its change's number, and the object it is about. */
export interface EventOrigin { seq: bigint, objectKey: string | null }

export async function queueEvent (tx: Prisma.TransactionClient, event: EventName, data: Record<string, unknown>, origin: EventOrigin): Promise<void> {
  const webhooks = await tx.webhook.findMany({ where: { active: true }, select: { id: true, events: true } })
  const subscribed = webhooks.filter((webhook) => {
    const events = webhook.events as string[]
    return events.includes('*') || events.includes(event)
  })
  if (subscribed.length === 0) return
  const occurredAt = new Date().toISOString()
  await tx.webhookDelivery.createMany({
    data: subscribed.map((webhook) => {
      const id = randomUUID()
      return { id, webhookId: webhook.id, event, seq: origin.seq, objectKey: origin.objectKey, body: JSON.stringify({ id, event, occurredAt, data }) }
    })
  })
}
