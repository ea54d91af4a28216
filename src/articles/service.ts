import type { LRUCache } from 'lru-cache'
import { assertSlugNotReserved, freeSlugAmong } from '../slugs.ts'
import { defaultReservedSlugs } from '../config.ts'
import { Prisma, type Database } from '../db/client.ts'
import { errors, withFieldErrors, type CatalogueError, type FieldError } from '../errors.ts'
import { retryOnGeneratedSlugConflict } from '../db/errors.ts'
import { pageResult, type FixedId, type PageResult } from '../common-schemas.ts'
import { authorSummarySelect, readOne as readAuthor, toAuthorSummary } from '../authors/service.ts'
import type { Author } from '../authors/schemas.ts'
import { toImage } from '../images/service.ts'
import { bodyToHtml, bodyToText, countWords, imageIdsOf, readingTimeMinutes, sanitizeBody, unusableInlineTexts, type BodyBlock, type RenderableImage } from './body.ts'
import type { Article, ArticleCreate, ArticleListQuery, ArticlePatch, ArticleStatus, ArticleSummary, Correction, CorrectionCreate } from './schemas.ts'
import type { EventName } from '../webhooks/events.ts'
import { systemActor, type Actor } from '../keys/roles.ts'
import { recordRevision } from './revisions.ts'
import { commitChange } from '../changes/index.ts'
import { isStorableDateTime } from '../validation.ts'
import { publicArticleWhere } from './visibility.ts'
import { assertLeaseAllows } from './leases.ts'
import { assertPublishable } from './preflight.ts'

type Transaction = Prisma.TransactionClient
type Client = Database | Transaction

const bylinesInclude = {
  orderBy: { position: 'asc' },
  select: { position: true, role: true, author: { select: authorSummarySelect } }
} as const satisfies Prisma.Article$bylinesArgs

export const articleSummarySelect = {
  id: true,
  slug: true,
  headline: true,
  dek: true,
  kicker: true,
  status: true,
  publishedAt: true,
  createdAt: true,
  updatedAt: true,
  version: true,
  wordCount: true,
  leadImage: true,
  section: { select: { id: true, slug: true, name: true } },
  tags: { orderBy: { position: 'asc' }, select: { tag: { select: { id: true, slug: true, name: true } } } },
  bylines: bylinesInclude,
  embargo: { select: { until: true, note: true } }
} as const satisfies Prisma.ArticleSelect

const articleSelect = {
  ...articleSummarySelect,
  metaTitle: true,
  metaDescription: true,
  canonicalUrl: true,
  body: true,
  bodyText: true,
  bodyImages: { select: { image: true } },
  corrections: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], select: { id: true, kind: true, text: true, createdAt: true } },
  kill: { select: { reason: true, killedAt: true } }
} as const satisfies Prisma.ArticleSelect

type SummaryRecord = Prisma.ArticleGetPayload<{ select: typeof articleSummarySelect }>
type ArticleRecord = Prisma.ArticleGetPayload<{ select: typeof articleSelect }>

export function toArticleSummary (record: SummaryRecord): ArticleSummary {
  const { wordCount, leadImage, bylines, tags, ...fields } = record
  return {
    ...fields,
    tags: tags.map(({ tag }) => tag),
    leadImage: leadImage === null ? null : toImage(leadImage),
    bylines: bylines.map((byline) => ({ ...byline, author: toAuthorSummary(byline.author) })),
    readingTimeMinutes: readingTimeMinutes(wordCount)
  } as unknown as ArticleSummary
}

function toArticle (record: ArticleRecord): Article {
  const { bodyImages, body, corrections, ...fields } = record
  const images = new Map<string, RenderableImage>()
  for (const { image } of bodyImages) images.set(image.id, { ...image, url: toImage(image).url })
  const blocks = body as unknown as BodyBlock[]
  return {
    ...toArticleSummary(fields),
    metaTitle: fields.metaTitle,
    metaDescription: fields.metaDescription,
    canonicalUrl: fields.canonicalUrl,
    body: blocks,
    bodyHtml: bodyToHtml(blocks, images),
    bodyText: fields.bodyText,
    wordCount: fields.wordCount,
    corrections: corrections as unknown as Correction[],
    kill: fields.kill as unknown as Article['kill']
  }
}

/** The ETag of a stored version. */
export function etagOf (version: number): string {
  return `"${version}"`
}

/**
 * True when an If-Match header admits the stored version. Reads answer `"<version>-<hash of the bytes>"`
 * (the hash changes when an embedded author or image does); either form names the version.
 */
export function ifMatchAdmits (header: string | undefined, version: number): boolean {
  if (header === undefined) return true
  return header.split(',').some((candidate) => {
    const tag = candidate.trim()
    return tag === '*' || tag === etagOf(version) || tag.startsWith(`"${version}-`)
  })
}

export function assertVersion (ifMatch: string | undefined, version: number): void {
  if (!ifMatchAdmits(ifMatch, version)) throw versionMismatch(version)
}

export function versionMismatch (version: number): CatalogueError {
  const error = errors.versionMismatch(`The article has changed since you read it: it is now at version ${version}. Read it again, reapply your change and send If-Match: ${etagOf(version)}.`) as CatalogueError
  error.currentVersion = version
  return error
}

async function freeSlug (tx: Transaction, text: string, conflicts: number, reservedSlugs: ReadonlySet<string>): Promise<string> {
  return await freeSlugAmong(text, 'article', conflicts, async (base) => new Set([
    ...(await tx.article.findMany({ where: { slug: { startsWith: base } }, select: { slug: true } })),
    ...(await tx.articleFormerSlug.findMany({ where: { slug: { startsWith: base } }, select: { slug: true } }))
  ].map((row) => row.slug)), reservedSlugs)
}

export interface PreparedBody { blocks: BodyBlock[], text: string, words: number, imageIds: string[] }

/** Sanitizes and measures a body before any transaction opens (it is CPU work, not database work). */
export function prepareBody (blocks: BodyBlock[] | undefined): PreparedBody | undefined {
  if (blocks === undefined) return undefined
  const sanitized = sanitizeBody(blocks)
  const problems = unusableInlineTexts(sanitized)
  if (problems.length > 0) {
    throw withFieldErrors(errors.validationFailed(problems.map((problem) => `body${problem.pointer} ${problem.message}`).join('; ')) as CatalogueError,
      problems.map((problem) => ({ in: 'body', ...problem })))
  }
  const text = bodyToText(sanitized)
  return { blocks: sanitized, text, words: countWords(text), imageIds: imageIdsOf(sanitized) }
}

type Bylines = Array<{ authorId: string, role: string, position: number }>

function bylinesOf (input: ArticlePatch): Bylines | undefined {
  return input.bylines?.map((byline, position) => ({ authorId: byline.authorId, role: byline.role ?? 'reporter', position }))
}

/** Checks every id the input points at, so a bad reference is a 400 naming the field, not a 500. */
export async function assertReferencesExist (tx: Transaction, input: ArticlePatch, body: PreparedBody | undefined): Promise<void> {
  const problems: FieldError[] = []
  if (input.leadImageId !== undefined && input.leadImageId !== null) {
    if (await tx.image.count({ where: { id: input.leadImageId } }) === 0) problems.push({ in: 'body', pointer: '/leadImageId', message: `no image has id ${input.leadImageId}` })
  }
  if (input.bylines !== undefined) {
    const ids = input.bylines.map((byline) => byline.authorId)
    const known = new Set((await tx.author.findMany({ where: { id: { in: ids } }, select: { id: true } })).map((author) => author.id))
    const seen = new Set<string>()
    input.bylines.forEach((byline, index) => {
      if (!known.has(byline.authorId)) problems.push({ in: 'body', pointer: `/bylines/${index}/authorId`, message: `no author has id ${byline.authorId}` })
      if (seen.has(byline.authorId)) problems.push({ in: 'body', pointer: `/bylines/${index}/authorId`, message: 'the same author is credited twice' })
      seen.add(byline.authorId)
    })
  }
  if (input.sectionId !== undefined && input.sectionId !== null) {
    if (await tx.section.count({ where: { id: input.sectionId } }) === 0) problems.push({ in: 'body', pointer: '/sectionId', message: `no section has id ${input.sectionId}` })
  }
  if (input.tagIds !== undefined) {
    const known = new Set((await tx.tag.findMany({ where: { id: { in: input.tagIds } }, select: { id: true } })).map((tag) => tag.id))
    input.tagIds.forEach((tagId, index) => {
      if (!known.has(tagId)) problems.push({ in: 'body', pointer: `/tagIds/${index}`, message: `no tag has id ${tagId}` })
    })
  }
  if (body !== undefined) {
    const known = new Set((await tx.image.findMany({ where: { id: { in: body.imageIds } }, select: { id: true } })).map((image) => image.id))
    body.blocks.forEach((block, index) => {
      if (block.type === 'image' && !known.has(block.imageId)) problems.push({ in: 'body', pointer: `/body/${index}/imageId`, message: `no image has id ${block.imageId}` })
    })
  }
  if (problems.length > 0) {
    throw withFieldErrors(errors.invalidReference(problems.map((problem) => `body${problem.pointer} ${problem.message}`).join('; ')) as CatalogueError, problems)
  }
}

const FUTURE_TOLERANCE_MS = 60_000

/** Which status changes are allowed; staying put is always allowed. */
const transitions: Record<ArticleStatus, ArticleStatus[]> = {
  draft: ['scheduled', 'published', 'archived'],
  scheduled: ['draft', 'published'],
  published: ['draft', 'archived'],
  archived: ['draft', 'published'],
  // Only POST /articles/{id}/kill and /unkill move an article in and out of "killed".
  killed: []
}

/** A killed article stays as it is until an admin un-kills it: no edit brings it back to the public. */
export function killedError (id: string): CatalogueError {
  return errors.articleKilled(`Article ${id} was killed: it cannot be edited, published or corrected. An admin can un-kill it (POST /articles/${id}/unkill), which makes it a draft again`) as CatalogueError
}

function assertTransition (from: ArticleStatus, to: ArticleStatus): void {
  if (from === to || transitions[from].includes(to)) return
  if (to === 'killed') {
    throw withFieldErrors(errors.invalidTransition('An article is killed with POST /articles/{id}/kill and a reason, not by setting its status') as CatalogueError,
      [{ in: 'body', pointer: '/status', message: 'use POST /articles/{id}/kill' }])
  }
  throw withFieldErrors(errors.invalidTransition(`An article cannot go from ${from} to ${to}; from ${from} it can become ${transitions[from].join(', ')}`) as CatalogueError,
    [{ in: 'body', pointer: '/status', message: `cannot change from ${from} to ${to}` }])
}

/**
 * The publication time a status change leads to. A time must lie ahead when an article enters
 * "scheduled" or is given a new time while scheduled; an overdue scheduled article can still be
 * edited (the scheduler is about to publish it). Publishing a scheduled article early means now.
 */
function publicationFields (from: ArticleStatus | null, status: ArticleStatus, requested: string | null | undefined, current: Date | null): { publishedAt: Date | null } {
  const publishedAt = requested === undefined ? current : (requested === null ? null : new Date(requested))
  const pointer = { in: 'body' as const, pointer: '/publishedAt' }
  if (status === 'scheduled') {
    const mustBeAhead = from !== 'scheduled' || requested !== undefined
    if (publishedAt === null || (mustBeAhead && publishedAt.getTime() <= Date.now())) {
      throw withFieldErrors(errors.validationFailed('A scheduled article needs a publishedAt in the future: the time it goes live') as CatalogueError,
        [{ ...pointer, message: 'must be a future time for a scheduled article' }])
    }
    return { publishedAt }
  }
  if (status !== 'published') return { publishedAt }
  if (from === 'scheduled' && requested === undefined && publishedAt !== null && publishedAt.getTime() > Date.now()) return { publishedAt: new Date() }
  if (publishedAt !== null && publishedAt.getTime() > Date.now() + FUTURE_TOLERANCE_MS) {
    throw withFieldErrors(errors.publishedAtInFuture('A published article cannot carry a future publishedAt; schedule it instead ("status": "scheduled")') as CatalogueError,
      [{ ...pointer, message: 'is in the future' }])
  }
  return { publishedAt: publishedAt ?? new Date() }
}

/** The webhook event a change of status (or a plain edit) amounts to. */
function eventOf (from: ArticleStatus, to: ArticleStatus): EventName {
  if (to === 'published' && from !== 'published') return 'article.published'
  if (from === 'published' && to !== 'published') return 'article.unpublished'
  return 'article.updated'
}

export function eventData (article: Pick<Article, 'id' | 'slug' | 'headline' | 'status' | 'publishedAt' | 'version' | 'embargo'>): Record<string, unknown> & { id: string } {
  return { id: article.id, slug: article.slug, headline: article.headline, status: article.status, publishedAt: article.publishedAt, version: article.version, embargoedUntil: article.embargo?.until ?? null }
}

/**
 * Writers work on their own drafts only: an article is theirs while it carries their byline, and
 * they can neither publish it, nor give it away, nor touch anyone else's.
 */
async function assertWriterMay (tx: Transaction, actor: Actor, patch: ArticlePatch, current: { id: string, status: ArticleStatus } | null): Promise<void> {
  if (actor.role !== 'writer') return
  const refuse = (why: string): never => { throw errors.forbidden(`A writer's key ${why}; an editor can do it`) }
  if (actor.authorId === null) refuse('edits the drafts of its author, and this key no longer has one')
  if (patch.status !== undefined && patch.status !== 'draft') refuse(`cannot make an article ${patch.status}`)
  if (patch.bylines !== undefined && !patch.bylines.some((byline) => byline.authorId === actor.authorId)) refuse('cannot remove its own byline from an article')
  if (current === null) return
  if (current.status !== 'draft') refuse(`edits drafts only, and this article is ${current.status}`)
  if (await tx.byline.count({ where: { articleId: current.id, authorId: actor.authorId ?? '' } }) === 0) refuse('edits only articles that carry its author\'s byline')
}

/** A slug is free unless another article uses it now or used it once (former slugs stay reserved). */
export async function assertSlugFree (tx: Transaction, slug: string, exceptId?: string): Promise<void> {
  const holder = await tx.article.findUnique({ where: { slug }, select: { id: true } })
  const former = await tx.articleFormerSlug.findUnique({ where: { slug }, select: { articleId: true } })
  const takenBy = holder?.id ?? former?.articleId
  if (takenBy !== undefined && takenBy !== exceptId) {
    const why = holder !== null ? 'is already used by another article' : 'once belonged to another article and still redirects to it'
    throw withFieldErrors(errors.slugTaken(`The slug "${slug}" ${why}`) as CatalogueError, [{ in: 'body', pointer: '/slug', message: 'is already taken' }])
  }
}

export async function readById (client: Client, id: string): Promise<Article> {
  const record = await client.article.findUnique({ where: { id }, select: articleSelect })
  if (record === null) throw errors.articleNotFound(`id ${id}`)
  return toArticle(record)
}

/** An author page (the author with their latest published articles), or null when the author is gone. */
export async function readAuthorPage (client: Client, authorId: string): Promise<(Author & { latestArticles: ArticleSummary[] }) | null> {
  const author = await client.author.findUnique({ where: { id: authorId }, select: { id: true } })
  if (author === null) return null
  return { ...await readAuthor(client, authorId), latestArticles: await readLatestByAuthor(client, authorId) }
}

/** The published ones among these articles, as the public sees them (for the read model). */
export async function readPublishedMany (client: Client, ids: string[]): Promise<Article[]> {
  const records = await client.article.findMany({ where: { id: { in: ids }, ...publicArticleWhere }, select: articleSelect })
  return records.map(toArticle)
}

/** What a reader may see: staff see every status, the public only what is published and not under embargo. */
const visibleTo = (viewer: Actor | null): Prisma.ArticleWhereInput => viewer === null ? publicArticleWhere : {}

/** The public's answer for a killed article: 410 Gone, saying nothing of what it was. */
function gone (): CatalogueError {
  return errors.articleGone('This article has been withdrawn and is no longer available') as CatalogueError
}

/**
 * Throws 410 when the article a public read missed was killed after the public had read it (a killed
 * article is gone, not missing); one never public stays 404, so the answer reveals nothing.
 */
async function assertNotKilled (db: Client, where: Prisma.ArticleWhereInput): Promise<void> {
  if (await db.article.count({ where: { ...where, status: 'killed', kill: { is: { wasPublic: true } } } }) > 0) throw gone()
}

export async function readOne (db: Database, id: string, viewer: Actor | null): Promise<Article> {
  const record = await db.article.findFirst({ where: { id, ...visibleTo(viewer) }, select: articleSelect })
  if (record === null && viewer === null) await assertNotKilled(db, { id })
  // Not 403: the public must not learn that an unpublished article exists.
  if (record === null) throw errors.articleNotFound(`id ${id}`)
  return toArticle(record)
}

/** Any status but killed, for a holder of a valid preview link (a partner reading an embargoed story). */
export async function readOneForPreview (db: Database, id: string): Promise<Article> {
  const article = await readById(db, id)
  if (article.status === 'killed') throw gone()
  return article
}

/**
 * For a public read by slug that found nothing: 410 when the slug (current or former) is a killed
 * article's that the public had read (and that matches `also`). It is gone, and the answer says not
 * where it moved.
 */
export async function assertSlugNotKilled (db: Client, slug: string, also: Prisma.ArticleWhereInput = {}): Promise<void> {
  await assertNotKilled(db, { ...also, OR: [{ slug }, { formerSlugs: { some: { slug } } }] })
}

export type SlugLookup = { article: Article } | { movedTo: string }

/** By slug; a former slug answers with the slug the article moved to (if the reader may see it). */
export async function readOneBySlug (db: Database, slug: string, viewer: Actor | null): Promise<SlugLookup> {
  const record = await db.article.findFirst({ where: { slug, ...visibleTo(viewer) }, select: articleSelect })
  if (record !== null) return { article: toArticle(record) }
  if (viewer === null) await assertSlugNotKilled(db, slug)
  const former = await db.articleFormerSlug.findFirst({ where: { slug, article: visibleTo(viewer) }, select: { article: { select: { slug: true } } } })
  if (former !== null) return { movedTo: former.article.slug }
  throw errors.articleNotFound(`slug ${slug}`)
}

type SortField = 'publishedAt' | 'updatedAt' | 'createdAt'
type Direction = 'asc' | 'desc'

/**
 * `nulls` matters only where publishedAt can be missing (drafts): published and scheduled articles
 * always have one, and there the plain order lets the (status, publishedAt, id) index do the sorting.
 */
function orderFor (field: SortField, direction: Direction, nulls: 'first' | 'last' | null): Prisma.ArticleOrderByWithRelationInput[] {
  const primary: Prisma.ArticleOrderByWithRelationInput = field === 'publishedAt' && nulls !== null
    ? { publishedAt: { sort: direction, nulls } }
    : { [field]: direction }
  return [primary, { id: direction }]
}

/**
 * A keyset cursor: the sort it belongs to, which way it points, and the sort value and id of the
 * item it points from. Opaque to clients (base64url JSON), checked like any input.
 */
interface Cursor { sort: string, towards: 'next' | 'prev', value: string | null, id: string }

export function encodeCursor (cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.sort, cursor.towards, cursor.value, cursor.id])).toString('base64url')
}

export function decodeCursor (text: string, sort: string): Cursor {
  const invalid = (message: string): CatalogueError => withFieldErrors(errors.validationFailed(`cursor ${message}`) as CatalogueError, [{ in: 'query', pointer: '/cursor', message }])
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'))
  } catch {
    throw invalid('is not a cursor this API gave out')
  }
  if (!Array.isArray(parsed) || parsed.length !== 4) throw invalid('is not a cursor this API gave out')
  const [cursorSort, towards, value, id] = parsed as unknown[]
  if (typeof cursorSort !== 'string' || (towards !== 'next' && towards !== 'prev') || typeof id !== 'string' || !/^[0-9a-f-]{36}$/.test(id) ||
    (value !== null && (typeof value !== 'string' || !isStorableDateTime(value)))) throw invalid('is not a cursor this API gave out')
  if (cursorSort !== sort) throw invalid(`belongs to sort=${cursorSort}, not sort=${sort}`)
  return { sort: cursorSort, towards, value: value as string | null, id }
}

/** Rows strictly after (value, id) in the given order. */
function afterWhere (field: SortField, direction: Direction, nulls: 'first' | 'last' | null, value: string | null, id: string): Prisma.ArticleWhereInput {
  const beyond = direction === 'desc' ? 'lt' : 'gt'
  if (value === null) {
    // Only publishedAt is ever null (drafts): nulls sit together at one end, ordered by id.
    const tied = { [field]: null, id: { [beyond]: id } }
    return nulls === 'last' ? tied : { OR: [tied, { [field]: { not: null } }] }
  }
  const at = new Date(value)
  if (nulls === 'last' && field === 'publishedAt') {
    return { OR: [{ publishedAt: { [beyond]: at } }, { publishedAt: at, id: { [beyond]: id } }, { publishedAt: null }] }
  }
  // "At or beyond the cursor's time, and not the rows already shown at that time": the first half
  // is a range of the (status, time, id) index, so reading starts at the cursor and stops after one
  // page, however deep (an OR alone made the database gather and sort everything beyond it).
  return {
    AND: [
      { [field]: { [beyond === 'lt' ? 'lte' : 'gte']: at } },
      { OR: [{ [field]: { [beyond]: at } }, { id: { [beyond]: id } }] }
    ]
  }
}

/** A page reached by cursor has no known number: its `page` is null. */
export interface ArticlePage extends Omit<PageResult<ArticleSummary>, 'page'> { page: number | null, nextCursor: string | null, prevCursor: string | null }

/**
 * Totals of public lists, remembered per content generation: counting 100,000 published articles
 * costs more than reading a page of them, and the count only changes with a write (which moves the
 * generation). Every page of a list, by number or by cursor, shares one count.
 */
export interface RememberedTotals { generation: bigint, totals: LRUCache<string, number> }

export async function readMany (db: Database, query: ArticleListQuery, viewer: Actor | null, remembered?: RememberedTotals): Promise<ArticlePage> {
  const where: Prisma.ArticleWhereInput = {}
  const status = query.status ?? 'published'
  if (status !== 'published' && viewer === null) {
    throw withFieldErrors(errors.authenticationRequired(`Only published articles are public; listing status=${status} needs a staff key`) as CatalogueError,
      [{ in: 'query', pointer: '/status', message: 'needs a staff key unless it is "published"' }])
  }
  if (query.cursor !== undefined && query.page > 1) {
    throw withFieldErrors(errors.validationFailed('Use either page or cursor, not both') as CatalogueError, [{ in: 'query', pointer: '/page', message: 'cannot be combined with cursor' }])
  }
  if (status !== 'any') where.status = status
  if (viewer === null) where.embargo = { is: null }
  if (query.author !== undefined) where.bylines = { some: { author: { slug: query.author } } }
  if (query.authorId !== undefined) where.AND = [{ bylines: { some: { authorId: query.authorId } } }]
  if (query.section !== undefined) where.section = { slug: query.section }
  if (query.tag !== undefined) where.tags = { some: { tag: { slug: query.tag } } }
  if (query.publishedAfter !== undefined || query.publishedBefore !== undefined) {
    where.publishedAt = {
      ...(query.publishedAfter !== undefined ? { gt: new Date(query.publishedAfter) } : {}),
      ...(query.publishedBefore !== undefined ? { lt: new Date(query.publishedBefore) } : {})
    }
  }
  if (query.updatedSince !== undefined) where.updatedAt = { gte: new Date(query.updatedSince) }

  const sort = query.sort ?? '-publishedAt'
  const field = sort.replace(/^-/, '') as SortField
  const direction: Direction = sort.startsWith('-') ? 'desc' : 'asc'
  const cursor = query.cursor === undefined ? null : decodeCursor(query.cursor, sort)
  // Going back, read the other way from the cursor, then turn the rows round.
  const backwards = cursor?.towards === 'prev'
  const readDirection: Direction = backwards ? (direction === 'desc' ? 'asc' : 'desc') : direction
  const nulls = field !== 'publishedAt' || status === 'published' || status === 'scheduled' ? null : backwards ? 'first' : 'last'
  const keyset = cursor === null ? where : { AND: [where, afterWhere(field, readDirection, nulls, cursor.value, cursor.id)] }
  const pageQuery = db.article.findMany({ where: keyset, orderBy: orderFor(field, readDirection, nulls), skip: cursor === null ? (query.page - 1) * query.limit : 0, take: query.limit + 1, select: articleSummarySelect })
  const totalKey = remembered === undefined ? '' : `${remembered.generation}:${JSON.stringify(where)}`
  const known = remembered?.totals.get(totalKey)
  const [records, total] = known !== undefined ? [await pageQuery, known] : await db.$transaction([pageQuery, db.article.count({ where })])
  if (known === undefined) remembered?.totals.set(totalKey, total)
  const more = records.length > query.limit
  const rows = records.slice(0, query.limit)
  if (backwards) rows.reverse()
  const cursorAt = (row: SummaryRecord, towards: 'next' | 'prev'): string => encodeCursor({ sort, towards, value: (row[field] as Date | null)?.toISOString() ?? null, id: row.id })
  const hasNext = backwards ? true : more
  const hasPrev = cursor === null ? query.page > 1 : (backwards ? more : true)
  const first = rows[0]
  const last = rows.at(-1)
  return {
    ...pageResult(rows.map(toArticleSummary), total, query.page, query.limit),
    page: cursor === null ? query.page : null,
    nextCursor: hasNext && last !== undefined ? cursorAt(last, 'next') : null,
    prevCursor: hasPrev && first !== undefined ? cursorAt(first, 'prev') : null
  }
}

/** An author's most recent published articles, for the author page. */
export async function readLatestByAuthor (db: Client, authorId: string, take = 10): Promise<ArticleSummary[]> {
  const records = await db.article.findMany({
    where: { ...publicArticleWhere, bylines: { some: { authorId } } },
    orderBy: orderFor('publishedAt', 'desc', null),
    take,
    select: articleSummarySelect
  })
  return records.map(toArticleSummary)
}

export async function createOne (db: Database, submitted: ArticleCreate & FixedId, actor: Actor, reservedSlugs = defaultReservedSlugs): Promise<Article> {
  // A writer's draft carries the writer's byline unless the bylines are spelled out.
  const input = actor.role === 'writer' && submitted.bylines === undefined && actor.authorId !== null
    ? { ...submitted, bylines: [{ authorId: actor.authorId }] }
    : submitted
  const body = prepareBody(input.body ?? []) as PreparedBody
  const status = input.status ?? 'draft'
  const publication = publicationFields(null, status, input.publishedAt, null)
  return await retryOnGeneratedSlugConflict(input.slug === undefined, async (conflicts) => await db.$transaction(async (tx) => {
    await assertWriterMay(tx, actor, input, null)
    assertSlugNotReserved(input.slug, reservedSlugs)
    if (input.slug !== undefined) await assertSlugFree(tx, input.slug)
    const slug = input.slug ?? await freeSlug(tx, input.headline, conflicts, reservedSlugs)
    await assertReferencesExist(tx, input, body)
    const created = await tx.article.create({
      data: {
        id: input.id,
        slug,
        headline: input.headline,
        dek: input.dek ?? null,
        kicker: input.kicker ?? null,
        body: body.blocks as unknown as Prisma.InputJsonValue,
        bodyText: body.text,
        wordCount: body.words,
        status,
        ...publication,
        leadImageId: input.leadImageId ?? null,
        sectionId: input.sectionId ?? null,
        tags: { create: (input.tagIds ?? []).map((tagId, position) => ({ tagId, position })) },
        metaTitle: input.metaTitle ?? null,
        metaDescription: input.metaDescription ?? null,
        canonicalUrl: input.canonicalUrl ?? null,
        bylines: { create: (bylinesOf(input) ?? []).map(({ authorId, role, position }) => ({ authorId, role, position })) },
        bodyImages: { create: body.imageIds.map((imageId) => ({ imageId })) }
      },
      select: { id: true }
    })
    const article = await readById(tx, created.id)
    await recordRevision(tx, article, actor)
    await assertPublishable(tx, article, null)
    // One change; subscribers to publication hear of an article created as published too.
    const event: EventName[] = status === 'published' ? ['article.created', 'article.published'] : ['article.created']
    await commitChange(tx, { actor, objectType: 'article', objectId: article.id, action: 'article.created', event, data: eventData(article), version: article.version, article })
    return article
  }))
}

/** PUT: the input replaces the article; optional fields left out are cleared (the slug is kept). */
export async function replaceOne (db: Database, id: string, input: ArticleCreate, actor: Actor, ifMatch?: string, reservedSlugs = defaultReservedSlugs): Promise<Article> {
  // A writer's replacement keeps the writer's byline unless the bylines are spelled out.
  const bylines = actor.role === 'writer' && actor.authorId !== null ? [{ authorId: actor.authorId }] : []
  const cleared: ArticlePatch = { dek: null, kicker: null, body: [], leadImageId: null, sectionId: null, tagIds: [], bylines, status: 'draft', metaTitle: null, metaDescription: null, canonicalUrl: null }
  return await updateOne(db, id, { ...cleared, ...input }, actor, ifMatch, reservedSlugs)
}

/**
 * Locks the article row for the rest of the transaction and returns its state as of the lock, so
 * concurrent edits queue up here instead of racing (PostgreSQL re-reads the committed row).
 */
export interface LockedArticle { slug: string, status: ArticleStatus, publishedAt: Date | null, version: number, embargo: { until: Date } | null }

export async function lockForUpdate (tx: Transaction, id: string): Promise<LockedArticle> {
  const { count } = await tx.article.updateMany({ where: { id }, data: { updatedAt: new Date() } })
  if (count === 0) throw errors.articleNotFound(`id ${id}`)
  const current = await tx.article.findUnique({ where: { id }, select: { slug: true, status: true, publishedAt: true, version: true, embargo: { select: { until: true } } } })
  if (current === null) throw errors.articleNotFound(`id ${id}`)
  return { ...current, status: current.status as ArticleStatus }
}

export async function updateOne (db: Database, id: string, patch: ArticlePatch, actor: Actor, ifMatch?: string, reservedSlugs = defaultReservedSlugs): Promise<Article> {
  const body = prepareBody(patch.body)
  return await db.$transaction(async (tx) => {
    const current = await lockForUpdate(tx, id)
    await assertLeaseAllows(tx, id, actor)
    assertVersion(ifMatch, current.version)
    return await applyEdit(tx, id, current, patch, body, actor, reservedSlugs)
  })
}

export interface EditOptions {
  /** The audit action, when it is not the one the status change implies. */
  action?: string
  /** Gate the edit as a publication (sign-offs, preflight) even though the article stays published. */
  gateAsPublication?: boolean
}

/**
 * The edit of an article locked by lockForUpdate (leases and If-Match already checked), with its
 * revision and its one change: shared by PUT/PATCH and the publication of a pending revision.
 */
export async function applyEdit (tx: Transaction, id: string, current: LockedArticle, patch: ArticlePatch, body: PreparedBody | undefined, actor: Actor, reservedSlugs: ReadonlySet<string>, options: EditOptions = {}): Promise<Article> {
  const bylines = bylinesOf(patch)
  if (current.status === 'killed') throw killedError(id)
  await assertWriterMay(tx, actor, patch, { id, status: current.status })
  const status = patch.status ?? current.status
  assertTransition(current.status, status)
  const slug = patch.slug ?? current.slug
  if (slug !== current.slug) {
    // A slug an article already has stays usable: only a new one is checked against the list.
    assertSlugNotReserved(slug, reservedSlugs)
    await assertSlugFree(tx, slug, id)
    // A URL readers have seen (published, or archived since) keeps working: the old slug redirects,
    // and stays reserved for this article.
    if (current.status === 'published' || current.status === 'archived') await tx.articleFormerSlug.upsert({ where: { slug: current.slug }, create: { slug: current.slug, articleId: id }, update: {} })
    await tx.articleFormerSlug.deleteMany({ where: { slug, articleId: id } })
  }
  await assertReferencesExist(tx, patch, body)
  const data: Prisma.ArticleUncheckedUpdateInput = {
    slug,
    status,
    ...publicationFields(current.status, status, patch.publishedAt, current.publishedAt),
    version: { increment: 1 },
    updatedAt: new Date()
  }
  for (const field of ['headline', 'dek', 'kicker', 'leadImageId', 'sectionId', 'metaTitle', 'metaDescription', 'canonicalUrl'] as const) {
    if (patch[field] !== undefined) (data as Record<string, unknown>)[field] = patch[field]
  }
  if (body !== undefined) {
    data.body = body.blocks as unknown as Prisma.InputJsonValue
    data.bodyText = body.text
    data.wordCount = body.words
    await tx.articleBodyImage.deleteMany({ where: { articleId: id } })
    await tx.articleBodyImage.createMany({ data: body.imageIds.map((imageId) => ({ articleId: id, imageId })) })
  }
  if (patch.tagIds !== undefined) {
    await tx.articleTag.deleteMany({ where: { articleId: id } })
    await tx.articleTag.createMany({ data: patch.tagIds.map((tagId, position) => ({ articleId: id, tagId, position })) })
  }
  if (bylines !== undefined) {
    await tx.byline.deleteMany({ where: { articleId: id } })
    await tx.byline.createMany({ data: bylines.map((byline) => ({ ...byline, articleId: id })) })
  }
  await tx.article.update({ where: { id }, data })
  const article = await readById(tx, id)
  await recordRevision(tx, article, actor)
  // A published article under embargo is not live yet: its edits are checked as a publication is.
  await assertPublishable(tx, article, current.embargo === null && options.gateAsPublication !== true ? current.status : null)
  // Webhooks hear "updated" for scheduling and archiving; the audit trail names them. Under an
  // embargo nothing goes live or comes down: subscribers hear "published" when it lifts.
  const statusEvent = eventOf(current.status, status)
  const event = current.embargo === null ? statusEvent : 'article.updated'
  const action = options.action ?? (status !== current.status && (status === 'scheduled' || status === 'archived') ? `article.${status}` : statusEvent)
  await commitChange(tx, { actor, objectType: 'article', objectId: id, action, event, data: eventData(article), version: article.version, article })
  return article
}

export async function deleteOne (db: Database, id: string, actor: Actor, ifMatch?: string): Promise<void> {
  await db.$transaction(async (tx) => {
    const current = await lockForUpdate(tx, id)
    await assertLeaseAllows(tx, id, actor)
    assertVersion(ifMatch, current.version)
    // Deleting would turn its 410 into a 404 and drop the reason: an admin decision.
    if (current.status === 'killed' && actor.role !== 'admin') throw killedError(id)
    await tx.article.delete({ where: { id } })
    await commitChange(tx, { actor, objectType: 'article', objectId: id, action: 'article.deleted', event: 'article.deleted', data: { id, slug: current.slug } })
  })
}

/** Attaches a dated correction or update note; it shows with the article from then on. */
export async function addCorrection (db: Database, id: string, input: CorrectionCreate, actor: Actor, ifMatch?: string): Promise<{ article: Article, correction: Correction }> {
  return await db.$transaction(async (tx) => {
    const current = await lockForUpdate(tx, id)
    await assertLeaseAllows(tx, id, actor)
    assertVersion(ifMatch, current.version)
    if (current.status === 'killed') throw killedError(id)
    if (current.status !== 'published' && current.status !== 'archived') {
      throw errors.invalidTransition(`Corrections are for articles readers have seen; this one is ${current.status}: edit it instead`) as CatalogueError
    }
    const correction = await tx.articleCorrection.create({ data: { articleId: id, kind: input.kind, text: input.text }, select: { id: true, kind: true, text: true, createdAt: true } })
    await tx.article.update({ where: { id }, data: { version: { increment: 1 }, updatedAt: new Date() } })
    const article = await readById(tx, id)
    await recordRevision(tx, article, actor)
    await commitChange(tx, { actor, objectType: 'article', objectId: id, action: 'article.updated', event: 'article.updated', data: eventData(article), version: article.version, article })
    return { article, correction: correction as unknown as Correction }
  })
}

/** Publishes scheduled articles whose time has come; each exactly once, whichever instance runs it. */
export async function publishDue (db: Database, now = new Date(), actor: Actor = systemActor('scheduler')): Promise<string[]> {
  const due = await db.article.findMany({ where: { status: 'scheduled', publishedAt: { lte: now } }, select: { id: true }, orderBy: { publishedAt: 'asc' }, take: 100 })
  const published: string[] = []
  for (const { id } of due) {
    const done = await db.$transaction(async (tx) => {
      // The status in the WHERE clause makes the claim atomic: a second instance finds nothing to change.
      const { count } = await tx.article.updateMany({ where: { id, status: 'scheduled', publishedAt: { lte: now } }, data: { status: 'published', version: { increment: 1 }, updatedAt: new Date() } })
      if (count === 0) return false
      const article = await readById(tx, id)
      await recordRevision(tx, article, actor)
      // An embargoed article goes live when its embargo lifts (embargo.ts), and is announced then.
      const event = article.embargo === null ? 'article.published' : 'article.updated'
      await commitChange(tx, { actor, objectType: 'article', objectId: id, action: 'article.published', event, data: eventData(article), version: article.version, article })
      return true
    })
    if (done) published.push(id)
  }
  return published
}

