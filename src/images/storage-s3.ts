// Image files in S3 or an S3-compatible store (MinIO, R2, Ceph…), for deployments with several
// instances that cannot share a disk. Same contract as filesystemStorage in ./storage.ts.
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig
} from '@aws-sdk/client-s3'
import { assertStorageKey, type ImageStorage } from './storage.ts'

export interface S3StorageSettings {
  bucket: string
  /** For S3-compatibles; omitted for AWS itself. */
  endpoint?: string
  region: string
  accessKeyId?: string
  secretAccessKey?: string
  /** Most S3-compatibles only route "endpoint/bucket/key", not "bucket.endpoint/key". */
  forcePathStyle: boolean
  /** Prepended to every key, e.g. "copydesk/", so the bucket can be shared. */
  prefix?: string
}

// DeleteObjects takes at most this many keys per request.
const DELETE_BATCH = 1000

function isNotFound (error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const { name, $metadata } = error as { name?: unknown, $metadata?: { httpStatusCode?: number } }
  return name === 'NoSuchKey' || name === 'NotFound' || $metadata?.httpStatusCode === 404
}

export function s3Storage (settings: S3StorageSettings): ImageStorage {
  const config: S3ClientConfig = {
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    // Since SDK 3.729 uploads default to aws-chunked bodies with a trailing CRC32, which many
    // S3-compatible servers reject; only send (and check) checksums where S3 insists on them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED'
  }
  if (settings.endpoint !== undefined && settings.endpoint !== '') config.endpoint = settings.endpoint
  // Without explicit keys the SDK's default chain (environment, profile, instance role) applies.
  if (settings.accessKeyId !== undefined && settings.accessKeyId !== '' &&
      settings.secretAccessKey !== undefined && settings.secretAccessKey !== '') {
    config.credentials = { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey }
  }
  const client = new S3Client(config)
  const Bucket = settings.bucket
  const prefix = settings.prefix ?? ''

  const objectKey = (key: string): string => {
    assertStorageKey(key)
    return prefix + key
  }

  return {
    kind: 's3',
    putFile: async (key, path, contentType) => {
      const Key = objectKey(key)
      // A stream of unknown length would make the SDK fall back to chunked encoding; the
      // explicit length keeps it a plain, single PUT.
      const { size } = await stat(path)
      await client.send(new PutObjectCommand({ Bucket, Key, Body: createReadStream(path), ContentLength: size, ContentType: contentType }))
    },
    putBuffer: async (key, data, contentType) => {
      const Key = objectKey(key)
      await client.send(new PutObjectCommand({ Bucket, Key, Body: data, ContentLength: data.length, ContentType: contentType }))
    },
    get: async (key) => {
      const Key = objectKey(key)
      try {
        const response = await client.send(new GetObjectCommand({ Bucket, Key }))
        // In Node the SDK's body is an http.IncomingMessage (a Readable) with SDK mixins.
        return { body: response.Body as Readable, bytes: response.ContentLength ?? 0 }
      } catch (error) {
        if (isNotFound(error)) return null
        throw error
      }
    },
    exists: async (key) => {
      const Key = objectKey(key)
      try {
        await client.send(new HeadObjectCommand({ Bucket, Key }))
        return true
      } catch (error) {
        // HEAD responses have no body, so the SDK can only report "NotFound" / 404.
        if (isNotFound(error)) return false
        throw error
      }
    },
    deletePrefix: async (keyPrefix) => {
      // A folder-like prefix ends in "/", which no key may; check it without the slash. An empty
      // prefix is rejected too, so a slip can never empty the whole bucket.
      const folder = keyPrefix.endsWith('/')
      const Prefix = objectKey(folder ? keyPrefix.slice(0, -1) : keyPrefix) + (folder ? '/' : '')
      let ContinuationToken: string | undefined
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix, ContinuationToken, MaxKeys: DELETE_BATCH }))
        const keys = (page.Contents ?? []).flatMap((object) => object.Key === undefined ? [] : [{ Key: object.Key }])
        for (let start = 0; start < keys.length; start += DELETE_BATCH) {
          const result = await client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: keys.slice(start, start + DELETE_BATCH), Quiet: true } }))
          // DeleteObjects answers 200 even when single keys fail; those come back in Errors.
          const failed = result.Errors ?? []
          if (failed.length > 0) {
            const first = failed[0]
            throw new Error(`could not delete ${failed.length} object(s) under ${Prefix}: ${first?.Key ?? '?'}: ${first?.Code ?? ''} ${first?.Message ?? ''}`.trim())
          }
        }
        ContinuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined
      } while (ContinuationToken !== undefined)
    },
    close: async () => { client.destroy() }
  }
}
