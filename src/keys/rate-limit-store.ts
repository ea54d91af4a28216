// A @fastify/rate-limit store whose counters live in the database, so every instance sees the same
// counts. Fixed windows: a counter starts at the first hit and resets when its window ends.
import type { Database } from '../db/client.ts'

type Callback = (error: Error | null, result?: { current: number, ttl: number }) => void

export function databaseRateLimitStore (db: Database) {
  let hitsSinceCleanup = 0
  const cleanup = async (): Promise<void> => {
    await db.rateLimitCounter.deleteMany({ where: { resetAt: { lt: new Date(Date.now() - 60_000) } } })
  }
  const increment = async (key: string, windowMs: number): Promise<{ current: number, ttl: number }> => {
    const now = new Date()
    if (++hitsSinceCleanup >= 1000) {
      hitsSinceCleanup = 0
      await cleanup()
    }
    const { count } = await db.rateLimitCounter.updateMany({ where: { key, resetAt: { gt: now } }, data: { count: { increment: 1 } } })
    if (count === 0) {
      // No live window: start one. Two instances starting it at once may each count from 1,
      // which errs by one hit in the client's favour.
      const resetAt = new Date(now.getTime() + windowMs)
      await db.rateLimitCounter.upsert({ where: { key }, create: { key, count: 1, resetAt }, update: { count: 1, resetAt } })
    }
    return await current(key)
  }
  const current = async (key: string): Promise<{ current: number, ttl: number }> => {
    const row = await db.rateLimitCounter.findUnique({ where: { key } })
    const ttl = row === null ? 0 : row.resetAt.getTime() - Date.now()
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
