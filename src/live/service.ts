// Live coverage: the writes (each one transaction ending in one commitChange) and the reads.
// Every write to a coverage or one of its entries raises the coverage's revision (its row lock
// serializes writers on PostgreSQL), and the entry records it: `since` cursors are positions in that
// sequence, so a reader learns exactly what was added, edited or deleted after one. An entry's public
// form is rendered on write and stored with it; it is public while the coverage's article is.
import type { Database, Prisma } from '../db/client.ts'
import { errors, withFieldErrors, type CatalogueError, type FieldError } from '../errors.ts'
import type { Actor } from '../keys/roles.ts'
import { bodyToText, imageIdsOf, sanitizeBody, unusableInlineTexts, type BodyBlock } from '../articles/body.ts'
import { commitChange } from '../changes/index.ts'
import * as articles from '../articles/service.ts'
import type { Article, ArticleSummary } from '../articles/schemas.ts'
import { newsArticleJsonLd, type Site } from '../delivery/site.ts'
import { exampleSlugs } from '../examples.ts'
import { MAX_PINNED, type BreakOut, type CoverageCreate, type CoveragePatch, type CoverageStatus, type EntriesQuery, type EntryCorrection, type EntryCreate, type EntryPatch, type LiveCoverage, type LiveEntry } from './schemas.ts'

type Transaction = Prisma.TransactionClient

interface CoverageRow { id: string, articleId: string, status: string, startsAt: Date | null, endsAt: Date | null, revision: number, createdAt: Date, updatedAt: Date }
interface EntryRow { id: string, coverageId: string, revision: number, document: string, postedAt: Date, bodyText: string, headline: string | null, pinned: boolean, keyEvent: boolean, deletedAt: Date | null, editedAt: Date | null }

const entryRowSelect = { id: true, coverageId: true, revision: true, document: true, postedAt: true, bodyText: true, headline: true, pinned: true, keyEvent: true, deletedAt: true, editedAt: true } as const

export function toCoverage (row: CoverageRow): LiveCoverage {
  return {
    id: row.id,
    articleId: row.articleId,
    status: row.status as CoverageStatus,
    startsAt: row.startsAt?.toISOString() ?? null,
    endsAt: row.endsAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString()
  }
}

function coverageNotFound (id: string): CatalogueError {
  return errors.liveCoverageNotFound(`id ${id}`) as CatalogueError
}

function fieldError (message: string, pointer: string): CatalogueError {
  return withFieldErrors(errors.validationFailed(`body${pointer} ${message}`) as CatalogueError, [{ in: 'body', pointer, message }])
}

/** Sanitizes body blocks as an article's are; an unusable text is a 400 naming the block. */
function prepareBody (blocks: BodyBlock[]): { blocks: BodyBlock[], text: string } {
  const sanitized = sanitizeBody(blocks)
  const problems = unusableInlineTexts(sanitized)
  if (problems.length > 0) {
    throw withFieldErrors(errors.validationFailed(problems.map((problem) => `body${problem.pointer} ${problem.message}`).join('; ')) as CatalogueError,
      problems.map((problem) => ({ in: 'body', ...problem })))
  }
  return { blocks: sanitized, text: bodyToText(sanitized) }
}

async function assertImagesExist (tx: Transaction, blocks: BodyBlock[]): Promise<void> {
  const ids = imageIdsOf(blocks)
  if (ids.length === 0) return
  const known = new Set((await tx.image.findMany({ where: { id: { in: ids } }, select: { id: true } })).map((image) => image.id))
  const problems: FieldError[] = []
  blocks.forEach((block, index) => {
    if (block.type === 'image' && !known.has(block.imageId)) problems.push({ in: 'body', pointer: `/body/${index}/imageId`, message: `no image has id ${block.imageId}` })
  })
  if (problems.length > 0) throw withFieldErrors(errors.invalidReference(problems.map((problem) => `body${problem.pointer} ${problem.message}`).join('; ')) as CatalogueError, problems)
}

/**
 * Takes the coverage's row lock and the next revision: writers to one coverage take turns, and
 * revisions are given in commit order.
 */
async function nextRevision (tx: Transaction, coverageId: string, data: Prisma.LiveCoverageUpdateInput = {}): Promise<CoverageRow> {
  const { count } = await tx.liveCoverage.updateMany({ where: { id: coverageId }, data: { ...data, revision: { increment: 1 } } as Prisma.LiveCoverageUpdateManyMutationInput })
  if (count === 0) throw coverageNotFound(coverageId)
  return await tx.liveCoverage.findUniqueOrThrow({ where: { id: coverageId } })
}

async function commitCoverage (tx: Transaction, coverage: CoverageRow, actor: Actor, action: string): Promise<void> {
  await commitChange(tx, {
    actor,
    objectType: 'live-coverage',
    objectId: coverage.id,
    action,
    version: coverage.revision,
    data: { id: coverage.id, coverageId: coverage.id, articleId: coverage.articleId, revision: coverage.revision, coverage: toCoverage(coverage) }
  })
}

export async function createCoverage (db: Database, input: CoverageCreate, actor: Actor): Promise<LiveCoverage> {
  return await db.$transaction(async (tx) => {
    if (await tx.article.count({ where: { id: input.articleId } }) === 0) {
      throw withFieldErrors(errors.invalidReference(`body/articleId no article has id ${input.articleId}`) as CatalogueError, [{ in: 'body', pointer: '/articleId', message: `no article has id ${input.articleId}` }])
    }
    if (await tx.liveCoverage.count({ where: { articleId: input.articleId } }) > 0) throw errors.conflict(`Article ${input.articleId} already has a live coverage`)
    const status = input.status ?? 'upcoming'
    const now = new Date()
    const created = await tx.liveCoverage.create({
      data: {
        articleId: input.articleId,
        status,
        startsAt: input.startsAt !== undefined ? (input.startsAt === null ? null : new Date(input.startsAt)) : (status === 'upcoming' ? null : now),
        endsAt: input.endsAt !== undefined ? (input.endsAt === null ? null : new Date(input.endsAt)) : (status === 'ended' ? now : null),
        revision: 1
      }
    })
    await commitCoverage(tx, created, actor, 'live-coverage.created')
    return toCoverage(created)
  })
}

export async function updateCoverage (db: Database, id: string, patch: CoveragePatch, actor: Actor): Promise<LiveCoverage> {
  return await db.$transaction(async (tx) => {
    const current = await tx.liveCoverage.findUnique({ where: { id } })
    if (current === null) throw coverageNotFound(id)
    const data: Prisma.LiveCoverageUpdateInput = {}
    if (patch.status !== undefined) data.status = patch.status
    if (patch.startsAt !== undefined) data.startsAt = patch.startsAt === null ? null : new Date(patch.startsAt)
    else if (patch.status === 'live' && current.startsAt === null) data.startsAt = new Date()
    if (patch.endsAt !== undefined) data.endsAt = patch.endsAt === null ? null : new Date(patch.endsAt)
    else if (patch.status === 'ended' && current.endsAt === null) data.endsAt = new Date()
    else if (patch.status === 'live' && current.status === 'ended') data.endsAt = null
    const updated = await nextRevision(tx, id, data)
    const action = patch.status !== undefined && patch.status !== current.status ? `live-coverage.${patch.status === 'live' ? 'started' : patch.status}` : 'live-coverage.updated'
    await commitCoverage(tx, updated, actor, action)
    return toCoverage(updated)
  })
}

interface EntryState {
  id: string
  coverageId: string
  revision: number
  headline: string | null
  body: BodyBlock[]
  author: { id: string, slug: string, name: string } | null
  postedAt: Date
  editedAt: Date | null
  pinned: boolean
  keyEvent: boolean
  correction: string | null
  correctedAt: Date | null
  brokenOutArticleId: string | null
  deletedAt: Date | null
}

/** The entry as the public is sent it; a deleted entry keeps only what says it went. */
export function renderEntry (entry: EntryState): LiveEntry {
  const deleted = entry.deletedAt !== null
  return {
    id: entry.id,
    coverageId: entry.coverageId,
    revision: entry.revision,
    headline: deleted ? null : entry.headline,
    body: deleted ? [] : entry.body,
    author: deleted ? null : entry.author,
    postedAt: entry.postedAt.toISOString(),
    editedAt: deleted ? null : entry.editedAt?.toISOString() ?? null,
    pinned: !deleted && entry.pinned,
    keyEvent: !deleted && entry.keyEvent,
    correction: deleted || entry.correction === null ? null : { note: entry.correction, correctedAt: (entry.correctedAt as Date).toISOString() },
    brokenOutArticleId: deleted ? null : entry.brokenOutArticleId,
    deleted,
    deletedAt: entry.deletedAt?.toISOString() ?? null
  }
}

async function authorOf (tx: Transaction, authorId: string | null): Promise<EntryState['author']> {
  if (authorId === null) return null
  const author = await tx.author.findUnique({ where: { id: authorId }, select: { id: true, slug: true, name: true } })
  if (author === null) throw withFieldErrors(errors.invalidReference(`body/authorId no author has id ${authorId}`) as CatalogueError, [{ in: 'body', pointer: '/authorId', message: `no author has id ${authorId}` }])
  return author
}

async function assertPinRoom (tx: Transaction, coverageId: string, except: string | null): Promise<void> {
  const pinned = await tx.liveEntry.count({ where: { coverageId, pinned: true, deletedAt: null, ...(except === null ? {} : { id: { not: except } }) } })
  if (pinned >= MAX_PINNED) throw withFieldErrors(errors.pinLimitReached(`A coverage has at most ${MAX_PINNED} pinned entries; unpin one first`) as CatalogueError, [{ in: 'body', pointer: '/pinned', message: `at most ${MAX_PINNED} entries are pinned at once` }])
}

/**
 * `relinkedImageIds`: the images the entry began or stopped showing; while the coverage is public,
 * each may have become public or private (src/live/effects.ts purges them).
 */
async function commitEntry (tx: Transaction, coverage: CoverageRow, stored: StoredEntry, actor: Actor, action: string): Promise<void> {
  const { entry, relinkedImageIds } = stored
  await commitChange(tx, {
    actor,
    objectType: 'live-entry',
    objectId: entry.id,
    action,
    version: entry.revision,
    data: { id: entry.id, coverageId: coverage.id, articleId: coverage.articleId, revision: entry.revision, entry, ...(relinkedImageIds.length > 0 ? { relinkedImageIds } : {}) }
  })
}

/**
 * Keeps the entry's image links (LiveEntryImage) equal to the images its body shows; a tombstone
 * shows none. Returns the images linked or unlinked.
 */
async function relinkImages (tx: Transaction, state: EntryState, create: boolean): Promise<string[]> {
  const wanted = state.deletedAt === null ? imageIdsOf(state.body) : []
  const linked = create ? [] : (await tx.liveEntryImage.findMany({ where: { entryId: state.id }, select: { imageId: true } })).map((link) => link.imageId)
  const added = wanted.filter((id) => !linked.includes(id))
  const removed = linked.filter((id) => !wanted.includes(id))
  if (removed.length > 0) await tx.liveEntryImage.deleteMany({ where: { entryId: state.id, imageId: { in: removed } } })
  if (added.length > 0) await tx.liveEntryImage.createMany({ data: added.map((imageId) => ({ entryId: state.id, imageId })) })
  return [...added, ...removed]
}

interface StoredEntry { entry: LiveEntry, relinkedImageIds: string[] }

async function storeEntry (tx: Transaction, state: EntryState, bodyText: string, create: boolean): Promise<StoredEntry> {
  const entry = renderEntry(state)
  const data = {
    revision: state.revision,
    headline: state.headline,
    body: state.body as unknown as Prisma.InputJsonValue,
    bodyText,
    authorId: state.author?.id ?? null,
    postedAt: state.postedAt,
    editedAt: state.editedAt,
    pinned: state.pinned,
    keyEvent: state.keyEvent,
    correction: state.correction,
    correctedAt: state.correctedAt,
    brokenOutArticleId: state.brokenOutArticleId,
    deletedAt: state.deletedAt,
    document: JSON.stringify(entry)
  }
  if (create) await tx.liveEntry.create({ data: { id: state.id, coverageId: state.coverageId, ...data } })
  else await tx.liveEntry.update({ where: { id: state.id }, data })
  return { entry, relinkedImageIds: await relinkImages(tx, state, create) }
}

export async function postEntry (db: Database, coverageId: string, input: EntryCreate & { id?: string }, actor: Actor): Promise<LiveEntry> {
  const body = prepareBody(input.body)
  const postedAt = input.postedAt === undefined ? new Date() : new Date(input.postedAt)
  if (postedAt.getTime() > Date.now() + 60_000) throw fieldError('is in the future: an entry is posted now or was posted before', '/postedAt')
  return await db.$transaction(async (tx) => {
    const coverage = await nextRevision(tx, coverageId)
    if (coverage.status === 'ended') throw errors.coverageEnded(`Coverage ${coverageId} has ended: reopen it (status live) to post entries`)
    await assertImagesExist(tx, body.blocks)
    const author = await authorOf(tx, input.authorId === undefined ? actor.authorId : input.authorId)
    if (input.pinned === true) await assertPinRoom(tx, coverageId, null)
    const state: EntryState = {
      id: input.id ?? crypto.randomUUID(),
      coverageId,
      revision: coverage.revision,
      headline: input.headline ?? null,
      body: body.blocks,
      author,
      postedAt,
      editedAt: null,
      pinned: input.pinned ?? false,
      keyEvent: input.keyEvent ?? false,
      correction: null,
      correctedAt: null,
      brokenOutArticleId: null,
      deletedAt: null
    }
    const stored = await storeEntry(tx, state, body.text, true)
    await commitEntry(tx, coverage, stored, actor, 'live-entry.posted')
    return stored.entry
  })
}

async function readEntryState (tx: Transaction, coverageId: string, entryId: string): Promise<{ state: EntryState, bodyText: string }> {
  const row = await tx.liveEntry.findUnique({ where: { id: entryId } })
  if (row === null || row.coverageId !== coverageId) throw errors.liveEntryNotFound(`id ${entryId} in coverage ${coverageId}`)
  if (row.deletedAt !== null) throw errors.liveEntryNotFound(`id ${entryId}: it was deleted`)
  const document = JSON.parse(row.document) as LiveEntry
  return {
    state: { ...row, body: row.body as unknown as BodyBlock[], author: document.author },
    bodyText: row.bodyText
  }
}

/** One change to an existing entry: lock the coverage, read the entry, apply, store, commit. */
async function changeEntry (db: Database, coverageId: string, entryId: string, actor: Actor, change: (tx: Transaction, state: EntryState, bodyText: string) => Promise<{ state: EntryState, bodyText: string, action: string }>): Promise<LiveEntry> {
  return await db.$transaction(async (tx) => {
    const coverage = await nextRevision(tx, coverageId)
    const current = await readEntryState(tx, coverageId, entryId)
    const changed = await change(tx, current.state, current.bodyText)
    const stored = await storeEntry(tx, { ...changed.state, revision: coverage.revision }, changed.bodyText, false)
    await commitEntry(tx, coverage, stored, actor, changed.action)
    return stored.entry
  })
}

export async function updateEntry (db: Database, coverageId: string, entryId: string, patch: EntryPatch, actor: Actor): Promise<LiveEntry> {
  const body = patch.body === undefined ? undefined : prepareBody(patch.body)
  return await changeEntry(db, coverageId, entryId, actor, async (tx, state, bodyText) => {
    const edited = body !== undefined || patch.headline !== undefined
    if (body !== undefined) await assertImagesExist(tx, body.blocks)
    if (patch.pinned === true && !state.pinned) await assertPinRoom(tx, coverageId, entryId)
    return {
      state: {
        ...state,
        headline: patch.headline !== undefined ? patch.headline : state.headline,
        body: body?.blocks ?? state.body,
        editedAt: edited ? new Date() : state.editedAt,
        pinned: patch.pinned ?? state.pinned,
        keyEvent: patch.keyEvent ?? state.keyEvent
      },
      bodyText: body?.text ?? bodyText,
      action: 'live-entry.updated'
    }
  })
}

export async function correctEntry (db: Database, coverageId: string, entryId: string, input: EntryCorrection, actor: Actor): Promise<LiveEntry> {
  const body = input.body === undefined ? undefined : prepareBody(input.body)
  return await changeEntry(db, coverageId, entryId, actor, async (tx, state, bodyText) => {
    if (body !== undefined) await assertImagesExist(tx, body.blocks)
    const now = new Date()
    const edited = body !== undefined || input.headline !== undefined
    return {
      state: {
        ...state,
        headline: input.headline !== undefined ? input.headline : state.headline,
        body: body?.blocks ?? state.body,
        editedAt: edited ? now : state.editedAt,
        correction: input.note,
        correctedAt: now
      },
      bodyText: body?.text ?? bodyText,
      action: 'live-entry.corrected'
    }
  })
}

export async function deleteEntry (db: Database, coverageId: string, entryId: string, actor: Actor): Promise<void> {
  await changeEntry(db, coverageId, entryId, actor, async (_tx, state) => ({
    state: { ...state, headline: null, body: [], deletedAt: new Date(), pinned: false, keyEvent: false },
    bodyText: '',
    action: 'live-entry.deleted'
  }))
}

/**
 * A draft article made from an entry, ending with a link back to the coverage; the entry records it.
 * Two transactions (the article service commits its own): the article is made first, so the entry
 * never points at an article that does not exist.
 */
export async function breakOutEntry (db: Database, coverageId: string, entryId: string, input: BreakOut, actor: Actor, site: Site): Promise<Article> {
  const { state, coverageArticle } = await db.$transaction(async (tx) => {
    const coverage = await tx.liveCoverage.findUnique({ where: { id: coverageId }, select: { articleId: true } })
    if (coverage === null) throw coverageNotFound(coverageId)
    const { state } = await readEntryState(tx, coverageId, entryId)
    const coverageArticle = await tx.article.findUniqueOrThrow({ where: { id: coverage.articleId }, select: { slug: true, headline: true, status: true, embargo: { select: { until: true } } } })
    return { state, coverageArticle }
  })
  // A new article carries no kill and no embargo: what is held back must not walk out through it.
  if (coverageArticle.status === 'killed') throw errors.articleKilled(`The coverage's article was killed: its entries cannot be broken out`) as CatalogueError
  if (coverageArticle.embargo !== null) throw errors.conflict(`The coverage's article is under embargo until ${coverageArticle.embargo.until.toISOString()}: break entries out once it lifts`)
  if (state.brokenOutArticleId !== null) throw errors.conflict(`Entry ${entryId} was already broken out into article ${state.brokenOutArticleId}`)
  const headline = input.headline ?? state.headline
  if (headline === null) throw fieldError('is needed: the entry has no headline to take', '/headline')
  const linkBack: BodyBlock = { type: 'promo', headline: coverageArticle.headline, text: 'Follow our live coverage', url: `${site.articleUrl(coverageArticle.slug)}#entry-${entryId}`, linkText: 'Live coverage' }
  const article = await articles.createOne(db, {
    headline,
    ...(input.slug === undefined ? {} : { slug: input.slug }),
    body: [...state.body, linkBack],
    ...(state.author === null ? {} : { bylines: [{ authorId: state.author.id }] })
  }, actor)
  await changeEntry(db, coverageId, entryId, actor, async (_tx, current, bodyText) => {
    if (current.brokenOutArticleId !== null) throw errors.conflict(`Entry ${entryId} was already broken out into article ${current.brokenOutArticleId}`)
    return { state: { ...current, brokenOutArticleId: article.id }, bodyText, action: 'live-entry.broken-out' }
  })
  return article
}

/** Demo content: a published live coverage with two entries, one pinned (src/db/seed.ts). */
export async function seedLiveCoverage (db: Database, ids: { article?: string, coverage?: string, entry?: string }, authorId: string, sectionId: string, actor: Actor): Promise<void> {
  const article = await articles.createOne(db, {
    ...(ids.article === undefined ? {} : { id: ids.article, slug: exampleSlugs.liveArticle }),
    headline: 'Live: Ukraine’s Parliament Votes on Mobilization Law',
    kicker: 'Live',
    sectionId,
    body: [{ type: 'paragraph', text: 'Follow the debate and the vote as it happens.' }],
    bylines: [{ authorId }],
    status: 'published'
  }, actor)
  const coverage = await db.$transaction(async (tx) => {
    const created = await tx.liveCoverage.create({ data: { ...(ids.coverage === undefined ? {} : { id: ids.coverage }), articleId: article.id, status: 'live', startsAt: new Date(), revision: 1 } })
    await commitCoverage(tx, created, actor, 'live-coverage.created')
    return created
  })
  await postEntry(db, coverage.id, { body: [{ type: 'paragraph', text: 'The session has opened; the speaker expects a vote by the evening.' }], authorId }, actor)
  await postEntry(db, coverage.id, { ...(ids.entry === undefined ? {} : { id: ids.entry }), headline: 'Vote scheduled for 18:00', body: [{ type: 'paragraph', text: 'The speaker has set the final vote for 18:00 Kyiv time.' }], authorId, pinned: true, keyEvent: true }, actor)
}

// Reads -------------------------------------------------------------------------------------------

/** A cursor names a coverage and a position in it; opaque to clients, checked like any input. */
type Position = { kind: 'since', revision: number } | { kind: 'since-page', revision: number, below: number } | { kind: 'older', postedAt: string, id: string }

function encode (coverageId: string, position: Position): string {
  const parts = position.kind === 'since' ? ['s', position.revision] : position.kind === 'since-page' ? ['p', position.revision, position.below] : ['o', position.postedAt, position.id]
  return Buffer.from(JSON.stringify([coverageId, ...parts])).toString('base64url')
}

function decode (text: string, coverage: CoverageRow, parameter: 'since' | 'cursor'): Position {
  const invalid = (message: string): CatalogueError => withFieldErrors(errors.validationFailed(`query/${parameter} ${message}`) as CatalogueError, [{ in: 'query', pointer: `/${parameter}`, message }])
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'))
  } catch {
    throw invalid('is not a cursor this API gave out')
  }
  if (!Array.isArray(parsed) || typeof parsed[0] !== 'string') throw invalid('is not a cursor this API gave out')
  const [coverageId, kind, a, b] = parsed as unknown[]
  if (coverageId !== coverage.id) throw invalid('belongs to another coverage')
  const isRevision = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= coverage.revision
  if (parameter === 'since' && kind === 's' && isRevision(a) && parsed.length === 3) return { kind: 'since', revision: a }
  if (parameter === 'cursor' && kind === 'p' && isRevision(a) && isRevision(b) && a < b && parsed.length === 4) return { kind: 'since-page', revision: a, below: b }
  if (parameter === 'cursor' && kind === 'o' && typeof a === 'string' && !Number.isNaN(Date.parse(a)) && typeof b === 'string' && /^[0-9a-f-]{36}$/.test(b) && parsed.length === 4) return { kind: 'older', postedAt: a, id: b }
  throw invalid('is not a cursor this API gave out')
}

export interface CoverageLookup { coverage: CoverageRow, article: ArticleSummary, articleJson: string }

/**
 * The coverage of the article with this slug as a reader may see it: the public only while the
 * article is published (its stored document exists), staff always.
 */
export async function coverageBySlug (db: Database, slug: string, viewer: Actor | null): Promise<CoverageLookup> {
  let articleId: string
  let articleJson: string
  if (viewer === null) {
    const stored = await db.publicArticle.findUnique({ where: { slug }, select: { id: true, summary: true } })
    if (stored === null) {
      // A killed live story is gone for its readers, as the article is (410); one never public, or
      // that never had live coverage, stays 404.
      await articles.assertSlugNotKilled(db, slug, { liveCoverage: { isNot: null } })
      throw errors.liveCoverageNotFound(`slug ${slug}`)
    }
    articleId = stored.id
    articleJson = stored.summary
  } else {
    const found = await articles.readOneBySlug(db, slug, viewer).catch(() => null)
    if (found === null || !('article' in found)) throw errors.liveCoverageNotFound(`slug ${slug}`)
    articleId = found.article.id
    articleJson = JSON.stringify(found.article)
  }
  const coverage = await db.liveCoverage.findUnique({ where: { articleId } })
  if (coverage === null) throw errors.liveCoverageNotFound(`slug ${slug}`)
  return { coverage, article: JSON.parse(articleJson) as ArticleSummary, articleJson }
}

export interface EntryPage { items: EntryRow[], latest: string, next: string | null }

export async function readEntries (db: Database, coverage: CoverageRow, query: Pick<EntriesQuery, 'since' | 'cursor' | 'limit'>): Promise<EntryPage> {
  const latest = encode(coverage.id, { kind: 'since', revision: coverage.revision })
  const position = query.cursor !== undefined ? decode(query.cursor, coverage, 'cursor') : query.since !== undefined ? decode(query.since, coverage, 'since') : null
  const take = query.limit + 1
  if (position !== null && position.kind !== 'older') {
    // What changed after the cursor, the latest change first, tombstones included.
    const below = position.kind === 'since-page' ? position.below : coverage.revision + 1
    const rows = await db.liveEntry.findMany({ where: { coverageId: coverage.id, revision: { gt: position.revision, lt: below } }, orderBy: { revision: 'desc' }, take, select: entryRowSelect })
    const items = rows.slice(0, query.limit)
    const next = rows.length > query.limit ? encode(coverage.id, { kind: 'since-page', revision: position.revision, below: (items.at(-1) as EntryRow).revision }) : null
    return { items, latest, next }
  }
  const after: Prisma.LiveEntryWhereInput = position === null
    ? {}
    : { OR: [{ postedAt: { lt: new Date(position.postedAt) } }, { postedAt: new Date(position.postedAt), id: { lt: position.id } }] }
  const rows = await db.liveEntry.findMany({ where: { coverageId: coverage.id, deletedAt: null, ...after }, orderBy: [{ postedAt: 'desc' }, { id: 'desc' }], take, select: entryRowSelect })
  const items = rows.slice(0, query.limit)
  const last = items.at(-1)
  const next = rows.length > query.limit && last !== undefined ? encode(coverage.id, { kind: 'older', postedAt: last.postedAt.toISOString(), id: last.id }) : null
  return { items, latest, next }
}

export async function readPinned (db: Database, coverageId: string): Promise<EntryRow[]> {
  return await db.liveEntry.findMany({ where: { coverageId, pinned: true, deletedAt: null }, orderBy: [{ postedAt: 'desc' }, { id: 'desc' }], take: MAX_PINNED, select: entryRowSelect })
}

/** The page as JSON, assembled from the stored entry documents (in the response schema's order). */
export function entryPageJson (coverage: CoverageRow, page: EntryPage, extra: { article?: string, pinned?: EntryRow[], jsonLd?: Record<string, unknown> } = {}): string {
  const parts = [
    `"coverage":${JSON.stringify(toCoverage(coverage))}`,
    `"items":[${page.items.map((row) => row.document).join(',')}]`,
    `"latest":${JSON.stringify(page.latest)}`,
    `"next":${JSON.stringify(page.next)}`
  ]
  if (extra.article !== undefined) parts.push(`"article":${extra.article}`)
  if (extra.pinned !== undefined) parts.push(`"pinned":[${extra.pinned.map((row) => row.document).join(',')}]`)
  if (extra.jsonLd !== undefined) parts.push(`"jsonLd":${JSON.stringify(extra.jsonLd)}`)
  return `{${parts.join(',')}}`
}

/** schema.org LiveBlogPosting: the article's NewsArticle data, the coverage times and the entries shown. */
export function liveBlogJsonLd (article: ArticleSummary, coverage: CoverageRow, entries: EntryRow[], site: Site): Record<string, unknown> {
  const base = newsArticleJsonLd(article, site)
  const url = site.articleUrl(article.slug)
  return {
    ...base,
    '@type': 'LiveBlogPosting',
    ...(coverage.startsAt !== null ? { coverageStartTime: coverage.startsAt.toISOString() } : {}),
    ...(coverage.endsAt !== null ? { coverageEndTime: coverage.endsAt.toISOString() } : {}),
    liveBlogUpdate: entries.filter((entry) => entry.deletedAt === null).map((entry) => ({
      '@type': 'BlogPosting',
      '@id': `${url}#entry-${entry.id}`,
      url: `${url}#entry-${entry.id}`,
      ...(entry.headline !== null ? { headline: entry.headline.length > 110 ? `${entry.headline.slice(0, 109)}…` : entry.headline } : {}),
      datePublished: entry.postedAt.toISOString(),
      dateModified: (entry.editedAt ?? entry.postedAt).toISOString(),
      articleBody: entry.bodyText
    }))
  }
}
