// Sends queued webhook deliveries in the background: signed, with a timeout, retried with
// exponential backoff, and claimed with a lease so two instances never send one delivery at once.
import { createHmac } from 'node:crypto'
import type { Database } from '../db/client.ts'

export interface DispatchSettings {
  retryBaseMs: number
  maxAttempts: number
  timeoutMs: number
}

const LEASE_MS = 60_000
const BATCH = 20

/** The signature header: HMAC-SHA256 over "<unix seconds>.<body>", as documented in the README. */
export function signatureHeader (secret: string, body: string, timestamp: number): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`
}

export function retryDelayMs (settings: DispatchSettings, attempts: number): number {
  return Math.min(settings.retryBaseMs * 2 ** (attempts - 1), 3_600_000)
}

/** Sends what is due; returns how many deliveries this instance attempted. */
export async function dispatchDue (db: Database, settings: DispatchSettings): Promise<number> {
  const now = new Date()
  const due = await db.webhookDelivery.findMany({
    where: { status: 'pending', nextAttemptAt: { lte: now }, OR: [{ lockedUntil: null }, { lockedUntil: { lt: now } }] },
    orderBy: [{ nextAttemptAt: 'asc' }, { id: 'asc' }],
    take: BATCH,
    select: { id: true }
  })
  const attempted = await Promise.all(due.map(async ({ id }) => await attemptOne(db, id, settings)))
  return attempted.filter(Boolean).length
}

async function attemptOne (db: Database, id: string, settings: DispatchSettings): Promise<boolean> {
  const now = new Date()
  const { count } = await db.webhookDelivery.updateMany({
    where: { id, status: 'pending', OR: [{ lockedUntil: null }, { lockedUntil: { lt: now } }] },
    data: { lockedUntil: new Date(now.getTime() + LEASE_MS) }
  })
  if (count === 0) return false // another instance claimed it
  const delivery = await db.webhookDelivery.findUnique({ where: { id }, include: { webhook: { select: { url: true, secret: true, active: true } } } })
  if (delivery === null) return false
  let statusCode: number | null = null
  let error: string | null = null
  try {
    const timestamp = Math.floor(Date.now() / 1000)
    const response = await fetch(delivery.webhook.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Copydesk-Webhooks/1',
        'copydesk-event': delivery.event,
        'copydesk-delivery': delivery.id,
        'copydesk-signature': signatureHeader(delivery.webhook.secret, delivery.body, timestamp)
      },
      body: delivery.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(settings.timeoutMs)
    })
    statusCode = response.status
    await response.body?.cancel()
    if (!response.ok) error = `receiver answered ${response.status}`
  } catch (caught) {
    error = caught instanceof Error ? `${caught.name}: ${caught.message}`.slice(0, 500) : 'request failed'
  }
  const attempts = delivery.attempts + 1
  const done = error === null
  const givenUp = !done && attempts >= settings.maxAttempts
  await db.webhookDelivery.update({
    where: { id },
    data: {
      attempts,
      status: done ? 'delivered' : givenUp ? 'failed' : 'pending',
      deliveredAt: done ? new Date() : null,
      nextAttemptAt: done || givenUp ? undefined : new Date(Date.now() + retryDelayMs(settings, attempts)),
      lockedUntil: null,
      lastStatusCode: statusCode,
      lastError: error
    }
  })
  return true
}
