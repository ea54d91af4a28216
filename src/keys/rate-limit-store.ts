// A @fastify/rate-limit store whose counters live in the database, so every instance sees the same
// counts. Fixed windows: a counter starts at the first hit and resets when its window ends. Each
// hit is one atomic upsert, so concurrent requests, on any instance, each get their own count.
import type { Database } from '../db/client.ts'

type Callback = (error: Error | null, result?: { current: number, ttl: number }) => void
interface CounterRow { count: number | bigint, resetAt: number | bigint }

const CLEANUP_EVERY = 1000

export function databaseRateLimitStore (db: Database) {
  let hitsSinceCleanup = 0
  const increment = async (key: string, windowMs: number): Promise<{ current: number, ttl: number }> => {
    const now = Date.now()
    if (++hitsSinceCleanup >= CLEANUP_EVERY) {
      hitsSinceCleanup = 0
      // Expired counters are dead weight; their removal need not hold up this request.
      void db.rateLimitCounter.deleteMany({ where: { resetAt: { lt: BigInt(now - windowMs) } } }).catch(() => {})
    }
    const [row] = await db.$queryRaw<CounterRow[]>`
      INSERT INTO "RateLimitCounter" ("key", "count", "resetAt") VALUES (${key}, 1, ${BigInt(now + windowMs)})
      ON CONFLICT ("key") DO UPDATE SET
        "count" = CASE WHEN "RateLimitCounter"."resetAt" <= ${BigInt(now)} THEN 1 ELSE "RateLimitCounter"."count" + 1 END,
        "resetAt" = CASE WHEN "RateLimitCounter"."resetAt" <= ${BigInt(now)} THEN ${BigInt(now + windowMs)} ELSE "RateLimitCounter"."resetAt" END
      RETURNING "count", "resetAt"`
    if (row === undefined) throw new Error('rate-limit counter not returned')
    return { current: Number(row.count), ttl: Math.max(0, Number(row.resetAt) - now) }
  }
  const current = async (key: string): Promise<{ current: number, ttl: number }> => {
    const row = await db.rateLimitCounter.findUnique({ where: { key } })
    const ttl = row === null ? 0 : Number(row.resetAt) - Date.now()
    return row === null || ttl <= 0 ? { current: 0, ttl: 0 } : { current: row.count, ttl }
  }
  return class DatabaseRateLimitStore {
    incr (key: string, callback: Callback, timeWindow: number): void {
      increment(key, timeWindow).then((result) => { callback(null, result) }, (error: Error) => { callback(error) })
    }

    read (key: string, callback: Callback): void {
      current(key).then((result) => { callback(null, result) }, (error: Error) => { callback(error) })
    }

    child (): this {
      return this
    }
  }
}
