import { Type, type Static } from 'typebox'
import { HttpUrl, Line, Nullable, PageQuery, Paragraphs, StringEnum, Timestamp, Uuid } from '../common-schemas.ts'
import { imageExample } from '../examples.ts'

export const ImageMimeType = StringEnum(['image/jpeg', 'image/png', 'image/webp', 'image/avif', 'image/gif'], { description: 'The file format' })

const altTextDescription = 'Describes the image for screen readers. May be empty only for an image marked decorative: preflight reports an empty alt text on any other'
const decorativeDescription = 'True when the image is decoration that adds nothing to the story (a texture, an ornament): screen readers are told to skip it (alt="" in bodyHtml, whatever altText says) and preflight does not ask for its alt text. False (the default) for every image that carries information, which then needs altText'
const editableFields = {
  url: HttpUrl({ description: 'Where the file is served from', examples: ['https://cdn.example.com/2022/02/putin-space-centre.jpg'] }),
  mimeType: ImageMimeType,
  width: Nullable(Type.Integer({ minimum: 1, maximum: 100000, description: 'Pixels' })),
  height: Nullable(Type.Integer({ minimum: 1, maximum: 100000, description: 'Pixels' })),
  bytes: Nullable(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1, description: 'File size' })),
  altText: Paragraphs(1000, { description: altTextDescription }),
  decorative: Type.Boolean({ description: decorativeDescription, examples: [false, true] }),
  caption: Nullable(Paragraphs(2000, { description: 'What the picture shows, as printed under it' })),
  credit: Nullable(Line(700, { description: 'The credit line as printed; composed from photographer, agency and distributor when omitted' })),
  photographer: Nullable(Line(200)),
  agency: Nullable(Line(200)),
  distributor: Nullable(Line(200)),
  copyright: Nullable(Paragraphs(1000, { description: 'Copyright or licence note' })),
  source: Nullable(Line(200, { description: 'Where the picture came from: agency feed, handout, reader submission…' })),
  focalPoint: Nullable(Type.Object({
    x: Type.Number({ minimum: 0, maximum: 1, description: 'From the left edge (0) to the right (1)' }),
    y: Type.Number({ minimum: 0, maximum: 1, description: 'From the top (0) to the bottom (1)' })
  }, { additionalProperties: false, description: 'The point crops keep in view', examples: [{ x: 0.42, y: 0.3 }] }))
}

// What a client sends: the stored image minus what the server sets.
const { id: _id, createdAt: _createdAt, updatedAt: _updatedAt, contentHash: _hash, placeholder: _placeholder, ...example } = imageExample

export const ImageSchema = Type.Object({
  id: Uuid,
  ...editableFields,
  url: Type.String({ description: 'Where to fetch the file: the address it was registered with, or for an upload this server\'s /images/{id}/file (add w, format and ar for renditions)' }),
  credit: Nullable(Line(700)),
  contentHash: Nullable(Type.String({ description: 'SHA-256 of the uploaded bytes (uploads only)' })),
  placeholder: Nullable(Type.Object({
    color: Type.String({ description: 'The dominant colour, #rrggbb', examples: ['#6b7b8c'] }),
    dataUri: Type.String({ description: 'A 16-pixel blurred WebP to stretch while the real image loads' })
  }, { description: 'For progressive loading (uploads only)' })),
  createdAt: Timestamp,
  updatedAt: Timestamp
}, { $id: 'Image', title: 'Image', description: 'A photo or graphic with its caption and credit', examples: [imageExample] })
export type Image = Static<typeof ImageSchema>
export const ImageRef = Type.Unsafe<Image>({ $ref: 'Image#' })

export const ImageCreate = Type.Object({
  url: editableFields.url,
  mimeType: editableFields.mimeType,
  altText: editableFields.altText,
  decorative: Type.Optional(Type.Boolean({ description: `${decorativeDescription}. Left out: false when creating or replacing (PUT), unchanged by PATCH`, examples: [false, true] })),
  width: Type.Optional(editableFields.width),
  height: Type.Optional(editableFields.height),
  bytes: Type.Optional(editableFields.bytes),
  caption: Type.Optional(editableFields.caption),
  credit: Type.Optional(editableFields.credit),
  photographer: Type.Optional(editableFields.photographer),
  agency: Type.Optional(editableFields.agency),
  distributor: Type.Optional(editableFields.distributor),
  copyright: Type.Optional(editableFields.copyright),
  source: Type.Optional(editableFields.source),
  focalPoint: Type.Optional(editableFields.focalPoint)
}, { additionalProperties: false, title: 'ImageCreate', examples: [example] })
export type ImageCreate = Static<typeof ImageCreate>

export const ImagePatch = Type.Partial(ImageCreate, { additionalProperties: false, title: 'ImagePatch', minProperties: 1, examples: [{ caption: 'Putin at the space centre site, February 27, 2022.' }, { decorative: true }] })
export type ImagePatch = Static<typeof ImagePatch>

export const ImageListQuery = Type.Object({ ...PageQuery }, { additionalProperties: false })

const FOCAL_POINT_TEXT = '^(0(\\.\\d{1,6})?|1(\\.0{1,6})?),(0(\\.\\d{1,6})?|1(\\.0{1,6})?)$'

/** The text that travels with an upload: form fields, or query parameters for a raw upload. */
export const ImageUploadFields = Type.Object({
  altText: editableFields.altText,
  decorative: Type.Optional(StringEnum(['true', 'false'], { description: `"true" or "false", as text (form fields and query parameters are text). ${decorativeDescription}`, examples: ['false'] })),
  caption: Type.Optional(Paragraphs(2000)),
  credit: Type.Optional(Line(700)),
  photographer: Type.Optional(Line(200)),
  agency: Type.Optional(Line(200)),
  distributor: Type.Optional(Line(200)),
  copyright: Type.Optional(Paragraphs(1000)),
  source: Type.Optional(Line(200)),
  focalPoint: Type.Optional(Type.String({ pattern: FOCAL_POINT_TEXT, description: '"x,y", each from 0 to 1, e.g. "0.42,0.3"' }))
}, { additionalProperties: false, title: 'ImageUploadFields', examples: [{ altText: 'Vladimir Putin in a hard hat at a construction site', caption: 'Putin visits the National Space Centre construction site.', photographer: 'Sergei Guneyev', agency: 'Sputnik / AFP', distributor: 'Getty Images', focalPoint: '0.42,0.3' }] })
export type ImageUploadFields = Static<typeof ImageUploadFields>
export const ImageUploadQuery = Type.Partial(Type.Object({
  ...ImageUploadFields.properties,
  // The one field a raw upload cannot do without: the example makes the raw example work as it is.
  altText: Paragraphs(1000, { description: altTextDescription, examples: ['A single grey pixel, for trying uploads out'] })
}), { additionalProperties: false })

export const RenditionQuery = Type.Object({
  w: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000, description: 'Width in pixels, rounded up to the next configured width (IMAGE_WIDTHS) and never beyond the original' })),
  format: Type.Optional(StringEnum(['auto', 'jpeg', 'png', 'webp', 'avif', 'gif'], { default: 'auto', description: '"auto" picks AVIF or WebP when the Accept header allows, else the original format' })),
  ar: Type.Optional(StringEnum(['1:1', '4:3', '3:2', '16:9', '4:5', '2:3', '9:16'], { description: 'Crop to this aspect ratio around the focal point' })),
  v: Type.Optional(Type.String({ pattern: '^[0-9a-f]{16}$', description: 'The content version from the image\'s url; with it the response is cacheable for a year' }))
}, { additionalProperties: false })
export type RenditionQuery = Static<typeof RenditionQuery>
