// Opens the database for a process that writes content (the server, the seed and key commands): the
// change spine bound to it, and the public read model rendered with this process's settings.
import type { Config } from '../config.ts'
import { openDatabase, type OpenedDatabase } from '../db/client.ts'
import { siteOf } from '../delivery/site.ts'
import { ensurePublicArticles, type RenderContext } from '../read-model/articles.ts'
import { readAuthorPage, readPublishedMany } from '../articles/service.ts'
import { readMasthead } from '../masthead/service.ts'
import { bindChangeSpine } from './index.ts'

/** The spine's rendering context for these settings. */
export function renderContextOf (config: Config): RenderContext {
  return { site: siteOf(config), readPublishedArticles: readPublishedMany, readAuthorPage, readMasthead }
}

export async function openForWrites (config: Config, log: (message: string) => void = () => {}): Promise<OpenedDatabase> {
  const opened = await openDatabase(config, log)
  const context = renderContextOf(config)
  bindChangeSpine(opened.prisma, context)
  await ensurePublicArticles(opened.prisma, context, log)
  return opened
}
