// Where image files live, behind one small interface: the local filesystem (the embedded default)
// or S3-compatible object storage (several instances). Keys are made by the server from content
// hashes ("masters/<sha256>.jpg", "renditions/<sha256>/800.webp"); a name a user supplied never
// becomes a key, let alone a path.
import { createReadStream } from 'node:fs'
import { copyFile, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { basename, dirname, join, resolve, sep } from 'node:path'
import { randomUUID } from 'node:crypto'
import type { Readable } from 'node:stream'
import type { S3StorageSettings } from './storage-s3.ts'

export interface StoredObject {
  body: Readable
  bytes: number
}

export interface ImageStorage {
  readonly kind: 'filesystem' | 's3'
  /** Stores the file at a local path under `key` (replacing what was there). */
  putFile: (key: string, path: string, contentType: string) => Promise<void>
  putBuffer: (key: string, data: Buffer, contentType: string) => Promise<void>
  /** The object's bytes as a stream, or null when there is none. */
  get: (key: string) => Promise<StoredObject | null>
  exists: (key: string) => Promise<boolean>
  /** Removes every object whose key starts with `prefix`. */
  deletePrefix: (prefix: string) => Promise<void>
  close: () => Promise<void>
}

const KEY_PATTERN = /^[a-z0-9]+(?:[/._-][a-z0-9]+)*$/

/** Keys are ours, but checked anyway: no "..", no absolute paths, no surprises. */
export function assertStorageKey (key: string): void {
  if (!KEY_PATTERN.test(key) || key.includes('..')) throw new Error(`invalid storage key: ${key}`)
}

/** S3-compatible storage. The AWS SDK is loaded only by deployments that use it: it is a seventh of the memory at idle. */
export async function openS3Storage (settings: S3StorageSettings): Promise<ImageStorage> {
  const { s3Storage } = await import('./storage-s3.ts')
  return s3Storage(settings)
}

export function filesystemStorage (root: string): ImageStorage {
  const base = resolve(root)
  const pathOf = (key: string): string => {
    assertStorageKey(key)
    const path = resolve(base, key)
    if (!path.startsWith(base + sep)) throw new Error(`storage key escapes the storage folder: ${key}`)
    return path
  }
  // Written beside the target, then renamed: a reader never sees half a file, and a crash
  // mid-write leaves at most a stray temporary file, never a truncated image.
  const atomically = async (key: string, write: (temporary: string) => Promise<void>): Promise<void> => {
    const target = pathOf(key)
    await mkdir(dirname(target), { recursive: true })
    const temporary = `${target}.${randomUUID()}.tmp`
    try {
      await write(temporary)
      await rename(temporary, target)
    } catch (error) {
      await rm(temporary, { force: true })
      throw error
    }
  }
  return {
    kind: 'filesystem',
    putFile: async (key, path) => { await atomically(key, async (temporary) => { await copyFile(path, temporary) }) },
    putBuffer: async (key, data) => { await atomically(key, async (temporary) => { await writeFile(temporary, data) }) },
    get: async (key) => {
      const path = pathOf(key)
      try {
        const { size } = await stat(path)
        return { body: createReadStream(path), bytes: size }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
        throw error
      }
    },
    exists: async (key) => {
      const path = pathOf(key)
      try {
        await stat(path)
        return true
      } catch {
        return false
      }
    },
    deletePrefix: async (prefix) => {
      const folder = prefix.endsWith('/') ? pathOf(prefix.slice(0, -1)) : dirname(pathOf(prefix))
      if (prefix.endsWith('/')) {
        await rm(folder, { recursive: true, force: true })
        return
      }
      const start = basename(pathOf(prefix))
      const entries = await readdir(folder).catch(() => [] as string[])
      await Promise.all(entries.filter((entry) => entry.startsWith(start)).map(async (entry) => { await rm(join(folder, entry), { recursive: true, force: true }) }))
    },
    close: async () => {}
  }
}
