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

export function translateDatabaseError (error: unknown): unknown {
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
