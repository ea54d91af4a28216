// Stored public documents other than articles and author pages: the masthead, rendered in the
// transaction of every change that shows on it (a role, its holder's name or avatar) and sent to
// keyless readers as stored.
import type { Prisma } from '../db/client.ts'
import { allSurrogateKeysOf, etagFor } from '../plugins/http-cache.ts'
import type { RenderContext } from './articles.ts'
import { serializeMasthead } from './serializers.ts'
import { withAbsoluteImageUrls } from '../delivery/site.ts'

type Transaction = Prisma.TransactionClient

export const MASTHEAD = 'masthead'

export interface StoredPublicDocument { key: string, document: string, etag: string, purgeKeys: string }

export async function renderMasthead (tx: Transaction, context: RenderContext): Promise<StoredPublicDocument> {
  const masthead = withAbsoluteImageUrls(await context.readMasthead(tx), context.site.imageBase)
  const document = serializeMasthead(masthead)
  return { key: MASTHEAD, document, etag: etagFor(document, undefined), purgeKeys: allSurrogateKeysOf('masthead', masthead).join(' ') }
}

/** Brings the stored masthead up to date; true when it changed. */
export async function refreshMasthead (tx: Transaction, context: RenderContext): Promise<boolean> {
  // One document every role change renders: taken in turn (see RenderContext.lockDocuments).
  await tx.$executeRaw`UPDATE "PublicDocument" SET "key" = "key" WHERE "key" = ${MASTHEAD}`
  const before = await tx.publicDocument.findUnique({ where: { key: MASTHEAD }, select: { document: true } })
  const after = await renderMasthead(tx, context)
  if (before?.document === after.document) return false
  await tx.publicDocument.upsert({ where: { key: MASTHEAD }, create: after, update: after })
  return true
}

/** Refreshes the masthead when it shows this object (a holder, or a holder's avatar), or was never stored. */
export async function refreshMastheadShowing (tx: Transaction, context: RenderContext, purgeKey: string): Promise<void> {
  const stored = await tx.publicDocument.findUnique({ where: { key: MASTHEAD }, select: { purgeKeys: true } })
  if (stored === null || stored.purgeKeys.split(' ').includes(purgeKey)) await refreshMasthead(tx, context)
}
