// Pending revisions: editing a live story without touching it. Staff edits of a published article
// sent to /articles/{id}/pending are kept apart, in one row per article, while the live version
// stays public and unchanged (its read model, caches and webhooks do not move: each pending write is
// a change that shows nothing new). Publishing the pending revision is one edit of the article, in
// one transaction with one commitChange, gated as a publication: the sign-offs given to the pending
// revision (an edit of it clears them) and the preflight errors. A plain PUT or PATCH of the
// article still edits the live version, as before.
//
// Publishing is refused (409 PENDING_REVISION_OUTDATED) when the live version was edited after the
// pending revision was last written, since it would silently undo those edits.
//
// While the article is not published (unpublished, archived) its pending revision is kept but
// cannot be edited or published; a kill discards it (kill.ts).
import { Prisma, type Database } from '../db/client.ts'
import { errors, type CatalogueError } from '../errors.ts'
import type { Actor } from '../keys/roles.ts'
import { commitChange } from '../changes/index.ts'
import { assertSlugNotReserved } from '../slugs.ts'
import { deskRules } from './desk.ts'
import { assertLeaseAllows } from './leases.ts'
import { restorePatch, snapshotOf } from './revisions.ts'
import { assertMaySignOff, minimumRoleFor } from './signoffs.ts'
import { preflight } from './preflight.ts'
import { applyEdit, assertReferencesExist, assertSlugFree, killedError, lockForUpdate, prepareBody, readById, type PreparedBody } from './service.ts'
import type { Article, ArticlePatch, PendingContent, PendingInput, PendingRevisionState } from './schemas.ts'

type Transaction = Prisma.TransactionClient
type Client = Database | Transaction

interface StoredSignoff { kind: string, keyId: string | null, keyName: string, createdAt: string }
interface PendingRow { articleId: string, version: number, baseVersion: number, content: unknown, signoffs: unknown, keyId: string | null, keyName: string, createdAt: Date, updatedAt: Date }

/** The pending revision's ETag: its own counter, told apart from the article's ETags. */
export function pendingEtagOf (version: number): string {
  return `"pending-${version}"`
}

/**
 * 412 unless If-Match (when sent) names this pending revision; 428 without one when `required` and
 * there is a pending revision. With no pending revision, any
 * If-Match fails: the one the client read was published or discarded since.
 */
function assertPendingVersion (ifMatch: string | undefined, pending: { version: number } | null, required = false): void {
  if (ifMatch === undefined) {
    // Strict mode (REQUIRE_IF_MATCH): an edit must say which pending revision it edits; starting one has nothing to name.
    if (required && pending !== null) throw errors.preconditionRequired(`This server requires If-Match on edits: read the pending revision, then send its ETag (${pendingEtagOf(pending.version)} now) back`)
    return
  }
  const admitted = pending !== null && ifMatch.split(',').some((candidate) => {
    const tag = candidate.trim()
    return tag === '*' || tag === pendingEtagOf(pending.version)
  })
  if (admitted) return
  throw errors.versionMismatch(pending === null
    ? 'The article has no pending revision now (it was published or discarded since you read it): read GET /articles/{id}/pending again'
    : `The pending revision has changed since you read it: it is now ${pendingEtagOf(pending.version)}. Read it again, reapply your change and send that in If-Match.`)
}

async function stateOf (client: Client, live: Article, row: PendingRow | null): Promise<PendingRevisionState> {
  if (row === null) return { articleId: live.id, liveVersion: live.version, pending: null }
  const signoffs = row.signoffs as StoredSignoff[]
  const given = new Set(signoffs.map((signoff) => signoff.kind))
  const missingSignoffs = deskRules(client).requiredSignoffs.filter((kind) => !given.has(kind))
  const content = row.content as PendingContent
  return {
    articleId: live.id,
    liveVersion: live.version,
    pending: {
      version: row.version,
      baseVersion: row.baseVersion,
      content,
      signoffs: signoffs.map((signoff) => ({ kind: signoff.kind, signedBy: { keyId: signoff.keyId, name: signoff.keyName }, createdAt: signoff.createdAt })),
      missingSignoffs,
      preflight: await preflightOfContent(client, live, content, missingSignoffs, row.baseVersion),
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
      updatedBy: { keyId: row.keyId, name: row.keyName }
    }
  }
}

/** The preflight rules on the pending content, as publishing it would run them, without writing anything. */
async function preflightOfContent (client: Client, live: Article, content: PendingContent, missingSignoffs: string[], baseVersion: number): Promise<NonNullable<PendingRevisionState['pending']>['preflight']> {
  const leadImage = content.leadImageId === null ? null : await client.image.findUnique({ where: { id: content.leadImageId }, select: { id: true, altText: true, decorative: true, credit: true } })
  // The fields the rules read (headline, dek, body, lead image, slug), from the pending content.
  const article = { ...live, headline: content.headline, dek: content.dek, slug: content.slug, body: content.body, leadImage } as unknown as Article
  const report = await preflight(client, article, missingSignoffs)
  return { publishable: report.publishable && live.version === baseVersion, errors: report.errors, warnings: report.warnings }
}

export async function readPending (client: Client, articleId: string): Promise<PendingRevisionState> {
  const live = await readById(client, articleId)
  const row = await client.articlePendingRevision.findUnique({ where: { articleId } })
  return await stateOf(client, live, row)
}

/** The live article's editable fields: where a first PATCH of the pending revision starts from. */
function contentOf (article: Article): PendingContent {
  return { slug: article.slug, ...restorePatch(snapshotOf(article)) } as PendingContent
}

/** What PUT leaves out is cleared, as PUT /articles/{id} does; the slug is kept. */
const cleared = { dek: null, kicker: null, body: [], leadImageId: null, sectionId: null, tagIds: [], bylines: [], metaTitle: null, metaDescription: null, canonicalUrl: null }

function assertLive (article: Article): void {
  if (article.status === 'killed') throw killedError(article.id)
  if (article.status !== 'published') {
    throw errors.invalidTransition(`Article ${article.id} is ${article.status}, not published: a pending revision is for a live story. Edit this one directly (PUT or PATCH /articles/${article.id}), or discard its pending revision`) as CatalogueError
  }
}

/**
 * Creates or edits the pending revision: `replace` (PUT) makes the input the whole content, `merge`
 * (PATCH) changes the fields given, starting from the live content when there is no pending
 * revision yet. Returns the state and whether the pending revision was created.
 */
export async function writePending (db: Database, articleId: string, input: PendingInput, mode: 'replace' | 'merge', actor: Actor, ifMatch: string | undefined, reservedSlugs: ReadonlySet<string>, requireIfMatch = false): Promise<{ state: PendingRevisionState, created: boolean }> {
  const body = prepareBody(input.body)
  return await db.$transaction(async (tx): Promise<{ state: PendingRevisionState, created: boolean }> => {
    // The pending row is the lock (the article row is left alone: its updatedAt is public).
    await tx.articlePendingRevision.updateMany({ where: { articleId }, data: { version: { increment: 0 } } })
    const existing = await tx.articlePendingRevision.findUnique({ where: { articleId } })
    const live = await readById(tx, articleId)
    await assertLeaseAllows(tx, articleId, actor)
    assertPendingVersion(ifMatch, existing, requireIfMatch)
    assertLive(live)
    const base: PendingContent = mode === 'replace' ? { ...cleared, slug: live.slug, headline: live.headline } : (existing?.content as PendingContent | undefined) ?? contentOf(live)
    const content: PendingContent = { ...base, ...input, ...(body === undefined ? {} : { body: body.blocks as PendingContent['body'] }) }
    if (content.slug !== live.slug) {
      assertSlugNotReserved(content.slug, reservedSlugs)
      await assertSlugFree(tx, content.slug, articleId)
    }
    await assertReferencesExist(tx, input, body)
    const json = content as unknown as Prisma.InputJsonValue
    const written = { baseVersion: live.version, content: json, signoffs: [], keyId: actor.keyId, keyName: actor.keyName }
    const row = existing === null
      ? await tx.articlePendingRevision.create({ data: { articleId, ...written } })
      : await tx.articlePendingRevision.update({ where: { articleId }, data: { ...written, version: { increment: 1 } } })
    await commitChange(tx, { actor, objectType: 'article', objectId: articleId, action: existing === null ? 'article.pending-created' : 'article.pending-updated', data: { id: articleId, pendingVersion: row.version }, version: live.version, showsNothingNew: true })
    return { state: await stateOf(tx, live, row), created: existing === null }
  }).catch((error: unknown) => {
    // Two first writes at once: the row the second meant to create now exists, with the other's content.
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      throw errors.conflict(`Another editor started a pending revision of article ${articleId} at the same moment, so yours was not written: read GET /articles/${articleId}/pending and edit that one, sending its ETag in If-Match`) as CatalogueError
    }
    throw error
  })
}

/** Discards the pending revision; none is fine (204), as DELETE is idempotent. The live version stays. */
export async function discardPending (db: Database, articleId: string, actor: Actor, ifMatch?: string, requireIfMatch = false): Promise<void> {
  await db.$transaction(async (tx) => {
    const article = await tx.article.findUnique({ where: { id: articleId }, select: { version: true } })
    if (article === null) throw errors.articleNotFound(`id ${articleId}`)
    const existing = await tx.articlePendingRevision.findUnique({ where: { articleId }, select: { version: true } })
    if (existing === null && ifMatch === undefined) return
    await assertLeaseAllows(tx, articleId, actor)
    assertPendingVersion(ifMatch, existing, requireIfMatch)
    const { count } = await tx.articlePendingRevision.deleteMany({ where: { articleId, version: existing?.version } })
    if (count === 0) return
    await commitChange(tx, { actor, objectType: 'article', objectId: articleId, action: 'article.pending-discarded', data: { id: articleId, pendingVersion: existing?.version }, version: article.version, showsNothingNew: true })
  })
}

/**
 * Signs off the pending revision as it stands (201; 200 when this kind was given already). The
 * sign-offs go with it to the live version it becomes; any edit of the pending revision clears them.
 */
export async function signOffPending (db: Database, articleId: string, kind: string, actor: Actor, ifMatch?: string): Promise<{ state: PendingRevisionState, created: boolean }> {
  const minimumRole = minimumRoleFor(db, kind)
  return await db.$transaction(async (tx) => {
    const pending = await pendingOrNotFound(tx, articleId)
    assertMaySignOff(kind, minimumRole, actor)
    assertPendingVersion(ifMatch, pending)
    const signoffs = pending.signoffs as StoredSignoff[]
    const created = !signoffs.some((signoff) => signoff.kind === kind)
    if (created) {
      const added = [...signoffs, { kind, keyId: actor.keyId, keyName: actor.keyName, createdAt: new Date().toISOString() }]
      // Conditional on the version read: an edit committed meanwhile cleared the sign-offs, and this one was for the text before it.
      const { count } = await tx.articlePendingRevision.updateMany({ where: { articleId, version: pending.version }, data: { signoffs: added as unknown as Prisma.InputJsonValue } })
      if (count === 0) throw errors.versionMismatch('The pending revision was edited while you signed it off: read it again') as CatalogueError
      await commitChange(tx, { actor, objectType: 'article', objectId: articleId, action: 'article.pending-signed-off', data: { id: articleId, kind, pendingVersion: pending.version }, showsNothingNew: true })
    }
    return { state: await readPending(tx, articleId), created }
  })
}

async function pendingOrNotFound (tx: Transaction, articleId: string): Promise<PendingRow> {
  const pending = await tx.articlePendingRevision.findUnique({ where: { articleId } })
  if (pending !== null) return pending
  if (await tx.article.count({ where: { id: articleId } }) === 0) throw errors.articleNotFound(`id ${articleId}`)
  throw errors.pendingRevisionNotFound(`article ${articleId} has none (PUT or PATCH /articles/${articleId}/pending starts one)`)
}

/**
 * Makes the pending revision the live version: one edit of the article (a new version and revision,
 * the read model, search, purges, webhooks article.updated, the audit entry), in this transaction,
 * so the public sees either the old version or the new one. Gated as a publication: the pending
 * revision's sign-offs become the new version's, and anything missing or a preflight error is 409
 * PUBLICATION_BLOCKED, leaving everything as it was. A new slug leaves the old one redirecting.
 */
export async function publishPending (db: Database, articleId: string, actor: Actor, ifMatch: string | undefined, reservedSlugs: ReadonlySet<string>, requireIfMatch = false): Promise<Article> {
  return await db.$transaction(async (tx) => {
    const current = await lockForUpdate(tx, articleId)
    await assertLeaseAllows(tx, articleId, actor)
    const pending = await pendingOrNotFound(tx, articleId)
    assertPendingVersion(ifMatch, pending, requireIfMatch)
    if (current.status === 'killed') throw killedError(articleId)
    if (current.status !== 'published') {
      throw errors.invalidTransition(`Article ${articleId} is ${current.status}, not published: its pending revision cannot replace a live version. Edit the article directly, or discard the pending revision`) as CatalogueError
    }
    // Publishing replaces every content field: a live edit made after the pending revision was last
    // written would be undone without anyone seeing it.
    if (current.version !== pending.baseVersion) {
      throw errors.pendingRevisionOutdated(`The live article changed since its pending revision was last written (live version ${current.version}, pending revision written against version ${pending.baseVersion}): publishing it would undo those live edits. Compare GET /articles/${articleId} with GET /articles/${articleId}/pending, then write the pending revision again (PUT or PATCH /articles/${articleId}/pending) or discard it`) as CatalogueError
    }
    const content = pending.content as PendingContent
    const signoffs = pending.signoffs as StoredSignoff[]
    await tx.articleSignoff.createMany({ data: signoffs.map((signoff) => ({ articleId, kind: signoff.kind, version: current.version + 1, keyId: signoff.keyId, keyName: signoff.keyName })) })
    await tx.articlePendingRevision.delete({ where: { articleId } })
    const body: PreparedBody | undefined = prepareBody(content.body)
    return await applyEdit(tx, articleId, current, content as ArticlePatch, body, actor, reservedSlugs, { action: 'article.pending-published', gateAsPublication: true })
  })
}

