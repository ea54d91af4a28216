// Live changes as server-sent events. One poller per instance reads the shared change log (so
// events written by any instance reach subscribers of every instance) and fans each change out to
// the subscribers allowed to see it, as frames serialized once. A subscriber that falls too far
// behind is dropped with a reason instead of slowing the others; it resumes with Last-Event-ID.
// A write answered by this instance wakes the poller at once (no wait for the interval): the
// interval only bounds how late changes written through other instances arrive.
import { once } from 'node:events'
import type { ServerResponse } from 'node:http'
import { Socket } from 'node:net'
import { PassThrough, type Writable } from 'node:stream'
import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { errors } from '../errors.ts'
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
  /** The frame a change is sent as to this audience's public or staff readers, or null when the change is not for them. */
  frameOf: (item: FeedItem, publicOnly: boolean) => AudienceFrame | null
  /**
   * Whether the reader may still follow it, asked when catching up replayed a `last` frame: a
   * reader resuming from long ago may replay a takedown that was undone since (unpublished, then
   * published again), which must not end its stream.
   */
  stillFollowed?: () => Promise<boolean>
}

/** `last`: what the audience follows is gone for these readers; their streams end after this frame. */
export interface AudienceFrame { text: string, last: boolean }

interface Subscriber {
  sink: Writable
  viewer: Viewer
  types: readonly ChangeType[]
  audience?: Audience
  /** Subscribers of the same kind are sent the same frame: who they are (public or staff) and their audience. */
  kind: string
  /** The last change this subscriber has been sent (or passed over). */
  cursor: bigint
}

function kindOf (viewer: Viewer, audience: Audience | undefined): string {
  const who = viewer.publicOnly ? 'public' : 'staff'
  return audience === undefined ? who : `${who} ${audience.key}`
}

const POLL_BATCH = 500
/** How long a stream that ended (its story taken down) may take to deliver its last frames. */
const ENDED_STREAM_GRACE_MS = 30_000

/** A frame as written through a sink, and the same bytes framed as one HTTP/1.1 chunk, for sockets written directly. */
interface Frame { bytes: Buffer, chunk: Buffer }

function frameOf (text: string): Frame {
  const bytes = Buffer.from(text)
  return { bytes, chunk: Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n')]) }
}

/**
 * The sink of an HTTP event stream. Once everything written through it has reached its socket, a
 * frame goes straight to the socket as a chunk of the (chunked) response: one write per reader,
 * without the stream, response and cork steps that are most of a frame's cost at thousands of readers.
 */
export class EventSink extends PassThrough {
  constructor (private readonly response: ServerResponse) {
    super()
  }

  /** The socket, when bytes written to it now follow everything written before; otherwise null. */
  directSocket (): Socket | null {
    const { response } = this
    const socket = response.socket
    // Not for injected requests (no real socket), nor while anything waits in this sink or the response.
    if (!(socket instanceof Socket) || !response.headersSent || !response.chunkedEncoding) return null
    if (this.readableLength > 0 || this.writableLength > 0 || socket.writableCorked > 0 || response.writableLength !== socket.writableLength) return null
    return socket
  }
}

export function eventFrame (item: FeedItem): string {
  return `id: ${item.cursor}\ndata: ${JSON.stringify(item)}\n\n`
}

function frameFor (item: FeedItem, viewer: Viewer, audience: Audience | undefined): AudienceFrame | null {
  return audience === undefined ? { text: eventFrame(item), last: false } : audience.frameOf(item, viewer.publicOnly)
}

export class ChangeStream {
  private readonly live = new Set<Subscriber>()
  /** Streams that ended and are still delivering their last frames (cut at shutdown as the live ones are). */
  private readonly ending = new Set<Writable>()
  private joining = 0
  /** The newest change dispatched to live subscribers; null while nobody listens. */
  private seen: bigint | null = null
  private polling: Promise<void> | null = null
  /** A write was committed while a poll ran: it may have missed it, so another follows at once. */
  private pollAgain = false
  private stopped = false
  private readonly timers: NodeJS.Timeout[] = []
  dropped = 0

  constructor (private readonly db: Database, private readonly settings: StreamSettings, private readonly onError: (error: unknown) => void) {}

  get subscribers (): number { return this.live.size + this.joining }

  start (): void {
    const poll = setInterval(() => { void this.poll() }, this.settings.pollMs)
    // A heartbeat carries the subscriber's cursor as its id: a client that hears no event for a while
    // still resumes from where it is (changes it may not see are passed over), not from long ago.
    const heartbeat = setInterval(() => { this.heartbeat() }, this.settings.heartbeatMs)
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
    for (const sink of this.ending) setTimeout(() => { sink.destroy() }, 1000).unref()
    await this.polling
  }

  private close (sink: Writable, event: string, reason: string): void {
    sink.end(`event: ${event}\ndata: ${JSON.stringify({ reason })}\n\n`)
    setTimeout(() => { sink.destroy() }, 1000).unref()
  }

  /**
   * A change was committed on this instance: read the log now. Called after the write's transaction
   * committed, so the poll sees it; a call during a poll is followed by one more poll.
   */
  wake (): void {
    if (this.live.size === 0 || this.stopped) return
    if (this.polling !== null) {
      this.pollAgain = true
      return
    }
    void this.poll()
  }

  /** One heartbeat for everyone: subscribers at the same position (most of them) share one frame. */
  private heartbeat (): void {
    const frames = new Map<bigint, Frame>()
    for (const subscriber of this.live) {
      let frame = frames.get(subscriber.cursor)
      if (frame === undefined) frames.set(subscriber.cursor, frame = frameOf(`: heartbeat\nid: ${subscriber.cursor}\n\n`))
      this.write(subscriber, frame)
    }
  }

  /** One poll at a time: a call while one runs waits for it instead of queueing another. */
  private async poll (): Promise<void> {
    this.polling ??= this.pollOnce().finally(() => {
      this.polling = null
      if (this.pollAgain) {
        this.pollAgain = false
        void this.poll()
      }
    })
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

  /** Each frame is made once per kind of subscriber, as the same bytes written to all of them. */
  private dispatch (row: ChangeRow): void {
    const frames = new Map<string, (Frame & { last: boolean }) | null>()
    for (const subscriber of this.live) {
      if (row.seq <= subscriber.cursor) continue
      subscriber.cursor = row.seq
      if (!shows(subscriber.viewer, subscriber.types, row)) continue
      let frame = frames.get(subscriber.kind)
      if (frame === undefined) {
        const made = frameFor(feedItemOf(row, subscriber.viewer.publicOnly), subscriber.viewer, subscriber.audience)
        frames.set(subscriber.kind, frame = made === null ? null : { ...frameOf(made.text), last: made.last })
      }
      if (frame === null) continue
      this.write(subscriber, frame)
      if (frame.last) this.end(subscriber)
    }
  }

  /**
   * The subscriber's stream is over (what it followed is gone): it ends after what was written. A slow
   * reader is given time to take the last frames, which say why; one that takes nothing is cut then.
   */
  private end (subscriber: Subscriber): void {
    const { sink } = subscriber
    this.live.delete(subscriber)
    sink.end()
    this.ending.add(sink)
    const cut = setTimeout(() => { sink.destroy() }, ENDED_STREAM_GRACE_MS).unref()
    sink.once('close', () => {
      clearTimeout(cut)
      this.ending.delete(sink)
    })
  }

  private write (subscriber: Subscriber, frame: Frame): void {
    const { sink } = subscriber
    if (sink.destroyed || sink.writableEnded) {
      this.live.delete(subscriber)
      return
    }
    const socket = sink instanceof EventSink ? sink.directSocket() : null
    if (socket === null) sink.write(frame.bytes)
    else socket.write(frame.chunk)
    if ((socket ?? sink).writableLength > this.settings.maxBufferBytes) this.drop(subscriber)
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
      // The last `last` frame replayed, sent (and the stream ended) only if it still holds once caught up.
      let ending: string | null = null
      for (;;) {
        if (this.seen === null) await this.poll()
        if (this.seen === null) throw new Error('The change log could not be read')
        if (cursor >= this.seen) {
          if (ending === null) break
          if (audience?.stillFollowed === undefined || !await audience.stillFollowed()) {
            sink.end(ending)
            return
          }
          // Undone since: go on, and catch up on what came meanwhile (this step had an await).
          ending = null
          continue
        }
        const page = await readChanges(this.db, viewer, types, cursor, this.seen, POLL_BATCH)
        for (const item of page.items) {
          const frame = frameFor(item, viewer, audience)
          if (frame === null) continue
          if (frame.last) ending = frame.text
          else sink.write(frame.text)
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
      const subscriber: Subscriber = { sink, viewer, types, cursor, kind: kindOf(viewer, audience), ...(audience === undefined ? {} : { audience }) }
      this.live.add(subscriber)
      sink.once('close', () => { this.live.delete(subscriber) })
      // Where the client stands, so a reconnection resumes here even if no event comes first.
      sink.write(`id: ${cursor}\n\n`)
    } finally {
      this.joining -= 1
    }
  }
}

/** 503 with Retry-After when this instance has as many stream subscribers as it accepts. */
export function refuseWhenFull (stream: ChangeStream, maxSubscribers: number, reply: FastifyReply): void {
  if (stream.subscribers < maxSubscribers) return
  void reply.header('retry-after', '5')
  throw errors.tryAgain('This instance has as many stream subscribers as it accepts; try again shortly (or another instance)')
}

/**
 * Answers with an open event stream and hands its sink to `subscribe` (the change stream's): the
 * subscriber lives as long as the connection, and a failure to catch it up ends the stream.
 */
export async function sendEventStream (request: FastifyRequest, reply: FastifyReply, subscribe: (sink: Writable) => Promise<void>): Promise<FastifyReply> {
  const sink = new EventSink(reply.raw)
  sink.write('retry: 3000\n\n')
  void reply
    .header('content-type', 'text/event-stream; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('x-accel-buffering', 'no')
  reply.raw.once('close', () => { sink.destroy() })
  subscribe(sink).catch((error: unknown) => {
    request.log.warn({ err: error }, 'event stream: catching a subscriber up failed')
    sink.destroy()
  })
  return await reply.send(sink)
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
  // A write has committed once its answer is being sent: its change is in the log, so readers here
  // get it now rather than at the next poll. (Writes of other instances wait for the interval.)
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.method !== 'GET' && request.method !== 'HEAD' && reply.statusCode < 400) stream.wake()
    done(null, payload)
  })
  // Before the server stops accepting: open streams would otherwise hold it open.
  app.addHook('preClose', async () => { await stream.stop() })
}, { name: 'change-stream', dependencies: ['database'] })
