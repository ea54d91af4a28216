// `npm run db:migrate`: applies pending migrations to the database DATABASE_URL names.
import { loadConfig } from '../config.ts'
import { migrateDatabase } from './client.ts'

const applied = await migrateDatabase(loadConfig())
console.log(applied.length === 0 ? 'The database is up to date.' : `Applied: ${applied.join(', ')}`)
