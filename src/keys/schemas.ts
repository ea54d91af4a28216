import { Type, type Static } from 'typebox'
import { Nullable, PageQuery, StringEnum, Timestamp, Title, Uuid } from '../common-schemas.ts'
import { roles } from './roles.ts'

const Role = StringEnum([...roles], { description: 'admin: everything. editor: all content, publishing, authors and images. writer: their own drafts.' })

export const ApiKeyCreate = Type.Object({
  name: Title(100, ['Night desk laptop']),
  role: Role,
  authorId: Type.Optional(Nullable(Type.String({ format: 'uuid', description: 'Required for writers: the author whose drafts the key may edit' })))
}, { additionalProperties: false, title: 'ApiKeyCreate', examples: [{ name: 'Night desk', role: 'editor' }] })
export type ApiKeyCreate = Static<typeof ApiKeyCreate>

const keyFields = {
  id: Uuid,
  name: Type.String(),
  role: Role,
  prefix: Type.String({ description: 'The first characters of the key, to tell keys apart' }),
  authorId: Nullable(Uuid),
  createdAt: Timestamp,
  lastUsedAt: Nullable(Timestamp),
  revokedAt: Nullable(Timestamp)
}
const keyExample = { id: '019ab8a4-3333-7444-8555-966677778888', name: 'Night desk', role: 'editor', prefix: 'cdk_Zx81Qm', authorId: null, createdAt: '2026-11-25T06:00:00.000Z', lastUsedAt: '2026-11-25T06:30:00.000Z', revokedAt: null }

export const ApiKeySchema = Type.Object(keyFields, { $id: 'ApiKey', title: 'ApiKey', description: 'A key, without its secret', examples: [keyExample] })
export type ApiKey = Static<typeof ApiKeySchema>

export const ApiKeyWithSecret = Type.Object({
  ...keyFields,
  secret: Type.String({ description: 'The key itself. Shown this once: store it now. Send it as "Authorization: Bearer <key>".' })
}, { title: 'ApiKeyWithSecret', examples: [{ ...keyExample, lastUsedAt: null, secret: 'cdk_Zx81QmT0c2VjcmV0LWV4YW1wbGUtb25seS1ub3QtcmVhbDAx' }] })

export const KeyListQuery = Type.Object({
  revoked: Type.Optional(Type.Boolean({ description: 'Only revoked keys (true) or only active ones (false)' })),
  ...PageQuery
}, { additionalProperties: false })
export type KeyListQuery = Static<typeof KeyListQuery>

export const CurrentKey = Type.Object({
  id: Uuid,
  name: Type.String(),
  role: Role,
  authorId: Nullable(Uuid)
}, { title: 'CurrentKey', examples: [{ id: keyExample.id, name: keyExample.name, role: 'editor', authorId: null }] })
