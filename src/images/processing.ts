// The image work, done by sharp (libvips): what a file really is, a clean master to serve from, and
// renditions in the sizes and formats frontends ask for.
import { open } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { Semaphore } from 'async-mutex'
import type { Metadata, Sharp, SharpOptions } from 'sharp'
import { errors } from '../errors.ts'

export const imageFormats = ['jpeg', 'png', 'webp', 'avif', 'gif'] as const
export type ImageFormat = typeof imageFormats[number]
export const mimeTypes: Record<ImageFormat, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', avif: 'image/avif', gif: 'image/gif' }
export const extensions: Record<ImageFormat, string> = { jpeg: 'jpg', png: 'png', webp: 'webp', avif: 'avif', gif: 'gif' }

export const aspectRatios = ['1:1', '4:3', '3:2', '16:9', '4:5', '2:3', '9:16'] as const
export type AspectRatio = typeof aspectRatios[number]

type SharpFactory = (input?: string | Buffer, options?: SharpOptions) => Sharp
let loadingSharp: Promise<SharpFactory> | undefined

/**
 * sharp and libvips are loaded on the first image operation, not at start: an instance that only
 * serves stored documents never pays their memory.
 */
async function sharp (input: string | Buffer, options?: SharpOptions): Promise<Sharp> {
  loadingSharp ??= import('sharp').then(({ default: factory }) => {
    // libvips' operation cache is off: renditions are stored once made, so it only ever held
    // pixels nobody would ask for again (64 MB of it added 15 MB to the peak of one upload).
    factory.cache(false)
    return factory
  })
  return (await loadingSharp)(input, options)
}

/**
 * Decoding takes memory in proportion to pixels (about 250 MB at peak for a 24 MP JPEG), so a burst
 * of uploads or cold renditions takes turns instead of all decoding at once: this many at a time
 * (IMAGE_PROCESSING_CONCURRENCY, or 2–4 by the processor's cores when it is 0).
 */
export function decodingConcurrency (setting: number): number {
  return setting > 0 ? setting : Math.max(2, Math.min(4, availableParallelism()))
}

/** One per app: the uploads and renditions decoding at once, and those waiting their turn. */
export function createDecoding (concurrency: number): Semaphore {
  return new Semaphore(concurrency)
}

/**
 * Uploads in progress at once (being received, waiting their turn to decode, or decoding): at most
 * the decoding concurrency plus UPLOAD_QUEUE_LIMIT. One more is refused at once, before its body is
 * read, instead of queueing without end and answering after its client has given up.
 */
export class UploadGate {
  #inProgress = 0
  constructor (readonly capacity: number) {}

  get inProgress (): number { return this.#inProgress }

  /** A place for one upload, given back by calling the function returned; null when all are taken. */
  enter (): (() => void) | null {
    if (this.#inProgress >= this.capacity) return null
    this.#inProgress++
    let left = false
    return () => {
      if (left) return
      left = true
      this.#inProgress--
    }
  }
}

/**
 * The format the bytes say they are, by their magic numbers; the name and Content-Type a client
 * sent do not count. Anything else (SVG, HEIC, PDF, TIFF, text…) is null.
 */
export async function sniffFormat (path: string): Promise<ImageFormat | null> {
  const file = await open(path, 'r')
  const head = Buffer.alloc(64)
  try {
    await file.read(head, 0, 64, 0)
  } finally {
    await file.close()
  }
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg'
  if (head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png'
  if (['GIF87a', 'GIF89a'].includes(head.toString('latin1', 0, 6))) return 'gif'
  if (head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP') return 'webp'
  if (head.toString('latin1', 4, 8) === 'ftyp') {
    // ISO-BMFF: AVIF says so in its major or compatible brands; HEIC and video do not.
    const boxSize = Math.min(head.readUInt32BE(0), 64)
    const brands = [head.toString('latin1', 8, 12)]
    for (let offset = 16; offset + 4 <= boxSize; offset += 4) brands.push(head.toString('latin1', offset, offset + 4))
    if (brands.includes('avif') || brands.includes('avis')) return 'avif'
  }
  return null
}

export interface Inspection { format: ImageFormat, width: number, height: number }

/** Reads only the header: a 50,000 × 50,000 "bomb" is refused before a single pixel is decoded. */
export async function inspect (path: string, maxPixels: number): Promise<Inspection> {
  const format = await sniffFormat(path)
  if (format === null) throw errors.unsupportedImageType('The file is not a JPEG, PNG, WebP, AVIF or GIF image (judged by its bytes, not its name or Content-Type)')
  let metadata: Metadata
  try {
    metadata = await (await sharp(path, { limitInputPixels: false })).metadata()
  } catch {
    throw errors.imageUnreadable(`The ${format.toUpperCase()} file cannot be read: it is damaged or truncated`)
  }
  const { width, height } = metadata
  if (width === undefined || height === undefined || width < 1 || height < 1) throw errors.imageUnreadable('The image has no dimensions')
  if (width * height > maxPixels) {
    throw errors.imageTooManyPixels(`The image is ${width} × ${height} pixels (${Math.round(width * height / 1e6)} MP); at most ${Math.round(maxPixels / 1e6)} MP are accepted`)
  }
  // Orientation 5–8 turns the picture on its side: what readers see is the other way round.
  const sideways = (metadata.orientation ?? 1) >= 5
  return { format, width: sideways ? height : width, height: sideways ? width : height }
}

/**
 * The master of a JPEG: quality 90 with mozjpeg's quantisation tables, baseline, without optimised
 * Huffman tables or trellis quantisation. Those two make libjpeg hold every DCT coefficient of the
 * picture at once: 30 MB more at the peak of a 6 MP upload (measured: 43 against 13 MB over the
 * process's own), for a file about 12% smaller. Renditions, which readers download, keep mozjpeg's
 * full treatment; they are made from small decodes.
 */
const MASTER_JPEG = { quality: 90, quantisationTable: 3, optimiseCoding: false } as const
/** Wide enough for a placeholder's dominant colour to be the picture's (16 × 16 × 16 histogram bins). */
const PLACEHOLDER_SOURCE_SIZE = 256

export interface Master { path: string, width: number, height: number, bytes: number, placeholderColor: string, placeholderDataUri: string }

/**
 * The file everything is served from: EXIF orientation applied, and every piece of metadata (GPS
 * position, camera serial, the photographer's name in EXIF/XMP/IPTC) left behind. Decoding a
 * damaged file fails here, before anything is stored.
 */
export async function prepareMaster (decoding: Semaphore, source: string, target: string, inspection: Inspection, maxPixels: number): Promise<Master> {
  return await decoding.runExclusive(async () => await encodeMaster(source, target, inspection, maxPixels))
}

async function encodeMaster (source: string, target: string, inspection: Inspection, maxPixels: number): Promise<Master> {
  const animated = inspection.format === 'gif' || inspection.format === 'webp'
  try {
    const pipeline = (await sharp(source, { limitInputPixels: maxPixels, failOn: 'error', animated })).rotate()
    const encoded = inspection.format === 'jpeg'
      ? pipeline.jpeg(MASTER_JPEG)
      : pipeline.toFormat(inspection.format, inspection.format === 'png' ? {} : { quality: 90 })
    const info = await encoded.toFile(target)
    // The placeholder and its colour come from a small copy (a JPEG decodes shrunk, straight from the
    // file): decoding the whole picture once more took ~35 MB for a 6 MP photo.
    const small = await (await sharp(target, { limitInputPixels: maxPixels })).resize(PLACEHOLDER_SOURCE_SIZE, PLACEHOLDER_SOURCE_SIZE, { fit: 'inside' }).png({ compressionLevel: 0 }).toBuffer()
    const stats = await (await sharp(small)).stats()
    const tiny = await (await sharp(small)).resize(16, 16, { fit: 'inside' }).webp({ quality: 40 }).toBuffer()
    const hex = (value: number): string => value.toString(16).padStart(2, '0')
    return {
      path: target,
      width: info.width,
      height: animated && info.pageHeight !== undefined ? info.pageHeight : info.height,
      bytes: info.size,
      placeholderColor: `#${hex(stats.dominant.r)}${hex(stats.dominant.g)}${hex(stats.dominant.b)}`,
      placeholderDataUri: `data:image/webp;base64,${tiny.toString('base64')}`
    }
  } catch {
    throw errors.imageUnreadable(`The ${inspection.format.toUpperCase()} file cannot be decoded: it is damaged or truncated`)
  }
}

export interface RenditionRequest { width: number, format: ImageFormat, aspectRatio?: AspectRatio, focalX: number, focalY: number }

/** The crop of an aspect ratio that keeps the focal point as central as the picture allows. */
export function cropAround (width: number, height: number, ratio: AspectRatio, focalX: number, focalY: number): { left: number, top: number, width: number, height: number } {
  const [w, h] = ratio.split(':').map(Number) as [number, number]
  const cropWidth = Math.min(width, Math.round(height * w / h))
  const cropHeight = Math.min(height, Math.round(width * h / w))
  const clamp = (value: number, max: number): number => Math.max(0, Math.min(max, Math.round(value)))
  return {
    left: clamp(focalX * width - cropWidth / 2, width - cropWidth),
    top: clamp(focalY * height - cropHeight / 2, height - cropHeight),
    width: cropWidth,
    height: cropHeight
  }
}

/** The master is read only once it is this rendition's turn, so renditions waiting hold no image in memory. */
export async function renderRendition (decoding: Semaphore, readMaster: () => Promise<Buffer>, masterSize: { width: number, height: number }, request: RenditionRequest): Promise<Buffer> {
  return await decoding.runExclusive(async () => await encodeRendition(await readMaster(), masterSize, request))
}

async function encodeRendition (master: Buffer, masterSize: { width: number, height: number }, request: RenditionRequest): Promise<Buffer> {
  const animated = request.format === 'gif' || request.format === 'webp'
  let pipeline = await sharp(master, { animated })
  if (request.aspectRatio !== undefined) pipeline = pipeline.extract(cropAround(masterSize.width, masterSize.height, request.aspectRatio, request.focalX, request.focalY))
  pipeline = pipeline.resize({ width: request.width, withoutEnlargement: true })
  switch (request.format) {
    case 'jpeg': return await pipeline.jpeg({ quality: 80, mozjpeg: true, progressive: true }).toBuffer()
    case 'webp': return await pipeline.webp({ quality: 78 }).toBuffer()
    case 'avif': return await pipeline.avif({ quality: 55, effort: 3 }).toBuffer()
    case 'png': return await pipeline.png({ compressionLevel: 8 }).toBuffer()
    case 'gif': return await pipeline.gif().toBuffer()
  }
}
