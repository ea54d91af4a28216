import { Type, type Static, type TSchema } from 'typebox'
import { HttpUrl, Line, Nullable, PageQuery, StringEnum, Timestamp, Uuid } from '../common-schemas.ts'
import { ArticleStatus } from '../articles/schemas.ts'
import { ImageMimeType } from '../images/schemas.ts'
import { audiences, eventNames, type EventName } from './events.ts'

const EventName = StringEnum([...eventNames, '*'], { description: 'An event, or "*" for all of them' })

const inputFields = {
  url: HttpUrl({ description: 'Receives a POST for each event', examples: ['https://frontend.example.com/api/revalidate'] }),
  events: Type.Array(EventName, { minItems: 1, maxItems: 20, uniqueItems: true }),
  description: Type.Optional(Nullable(Line(300)))
}
const activeDescription = 'false pauses it: no new events are queued for it; what is queued waits until it is switched back on'
const audienceDescription = 'Who is at the other end. "staff" (the default): every event subscribed to, with the full data. ' +
  '"public" (partners, syndication, a public frontend): only what the keyless change feed (GET /changes without a key) shows: ' +
  'no event for a draft\'s creation or edits; while an article is under embargo, nothing but its id when a live story comes down for it (article.published follows when the embargo lifts); ' +
  'and an article the public cannot read is its `id` and `slug` only (unpublished, archived, deleted), or its `id` only (killed, under embargo), ' +
  'checked again whenever a delivery goes out (a retry, a replay, a webhook made public with deliveries still queued).'
const Audience = (options: { default?: string } = {}) => StringEnum([...audiences], { ...options, description: audienceDescription, examples: ['public'] })

export const WebhookCreate = Type.Object({
  ...inputFields,
  active: Type.Optional(Type.Boolean({ default: true, description: activeDescription })),
  audience: Type.Optional(Audience({ default: 'staff' }))
}, {
  additionalProperties: false,
  title: 'WebhookCreate',
  examples: [
    { url: 'https://frontend.example.com/api/revalidate', events: ['article.published', 'article.updated', 'article.unpublished', 'article.deleted', 'article.killed'], description: 'Purge the CDN', audience: 'public' },
    { url: 'https://desk-tools.example.com/copydesk', events: ['*'], description: 'Newsroom dashboard' }
  ]
})
export type WebhookCreate = Static<typeof WebhookCreate>

// Not Type.Partial(WebhookCreate): the validator fills in defaults (useDefaults), so a PATCH that
// left out `active` would switch a paused webhook back on. A PATCH changes only the fields it sends.
export const WebhookPatch = Type.Object({
  url: Type.Optional(inputFields.url),
  events: Type.Optional(inputFields.events),
  description: inputFields.description,
  active: Type.Optional(Type.Boolean({ description: activeDescription })),
  audience: Type.Optional(Audience())
}, { additionalProperties: false, minProperties: 1, title: 'WebhookPatch', examples: [{ active: false }, { audience: 'public' }] })
export type WebhookPatch = Static<typeof WebhookPatch>

const webhookFields = {
  id: Uuid,
  url: Type.String(),
  events: Type.Array(Type.String()),
  description: Nullable(Type.String()),
  active: Type.Boolean({ description: 'false while paused: no new events are queued for it' }),
  audience: Audience(),
  createdAt: Timestamp,
  updatedAt: Timestamp
}
const webhookExample = { id: '019ab8a4-2222-7333-8444-955566667777', url: 'https://frontend.example.com/api/revalidate', events: ['article.published'], description: 'Purge the CDN', active: true, audience: 'public', createdAt: '2026-11-25T06:00:00.000Z', updatedAt: '2026-11-25T06:00:00.000Z' }

export const WebhookSchema = Type.Object(webhookFields, { $id: 'Webhook', title: 'Webhook', examples: [webhookExample] })
export const WebhookWithSecret = Type.Object({
  ...webhookFields,
  secret: Type.String({ description: 'Signs every delivery; shown only in this response. Keep it.' })
}, { title: 'WebhookWithSecret', examples: [{ ...webhookExample, secret: 'whsec_3f1c…' }] })

const DeliveryStatus = StringEnum(['pending', 'delivered', 'failed'], { description: 'pending: queued, in flight or waiting for a retry; delivered: a receiver answered 2xx; failed: given up after WEBHOOK_MAX_ATTEMPTS' })

const deliveryFields = {
  id: Type.String({ format: 'uuid', description: 'The delivery, also sent as Copydesk-Delivery and as the payload\'s `id`: the same on every retry and replay' }),
  event: Type.String({ examples: ['article.published'] }),
  seq: Nullable(Type.Integer({ minimum: 1, description: 'The change it reports: its number in the change log (GET /changes cursor). An object\'s deliveries go out in this order.' })),
  objectKey: Nullable(Type.String({ description: 'What the change is about, "<type>:<id>"; deliveries for one object go out one at a time, in change order', examples: ['article:019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a11'] })),
  status: DeliveryStatus,
  attempts: Type.Integer({ minimum: 0, description: 'Attempts since it was queued or last replayed (each replay starts a fresh budget)' }),
  nextAttemptAt: Timestamp,
  lastStatusCode: Nullable(Type.Integer({ description: 'What the receiver answered last time; null when it could not be reached' })),
  lastError: Nullable(Type.String()),
  lastAttemptAt: Nullable(Timestamp),
  lastLatencyMs: Nullable(Type.Integer({ minimum: 0, description: 'How long the last attempt took, in milliseconds' })),
  createdAt: Timestamp,
  deliveredAt: Nullable(Timestamp)
}
const deliveryExample = {
  id: '019ab8a4-3333-7444-8555-a66677778888',
  event: 'article.published',
  seq: 4182,
  objectKey: 'article:019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a11',
  status: 'delivered',
  attempts: 2,
  nextAttemptAt: '2026-11-25T06:00:05.000Z',
  lastStatusCode: 200,
  lastError: null,
  lastAttemptAt: '2026-11-25T06:00:05.010Z',
  lastLatencyMs: 84,
  createdAt: '2026-11-25T06:00:00.000Z',
  deliveredAt: '2026-11-25T06:00:05.094Z'
}

export const DeliverySchema = Type.Object(deliveryFields, { $id: 'WebhookDelivery', title: 'WebhookDelivery', examples: [deliveryExample] })

export const ReceiptSchema = Type.Object({
  attempt: Type.Integer({ minimum: 1, description: 'Numbered over the delivery\'s whole life, replays included' }),
  startedAt: Timestamp,
  latencyMs: Type.Integer({ minimum: 0, description: 'From sending the request to the receiver\'s answer (or the failure), in milliseconds' }),
  statusCode: Nullable(Type.Integer({ description: 'The receiver\'s HTTP status; null when there was no answer' })),
  error: Nullable(Type.String({ description: 'Why the attempt failed (a non-2xx status, a timeout, a refused connection); null when delivered' }))
}, {
  $id: 'WebhookReceipt',
  title: 'WebhookReceipt',
  description: 'One attempt to send a delivery',
  examples: [{ attempt: 1, startedAt: '2026-11-25T06:00:00.020Z', latencyMs: 10004, statusCode: null, error: 'TimeoutError: The operation was aborted due to timeout' }]
})

export const DeliveryDetailSchema = Type.Object({
  ...deliveryFields,
  webhookId: Uuid,
  sending: Type.Boolean({ description: 'True while an instance is sending it (it cannot be replayed then)' }),
  body: Type.String({ description: 'The exact request body sent (and signed), as JSON text: { id, event, occurredAt, data }' }),
  receipts: Type.Array(Type.Unsafe({ $ref: 'WebhookReceipt#' }), { description: 'Every attempt, oldest first; kept across replays' })
}, {
  $id: 'WebhookDeliveryDetail',
  title: 'WebhookDeliveryDetail',
  description: 'A delivery with what was sent and the receipt of every attempt',
  examples: [{
    ...deliveryExample,
    webhookId: '019ab8a4-2222-7333-8444-955566667777',
    sending: false,
    body: '{"id":"019ab8a4-3333-7444-8555-a66677778888","event":"article.published","occurredAt":"2026-11-25T06:00:00.000Z","data":{"id":"019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a11","slug":"council-approves-budget","headline":"Council approves budget","status":"published","publishedAt":"2026-11-25T06:00:00.000Z","version":3}}',
    receipts: [
      { attempt: 1, startedAt: '2026-11-25T06:00:00.020Z', latencyMs: 12, statusCode: 503, error: 'receiver answered 503' },
      { attempt: 2, startedAt: '2026-11-25T06:00:05.010Z', latencyMs: 84, statusCode: 200, error: null }
    ]
  }]
})

export const DeliveryListQuery = Type.Object({
  ...PageQuery,
  status: Type.Optional(StringEnum(['pending', 'delivered', 'failed']))
}, { additionalProperties: false })
export type DeliveryListQuery = Static<typeof DeliveryListQuery>

export const DeliveryParams = Type.Object({
  id: Uuid,
  deliveryId: Type.String({ format: 'uuid', description: 'The delivery (Copydesk-Delivery)' })
}, { additionalProperties: false })
export type DeliveryParams = Static<typeof DeliveryParams>

// What receivers get: the payload of each event, named so the OpenAPI `webhooks` section can show it.
const occurredAt = Type.String({ format: 'date-time', description: 'When the change was made' })
const deliveryId = Type.String({ format: 'uuid', description: 'The delivery: equals the Copydesk-Delivery header, the same on every retry and replay. Deduplicate on it.' })

function payloadSchema (name: string, description: string, events: readonly EventName[], data: TSchema, example: Record<string, unknown>): TSchema & { $id: string } {
  const schema = Type.Object({
    id: deliveryId,
    event: StringEnum([...events]),
    occurredAt,
    data
  }, { $id: name, title: name, description, examples: [{ id: '019ab8a4-3333-7444-8555-a66677778888', event: events[0], occurredAt: '2026-11-25T06:00:00.000Z', data: example }] })
  return schema as typeof schema & { $id: string }
}

export const articleEvents = ['article.created', 'article.updated', 'article.published', 'article.unpublished', 'article.killed', 'article.unkilled'] as const
export const ArticleEventPayload = payloadSchema('ArticleEventPayload', 'An article was created, edited, published (now, by the scheduler, or as its embargo lifted), taken down, killed or un-killed. A webhook with audience "public" gets the article in full only while the public can read it, as the keyless change feed shows it', articleEvents, Type.Union([
  Type.Object({
    id: Uuid,
    slug: Type.String(),
    headline: Type.String(),
    status: ArticleStatus,
    publishedAt: Nullable(Timestamp),
    version: Type.Integer({ minimum: 1, description: 'The article\'s version after the change (its ETag)' }),
    embargoedUntil: Type.Optional(Type.Union([Timestamp, Type.Null()], { description: 'While an embargo holds the article back: when it lifts (article.published follows then). Staff webhooks only' }))
  }, { title: 'ArticleEventData', description: 'The article as the change left it (to a public webhook: a published article, not killed and not under embargo)' }),
  Type.Object({
    id: Uuid,
    slug: Nullable(Type.String({ description: 'The slug it had, to drop cached pages' }))
  }, { title: 'ArticleWithdrawnData', additionalProperties: false, description: 'To a public webhook: an article the public can no longer read (unpublished, archived): its id and slug only' }),
  Type.Object({
    id: Uuid
  }, { title: 'ArticleHiddenData', additionalProperties: false, description: 'To a public webhook: a killed article, or one under embargo: its id only (the slug spells out the headline). Drop it from every page and cache' })
], { description: 'The article as the change left it, in full to staff webhooks' }), { id: '019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a11', slug: 'council-approves-budget', headline: 'Council approves budget', status: 'draft', publishedAt: null, version: 1 })

export const ArticleDeletedPayload = payloadSchema('ArticleDeletedPayload', 'An article was deleted: it answers 404 from now on', ['article.deleted'], Type.Object({
  id: Uuid,
  slug: Type.String({ description: 'The slug it had, to drop cached pages' })
}), { id: '019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a11', slug: 'council-approves-budget' })

export const authorEvents = ['author.created', 'author.updated'] as const
export const AuthorEventPayload = payloadSchema('AuthorEventPayload', 'An author was created or changed (a rename shows on every article that credits them)', authorEvents, Type.Object({
  id: Uuid,
  slug: Type.String(),
  name: Type.String()
}), { id: '019ab8a4-5555-7666-8777-988899990000', slug: 'jordan-vale', name: 'Jordan Vale' })

export const imageEvents = ['image.created', 'image.updated'] as const
export const ImageEventPayload = payloadSchema('ImageEventPayload', 'An image was added, or its details or file changed', imageEvents, Type.Object({
  id: Uuid,
  url: Type.String({ description: 'Where the image is served: the address it was registered with, or for an upload this server\'s /images/{id}/file (absolute with API_PUBLIC_URL, as in every response)' }),
  mimeType: ImageMimeType
}), { id: '019ab8a4-6666-7777-8888-a99900001111', url: 'https://images.example.com/photo.jpg', mimeType: 'image/jpeg' })

export const DeletedPayload = payloadSchema('DeletedPayload', 'An author or image was deleted', ['author.deleted', 'image.deleted'], Type.Object({
  id: Uuid
}), { id: '019ab8a4-5555-7666-8777-988899990000' })

export const payloadSchemas = [ArticleEventPayload, ArticleDeletedPayload, AuthorEventPayload, ImageEventPayload, DeletedPayload]
