// Uploads under load (issue 17): beyond the decoding concurrency and UPLOAD_QUEUE_LIMIT an upload is
// refused at once with 503 and Retry-After; every accepted one is answered, however long it waits
// its turn; and the temporary files of uploads a crash interrupted are removed at start.
import t from 'tap'
import sharp from 'sharp'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { adminKey, buildTestApp } from './helper.ts'

const auth = { authorization: `Bearer ${adminKey}` }

/** Distinct JPEGs of noise: each takes a second or so to decode and encode. */
async function noisyPhotos (count: number): Promise<Buffer[]> {
  const width = 1200
  const height = 900
  const pixels = await sharp({ create: { width, height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).raw().toBuffer()
  return await Promise.all(Array.from({ length: count }, async (_, index) => await sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 - index }).toBuffer()))
}

/** This process's upload folders in the temporary directory: one per upload being received or processed. */
function uploadsInProgress (): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith(`copydesk-upload-${process.pid}-`))
}

async function until (condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

t.test('a burst of uploads: each is stored and answered 201, or refused at once with 503 and Retry-After; none is dropped', async (t) => {
  // One decoding at a time and one waiting: two uploads at once. The idle timeout (REQUEST_TIMEOUT_MS)
  // is shorter than an upload's wait for its turn, which used to cut such uploads without an answer.
  const app = await buildTestApp(t, { backgroundJobs: false, imageProcessingConcurrency: 1, uploadQueueLimit: 1, requestTimeoutMs: 1000, headersTimeoutMs: 1000, changeStreamHeartbeatMs: 200 })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const photos = await noisyPhotos(5)
  const answers = await Promise.all(photos.map(async (photo, index) => {
    const response = await fetch(`http://127.0.0.1:${port}/images/upload?altText=Burst%20${index}`, { method: 'POST', headers: { ...auth, 'content-type': 'image/jpeg' }, body: photo })
    return { status: response.status, retryAfter: response.headers.get('retry-after'), type: response.headers.get('content-type'), body: await response.json() as { id?: string, code?: string } }
  }))
  const stored = answers.filter((answer) => answer.status === 201)
  const refused = answers.filter((answer) => answer.status === 503)
  t.equal(stored.length + refused.length, photos.length, `every upload is answered 201 or 503 (${answers.map((answer) => answer.status).join(', ')})`)
  t.ok(stored.length >= 1 && stored.length <= 2, 'the ones taken in are stored')
  t.ok(refused.length >= 1, 'the ones beyond the queue are refused')
  for (const answer of refused) {
    t.match(answer, { retryAfter: /^\d+$/, type: /^application\/problem\+json/, body: { code: 'UPLOAD_QUEUE_FULL' } })
  }
  const images = await app.db.image.findMany({ select: { id: true } })
  t.same(images.map((image) => image.id).sort(), stored.map((answer) => answer.body.id).sort(), 'the images stored are exactly those answered 201')
  await until(() => uploadsInProgress().length === 0, 'the temporary files are gone')
})

t.test('a full queue refuses an upload before reading its body, and takes uploads again once there is room', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false, imageProcessingConcurrency: 1, uploadQueueLimit: 1 })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const [photo] = await noisyPhotos(1) as [Buffer]
  // Two uploads whose clients send half their file and then nothing: both places are taken.
  const stalled: Socket[] = []
  for (const name of ['a', 'b']) {
    const socket = connect(port, '127.0.0.1')
    socket.on('error', () => {})
    await new Promise((resolve) => socket.once('connect', resolve))
    socket.write(`POST /images/upload?altText=Stalled%20${name} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${adminKey}\r\nContent-Type: image/jpeg\r\nContent-Length: ${photo.length}\r\n\r\n`)
    socket.write(photo.subarray(0, photo.length / 2))
    stalled.push(socket)
  }
  await until(() => uploadsInProgress().length === 2, 'both stalled uploads are being received')

  const started = performance.now()
  const refused = await fetch(`http://127.0.0.1:${port}/images/upload?altText=Third`, { method: 'POST', headers: { ...auth, 'content-type': 'image/jpeg' }, body: photo })
  t.equal(refused.status, 503)
  t.equal(refused.headers.get('retry-after'), '5')
  t.match(await refused.json(), { status: 503, code: 'UPLOAD_QUEUE_FULL' })
  t.ok(performance.now() - started < 2000, 'at once')
  t.equal(uploadsInProgress().length, 2, 'its body was not taken in')

  for (const socket of stalled) socket.destroy()
  await until(() => uploadsInProgress().length === 0, 'the stalled uploads are let go')
  const accepted = await fetch(`http://127.0.0.1:${port}/images/upload?altText=Later`, { method: 'POST', headers: { ...auth, 'content-type': 'image/jpeg' }, body: photo })
  t.equal(accepted.status, 201, 'room again')
  t.equal(await app.db.image.count(), 1)
})

t.test('cold renditions: one request makes each, the others wait for it; beyond RENDITION_QUEUE_LIMIT, 503 with Retry-After at once', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false, imageProcessingConcurrency: 1, renditionQueueLimit: 1 })
  const [photo] = await noisyPhotos(1)
  const uploaded = await app.inject({ method: 'POST', url: '/images/upload?altText=Cold', headers: { 'content-type': 'image/jpeg' }, payload: photo })
  t.equal(uploaded.statusCode, 201)
  const { id } = JSON.parse(uploaded.body) as { id: string }

  const same = await Promise.all(Array.from({ length: 8 }, async () => await app.inject({ url: `/images/${id}/file?w=800&format=webp` })))
  t.same(same.map((answer) => answer.statusCode), Array(8).fill(200), 'eight requests for the same cold rendition are all answered')
  t.equal(new Set(same.map((answer) => answer.rawPayload.toString('base64'))).size, 1, 'with the one rendition made for them all')

  const widths = [160, 320, 480, 640, 1024]
  const burst = await Promise.all(widths.map(async (w) => await app.inject({ url: `/images/${id}/file?w=${w}&format=avif` })))
  const refused = burst.filter((answer) => answer.statusCode === 503)
  t.same(burst.filter((answer) => answer.statusCode !== 200 && answer.statusCode !== 503), [], 'each answered 200 or 503')
  t.ok(refused.length >= 1, `different renditions beyond the limit are refused (${refused.length} of ${widths.length})`)
  for (const answer of refused) {
    t.match(JSON.parse(answer.body), { code: 'TRY_AGAIN', status: 503 })
    t.ok(Number(answer.headers['retry-after']) > 0, 'with Retry-After')
  }
  for (const w of widths) t.equal((await app.inject({ url: `/images/${id}/file?w=${w}&format=avif` })).statusCode, 200, `w=${w} is made when asked again`)
})

t.test('temporary files of uploads a crash interrupted are removed at start; those of running instances are kept', async (t) => {
  const exited = spawnSync(process.execPath, ['-e', '']).pid
  const folder = (name: string): string => {
    const path = join(tmpdir(), name)
    mkdirSync(path)
    writeFileSync(join(path, 'upload'), 'half an upload')
    t.teardown(() => { rmSync(path, { recursive: true, force: true }) })
    return path
  }
  const ofExitedProcess = folder(`copydesk-upload-${exited}-0123abcd-Xy12Zq`)
  const ofEarlierRunOfThisPid = folder(`copydesk-upload-${process.pid}-0123abcd-Ab34Cd`)
  const ofRunningProcess = folder(`copydesk-upload-${process.ppid}-0123abcd-Ef56Gh`)
  const unnamedButRecent = folder('copydesk-upload-Ij78Kl')
  const unnamedAndOld = folder('copydesk-upload-Mn90Op')
  const twoHoursAgo = new Date(Date.now() - 2 * 3600_000)
  utimesSync(unnamedAndOld, twoHoursAgo, twoHoursAgo)

  await buildTestApp(t, { backgroundJobs: false })
  t.notOk(existsSync(ofExitedProcess), 'its process has exited')
  t.notOk(existsSync(ofEarlierRunOfThisPid), 'an earlier run with the same pid (a restarted container)')
  t.notOk(existsSync(unnamedAndOld), 'older than any upload takes')
  t.ok(existsSync(ofRunningProcess), 'another instance, still running')
  t.ok(existsSync(unnamedButRecent), 'recent, and nothing says whose')
})
