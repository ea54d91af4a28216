import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { IdParams, Page } from '../common-schemas.ts'
import { actorOf } from '../keys/routes.ts'
import { problemResponses } from '../errors.ts'
import { ImageCreate, ImageListQuery, ImagePatch, ImageRef } from './schemas.ts'
import * as images from './service.ts'

const tags = ['Images']

export const imageRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/images', {
    config: { access: 'public' },
    schema: {
      operationId: 'listImages', summary: 'List images, newest first', tags,
      querystring: ImageListQuery,
      response: { 200: Page(ImageRef, 'Image'), ...problemResponses(400) }
    }
  }, async (request) => await images.readMany(app.db, request.query, request.actor))

  app.post('/images', {
    config: { access: 'editor' },
    schema: {
      operationId: 'createImage', summary: 'Register an image by URL, with its caption and credit', tags,
      body: ImageCreate,
      response: { 201: ImageRef, ...problemResponses(400, 413, 415) }
    }
  }, async (request, reply) => {
    const image = await images.createOne(app.db, request.body, actorOf(request))
    return await reply.code(201).header('location', `/images/${image.id}`).send(image)
  })

  app.get('/images/:id', {
    config: { access: 'public' },
    schema: {
      operationId: 'getImage', summary: 'Read an image', tags,
      params: IdParams,
      response: { 200: ImageRef, ...problemResponses(400, 404) }
    }
  }, async (request) => await images.readOne(app.db, request.params.id, request.actor))

  app.put('/images/:id', {
    config: { access: 'editor' },
    schema: {
      operationId: 'replaceImage', summary: 'Replace an image\'s metadata (fields left out are cleared)', tags,
      params: IdParams,
      body: ImageCreate,
      response: { 200: ImageRef, ...problemResponses(400, 404, 409, 413, 415) }
    }
  }, async (request) => await images.replaceOne(app.db, request.params.id, request.body, actorOf(request)))

  app.patch('/images/:id', {
    config: { access: 'editor' },
    schema: {
      operationId: 'updateImage', summary: 'Change some of an image\'s metadata', tags,
      params: IdParams,
      body: ImagePatch,
      response: { 200: ImageRef, ...problemResponses(400, 404, 409, 413, 415) }
    }
  }, async (request) => await images.updateOne(app.db, request.params.id, request.body, actorOf(request)))

  app.delete('/images/:id', {
    config: { access: 'editor' },
    schema: {
      operationId: 'deleteImage', summary: 'Delete an image that nothing uses', tags,
      params: IdParams,
      response: { 204: Type.Null({ description: 'Deleted' }), ...problemResponses(400, 404, 409) }
    }
  }, async (request, reply) => {
    await images.deleteOne(app.db, request.params.id, actorOf(request))
    return await reply.code(204).send(null)
  })
}
