// HTTP caching for content reads, decided in one place. Routes opt in with `config.cache` (their
// group). For those:
// - every 200 carries a strong ETag made from its bytes, and If-None-Match gets 304;
// - keyless responses carry the group's Cache-Control and a Surrogate-Key / Cache-Tag header naming
//   the objects shown, so a CDN can purge exactly what a write changed; staff responses stay
//   `private, no-store` (set by the access plugin);
// - keyless responses are kept in memory, with the purge keys of what they show, and served again
//   without database work. Every change the public can see raises the content generation (to its
//   sequence number in the change log) in its own transaction. Before answering, an instance reads
//   the generation (one primary-key read, shared by the requests that arrived before it began); when
//   it moved, the instance reads the purge keys of the changes in between and drops exactly the
//   responses that show those objects. So no instance serves a response older than a write it could
//   have seen, and writes the public cannot see (keys, webhooks, drafts) drop nothing.
import { createHash } from 'node:crypto'
import BetterSqlite3 from 'better-sqlite3'
import fp from 'fastify-plugin'
import { LRUCache } from 'lru-cache'
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../config.ts'
import { sqlitePath } from '../db/providers.ts'
import { errors, type CatalogueError } from '../errors.ts'
import { databaseUnavailable, isDatabaseUnreachable } from '../db/errors.ts'

export type CacheGroup = 'articles' | 'authors' | 'images' | 'masthead' | 'feeds'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Public content: cached, validated and tagged as described above. */
    cache?: CacheGroup
    /** False for responses that change with the clock, not only with writes (kept out of memory). */
    cacheInMemory?: boolean
  }
  interface FastifyRequest {
    cacheState?: CacheState
  }
  interface FastifyInstance {
    /** The newest content generation this instance has read from the primary (0 before the first). */
    newestContentGeneration: () => bigint
  }
}

/**
 * Set for reads of cached routes. `shared`: keyless, so anyone may cache it (staff responses are not).
 * Routes answering from stored documents set `keys` and `etag` themselves (nothing to compute); a
 * route whose answers differ in freshness (image files: immutable when versioned) sets `cacheControl`.
 */
interface CacheState { group: CacheGroup, shared: boolean, keep: boolean, generation: bigint, hit: boolean, keys: string[], etag?: string, url: string, cacheControl?: string }

const cacheControlSetting: Record<CacheGroup, keyof Config> = {
  articles: 'cacheControlArticles',
  authors: 'cacheControlAuthors',
  images: 'cacheControlImages',
  masthead: 'cacheControlMasthead',
  feeds: 'cacheControlFeeds'
}

/** Headers a cached response is replayed with; the rest (security, request id, Vary) are per request. */
const REPLAYED_HEADERS = ['content-type', 'etag', 'cache-control', 'surrogate-key', 'cache-tag', 'link', 'last-modified', 'x-total-count', 'content-security-policy']

interface CachedResponse {
  payload: Buffer
  headers: Record<string, string>
  keys: string[]
}

/**
 * Campaign and click identifiers that links pick up on their way to readers (newsletters, social
 * networks, ads). The API reads none of them: reads ignore them instead of refusing them as unknown,
 * and are cached without them. src/cdn/varnish.vcl strips the same list.
 */
const TRACKING_PARAMETER = /^(utm_[a-z0-9_]+|fbclid|gclid|gbraid|wbraid|dclid|msclkid|mc_cid|mc_eid|_ga|_gl)$/

export function isTrackingParameter (name: string): boolean {
  return TRACKING_PARAMETER.test(name)
}

/** The URL without tracking parameters: what a read is cached by, and what a feed calls itself. */
export function withoutTrackingParameters (url: string): string {
  const mark = url.indexOf('?')
  if (mark === -1) return url
  const kept = url.slice(mark + 1).split('&').filter((pair) => !isTrackingParameter(parameterName(pair)))
  return kept.length === 0 ? url.slice(0, mark) : `${url.slice(0, mark)}?${kept.join('&')}`
}

function parameterName (pair: string): string {
  const name = pair.split('=', 1)[0] as string
  try {
    return decodeURIComponent(name.replaceAll('+', ' '))
  } catch {
    return name // malformed escapes: not a tracking parameter, left for validation to judge
  }
}

/** The ETag for some bytes: strong (RFC 9110), and for articles led by their version, which If-Match takes. */
export function etagFor (payload: string | Buffer, version: string | undefined): string {
  const hash = createHash('sha256').update(payload).digest('base64url').slice(0, 22)
  return version === undefined ? `"${hash}"` : `"${version}-${hash}"`
}

/** True when If-None-Match names this ETag (weak comparison, as RFC 9110 asks for GET). */
export function ifNoneMatchHits (header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  const bare = etag.replace(/^W\//, '')
  return header.split(',').some((candidate) => {
    const tag = candidate.trim()
    return tag === '*' || tag.replace(/^W\//, '') === bare
  })
}

/**
 * The objects a response shows, as purge keys: `article-<id>`, `author-<id>`, `image-<id>`,
 * `masthead-role-<id>`, `term-<id>` (sections and tags), and `<group>-list` for lists and feeds (new items change them).
 */
export function surrogateKeysOf (group: CacheGroup, payload: unknown): string[] {
  return capped(allSurrogateKeysOf(group, payload))
}

/** Every purge key of a response, uncapped: what the in-memory cache drops it by. */
export function allSurrogateKeysOf (group: CacheGroup, payload: unknown): string[] {
  const keys = new Set<string>()
  const items = payload !== null && typeof payload === 'object' ? (payload as { items?: unknown }).items : undefined
  if (Array.isArray(items)) {
    // A list names its articles (or other items) and its list key only: nested images, authors and
    // terms would make the header too large for proxies and Node clients (16 KB of headers at most).
    keys.add(`${group === 'feeds' ? 'articles' : group}-list`)
    for (const item of items) {
      const record = (item !== null && typeof item === 'object' && 'article' in item ? (item as { article: unknown }).article : item) as Record<string, unknown> | null
      if (record !== null && typeof record === 'object') visitOne(record, keys)
    }
    return [...keys]
  }
  const visit = (value: unknown, depth: number): void => {
    if (depth > 6 || value === null || typeof value !== 'object') return
    if (Array.isArray(value)) {
      for (const item of value) visit(item, depth + 1)
      return
    }
    const record = value as Record<string, unknown>
    visitOne(record, keys)
    for (const item of Object.values(record)) if (item !== null && typeof item === 'object') visit(item, depth + 1)
  }
  visit(payload, 0)
  const isList = payload !== null && typeof payload === 'object' && (Array.isArray((payload as { items?: unknown }).items) || Array.isArray((payload as { roles?: unknown }).roles))
  if (isList || group === 'feeds') keys.add(`${group === 'feeds' ? 'articles' : group}-list`)
  return [...keys]
}

function visitOne (record: Record<string, unknown>, keys: Set<string>): void {
  // An image block of a body names its image by imageId: a response showing the article shows it too,
  // so taking the article down (unpublished, embargoed, killed) drops that image's cached answers.
  if (record.type === 'image' && typeof record.imageId === 'string') keys.add(`image-${record.imageId}`)
  if (typeof record.id !== 'string') return
  if ('headline' in record) keys.add(`article-${record.id}`)
  else if ('mimeType' in record) keys.add(`image-${record.id}`)
  else if ('title' in record && 'position' in record) keys.add(`masthead-role-${record.id}`)
  else if ('jobTitle' in record) keys.add(`author-${record.id}`)
  else if ('name' in record && 'slug' in record) keys.add(`term-${record.id}`)
}

/** At most about 4 KB of keys, list keys first: beyond that, purging the list key covers the rest. */
const MAX_KEY_BYTES = 4000
export function capped (keys: string[]): string[] {
  const ordered = [...keys.filter((key) => key.endsWith('-list')), ...keys.filter((key) => !key.endsWith('-list'))]
  const kept: string[] = []
  let bytes = 0
  for (const key of ordered) {
    if (bytes + key.length + 1 > MAX_KEY_BYTES) break
    kept.push(key)
    bytes += key.length + 1
  }
  return kept
}

/**
 * Requests share a read that began after they arrived: one round trip answers a burst of them, and
 * none is given a generation older than its own arrival (a read already in flight may predate it).
 */
export function sharedFreshReads (read: () => Promise<bigint>): () => Promise<bigint> {
  let inFlight: Promise<bigint> | null = null
  let queued: Promise<bigint> | null = null
  const start = (): Promise<bigint> => {
    const reading = read()
    const clear = (): void => { if (inFlight === reading) inFlight = null }
    reading.then(clear, clear)
    inFlight = reading
    return reading
  }
  return async () => {
    if (inFlight === null) return await start()
    queued ??= inFlight.then(() => {}, () => {}).then(() => {
      queued = null
      return start()
    })
    return await queued
  }
}

/**
 * Reads the content generation, shared by the requests waiting for it: a prepared statement on a
 * read-only connection (SQLite), or on a pooled connection of its own (PostgreSQL).
 */
/** Past this many changes between two reads, dropping everything is cheaper than reading their keys. */
const MAX_CHANGES_READ = 1000

interface GenerationReader {
  read: () => Promise<bigint>
  /** Purge keys of the public changes after `from` up to `to`; null when there are too many to read. */
  purgeKeysBetween: (from: bigint, to: bigint) => Promise<string[] | null>
  close: () => Promise<void>
}

const PURGE_KEYS_SQL = `SELECT "purgeKeys" FROM "Change" WHERE "publicChange" = $true AND "seq" > $1 AND "seq" <= $2 ORDER BY "seq" LIMIT ${MAX_CHANGES_READ + 1}`
/**
 * Null (drop everything) past MAX_CHANGES_READ, and when the generation moved without a logged
 * change: a write by a release older than the change log, during a rolling deploy.
 */
const keysOfRows = (rows: Array<{ purgeKeys: string }>): string[] | null =>
  rows.length > MAX_CHANGES_READ || rows.length === 0 ? null : rows.flatMap((row) => row.purgeKeys.split(' '))

async function generationReader (config: Config, provider: string, log: FastifyBaseLogger): Promise<GenerationReader> {
  if (provider === 'sqlite') {
    const connection = new BetterSqlite3(sqlitePath(config.databaseUrl), { readonly: true, fileMustExist: true, timeout: config.sqliteBusyTimeoutMs })
    const statement = connection.prepare('SELECT "value" FROM "ContentGeneration" WHERE "id" = 1').pluck().safeIntegers()
    const changes = connection.prepare(PURGE_KEYS_SQL.replace('$true', '1').replace('$1', '?').replace('$2', '?'))
    // The read runs once the event loop has taken in this turn's requests (setImmediate), so every
    // request that arrived before it shares it, and none is given a generation older than its arrival.
    let next: Promise<bigint> | null = null
    return {
      read: async () => await (next ??= new Promise<bigint>((resolve, reject) => {
        setImmediate(() => {
          next = null
          try { resolve((statement.get() as bigint | undefined) ?? 0n) } catch (error) { reject(error) }
        })
      })),
      purgeKeysBetween: async (from, to) => keysOfRows(changes.all(from, to) as Array<{ purgeKeys: string }>),
      close: async () => { connection.close() }
    }
  }
  // Bounded like every other query (DATABASE_STATEMENT_TIMEOUT_MS), so a dead connection after a
  // failover fails the waiting readers with 503 instead of holding them; unnamed, so it also works
  // through PgBouncer in transaction mode.
  const timeout = config.databaseStatementTimeoutMs > 0 ? config.databaseStatementTimeoutMs : undefined
  // Imported here, not at the top: a SQLite server never loads the PostgreSQL driver.
  const { default: pg } = await import('pg')
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 1, connectionTimeoutMillis: config.databaseConnectTimeoutMs, idleTimeoutMillis: 30_000, keepAlive: true, statement_timeout: timeout, query_timeout: timeout })
  // An idle connection the server dropped is replaced on the next read; it must not crash the process.
  pool.on('error', (error) => { log.warn({ err: error }, 'content generation connection lost; the next read reconnects') })
  const query = 'SELECT "value"::text AS "value" FROM "ContentGeneration" WHERE "id" = 1'
  const unavailable = (error: unknown): never => {
    throw isDatabaseUnreachable(error) ? databaseUnavailable(error) : Object.assign(errors.tryAgain('The database does not answer in time; retry the request') as CatalogueError, { cause: error })
  }
  return {
    read: sharedFreshReads(async () => {
      const result = await pool.query<{ value: string }>(query).catch(unavailable)
      return BigInt(result.rows[0]?.value ?? 0)
    }),
    purgeKeysBetween: async (from, to) => {
      const result = await pool.query<{ purgeKeys: string }>(PURGE_KEYS_SQL.replace('$true', 'true'), [String(from), String(to)]).catch(unavailable)
      return keysOfRows(result.rows)
    },
    close: async () => { await pool.end() }
  }
}

/**
 * A copy of a response in memory of its own. Buffer.from() takes small buffers from a shared slab
 * (64 KB on Node 24), which stays resident while any slice of it does: 1,000 cached articles of
 * 11 KB held 32 MB of slabs, shared with short-lived buffers, instead of 11 MB.
 */
function keptBytesOf (payload: string | Buffer): Buffer {
  const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(payload))
  if (typeof payload === 'string') bytes.write(payload)
  else payload.copy(bytes)
  return bytes
}

/** Keyless responses by URL, with an index from purge key to the URLs that show it. */
class ResponseCache {
  readonly #entries: LRUCache<string, CachedResponse>
  readonly #byKey = new Map<string, Set<string>>()

  constructor (maxBytes: number) {
    this.#entries = new LRUCache<string, CachedResponse>({
      maxSize: maxBytes,
      sizeCalculation: (entry) => entry.payload.length + 512,
      dispose: (entry, url) => { this.#unindex(url, entry.keys) }
    })
  }

  get (url: string): CachedResponse | undefined { return this.#entries.get(url) }

  set (url: string, entry: CachedResponse): void {
    this.#entries.set(url, entry)
    if (this.#entries.get(url) !== entry) return // larger than the whole cache
    for (const key of entry.keys) {
      let urls = this.#byKey.get(key)
      if (urls === undefined) this.#byKey.set(key, urls = new Set())
      urls.add(url)
    }
  }

  /** Drops every response that shows one of these objects; `*` drops them all. */
  drop (keys: Iterable<string>): void {
    for (const key of keys) {
      if (key === '*') return this.clear()
      const urls = this.#byKey.get(key)
      if (urls === undefined) continue
      for (const url of [...urls]) this.#entries.delete(url)
    }
  }

  clear (): void {
    this.#entries.clear()
    this.#byKey.clear()
  }

  #unindex (url: string, keys: string[]): void {
    for (const key of keys) {
      const urls = this.#byKey.get(key)
      if (urls === undefined) continue
      urls.delete(url)
      if (urls.size === 0) this.#byKey.delete(key)
    }
  }
}

/**
 * Keeps the cache in step with the change log: moving from the generation last seen to a newer one
 * drops what the changes in between name. Requests that see the same new generation share one read.
 */
function generationSync (reader: GenerationReader, responses: ResponseCache | null): { to: (generation: bigint) => Promise<void>, isCurrent: (generation: bigint) => boolean } {
  let seen: bigint | null = null
  let catchingUp: Promise<void> | null = null
  const catchUp = async (from: bigint, to: bigint): Promise<void> => {
    const keys = responses === null ? [] : await reader.purgeKeysBetween(from, to)
    if (keys === null) responses?.clear()
    else responses?.drop(keys)
    if (seen === null || seen < to) seen = to
  }
  return {
    to: async (generation) => {
      // The first read of this process: nothing is cached yet.
      if (seen === null) seen = generation
      while (seen < generation) {
        if (catchingUp === null) {
          const running = catchUp(seen, generation).finally(() => { if (catchingUp === running) catchingUp = null })
          catchingUp = running
        }
        await catchingUp
      }
    },
    isCurrent: (generation) => seen === generation
  }
}

export default fp(async (app) => {
  const config = app.config
  const reader = await generationReader(config, app.dbProvider, app.log)
  app.addHook('onClose', async () => { await reader.close() })
  const responses = config.responseCacheMb > 0 ? new ResponseCache(config.responseCacheMb * 1024 * 1024) : null
  const sync = generationSync(reader, responses)
  let newestGeneration = 0n
  app.decorate('newestContentGeneration', () => newestGeneration)

  // The document says what caches and frontends may rely on: the validators, 304, and the purge keys.
  app.addHook('onRoute', (route) => {
    if (route.config?.cache === undefined || route.schema === undefined || route.method === 'HEAD') return
    const schema = route.schema as { headers?: unknown, response?: Record<string, Record<string, unknown>> }
    schema.headers ??= {
      type: 'object',
      properties: { 'if-none-match': { type: 'string', description: 'An ETag from an earlier response: 304 if it is still current' } }
    }
    const response = schema.response ??= {}
    const ok = response['200']
    if (ok !== undefined) {
      response['200'] = {
        ...ok,
        headers: {
          ...(ok.headers as object | undefined),
          ETag: { type: 'string', description: 'Strong validator of these bytes (for articles: "<version>-<hash>"); send it in If-None-Match' },
          'Cache-Control': { type: 'string', description: 'For keyless reads, the route group\'s setting (CACHE_CONTROL_*); for staff, private, no-store' },
          'Surrogate-Key': { type: 'string', description: 'Space-separated purge keys of the objects shown (article-<id>, author-<id>, image-<id>, masthead-role-<id>, term-<id>; lists: <group>-list and their items); with PURGE_KEY_HEADER=cache-tag, sent as Cache-Tag, comma-separated' }
        }
      }
    }
    response['304'] = { description: 'Not modified: the ETag in If-None-Match is current', type: 'null' }
  })

  const isRead = (request: FastifyRequest): boolean => request.method === 'GET' || request.method === 'HEAD'

  // Before validation, which refuses unknown query parameters (400).
  app.addHook('onRequest', async (request) => {
    if (!isRead(request) || !request.url.includes('?')) return
    const query = request.query as Record<string, unknown>
    for (const name of Object.keys(query)) if (isTrackingParameter(name)) delete query[name]
  })

  app.addHook('onRequest', async (request, reply) => {
    // Read once: Fastify builds request.routeOptions anew on every access.
    const route = request.routeOptions.config
    if (route?.cache === undefined || !isRead(request)) return
    const state: CacheState = { group: route.cache, shared: request.actor === null, keep: route.cacheInMemory !== false, generation: 0n, hit: false, keys: [], url: withoutTrackingParameters(request.url) }
    request.cacheState = state
    if (!state.shared) return
    state.generation = await reader.read()
    if (state.generation > newestGeneration) newestGeneration = state.generation
    await sync.to(state.generation)
    const cached = responses?.get(state.url)
    if (cached === undefined) return
    state.hit = true
    reply.headers(cached.headers)
    if (ifNoneMatchHits(request.headers['if-none-match'], cached.headers.etag as string)) return await reply.code(304).send()
    return await reply.code(200).send(cached.payload)
  })

  app.addHook('preSerialization', async (request, _reply, payload) => {
    const state = request.cacheState
    if (state?.shared === true && !state.hit) state.keys = allSurrogateKeysOf(state.group, payload)
    return payload
  })

  app.addHook('onSend', async (request, reply: FastifyReply, payload) => {
    const state = request.cacheState
    const version = reply.getHeader('etag')
    const bytes = typeof payload === 'string' || Buffer.isBuffer(payload)
    if (state === undefined) {
      // A write answering with what it stored and its version (an article): the validator a read of
      // the same bytes gives, so a following read with it in If-None-Match gets 304.
      if (!isRead(request) && bytes && (reply.statusCode === 200 || reply.statusCode === 201) && typeof version === 'string' && /^"\d+"$/.test(version)) {
        reply.header('etag', etagFor(payload, version.replace(/"/g, '')))
      }
      return payload
    }
    if (state.hit) return payload
    if (reply.statusCode !== 200 || !bytes) return payload
    const etag = state.etag ?? etagFor(payload, typeof version === 'string' ? version.replace(/"/g, '') : undefined)
    reply.header('etag', etag)
    if (state.shared) {
      reply.header('cache-control', state.cacheControl ?? config[cacheControlSetting[state.group]] as string)
      // Feeds and sitemaps are text, never seen as objects here: they change with the list of articles.
      if (state.keys.length === 0 && state.group === 'feeds') state.keys = ['articles-list']
      if (state.keys.length > 0) reply.header(config.purgeKeyHeader, capped(state.keys).join(config.purgeKeyHeader === 'cache-tag' ? ',' : ' '))
      // Not when a change was seen while this was rendered: it may predate that change, whose keys were already dropped.
      if (responses !== null && request.method === 'GET' && state.keep && sync.isCurrent(state.generation)) {
        const headers: Record<string, string> = {}
        for (const name of REPLAYED_HEADERS) {
          const value = reply.getHeader(name)
          if (value !== undefined) headers[name] = String(value)
        }
        // As bytes: a string would be encoded to UTF-8 again for every reader.
        responses.set(state.url, { payload: keptBytesOf(payload), headers, keys: state.keys })
      }
    }
    if (ifNoneMatchHits(request.headers['if-none-match'], etag)) {
      reply.code(304)
      return ''
    }
    return payload
  })
}, { name: 'http-cache', dependencies: ['database', 'access'] })
