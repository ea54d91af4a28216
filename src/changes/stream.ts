// Live changes as server-sent events. One poller per instance reads the shared change log (so
// events written by any instance reach subscribers of every instance) and fans each change out to
// the subscribers allowed to see it, as frames serialized once. A subscriber that falls too far
// behind is dropped with a reason instead of slowing the others; it resumes with Last-Event-ID.
import { once } from 'node:events'
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

/**
 * A narrower audience than a viewer's (the readers of one live coverage): subscribers sharing its key
 * are sent the same frames, each made once per change.
 */
export interface Audience {
  key: string
  /** The frame a change is sent as to this audience, or null when the change is not for it. */
  frameOf: (item: FeedItem) => string | null
}

interface Subscriber {
  sink: Writable
  viewer: Viewer
  types: readonly ChangeType[]
  audience?: Audience
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
  private polling: Promise<void> | null = null
  private stopped = false
  private readonly timers: NodeJS.Timeout[] = []
  dropped = 0

  constructor (private readonly db: Database, private readonly settings: StreamSettings, private readonly onError: (error: unknown) => void) {}

  get subscribers (): number { return this.live.size + this.joining }

  start (): void {
    const poll = setInterval(() => { void this.poll() }, this.settings.pollMs)
    // A heartbeat carries the subscriber's cursor as its id: a client that hears no event for a while
    // still resumes from where it is (changes it may not see are passed over), not from long ago.
    const heartbeat = setInterval(() => { for (const subscriber of this.live) this.write(subscriber, `: heartbeat\nid: ${subscriber.cursor}\n\n`) }, this.settings.heartbeatMs)
    poll.unref()
    heartbeat.unref()
    this.timers.push(poll, heartbeat)
  }

  /**
   * Ends every stream (the server is shutting down): clients reconnect elsewhere and resume. A client
   * that reads nothing would hold the server open, so its connection is cut after a second.
   */
  async stop (): Promise<void> {
    this.stopped = true
    for (const timer of this.timers) clearInterval(timer)
    for (const subscriber of this.live) this.close(subscriber.sink, 'closing', 'The server is shutting down; reconnect to resume.')
    this.live.clear()
    await this.polling
  }

  private close (sink: Writable, event: string, reason: string): void {
    sink.end(`event: ${event}\ndata: ${JSON.stringify({ reason })}\n\n`)
    setTimeout(() => { sink.destroy() }, 1000).unref()
  }

  /** One poll at a time: a call while one runs waits for it instead of queueing another. */
  private async poll (): Promise<void> {
    this.polling ??= this.pollOnce().finally(() => { this.polling = null })
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
    const frames = new Map<string, string | null>()
    for (const subscriber of this.live) {
      if (row.seq <= subscriber.cursor) continue
      subscriber.cursor = row.seq
      if (!shows(subscriber.viewer, subscriber.types, row)) continue
      const { audience, viewer } = subscriber
      const kind = audience === undefined ? (viewer.publicOnly ? 'public' : 'staff') : `${viewer.publicOnly ? 'public' : 'staff'} ${audience.key}`
      let frame = frames.get(kind)
      if (frame === undefined) {
        const item = feedItemOf(row, viewer.publicOnly)
        frame = audience === undefined ? eventFrame(item) : audience.frameOf(item)
        frames.set(kind, frame)
      }
      if (frame !== null) this.write(subscriber, frame)
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
    this.close(subscriber.sink, 'dropped', `This client fell behind by more than ${this.settings.maxBufferBytes} bytes and was dropped; reconnect with Last-Event-ID to resume.`)
  }

  /**
   * Sends the changes after `from` this subscriber missed, then keeps it up to date. Catching up waits
   * for the client to take what it was sent (it slows nobody else); the step from catching up to
   * live has no await in it, so no change falls between the two.
   */
  async subscribe (sink: Writable, viewer: Viewer, types: readonly ChangeType[], from: bigint, audience?: Audience): Promise<void> {
    this.joining += 1
    try {
      let cursor = from
      for (;;) {
        if (this.seen === null) await this.poll()
        if (this.seen === null) throw new Error('The change log could not be read')
        if (cursor >= this.seen) break
        const page = await readChanges(this.db, viewer, types, cursor, this.seen, POLL_BATCH)
        for (const item of page.items) {
          const frame = audience === undefined ? eventFrame(item) : audience.frameOf(item)
          if (frame !== null) sink.write(frame)
        }
        cursor = BigInt(page.next)
        if (sink.writableLength > this.settings.maxBufferBytes) await Promise.race([once(sink, 'drain'), once(sink, 'close')])
        if (sink.destroyed || sink.writableEnded) return
      }
      if (sink.destroyed || sink.writableEnded) return
      if (this.stopped) {
        this.close(sink, 'closing', 'The server is shutting down; reconnect to resume.')
        return
      }
      const subscriber: Subscriber = { sink, viewer, types, cursor, ...(audience === undefined ? {} : { audience }) }
      this.live.add(subscriber)
      sink.once('close', () => { this.live.delete(subscriber) })
      // Where the client stands, so a reconnection resumes here even if no event comes first.
      sink.write(`id: ${cursor}\n\n`)
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
