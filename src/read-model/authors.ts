// The public read model of author pages: the author with their latest published articles, as a
// keyless reader is sent it, refreshed in the transaction of every change that shows on it (the
// author, their articles, a co-author's name, an image, a section).
import type { Prisma } from '../db/client.ts'
import { allSurrogateKeysOf, etagFor } from '../plugins/http-cache.ts'
import type { RenderContext } from './articles.ts'
import { serializeAuthorPage } from './serializers.ts'
import { withAbsoluteImageUrls } from '../delivery/site.ts'

type Transaction = Prisma.TransactionClient

export interface StoredAuthorPage { id: string, slug: string, document: string, etag: string, purgeKeys: string }

export async function renderAuthorPage (tx: Transaction, id: string, context: RenderContext): Promise<StoredAuthorPage | null> {
  const read = await context.readAuthorPage(tx, id)
  if (read === null) return null
  const page = withAbsoluteImageUrls(read, context.site.imageBase)
  const document = serializeAuthorPage(page)
  return { id, slug: page.slug, document, etag: etagFor(document, undefined), purgeKeys: allSurrogateKeysOf('authors', page).join(' ') }
}

/** Brings these authors' pages up to date (a deleted author's page goes). */
export async function refreshAuthorPages (tx: Transaction, ids: Iterable<string>, context: RenderContext): Promise<void> {
  const authors = [...new Set(ids)]
  await context.lockDocuments(tx, 'PublicAuthor', authors)
  for (const id of authors) {
    const before = await tx.publicAuthor.findUnique({ where: { id }, select: { document: true } })
    const after = await renderAuthorPage(tx, id, context)
    if (after === null) {
      if (before !== null) await tx.publicAuthor.delete({ where: { id } })
    } else if (before === null) {
      await tx.publicAuthor.upsert({ where: { id }, create: after, update: after })
    } else if (before.document !== after.document) {
      await tx.publicAuthor.update({ where: { id }, data: after })
    }
  }
}

/** The authors whose pages may show these stored articles: those credited on them. */
export function authorsIn (purgeKeys: Array<string | undefined>): string[] {
  return purgeKeys.flatMap((keys) => (keys ?? '').split(' ')).filter((key) => key.startsWith('author-')).map((key) => key.slice('author-'.length))
}
