// Content events, queued for webhooks inside the transaction that makes the change: if the change
// commits, its deliveries are committed with it (a persisted outbox); if it rolls back, nothing is sent.
// A staff webhook hears every event it subscribes to, in full. A public one (partners, syndication,
// a public frontend) learns nothing the keyless change feed would not show: an event only when its
// change is public, its data trimmed by the feed's own rule (changes/feed.ts).
import { randomBytes } from 'node:crypto'
import type { Prisma } from '../db/client.ts'
import { publicDataOf, shows, viewerOf, withdrawnArticles } from '../changes/feed.ts'

export const eventNames = [
  'article.created', 'article.updated', 'article.published', 'article.unpublished', 'article.deleted', 'article.killed', 'article.unkilled',
  'author.created', 'author.updated', 'author.deleted',
  'image.created', 'image.updated', 'image.deleted'
] as const
export type EventName = typeof eventNames[number]

export const audiences = ['staff', 'public'] as const
export type Audience = typeof audiences[number]

/** Where an event comes from in the change log: its change's number, and the object it is about. */
export interface EventOrigin { seq: bigint, objectKey: string | null }

const publicViewer = viewerOf(null)

/**
 * An event's data as a public webhook may be sent it now, or null when it may not hear of it at all:
 * exactly what the keyless change feed shows of the change it reports (the change only if public
 * and still kept; its data cut down as the feed cuts it, for the article as it stands now). Used
 * when an event is queued and again when it goes out (a retry, a replay, an article killed or put
 * under embargo meanwhile, a webhook made public since), so both follow the feed's rule, and only it.
 */
export async function publicDataNow (db: Pick<Prisma.TransactionClient, 'change' | 'article'>, seq: bigint | null, data: Record<string, unknown>): Promise<Record<string, unknown> | null> {
  if (seq === null) return null
  const change = await db.change.findUnique({ where: { seq }, select: { objectType: true, objectId: true, publicChange: true } })
  if (change === null || !shows(publicViewer, publicViewer.types, change)) return null
  const withdrawn = change.objectType === 'article' && change.objectId !== null && (await withdrawnArticles(db, [change.objectId])).size > 0
  return publicDataOf(change, data, withdrawn)
}

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
  const webhooks = await tx.webhook.findMany({ where: { active: true }, select: { id: true, events: true, audience: true } })
  const subscribed = webhooks.filter((webhook) => {
    const events = webhook.events as string[]
    return events.includes('*') || events.includes(event)
  })
  const publicData = subscribed.some((webhook) => webhook.audience === 'public') ? await publicDataNow(tx, origin.seq, data) : null
  const recipients = subscribed.filter((webhook) => webhook.audience !== 'public' || publicData !== null)
  if (recipients.length === 0) return
  const occurredAt = new Date().toISOString()
  await tx.webhookDelivery.createMany({
    data: recipients.map((webhook) => {
      const id = orderedDeliveryId()
      const body = JSON.stringify({ id, event, occurredAt, data: webhook.audience === 'public' ? publicData : data })
      return { id, webhookId: webhook.id, event, seq: origin.seq, objectKey: origin.objectKey, body }
    })
  })
}
