// `npm run db:migrate`: applies pending migrations to the database DATABASE_URL names. On PostgreSQL
// behind the same advisory lock instances take at start, so it may run while instances start.
import { loadConfig } from '../config.ts'
import { migrateDatabase } from './client.ts'
import { withStartupLock } from './startup-lock.ts'

const config = loadConfig()
const applied = await withStartupLock(config, async () => await migrateDatabase(config), (message) => { console.log(message) })
console.log(applied.length === 0 ? 'The database is up to date.' : `Applied: ${applied.join(', ')}`)
