import type { Database, Prisma } from '../db/client.ts'
import { errors, withFieldErrors, type CatalogueError } from '../errors.ts'
import { pageResult, type FixedId, type PageResult } from '../common-schemas.ts'
import { retryOnGeneratedSlugConflict } from '../db/errors.ts'
import { freeSlugAmong } from '../slugs.ts'
import { commitChange } from '../changes/index.ts'
import type { Actor } from '../keys/roles.ts'
import type { TaxonomyKind, Term, TermCreate, TermPatch } from './schemas.ts'

type Client = Database | Prisma.TransactionClient

/** The columns both tables share; the two Prisma delegates are used through it alike. */
interface TermDelegate {
  findMany: (args: object) => Promise<Term[]>
  findUnique: (args: object) => Promise<Term | null>
  count: (args: object) => Promise<number>
  create: (args: object) => Promise<Term>
  update: (args: object) => Promise<Term>
  deleteMany: (args: object) => Promise<{ count: number }>
}

const label: Record<TaxonomyKind, string> = { section: 'section', tag: 'tag' }

function terms (db: Client, kind: TaxonomyKind): TermDelegate {
  return (kind === 'section' ? db.section : db.tag) as unknown as TermDelegate
}

function notFound (kind: TaxonomyKind, what: string): CatalogueError {
  return (kind === 'section' ? errors.sectionNotFound(what) : errors.tagNotFound(what)) as CatalogueError
}

async function usesOf (tx: Client, kind: TaxonomyKind, id: string): Promise<number> {
  return kind === 'section' ? await tx.article.count({ where: { sectionId: id } }) : await tx.articleTag.count({ where: { tagId: id } })
}

export async function readMany (db: Database, kind: TaxonomyKind, query: { page: number, limit: number }): Promise<PageResult<Term>> {
  const [items, total] = await Promise.all([
    terms(db, kind).findMany({ orderBy: [{ name: 'asc' }, { id: 'asc' }], skip: (query.page - 1) * query.limit, take: query.limit }),
    terms(db, kind).count({})
  ])
  return pageResult(items, total, query.page, query.limit)
}

export async function readOne (db: Database, kind: TaxonomyKind, where: { id: string } | { slug: string }): Promise<Term> {
  const found = await terms(db, kind).findUnique({ where })
  if (found === null) throw notFound(kind, 'id' in where ? `id ${where.id}` : `slug ${where.slug}`)
  return found
}

async function assertSlugFree (tx: Client, kind: TaxonomyKind, slug: string, exceptId: string | null): Promise<void> {
  const holder = await terms(tx, kind).findUnique({ where: { slug } })
  if (holder !== null && holder.id !== exceptId) {
    throw withFieldErrors(errors.slugTaken(`The slug "${slug}" is already used by another ${label[kind]}`) as CatalogueError, [{ in: 'body', pointer: '/slug', message: 'is already taken' }])
  }
}

export async function createOne (db: Database, kind: TaxonomyKind, input: TermCreate & FixedId, actor: Actor): Promise<Term> {
  return await retryOnGeneratedSlugConflict(input.slug === undefined, async (conflicts) => await db.$transaction(async (tx) => {
    if (input.slug !== undefined) await assertSlugFree(tx, kind, input.slug, null)
    const slug = input.slug ?? await freeSlugAmong(input.name, label[kind], conflicts, async (base) =>
      new Set((await terms(tx, kind).findMany({ where: { slug: { startsWith: base } }, select: { slug: true } })).map((row) => row.slug)))
    const created = await terms(tx, kind).create({ data: { id: input.id, name: input.name, slug, description: input.description ?? null } })
    await commitChange(tx, { actor, objectType: kind, objectId: created.id, action: `${kind}.created` })
    return created
  }))
}

export async function updateOne (db: Database, kind: TaxonomyKind, id: string, patch: TermPatch, actor: Actor): Promise<Term> {
  return await db.$transaction(async (tx) => {
    if (await terms(tx, kind).count({ where: { id } }) === 0) throw notFound(kind, `id ${id}`)
    if (patch.slug !== undefined) await assertSlugFree(tx, kind, patch.slug, id)
    const updated = await terms(tx, kind).update({ where: { id }, data: patch })
    await commitChange(tx, { actor, objectType: kind, objectId: id, action: `${kind}.updated` })
    return updated
  })
}

export async function replaceOne (db: Database, kind: TaxonomyKind, id: string, input: TermCreate, actor: Actor): Promise<Term> {
  return await updateOne(db, kind, id, { description: null, ...input }, actor)
}

export async function deleteOne (db: Database, kind: TaxonomyKind, id: string, actor: Actor): Promise<void> {
  await db.$transaction(async (tx) => {
    const uses = await usesOf(tx, kind, id)
    if (uses > 0) throw errors.inUse(`The ${label[kind]} is used by ${uses} article(s); file them elsewhere first`)
    const { count } = await terms(tx, kind).deleteMany({ where: { id } })
    if (count === 0) throw notFound(kind, `id ${id}`)
    await commitChange(tx, { actor, objectType: kind, objectId: id, action: `${kind}.deleted` })
  })
}
