import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { IdParams, Page } from '../common-schemas.ts'
import { actorOf } from '../keys/routes.ts'
import { problemResponses } from '../errors.ts'
import { DeliveryDetailSchema, DeliveryListQuery, DeliveryParams, DeliverySchema, ReceiptSchema, WebhookCreate, WebhookPatch, WebhookSchema, WebhookWithSecret, payloadSchemas } from './schemas.ts'
import * as webhooks from './service.ts'
import { targetPolicy } from './targets.ts'

const tags = ['Webhooks']
const WebhookRef = Type.Unsafe({ $ref: 'Webhook#' })
const DeliveryRef = Type.Unsafe({ $ref: 'WebhookDelivery#' })
const DeliveryDetailRef = Type.Unsafe({ $ref: 'WebhookDeliveryDetail#' })
export const webhookSchemas = [WebhookSchema, DeliverySchema, ReceiptSchema, DeliveryDetailSchema, ...payloadSchemas]

export const webhookRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const targets = targetPolicy(app.config.webhookAllowedInternal)
  app.get('/webhooks', {
    config: { access: 'admin' },
    schema: { operationId: 'listWebhooks', summary: 'List webhooks', description: 'Returns every registered webhook with its URL, the events it subscribes to, its audience (staff or public) and whether it is active, never its signing secret.', tags, response: { 200: Type.Object({ items: Type.Array(WebhookRef) }, { title: 'WebhookList' }) } }
  }, async () => ({ items: await webhooks.readMany(app.db) }))

  app.post('/webhooks', {
    config: { access: 'admin' },
    schema: {
      operationId: 'createWebhook',
      summary: 'Register an endpoint for content events; the response holds its signing secret, once',
      description: 'Subscribes a URL to content events (or "*" for all of them): each event is then POSTed to it, signed with the secret that this response shows, once only. `audience` says who receives them: "staff" (the default) gets every event in full; "public" (partners, syndication, a public frontend) only what the keyless change feed shows, so nothing about drafts or embargoed articles. The URL must lead outside the server\'s network: loopback, private, link-local, multicast and unspecified addresses (and IPv6 forms of them) are refused with 400 naming /url, unless WEBHOOK_ALLOWED_INTERNAL names them. Host names are resolved and checked again at every send.',
      tags,
      body: WebhookCreate,
      response: { 201: WebhookWithSecret, ...problemResponses(400, 413, 415) }
    }
  }, async (request, reply) => await reply.code(201).send(await webhooks.createOne(app.db, request.body, actorOf(request), targets) as never))

  app.get('/webhooks/:id', {
    config: { access: 'admin' },
    schema: { operationId: 'getWebhook', summary: 'Read a webhook', description: 'Returns one webhook: its URL, the events it subscribes to, its audience (staff or public) and whether it is active, never its signing secret.', tags, params: IdParams, response: { 200: WebhookRef, ...problemResponses(400, 404) } }
  }, async (request) => await webhooks.readOne(app.db, request.params.id))

  app.patch('/webhooks/:id', {
    config: { access: 'admin' },
    schema: { operationId: 'updateWebhook', summary: 'Change a webhook\'s URL, events, audience or whether it is active', description: 'Changes only the fields sent and returns the webhook; a new URL is checked as at creation. Setting active to false pauses it: no new events are queued for it, and deliveries already queued wait until it is switched back on. A public webhook\'s deliveries are checked again each time they go out (retries and replays included): each is sent as the keyless change feed shows its change at that moment, or given up on (`failed`, with the reason in lastError) when the feed does not show it, as for deliveries queued before a webhook was made public.', tags, params: IdParams, body: WebhookPatch, response: { 200: WebhookRef, ...problemResponses(400, 404, 413, 415) } }
  }, async (request) => await webhooks.updateOne(app.db, request.params.id, request.body, actorOf(request), targets))

  app.delete('/webhooks/:id', {
    config: { access: 'admin' },
    schema: { operationId: 'deleteWebhook', summary: 'Delete a webhook and its delivery log', description: 'Deletes the webhook with its delivery log; no further events are sent to it.', tags, params: IdParams, response: { 204: Type.Null({ description: 'Deleted' }), ...problemResponses(400, 404) } }
  }, async (request, reply) => {
    await webhooks.deleteOne(app.db, request.params.id, actorOf(request))
    return await reply.code(204).send(null)
  })

  app.get('/webhooks/:id/deliveries', {
    config: { access: 'admin' },
    schema: {
      operationId: 'listWebhookDeliveries', summary: 'The delivery log: status, attempts and last error of each event sent', description: 'Returns a page of the deliveries queued for this webhook, newest first, each with its event, status (pending, delivered or failed), attempts and last error; `status` narrows the list. Every attempt\'s receipt is at GET /webhooks/{id}/deliveries/{deliveryId}.', tags,
      params: IdParams,
      querystring: DeliveryListQuery,
      response: { 200: Page(DeliveryRef, 'WebhookDelivery'), ...problemResponses(400, 404) }
    }
  }, async (request) => await webhooks.readDeliveries(app.db, request.params.id, request.query))

  app.get('/webhooks/:id/deliveries/:deliveryId', {
    config: { access: 'admin' },
    schema: {
      operationId: 'getWebhookDelivery',
      summary: 'One delivery\'s receipt: what was sent, and every attempt with its status code, error and latency',
      description: 'The delivery as queued (its event, the change it reports by `seq`, the object it is about), the exact body that was sent and signed, where it stands (`status`, `attempts` in the current budget, `nextAttemptAt`, `sending` while an instance has it in flight), and the receipt of every attempt, oldest first, kept across replays.',
      tags,
      params: DeliveryParams,
      response: { 200: DeliveryDetailRef, ...problemResponses(400, 404) }
    }
  }, async (request) => await webhooks.readDelivery(app.db, request.params.id, request.params.deliveryId))

  app.post('/webhooks/:id/deliveries/:deliveryId/replay', {
    config: { access: 'admin' },
    schema: {
      operationId: 'replayWebhookDelivery',
      summary: 'Send a delivered or failed delivery again',
      description: 'The delivery becomes pending and due now, with a fresh attempt budget (WEBHOOK_MAX_ATTEMPTS); it goes out with the same id and body, signed anew. Its earlier receipts stay. Later deliveries about the same object that are still pending wait for it, as deliveries do. 409 while it is pending already (queued, waiting for a retry, or being sent right now). Recorded in the change log and the audit trail as webhook.delivery-replayed. No request body.',
      tags,
      params: DeliveryParams,
      response: { 202: { description: 'Queued again; the delivery as it now stands', ...DeliveryDetailRef }, ...problemResponses(400, 404, 409) }
    }
  }, async (request, reply) => await reply.code(202).send(await webhooks.replayDelivery(app.db, request.params.id, request.params.deliveryId, actorOf(request)) as never))
}
