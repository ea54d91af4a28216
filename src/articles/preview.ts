// Preview links: a signed, expiring URL for one article in any status, so a frontend's preview page
// can show a draft without holding a staff key. The signing secret is generated once and kept in
// the database, so every instance accepts every other instance's links.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { Prisma, type Database } from '../db/client.ts'
import { errors } from '../errors.ts'
import type { Actor } from '../keys/roles.ts'
import { commitChange } from '../changes/index.ts'

export const PREVIEW_TOKEN_PATTERN = '^[0-9a-f-]{36}\\.[0-9]{1,12}\\.[0-9a-f]{64}$'
const SECRET_NAME = 'preview-links'

async function signingSecret (db: Database): Promise<string> {
  const stored = await db.serverSecret.findUnique({ where: { name: SECRET_NAME } })
  if (stored !== null) return stored.value
  try {
    await db.serverSecret.create({ data: { name: SECRET_NAME, value: randomBytes(32).toString('hex') } })
  } catch (error) {
    // Another instance made it first: use theirs.
    if (!(error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002')) throw error
  }
  return (await db.serverSecret.findUniqueOrThrow({ where: { name: SECRET_NAME } })).value
}

const signatureOf = (secret: string, articleId: string, expires: number): string =>
  createHmac('sha256', secret).update(`preview:${articleId}.${expires}`).digest('hex')

export interface PreviewLink { token: string, url: string, expiresAt: string }

/** Mints a link; a writer may do so only for an article carrying their byline. */
export async function mintLink (db: Database, articleId: string, ttlSeconds: number, actor: Actor): Promise<PreviewLink> {
  const article = await db.article.findUnique({ where: { id: articleId }, select: { id: true, bylines: { select: { authorId: true } } } })
  if (article === null) throw errors.articleNotFound(`id ${articleId}`)
  if (actor.role === 'writer' && !article.bylines.some((byline) => byline.authorId === actor.authorId)) {
    throw errors.forbidden('A writer\'s key previews only articles that carry its author\'s byline')
  }
  const expires = Math.floor(Date.now() / 1000) + ttlSeconds
  const token = `${articleId}.${expires}.${signatureOf(await signingSecret(db), articleId, expires)}`
  await db.$transaction(async (tx) => { await commitChange(tx, { actor, objectType: 'article', objectId: articleId, action: 'article.preview-linked', showsNothingNew: true }) })
  return { token, url: `/preview/${token}`, expiresAt: new Date(expires * 1000).toISOString() }
}

/** The article id a token grants, if its signature holds and it has not expired. */
export async function articleIdOf (db: Database, token: string): Promise<string> {
  const [articleId = '', expiresText = '', signature = ''] = token.split('.')
  const expires = Number(expiresText)
  const expected = signatureOf(await signingSecret(db), articleId, expires)
  if (signature.length !== expected.length || !timingSafeEqual(Buffer.from(signature), Buffer.from(expected))) {
    throw errors.previewLinkInvalid('This preview link is not valid')
  }
  if (expires * 1000 < Date.now()) throw errors.previewLinkInvalid('This preview link has expired; ask for a new one')
  return articleId
}
