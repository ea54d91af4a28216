// The serializers of public documents, built from the same schemas and the same way as Fastify's
// response serializers, so stored bytes are the bytes the live path sends (test/read-model.test.ts).
import fastJson from 'fast-json-stringify'
import { ArticleSchema, ArticleSummarySchema, CorrectionSchema } from '../articles/schemas.ts'
import { AuthorPageSchema, AuthorSchema, AuthorSummarySchema } from '../authors/schemas.ts'
import { ImageSchema } from '../images/schemas.ts'
import { SectionSchema, TagSchema } from '../taxonomy/schemas.ts'
import { BodyBlock } from '../articles/body.ts'
import { MastheadRoleSchema, MastheadSchema } from '../masthead/schemas.ts'

/** Content schemas, by $id: what the serializers resolve references against. */
const contentSchemas = [SectionSchema, TagSchema, ImageSchema, AuthorSummarySchema, AuthorSchema, BodyBlock, ArticleSummarySchema, CorrectionSchema, ArticleSchema, AuthorPageSchema, MastheadRoleSchema]
const byId = Object.fromEntries(contentSchemas.map((schema) => [(schema as { $id?: string }).$id, schema]))

export const serializeArticle = fastJson({ $ref: 'Article#' }, { schema: byId })
export const serializeSummary = fastJson({ $ref: 'ArticleSummary#' }, { schema: byId })
export const serializeAuthorPage = fastJson({ $ref: 'AuthorPage#' }, { schema: byId })
export const serializeMasthead = fastJson(MastheadSchema, { schema: byId })
export const serializeSection = fastJson({ $ref: 'Section#' }, { schema: byId })
export const serializeTag = fastJson({ $ref: 'Tag#' }, { schema: byId })
