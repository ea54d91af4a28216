// Opens the database for a process that writes content (the server, the seed and key commands): the
// change spine bound to it, and the public read model rendered with this process's settings.
import { purgersOf, type Config } from '../config.ts'
import { openDatabase, Prisma, type OpenedDatabase } from '../db/client.ts'
import { providerOf } from '../db/providers.ts'
import { siteOf } from '../delivery/site.ts'
import { ensurePublicArticles, type RenderContext } from '../read-model/articles.ts'
import { readAuthorPage, readPublishedMany } from '../articles/service.ts'
import { readMasthead } from '../masthead/service.ts'
import { bindChangeSpine } from './index.ts'
import { bindDeskRules, deskRulesOf } from '../articles/desk.ts'

/** Row locks in id order (so two transactions locking overlapping sets cannot deadlock). */
async function lockDocumentsOnPostgres (tx: Prisma.TransactionClient, table: 'PublicArticle' | 'PublicAuthor', ids: string[]): Promise<void> {
  if (ids.length === 0) return
  await tx.$queryRaw`SELECT "id" FROM ${Prisma.raw(`"${table}"`)} WHERE "id" IN (${Prisma.join(ids)}) ORDER BY "id" FOR UPDATE`
}

/** The spine's rendering context for these settings. */
export function renderContextOf (config: Config): RenderContext {
  const writesTakeTurns = providerOf(config.databaseUrl) === 'sqlite'
  const lockDocuments = writesTakeTurns ? async () => {} : lockDocumentsOnPostgres
  return { site: siteOf(config), readPublishedArticles: readPublishedMany, readAuthorPage, readMasthead, lockDocuments, writesTakeTurns }
}

export async function openForWrites (config: Config, log: (message: string) => void = () => {}): Promise<OpenedDatabase> {
  const opened = await openDatabase(config, log)
  const context = renderContextOf(config)
  bindChangeSpine(opened.prisma, { ...context, purgers: purgersOf(config) })
  bindDeskRules(opened.prisma, deskRulesOf(config))
  await ensurePublicArticles(opened.prisma, context, log)
  return opened
}
