// Receiving an upload: the bytes stream to a temporary file (memory stays flat however large the
// file), are hashed and counted on the way, and vanish if the client goes away half-way.
import { createHash, randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Transform, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { FastifyRequest } from 'fastify'
import type { MultipartFile } from '@fastify/multipart'
import { errors, withFieldErrors, type CatalogueError } from '../errors.ts'

export interface ReceivedFile {
  /** A private temporary folder holding the upload; remove it with discard(). */
  directory: string
  path: string
  sha256: string
  bytes: number
}

export interface Upload { file: ReceivedFile, fields: Record<string, string> }

export async function discard (file: ReceivedFile | undefined): Promise<void> {
  if (file !== undefined) await rm(file.directory, { recursive: true, force: true })
}

function tooLarge (maxBytes: number): CatalogueError {
  return errors.uploadTooLarge(`The upload is larger than ${maxBytes} bytes (IMAGE_MAX_UPLOAD_BYTES)`) as CatalogueError
}

// Each upload's temporary folder is named after the process receiving it, and this run of it (a
// restarted container's process often has the same pid): a folder whose owner is gone is an upload a
// crash interrupted, and is removed at start. Other instances sharing the folder keep theirs.
const TEMPORARY_PREFIX = 'copydesk-upload-'
const thisRun = randomUUID().slice(0, 8)
const temporaryOwner = /^copydesk-upload-(\d+)-([0-9a-f]{8})-/
/** No upload takes this long: an older folder is abandoned whoever made it (and older versions named none). */
const ABANDONED_AFTER_MS = 60 * 60_000

function processIsRunning (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as { code?: string }).code === 'EPERM'
  }
}

/** Removes the temporary folders of uploads interrupted by a crash; returns how many there were. */
export async function removeAbandonedUploads (): Promise<number> {
  const base = tmpdir()
  const names = (await readdir(base).catch(() => [] as string[])).filter((name) => name.startsWith(TEMPORARY_PREFIX))
  let removed = 0
  for (const name of names) {
    const owner = temporaryOwner.exec(name)
    const pid = owner === null ? null : Number(owner[1])
    let abandoned = pid !== null && (pid === process.pid ? owner?.[2] !== thisRun : !processIsRunning(pid))
    if (!abandoned) {
      const modified = await stat(join(base, name)).then((info) => info.mtimeMs, () => null)
      abandoned = modified !== null && Date.now() - modified > ABANDONED_AFTER_MS
    }
    if (!abandoned) continue
    await rm(join(base, name), { recursive: true, force: true })
    removed++
  }
  return removed
}

async function receive (source: Readable, maxBytes: number): Promise<ReceivedFile> {
  const directory = await mkdtemp(join(tmpdir(), `${TEMPORARY_PREFIX}${process.pid}-${thisRun}-`))
  const path = join(directory, randomUUID())
  const hash = createHash('sha256')
  let bytes = 0
  const meter = new Transform({
    transform (chunk: Buffer, _encoding, callback) {
      bytes += chunk.length
      if (bytes > maxBytes) {
        callback(tooLarge(maxBytes))
        return
      }
      hash.update(chunk)
      callback(null, chunk)
    }
  })
  try {
    await pipeline(source, meter, createWriteStream(path))
  } catch (error) {
    await rm(directory, { recursive: true, force: true })
    if ((error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') throw tooLarge(maxBytes)
    throw error
  }
  if ((source as { truncated?: boolean }).truncated === true) {
    await rm(directory, { recursive: true, force: true })
    throw tooLarge(maxBytes)
  }
  if (bytes === 0) {
    await rm(directory, { recursive: true, force: true })
    throw errors.emptyUpload('The uploaded file is empty')
  }
  return { directory, path, sha256: hash.digest('hex'), bytes }
}

const FILE_FIELD = 'file'

/**
 * The request body behind a stand-in that `receive`'s pipeline may destroy when the byte limit is
 * reached. Destroying the request itself (which pipeline does to its source) leaves no request to
 * answer on Node 22 and later: the client got no 413, and inject never returned. A client that goes
 * away mid-body still ends the upload with an error.
 */
function detachable (body: Readable): Readable {
  const stand = new PassThrough()
  body.once('error', (error) => { stand.destroy(error) })
  body.once('close', () => { if (!body.readableEnded) stand.destroy(new Error('the client went away before the upload ended')) })
  return body.pipe(stand)
}

/**
 * Takes the file and the text fields from multipart/form-data (one part named "file"), or the whole
 * body as the file when it was sent raw with an image Content-Type (fields then come from the query).
 */
export async function receiveUpload (request: FastifyRequest, maxBytes: number): Promise<Upload> {
  if (!request.isMultipart()) {
    const body = request.body as Readable | undefined
    if (typeof body?.pipe !== 'function') throw errors.unsupportedMediaType('Send the image as multipart/form-data (a part named "file"), or as the raw bytes with an image Content-Type such as image/jpeg')
    return { file: await receive(detachable(body), maxBytes), fields: {} }
  }
  const fields: Record<string, string> = {}
  let file: ReceivedFile | undefined
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        const filePart = part as MultipartFile
        if (part.fieldname !== FILE_FIELD || file !== undefined) {
          filePart.file.resume()
          throw withFieldErrors(errors.validationFailed(`Send exactly one file, in the part named "${FILE_FIELD}"`) as CatalogueError, [{ in: 'body', pointer: `/${part.fieldname}`, message: `is not expected; the file goes in "${FILE_FIELD}"` }])
        }
        file = await receive(filePart.file, maxBytes)
      } else {
        if (Object.hasOwn(fields, part.fieldname)) {
          throw withFieldErrors(errors.validationFailed(`The field "${part.fieldname}" is sent twice`) as CatalogueError, [{ in: 'body', pointer: `/${part.fieldname}`, message: 'is sent twice' }])
        }
        fields[part.fieldname] = String(part.value)
      }
    }
  } catch (error) {
    await discard(file)
    const code = (error as { code?: string }).code
    if (code === 'FST_REQ_FILE_TOO_LARGE') throw tooLarge(maxBytes)
    if (code === 'FST_PARTS_LIMIT' || code === 'FST_FILES_LIMIT' || code === 'FST_FIELDS_LIMIT') throw errors.validationFailed('Too many parts in the form: send one file and its text fields')
    if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE' || (error instanceof Error && /Unexpected end of form|Multipart: Boundary not found|Malformed part header/.test(error.message))) {
      throw errors.validationFailed('The multipart/form-data body is malformed or incomplete')
    }
    throw error
  }
  if (file === undefined) {
    throw withFieldErrors(errors.emptyUpload(`No file was sent: put it in the part named "${FILE_FIELD}"`) as CatalogueError, [{ in: 'body', pointer: `/${FILE_FIELD}`, message: 'is required' }])
  }
  return { file, fields }
}
