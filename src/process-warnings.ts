// Node prints process warnings as plain text on stderr, in the middle of the JSON log stream that
// log shippers parse. The server routes them into its log instead, as JSON lines like any other.

/** The part of a logger this needs: the app's, or the one-line JSON writer used before the app exists. */
export interface WarningLog {
  warn: (details: object, message: string) => void
  debug: (details: object, message: string) => void
}

/**
 * Known and harmless, logged once at debug level: Prisma's PostgreSQL adapter sends the queries of
 * one transaction without waiting for each answer, and pg 8 warns that pg 9 will refuse this. The
 * lockfile pins pg 8, and Prisma changes its adapter before pg 9 can be installed under it.
 */
function isKnownPgQueueWarning (warning: Error): boolean {
  return warning.name === 'DeprecationWarning' && warning.message.includes('client.query() when the client is already executing a query')
}

/** Called again once the app's logger exists: each call replaces the previous listener. */
export function logProcessWarnings (log: WarningLog): void {
  // Removing the listeners removes Node's own printer (the only one at start-up), or the previous log's.
  process.removeAllListeners('warning')
  process.on('warning', (warning) => {
    if (isKnownPgQueueWarning(warning)) log.debug({ warning: warning.message }, 'pg: queries of a transaction are pipelined by Prisma\'s adapter (known, harmless with pg 8)')
    else log.warn({ warning: { name: warning.name, message: warning.message, code: (warning as { code?: string }).code } }, `process warning: ${warning.message}`)
  })
}
