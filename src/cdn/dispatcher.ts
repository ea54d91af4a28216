// Sends queued CDN purges in the background (the change step queues one PurgeRequest per purger for
// every public change, in its transaction), claimed with a lease as webhook deliveries are, so two
// instances never send one purge at once. What is due for one purger goes out together: the keys
// of all its requests, each key once, in as few API calls as the provider allows, or a single
// purge of everything when any of them asks for that. A request is done when every call carrying
// its keys succeeded at every target; otherwise it is tried again with exponential backoff, and
// after the last attempt recorded as failed with the reason.
import type { Database, Prisma } from '../db/client.ts'
import { PURGE_EVERYTHING, PurgeFailure, type Purger } from './purgers.ts'

export interface PurgeSettings {
  retryBaseMs: number
  maxRetryDelayMs: number
  maxAttempts: number
  /** How long one call to a CDN may take before it counts as failed. */
  timeoutMs: number
}

/** About two hours of retries (1 s doubling to 10 min) before a purge is given up; 10 s a call. */
export const purgeSettings: PurgeSettings = {
  retryBaseMs: 1_000,
  maxRetryDelayMs: 600_000,
  maxAttempts: 20,
  timeoutMs: 10_000
}

export interface PurgeOutcome { done: number, retrying: number, failed: number }

const BATCH = 100
// A lease outlives the longest possible run (its calls one after another), so it never expires
// while a call is in flight.
const LEASE_MARGIN_MS = 30_000

export function retryDelayMs (settings: PurgeSettings, attempts: number): number {
  return Math.min(settings.retryBaseMs * 2 ** (attempts - 1), settings.maxRetryDelayMs)
}

interface Queued { id: string, purger: string, keys: string, attempts: number }

/** The calls one purger makes for some requests, and after which call each request is covered. */
interface Plan { calls: Array<readonly string[] | typeof PURGE_EVERYTHING>, lastCallOf: Map<string, number> }

/**
 * Sends what is due to the configured purgers (requests of purgers no longer configured wait).
 * Aborting `signal` (shutdown) cancels calls in flight and hands unfinished requests back,
 * uncounted, for the next run.
 */
export async function purgeDue (
  db: Database, purgers: readonly Purger[], settings: PurgeSettings, signal?: AbortSignal
): Promise<PurgeOutcome> {
  const now = new Date()
  const due = await db.purgeRequest.findMany({
    where: claimable(now, purgers.map((purger) => purger.name)),
    orderBy: [{ nextAttemptAt: 'asc' }, { id: 'asc' }],
    take: BATCH,
    select: { id: true, purger: true, keys: true, attempts: true }
  })
  const outcomes = await Promise.allSettled(purgers.map(async (purger) => {
    const queued = due.filter((request) => request.purger === purger.name)
    if (queued.length === 0) return { done: 0, retrying: 0, failed: 0 }
    return await purgeWith(db, purger, queued, settings, signal)
  }))
  const failure = outcomes.find((outcome) => outcome.status === 'rejected')
  if (failure !== undefined) throw failure.reason
  const total: PurgeOutcome = { done: 0, retrying: 0, failed: 0 }
  for (const outcome of outcomes) {
    if (outcome.status !== 'fulfilled') continue
    total.done += outcome.value.done
    total.retrying += outcome.value.retrying
    total.failed += outcome.value.failed
  }
  return total
}

function claimable (now: Date, purgers: string[]): Prisma.PurgeRequestWhereInput {
  return {
    status: 'pending',
    purger: { in: purgers },
    nextAttemptAt: { lte: now },
    OR: [{ lockedUntil: null }, { lockedUntil: { lt: now } }]
  }
}

function planOf (purger: Purger, requests: readonly Queued[]): Plan {
  const keysOf = (request: Queued): string[] => request.keys.split(' ').filter((key) => key !== '')
  if (requests.some((request) => keysOf(request).includes(PURGE_EVERYTHING))) {
    return { calls: [PURGE_EVERYTHING], lastCallOf: new Map(requests.map((request) => [request.id, 0])) }
  }
  // Keys in the order of the requests, so the oldest requests are covered by the first calls.
  const keys = [...new Set(requests.flatMap(keysOf))]
  const calls = purger.batches(keys)
  const callOf = new Map<string, number>()
  calls.forEach((call, index) => { for (const key of call) callOf.set(key, index) })
  const lastCallOf = new Map(requests.map((request) => {
    const last = keysOf(request).reduce((latest, key) => Math.max(latest, callOf.get(key) ?? 0), -1)
    return [request.id, last]
  }))
  return { calls, lastCallOf }
}

async function purgeWith (
  db: Database, purger: Purger, due: readonly Queued[], settings: PurgeSettings, signal?: AbortSignal
): Promise<PurgeOutcome> {
  const outcome: PurgeOutcome = { done: 0, retrying: 0, failed: 0 }
  const shuttingDown = (): boolean => signal?.aborted === true
  if (shuttingDown()) return outcome
  const now = new Date()
  // The lease's expiry doubles as this claim's token: only the instance holding it may finish it.
  const lease = new Date(now.getTime() + planOf(purger, due).calls.length * settings.timeoutMs + LEASE_MARGIN_MS)
  const claims = await Promise.all(due.map(async (request) => await db.purgeRequest.updateMany({
    where: { id: request.id, ...claimable(now, [purger.name]) },
    data: { lockedUntil: lease }
  })))
  // The others, another instance claimed.
  const claimed = due.filter((_request, index) => claims[index]?.count === 1)
  if (claimed.length === 0) return outcome
  const plan = planOf(purger, claimed)

  // Each target takes the calls in order and stops at its first failure: a request is covered by a
  // target once every call up to its last one went through there.
  const deadline = (): AbortSignal => signal === undefined
    ? AbortSignal.timeout(settings.timeoutMs)
    : AbortSignal.any([signal, AbortSignal.timeout(settings.timeoutMs)])
  const where = (target: string): string => `${purger.name}${purger.targets.length > 1 ? ` ${target}` : ''}`
  const reached = await Promise.all(purger.targets.map(async (target) => {
    for (const [index, call] of plan.calls.entries()) {
      try {
        if (call === PURGE_EVERYTHING) await purger.purgeAll(target, deadline())
        else await purger.purgeKeys(target, call, deadline())
      } catch (caught) {
        return { sent: index, error: `${where(target)}: ${reasonOf(caught)}`.slice(0, 500) }
      }
    }
    return { sent: plan.calls.length, error: null }
  }))

  const held = (ids: string[]): Prisma.PurgeRequestWhereInput => ({ id: { in: ids }, lockedUntil: lease })
  const covered = (request: Queued): boolean => {
    const last = plan.lastCallOf.get(request.id) ?? -1
    return reached.every(({ sent }) => sent > last)
  }
  const finished = claimed.filter(covered).map((request) => request.id)
  const unfinished = claimed.filter((request) => !covered(request))
  if (finished.length > 0) {
    await db.purgeRequest.updateMany({
      where: held(finished),
      data: { status: 'done', attempts: { increment: 1 }, doneAt: new Date(), lockedUntil: null, lastError: null }
    })
    outcome.done = finished.length
  }
  if (unfinished.length === 0) return outcome
  if (shuttingDown()) {
    // Shutting down: not the CDN's fault, so the attempt does not count.
    const ids = unfinished.map((request) => request.id)
    await db.purgeRequest.updateMany({ where: held(ids), data: { lockedUntil: null } })
    return outcome
  }
  const error = reached.map((target) => target.error).filter((reason) => reason !== null).join('; ').slice(0, 1000)
  // Requests that failed as often share their next attempt: one update for each such group.
  for (const attempts of new Set(unfinished.map((request) => request.attempts + 1))) {
    const givenUp = attempts >= settings.maxAttempts
    const ids = unfinished.filter((request) => request.attempts + 1 === attempts).map((request) => request.id)
    await db.purgeRequest.updateMany({
      where: held(ids),
      data: {
        attempts,
        status: givenUp ? 'failed' : 'pending',
        nextAttemptAt: givenUp ? undefined : new Date(Date.now() + retryDelayMs(settings, attempts)),
        lockedUntil: null,
        lastError: error
      }
    })
    if (givenUp) outcome.failed += ids.length
    else outcome.retrying += ids.length
  }
  return outcome
}

/** For lastError: the CDN's answer, or the network error with its cause (ECONNREFUSED, ENOTFOUND, ...). */
function reasonOf (caught: unknown): string {
  if (caught instanceof PurgeFailure) return caught.message
  if (!(caught instanceof Error)) return 'purge failed'
  const { cause } = caught
  if (!(cause instanceof Error)) return `${caught.name}: ${caught.message}`
  return `${caught.name}: ${caught.message} (${'code' in cause ? String(cause.code) : cause.message})`
}
