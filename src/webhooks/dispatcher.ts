// Sends queued webhook deliveries in the background: signed, with a timeout, retried with
// exponential backoff, and claimed with a lease so two instances never send one delivery at once.
import { createHmac } from 'node:crypto'
import type { Database, Prisma } from '../db/client.ts'

export interface DispatchSettings {
  retryBaseMs: number
  maxAttempts: number
  timeoutMs: number
}

const BATCH = 20
// A lease outlives the longest possible attempt, so it never expires while the request is in flight.
const LEASE_MARGIN_MS = 30_000

/** The signature header: HMAC-SHA256 over "<unix seconds>.<body>", as documented in the README. */
export function signatureHeader (secret: string, body: string, timestamp: number): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`
}

export function retryDelayMs (settings: DispatchSettings, attempts: number): number {
  return Math.min(settings.retryBaseMs * 2 ** (attempts - 1), 3_600_000)
}

/**
 * Sends what is due; returns how many deliveries this instance attempted. Deliveries of a paused
 * (inactive) webhook wait, and go out when it is switched back on. Aborting `signal` (shutdown)
 * cancels requests in flight and hands their deliveries back, uncounted, for the next run.
 */
export async function dispatchDue (db: Database, settings: DispatchSettings, signal?: AbortSignal): Promise<number> {
  const now = new Date()
  const due = await db.webhookDelivery.findMany({
    where: claimable(now),
    orderBy: [{ nextAttemptAt: 'asc' }, { id: 'asc' }],
    take: BATCH,
    select: { id: true }
  })
  const attempted = await Promise.allSettled(due.map(async ({ id }) => await attemptOne(db, id, settings, signal)))
  const failure = attempted.find((outcome) => outcome.status === 'rejected')
  if (failure !== undefined) throw failure.reason
  return attempted.filter((outcome) => outcome.status === 'fulfilled' && outcome.value).length
}

function claimable (now: Date): Prisma.WebhookDeliveryWhereInput {
  return { status: 'pending', nextAttemptAt: { lte: now }, webhook: { active: true }, OR: [{ lockedUntil: null }, { lockedUntil: { lt: now } }] }
}

async function attemptOne (db: Database, id: string, settings: DispatchSettings, signal?: AbortSignal): Promise<boolean> {
  const shuttingDown = (): boolean => signal?.aborted === true
  if (shuttingDown()) return false
  const now = new Date()
  // The lease's expiry doubles as this claim's token: only the instance holding it may finish it.
  const lease = new Date(now.getTime() + settings.timeoutMs + LEASE_MARGIN_MS)
  const { count } = await db.webhookDelivery.updateMany({ where: { id, ...claimable(now) }, data: { lockedUntil: lease } })
  if (count === 0) return false // another instance claimed it
  const delivery = await db.webhookDelivery.findUnique({ where: { id }, include: { webhook: { select: { url: true, secret: true } } } })
  if (delivery === null) return false
  const held = { id, lockedUntil: lease }
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
      signal: signal !== undefined ? AbortSignal.any([signal, AbortSignal.timeout(settings.timeoutMs)]) : AbortSignal.timeout(settings.timeoutMs)
    })
    statusCode = response.status
    await response.body?.cancel()
    if (!response.ok) error = `receiver answered ${response.status}`
  } catch (caught) {
    if (shuttingDown()) {
      // Shutting down: not the receiver's fault, so the attempt does not count.
      await db.webhookDelivery.updateMany({ where: held, data: { lockedUntil: null } })
      return false
    }
    error = caught instanceof Error ? `${caught.name}: ${caught.message}`.slice(0, 500) : 'request failed'
  }
  const attempts = delivery.attempts + 1
  const done = error === null
  const givenUp = !done && attempts >= settings.maxAttempts
  await db.webhookDelivery.updateMany({
    where: held,
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
