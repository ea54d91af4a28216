// One contract, two implementations: whatever the filesystem storage promises, the S3 storage
// must keep too, checked against a real (if small) S3 server rather than a mock.
import t, { type Test } from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Readable } from 'node:stream'
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3'
import { filesystemStorage, type ImageStorage } from '../src/images/storage.ts'
import { s3Storage, type S3StorageSettings } from '../src/images/storage-s3.ts'

// s3rver ships no type declarations; this is the part of its API the test uses.
interface S3rverInstance {
  run: () => Promise<AddressInfo>
  close: () => Promise<void>
}
type S3rverClass = new (options: {
  port: number
  address: string
  silent: boolean
  directory: string
  configureBuckets: Array<{ name: string, configs: Array<string | Buffer> }>
}) => S3rverInstance
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass

const BUCKET = 'copydesk-test'
const INVALID_KEYS = ['../etc/passwd', '/abs', 'a/../b', 'UPPER', 'a b', '']

async function read (body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of body) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array))
  return Buffer.concat(chunks)
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex')

async function listFiles (root: string, folder = ''): Promise<string[]> {
  const entries = await readdir(join(root, folder), { withFileTypes: true }).catch(() => [])
  const files = await Promise.all(entries.map(async (entry) => {
    const relative = folder === '' ? entry.name : `${folder}/${entry.name}`
    return entry.isDirectory() ? await listFiles(root, relative) : [relative]
  }))
  return files.flat().sort()
}

async function listObjects (client: S3Client, Prefix?: string): Promise<string[]> {
  const keys: string[] = []
  let ContinuationToken: string | undefined
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix, ContinuationToken }))
    for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key)
    ContinuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined
  } while (ContinuationToken !== undefined)
  return keys.sort()
}

function contract (t: Test, storage: ImageStorage, scratch: string, everything: () => Promise<string[]>): void {
  t.test('putBuffer, then get', async (t) => {
    const data = randomBytes(12_345)
    await storage.putBuffer('masters/buffer.jpg', data, 'image/jpeg')
    const object = await storage.get('masters/buffer.jpg')
    if (object === null) return t.fail('the object is there')
    t.equal(object.bytes, data.length, 'bytes is the stored length')
    t.ok((await read(object.body)).equals(data), 'the same bytes come back')
    t.equal(await storage.exists('masters/buffer.jpg'), true)
  })

  t.test('putFile streams a large file intact', async (t) => {
    const data = randomBytes(3 * 1024 * 1024 + 17)
    const path = join(scratch, 'large.bin')
    await writeFile(path, data)
    await storage.putFile('renditions/large/1600.webp', path, 'image/webp')
    const object = await storage.get('renditions/large/1600.webp')
    if (object === null) return t.fail('the object is there')
    t.equal(object.bytes, data.length)
    t.equal(sha256(await read(object.body)), sha256(data), 'byte-identical after the round trip')
    t.equal((await stat(path)).size, data.length, 'the source file is left alone')
  })

  t.test('a second put replaces the object', async (t) => {
    await storage.putBuffer('masters/replaced.png', Buffer.from('first version, the longer one'), 'image/png')
    await storage.putBuffer('masters/replaced.png', Buffer.from('second'), 'image/png')
    const object = await storage.get('masters/replaced.png')
    if (object === null) return t.fail('the object is there')
    t.equal(object.bytes, 6)
    t.equal((await read(object.body)).toString(), 'second')
  })

  t.test('a missing key', async (t) => {
    t.equal(await storage.get('masters/missing.jpg'), null, 'get gives null')
    t.equal(await storage.exists('masters/missing.jpg'), false, 'exists gives false')
  })

  t.test('deletePrefix', async (t) => {
    const put = async (key: string): Promise<void> => { await storage.putBuffer(key, Buffer.from(key), 'application/octet-stream') }
    await put('renditions/abc/800.webp')
    await put('renditions/abc/400.avif')
    await put('renditions/abd/800.webp')
    await put('masters/abc.jpg')

    await storage.deletePrefix('renditions/abc/')
    t.equal(await storage.exists('renditions/abc/800.webp'), false)
    t.equal(await storage.exists('renditions/abc/400.avif'), false)
    t.equal(await storage.exists('renditions/abd/800.webp'), true, 'a neighbouring folder stays')
    t.equal(await storage.exists('masters/abc.jpg'), true, 'the same hash elsewhere stays')

    await storage.deletePrefix('masters/abc')
    t.equal(await storage.exists('masters/abc.jpg'), false, 'a prefix that is not a folder works too')
    t.equal(await storage.exists('renditions/abd/800.webp'), true)
    await storage.deletePrefix('renditions/nothing-here/')
    t.pass('deleting an empty prefix is fine')
  })

  t.test('invalid keys are refused and nothing is written', async (t) => {
    const before = await everything()
    const source = join(scratch, 'small.bin')
    await writeFile(source, 'data')
    for (const key of INVALID_KEYS) {
      await t.rejects(storage.putBuffer(key, Buffer.from('data'), 'image/jpeg'), `putBuffer ${JSON.stringify(key)}`)
      await t.rejects(storage.putFile(key, source, 'image/jpeg'), `putFile ${JSON.stringify(key)}`)
      await t.rejects(storage.get(key), `get ${JSON.stringify(key)}`)
      await t.rejects(storage.exists(key), `exists ${JSON.stringify(key)}`)
      await t.rejects(storage.deletePrefix(key), `deletePrefix ${JSON.stringify(key)}`)
    }
    t.same(await everything(), before, 'the store is unchanged')
  })
}

const scratch = await mkdtemp(join(tmpdir(), 'copydesk-storage-'))
t.teardown(async () => { await rm(scratch, { recursive: true, force: true }) })

t.test('filesystem storage', async (t) => {
  const root = join(scratch, 'filesystem')
  const storage = filesystemStorage(root)
  t.teardown(storage.close)
  contract(t, storage, scratch, async () => await listFiles(root))
  t.test('nothing escapes the storage folder', async (t) => {
    t.same(await listFiles(resolve(root, '..')).then((files) => files.filter((file) => !file.startsWith('filesystem/') && !file.startsWith('s3rver/') && !file.endsWith('.bin'))), [])
  })
})

t.test('s3 storage (s3rver)', async (t) => {
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory: join(scratch, 's3rver'),
    configureBuckets: [{ name: BUCKET, configs: [] }]
  })
  const { port } = await server.run()
  const settings: S3StorageSettings = {
    bucket: BUCKET,
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    forcePathStyle: true
  }
  // A client of our own, to see what really is in the bucket.
  const inspector = new S3Client({
    endpoint: settings.endpoint,
    region: settings.region,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }
  })
  const storage = s3Storage(settings)
  const prefixed = s3Storage({ ...settings, prefix: 'copydesk/' })
  // The clients first: the server only finishes closing once their kept-alive sockets are gone.
  t.teardown(async () => {
    await storage.close()
    await prefixed.close()
    inspector.destroy()
    await server.close()
  })

  t.equal(storage.kind, 's3')
  t.test('without a prefix', async (t) => {
    contract(t, storage, scratch, async () => await listObjects(inspector))
  })
  t.test('with the prefix copydesk/', async (t) => {
    contract(t, prefixed, scratch, async () => await listObjects(inspector))
    t.test('objects land under the prefix', async (t) => {
      await prefixed.putBuffer('masters/prefixed.jpg', Buffer.from('under the prefix'), 'image/jpeg')
      t.ok((await listObjects(inspector)).includes('copydesk/masters/prefixed.jpg'), 'the bucket holds copydesk/masters/prefixed.jpg')
      t.equal(await storage.exists('masters/prefixed.jpg'), false, 'not at the bare key')
      const seen = await storage.get('copydesk/masters/prefixed.jpg')
      if (seen === null) return t.fail('visible under the prefix')
      t.equal((await read(seen.body)).toString(), 'under the prefix')
      await prefixed.deletePrefix('masters/prefixed')
      t.same(await listObjects(inspector, 'copydesk/masters/prefixed'), [], 'deletePrefix honours the prefix')
      t.equal(await storage.exists('masters/buffer.jpg'), true, 'objects stored without a prefix are untouched')
    })
  })
})
