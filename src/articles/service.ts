import slugify from 'slugify'
import { Prisma, type Database } from '../db/client.ts'
import { errors, withFieldErrors, type CatalogueError, type FieldError } from '../errors.ts'
import { retryOnGeneratedSlugConflict, slugTail } from '../db/errors.ts'
import { pageResult, type PageResult } from '../common-schemas.ts'
import { authorSummarySelect } from '../authors/service.ts'
import { bodyToHtml, bodyToText, countWords, emptyInlinePointers, imageIdsOf, readingTimeMinutes, sanitizeBody, type BodyBlock, type RenderableImage } from './body.ts'
import type { Article, ArticleCreate, ArticleListQuery, ArticlePatch, ArticleSummary } from './schemas.ts'

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
  bylines: bylinesInclude
} as const satisfies Prisma.ArticleSelect

const articleSelect = {
  ...articleSummarySelect,
  metaTitle: true,
  metaDescription: true,
  canonicalUrl: true,
  body: true,
  bodyText: true,
  bodyImages: { select: { image: true } }
} as const satisfies Prisma.ArticleSelect

type SummaryRecord = Prisma.ArticleGetPayload<{ select: typeof articleSummarySelect }>
type ArticleRecord = Prisma.ArticleGetPayload<{ select: typeof articleSelect }>

export function toArticleSummary (record: SummaryRecord): ArticleSummary {
  const { wordCount, ...fields } = record
  return { ...fields, readingTimeMinutes: readingTimeMinutes(wordCount) } as unknown as ArticleSummary
}

function toArticle (record: ArticleRecord): Article {
  const { bodyImages, body, ...fields } = record
  const images = new Map<string, RenderableImage>()
  for (const { image } of bodyImages) images.set(image.id, { ...image, url: image.url ?? '' })
  const blocks = body as unknown as BodyBlock[]
  return {
    ...toArticleSummary(fields),
    metaTitle: fields.metaTitle,
    metaDescription: fields.metaDescription,
    canonicalUrl: fields.canonicalUrl,
    body: blocks,
    bodyHtml: bodyToHtml(blocks, images),
    bodyText: fields.bodyText,
    wordCount: fields.wordCount
  }
}

/** The ETag of a stored version. */
export function etagOf (version: number): string {
  return `"${version}"`
}

/** True when an If-Match header (RFC 9110: strong comparison) admits the stored version. */
export function ifMatchAdmits (header: string | undefined, version: number): boolean {
  if (header === undefined) return true
  const candidates = header.split(',').map((tag) => tag.trim())
  return candidates.includes('*') || candidates.includes(etagOf(version))
}

function assertVersion (ifMatch: string | undefined, version: number): void {
  if (!ifMatchAdmits(ifMatch, version)) {
    const error = errors.versionMismatch(`The article has changed since you read it: it is now at version ${version}. Read it again, reapply your change and send If-Match: ${etagOf(version)}.`) as CatalogueError
    error.currentVersion = version
    throw error
  }
}

function slugFromText (text: string): string {
  const base = slugify(text, { lower: true, strict: true, trim: true }).replace(/-+/g, '-').replace(/^-|-$/g, '')
  const cut = base.length <= 80 ? base : base.slice(0, 80).replace(/-[^-]*$/, '')
  return cut === '' ? 'article' : cut
}

async function freeSlug (tx: Transaction, text: string, conflicts: number): Promise<string> {
  const base = conflicts < 2 ? slugFromText(text) : `${slugFromText(text)}-${slugTail()}`
  const taken = new Set((await tx.article.findMany({ where: { slug: { startsWith: base } }, select: { slug: true } })).map((row) => row.slug))
  if (!taken.has(base)) return base
  for (let suffix = 2; ; suffix++) if (!taken.has(`${base}-${suffix}`)) return `${base}-${suffix}`
}

interface Resolved {
  bylines: Array<{ authorId: string, role: string, position: number }>
  body?: { blocks: BodyBlock[], text: string, words: number, imageIds: string[] }
}

/** Checks every id the input points at, so a bad reference is a 400 naming the field, not a 500. */
async function resolveReferences (tx: Transaction, input: ArticlePatch): Promise<Resolved> {
  const problems: FieldError[] = []
  const resolved: Resolved = { bylines: [] }
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
    resolved.bylines = input.bylines.map((byline, position) => ({ authorId: byline.authorId, role: byline.role ?? 'reporter', position }))
  }
  if (input.body !== undefined) {
    const blocks = sanitizeBody(input.body)
    for (const pointer of emptyInlinePointers(blocks)) problems.push({ in: 'body', pointer, message: 'has no text once unsafe markup is removed' })
    const imageIds = imageIdsOf(blocks)
    const known = new Set((await tx.image.findMany({ where: { id: { in: imageIds } }, select: { id: true } })).map((image) => image.id))
    blocks.forEach((block, index) => {
      if (block.type === 'image' && !known.has(block.imageId)) problems.push({ in: 'body', pointer: `/body/${index}/imageId`, message: `no image has id ${block.imageId}` })
    })
    const text = bodyToText(blocks)
    resolved.body = { blocks, text, words: countWords(text), imageIds }
  }
  if (problems.length > 0) {
    throw withFieldErrors(errors.invalidReference(problems.map((problem) => `body${problem.pointer} ${problem.message}`).join('; ')) as CatalogueError, problems)
  }
  return resolved
}

const FUTURE_TOLERANCE_MS = 60_000

function publicationFields (status: string, requested: string | null | undefined, current: Date | null): { publishedAt: Date | null } {
  const publishedAt = requested === undefined ? current : (requested === null ? null : new Date(requested))
  if (status !== 'published') return { publishedAt }
  if (publishedAt !== null && publishedAt.getTime() > Date.now() + FUTURE_TOLERANCE_MS) {
    throw withFieldErrors(errors.publishedAtInFuture('A published article cannot carry a future publishedAt; keep it a draft until then') as CatalogueError,
      [{ in: 'body', pointer: '/publishedAt', message: 'is in the future' }])
  }
  return { publishedAt: publishedAt ?? new Date() }
}

async function assertSlugFree (tx: Transaction, slug: string, exceptId?: string): Promise<void> {
  const holder = await tx.article.findUnique({ where: { slug }, select: { id: true } })
  if (holder !== null && holder.id !== exceptId) {
    throw withFieldErrors(errors.slugTaken(`The slug "${slug}" is already used by another article`) as CatalogueError, [{ in: 'body', pointer: '/slug', message: 'is already taken' }])
  }
}

async function readById (client: Client, id: string): Promise<Article> {
  const record = await client.article.findUnique({ where: { id }, select: articleSelect })
  if (record === null) throw errors.articleNotFound(`id ${id}`)
  return toArticle(record)
}

export async function readOne (db: Database, id: string): Promise<Article> {
  return await readById(db, id)
}

export async function readOneBySlug (db: Database, slug: string): Promise<Article> {
  const record = await db.article.findUnique({ where: { slug }, select: articleSelect })
  if (record === null) throw errors.articleNotFound(`slug ${slug}`)
  return toArticle(record)
}

function orderOf (sort: string): Prisma.ArticleOrderByWithRelationInput[] {
  const direction = sort.startsWith('-') ? 'desc' : 'asc'
  const field = sort.replace(/^-/, '') as 'publishedAt' | 'updatedAt' | 'createdAt'
  const primary: Prisma.ArticleOrderByWithRelationInput = field === 'publishedAt'
    ? { publishedAt: { sort: direction, nulls: 'last' } }
    : { [field]: direction }
  return [primary, { id: direction }]
}

export async function readMany (db: Database, query: ArticleListQuery): Promise<PageResult<ArticleSummary>> {
  const where: Prisma.ArticleWhereInput = {}
  const status = query.status ?? 'published'
  if (status !== 'any') where.status = status
  if (query.author !== undefined) where.bylines = { some: { author: { slug: query.author } } }
  if (query.authorId !== undefined) where.AND = [{ bylines: { some: { authorId: query.authorId } } }]
  if (query.publishedAfter !== undefined || query.publishedBefore !== undefined) {
    where.publishedAt = {
      ...(query.publishedAfter !== undefined ? { gt: new Date(query.publishedAfter) } : {}),
      ...(query.publishedBefore !== undefined ? { lt: new Date(query.publishedBefore) } : {})
    }
  }
  const [records, total] = await db.$transaction([
    db.article.findMany({ where, orderBy: orderOf(query.sort ?? '-publishedAt'), skip: (query.page - 1) * query.limit, take: query.limit, select: articleSummarySelect }),
    db.article.count({ where })
  ])
  return pageResult(records.map(toArticleSummary), total, query.page, query.limit)
}

/** An author's most recent published articles, for the author page. */
export async function readLatestByAuthor (db: Database, authorId: string, take = 10): Promise<ArticleSummary[]> {
  const records = await db.article.findMany({
    where: { status: 'published', bylines: { some: { authorId } } },
    orderBy: orderOf('-publishedAt'),
    take,
    select: articleSummarySelect
  })
  return records.map(toArticleSummary)
}

export async function createOne (db: Database, input: ArticleCreate): Promise<Article> {
  return await retryOnGeneratedSlugConflict(input.slug === undefined, async (conflicts) => await db.$transaction(async (tx) => {
    if (input.slug !== undefined) await assertSlugFree(tx, input.slug)
    const slug = input.slug ?? await freeSlug(tx, input.headline, conflicts)
    const resolved = await resolveReferences(tx, { ...input, body: input.body ?? [] })
    const body = resolved.body as NonNullable<Resolved['body']>
    const status = input.status ?? 'draft'
    const created = await tx.article.create({
      data: {
        slug,
        headline: input.headline,
        dek: input.dek ?? null,
        kicker: input.kicker ?? null,
        body: body.blocks as unknown as Prisma.InputJsonValue,
        bodyText: body.text,
        wordCount: body.words,
        status,
        ...publicationFields(status, input.publishedAt, null),
        leadImageId: input.leadImageId ?? null,
        metaTitle: input.metaTitle ?? null,
        metaDescription: input.metaDescription ?? null,
        canonicalUrl: input.canonicalUrl ?? null,
        bylines: { create: resolved.bylines.map(({ authorId, role, position }) => ({ authorId, role, position })) },
        bodyImages: { create: body.imageIds.map((imageId) => ({ imageId })) }
      },
      select: { id: true }
    })
    return await readById(tx, created.id)
  }))
}

/** PUT: the input replaces the article; optional fields left out are cleared (the slug is kept). */
export async function replaceOne (db: Database, id: string, input: ArticleCreate, ifMatch?: string): Promise<Article> {
  const cleared: ArticlePatch = { dek: null, kicker: null, body: [], leadImageId: null, bylines: [], status: 'draft', metaTitle: null, metaDescription: null, canonicalUrl: null }
  return await updateOne(db, id, { ...cleared, ...input }, ifMatch)
}

export async function updateOne (db: Database, id: string, patch: ArticlePatch, ifMatch?: string): Promise<Article> {
  return await db.$transaction(async (tx) => {
    const current = await tx.article.findUnique({ where: { id }, select: { id: true, slug: true, status: true, publishedAt: true, version: true } })
    if (current === null) throw errors.articleNotFound(`id ${id}`)
    assertVersion(ifMatch, current.version)
    const slug = patch.slug ?? current.slug
    if (slug !== current.slug) await assertSlugFree(tx, slug, id)
    const resolved = await resolveReferences(tx, patch)
    const status = patch.status ?? current.status
    const data: Prisma.ArticleUncheckedUpdateManyInput = {
      slug,
      status,
      ...publicationFields(status, patch.publishedAt, current.publishedAt),
      version: { increment: 1 },
      updatedAt: new Date()
    }
    for (const field of ['headline', 'dek', 'kicker', 'leadImageId', 'metaTitle', 'metaDescription', 'canonicalUrl'] as const) {
      if (patch[field] !== undefined) (data as Record<string, unknown>)[field] = patch[field]
    }
    if (resolved.body !== undefined) {
      data.body = resolved.body.blocks as unknown as Prisma.InputJsonValue
      data.bodyText = resolved.body.text
      data.wordCount = resolved.body.words
      await tx.articleBodyImage.deleteMany({ where: { articleId: id } })
      await tx.articleBodyImage.createMany({ data: resolved.body.imageIds.map((imageId) => ({ articleId: id, imageId })) })
    }
    if (patch.bylines !== undefined) {
      await tx.byline.deleteMany({ where: { articleId: id } })
      await tx.byline.createMany({ data: resolved.bylines.map((byline) => ({ ...byline, articleId: id })) })
    }
    // The version in the WHERE clause makes the check and the write one atomic step.
    const { count } = await tx.article.updateMany({ where: { id, version: current.version }, data })
    if (count === 0) assertVersion(etagOf(-1), current.version + 1)
    return await readById(tx, id)
  })
}

export async function deleteOne (db: Database, id: string, ifMatch?: string): Promise<void> {
  await db.$transaction(async (tx) => {
    const current = await tx.article.findUnique({ where: { id }, select: { version: true } })
    if (current === null) throw errors.articleNotFound(`id ${id}`)
    assertVersion(ifMatch, current.version)
    await tx.article.delete({ where: { id } })
  })
}
