import { Type, type Static } from 'typebox'
import { HttpUrl, Line, Nullable, PageQuery, Timestamp, Uuid } from '../common-schemas.ts'
import { eventNames } from './events.ts'

const EventName = Type.Enum([...eventNames, '*'], { description: 'An event, or "*" for all of them' })

export const WebhookCreate = Type.Object({
  url: HttpUrl({ description: 'Receives a POST for each event', examples: ['https://frontend.example.com/api/revalidate'] }),
  events: Type.Array(EventName, { minItems: 1, maxItems: 20, uniqueItems: true }),
  description: Type.Optional(Nullable(Line(300))),
  active: Type.Optional(Type.Boolean({ default: true }))
}, { additionalProperties: false, title: 'WebhookCreate', examples: [{ url: 'https://frontend.example.com/api/revalidate', events: ['article.published', 'article.updated', 'article.unpublished', 'article.deleted'], description: 'Purge the CDN' }] })
export type WebhookCreate = Static<typeof WebhookCreate>

export const WebhookPatch = Type.Partial(WebhookCreate, { additionalProperties: false, minProperties: 1, title: 'WebhookPatch', examples: [{ active: false }] })
export type WebhookPatch = Static<typeof WebhookPatch>

const webhookFields = {
  id: Uuid,
  url: Type.String(),
  events: Type.Array(Type.String()),
  description: Nullable(Type.String()),
  active: Type.Boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp
}
const webhookExample = { id: '019ab8a4-2222-7333-8444-955566667777', url: 'https://frontend.example.com/api/revalidate', events: ['article.published'], description: 'Purge the CDN', active: true, createdAt: '2026-11-25T06:00:00.000Z', updatedAt: '2026-11-25T06:00:00.000Z' }

export const WebhookSchema = Type.Object(webhookFields, { $id: 'Webhook', title: 'Webhook', examples: [webhookExample] })
export const WebhookWithSecret = Type.Object({
  ...webhookFields,
  secret: Type.String({ description: 'Signs every delivery; shown only in this response. Keep it.' })
}, { title: 'WebhookWithSecret', examples: [{ ...webhookExample, secret: 'whsec_3f1c…' }] })

export const DeliverySchema = Type.Object({
  id: Uuid,
  event: Type.String(),
  status: Type.Enum(['pending', 'delivered', 'failed']),
  attempts: Type.Integer({ minimum: 0 }),
  nextAttemptAt: Timestamp,
  lastStatusCode: Nullable(Type.Integer()),
  lastError: Nullable(Type.String()),
  createdAt: Timestamp,
  deliveredAt: Nullable(Timestamp)
}, { $id: 'WebhookDelivery', title: 'WebhookDelivery', examples: [{ id: '019ab8a4-3333-7444-8555-a66677778888', event: 'article.published', status: 'delivered', attempts: 1, nextAttemptAt: '2026-11-25T06:00:00.000Z', lastStatusCode: 200, lastError: null, createdAt: '2026-11-25T06:00:00.000Z', deliveredAt: '2026-11-25T06:00:00.250Z' }] })

export const DeliveryListQuery = Type.Object({
  ...PageQuery,
  status: Type.Optional(Type.Enum(['pending', 'delivered', 'failed']))
}, { additionalProperties: false })
export type DeliveryListQuery = Static<typeof DeliveryListQuery>
