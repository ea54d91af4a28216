// Sign-offs: a named approval (copy, legal, ...) given by a key whose role may give it, to the
// article's content as it stands. A sign-off stays valid until the content changes: a later
// revision that changes more than the status or publication time voids it. REQUIRED_SIGNOFFS
// names those an article needs before it goes live (src/articles/preflight.ts checks them).
import type { Database, Prisma } from '../db/client.ts'
import { errors, withFieldErrors, type CatalogueError } from '../errors.ts'
import { allows, type Actor, type Role } from '../keys/roles.ts'
import { commitChange } from '../changes/index.ts'
import { deskRules } from './desk.ts'
import { ifMatchAdmits, versionMismatch } from './service.ts'

type Client = Database | Prisma.TransactionClient

/** Revision fields whose change leaves the content as it was signed off. */
const NOT_CONTENT = new Set(['status', 'publishedAt'])

export interface Signoff {
  kind: string
  version: number
  /** False once a later edit changed the content it approved. */
  valid: boolean
  signedBy: { keyId: string | null, name: string }
  createdAt: string
}

export interface SignoffState {
  articleId: string
  version: number
  required: string[]
  /** Required kinds without a valid sign-off: publishing or scheduling is refused until they have one. */
  missing: string[]
  /** Every kind there is, and the least role that may give it. */
  kinds: Array<{ kind: string, minimumRole: Role }>
  items: Signoff[]
}

/** The latest version whose revision changed the content (0 when there is no revision after `since`). */
async function lastContentVersion (client: Client, articleId: string, since: number): Promise<number> {
  const revisions = await client.articleRevision.findMany({ where: { articleId, version: { gt: since } }, orderBy: { version: 'desc' }, select: { version: true, changedFields: true } })
  const changed = revisions.find((revision) => (revision.changedFields as string[]).some((field) => !NOT_CONTENT.has(field)))
  return changed?.version ?? 0
}

export async function readSignoffs (client: Client, articleId: string): Promise<SignoffState> {
  const rules = deskRules(client)
  const article = await client.article.findUnique({ where: { id: articleId }, select: { version: true } })
  if (article === null) throw errors.articleNotFound(`id ${articleId}`)
  const rows = await client.articleSignoff.findMany({ where: { articleId }, orderBy: [{ version: 'desc' }, { createdAt: 'asc' }] })
  const oldest = rows.reduce((least, row) => Math.min(least, row.version), article.version)
  const contentVersion = rows.length === 0 ? 0 : await lastContentVersion(client, articleId, oldest)
  const items = rows.map((row) => ({
    kind: row.kind,
    version: row.version,
    valid: row.version >= contentVersion,
    signedBy: { keyId: row.keyId, name: row.keyName },
    createdAt: row.createdAt.toISOString()
  }))
  const valid = new Set(items.filter((item) => item.valid).map((item) => item.kind))
  return {
    articleId,
    version: article.version,
    required: [...rules.requiredSignoffs],
    missing: rules.requiredSignoffs.filter((kind) => !valid.has(kind)),
    kinds: [...rules.signoffKinds].map(([kind, minimumRole]) => ({ kind, minimumRole })),
    items
  }
}

/**
 * Signs off the article's current version. An unknown kind is 400 naming it; a role below the kind's
 * is 403. Signing the same kind of the same version again changes nothing (`created` is false).
 * Sign-offs do not change the article (its version and ETag stay), and are audited.
 */
/** The least role that may give a kind of sign-off; an unknown kind is 400 naming /kind. */
export function minimumRoleFor (client: Client, kind: string): Role {
  const rules = deskRules(client)
  const minimumRole = rules.signoffKinds.get(kind)
  if (minimumRole === undefined) {
    throw withFieldErrors(errors.validationFailed(`There is no "${kind}" sign-off; the kinds are ${[...rules.signoffKinds.keys()].join(', ')} (SIGNOFF_KINDS)`) as CatalogueError,
      [{ in: 'body', pointer: '/kind', message: `must be one of ${[...rules.signoffKinds.keys()].map((name) => JSON.stringify(name)).join(', ')}` }])
  }
  return minimumRole
}

/** 403 SIGNOFF_NOT_ALLOWED naming /kind when the key's role is below the kind's. */
export function assertMaySignOff (kind: string, minimumRole: Role, actor: Actor): void {
  if (allows(minimumRole, actor)) return
  throw withFieldErrors(errors.signoffNotAllowed(`A ${actor.role} key may not give the ${kind} sign-off; it needs ${minimumRole === 'admin' ? 'an admin' : `an ${minimumRole} or admin`} key`) as CatalogueError,
    [{ in: 'body', pointer: '/kind', message: `needs a ${minimumRole} key or higher` }])
}

export async function giveSignoff (db: Database, articleId: string, kind: string, actor: Actor, ifMatch?: string): Promise<{ state: SignoffState, created: boolean }> {
  const minimumRole = minimumRoleFor(db, kind)
  return await db.$transaction(async (tx) => {
    const article = await tx.article.findUnique({ where: { id: articleId }, select: { version: true } })
    if (article === null) throw errors.articleNotFound(`id ${articleId}`)
    assertMaySignOff(kind, minimumRole, actor)
    if (!ifMatchAdmits(ifMatch, article.version)) throw versionMismatch(article.version)
    const existing = await tx.articleSignoff.findUnique({ where: { articleId_kind_version: { articleId, kind, version: article.version } }, select: { id: true } })
    if (existing === null) {
      await tx.articleSignoff.create({ data: { articleId, kind, version: article.version, keyId: actor.keyId, keyName: actor.keyName } })
      await commitChange(tx, { actor, objectType: 'article', objectId: articleId, action: 'article.signed-off', data: { id: articleId, kind, version: article.version }, version: article.version, showsNothingNew: true })
    }
    return { state: await readSignoffs(tx, articleId), created: existing === null }
  })
}
