import { Type, type Static } from 'typebox'
import { HttpUrl, Line, Nullable, PageQuery, Paragraphs, Slug, StringEnum, Timestamp, Title, Uuid } from '../common-schemas.ts'
import { ImageRef } from '../images/schemas.ts'
import { articleSummaryExample, authorExample, authorSummaryExample } from '../examples.ts'

export const AuthorLink = Type.Object({
  label: Line(60, { minLength: 1, examples: ['Website', 'Bluesky', 'X'] }),
  url: HttpUrl({ examples: ['https://bsky.app/profile/jmarshall.example'] })
}, { additionalProperties: false, title: 'AuthorLink' })

const writableFields = {
  slug: Slug,
  name: Title(200, ['Josh Marshall']),
  jobTitle: Nullable(Line(200, { examples: ['Founder & Editor-in-Chief'] })),
  bio: Nullable(Paragraphs(5000)),
  email: Nullable(Type.String({ format: 'email', maxLength: 320, description: 'Private: stored for the newsroom, never returned by the API' })),
  avatarImageId: Nullable(Uuid),
  links: Type.Array(AuthorLink, { maxItems: 20 })
}

export const AuthorCreate = Type.Object({
  name: writableFields.name,
  slug: Type.Optional(writableFields.slug),
  jobTitle: Type.Optional(writableFields.jobTitle),
  bio: Type.Optional(writableFields.bio),
  email: Type.Optional(writableFields.email),
  avatarImageId: Type.Optional(writableFields.avatarImageId),
  links: Type.Optional(writableFields.links)
}, {
  additionalProperties: false,
  title: 'AuthorCreate',
  description: 'A new author. The slug is made from the name when omitted.',
  examples: [{ name: 'Josh Kovensky', jobTitle: 'Investigative Reporter', bio: 'Josh covers Russia and Ukraine.', email: 'josh@example.com', links: [{ label: 'Website', url: 'https://example.com/josh' }] }]
})
export type AuthorCreate = Static<typeof AuthorCreate>

export const AuthorPatch = Type.Partial(AuthorCreate, {
  additionalProperties: false,
  minProperties: 1,
  title: 'AuthorPatch',
  examples: [{ jobTitle: 'Senior Investigative Reporter' }]
})
export type AuthorPatch = Static<typeof AuthorPatch>

export const AuthorSummarySchema = Type.Object({
  id: Uuid,
  slug: Slug,
  name: Type.String(),
  jobTitle: Nullable(Type.String()),
  avatarImage: Nullable(ImageRef)
}, { $id: 'AuthorSummary', title: 'AuthorSummary', description: 'An author as bylines and the masthead show them', examples: [authorSummaryExample] })
export type AuthorSummary = Static<typeof AuthorSummarySchema>
export const AuthorSummaryRef = Type.Unsafe<AuthorSummary>({ $ref: 'AuthorSummary#' })

const authorFields = {
  id: Uuid,
  slug: Slug,
  name: Type.String(),
  jobTitle: Nullable(Type.String()),
  bio: Nullable(Type.String()),
  avatarImage: Nullable(ImageRef),
  links: Type.Array(AuthorLink),
  createdAt: Timestamp,
  updatedAt: Timestamp
}
export const AuthorSchema = Type.Object(authorFields, { $id: 'Author', title: 'Author', description: 'An author, without private fields', examples: [authorExample] })
export type Author = Static<typeof AuthorSchema>
export const AuthorRef = Type.Unsafe<Author>({ $ref: 'Author#' })

export const AuthorPageSchema = Type.Object({
  ...authorFields,
  latestArticles: Type.Array(Type.Unsafe({ $ref: 'ArticleSummary#' }), { description: 'Up to 10 of the author\'s published articles, newest first' })
}, { $id: 'AuthorPage', title: 'AuthorPage', description: 'An author with their latest published articles: everything an author page renders', examples: [{ ...authorExample, latestArticles: [articleSummaryExample] }] })

export const AuthorListQuery = Type.Object({
  ...PageQuery,
  sort: Type.Optional(StringEnum(['name', '-name', '-createdAt', 'createdAt'], { default: 'name', description: 'name sorts by letters and digits only, ignoring case and accents, the same on every database' }))
}, { additionalProperties: false })
export type AuthorListQuery = Static<typeof AuthorListQuery>
