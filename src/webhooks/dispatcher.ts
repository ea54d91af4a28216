// Sends queued webhook deliveries in the background: signed, with a timeout, retried with
// exponential backoff, claimed with a lease so two instances never send one delivery at once, and
// in change order per object: an object's delivery waits while an earlier one to the same webhook
// is still pending (in flight or waiting for a retry). Every attempt leaves a receipt.
import { createHmac } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { LookupAddress, LookupOptions } from 'node:dns'
import type { Database, Prisma } from '../db/client.ts'
import { RefusedTarget, type TargetPolicy } from './targets.ts'
import { publicDataNow } from './events.ts'

export interface DispatchSettings {
  retryBaseMs: number
  maxAttempts: number
  timeoutMs: number
  /** Where deliveries may go: each URL's host is resolved and checked before every attempt. */
  targets: TargetPolicy
}

const BATCH = 20
// A lease outlives the longest possible attempt, so it never expires while the request is in flight.
const LEASE_MARGIN_MS = 30_000

/** The signature header: HMAC-SHA256 over "<unix seconds>.<body>", as documented in the README. */
export function signatureHeader (secret: string, body: string, timestamp: number): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void

/**
 * POSTs to the address that was checked, whatever the name resolves to by now: the connection's
 * lookup answers with it (TLS still verifies the certificate for the URL's host name). Resolves
 * with the status once the headers arrive; the body is not read. Redirects are not followed.
 */
async function postPinned (url: URL, pinned: LookupAddress, headers: OutgoingHttpHeaders, body: string, signal: AbortSignal): Promise<number> {
  const lookup = (_hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    if (options.all === true) callback(null, [pinned])
    else callback(null, pinned.address, pinned.family)
  }
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest
  return await new Promise<number>((resolve, reject) => {
    const outgoing = request(url, { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) }, lookup, signal, agent: false }, (response: IncomingMessage) => {
      resolve(response.statusCode ?? 0)
      response.destroy()
    })
    outgoing.on('error', reject)
    outgoing.end(body)
  })
}

/** A failed attempt's lastError: a refused target says why in its own words; others name the error. */
function failureOf (caught: unknown): string {
  if (!(caught instanceof Error)) return 'request failed'
  return caught instanceof RefusedTarget ? caught.message : `${caught.name}: ${caught.message}`
}

/** A name lookup cannot be cancelled: the attempt stops waiting for it on timeout or shutdown. */
async function untilAborted<T> (work: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted()
  return await new Promise<T>((resolve, reject) => {
    const stop = (): void => { reject(signal.reason) }
    signal.addEventListener('abort', stop, { once: true })
    work.then(resolve, reject).finally(() => { signal.removeEventListener('abort', stop) })
  })
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
  const due = await dueHeads(db, new Date())
  const attempted = await Promise.allSettled(due.map(async (id) => await attemptOne(db, id, settings, signal)))
  const failure = attempted.find((outcome) => outcome.status === 'rejected')
  if (failure !== undefined) throw failure.reason
  return attempted.filter((outcome) => outcome.status === 'fulfilled' && outcome.value).length
}

/**
 * Due deliveries that are first in line for their object: none of the same webhook and object
 * with an earlier place in the change log (seq, then id within one change) is still pending.
 * Deliveries waiting behind another are left out here, so they never fill a batch and hold up
 * other objects. Timestamps compare as values on PostgreSQL and as fixed-width ISO text on SQLite,
 * where Prisma stores them so (a Date parameter is written the same way).
 */
async function dueHeads (db: Database, now: Date): Promise<string[]> {
  const rows = await db.$queryRaw<Array<{ id: string }>>`
    SELECT d."id" FROM "WebhookDelivery" d JOIN "Webhook" w ON w."id" = d."webhookId"
    WHERE d."status" = 'pending' AND d."nextAttemptAt" <= ${now} AND w."active" = true
      AND (d."lockedUntil" IS NULL OR d."lockedUntil" < ${now})
      AND (d."objectKey" IS NULL OR NOT EXISTS (
        SELECT 1 FROM "WebhookDelivery" e
        WHERE e."webhookId" = d."webhookId" AND e."objectKey" = d."objectKey" AND e."status" = 'pending'
          AND (e."seq" < d."seq" OR (e."seq" = d."seq" AND e."id" < d."id"))))
    ORDER BY d."nextAttemptAt", d."id"
    LIMIT ${BATCH}`
  return rows.map((row) => row.id)
}

function claimable (now: Date): Prisma.WebhookDeliveryWhereInput {
  return { status: 'pending', nextAttemptAt: { lte: now }, webhook: { active: true }, OR: [{ lockedUntil: null }, { lockedUntil: { lt: now } }] }
}

/** Pending deliveries of the same webhook and object that come before this one. */
function earlier (delivery: { id: string, webhookId: string, objectKey: string | null, seq: bigint | null }): Prisma.WebhookDeliveryWhereInput | null {
  if (delivery.objectKey === null || delivery.seq === null) return null
  const { id, webhookId, objectKey, seq } = delivery
  return { webhookId, objectKey, status: 'pending', OR: [{ seq: { lt: seq } }, { seq, id: { lt: id } }] }
}

/**
 * A public webhook's delivery as the keyless change feed shows its change when it goes out (also on
 * a retry or a replay): an article killed or put under embargo since it was queued is its id only.
 * The body is rewritten where it is stored, so the log shows what was sent. A delivery the public
 * may not hear of at all (queued before the webhook was made public, or its change no longer kept)
 * is given up without an attempt, and says why; null then.
 */
async function asPublicNow<T extends { body: string, seq: bigint | null }> (db: Database, delivery: T, held: { id: string, lockedUntil: Date }): Promise<T | null> {
  const payload = JSON.parse(delivery.body) as { data: Record<string, unknown> }
  const data = await publicDataNow(db, delivery.seq, payload.data)
  if (data === null) {
    const lastError = 'not sent: this webhook\'s audience is public, and the keyless change feed does not show this change'
    await db.webhookDelivery.updateMany({ where: held, data: { status: 'failed', lockedUntil: null, lastStatusCode: null, lastError } })
    return null
  }
  if (JSON.stringify(data) === JSON.stringify(payload.data)) return delivery
  const body = JSON.stringify({ ...payload, data })
  await db.webhookDelivery.updateMany({ where: held, data: { body } })
  return { ...delivery, body }
}

async function attemptOne (db: Database, id: string, settings: DispatchSettings, signal?: AbortSignal): Promise<boolean> {
  const shuttingDown = (): boolean => signal?.aborted === true
  if (shuttingDown()) return false
  const now = new Date()
  // The lease's expiry doubles as this claim's token: only the instance holding it may finish it.
  const lease = new Date(now.getTime() + settings.timeoutMs + LEASE_MARGIN_MS)
  const { count } = await db.webhookDelivery.updateMany({ where: { id, ...claimable(now) }, data: { lockedUntil: lease } })
  if (count === 0) return false // another instance claimed it
  const held = { id, lockedUntil: lease }
  const found = await db.webhookDelivery.findUnique({ where: { id }, include: { webhook: { select: { url: true, secret: true, audience: true } } } })
  if (found === null) return false
  const delivery = found.webhook.audience === 'public' ? await asPublicNow(db, found, held) : found
  if (delivery === null) return false
  // An earlier delivery may have become pending since it was picked (a replay): it goes first.
  const before = earlier(delivery)
  if (before !== null && await db.webhookDelivery.count({ where: before }) > 0) {
    await db.webhookDelivery.updateMany({ where: held, data: { lockedUntil: null } })
    return false
  }
  let statusCode: number | null = null
  let error: string | null = null
  const startedAt = new Date()
  const started = performance.now()
  const timeout = AbortSignal.timeout(settings.timeoutMs)
  try {
    const timestamp = Math.floor(startedAt.getTime() / 1000)
    const url = new URL(delivery.webhook.url)
    const sendSignal = signal !== undefined ? AbortSignal.any([signal, timeout]) : timeout
    const pinned = await untilAborted(settings.targets.addressToSend(url), sendSignal)
    statusCode = await postPinned(url, pinned, {
      'content-type': 'application/json',
      'user-agent': 'Copydesk-Webhooks/1',
      'copydesk-event': delivery.event,
      'copydesk-delivery': delivery.id,
      'copydesk-signature': signatureHeader(delivery.webhook.secret, delivery.body, timestamp)
    }, delivery.body, sendSignal)
    if (statusCode < 200 || statusCode > 299) error = `receiver answered ${statusCode}`
  } catch (caught) {
    if (shuttingDown()) {
      // Shutting down: not the receiver's fault, so the attempt does not count.
      await db.webhookDelivery.updateMany({ where: held, data: { lockedUntil: null } })
      return false
    }
    error = (timeout.aborted ? `TimeoutError: no answer within ${settings.timeoutMs} ms` : failureOf(caught)).slice(0, 500)
  }
  const latencyMs = Math.round(performance.now() - started)
  const attempts = delivery.attempts + 1
  const done = error === null
  const givenUp = !done && attempts >= settings.maxAttempts
  await db.$transaction(async (tx) => {
    const { count: finished } = await tx.webhookDelivery.updateMany({
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
    if (finished === 0) return // the lease ran out and another instance took over: its receipt tells
    // Numbered over the delivery's whole life: a replay starts a new attempt budget, not a new count.
    const attempt = await tx.webhookAttempt.count({ where: { deliveryId: id } }) + 1
    await tx.webhookAttempt.create({ data: { deliveryId: id, attempt, startedAt, latencyMs, statusCode, error } })
  })
  return true
}
