// Where keyless public reads run on PostgreSQL: the primary, or a read replica (DATABASE_READ_URL).
// A replica answers a read only when it is certainly not behind what the reader may already know:
// - it has replayed the content generation the primary had when the request arrived (every change
//   the public can see raises it in its own transaction, plugins/http-cache.ts). So a read after a
//   write, from any client through any instance, shows that write, and neither the response cache
//   nor a CDN refetching after a purge keeps an older page. A replica behind it is passed over
//   for that read (the primary answers) rather than waited for;
// - a periodic check (DATABASE_READ_CHECK_INTERVAL_MS) finds it reachable and its lag within
//   DATABASE_READ_MAX_LAG_MS. A replica down or lagging is skipped until a check finds it well.
//   Lag is how long ago this instance first saw (on the primary) the oldest public change the
//   replica has not replayed: what a reader would miss. PostgreSQL's own measure on a standby (the
//   age of the last replayed transaction while WAL waits to be replayed) reads seconds of lag after
//   a quiet spell whenever the primary writes WAL without a transaction (checkpoints, pruning).
// A read that fails on a replica is answered by the primary: a replica never fails a request. Each
// change of a replica's state is logged once. Staff reads and all writes use the Prisma client on the
// primary (plugins/database.ts), so a key always reads its own writes.
// Only the types: the driver is imported when the connections open, so SQLite never loads it.
import type pg from 'pg'
import type { FastifyBaseLogger } from 'fastify'
import type { Config } from '../config.ts'
import { errors, type CatalogueError } from '../errors.ts'
import { databaseUnavailable, isDatabaseUnreachable } from '../db/errors.ts'

export type ConnectionState = 'up' | 'lagging' | 'down'

export interface ConnectionReport {
  name: string
  role: 'primary' | 'replica'
  state: ConnectionState
  /** Replicas: at the last check, how long ago the oldest public change it had not replayed was seen on the primary, in milliseconds (null before the first check). */
  lagMs?: number | null
  /** Keyless public reads this connection answered since the instance started. */
  publicReads: number
}

export interface ReadConnections {
  /** Runs a read on a replica that has `minimumGeneration`, else on the primary. */
  query: <T extends pg.QueryResultRow>(query: pg.QueryConfig, minimumGeneration: bigint) => Promise<T[]>
  /** The replicas only (the primary's state is whether it answers /ready's own query). */
  report: () => ConnectionReport[]
  publicReadsOnPrimary: () => number
  close: () => Promise<void>
}

/** The replica URLs of DATABASE_READ_URL, in order. */
export function replicaUrlsOf (config: Pick<Config, 'databaseReadUrl'>): string[] {
  return config.databaseReadUrl.split(',').map((url) => url.trim()).filter((url) => url !== '')
}

const GENERATION_SQL = 'SELECT "value"::text AS "generation" FROM "ContentGeneration" WHERE "id" = 1'

/** Errors that mean the server is gone (network, shutdown), not that one statement failed. */
function isConnectionError (error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true
  return code.startsWith('08') || code.startsWith('57')
}

function poolFor (driver: typeof pg, url: string, config: Config, log: FastifyBaseLogger, name: string): pg.Pool {
  const timeout = config.databaseStatementTimeoutMs > 0 ? config.databaseStatementTimeoutMs : undefined
  const pool = new driver.Pool({ connectionString: url, max: config.databasePoolSize, connectionTimeoutMillis: config.databaseConnectTimeoutMs, idleTimeoutMillis: 30_000, keepAlive: true, statement_timeout: timeout, query_timeout: timeout })
  // An idle connection the server dropped is replaced on the next read; it must not crash the process.
  pool.on('error', (error) => { log.debug({ err: error, database: name }, 'idle read connection lost; the next read reconnects') })
  return pool
}

class Replica {
  state: ConnectionState = 'down'
  lagMs: number | null = null
  generation = -1n
  publicReads = 0
  #checked = false

  constructor (readonly name: string, readonly host: string, readonly pool: pg.Pool, private readonly log: FastifyBaseLogger, private readonly maxLagMs: number,
    private readonly lagOf: (replayed: bigint) => number) {}

  /** Records a new state, logging the change (and the first check's outcome) once. */
  become (state: ConnectionState, reason: string, error?: unknown): void {
    const changed = state !== this.state || !this.#checked
    this.#checked = true
    this.state = state
    if (!changed) return
    const fields = { database: this.name, host: this.host, lagMs: this.lagMs, err: error }
    if (state === 'up') this.log.info(fields, `read replica ${this.name} is in use for public reads`)
    else this.log.warn(fields, `read replica ${this.name} is skipped (${reason}); public reads fall back to the primary`)
  }

  async check (): Promise<void> {
    try {
      const { rows: [row] } = await this.pool.query<{ generation: string }>({ name: 'replica-generation', text: GENERATION_SQL })
      // The latest reading, not the highest: a replica rebuilt from an older backup at the same URL is behind.
      this.generation = BigInt(row?.generation ?? 0)
      this.lagMs = this.lagOf(this.generation)
      if (this.lagMs > this.maxLagMs) this.become('lagging', `replay is ${this.lagMs} ms behind, over DATABASE_READ_MAX_LAG_MS=${this.maxLagMs}`)
      else this.become('up', 'caught up')
    } catch (error) {
      this.become('down', 'it does not answer', error)
    }
  }

  /**
   * Runs the read on one of its connections when that connection has replayed `generation`, else
   * answers null. The check and the read share the connection, and what each connection last read
   * is kept per connection: behind a load-balanced DATABASE_READ_URL two connections may reach two
   * standbys at different replay points, but one connection always reaches one server.
   */
  async readIfCurrent<T extends pg.QueryResultRow> (query: pg.QueryConfig, generation: bigint): Promise<T[] | null> {
    const client = await this.pool.connect()
    let lost: Error | undefined
    // A checked-out connection has no pool listener: the server ending it between statements must
    // close it, not crash the process.
    const onLost = (error: Error): void => { lost = error }
    client.on('error', onLost)
    try {
      let replayed = replayedOn.get(client) ?? -1n
      if (replayed < generation) {
        const { rows: [row] } = await client.query<{ generation: string }>({ name: 'replica-generation', text: GENERATION_SQL })
        replayed = BigInt(row?.generation ?? 0)
        replayedOn.set(client, replayed)
      }
      if (replayed < generation) return null
      return (await client.query<T>(query)).rows
    } catch (error) {
      if (isConnectionError(error)) lost = error instanceof Error ? error : new Error(String(error))
      throw error
    } finally {
      // A connection that failed is closed rather than handed to the next read.
      client.removeListener('error', onLost)
      client.release(lost)
    }
  }
}

/** The content generation each replica connection read last: replay only moves forward on one server. */
const replayedOn = new WeakMap<pg.PoolClient, bigint>()

/**
 * When this instance first saw each content generation on the primary, for the ones some replica
 * may not have replayed yet (older entries are dropped; a bounded list).
 */
class GenerationTimeline {
  readonly #seen: Array<{ generation: bigint, at: number }> = []

  record (generation: bigint): void {
    const last = this.#seen.at(-1)
    if (last !== undefined && last.generation >= generation) return
    this.#seen.push({ generation, at: Date.now() })
    if (this.#seen.length > 10_000) this.#seen.shift()
  }

  /** Milliseconds since the first generation after `replayed` was seen; 0 when none is known. */
  lagOf (replayed: bigint): number {
    const missed = this.#seen.find((entry) => entry.generation > replayed)
    return missed === undefined ? 0 : Date.now() - missed.at
  }

  forgetThrough (replayed: bigint): void {
    while ((this.#seen[0]?.generation ?? replayed + 1n) <= replayed) this.#seen.shift()
  }
}

export async function openReadConnections (config: Config, log: FastifyBaseLogger): Promise<ReadConnections> {
  const { default: driver } = await import('pg')
  const primary = poolFor(driver, config.databaseUrl, config, log, 'primary')
  let publicReadsOnPrimary = 0
  const timeline = new GenerationTimeline()
  const replicas = replicaUrlsOf(config).map((url, index) => {
    const name = `replica-${index + 1}`
    const host = new URL(url).host
    return new Replica(name, host, poolFor(driver, url, config, log, name), log, config.databaseReadMaxLagMs, (replayed) => timeline.lagOf(replayed))
  })
  let checking: Promise<void> | null = null
  const checkAll = (): void => {
    checking ??= Promise.all(replicas.map(async (replica) => { await replica.check() })).then(() => {
      checking = null
      timeline.forgetThrough(replicas.reduce((least, replica) => replica.generation < least ? replica.generation : least, replicas[0]?.generation ?? 0n))
    })
  }
  const timer = replicas.length === 0 ? null : setInterval(checkAll, config.databaseReadCheckIntervalMs)
  timer?.unref()
  checkAll()

  let turn = 0
  /** The next replica in turn that is up, or null when none is. */
  const nextReplica = (): Replica | null => {
    const usable = replicas.filter((replica) => replica.state === 'up')
    return usable.length === 0 ? null : usable[turn++ % usable.length] as Replica
  }

  const onPrimary = async <T extends pg.QueryResultRow>(query: pg.QueryConfig): Promise<T[]> => {
    const result = await primary.query<T>(query).catch((error: unknown) => {
      throw isDatabaseUnreachable(error) ? databaseUnavailable(error) : Object.assign(errors.tryAgain('The database does not answer in time; retry the request') as CatalogueError, { cause: error })
    })
    publicReadsOnPrimary++
    return result.rows
  }

  return {
    query: async <T extends pg.QueryResultRow>(query: pg.QueryConfig, minimumGeneration: bigint): Promise<T[]> => {
      if (replicas.length > 0) timeline.record(minimumGeneration)
      const replica = nextReplica()
      if (replica === null) return await onPrimary<T>(query)
      try {
        const rows = await replica.readIfCurrent<T>(query, minimumGeneration)
        // A replica behind this read's generation is passed over for it, not waited for.
        if (rows === null) return await onPrimary<T>(query)
        replica.publicReads++
        return rows
      } catch (error) {
        // A statement the replica cancelled (a conflict with replay) leaves it usable; a lost server does not.
        if (isConnectionError(error)) replica.become('down', 'a read failed', error)
        return await onPrimary<T>(query)
      }
    },
    report: () => replicas.map((replica) => ({ name: replica.name, role: 'replica' as const, state: replica.state, lagMs: replica.lagMs, publicReads: replica.publicReads })),
    publicReadsOnPrimary: () => publicReadsOnPrimary,
    close: async () => {
      if (timer !== null) clearInterval(timer)
      await checking
      await Promise.all([primary.end(), ...replicas.map(async (replica) => { await replica.pool.end() })])
    }
  }
}
