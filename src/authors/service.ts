import { assertSlugNotReserved, freeSlugAmong } from '../slugs.ts'
import { defaultReservedSlugs } from '../config.ts'
import type { Prisma, Database } from '../db/client.ts'
import { errors, withFieldErrors, type CatalogueError } from '../errors.ts'
import { retryOnGeneratedSlugConflict } from '../db/errors.ts'
import { commitChange } from '../changes/index.ts'
import { toImage } from '../images/service.ts'
import type { Actor } from '../keys/roles.ts'
import { pageResult, type FixedId, type PageResult } from '../common-schemas.ts'
import type { Author, AuthorCreate, AuthorListQuery, AuthorPatch, AuthorSummary } from './schemas.ts'

type Transaction = Prisma.TransactionClient

export const authorSummarySelect = {
  id: true, slug: true, name: true, jobTitle: true, avatarImage: true
} as const satisfies Prisma.AuthorSelect

// Everything public: `email` is deliberately absent.
const authorSelect = {
  ...authorSummarySelect, bio: true, links: true, createdAt: true, updatedAt: true
} as const satisfies Prisma.AuthorSelect

type AuthorRecord = Prisma.AuthorGetPayload<{ select: typeof authorSelect }>

function toAuthor (record: AuthorRecord): Author {
  return { ...record, avatarImage: record.avatarImage === null ? null : toImage(record.avatarImage), links: record.links as unknown as Author['links'] } as unknown as Author
}

export function toAuthorSummary (record: Prisma.AuthorGetPayload<{ select: typeof authorSummarySelect }>): AuthorSummary {
  return { ...record, avatarImage: record.avatarImage === null ? null : toImage(record.avatarImage) } as unknown as AuthorSummary
}

/**
 * "Émile Zola-Brown" → "emilezolabrown": letters and digits only, lowercased, accents removed, so
 * Latin names sort identically under any database collation.
 */
export function sortNameOf (name: string): string {
  return name.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/[^\p{L}\p{N}]/gu, '')
}

/** Fills sortName for authors stored before it existed; cheap when there are none. */
export async function backfillSortNames (db: Database): Promise<number> {
  const pending = await db.author.findMany({ where: { sortName: '' }, select: { id: true, name: true } })
  let updated = 0
  for (const author of pending) {
    const sortName = sortNameOf(author.name)
    if (sortName === '') continue
    await db.author.updateMany({ where: { id: author.id, sortName: '' }, data: { sortName } })
    updated++
  }
  return updated
}

async function freeSlug (tx: Transaction, name: string, conflicts: number, reservedSlugs: ReadonlySet<string>): Promise<string> {
  return await freeSlugAmong(name, 'author', conflicts, async (base) =>
    new Set((await tx.author.findMany({ where: { slug: { startsWith: base } }, select: { slug: true } })).map((row) => row.slug)), reservedSlugs)
}

async function assertSlugFree (tx: Transaction, slug: string, exceptId?: string): Promise<void> {
  const holder = await tx.author.findUnique({ where: { slug }, select: { id: true } })
  if (holder !== null && holder.id !== exceptId) {
    throw withFieldErrors(errors.slugTaken(`The slug "${slug}" is already used by another author`) as CatalogueError, [{ in: 'body', pointer: '/slug', message: 'is already taken' }])
  }
}

async function assertAvatarExists (tx: Transaction, imageId: string | null | undefined): Promise<void> {
  if (imageId === undefined || imageId === null) return
  if (await tx.image.count({ where: { id: imageId } }) === 0) {
    throw withFieldErrors(errors.invalidReference(`body/avatarImageId: no image has id ${imageId}`) as CatalogueError, [{ in: 'body', pointer: '/avatarImageId', message: `no image has id ${imageId}` }])
  }
}

export async function readMany (db: Database, query: AuthorListQuery): Promise<PageResult<Author>> {
  const sort = query.sort ?? 'name'
  const direction = sort.startsWith('-') ? 'desc' : 'asc'
  const field = sort.replace(/^-/, '') === 'name' ? 'sortName' : 'createdAt'
  const [records, total] = await db.$transaction([
    db.author.findMany({ orderBy: [{ [field]: direction }, { id: direction }], skip: (query.page - 1) * query.limit, take: query.limit, select: authorSelect }),
    db.author.count()
  ])
  return pageResult(records.map(toAuthor), total, query.page, query.limit)
}

export async function readOne (db: Database | Transaction, id: string): Promise<Author> {
  const record = await db.author.findUnique({ where: { id }, select: authorSelect })
  if (record === null) throw errors.authorNotFound(`id ${id}`)
  return toAuthor(record)
}

export async function readOneBySlug (db: Database, slug: string): Promise<Author> {
  const record = await db.author.findUnique({ where: { slug }, select: authorSelect })
  if (record === null) throw errors.authorNotFound(`slug ${slug}`)
  return toAuthor(record)
}

export async function createOne (db: Database, input: AuthorCreate & FixedId, actor: Actor, reservedSlugs = defaultReservedSlugs): Promise<Author> {
  return await retryOnGeneratedSlugConflict(input.slug === undefined, async (conflicts) => await db.$transaction(async (tx) => {
    assertSlugNotReserved(input.slug, reservedSlugs)
    if (input.slug !== undefined) await assertSlugFree(tx, input.slug)
    await assertAvatarExists(tx, input.avatarImageId)
    const created = await tx.author.create({
      data: {
        id: input.id,
        slug: input.slug ?? await freeSlug(tx, input.name, conflicts, reservedSlugs),
        name: input.name,
        sortName: sortNameOf(input.name),
        jobTitle: input.jobTitle ?? null,
        bio: input.bio ?? null,
        email: input.email ?? null,
        avatarImageId: input.avatarImageId ?? null,
        links: input.links ?? []
      },
      select: authorSelect
    })
    await commitChange(tx, { actor, objectType: 'author', objectId: created.id, action: 'author.created', event: 'author.created', data: { id: created.id, slug: created.slug, name: created.name } })
    return toAuthor(created)
  }))
}

export async function replaceOne (db: Database, id: string, input: AuthorCreate, actor: Actor, reservedSlugs = defaultReservedSlugs): Promise<Author> {
  return await updateOne(db, id, { jobTitle: null, bio: null, email: null, avatarImageId: null, links: [], ...input }, actor, reservedSlugs)
}

export async function updateOne (db: Database, id: string, patch: AuthorPatch, actor: Actor, reservedSlugs = defaultReservedSlugs): Promise<Author> {
  return await db.$transaction(async (tx) => {
    const current = await tx.author.findUnique({ where: { id }, select: { id: true, slug: true } })
    if (current === null) throw errors.authorNotFound(`id ${id}`)
    if (patch.slug !== undefined && patch.slug !== current.slug) {
      // A slug an author already has stays usable: only a new one is checked against the list.
      assertSlugNotReserved(patch.slug, reservedSlugs)
      await assertSlugFree(tx, patch.slug, id)
    }
    await assertAvatarExists(tx, patch.avatarImageId)
    const data = patch.name !== undefined ? { ...patch, sortName: sortNameOf(patch.name) } : patch
    const updated = await tx.author.update({ where: { id }, data, select: authorSelect })
    await commitChange(tx, { actor, objectType: 'author', objectId: id, action: 'author.updated', event: 'author.updated', data: { id: updated.id, slug: updated.slug, name: updated.name }, changedFields: Object.keys(patch) })
    return toAuthor(updated)
  })
}

export async function deleteOne (db: Database, id: string, actor: Actor): Promise<void> {
  await db.$transaction(async (tx) => {
    const author = await tx.author.findUnique({ where: { id }, select: { _count: { select: { bylines: true, mastheadRoles: true } } } })
    if (author === null) throw errors.authorNotFound(`id ${id}`)
    const uses = [
      author._count.bylines > 0 ? `credited on ${author._count.bylines} article(s)` : '',
      author._count.mastheadRoles > 0 ? `holds ${author._count.mastheadRoles} masthead role(s)` : ''
    ].filter(Boolean)
    if (uses.length > 0) throw errors.inUse(`The author is still ${uses.join(' and ')}. Remove those bylines and roles first.`) as CatalogueError
    await tx.author.delete({ where: { id } })
    await commitChange(tx, { actor, objectType: 'author', objectId: id, action: 'author.deleted', event: 'author.deleted', data: { id } })
  })
}
