// Database errors translated into catalogue errors in one place, so a race that slips past a
// service's checks still answers 409/404 instead of 500.
import { errors, type CatalogueError } from '../errors.ts'
import { Prisma } from './client.ts'

interface AdapterCause { kind?: string, constraint?: { fields?: string[] }, table?: string }

function causeOf (error: Prisma.PrismaClientKnownRequestError): AdapterCause {
  const meta = error.meta as { driverAdapterError?: { cause?: AdapterCause }, target?: string[] | string } | undefined
  return meta?.driverAdapterError?.cause ?? {}
}

export function translateDatabaseError (error: unknown): unknown {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError)) return error
  switch (error.code) {
    case 'P2002': {
      const fields = causeOf(error).constraint?.fields ?? []
      if (fields.includes('slug')) return errors.slugTaken('That slug is already used by another record') as CatalogueError
      return errors.conflict(`A record with the same ${fields.join(', ') || 'unique value'} already exists`) as CatalogueError
    }
    case 'P2003':
      return errors.conflict('The change conflicts with related records (a referenced record is missing, or the record is still in use)') as CatalogueError
    case 'P2025':
      return errors.conflict('The record changed or disappeared while the request was being processed; read it again and retry') as CatalogueError
    default:
      return error
  }
}
