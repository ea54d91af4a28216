// Live changes as server-sent events. One poller per instance reads the shared change log (so
// events written by any instance reach subscribers of every instance) and fans each change out to
// the subscribers allowed to see it, as frames serialized once. A subscriber that falls too far
// behind is dropped with a reason instead of slowing the others; it resumes with Last-Event-ID.
import type { Writable } from 'node:stream'
import fp from 'fastify-plugin'
import type { Database } from '../db/client.ts'
import { changeRowSelect, feedItemOf, logPosition, readChanges, shows, type ChangeRow, type ChangeType, type FeedItem, type Viewer } from './feed.ts'

export interface StreamSettings {
  pollMs: number
  heartbeatMs: number
  /** Bytes waiting to be sent to one subscriber before it is dropped. */
  maxBufferBytes: number
}

interface Subscriber {
  sink: Writable
  viewer: Viewer
  types: readonly ChangeType[]
  /** The last change this subscriber has been sent (or passed over). */
  cursor: bigint
}

const POLL_BATCH = 500

export function eventFrame (item: FeedItem): string {
  return `id: ${item.cursor}\ndata: ${JSON.stringify(item)}\n\n`
}

export class ChangeStream {
  private readonly live = new Set<Subscriber>()
  private joining = 0
  /** The newest change dispatched to live subscribers; null while nobody listens. */
  private seen: bigint | null = null
  private polling: Promise<void> = Promise.resolve()
  private readonly timers: NodeJS.Timeout[] = []
  dropped = 0

  constructor (private readonly db: Database, private readonly settings: StreamSettings, private readonly onError: (error: unknown) => void) {}

  get subscribers (): number { return this.live.size + this.joining }

  start (): void {
    const poll = setInterval(() => { void this.poll() }, this.settings.pollMs)
    const heartbeat = setInterval(() => { for (const subscriber of this.live) this.write(subscriber, ': heartbeat\n\n') }, this.settings.heartbeatMs)
    poll.unref()
    heartbeat.unref()
    this.timers.push(poll, heartbeat)
  }

  /** Ends every stream (the server is shutting down): clients reconnect elsewhere and resume. */
  async stop (): Promise<void> {
    for (const timer of this.timers) clearInterval(timer)
    for (const subscriber of this.live) subscriber.sink.end('event: closing\ndata: {"reason":"The server is shutting down; reconnect to resume."}\n\n')
    this.live.clear()
    await this.polling
  }

  /** Polls are serialized: each dispatches what the one before it did not. */
  private async poll (): Promise<void> {
    this.polling = this.polling.then(async () => { await this.pollOnce() }, () => {})
    await this.polling
  }

  private async pollOnce (): Promise<void> {
    try {
      if (this.live.size === 0 && this.joining === 0) {
        this.seen = null
        return
      }
      if (this.seen === null) {
        this.seen = (await logPosition(this.db)).head
        return
      }
      for (;;) {
        const rows: ChangeRow[] = await this.db.change.findMany({ where: { seq: { gt: this.seen } }, orderBy: { seq: 'asc' }, take: POLL_BATCH, select: changeRowSelect })
        for (const row of rows) this.dispatch(row)
        if (rows.length > 0) this.seen = (rows.at(-1) as ChangeRow).seq
        if (rows.length < POLL_BATCH) return
      }
    } catch (error) {
      this.onError(error)
    }
  }

  private dispatch (row: ChangeRow): void {
    const frames: { public?: string, staff?: string } = {}
    for (const subscriber of this.live) {
      if (row.seq <= subscriber.cursor) continue
      subscriber.cursor = row.seq
      if (!shows(subscriber.viewer, subscriber.types, row)) continue
      const kind = subscriber.viewer.publicOnly ? 'public' : 'staff'
      const frame = frames[kind] ??= eventFrame(feedItemOf(row, subscriber.viewer.publicOnly))
      this.write(subscriber, frame)
    }
  }

  private write (subscriber: Subscriber, frame: string): void {
    const { sink } = subscriber
    if (sink.destroyed || sink.writableEnded) {
      this.live.delete(subscriber)
      return
    }
    sink.write(frame)
    if (sink.writableLength > this.settings.maxBufferBytes) this.drop(subscriber)
  }

  private drop (subscriber: Subscriber): void {
    this.live.delete(subscriber)
    this.dropped += 1
    const reason = `This client fell behind by more than ${this.settings.maxBufferBytes} bytes and was dropped; reconnect with Last-Event-ID to resume.`
    subscriber.sink.end(`event: dropped\ndata: ${JSON.stringify({ reason })}\n\n`)
    // A client that reads nothing would hold the connection open: close it once it had its chance.
    setTimeout(() => { subscriber.sink.destroy() }, 1000).unref()
  }

  /**
   * Sends the changes after `from` this subscriber missed, then keeps it up to date. The step from
   * catching up to live has no await in it, so no change falls between the two.
   */
  async subscribe (sink: Writable, viewer: Viewer, types: readonly ChangeType[], from: bigint): Promise<void> {
    this.joining += 1
    try {
      let cursor = from
      for (;;) {
        if (this.seen === null) await this.poll()
        const seen = this.seen ?? cursor
        if (cursor >= seen) break
        const page = await readChanges(this.db, viewer, types, cursor, seen, POLL_BATCH)
        for (const item of page.items) sink.write(eventFrame(item))
        cursor = BigInt(page.next)
        if (sink.destroyed) return
        if (sink.writableLength > this.settings.maxBufferBytes) {
          this.drop({ sink, viewer, types, cursor })
          return
        }
      }
      if (sink.destroyed || sink.writableEnded) return
      const subscriber: Subscriber = { sink, viewer, types, cursor }
      this.live.add(subscriber)
      sink.once('close', () => { this.live.delete(subscriber) })
    } finally {
      this.joining -= 1
    }
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    changeStream: ChangeStream
  }
}

/** This instance's stream of changes, started when the app is ready and ended before it closes. */
export const changeStreamPlugin = fp(async (app) => {
  const stream = new ChangeStream(app.db, {
    pollMs: app.config.changeStreamPollMs,
    heartbeatMs: app.config.changeStreamHeartbeatMs,
    maxBufferBytes: app.config.changeStreamMaxBufferBytes
  }, (error) => { app.log.warn({ err: error }, 'change stream: reading the change log failed; trying again') })
  app.decorate('changeStream', stream)
  app.addHook('onReady', async () => { stream.start() })
  // Before the server stops accepting: open streams would otherwise hold it open.
  app.addHook('preClose', async () => { await stream.stop() })
}, { name: 'change-stream', dependencies: ['database'] })
