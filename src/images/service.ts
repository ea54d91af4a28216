import type { Database, Prisma } from '../db/client.ts'
import { errors, type CatalogueError } from '../errors.ts'
import { pageResult, type PageResult } from '../common-schemas.ts'
import type { Image, ImageCreate, ImagePatch } from './schemas.ts'
import { recordChange } from '../audit/service.ts'
import type { Actor } from '../keys/roles.ts'

type ImageRecord = NonNullable<Awaited<ReturnType<Database['image']['findUnique']>>>

/** The public shape; dates stay Date objects, which the response serializer writes as ISO strings. */
export function toImage (record: ImageRecord): Image {
  return record as unknown as Image
}

/** "Photo by Sergei Guneyev / Sputnik / AFP via Getty Images", from whichever parts are known. */
export function composeCredit (parts: { photographer?: string | null, agency?: string | null, distributor?: string | null }): string | null {
  const source = [parts.photographer, parts.agency].filter((part): part is string => typeof part === 'string' && part.trim() !== '').join(' / ')
  if (source === '' && (parts.distributor ?? '').trim() === '') return null
  let credit = source === '' ? '' : `Photo by ${source}`
  if ((parts.distributor ?? '').trim() !== '') credit += `${credit === '' ? 'Photo' : ''} via ${parts.distributor as string}`
  return credit
}

function withCredit<T extends ImagePatch> (input: T, current?: ImageRecord): T {
  if (input.credit !== undefined) return input
  const parts = {
    photographer: input.photographer !== undefined ? input.photographer : current?.photographer,
    agency: input.agency !== undefined ? input.agency : current?.agency,
    distributor: input.distributor !== undefined ? input.distributor : current?.distributor
  }
  const partsChanged = input.photographer !== undefined || input.agency !== undefined || input.distributor !== undefined
  const creditWasComposed = current === undefined || current.credit === null || current.credit === composeCredit(current)
  if (current === undefined || (partsChanged && creditWasComposed)) return { ...input, credit: composeCredit(parts) }
  return input
}

/**
 * The public sees the images readers can already see: on a published article (lead or body) or
 * an author's avatar. A photo picked for an embargoed draft stays unseen, caption and all.
 */
const visibleTo = (viewer: Actor | null): Prisma.ImageWhereInput => viewer !== null
  ? {}
  : { OR: [{ leadOf: { some: { status: 'published' } } }, { bodyUses: { some: { article: { status: 'published' } } } }, { avatarOf: { some: {} } }] }

export async function readMany (db: Database, query: { page: number, limit: number }, viewer: Actor | null): Promise<PageResult<Image>> {
  const where = visibleTo(viewer)
  const [items, total] = await db.$transaction([
    db.image.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], skip: (query.page - 1) * query.limit, take: query.limit }),
    db.image.count({ where })
  ])
  return pageResult(items.map(toImage), total, query.page, query.limit)
}

export async function readOne (db: Database, id: string, viewer: Actor | null): Promise<Image> {
  const image = await db.image.findFirst({ where: { id, ...visibleTo(viewer) } })
  if (image === null) throw errors.imageNotFound(`id ${id}`)
  return toImage(image)
}

export async function createOne (db: Database, input: ImageCreate, actor: Actor): Promise<Image> {
  return await db.$transaction(async (tx) => {
    const image = await tx.image.create({ data: withCredit(input) })
    await recordChange(tx, actor, 'image.created', { id: image.id, url: image.url })
    return toImage(image)
  })
}

/** Full replacement (PUT): fields left out are cleared. */
export async function replaceOne (db: Database, id: string, input: ImageCreate, actor: Actor): Promise<Image> {
  const cleared = { width: null, height: null, bytes: null, caption: null, credit: undefined, photographer: null, agency: null, distributor: null, copyright: null }
  return await updateOne(db, id, { ...cleared, ...input }, actor, true)
}

export async function updateOne (db: Database, id: string, input: ImagePatch, actor: Actor, replacing = false): Promise<Image> {
  return await db.$transaction(async (tx) => {
    const current = await tx.image.findUnique({ where: { id } })
    if (current === null) throw errors.imageNotFound(`id ${id}`)
    const data = replacing ? withCredit(input) : withCredit(input, current)
    const image = await tx.image.update({ where: { id }, data })
    await recordChange(tx, actor, 'image.updated', { id: image.id, url: image.url })
    return toImage(image)
  })
}

export async function deleteOne (db: Database, id: string, actor: Actor): Promise<void> {
  await db.$transaction(async (tx) => {
    const image = await tx.image.findUnique({
      where: { id },
      select: { id: true, _count: { select: { leadOf: true, avatarOf: true, bodyUses: true } } }
    })
    if (image === null) throw errors.imageNotFound(`id ${id}`)
    const uses = [
      image._count.leadOf > 0 ? `lead image of ${image._count.leadOf} article(s)` : '',
      image._count.bodyUses > 0 ? `shown in the body of ${image._count.bodyUses} article(s)` : '',
      image._count.avatarOf > 0 ? `avatar of ${image._count.avatarOf} author(s)` : ''
    ].filter(Boolean)
    if (uses.length > 0) throw errors.inUse(`The image is still in use: ${uses.join('; ')}. Remove those references first.`) as CatalogueError
    await tx.image.delete({ where: { id } })
    await recordChange(tx, actor, 'image.deleted', { id })
  })
}
