// Revisions: the article's editable fields at every version, with what changed. Nothing here is
// ever rewritten; restoring an old revision makes a new one.
import type { Prisma, Database } from '../db/client.ts'
import { errors } from '../errors.ts'
import type { Article, ArticlePatch } from './schemas.ts'
import type { Actor } from '../keys/roles.ts'

type Transaction = Prisma.TransactionClient

export interface Snapshot {
  slug: string
  headline: string
  dek: string | null
  kicker: string | null
  status: string
  publishedAt: string | null
  leadImageId: string | null
  /** Absent from revisions stored before sections and tags existed. */
  sectionId?: string | null
  tagIds?: string[]
  bylines: Array<{ authorId: string, role: string }>
  body: unknown[]
  metaTitle: string | null
  metaDescription: string | null
  canonicalUrl: string | null
  corrections: Array<{ id: string, kind: string, text: string }>
}

export function snapshotOf (article: Article): Snapshot {
  return {
    slug: article.slug,
    headline: article.headline,
    dek: article.dek,
    kicker: article.kicker,
    status: article.status,
    publishedAt: article.publishedAt === null ? null : new Date(article.publishedAt).toISOString(),
    leadImageId: article.leadImage?.id ?? null,
    sectionId: article.section?.id ?? null,
    tagIds: article.tags.map((tag) => tag.id),
    bylines: article.bylines.map((byline) => ({ authorId: byline.author.id, role: byline.role })),
    body: article.body,
    metaTitle: article.metaTitle,
    metaDescription: article.metaDescription,
    canonicalUrl: article.canonicalUrl,
    corrections: article.corrections.map(({ id, kind, text }) => ({ id, kind, text }))
  }
}

export interface FieldChange { field: string, from: unknown, to: unknown }

/** JSON with object keys sorted: PostgreSQL's jsonb hands stored snapshots back with their keys reordered. */
function canonical (value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => inner !== null && typeof inner === 'object' && !Array.isArray(inner)
    ? Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))
    : inner)
}

export function changesBetween (from: Partial<Snapshot>, to: Snapshot): FieldChange[] {
  return (Object.keys(to) as Array<keyof Snapshot>)
    .filter((field) => canonical(from[field]) !== canonical(to[field]))
    .map((field) => ({ field, from: from[field] ?? null, to: to[field] }))
}

/** Stores the article's current state as the revision of its current version. */
export async function recordRevision (tx: Transaction, article: Article, actor: Actor): Promise<void> {
  const previous = await tx.articleRevision.findFirst({ where: { articleId: article.id }, orderBy: { version: 'desc' }, select: { snapshot: true } })
  const snapshot = snapshotOf(article)
  const changedFields = changesBetween((previous?.snapshot ?? {}) as Partial<Snapshot>, snapshot).map((change) => change.field)
  await tx.articleRevision.create({
    data: { articleId: article.id, version: article.version, changedFields, snapshot: snapshot as unknown as Prisma.InputJsonValue, keyId: actor.keyId, keyName: actor.keyName }
  })
}

const revisionSummarySelect = { version: true, changedFields: true, createdAt: true, keyId: true, keyName: true } as const

export interface RevisionSummary { version: number, changedFields: string[], createdAt: string, changedBy: { keyId: string | null, name: string | null } }

function toSummary (row: { version: number, changedFields: unknown, createdAt: Date, keyId: string | null, keyName: string | null }): RevisionSummary {
  return { version: row.version, changedFields: row.changedFields as string[], createdAt: row.createdAt.toISOString(), changedBy: { keyId: row.keyId, name: row.keyName } }
}

async function assertArticle (db: Database, articleId: string): Promise<void> {
  if (await db.article.count({ where: { id: articleId } }) === 0) throw errors.articleNotFound(`id ${articleId}`)
}

export async function readMany (db: Database, articleId: string): Promise<RevisionSummary[]> {
  await assertArticle(db, articleId)
  const rows = await db.articleRevision.findMany({ where: { articleId }, orderBy: { version: 'desc' }, select: revisionSummarySelect })
  return rows.map(toSummary)
}

export async function readOne (db: Database, articleId: string, version: number): Promise<RevisionSummary & { snapshot: Snapshot & Record<string, unknown> }> {
  await assertArticle(db, articleId)
  const row = await db.articleRevision.findUnique({ where: { articleId_version: { articleId, version } }, select: { ...revisionSummarySelect, snapshot: true } })
  if (row === null) throw errors.revisionNotFound(`version ${version} of article ${articleId}`)
  return { ...toSummary(row), snapshot: row.snapshot as unknown as Snapshot & Record<string, unknown> }
}

export async function diff (db: Database, articleId: string, fromVersion: number, toVersion: number): Promise<{ from: number, to: number, changes: FieldChange[] }> {
  const [from, to] = [await readOne(db, articleId, fromVersion), await readOne(db, articleId, toVersion)]
  return { from: fromVersion, to: toVersion, changes: changesBetween(from.snapshot, to.snapshot) }
}

/** The patch that brings back a revision's content. Status, slug and corrections stay as they are now. */
export function restorePatch (snapshot: Snapshot): ArticlePatch {
  return {
    headline: snapshot.headline,
    dek: snapshot.dek,
    kicker: snapshot.kicker,
    leadImageId: snapshot.leadImageId,
    ...(snapshot.sectionId !== undefined ? { sectionId: snapshot.sectionId } : {}),
    ...(snapshot.tagIds !== undefined ? { tagIds: snapshot.tagIds } : {}),
    bylines: snapshot.bylines,
    body: snapshot.body as ArticlePatch['body'],
    metaTitle: snapshot.metaTitle,
    metaDescription: snapshot.metaDescription,
    canonicalUrl: snapshot.canonicalUrl
  }
}
