import { Type, type Static } from 'typebox'
import { objectTypes } from '../changes/index.ts'
import { Nullable, PageQuery, StringEnum, Timestamp, Uuid } from '../common-schemas.ts'


export const AuditEntrySchema = Type.Object({
  id: Uuid,
  keyId: Nullable(Uuid),
  keyName: Type.String({ description: 'The key\'s name at the time; "scheduler" for the server\'s own work' }),
  action: Type.String({ examples: ['article.updated'] }),
  objectType: StringEnum([...objectTypes]),
  objectId: Nullable(Type.String()),
  reason: Nullable(Type.String({ description: 'Why, for actions that require a reason: article.killed, article.unkilled, article.embargo-broken' })),
  createdAt: Timestamp
}, {
  $id: 'AuditEntry',
  title: 'AuditEntry',
  examples: [{ id: '019ab8a4-5555-7666-8777-988899990000', keyId: '019ab8a4-3333-7444-8555-966677778888', keyName: 'Night desk', action: 'article.published', objectType: 'article', objectId: '019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a11', reason: null, createdAt: '2026-11-25T06:00:00.000Z' }]
})
export type AuditEntry = Static<typeof AuditEntrySchema>

export const AuditListQuery = Type.Object({
  objectType: Type.Optional(StringEnum([...objectTypes])),
  objectId: Type.Optional(Uuid),
  keyId: Type.Optional(Uuid),
  action: Type.Optional(Type.String({ maxLength: 100, pattern: '^[a-z-]+\\.[a-z-]+$' })),
  ...PageQuery
}, { additionalProperties: false })
export type AuditListQuery = Static<typeof AuditListQuery>
