import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { IdParams, Page } from '../common-schemas.ts'
import { actorOf } from '../keys/routes.ts'
import { problemResponses } from '../errors.ts'
import { DeliveryListQuery, DeliverySchema, WebhookCreate, WebhookPatch, WebhookSchema, WebhookWithSecret } from './schemas.ts'
import * as webhooks from './service.ts'

const tags = ['Webhooks']
const WebhookRef = Type.Unsafe({ $ref: 'Webhook#' })
const DeliveryRef = Type.Unsafe({ $ref: 'WebhookDelivery#' })
export const webhookSchemas = [WebhookSchema, DeliverySchema]

export const webhookRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/webhooks', {
    config: { access: 'admin' },
    schema: { operationId: 'listWebhooks', summary: 'List webhooks', tags, response: { 200: Type.Object({ items: Type.Array(WebhookRef) }, { title: 'WebhookList' }) } }
  }, async () => ({ items: await webhooks.readMany(app.db) }))

  app.post('/webhooks', {
    config: { access: 'admin' },
    schema: {
      operationId: 'createWebhook',
      summary: 'Register an endpoint for content events; the response holds its signing secret, once',
      tags,
      body: WebhookCreate,
      response: { 201: WebhookWithSecret, ...problemResponses(400, 413, 415) }
    }
  }, async (request, reply) => await reply.code(201).send(await webhooks.createOne(app.db, request.body, actorOf(request)) as never))

  app.get('/webhooks/:id', {
    config: { access: 'admin' },
    schema: { operationId: 'getWebhook', summary: 'Read a webhook', tags, params: IdParams, response: { 200: WebhookRef, ...problemResponses(400, 404) } }
  }, async (request) => await webhooks.readOne(app.db, request.params.id))

  app.patch('/webhooks/:id', {
    config: { access: 'admin' },
    schema: { operationId: 'updateWebhook', summary: 'Change a webhook\'s URL, events or whether it is active', tags, params: IdParams, body: WebhookPatch, response: { 200: WebhookRef, ...problemResponses(400, 404, 413, 415) } }
  }, async (request) => await webhooks.updateOne(app.db, request.params.id, request.body, actorOf(request)))

  app.delete('/webhooks/:id', {
    config: { access: 'admin' },
    schema: { operationId: 'deleteWebhook', summary: 'Delete a webhook and its delivery log', tags, params: IdParams, response: { 204: Type.Null({ description: 'Deleted' }), ...problemResponses(400, 404) } }
  }, async (request, reply) => {
    await webhooks.deleteOne(app.db, request.params.id, actorOf(request))
    return await reply.code(204).send(null)
  })

  app.get('/webhooks/:id/deliveries', {
    config: { access: 'admin' },
    schema: {
      operationId: 'listWebhookDeliveries', summary: 'The delivery log: status, attempts and last error of each event sent', tags,
      params: IdParams,
      querystring: DeliveryListQuery,
      response: { 200: Page(DeliveryRef, 'WebhookDelivery'), ...problemResponses(400, 404) }
    }
  }, async (request) => await webhooks.readDeliveries(app.db, request.params.id, request.query))
}
