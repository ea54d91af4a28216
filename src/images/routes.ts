import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { IdParams, idParamsFor, Page } from '../common-schemas.ts'
import { actorOf } from '../keys/routes.ts'
import { errors, problemResponses, type CatalogueError } from '../errors.ts'
import type { FastifySchemaValidationError } from 'fastify/types/schema.js'
import multipart from '@fastify/multipart'
import { buildValidatorCompiler } from '../validation.ts'
import { ImageCreate, ImageListQuery, ImagePatch, ImageRef, ImageUploadFields, ImageUploadQuery, RenditionQuery } from './schemas.ts'
import { discard, receiveUpload, removeAbandonedUploads, type Upload } from './upload.ts'
import { createDecoding, decodingConcurrency, UploadGate } from './processing.ts'
import type { Socket } from 'node:net'
import type { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { exampleIds, onePixelGif } from '../examples.ts'
import * as images from './service.ts'

const tags = ['Images']
/** Image files up to this size are kept by the response cache (renditions are tens of KB; masters stream). */
const CACHED_FILE_MAX_BYTES = 1_048_576
// The seeded images are registered by URL: the file operations have no seeded id to show.
const ImageIdParams = idParamsFor(exampleIds.image)

export const imageRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/images', {
    config: { access: 'public', cache: 'images' },
    schema: {
      operationId: 'listImages', summary: 'List images, newest first', description: 'Returns a page of images with their URLs, alt text, captions and credits, newest first. Without a key, only images readers can already see (on a published article, or an author\'s avatar); staff keys also see photos picked for unpublished drafts.', tags,
      querystring: ImageListQuery,
      response: { 200: Page(ImageRef, 'Image'), ...problemResponses(400) }
    }
  }, async (request) => await images.readMany(app.db, request.query, request.actor))

  app.post('/images', {
    config: { access: 'editor' },
    schema: {
      operationId: 'createImage', summary: 'Register an image by URL, with its caption and credit', description: 'Registers an image hosted elsewhere, by its URL, with its alt text, caption and credit, and returns it with a Location header. To store the file on this server and get renditions, use POST /images/upload instead.', tags,
      body: ImageCreate,
      response: { 201: ImageRef, ...problemResponses(400, 413, 415) }
    }
  }, async (request, reply) => {
    const image = await images.createOne(app.db, request.body, actorOf(request))
    return await reply.code(201).header('location', `/images/${image.id}`).send(image)
  })

  app.get('/images/:id', {
    config: { access: 'public', cache: 'images' },
    schema: {
      operationId: 'getImage', summary: 'Read an image', description: 'Returns one image\'s URL, alt text, caption and credit. Without a key, an image used only by unpublished drafts is 404.', tags,
      params: ImageIdParams,
      response: { 200: ImageRef, ...problemResponses(400, 404) }
    }
  }, async (request) => await images.readOne(app.db, request.params.id, request.actor))

  app.put('/images/:id', {
    config: { access: 'editor' },
    schema: {
      operationId: 'replaceImage', summary: 'Replace an image\'s metadata (fields left out are cleared)', description: 'Replaces all of the image\'s metadata with the body sent (fields left out are cleared) and returns it. An uploaded image\'s file is replaced with PUT /images/{id}/file.', tags,
      params: ImageIdParams,
      body: ImageCreate,
      response: { 200: ImageRef, ...problemResponses(400, 404, 409, 413, 415) }
    }
  }, async (request) => await images.replaceOne(app.db, request.params.id, request.body, actorOf(request)))

  app.patch('/images/:id', {
    config: { access: 'editor' },
    schema: {
      operationId: 'updateImage', summary: 'Change some of an image\'s metadata', description: 'Changes only the metadata fields sent and returns the image; articles that show it pick up the new caption and credit.', tags,
      params: ImageIdParams,
      body: ImagePatch,
      response: { 200: ImageRef, ...problemResponses(400, 404, 409, 413, 415) }
    }
  }, async (request) => await images.updateOne(app.db, request.params.id, request.body, actorOf(request)))

  app.delete('/images/:id', {
    config: { access: 'editor' },
    schema: {
      operationId: 'deleteImage', summary: 'Delete an image that nothing uses', description: 'Deletes an image that no article or author uses, with its stored file and renditions; otherwise 409 lists where it is still used.', tags,
      params: idParamsFor(exampleIds.idleImage),
      response: { 204: Type.Null({ description: 'Deleted' }), ...problemResponses(400, 404, 409) }
    }
  }, async (request, reply) => {
    const removed = await images.deleteOne(app.db, request.params.id, actorOf(request))
    await forgetFiles(removed)
    return await reply.code(204).send(null)
  })

  /** After a committed delete or replacement: a file left behind is garbage, not an error for the editor. */
  async function forgetFiles (removed: { storageKey: string | null, contentHash: string | null }): Promise<void> {
    await images.forgetFiles(app.imageStorage, removed).catch((error: unknown) => { app.log.warn({ err: error, removed }, 'could not remove an image\'s files') })
  }

  const concurrency = decodingConcurrency(app.config.imageProcessingConcurrency)
  const settings: images.FileSettings = { maxPixels: app.config.imageMaxPixels, widths: app.config.imageWidths.split(',').map(Number).sort((a, b) => a - b), decoding: createDecoding(concurrency), renditionsInProgress: new Map(), renditionQueueLimit: app.config.renditionQueueLimit }
  const uploads = new UploadGate(concurrency + app.config.uploadQueueLimit)
  const abandoned = await removeAbandonedUploads()
  if (abandoned > 0) app.log.info({ removed: abandoned }, 'removed the temporary files of uploads a crash interrupted')

  /**
   * Receives an upload and hands it to `work`, or refuses it at once (503, before its body is read)
   * when as many uploads are in progress as this instance takes.
   */
  async function withUpload<T> (request: FastifyRequest, reply: FastifyReply, work: (upload: Upload) => Promise<T>): Promise<T> {
    const leave = uploads.enter()
    if (leave === null) {
      void reply.header('retry-after', '5')
      throw errors.uploadQueueFull(`${uploads.inProgress} uploads are in progress, as many as this instance takes (UPLOAD_QUEUE_LIMIT); try again shortly`)
    }
    try {
      const upload = await receiveUpload(request, app.config.imageMaxUploadBytes)
      // Received whole: the rest is the server's work, however long its turn takes to come. The
      // connection's idle timeout is for stalled clients; without this it cut uploads waiting to be
      // decoded, which were then stored without their client ever hearing.
      // (inject's stand-in socket has no timer.)
      const socket = request.raw.socket as Partial<Socket> | undefined
      if (typeof socket?.setTimeout === 'function') socket.setTimeout(0)
      try {
        return await work(upload)
      } finally {
        await discard(upload.file)
      }
    } finally {
      leave()
    }
  }

  const validateFields = buildValidatorCompiler([])({ schema: ImageUploadFields, httpPart: 'body', method: 'POST', url: '/images/upload' }) as ((value: unknown) => boolean) & { errors?: FastifySchemaValidationError[] }

  /** The upload's text: form fields (multipart) or the query string (raw body), checked like any body. */
  function uploadFields (fields: Record<string, string>, query: Record<string, string | undefined>): ImageUploadFields {
    const merged = Object.fromEntries(Object.entries({ ...query, ...fields }).filter(([, value]) => value !== undefined))
    if (!validateFields(merged)) {
      const error = errors.validationFailed('The upload\'s fields are invalid') as CatalogueError & { validation?: unknown, validationContext?: string }
      error.validation = validateFields.errors
      error.validationContext = 'body'
      throw error
    }
    return merged as ImageUploadFields
  }

  // Raw uploads: the body is passed on as a stream, and the bytes decide what it is.
  app.addContentTypeParser(/^image\/[a-z0-9.+-]+$|^application\/octet-stream$/, (_request, payload, done) => { done(null, payload) })
  await app.register(multipart, { limits: { fileSize: app.config.imageMaxUploadBytes + 1, files: 1, fields: 20, fieldSize: 10_000, parts: 21, headerPairs: 50 } })

  const binary = (mediaType: string) => ({ type: 'string', format: 'binary', contentMediaType: mediaType })
  const imageTypes = ['image/jpeg', 'image/png', 'image/webp', 'image/avif', 'image/gif']
  /** The file as a form part or as the whole body; a new upload also takes its metadata. */
  const uploadBody = (withFields: boolean) => ({
    required: true,
    content: {
      'multipart/form-data': {
        schema: {
          type: 'object',
          required: withFields ? ['file', 'altText'] : ['file'],
          properties: { file: { ...binary('application/octet-stream'), description: 'The picture: JPEG, PNG, WebP, AVIF or GIF' }, ...(withFields ? ImageUploadFields.properties : {}) }
        },
        encoding: { file: { contentType: imageTypes.join(', ') } },
        example: { file: onePixelGif, ...(withFields ? (ImageUploadFields as unknown as { examples: object[] }).examples[0] : {}) }
      },
      ...Object.fromEntries(imageTypes.map((type) => [type, type === 'image/gif'
        ? { schema: binary(type), example: onePixelGif }
        : { schema: binary(type) }]))
    }
  })
  const uploadProblems = problemResponses(400, 404, 409, 413, 415, 422)

  app.post('/images/upload', {
    config: { access: 'editor' },
    bodyLimit: app.config.imageMaxUploadBytes + 1024 * 1024,
    schema: {
      operationId: 'uploadImage',
      summary: 'Upload a photo (multipart/form-data, or the raw file with its image Content-Type) with its alt text, caption and credit; the same bytes twice give the same image',
      description: 'Stores the picture on this server, measures it and returns the image (201, with Location); GET /images/{id}/file then serves it resized or converted. Uploading bytes that were uploaded before returns that image (200) instead of a duplicate. When as many uploads are in progress as the instance takes (UPLOAD_QUEUE_LIMIT), 503 (UPLOAD_QUEUE_FULL) with Retry-After, at once and before the file is read.',
      tags,
      querystring: ImageUploadQuery,
      'x-copydesk-request-body': uploadBody(true),
      response: {
        201: { description: 'Stored: the image, measured', ...ImageRef },
        200: { description: 'These exact bytes were uploaded before: that image', ...ImageRef },
        ...uploadProblems
      }
    }
  }, async (request, reply) => {
    const { image, created } = await withUpload(request, reply, async (upload) => {
      const fields = uploadFields(upload.fields, request.query as Record<string, string | undefined>)
      return await images.createFromUpload(app.db, app.imageStorage, upload.file, fields, settings, actorOf(request))
    })
    return await reply.code(created ? 201 : 200).header('location', `/images/${image.id}`).send(image)
  })

  app.put('/images/:id/file', {
    config: { access: 'editor' },
    bodyLimit: app.config.imageMaxUploadBytes + 1024 * 1024,
    schema: {
      operationId: 'replaceImageFile',
      summary: 'Replace an uploaded image\'s file, keeping its id, caption and credit (renditions are made again)',
      description: 'Swaps in a new file for an uploaded image, keeping its id, alt text, caption and credit, and returns the image with its new URL; renditions are made again from the new file. Send only the file: metadata changes go through PATCH /images/{id}. 503 (UPLOAD_QUEUE_FULL) with Retry-After when the instance has as many uploads in progress as it takes.',
      tags,
      params: IdParams,
      'x-copydesk-request-body': uploadBody(false),
      response: { 200: ImageRef, ...uploadProblems }
    }
  }, async (request, reply) => await withUpload(request, reply, async (upload) => {
    if (Object.keys(upload.fields).length > 0) throw errors.validationFailed('Only the file is replaced here; change the caption, credit or focal point with PATCH /images/{id}')
    return await images.replaceFile(app.db, app.imageStorage, request.params.id, upload.file, settings, actorOf(request))
  }))

  app.get('/images/:id/file', {
    // Keyless answers go through the response cache like other public reads: a story's lead photo,
    // read by everyone, is then served from memory, with no database query and no file read.
    config: { access: 'public', cache: 'images' },
    schema: {
      operationId: 'getImageFile',
      summary: 'The uploaded picture, or a rendition of it: ?w=800&format=webp&ar=16:9 (format=auto follows Accept). Made once, then served from storage',
      description: 'Returns the picture\'s bytes, resized (w), cropped around its focal point (ar) or converted (format) on request; each rendition is made once, then served from storage. With the `v` from the image\'s url the response may be cached for a year; If-None-Match gives 304.',
      tags,
      params: IdParams,
      querystring: RenditionQuery,
      headers: Type.Object({ accept: Type.Optional(Type.String()), 'if-none-match': Type.Optional(Type.String()) }),
      response: {
        200: {
          description: 'The image, without any of the original\'s metadata (EXIF, GPS, XMP); orientation applied',
          headers: { ETag: { type: 'string' }, 'Last-Modified': { type: 'string' }, 'Cache-Control': { type: 'string', description: 'A year, immutable, when v matches the current file' } },
          content: Object.fromEntries(['image/jpeg', 'image/png', 'image/webp', 'image/avif', 'image/gif'].map((type) => [type, { schema: { type: 'string', format: 'binary' } }]))
        },
        304: { description: 'Not modified: the ETag in If-None-Match is current', type: 'null' },
        ...problemResponses(400, 404, 409)
      }
    }
  }, async (request, reply) => {
    const rendition = await images.readFile(app.db, app.imageStorage, request.params.id, request.query, request.headers.accept, settings, request.actor)
    const cacheControl = request.actor !== null ? 'private, no-store' : rendition.immutable ? 'public, max-age=31536000, immutable' : 'public, max-age=300'
    const cacheState = request.cacheState
    if (cacheState !== undefined) {
      cacheState.etag = rendition.etag
      cacheState.keys = [`image-${request.params.id}`]
      cacheState.cacheControl = cacheControl
      // The cache is keyed by URL: an answer chosen by the Accept header is not kept.
      if (rendition.varyAccept) cacheState.keep = false
    }
    reply.header('etag', rendition.etag)
      .header('last-modified', rendition.lastModified.toUTCString())
      .header('cache-control', cacheControl)
      .header('content-security-policy', "default-src 'none'")
    if (rendition.varyAccept) reply.header('vary', 'Accept')
    const tags = (request.headers['if-none-match'] ?? '').split(',').map((tag) => tag.trim().replace(/^W\//, ''))
    if (tags.includes(rendition.etag) || tags.includes('*')) {
      if (!Buffer.isBuffer(rendition.body)) rendition.body.destroy()
      return await reply.code(304).send(null)
    }
    // Renditions small enough to keep are read whole, so the response cache can hold them; masters stream.
    const keep = cacheState?.shared === true && cacheState.keep && rendition.bytes <= CACHED_FILE_MAX_BYTES && !Buffer.isBuffer(rendition.body)
    const body = keep ? await buffer(rendition.body as Readable) : rendition.body
    return await reply.type(rendition.contentType).header('content-length', rendition.bytes).send(body)
  })
}
