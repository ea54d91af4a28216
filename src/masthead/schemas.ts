import { Type, type Static } from 'typebox'
import { Line, Nullable, Timestamp, Title, Uuid } from '../common-schemas.ts'
import { AuthorSummaryRef } from '../authors/schemas.ts'
import { mastheadRoleExample } from '../examples.ts'

const writableFields = {
  title: Title(200, ['Founder & Editor-in-Chief', 'Managing Editor', 'Senior Designer']),
  department: Nullable(Line(120, { description: 'Group the role belongs to', examples: ['Editorial', 'Product', 'Business'] })),
  position: Type.Integer({ minimum: 0, maximum: 100000, description: 'Display order, lowest first; ties are shown in creation order' }),
  holderId: Nullable(Uuid)
}

export const MastheadRoleCreate = Type.Object({
  title: writableFields.title,
  department: Type.Optional(writableFields.department),
  position: Type.Optional(writableFields.position),
  holderId: Type.Optional(writableFields.holderId)
}, {
  additionalProperties: false,
  title: 'MastheadRoleCreate',
  description: 'A masthead role; it goes last when position is omitted, and is vacant while holderId is null',
  examples: [{ title: 'Managing Editor', department: 'Editorial', holderId: '019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a11' }]
})
export type MastheadRoleCreate = Static<typeof MastheadRoleCreate>

export const MastheadRolePatch = Type.Partial(MastheadRoleCreate, {
  additionalProperties: false, minProperties: 1, title: 'MastheadRolePatch', examples: [{ holderId: null }, { position: 2 }]
})
export type MastheadRolePatch = Static<typeof MastheadRolePatch>

export const MastheadRoleSchema = Type.Object({
  id: Uuid,
  title: Type.String(),
  department: Nullable(Type.String()),
  position: Type.Integer(),
  vacant: Type.Boolean(),
  holder: Nullable(AuthorSummaryRef),
  createdAt: Timestamp,
  updatedAt: Timestamp
}, { $id: 'MastheadRole', title: 'MastheadRole', description: 'A staff role on the masthead and who holds it', examples: [mastheadRoleExample] })
export type MastheadRole = Static<typeof MastheadRoleSchema>
export const MastheadRoleRef = Type.Unsafe<MastheadRole>({ $ref: 'MastheadRole#' })

export const MastheadSchema = Type.Object({
  roles: Type.Array(MastheadRoleRef, { description: 'Every role in display order, vacant ones included' })
}, { title: 'Masthead', examples: [{ roles: [mastheadRoleExample] }] })
