// The OpenAPI 3.1 `webhooks` section: one entry per event, with the payload a receiver gets, the
// headers that come with it (the signature above all) and what its answer means.
import type { OpenAPIV3_1 } from 'openapi-types'
import type { EventName } from './events.ts'
import { eventNames } from './events.ts'
import { ArticleDeletedPayload, ArticleEventPayload, AuthorEventPayload, DeletedPayload, ImageEventPayload } from './schemas.ts'

const events: Record<EventName, { summary: string, payload: { $id: string }, data: Record<string, unknown> }> = {
  'article.created': { summary: 'An article was created (a draft, or published or scheduled at once)', payload: ArticleEventPayload, data: { id: '019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a11', slug: 'council-approves-budget', headline: 'Council approves budget', status: 'draft', publishedAt: null, version: 1 } },
  'article.updated': { summary: 'An article changed without going live or coming down: an edit, a correction, a restored revision', payload: ArticleEventPayload, data: { id: '019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a11', slug: 'council-approves-budget', headline: 'Council approves 2027 budget', status: 'published', publishedAt: '2026-11-25T06:00:00.000Z', version: 4 } },
  'article.published': { summary: 'An article went live: published by an editor, or its scheduled time came', payload: ArticleEventPayload, data: { id: '019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a11', slug: 'council-approves-budget', headline: 'Council approves budget', status: 'published', publishedAt: '2026-11-25T06:00:00.000Z', version: 3 } },
  'article.unpublished': { summary: 'A live article was taken down (back to draft, scheduled, or archived)', payload: ArticleEventPayload, data: { id: '019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a11', slug: 'council-approves-budget', headline: 'Council approves budget', status: 'draft', publishedAt: '2026-11-25T06:00:00.000Z', version: 5 } },
  'article.killed': { summary: 'An article was killed: taken down everywhere, its public reads answer 410 Gone. Remove it from every page, cache and syndication', payload: ArticleEventPayload, data: { id: '019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a11', slug: 'council-approves-budget', headline: 'Council approves budget', status: 'killed', publishedAt: '2026-11-25T06:00:00.000Z', version: 6 } },
  'article.unkilled': { summary: 'An admin un-killed an article: it is a draft again, not public until published anew', payload: ArticleEventPayload, data: { id: '019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a11', slug: 'council-approves-budget', headline: 'Council approves budget', status: 'draft', publishedAt: '2026-11-25T06:00:00.000Z', version: 7 } },
  'article.deleted': { summary: 'An article was deleted', payload: ArticleDeletedPayload, data: { id: '019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a11', slug: 'council-approves-budget' } },
  'author.created': { summary: 'An author was created', payload: AuthorEventPayload, data: { id: '019ab8a4-5555-7666-8777-988899990000', slug: 'jordan-vale', name: 'Jordan Vale' } },
  'author.updated': { summary: 'An author changed (a new name shows on every article that credits them)', payload: AuthorEventPayload, data: { id: '019ab8a4-5555-7666-8777-988899990000', slug: 'jordan-vale', name: 'Jordan A. Vale' } },
  'author.deleted': { summary: 'An author was deleted', payload: DeletedPayload, data: { id: '019ab8a4-5555-7666-8777-988899990000' } },
  'image.created': { summary: 'An image was added (by URL or upload)', payload: ImageEventPayload, data: { id: '019ab8a4-6666-7777-8888-a99900001111', url: 'https://images.example.com/photo.jpg', mimeType: 'image/jpeg' } },
  'image.updated': { summary: 'An image\'s details or file changed', payload: ImageEventPayload, data: { id: '019ab8a4-6666-7777-8888-a99900001111', url: 'https://images.example.com/photo-v2.jpg', mimeType: 'image/jpeg' } },
  'image.deleted': { summary: 'An image was deleted', payload: DeletedPayload, data: { id: '019ab8a4-6666-7777-8888-a99900001111' } }
}

const headers: OpenAPIV3_1.ParameterObject[] = [
  {
    name: 'Copydesk-Signature',
    in: 'header',
    required: true,
    description: 'HMAC-SHA256 of "<t>.<raw body>" with the webhook\'s secret, in hex: `t=<unix seconds>,v1=<hex>`. Recompute it over the raw bytes (before any JSON parsing), compare in constant time, and refuse a `t` more than five minutes old. A retry or replay is signed anew, with a new `t`.',
    schema: { type: 'string', pattern: '^t=\\d+,v1=[0-9a-f]{64}$' },
    example: 't=1795586400,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd'
  },
  { name: 'Copydesk-Event', in: 'header', required: true, description: 'The event, as in the payload', schema: { type: 'string', enum: [...eventNames] } },
  { name: 'Copydesk-Delivery', in: 'header', required: true, description: 'The delivery\'s id, as in the payload: the same on every retry and replay, so a receiver can recognise one it has handled', schema: { type: 'string', format: 'uuid' } },
  { name: 'User-Agent', in: 'header', required: true, schema: { type: 'string', enum: ['Copydesk-Webhooks/1'] } }
]

const description = 'Sent as a POST to each active webhook subscribed to the event (or to "*"), after the change commits. ' +
  'Delivery is at least once: failures are retried with exponential backoff (WEBHOOK_RETRY_BASE_MS, doubling) up to WEBHOOK_MAX_ATTEMPTS, ' +
  'and nothing queued is lost across restarts. Deliveries about one object (an article, an author, an image) arrive one at a time, in the order of the changes: ' +
  'the next waits until the previous is delivered or given up. Different objects are sent in parallel. ' +
  'Every attempt has a receipt at GET /webhooks/{id}/deliveries/{deliveryId}; an admin can send a delivery again with POST …/replay. ' +
  'A webhook whose audience is "public" is sent only what the keyless change feed shows: nothing about a draft, nothing about an article under embargo ' +
  'but the id of a live story it takes down (article.published follows when it lifts), and an article the public cannot read as `{id, slug}` (unpublished, archived) or `{id}` (killed, under embargo).'

function operationId (event: EventName): string {
  const [type, action] = event.split('.') as [string, string]
  return `${type}${action.charAt(0).toUpperCase()}${action.slice(1)}Webhook`
}

/** The `webhooks` map of the OpenAPI document. */
export const webhookEventsDocumentation: Record<string, OpenAPIV3_1.PathItemObject> = Object.fromEntries(eventNames.map((event): [string, OpenAPIV3_1.PathItemObject] => {
  const { summary, payload, data } = events[event]
  return [event, {
    post: {
      operationId: operationId(event),
      summary,
      description,
      tags: ['Webhooks'],
      parameters: headers,
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: { $ref: `#/components/schemas/${payload.$id}` },
            example: { id: '019ab8a4-3333-7444-8555-a66677778888', event, occurredAt: '2026-11-25T06:00:00.000Z', data }
          }
        }
      },
      responses: {
        '2XX': { description: 'Received: any 2xx acknowledges the delivery (the response body is ignored; redirects are not followed)' },
        default: { description: 'Anything else, or no answer within WEBHOOK_TIMEOUT_MS: the delivery is tried again later, and the event\'s later deliveries about the same object wait for it' }
      }
    }
  }]
}))
