// Image uploads end to end: what is accepted and refused, what is stored, and the renditions
// frontends fetch, decoded and measured. Fixtures are made with sharp at run time.
import t from 'tap'
import sharp from 'sharp'
import { deflateSync } from 'node:zlib'
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { anonymous, buildTestApp, createArticle, json, testConfig } from './helper.ts'
import { startS3Server } from './s3-server.ts'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'

const BOUNDARY = 'copydesk-test-boundary'

function multipartBody (file: Buffer, fields: Record<string, string>, filename = 'photo.jpg', fileType = 'image/jpeg'): Buffer {
  const parts: Buffer[] = []
  for (const [name, value] of Object.entries(fields)) parts.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`))
  parts.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: ${fileType}\r\n\r\n`), file, Buffer.from(`\r\n--${BOUNDARY}--\r\n`))
  return Buffer.concat(parts)
}

async function upload (app: FastifyInstance, file: Buffer, fields: Record<string, string> = { altText: 'A photo' }, filename?: string, fileType?: string): Promise<LightMyRequestResponse> {
  return await app.inject({ method: 'POST', url: '/images/upload', headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` }, payload: multipartBody(file, fields, filename, fileType) })
}

const photo = async (width = 1600, height = 900, colour = '#4477aa'): Promise<Buffer> => await sharp({ create: { width, height, channels: 3, background: colour } }).jpeg({ quality: 85 }).toBuffer()

/** Left half red, right half blue: which one a crop shows tells where it was taken. */
async function twoHalves (): Promise<Buffer> {
  const half = await sharp({ create: { width: 800, height: 800, channels: 3, background: '#0000ff' } }).png().toBuffer()
  return await sharp({ create: { width: 1600, height: 800, channels: 3, background: '#ff0000' } }).composite([{ input: half, left: 800, top: 0 }]).jpeg().toBuffer()
}

/** A PNG that claims 50,000 × 50,000 pixels in a few hundred bytes. */
function pngBomb (): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0 })
  const crc = (data: Buffer): number => { let c = 0xffffffff; for (const byte of data) c = crcTable[(c ^ byte) & 0xff]! ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0 }
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data])
    const length = Buffer.alloc(4); length.writeUInt32BE(data.length)
    const sum = Buffer.alloc(4); sum.writeUInt32BE(crc(body))
    return Buffer.concat([length, body, sum])
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(50_000, 0); header.writeUInt32BE(50_000, 4); header[8] = 1; header[9] = 0
  const rows = deflateSync(Buffer.alloc(10 * 6251))
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', rows), chunk('IEND', Buffer.alloc(0))])
}

function storedFiles (directory: string): string[] {
  if (!existsSync(directory)) return []
  return readdirSync(directory, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name).slice(directory.length + 1))
}

t.test('an upload is measured, cleaned, deduplicated and credited', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const original = await sharp({ create: { width: 1200, height: 800, channels: 3, background: '#336699' } })
    .jpeg()
    .withExif({ IFD0: { Artist: 'Sergei Guneyev', Copyright: 'AFP' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '55/1 45/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '37/1 37/1 0/1' } })
    .withMetadata({ orientation: 6 })
    .toBuffer()
  t.ok((await sharp(original).metadata()).exif, 'the fixture carries EXIF with a GPS position')
  const response = await upload(app, original, { altText: 'Putin in a hard hat', caption: 'At the space centre', photographer: 'Sergei Guneyev', agency: 'AFP', distributor: 'Getty Images', source: 'AFP wire', focalPoint: '0.5,0.25' })
  t.equal(response.statusCode, 201)
  const image = json(response)
  t.match(image, { mimeType: 'image/jpeg', width: 800, height: 1200, altText: 'Putin in a hard hat', decorative: false, credit: 'Photo by Sergei Guneyev / AFP via Getty Images', source: 'AFP wire', focalPoint: { x: 0.5, y: 0.25 } })
  t.equal(image.width, 800, 'orientation is applied: the sideways photo stands upright')
  t.match(image.contentHash, /^[0-9a-f]{64}$/)
  const [red, green, blue] = [1, 3, 5].map((at) => parseInt(image.placeholder.color.slice(at, at + 2), 16)) as [number, number, number]
  t.ok(Math.abs(red - 0x33) <= 12 && Math.abs(green - 0x66) <= 12 && Math.abs(blue - 0x99) <= 12, `the placeholder colour ${image.placeholder.color as string} is the photo's (#336699)`)
  t.match(image.placeholder.dataUri, /^data:image\/webp;base64,/)
  t.same(await sharp(Buffer.from(image.placeholder.dataUri.split(',')[1], 'base64')).metadata().then(({ width, height }) => [width, height]), [11, 16], 'a 16-pixel placeholder of the upright picture')
  t.ok(image.bytes > 0)
  t.equal(image.url, `/images/${image.id}/file?v=${image.contentHash.slice(0, 16)}`)

  const served = await app.inject({ method: 'GET', url: image.url })
  t.equal(served.statusCode, 200)
  const metadata = await sharp(served.rawPayload).metadata()
  t.equal(metadata.exif, undefined, 'no EXIF (GPS, camera, names) in what is served')
  t.equal(metadata.xmp, undefined)
  t.same([metadata.width, metadata.height], [800, 1200])

  const again = await upload(app, original, { altText: 'Same bytes, another caption' })
  t.equal(again.statusCode, 200, 'the same bytes again: the existing image')
  t.equal(json(again).id, image.id)
  t.equal(json(await app.inject({ method: 'GET', url: '/images' })).total, 1, 'stored once')

  const raw = await app.inject({ method: 'POST', url: '/images/upload?altText=&decorative=true&credit=Handout', headers: { 'content-type': 'image/png' }, payload: await sharp({ create: { width: 300, height: 200, channels: 4, background: '#00000000' } }).png().toBuffer() })
  t.equal(raw.statusCode, 201, 'a raw body with its image Content-Type, metadata in the query')
  t.match(json(raw), { mimeType: 'image/png', width: 300, height: 200, credit: 'Handout', altText: '', decorative: true })
  const marked = await upload(app, await photo(40, 30, '#aa7744'), { altText: '', decorative: 'true' })
  t.equal(marked.statusCode, 201)
  t.equal(json(marked).decorative, true, 'a form field "true" marks an upload decorative')
  const unmarked = await upload(app, await photo(40, 30, '#77aa44'), { altText: 'A field', decorative: 'false' })
  t.equal(json(unmarked).decorative, false)
  const audit = json(await app.inject({ method: 'GET', url: `/audit?objectType=image&objectId=${image.id}` }))
  t.equal(audit.items[0].action, 'image.created', 'uploads are audited')
})

t.test('every limit and bad file is a clear 4xx, and nothing is stored', async (t) => {
  const config = await testConfig(t, { backgroundJobs: false, imageMaxUploadBytes: 200_000, imageMaxPixels: 30_000_000 })
  const app = await buildTestApp(t, config)
  const jpeg = await photo(800, 600)
  const cases: Array<[string, () => Promise<LightMyRequestResponse>, number, string]> = [
    ['an empty file', async () => await upload(app, Buffer.alloc(0)), 400, 'EMPTY_UPLOAD'],
    ['no file part', async () => await app.inject({ method: 'POST', url: '/images/upload', headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` }, payload: `--${BOUNDARY}\r\nContent-Disposition: form-data; name="altText"\r\n\r\nx\r\n--${BOUNDARY}--\r\n` }), 400, 'EMPTY_UPLOAD'],
    ['a file over the byte limit', async () => await upload(app, Buffer.concat([jpeg, Buffer.alloc(250_000)])), 413, 'UPLOAD_TOO_LARGE'],
    ['a raw body over the byte limit', async () => await app.inject({ method: 'POST', url: '/images/upload?altText=x', headers: { 'content-type': 'image/jpeg' }, payload: Buffer.alloc(300_000, 0xff) }), 413, 'UPLOAD_TOO_LARGE'],
    ['a decompression bomb (50,000 × 50,000 PNG)', async () => await upload(app, pngBomb(), undefined, 'bomb.png', 'image/png'), 422, 'IMAGE_TOO_MANY_PIXELS'],
    ['an SVG', async () => await upload(app, Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="10" height="10"/></svg>'), undefined, 'logo.svg', 'image/svg+xml'), 415, 'UNSUPPORTED_IMAGE_TYPE'],
    ['text dressed up as a PNG', async () => await upload(app, Buffer.from('definitely not an image'), undefined, 'photo.png', 'image/png'), 415, 'UNSUPPORTED_IMAGE_TYPE'],
    ['a HEIC file', async () => await upload(app, Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic\0\0\0\0mif1heic'), Buffer.alloc(100)]), undefined, 'photo.heic', 'image/heic'), 415, 'UNSUPPORTED_IMAGE_TYPE'],
    ['a truncated JPEG', async () => await upload(app, jpeg.subarray(0, Math.floor(jpeg.length / 2))), 422, 'IMAGE_UNREADABLE'],
    ['garbage after a JPEG header', async () => await upload(app, Buffer.concat([jpeg.subarray(0, 20), Buffer.alloc(5000, 7)])), 422, 'IMAGE_UNREADABLE'],
    ['no alt text', async () => await upload(app, jpeg, {}), 400, 'VALIDATION_FAILED'],
    ['an unknown field', async () => await upload(app, jpeg, { altText: 'x', exif: 'keep' }), 400, 'VALIDATION_FAILED'],
    ['a bad focal point', async () => await upload(app, jpeg, { altText: 'x', focalPoint: '2,0' }), 400, 'VALIDATION_FAILED'],
    ['decorative neither "true" nor "false"', async () => await upload(app, jpeg, { altText: 'x', decorative: 'yes' }), 400, 'VALIDATION_FAILED'],
    ['decorative neither "true" nor "false", raw', async () => await app.inject({ method: 'POST', url: '/images/upload?altText=x&decorative=1', headers: { 'content-type': 'image/jpeg' }, payload: jpeg }), 400, 'VALIDATION_FAILED'],
    ['a plain-text body', async () => await app.inject({ method: 'POST', url: '/images/upload?altText=x', headers: { 'content-type': 'text/plain' }, payload: 'hello' }), 415, 'UNSUPPORTED_MEDIA_TYPE']
  ]
  for (const [what, send, status, code] of cases) {
    const response = await send()
    t.equal(response.statusCode, status, `${what}: ${response.statusCode}`)
    t.equal(json(response).code, code, what)
    t.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8')
  }
  t.equal(json(await upload(app, jpeg, {})).errors[0].pointer, '/altText', 'the problem names the field')
  t.same(json(await upload(app, jpeg, { altText: 'x', decorative: 'yes' })).errors.map((error: { pointer: string }) => error.pointer), ['/decorative'])
  t.equal(await app.db.image.count(), 0, 'no image was recorded')
  t.same(storedFiles(config.imageDirectory), [], 'no file was stored')
})

t.test('renditions: sized, converted, cropped around the focal point, made once, cached for good', async (t) => {
  const config = await testConfig(t, { backgroundJobs: false })
  const app = await buildTestApp(t, config)
  const image = json(await upload(app, await twoHalves(), { altText: 'Red and blue', focalPoint: '0.1,0.5' }))
  await createArticle(app, { status: 'published', leadImageId: image.id })
  const get = async (query: string, headers: Record<string, string> = {}) => await app.inject({ method: 'GET', url: `${image.url}${query}`, headers: { ...anonymous, ...headers } })

  for (const format of ['webp', 'avif', 'jpeg', 'png']) {
    const response = await get(`&w=800&format=${format}`)
    t.equal(response.statusCode, 200, format)
    t.equal(response.headers['content-type'], `image/${format}`)
    const decoded = await sharp(response.rawPayload).metadata()
    t.equal(decoded.format === 'heif' ? 'avif' : decoded.format, format, `${format}: the bytes really are ${format}`)
    t.same([decoded.width, decoded.height], [800, 400], `${format}: resized to 800 wide`)
  }
  t.equal((await sharp((await get('&w=700&format=webp')).rawPayload).metadata()).width, 800, 'widths round up to the configured set')
  t.equal((await sharp((await get('&w=9000&format=webp')).rawPayload).metadata()).width, 1600, 'and never beyond the original')
  t.equal((await get('&format=auto', { accept: 'image/avif,image/webp,*/*' })).headers['content-type'], 'image/avif', 'auto follows Accept')
  t.equal((await get('&format=auto', { accept: 'image/webp,*/*' })).headers['content-type'], 'image/webp')
  const plain = await get('', { accept: '*/*' })
  t.equal(plain.headers['content-type'], 'image/jpeg', 'old browsers get the original format')
  t.match(plain.headers.vary, 'Accept')

  const left = await get('&w=400&ar=1:1&format=png')
  t.same([(await sharp(left.rawPayload).metadata()).width, (await sharp(left.rawPayload).metadata()).height], [480, 480], 'cropped square (400 rounds up to 480)')
  t.equal((await sharp(left.rawPayload).stats()).dominant.r > 200, true, 'the focal point on the left keeps the red half in view')
  await app.inject({ method: 'PATCH', url: `/images/${image.id}`, payload: { focalPoint: { x: 0.9, y: 0.5 } } })
  const right = json(await app.inject({ method: 'GET', url: `/images/${image.id}`, headers: anonymous }))
  t.same(right.focalPoint, { x: 0.9, y: 0.5 }, 'metadata changes without re-uploading')

  const first = await get('&w=640&format=webp')
  t.match(first.headers.etag, /^"[0-9a-f]{32}-640-webp"$/, 'a strong ETag')
  t.ok(first.headers['last-modified'])
  t.equal(first.headers['cache-control'], 'public, max-age=31536000, immutable', 'the versioned URL is cached for a year')
  t.ok(storedFiles(config.imageDirectory).some((file) => file.startsWith('renditions/') && file.endsWith('/640.webp')), 'the rendition is stored')
  const second = await get('&w=640&format=webp')
  t.same(second.rawPayload, first.rawPayload, 'and served again from storage, byte for byte')
  const notModified = await get('&w=640&format=webp', { 'if-none-match': first.headers.etag as string })
  t.equal(notModified.statusCode, 304, 'conditional GET')
  t.equal(notModified.rawPayload.length, 0)
  t.equal((await app.inject({ method: 'GET', url: `/images/${image.id}/file?w=640`, headers: anonymous })).headers['cache-control'], 'public, max-age=300', 'without the version, briefly')
  for (const query of ['&w=0', '&w=abc', '&format=bmp', '&ar=5:1', '&v=zz', '&x=1']) t.equal((await get(query)).statusCode, 400, query)
})

t.test('a rendition the public reads is served again from memory, and dropped when the image changes', async (t) => {
  const config = await testConfig(t, { backgroundJobs: false })
  const app = await buildTestApp(t, config)
  const image = json(await upload(app, await photo(1200, 800, '#aa3344'), { altText: 'Lead photo' }))
  await createArticle(app, { status: 'published', leadImageId: image.id })
  const url = `${image.url}&w=320&format=webp`
  const first = await app.inject({ method: 'GET', url, headers: anonymous })
  t.equal(first.statusCode, 200)
  t.match(first.headers['surrogate-key'], `image-${image.id}`, 'a CDN can purge it by the image')
  t.equal(first.headers['content-security-policy'], "default-src 'none'")
  t.equal(first.headers['x-content-type-options'], 'nosniff', 'a browser takes it for what its type says, nothing else')

  // Removed behind the API: what answers next is the instance's memory.
  rmSync(join(config.imageDirectory, 'renditions'), { recursive: true, force: true })
  const again = await app.inject({ method: 'GET', url, headers: anonymous })
  t.same([again.statusCode, again.rawPayload, again.headers.etag, again.headers['cache-control'], again.headers['content-security-policy']], [200, first.rawPayload, first.headers.etag, 'public, max-age=31536000, immutable', "default-src 'none'"], 'the same answer, headers included, without storage')
  t.notOk(storedFiles(config.imageDirectory).some((file) => file.startsWith('renditions/')), 'nothing was rendered again')
  const chosenByAccept = `${image.url}&w=320&format=auto`
  await app.inject({ method: 'GET', url: chosenByAccept, headers: { ...anonymous, accept: 'image/avif' } })
  t.equal((await app.inject({ method: 'GET', url: chosenByAccept, headers: { ...anonymous, accept: 'image/webp' } })).headers['content-type'], 'image/webp', 'an answer chosen by Accept is never served from memory to another Accept')

  t.equal((await app.inject({ method: 'PATCH', url: `/images/${image.id}`, payload: { altText: 'Lead photo, described' } })).statusCode, 200)
  const afterChange = await app.inject({ method: 'GET', url, headers: anonymous })
  t.equal(afterChange.statusCode, 200)
  t.ok(storedFiles(config.imageDirectory).some((file) => file.startsWith('renditions/') && file.endsWith('/320.webp')), 'after a change to the image the rendition is read (here, made) again')
})

t.test('replace the file, delete when unused', async (t) => {
  const config = await testConfig(t, { backgroundJobs: false })
  const app = await buildTestApp(t, config)
  const image = json(await upload(app, await photo(1600, 900), { altText: 'First', caption: 'Kept' }))
  t.equal(json(await app.inject({ method: 'PATCH', url: `/images/${image.id}`, payload: { url: 'https://elsewhere.example/x.jpg' } })).code, 'NOT_AN_UPLOAD', 'an upload\'s URL comes from its file')
  const replaced = await app.inject({ method: 'PUT', url: `/images/${image.id}/file`, headers: { 'content-type': 'image/png' }, payload: await sharp({ create: { width: 640, height: 480, channels: 3, background: '#aa0000' } }).png().toBuffer() })
  t.equal(replaced.statusCode, 200)
  t.match(json(replaced), { id: image.id, mimeType: 'image/png', width: 640, height: 480, caption: 'Kept' })
  t.not(json(replaced).url, image.url, 'a new version in the URL')
  t.notOk(storedFiles(config.imageDirectory).some((file) => file.includes(image.contentHash)), 'the old file is gone')
  const other = json(await upload(app, await photo(100, 100, '#00ff00'), { altText: 'Other' }))
  const duplicate = await app.inject({ method: 'PUT', url: `/images/${other.id}/file`, headers: { 'content-type': 'image/png' }, payload: await sharp({ create: { width: 640, height: 480, channels: 3, background: '#aa0000' } }).png().toBuffer() })
  t.equal(duplicate.statusCode, 409, 'replacing with bytes another image already has')

  const article = await createArticle(app, { leadImageId: image.id })
  t.equal((await app.inject({ method: 'DELETE', url: `/images/${image.id}` })).statusCode, 409, 'in use: kept')
  await app.inject({ method: 'DELETE', url: `/articles/${article.id}` })
  t.equal((await app.inject({ method: 'DELETE', url: `/images/${image.id}` })).statusCode, 204)
  t.notOk(storedFiles(config.imageDirectory).some((file) => file.includes(json(replaced).contentHash)), 'its files are removed')
  t.equal((await app.inject({ method: 'GET', url: json(replaced).url })).statusCode, 404)
})

t.test('over a real connection, raw and multipart uploads stream in as they do through inject', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const auth = { authorization: 'Bearer cdk_test-admin-key-0123456789abcdefghijklmnopqrstuv' }
  const raw = await fetch(`http://127.0.0.1:${port}/images/upload?altText=Raw&photographer=Sergei%20Guneyev&agency=AFP`, { method: 'POST', headers: { ...auth, 'content-type': 'image/jpeg' }, body: await photo(1200, 800, '#aa3344') })
  t.equal(raw.status, 201, 'raw body')
  const rawImage = await raw.json() as { width: number, credit: string }
  t.same([rawImage.width, rawImage.credit], [1200, 'Photo by Sergei Guneyev / AFP'])
  const form = new FormData()
  form.set('altText', 'Multipart')
  form.set('file', new Blob([await photo(640, 480, '#22aa44')], { type: 'image/jpeg' }), 'photo.jpg')
  const multipart = await fetch(`http://127.0.0.1:${port}/images/upload`, { method: 'POST', headers: auth, body: form })
  t.equal(multipart.status, 201, 'multipart/form-data')
  t.same(((await multipart.json()) as { height: number }).height, 480)
})

t.test('a client that disconnects mid-upload leaves nothing behind', async (t) => {
  const config = await testConfig(t, { backgroundJobs: false })
  const app = await buildTestApp(t, config)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const socket = connect(port, '127.0.0.1')
  await new Promise((resolve) => socket.once('connect', resolve))
  const jpeg = await photo(1600, 900)
  socket.write(`POST /images/upload?altText=Cut HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer cdk_test-admin-key-0123456789abcdefghijklmnopqrstuv\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length * 4}\r\n\r\n`)
  socket.write(jpeg)
  await new Promise((resolve) => setTimeout(resolve, 300))
  socket.destroy()
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.equal(await app.db.image.count(), 0, 'no image')
  t.same(storedFiles(config.imageDirectory), [], 'no file')
})

t.test('uploads and renditions work the same on S3-compatible storage', async (t) => {
  const s3 = await startS3Server()
  const app = await buildTestApp(t, { backgroundJobs: false, imageStorage: 's3', s3Bucket: s3.bucket, s3Endpoint: s3.endpoint, s3AccessKeyId: 'S3RVER', s3SecretAccessKey: 'S3RVER', s3ForcePathStyle: true, s3Prefix: 'newsroom/' })
  t.teardown(async () => { await app.close(); await s3.close() })
  const image = json(await upload(app, await twoHalves(), { altText: 'On S3' }))
  t.equal(image.width, 1600)
  const rendition = await app.inject({ method: 'GET', url: `${image.url}&w=320&format=webp` })
  t.equal(rendition.statusCode, 200)
  t.same([(await sharp(rendition.rawPayload).metadata()).width, (await sharp(rendition.rawPayload).metadata()).format], [320, 'webp'])
  const again = await app.inject({ method: 'GET', url: `${image.url}&w=320&format=webp` })
  t.same(again.rawPayload, rendition.rawPayload, 'served from the bucket the second time')
  t.equal((await app.inject({ method: 'DELETE', url: `/images/${image.id}` })).statusCode, 204)
  t.equal((await app.inject({ method: 'GET', url: `${image.url}&w=320&format=webp` })).statusCode, 404)
})
