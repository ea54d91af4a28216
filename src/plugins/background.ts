// Work that runs on timers in every instance: publishing scheduled articles and lifting embargoes that
// came due, sending webhook
// deliveries and CDN purges (all claim their work in the database, so any number of instances can
// run them), and on SQLite, keeping the search index compact.
import fp from 'fastify-plugin'
import { publishDue } from '../articles/service.ts'
import { liftDueEmbargoes } from '../articles/embargo.ts'
import { dispatchDue } from '../webhooks/dispatcher.ts'
import { targetPolicy } from '../webhooks/targets.ts'
import { pruneChanges } from '../changes/feed.ts'
import { purgeDue, purgeSettings } from '../cdn/dispatcher.ts'
import { purgersFrom } from '../cdn/purgers.ts'

/** Runs `work` every `intervalMs`, never twice at once; stop() waits for a run in progress. */
function every (intervalMs: number, work: () => Promise<unknown>, onError: (error: unknown) => void): { stop: () => Promise<void> } {
  let running: Promise<void> | null = null
  const timer = setInterval(() => {
    if (running !== null) return
    running = work().then(() => {}, onError).finally(() => { running = null })
  }, intervalMs)
  timer.unref()
  return {
    stop: async () => {
      clearInterval(timer)
      await running
    }
  }
}

const SEARCH_MERGE_INTERVAL_MS = 60_000
const RETENTION_INTERVAL_MS = 10 * 60_000
const SEARCH_OPTIMIZE_INTERVAL_MS = 24 * 3_600_000

export default fp(async (app) => {
  if (!app.config.backgroundJobs) return
  const jobs: Array<{ stop: () => Promise<void> }> = []
  const shutdown = new AbortController()
  const targets = targetPolicy(app.config.webhookAllowedInternal)
  app.addHook('onReady', async () => {
    jobs.push(every(app.config.schedulerIntervalMs, async () => {
      const published = await publishDue(app.db)
      if (published.length > 0) app.log.info({ articles: published }, 'published scheduled articles')
      const lifted = await liftDueEmbargoes(app.db)
      if (lifted.length > 0) app.log.info({ articles: lifted }, 'lifted embargoes that came due')
    }, (error) => { app.log.error({ err: error }, 'scheduler run failed') }))
    jobs.push(every(app.config.webhookPollIntervalMs, async () => {
      await dispatchDue(app.db, { retryBaseMs: app.config.webhookRetryBaseMs, maxAttempts: app.config.webhookMaxAttempts, timeoutMs: app.config.webhookTimeoutMs, targets }, shutdown.signal)
    }, (error) => { app.log.error({ err: error }, 'webhook dispatch failed') }))
    if (app.config.cdnPurgers !== '') {
      const purgers = purgersFrom(app.config)
      jobs.push(every(app.config.cdnPurgeIntervalMs, async () => {
        const { failed } = await purgeDue(app.db, purgers, purgeSettings, shutdown.signal)
        if (failed > 0) app.log.warn({ failed }, 'CDN purges given up after their last attempt (see PurgeRequest.lastError)')
      }, (error) => { app.log.error({ err: error }, 'CDN purge run failed') }))
    }
    // The change feed keeps CHANGES_RETENTION_DAYS; older changes (and finished CDN purges) go.
    jobs.push(every(RETENTION_INTERVAL_MS, async () => {
      const removed = await pruneChanges(app.db, app.config.changesRetentionDays)
      if (removed > 0) app.log.info({ removed }, 'removed changes older than the retention period')
    }, (error) => { app.log.warn({ err: error }, 'change log retention failed; it will be tried again') }))
    if (app.dbProvider === 'sqlite') {
      // Every write adds a small b-tree to the FTS5 index, and every lookup visits each one. A bounded
      // merge step a minute (about 500 pages; only levels holding several b-trees) keeps their number
      // low without holding the database for long; a full optimize (one b-tree, about a second per
      // 100,000 articles) once a day, or nothing when nothing changed.
      let optimizedAt = Date.now()
      jobs.push(every(SEARCH_MERGE_INTERVAL_MS, async () => {
        if (Date.now() - optimizedAt < SEARCH_OPTIMIZE_INTERVAL_MS) {
          await app.db.$executeRaw`INSERT INTO "article_search" ("article_search", rank) VALUES ('merge', 500)`
          return
        }
        await app.db.$executeRaw`INSERT INTO "article_search" ("article_search") VALUES ('optimize')`
        optimizedAt = Date.now()
      }, (error) => { app.log.warn({ err: error }, 'search index maintenance failed; it will be tried again') }))
    }
  })
  app.addHook('onClose', async () => {
    shutdown.abort()
    await Promise.all(jobs.map(async (job) => { await job.stop() }))
  })
}, { name: 'background', dependencies: ['database'] })
