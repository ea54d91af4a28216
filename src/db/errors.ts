// Database errors translated into catalogue errors in one place, so a race that slips past a
// service's checks still answers 409/404 instead of 500.
import { errors, withFieldErrors, type CatalogueError } from '../errors.ts'
import { Prisma } from './client.ts'

interface AdapterCause { kind?: string, constraint?: { fields?: string[], index?: string }, table?: string }

function causeOf (error: Prisma.PrismaClientKnownRequestError): AdapterCause {
  const meta = error.meta as { driverAdapterError?: { cause?: AdapterCause }, target?: string[] | string } | undefined
  return meta?.driverAdapterError?.cause ?? {}
}

/** The unique columns a violation names: SQLite reports fields, PostgreSQL the index ("Article_slug_key"). */
function uniqueFieldsOf (error: Prisma.PrismaClientKnownRequestError): string[] {
  const constraint = causeOf(error).constraint
  if (constraint?.fields !== undefined) return constraint.fields
  const match = /^[A-Za-z]+_(.+)_key$/.exec(constraint?.index ?? '')
  return match?.[1] !== undefined ? match[1].split('_') : []
}

export function isSlugConflict (error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002' && uniqueFieldsOf(error).includes('slug')
}

/**
 * Runs `attempt` again when a slug it generated was taken by a concurrent request between its check
 * and its insert (possible on PostgreSQL, where transactions run side by side). `attempt` gets the
 * number of conflicts so far, so it can step out of a crowd of identical headlines.
 */
export async function retryOnGeneratedSlugConflict<T> (slugWasGenerated: boolean, attempt: (conflicts: number) => Promise<T>): Promise<T> {
  for (let conflicts = 0; ; conflicts++) {
    try {
      return await attempt(conflicts)
    } catch (error) {
      if (!slugWasGenerated || conflicts >= 10 || !isSlugConflict(error)) throw error
    }
  }
}


// PostgreSQL gave up waiting for a lock (lock_timeout) or cancelled a statement (statement_timeout).
const BUSY_SQLSTATES = new Set(['55P03', '57014'])

function isBusyDatabase (error: unknown): boolean {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError) && !(error instanceof Prisma.PrismaClientUnknownRequestError)) return false
  const cause = (error as { meta?: { driverAdapterError?: { cause?: { code?: string, originalCode?: string } } } }).meta?.driverAdapterError?.cause
  return BUSY_SQLSTATES.has(cause?.originalCode ?? cause?.code ?? '') || /\b(55P03|57014)\b|lock timeout|canceling statement due to/.test(error.message)
}

// The server cannot be reached or went away mid-request: refused, reset or timed-out connections,
// a server shutting down or starting up (57P0x), connection exceptions (class 08).
const UNREACHABLE_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections', 'DatabaseDoesNotExist'])
const UNREACHABLE_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1017'])
const UNREACHABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'])
const UNREACHABLE_MESSAGE = /Connection terminated|connection error and is not queryable|timeout exceeded when trying to connect|Can't reach database server|server closed the connection/i

export function isDatabaseUnreachable (error: unknown): boolean {
  for (let current = error, depth = 0; current !== null && typeof current === 'object' && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    const { code, message, meta } = current as { code?: unknown, message?: unknown, meta?: { driverAdapterError?: { cause?: { kind?: string, code?: string, originalCode?: string } } } }
    const cause = meta?.driverAdapterError?.cause
    const sqlState = cause?.originalCode ?? cause?.code ?? (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : '')
    if (cause?.kind !== undefined && UNREACHABLE_KINDS.has(cause.kind)) return true
    if (sqlState.startsWith('08') || sqlState.startsWith('57P')) return true
    if (typeof code === 'string' && (UNREACHABLE_PRISMA_CODES.has(code) || UNREACHABLE_NODE_CODES.has(code))) return true
    if (typeof message === 'string' && UNREACHABLE_MESSAGE.test(message)) return true
  }
  return false
}

/** The disk under the database (SQLITE_FULL, PostgreSQL's 53100) or under uploaded files is full. */
export function isStorageFull (error: unknown): boolean {
  for (let current = error, depth = 0; current !== null && typeof current === 'object' && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    const { code, message, meta, cause } = current as { code?: unknown, message?: unknown, cause?: { extendedCode?: number, originalCode?: string }, meta?: { driverAdapterError?: { cause?: { extendedCode?: number, originalCode?: string } } } }
    const adapterCause = meta?.driverAdapterError?.cause ?? cause
    if (adapterCause?.extendedCode === 13 || adapterCause?.originalCode === '53100' || code === 'ENOSPC' || code === 'SQLITE_FULL' || code === '53100') return true
    if (typeof message === 'string' && /database or disk is full|No space left on device|could not extend file/i.test(message)) return true
  }
  return false
}

export const databaseUnavailable = (cause?: unknown): CatalogueError => Object.assign(
  errors.databaseUnavailable('The database cannot be reached; retry in a few seconds. A write that met this answer was not acknowledged: read before retrying one that must not happen twice') as CatalogueError,
  { cause })

export function translateDatabaseError (error: unknown): unknown {
  if (isDatabaseUnreachable(error)) return databaseUnavailable(error)
  if (isStorageFull(error)) return Object.assign(errors.storageFull('The server is out of storage space, so nothing was changed; reads go on. Retry once an operator has freed space') as CatalogueError, { cause: error })
  if (isBusyDatabase(error)) return errors.tryAgain('The database was busy and nothing was changed; retry the request') as CatalogueError
  if (!(error instanceof Prisma.PrismaClientKnownRequestError)) return error
  switch (error.code) {
    case 'P2002': {
      const fields = uniqueFieldsOf(error)
      if (fields.includes('slug')) {
        return withFieldErrors(errors.slugTaken('That slug is already used by another record') as CatalogueError, [{ in: 'body', pointer: '/slug', message: 'is already taken' }])
      }
      return errors.conflict(`A record with the same ${fields.join(', ') || 'unique value'} already exists`) as CatalogueError
    }
    case 'P2003':
      return errors.conflict('The change conflicts with related records (a referenced record is missing, or the record is still in use)') as CatalogueError
    // Lock contention, a transaction that waited too long, a deadlock: nothing was written; retrying is safe.
    case 'P1008':
    case 'P2028':
    case 'P2034':
      return errors.tryAgain('The database was busy and nothing was changed; retry the request') as CatalogueError
    case 'P2025':
      return errors.conflict('The record changed or disappeared while the request was being processed; read it again and retry') as CatalogueError
    default:
      return error
  }
}
