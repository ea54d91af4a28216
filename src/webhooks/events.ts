// Content events, queued for webhooks inside the transaction that makes the change: if the change
// commits, its deliveries are committed with it (a persisted outbox); if it rolls back, nothing is sent.
import { randomBytes } from 'node:crypto'
import type { Prisma } from '../db/client.ts'

export const eventNames = [
  'article.created', 'article.updated', 'article.published', 'article.unpublished', 'article.deleted', 'article.killed', 'article.unkilled',
  'author.created', 'author.updated', 'author.deleted',
  'image.created', 'image.updated', 'image.deleted'
] as const
export type EventName = typeof eventNames[number]

/** Where an event comes from in the change log: its change's number, and the object it is about. */
export interface EventOrigin { seq: bigint, objectKey: string | null }

let lastMs = 0
let counter = 0

/**
 * A UUIDv7 that sorts after every one this process made before. One change can raise two events
 * about one object (article.created, then article.published): they share the change's seq, and
 * their ids keep them in order for the dispatcher, which sends an object's deliveries by (seq, id).
 */
export function orderedDeliveryId (): string {
  let ms = Date.now()
  if (ms > lastMs) {
    counter = randomBytes(2).readUInt16BE() & 0x7ff // leaves room to count up within the millisecond
  } else {
    ms = lastMs
    counter++
    if (counter > 0xfff) { ms++; counter = 0 }
  }
  lastMs = ms
  const bytes = randomBytes(16)
  bytes.writeUIntBE(ms, 0, 6)
  bytes[6] = 0x70 | (counter >> 8)
  bytes[7] = counter & 0xff
  bytes[8] = 0x80 | ((bytes[8] as number) & 0x3f)
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

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
      const id = orderedDeliveryId()
      return { id, webhookId: webhook.id, event, seq: origin.seq, objectKey: origin.objectKey, body: JSON.stringify({ id, event, occurredAt, data }) }
    })
  })
}
