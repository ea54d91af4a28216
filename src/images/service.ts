import type { Database, Prisma } from '../db/client.ts'
import { errors, withFieldErrors, type CatalogueError } from '../errors.ts'
import { pageResult, type FixedId, type PageResult } from '../common-schemas.ts'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import type { Image, ImageCreate, ImagePatch, ImageUploadFields, RenditionQuery } from './schemas.ts'
import type { ImageStorage } from './storage.ts'
import type { Semaphore } from 'async-mutex'
import type { ReceivedFile } from './upload.ts'
import { extensions, inspect, mimeTypes, prepareMaster, renderRendition, type ImageFormat, type Master } from './processing.ts'
import { commitChange } from '../changes/index.ts'
import { publicArticleWhere } from '../articles/visibility.ts'
import type { Actor } from '../keys/roles.ts'

type ImageRecord = NonNullable<Awaited<ReturnType<Database['image']['findUnique']>>>

/** Where an uploaded file is served: the version pins it, so the URL can be cached for good. */
export function fileUrl (id: string, contentHash: string): string {
  return `/images/${id}/file?v=${contentHash.slice(0, 16)}`
}

/** The public shape; dates stay Date objects, which the response serializer writes as ISO strings. */
export function toImage (record: ImageRecord): Image {
  const { focalX, focalY, placeholderColor, placeholderDataUri, storageKey: _storageKey, ...fields } = record
  return {
    ...fields,
    url: record.url ?? (record.contentHash !== null ? fileUrl(record.id, record.contentHash) : ''),
    focalPoint: focalX !== null && focalY !== null ? { x: focalX, y: focalY } : null,
    placeholder: placeholderColor !== null && placeholderDataUri !== null ? { color: placeholderColor, dataUri: placeholderDataUri } : null
  } as unknown as Image
}

/**
 * What the change feed and webhooks say of an image. An upload's URL is its file's (the record's
 * `url` is null); mimeType marks it as an image's URL, made absolute with API_PUBLIC_URL.
 */
function imageChangeData (record: ImageRecord): Record<string, unknown> {
  const { id, url, mimeType } = toImage(record)
  return { id, url, mimeType }
}

/** The columns an API write sets: the focal point is stored as two numbers. */
function columnsOf<T extends ImagePatch> (input: T): Omit<T, 'focalPoint'> & { focalX?: number | null, focalY?: number | null } {
  const { focalPoint, ...rest } = input
  if (focalPoint === undefined) return rest
  return { ...rest, focalX: focalPoint?.x ?? null, focalY: focalPoint?.y ?? null }
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
 * The public sees the images readers can already see: on a published article (lead or body), in an
 * entry of a live coverage whose article is published (a deleted entry keeps no links), or as an
 * author's avatar. A photo picked for a draft, or for an embargoed or killed article or its
 * coverage, stays unseen, caption and all, unless something public shows it too.
 */
const visibleTo = (viewer: Actor | null): Prisma.ImageWhereInput => viewer !== null
  ? {}
  : {
      OR: [
        { leadOf: { some: publicArticleWhere } },
        { bodyUses: { some: { article: publicArticleWhere } } },
        { liveEntryUses: { some: { entry: { coverage: { article: publicArticleWhere } } } } },
        { avatarOf: { some: {} } }
      ]
    }

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

export async function createOne (db: Database, input: ImageCreate & FixedId, actor: Actor): Promise<Image> {
  return await db.$transaction(async (tx) => {
    const image = await tx.image.create({ data: { ...columnsOf(withCredit(input)), id: input.id } })
    await commitChange(tx, { actor, objectType: 'image', objectId: image.id, action: 'image.created', event: 'image.created', data: imageChangeData(image) })
    return toImage(image)
  })
}

/** Full replacement (PUT): fields left out are cleared. */
export async function replaceOne (db: Database, id: string, input: ImageCreate, actor: Actor): Promise<Image> {
  const cleared = { width: null, height: null, bytes: null, decorative: false, caption: null, credit: undefined, photographer: null, agency: null, distributor: null, copyright: null, source: null, focalPoint: null }
  return await updateOne(db, id, { ...cleared, ...input }, actor, true)
}

export async function updateOne (db: Database, id: string, input: ImagePatch, actor: Actor, replacing = false): Promise<Image> {
  return await db.$transaction(async (tx) => {
    const current = await tx.image.findUnique({ where: { id } })
    if (current === null) throw errors.imageNotFound(`id ${id}`)
    if (current.storageKey !== null) {
      const fileFields = (['url', 'mimeType', 'width', 'height', 'bytes'] as const).filter((field) => input[field] !== undefined && !(replacing && field !== 'url' && field !== 'mimeType' && input[field] === null))
      if (fileFields.length > 0) {
        throw withFieldErrors(errors.notAnUpload(`This image is an upload: ${fileFields.join(', ')} come from its file. Replace the file with PUT /images/${id}/file instead.`) as CatalogueError,
          fileFields.map((field) => ({ in: 'body' as const, pointer: `/${field}`, message: 'comes from the uploaded file' })))
      }
    }
    const data = columnsOf(replacing ? withCredit(input) : withCredit(input, current))
    const image = await tx.image.update({ where: { id }, data })
    await commitChange(tx, { actor, objectType: 'image', objectId: image.id, action: 'image.updated', event: 'image.updated', data: imageChangeData(image) })
    return toImage(image)
  })
}

/** Deletes an unused image; returns what its files were, for removal once the delete committed. */
export async function deleteOne (db: Database, id: string, actor: Actor): Promise<{ storageKey: string | null, contentHash: string | null }> {
  return await db.$transaction(async (tx) => {
    const image = await tx.image.findUnique({
      where: { id },
      select: {
        id: true,
        storageKey: true,
        contentHash: true,
        _count: { select: { leadOf: true, avatarOf: true, bodyUses: true, liveEntryUses: true } },
        liveEntryUses: { select: { entryId: true, entry: { select: { coverageId: true } } }, orderBy: { entryId: 'asc' }, take: 3 }
      }
    })
    if (image === null) throw errors.imageNotFound(`id ${id}`)
    const entryUses = image.liveEntryUses.map((use) => `entry ${use.entryId} of live coverage ${use.entry.coverageId}`).join(', ')
    const uses = [
      image._count.leadOf > 0 ? `lead image of ${image._count.leadOf} article(s)` : '',
      image._count.bodyUses > 0 ? `shown in the body of ${image._count.bodyUses} article(s)` : '',
      image._count.liveEntryUses > 0 ? `shown in ${image._count.liveEntryUses} live entry(ies): ${entryUses}${image._count.liveEntryUses > 3 ? ', …' : ''}` : '',
      image._count.avatarOf > 0 ? `avatar of ${image._count.avatarOf} author(s)` : ''
    ].filter(Boolean)
    if (uses.length > 0) throw errors.inUse(`The image is still in use: ${uses.join('; ')}. Remove those references first.`) as CatalogueError
    await tx.image.delete({ where: { id } })
    await commitChange(tx, { actor, objectType: 'image', objectId: id, action: 'image.deleted', event: 'image.deleted', data: { id } })
    return { storageKey: image.storageKey, contentHash: image.contentHash }
  })
}

// Uploaded files ---------------------------------------------------------------------------------

/** How uploads and renditions are made: the pixel limit, the rendition widths, and the app's decoding turns. */
export interface FileSettings {
  maxPixels: number
  widths: number[]
  decoding: Semaphore
  /** Renditions being made, by storage key: requests for the same one wait for it instead of making it again. */
  renditionsInProgress: Map<string, Promise<Buffer>>
  renditionQueueLimit: number
}

const masterKey = (contentHash: string, format: ImageFormat): string => `masters/${contentHash}.${extensions[format]}`
const renditionPrefix = (contentHash: string): string => `renditions/${contentHash}/`

function metadataColumns (fields: ImageUploadFields): Prisma.ImageUncheckedCreateInput {
  const [x, y] = fields.focalPoint?.split(',').map(Number) ?? []
  const parts = { photographer: fields.photographer ?? null, agency: fields.agency ?? null, distributor: fields.distributor ?? null }
  return {
    mimeType: 'image/jpeg',
    altText: fields.altText,
    decorative: fields.decorative === 'true',
    caption: fields.caption ?? null,
    credit: fields.credit ?? composeCredit(parts),
    ...parts,
    copyright: fields.copyright ?? null,
    source: fields.source ?? null,
    focalX: x ?? null,
    focalY: y ?? null
  }
}

/** Decodes, cleans and stores an upload's master file; nothing is stored if any step fails. */
async function storeMaster (storage: ImageStorage, file: ReceivedFile, settings: FileSettings): Promise<{ format: ImageFormat, master: Master, key: string }> {
  const inspection = await inspect(file.path, settings.maxPixels)
  const master = await prepareMaster(settings.decoding, file.path, join(file.directory, `master.${extensions[inspection.format]}`), inspection, settings.maxPixels)
  const key = masterKey(file.sha256, inspection.format)
  await storage.putFile(key, master.path, mimeTypes[inspection.format])
  return { format: inspection.format, master, key }
}

function fileColumns (file: ReceivedFile, stored: { format: ImageFormat, master: Master, key: string }): Prisma.ImageUncheckedUpdateInput {
  return {
    storageKey: stored.key,
    contentHash: file.sha256,
    url: null,
    mimeType: mimeTypes[stored.format],
    width: stored.master.width,
    height: stored.master.height,
    bytes: stored.master.bytes,
    placeholderColor: stored.master.placeholderColor,
    placeholderDataUri: stored.master.placeholderDataUri
  }
}

/**
 * An upload becomes an image, or finds the image those exact bytes already are (created: false).
 * The file is stored before the row commits: a crash in between leaves an unused file, never a
 * row without its file.
 */
export async function createFromUpload (db: Database, storage: ImageStorage, file: ReceivedFile, fields: ImageUploadFields, settings: FileSettings, actor: Actor): Promise<{ image: Image, created: boolean }> {
  const existing = await db.image.findUnique({ where: { contentHash: file.sha256 } })
  if (existing !== null) return { image: toImage(existing), created: false }
  const stored = await storeMaster(storage, file, settings)
  try {
    return await db.$transaction(async (tx) => {
      const image = await tx.image.create({ data: { ...metadataColumns(fields), ...fileColumns(file, stored) } as Prisma.ImageUncheckedCreateInput })
      await commitChange(tx, { actor, objectType: 'image', objectId: image.id, action: 'image.created', event: 'image.created', data: imageChangeData(image) })
      return { image: toImage(image), created: true }
    })
  } catch (error) {
    // The same bytes, uploaded at the same moment by someone else: theirs is the image.
    const winner = await db.image.findUnique({ where: { contentHash: file.sha256 } })
    if (winner !== null) return { image: toImage(winner), created: false }
    throw error
  }
}

/** Replaces an upload's file, keeping its id and metadata; the old file and renditions go after commit. */
export async function replaceFile (db: Database, storage: ImageStorage, id: string, file: ReceivedFile, settings: FileSettings, actor: Actor): Promise<Image> {
  const current = await db.image.findUnique({ where: { id } })
  if (current === null) throw errors.imageNotFound(`id ${id}`)
  const twin = await db.image.findUnique({ where: { contentHash: file.sha256 }, select: { id: true } })
  if (twin !== null && twin.id !== id) throw errors.duplicateImage(`Those exact bytes are already image ${twin.id}; use it instead`)
  if (twin?.id === id) return toImage(current)
  const stored = await storeMaster(storage, file, settings)
  const image = await db.$transaction(async (tx) => {
    if (await tx.image.count({ where: { id } }) === 0) throw errors.imageNotFound(`id ${id}`)
    const updated = await tx.image.update({ where: { id }, data: fileColumns(file, stored) })
    await commitChange(tx, { actor, objectType: 'image', objectId: id, action: 'image.updated', event: 'image.updated', data: imageChangeData(updated) })
    return updated
  })
  if (current.contentHash !== null && current.storageKey !== null) await removeFiles(storage, current.storageKey, current.contentHash)
  return toImage(image)
}

async function removeFiles (storage: ImageStorage, storageKey: string, contentHash: string): Promise<void> {
  await storage.deletePrefix(storageKey)
  await storage.deletePrefix(renditionPrefix(contentHash))
}

export interface Rendition { body: Buffer | Readable, bytes: number, contentType: string, etag: string, lastModified: Date, immutable: boolean, varyAccept: boolean }

/** The widths renditions come in: a request is rounded up to the next, never beyond the original. */
export function renditionWidth (requested: number | undefined, original: number, widths: number[]): number {
  if (requested === undefined) return original
  const candidate = widths.find((width) => width >= requested) ?? widths[widths.length - 1] ?? original
  return Math.min(candidate, original)
}

function negotiatedFormat (requested: RenditionQuery['format'], accept: string | undefined, original: ImageFormat): ImageFormat {
  if (requested !== undefined && requested !== 'auto') return requested
  const accepts = (type: string): boolean => (accept ?? '').split(',').some((entry) => entry.trim().split(';')[0]?.trim() === type)
  if (original === 'gif') return 'gif'
  if (accepts('image/avif')) return 'avif'
  if (accepts('image/webp')) return 'webp'
  return original === 'webp' || original === 'avif' ? 'jpeg' : original
}

/** A rendition: made once, then served from storage. */
export async function readFile (db: Database, storage: ImageStorage, id: string, query: RenditionQuery, accept: string | undefined, settings: FileSettings, viewer: Actor | null): Promise<Rendition> {
  const image = await db.image.findFirst({ where: { id, ...visibleTo(viewer) } })
  if (image === null) throw errors.imageNotFound(`id ${id}`)
  if (image.storageKey === null || image.contentHash === null || image.width === null || image.height === null) {
    throw errors.notAnUpload(`Image ${id} was registered by address; fetch it from ${image.url ?? 'its source'}`)
  }
  const original = (Object.entries(mimeTypes).find(([, type]) => type === image.mimeType)?.[0] ?? 'jpeg') as ImageFormat
  const format = negotiatedFormat(query.format, accept, original)
  const width = renditionWidth(query.w, image.width, settings.widths)
  const shape = query.ar === undefined ? '' : `-${query.ar.replace(':', 'x')}`
  const key = `${renditionPrefix(image.contentHash)}${width}${shape}.${extensions[format]}`
  const meta = {
    contentType: mimeTypes[format],
    etag: `"${image.contentHash.slice(0, 32)}-${width}${shape}-${format}"`,
    lastModified: image.updatedAt,
    immutable: query.v === image.contentHash.slice(0, 16),
    varyAccept: query.format === undefined || query.format === 'auto'
  }
  const cached = await storage.get(key)
  if (cached !== null) return { ...meta, body: cached.body, bytes: cached.bytes }
  const masterKey = image.storageKey
  let rendering = settings.renditionsInProgress.get(key)
  if (rendering === undefined) {
    // A burst of cold renditions (a new gallery, a crawler) must not queue without end.
    if (settings.renditionsInProgress.size >= settings.renditionQueueLimit) {
      throw errors.tryAgain(`${settings.renditionsInProgress.size} image renditions are being made, as many as this instance takes (RENDITION_QUEUE_LIMIT); retry shortly`)
    }
    const readMaster = async (): Promise<Buffer> => {
      const masterObject = await storage.get(masterKey)
      if (masterObject === null) throw errors.imageNotFound(`the file of image ${id} is missing from storage`)
      return await buffer(masterObject.body)
    }
    rendering = (async () => {
      const rendered = await renderRendition(settings.decoding, readMaster, { width: image.width as number, height: image.height as number }, {
        width, format, aspectRatio: query.ar, focalX: image.focalX ?? 0.5, focalY: image.focalY ?? 0.5
      })
      await storage.putBuffer(key, rendered, mimeTypes[format])
      return rendered
    })().finally(() => { settings.renditionsInProgress.delete(key) })
    settings.renditionsInProgress.set(key, rendering)
  }
  const rendered = await rendering
  return { ...meta, body: rendered, bytes: rendered.length }
}

/** Deletes the stored files of an image that is gone. */
export async function forgetFiles (storage: ImageStorage, image: { storageKey: string | null, contentHash: string | null }): Promise<void> {
  if (image.storageKey !== null && image.contentHash !== null) await removeFiles(storage, image.storageKey, image.contentHash)
}
