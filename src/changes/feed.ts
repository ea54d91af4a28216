// The change feed: the change log read in order from a cursor, as each caller may see it. The public
// sees only changes to what it reads (a draft's edits never, its publication yes; an unpublished,
// archived or deleted article as a tombstone of id and slug); staff see every change to content, and
// admins also to keys and webhooks. A cursor is a change's number; the feed keeps changes for
// CHANGES_RETENTION_DAYS and tells a client holding an older cursor to resync (410).
import type { Database, Prisma } from '../db/client.ts'
import { errors, withFieldErrors } from '../errors.ts'
import type { Actor } from '../keys/roles.ts'
import type { ObjectType } from './index.ts'

export const contentTypes = ['article', 'author', 'image', 'section', 'tag', 'masthead-role', 'read-model', 'live-coverage', 'live-entry'] as const satisfies readonly ObjectType[]
export const changeTypes = [...contentTypes, 'key', 'webhook'] as const satisfies readonly ObjectType[]
export type ChangeType = typeof changeTypes[number]
// Every kind of object the spine records is in one of the two lists: one left out would never be shown.
export const everyObjectTypeListed: [Exclude<ObjectType, ChangeType>] extends [never] ? true : never = true

/** Who reads the feed: the public (no key), staff, or admins (who also see keys and webhooks). */
export interface Viewer { publicOnly: boolean, types: readonly ChangeType[] }

export function viewerOf (actor: Actor | null): Viewer {
  if (actor === null) return { publicOnly: true, types: contentTypes }
  return { publicOnly: false, types: actor.role === 'admin' || actor.role === 'system' ? changeTypes : contentTypes }
}

/** One entry of the feed, as sent (JSON and server-sent events alike). */
export interface FeedItem {
  cursor: string
  type: string
  id: string | null
  action: string
  version: number | null
  occurredAt: string
  data: Record<string, unknown>
}

export interface ChangeRow {
  seq: bigint
  objectType: string
  objectId: string | null
  action: string
  version: number | null
  publicChange: boolean
  data: string
  createdAt: Date
}

export const changeRowSelect = { seq: true, objectType: true, objectId: true, action: true, version: true, publicChange: true, data: true, createdAt: true } as const

/**
 * A change as a viewer sees it. To the public, an article that is no longer published is a
 * tombstone: its id and slug, nothing of what was never public. A killed or embargoed article
 * (`withdrawn`: as it stands now, its earlier changes included) is only its id, so a frontend can
 * drop it: not even its slug, which spells out the headline.
 */
export function feedItemOf (row: ChangeRow, publicOnly: boolean, withdrawn = false): FeedItem {
  const recorded = JSON.parse(row.data) as Record<string, unknown>
  const data = publicOnly ? publicDataOf(row, recorded, withdrawn) : recorded
  return { cursor: row.seq.toString(), type: row.objectType, id: row.objectId, action: row.action, version: row.version, occurredAt: row.createdAt.toISOString(), data }
}

/**
 * What the public may learn of a change's data summary (the feed's rule above; public webhooks are
 * sent the same, webhooks/events.ts): all of it, unless it is about an article the public cannot read.
 */
export function publicDataOf (row: Pick<ChangeRow, 'objectType' | 'objectId'>, data: Record<string, unknown>, withdrawn: boolean): Record<string, unknown> {
  if (row.objectType === 'article') {
    const hidden = withdrawn || data.status === 'killed' || (data.embargoedUntil ?? null) !== null
    if (hidden) return { id: data.id ?? row.objectId }
    if (data.status !== 'published') return { id: data.id ?? row.objectId, slug: data.slug ?? null }
    return data
  }
  // A live coverage or entry of a withdrawn article: what was posted went down with it.
  if (withdrawn) return { id: data.id ?? row.objectId, coverageId: data.coverageId ?? null }
  return data
}

/** True when a viewer may see a change of these types. */
export function shows (viewer: Viewer, types: readonly string[], row: Pick<ChangeRow, 'objectType' | 'publicChange'>): boolean {
  return (!viewer.publicOnly || row.publicChange) && types.includes(row.objectType)
}

/** The log's newest change number, and the last one retention removed. */
export interface LogPosition { head: bigint, prunedThrough: bigint }

export async function logPosition (db: Database): Promise<LogPosition> {
  const row = await db.changeSequence.findUnique({ where: { id: 1 }, select: { value: true, prunedThrough: true } })
  return { head: row?.value ?? 0n, prunedThrough: row?.prunedThrough ?? 0n }
}

/** The types a request asks for (`types=article,author`), checked against what the viewer may read. */
export function requestedTypes (viewer: Viewer, types: string | undefined): readonly ChangeType[] {
  if (types === undefined) return viewer.types
  const asked = [...new Set(types.split(','))] as ChangeType[]
  const hidden = asked.filter((type) => !viewer.types.includes(type))
  if (hidden.length > 0) {
    const message = `changes to ${hidden.join(', ')} are shown to admin keys only`
    throw viewer.publicOnly ? errors.authenticationRequired(message) : errors.roleNotAllowed(message)
  }
  return asked
}

/**
 * Where to read from: `after` is a cursor this server gave, "now" (only what happens from here on),
 * or absent (the oldest change kept). A cursor ahead of the log was never given out: 400. One older
 * than retention: 410, resync.
 */
export function startOf (after: string | undefined, position: LogPosition, parameter: { in: 'query' | 'headers', pointer: string }): bigint {
  if (after === undefined) return position.prunedThrough
  if (after === 'now') return position.head
  const cursor = /^(0|[1-9]\d{0,18})$/.test(after) ? BigInt(after) : null
  if (cursor === null || cursor > position.head) {
    const message = cursor === null ? 'is not a change cursor' : `is ahead of the change log (its latest change is ${position.head}): not a cursor this server gave`
    throw withFieldErrors(errors.validationFailed(`${parameter.in}${parameter.pointer} ${message}`), [{ in: parameter.in, pointer: parameter.pointer, message }])
  }
  if (cursor < position.prunedThrough) throw cursorExpired(cursor, position.prunedThrough)
  return cursor
}

export interface FeedPage { items: FeedItem[], next: string, hasMore: boolean }

/** Changes one page looks through at most: a page costs the same at any depth, whatever it filters out. */
const SCAN_WINDOW = 10_000n

function cursorExpired (cursor: bigint, prunedThrough: bigint): Error {
  return errors.cursorExpired(`Changes up to ${prunedThrough} are no longer kept (retention); cursor ${cursor} cannot be resumed. Read the content again (the lists, from page 1), then follow the feed from after=now.`)
}

/**
 * Up to `limit` changes after `from` that the viewer sees, looking through at most SCAN_WINDOW
 * changes (by primary key), so a page costs the same at any depth even when the viewer sees few of
 * them; a page may then be short or empty with `hasMore` true. `next` resumes after the last change
 * looked at, skipping what the viewer does not see.
 */
export async function readChanges (db: Database, viewer: Viewer, types: readonly ChangeType[], from: bigint, through: bigint, limit: number): Promise<FeedPage> {
  const windowEnd = from + SCAN_WINDOW < through ? from + SCAN_WINDOW : through
  const rows = await db.change.findMany({
    where: {
      seq: { gt: from, lte: windowEnd },
      ...(viewer.publicOnly ? { publicChange: true } : {}),
      ...(types.length < changeTypes.length ? { objectType: { in: [...types] } } : {})
    },
    orderBy: { seq: 'asc' },
    take: limit + 1,
    select: changeRowSelect
  })
  // Retention may have removed changes of this page while it was read: then it is incomplete.
  const { prunedThrough } = await logPosition(db)
  if (from < prunedThrough) throw cursorExpired(from, prunedThrough)
  const full = rows.length > limit
  const page = rows.slice(0, limit)
  const next = full ? (page.at(-1) as ChangeRow).seq : windowEnd
  const withdrawn = viewer.publicOnly ? await withdrawnAmong(db, page) : new Set<string>()
  return { items: page.map((row) => feedItemOf(row, viewer.publicOnly, withdrawn.has(articleIdOf(row) ?? ''))), next: next.toString(), hasMore: full || windowEnd < through }
}

/** The article a change is about: itself, or the article a live coverage or entry belongs to. */
function articleIdOf (row: ChangeRow): string | null {
  if (row.objectType === 'article') return row.objectId
  if (row.objectType !== 'live-coverage' && row.objectType !== 'live-entry') return null
  const articleId = (JSON.parse(row.data) as { articleId?: unknown }).articleId
  return typeof articleId === 'string' ? articleId : null
}

/**
 * The articles among these changes (their own, and those of live coverages and entries) that are
 * killed or under embargo now: the public sees only ids of them and of what was posted on them.
 */
async function withdrawnAmong (db: Database, rows: ChangeRow[]): Promise<Set<string>> {
  return await withdrawnArticles(db, rows.flatMap((row) => { const id = articleIdOf(row); return id === null ? [] : [id] }))
}

/** Which of these articles are killed or under embargo now. */
export async function withdrawnArticles (db: Pick<Prisma.TransactionClient, 'article'>, articleIds: readonly string[]): Promise<Set<string>> {
  const ids = [...new Set(articleIds)]
  if (ids.length === 0) return new Set()
  const found = await db.article.findMany({ where: { id: { in: ids }, OR: [{ status: 'killed' }, { embargo: { isNot: null } }] }, select: { id: true } })
  return new Set(found.map((article) => article.id))
}

/**
 * Removes changes older than the retention period, in batches, and CDN purges as old (done, given
 * up, or queued for a purger no longer configured). The mark that makes older cursors 410 moves
 * first, in a transaction of its own (the row every write updates is held only for that), so no
 * reader resumes into changes being removed. The audit trail and webhook receipts are kept.
 */
export async function pruneChanges (db: Database, retentionDays: number, batch = 5000): Promise<number> {
  const cutoff = new Date(Date.now() - retentionDays * 86_400_000)
  await db.purgeRequest.deleteMany({ where: { createdAt: { lt: cutoff } } })
  const newestExpired = await db.change.findFirst({ where: { createdAt: { lt: cutoff } }, orderBy: { createdAt: 'desc' }, select: { seq: true } })
  if (newestExpired === null) return 0
  await db.changeSequence.updateMany({ where: { id: 1, prunedThrough: { lt: newestExpired.seq } }, data: { prunedThrough: newestExpired.seq } })
  let removed = 0
  for (;;) {
    const oldest = await db.change.findFirst({ where: { seq: { lte: newestExpired.seq } }, orderBy: { seq: 'asc' }, select: { seq: true } })
    if (oldest === null) return removed
    const { count } = await db.change.deleteMany({ where: { seq: { lte: oldest.seq + BigInt(batch) < newestExpired.seq ? oldest.seq + BigInt(batch) : newestExpired.seq } } })
    removed += count
  }
}
