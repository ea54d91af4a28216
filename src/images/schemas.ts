import { Type, type Static } from 'typebox'
import { HttpUrl, Line, Nullable, PageQuery, Paragraphs, Timestamp, Uuid } from '../common-schemas.ts'
import { imageExample } from '../examples.ts'

export const ImageMimeType = Type.Enum(['image/jpeg', 'image/png', 'image/webp', 'image/avif', 'image/gif'], { description: 'The file format' })

const editableFields = {
  url: HttpUrl({ description: 'Where the file is served from', examples: ['https://cdn.example.com/2022/02/putin-space-centre.jpg'] }),
  mimeType: ImageMimeType,
  width: Nullable(Type.Integer({ minimum: 1, maximum: 100000, description: 'Pixels' })),
  height: Nullable(Type.Integer({ minimum: 1, maximum: 100000, description: 'Pixels' })),
  bytes: Nullable(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1, description: 'File size' })),
  altText: Paragraphs(1000, { description: 'Describes the image for screen readers; empty only for decorative images' }),
  caption: Nullable(Paragraphs(2000, { description: 'What the picture shows, as printed under it' })),
  credit: Nullable(Line(700, { description: 'The credit line as printed; composed from photographer, agency and distributor when omitted' })),
  photographer: Nullable(Line(200)),
  agency: Nullable(Line(200)),
  distributor: Nullable(Line(200)),
  copyright: Nullable(Paragraphs(1000, { description: 'Copyright or licence note' }))
}

// What a client sends: the stored image minus what the server sets.
const { id: _id, createdAt: _createdAt, updatedAt: _updatedAt, ...example } = imageExample

export const ImageSchema = Type.Object({
  id: Uuid,
  ...editableFields,
  credit: Nullable(Line(700)),
  createdAt: Timestamp,
  updatedAt: Timestamp
}, { $id: 'Image', title: 'Image', description: 'A photo or graphic with its caption and credit', examples: [imageExample] })
export type Image = Static<typeof ImageSchema>
export const ImageRef = Type.Unsafe<Image>({ $ref: 'Image#' })

export const ImageCreate = Type.Object({
  url: editableFields.url,
  mimeType: editableFields.mimeType,
  altText: editableFields.altText,
  width: Type.Optional(editableFields.width),
  height: Type.Optional(editableFields.height),
  bytes: Type.Optional(editableFields.bytes),
  caption: Type.Optional(editableFields.caption),
  credit: Type.Optional(editableFields.credit),
  photographer: Type.Optional(editableFields.photographer),
  agency: Type.Optional(editableFields.agency),
  distributor: Type.Optional(editableFields.distributor),
  copyright: Type.Optional(editableFields.copyright)
}, { additionalProperties: false, title: 'ImageCreate', examples: [example] })
export type ImageCreate = Static<typeof ImageCreate>

export const ImagePatch = Type.Partial(ImageCreate, { additionalProperties: false, title: 'ImagePatch', minProperties: 1, examples: [{ caption: 'Putin at the space centre site, February 27, 2022.' }] })
export type ImagePatch = Static<typeof ImagePatch>

export const ImageListQuery = Type.Object({ ...PageQuery }, { additionalProperties: false })
